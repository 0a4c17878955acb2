"""``ikm-sync accounts``: channel accounts from the settings into the store."""

from __future__ import annotations

from typing import Annotated

import typer

from core.services.accounts import apply_accounts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table
from ikm_sync.bootstrap import account_from_settings

app = typer.Typer(
    help="Channel accounts (one shop on one marketplace).", no_args_is_help=True
)


@app.command("apply")
def apply_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create or update the store's accounts from the settings' [[accounts]] entries."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    loaded = app_state.settings()
    runtime = app_state.runtime()
    accounts = [account_from_settings(a) for a in loaded.settings.accounts]
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
    title = "Accounts (dry run, nothing written)" if dry_run else "Accounts"
    console().print(table(title, ("account", "result"), rows))
    if not accounts:
        console().print("no [[accounts]] in the settings")
