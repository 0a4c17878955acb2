"""``ikm-sync status``: the catalogue at a glance, and each account's latest run,
when a cycle last found it in step, its lease, authorisation and (once a daemon
schedules it) next due time and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from core.domain.authorisation import AuthorisationState, authorisation_status
from core.domain.runs import SyncRun
from core.ports import AccountSchedule, AuthorisationView, LeaseView
from core.services.authorisation import DEFAULT_WARNING
from core.services.status import CatalogueStatus, catalogue_status
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table


def _when(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def run_payload(run: SyncRun | None) -> dict[str, Any] | None:
    """An account's latest run as plain data."""
    if run is None:
        return None
    return {
        "id": run.id,
        "kind": run.kind.value,
        "outcome": run.outcome.value,
        "trigger": run.trigger,
        "started_at": _when(run.started_at),
        "finished_at": _when(run.finished_at),
    }


def lease_payload(lease: LeaseView | None) -> dict[str, Any] | None:
    """An account's lease as plain data (``live`` false once it has expired)."""
    if lease is None:
        return None
    return {
        "holder": lease.holder,
        "expires_at": _when(lease.expires_at),
        "live": lease.live,
    }


def schedule_payload(schedule: AccountSchedule | None) -> dict[str, Any]:
    """An account's next due time and backoff (``None`` when not known)."""
    if schedule is None:
        return {"next_due": None, "backoff": None}
    backoff = (
        None
        if schedule.backoff_until is None
        else {
            "until": _when(schedule.backoff_until),
            "failures": schedule.failures,
            "reason": schedule.reason,
        }
    )
    return {"next_due": _when(schedule.next_due), "backoff": backoff}


def authorisation_payload(
    view: AuthorisationView | None, now: datetime, warning: timedelta
) -> dict[str, Any]:
    """An account's authorisation as plain data: its end, its state at ``now``
    (``valid``, ``expires_soon`` within ``warning``, ``expired``, or ``unknown``),
    the whole days left, and the re-authorisation mark."""
    view = view or AuthorisationView(None)
    judged = authorisation_status(view.expires_at, now, warning)
    return {
        "expires_at": _when(view.expires_at),
        "state": judged.state.value,
        "days_left": judged.days_left,
        "needs_reauthorisation": view.needs_reauthorisation,
        "reason": view.reason,
    }


def _days(days: int) -> str:
    return "less than a day" if days < 1 else f"{days} day{'s' * (days != 1)}"


def authorisation_text(payload: dict[str, Any]) -> str:
    """The cell officers read: "expires in N days"; inside the warning window
    "expires on <date> (in N days): renew soon" (the UTC date); "expired …"; and
    any re-authorisation mark."""
    match payload["state"]:
        case AuthorisationState.VALID:
            text = f"expires in {_days(payload['days_left'])}"
        case AuthorisationState.EXPIRES_SOON:
            ends = datetime.fromisoformat(payload["expires_at"]).astimezone(UTC)
            text = (
                f"expires on {ends.date().isoformat()} "
                f"(in {_days(payload['days_left'])}): renew soon"
            )
        case AuthorisationState.EXPIRED:
            text = f"expired {payload['expires_at']}"
        case _:
            text = "end not known"
    if payload["needs_reauthorisation"]:
        text += f"; needs re-authorisation ({payload['reason'] or 'refused'})"
    return text


def status_payload(
    report: CatalogueStatus,
    now: datetime | None = None,
    warning: timedelta = DEFAULT_WARNING,
) -> dict[str, Any]:
    """The status as plain data (the ``--json`` shape); authorisations are judged
    at ``now`` (default: the current time)."""
    now = now or datetime.now(UTC)
    stock = report.stock
    return {
        "producers": {k.value: v for k, v in report.producers.items()},
        "products": {k.value: v for k, v in report.products.items()},
        "stock": {
            "skus_with_stock": stock.skus_with_stock,
            "skus_out_of_stock": stock.skus_out_of_stock,
            "skus_oversold": stock.skus_oversold,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "available": stock.available,
        },
        "accounts": [
            {
                "id": item.account.id,
                "marketplace": item.account.marketplace.value,
                "shop_id": item.account.shop_id,
                "producers": list(item.account.producer_codes),
                "enabled": item.account.enabled,
                "listings": {k.value: v for k, v in item.listings.items()},
                "last_run": run_payload(item.last_run),
                "in_step_at": _when(item.in_step_at),
                "lease": lease_payload(item.lease),
                **schedule_payload(item.schedule),
                "authorisation": authorisation_payload(
                    item.authorisation, now, warning
                ),
            }
            for item in report.accounts
        ],
        "scheduled": report.scheduled,
    }


def _run_cell(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never"
    return f"{run['kind']} {run['outcome']} {run['started_at']} ({run['trigger']})"


def _lease_cell(lease: dict[str, Any] | None) -> str:
    if lease is None:
        return "free"
    state = "until" if lease["live"] else "expired"
    return f"{lease['holder']} {state} {lease['expires_at']}"


def _backoff_cell(backoff: dict[str, Any] | None) -> str:
    if backoff is None:
        return "no"
    failures = f"{backoff['failures']} failures: {backoff['reason']}"
    return f"until {backoff['until']} ({failures})"


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show producers, products, stock totals and channel accounts: each account's
    latest run, when a cycle last found it in step (a cycle with nothing to do
    records no run), lease holder and expiry, and next due time and backoff once a
    daemon schedules it."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    runtime = app_state.runtime()
    days = app_state.settings().settings.scheduler.authorisation_warning_days
    payload = status_payload(
        catalogue_status(runtime.uow(), runtime.account_watch()),
        runtime.clock.now(),
        timedelta(days=days),
    )
    if as_json:
        emit_json(payload)
        return
    out = console()
    producers, products, stock = (
        payload["producers"],
        payload["products"],
        payload["stock"],
    )
    out.print(
        table(
            "Catalogue",
            ("", "count"),
            [
                ("producers: IKM units", producers["ikm"]),
                ("producers: WBP workshops", producers["wbp"]),
                ("products: active", products["active"]),
                ("products: draft", products["draft"]),
                ("products: archived", products["archived"]),
            ],
        )
    )
    out.print(
        table(
            "Stock",
            ("", "units"),
            [
                ("on hand", stock["on_hand"]),
                ("reserved by orders", stock["reserved"]),
                ("available", stock["available"]),
                ("SKUs with stock", stock["skus_with_stock"]),
                ("SKUs out of stock", stock["skus_out_of_stock"]),
                ("SKUs oversold", stock["skus_oversold"]),
            ],
        )
    )
    out.print(
        table(
            "Channel accounts",
            ("account", "marketplace", "shop", "producers", "enabled", "listings"),
            [
                (
                    a["id"],
                    a["marketplace"],
                    a["shop_id"],
                    ", ".join(a["producers"]),
                    "yes" if a["enabled"] else "no",
                    ", ".join(f"{k} {v}" for k, v in a["listings"].items())
                    or "none yet",
                )
                for a in payload["accounts"]
            ],
        )
    )
    if not payload["accounts"]:
        out.print("no accounts in the store yet: run `ikm-sync accounts apply`")
        return
    scheduled = payload["scheduled"]
    columns = ["account", "last run", "found in step", "lease", "authorisation"]
    if scheduled:
        columns += ["next due", "backoff"]
    rows: list[tuple[str, ...]] = []
    for a in payload["accounts"]:
        row = [
            a["id"],
            _run_cell(a["last_run"]),
            a["in_step_at"] or "never",
            _lease_cell(a["lease"]),
            authorisation_text(a["authorisation"]),
        ]
        if scheduled:
            row += [a["next_due"] or "not scheduled", _backoff_cell(a["backoff"])]
        rows.append(tuple(row))
    out.print(table("Account work", columns, rows))
    if not scheduled:
        out.print("next due times and backoff: none kept yet (no daemon has run)")
