"""``ikm-sync accounts``: channel accounts from the settings into the store."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated, Any

import structlog
import typer

from core.domain.accounts import ChannelAccount
from core.domain.authorisation import AuthorisationState
from core.errors import (
    ConfigError,
)
from core.services.accounts import apply_accounts
from core.services.authorisation import check_account, check_authorisation
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table
from ikm_sync.bootstrap import Connections, accounts_from_settings
from ikm_sync.commands.status import authorisation_text

log = structlog.get_logger(__name__)
app = typer.Typer(
    help="Channel accounts (one shop on one marketplace).", no_args_is_help=True
)


@app.command("apply")
def apply_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    actor: ActorOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create or update the store's accounts from the settings' [[accounts]] entries.

    An allocation policy an officer set in the console is kept until the settings'
    [accounts.allocation] of that account changes; then the settings' wins."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    who_acts(app_state, actor, notice=not dry_run)
    loaded = app_state.settings()
    runtime = app_state.runtime()
    accounts = accounts_from_settings(loaded.settings.accounts)
    report = apply_accounts(
        runtime.uow(),
        accounts,
        clock=runtime.clock,
        source=str(loaded.config_file or "settings"),
        dry_run=dry_run,
    )
    payload = {
        "applied": report.applied,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "only_in_store": report.only_in_store,
        "console_policies": report.console_policies,
    }
    if as_json:
        emit_json(payload)
        return
    rows = [
        (account, action)
        for action, ids in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("only in store", report.only_in_store),
        )
        for account in ids
    ]
    rows += [
        (account, "allocation policy set in the console kept")
        for account in report.console_policies
    ]
    title = "Accounts (dry run, nothing written)" if dry_run else "Accounts"
    console().print(table(title, ("account", "result"), rows))
    if not accounts:
        console().print("no [[accounts]] in the settings")


def _selected(
    settings_accounts: list[ChannelAccount], wanted: str | None
) -> list[ChannelAccount]:
    if wanted is None:
        return settings_accounts
    chosen = [a for a in settings_accounts if a.id == wanted]
    if not chosen:
        known = ", ".join(a.id for a in settings_accounts) or "none"
        raise ConfigError(f"--account {wanted!r}: no such account; configured: {known}")
    return chosen


@app.command("check")
def check_command(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option(help="Check only this account (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    actor: ActorOption = None,
) -> None:
    """Verify each configured account against its marketplace (or simulator).

    Prints ok, needs re-authorisation (the seller must approve again), credentials
    refused (fix the app's credentials in the settings) or unreachable per account,
    and when the seller's authorisation ends where the marketplace has such an end
    (recorded; warned about within `[scheduler] authorisation_warning_days`; an
    ended one needs re-authorisation). Exit code 1 when any account is not ok. One
    account's failure never stops the others. What it records (the authorisation's
    end, refreshed tokens, a re-authorisation mark) is recorded as done by the
    actor.
    """
    app_state = state(ctx)
    app_state.json_errors = as_json
    who_acts(app_state, actor, notice=False)
    loaded = app_state.settings()
    runtime = app_state.runtime()
    accounts = _selected(accounts_from_settings(loaded.settings.accounts), account)
    warning = timedelta(days=loaded.settings.scheduler.authorisation_warning_days)
    tokens = runtime.token_store()
    connections = Connections(loaded, runtime)
    rows: list[dict[str, Any]] = []
    try:
        for item in accounts:
            checked = check_account(
                partial(connections.connector, item),
                tokens,
                item.id,
                clock=runtime.clock,
                warning=warning,
            )
            judged, verdict, reason = (
                checked.authorisation,
                checked.result,
                checked.reason,
            )
            rows.append(
                {
                    "account": item.id,
                    "marketplace": item.marketplace.value,
                    "shop_id": item.shop_id,
                    "result": verdict,
                    "reason": app_state.redactor.redact_text(reason),
                    "authorisation": {
                        "expires_at": (
                            None
                            if judged.expires_at is None
                            else judged.expires_at.isoformat()
                        ),
                        "state": judged.state.value,
                        "days_left": judged.days_left,
                    },
                }
            )
    finally:
        connections.close()
    if as_json:
        emit_json({"accounts": rows})
    else:
        console().print(
            table(
                "Accounts",
                ("account", "marketplace", "shop", "result", "reason", "authorisation"),
                [
                    (
                        r["account"],
                        r["marketplace"],
                        r["shop_id"],
                        r["result"],
                        r["reason"],
                        _authorisation_cell(r["authorisation"]),
                    )
                    for r in rows
                ],
            )
        )
    if any(r["result"] != "ok" for r in rows):
        raise typer.Exit(1)


def _authorisation_cell(judged: dict[str, Any]) -> str:
    if judged["state"] == AuthorisationState.UNKNOWN:
        return ""
    return authorisation_text({**judged, "needs_reauthorisation": False})


@app.command("authorize")
def authorize_command(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The account to authorise.")],
    redirect_uri: Annotated[
        str, typer.Option(help="Where the marketplace sends the seller back.")
    ] = "https://ikm-sync.example/oauth/callback",
    code: Annotated[
        str | None, typer.Option(help="The code from the approval's redirect.")
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Open the approval link and take the code from its redirect "
            "(simulators approve at once; real marketplaces need a browser).",
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Authorise ikm-sync for an account's shop: print the approval link, or exchange
    the code from its redirect for tokens (stored in the database, never printed)."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    loaded = app_state.settings()
    runtime = app_state.runtime()
    (chosen,) = _selected(accounts_from_settings(loaded.settings.accounts), account)
    connections = Connections(loaded, runtime)
    try:
        connector = connections.connector(chosen)
        link = connector.authorization_url(redirect_uri, state=chosen.id)
        if link is None:
            # The marketplace links shops to the app outside the API: once an officer
            # has restored the link, clear any mark and prove the link with a call.
            connector.authorize("", redirect_uri)
            connector.check()
            log.info("account.authorised", account=chosen.id)
            console().print(
                f"{chosen.id}: {chosen.marketplace.value} links shops to the app "
                "outside the API; the link works and any re-authorisation mark is "
                "cleared",
                markup=False,
            )
            return
        if code is None and follow:
            code = _code_from_redirect(link)
        if code is None:
            console().print("Open this link, approve, then run again with --code:")
            console().print(link, markup=False)
            return
        connector.authorize(code, redirect_uri)
        check_authorisation(
            connector,
            runtime.token_store(),
            chosen.id,
            clock=runtime.clock,
            warning=timedelta(
                days=loaded.settings.scheduler.authorisation_warning_days
            ),
        )
    finally:
        connections.close()
    log.info("account.authorised", account=chosen.id)
    console().print(f"{chosen.id}: authorised; tokens stored", markup=False)


def _code_from_redirect(link: str) -> str:
    import httpx

    with httpx.Client(follow_redirects=False, timeout=30) as http:
        answer = http.get(link)
    location = answer.headers.get("location", "")
    code = httpx.URL(location).params.get("code") if location else None
    if not code:
        raise ConfigError(
            "the approval link did not redirect with a code; open it in a browser "
            "and pass the code with --code"
        )
    return str(code)
