"""``ikm-sync runs``: what was synced when, by whom, with which result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from core.domain.ids import AccountId
from core.domain.runs import SyncRun
from core.domain.sync import SyncKind
from core.errors import DomainError
from core.services.audit_read import (
    RUN_ITEM_COLUMNS,
    export_runs,
    run_item_rows,
    run_record,
)
from ikm_sync._context import state
from ikm_sync._export import (
    ExportFormat,
    export_format,
    period_option,
    time_help,
    write_csv_rows,
    write_json_lines,
)
from ikm_sync._output import console, emit_json, table

#: The options ``runs list`` and ``runs export`` share.
Since = Annotated[str | None, typer.Option(help=time_help("Started from this time on"))]
Until = Annotated[
    str | None,
    typer.Option(help=time_help("Started before this time (a date: to its end)")),
]
Account = Annotated[str | None, typer.Option("--account", help="Only this account.")]
Kind = Annotated[
    SyncKind | None, typer.Option("--kind", help="Only runs of this kind.")
]

app = typer.Typer(
    help="Recorded sync runs and their item results.", no_args_is_help=True
)


def run_payload(run: SyncRun) -> dict[str, Any]:
    """A run as plain data (items included when loaded)."""

    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": run.id,
        "kind": run.kind.value,
        "account": run.account,
        "trigger": run.trigger,
        "outcome": run.outcome.value,
        "window_start": iso(run.window_start),
        "window_end": iso(run.window_end),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "counts": run.counts,
        "error": run.error or None,
        "items": [
            {
                "subject": item.subject,
                "operation": item.operation,
                "ok": item.ok,
                "error_code": item.error_code,
                "error_message": item.error_message,
                "at": item.at.isoformat(),
                "sent": None if item.sent is None else dict(item.sent),
            }
            for item in run.items
        ],
    }


@app.command("list")
def list_command(
    ctx: typer.Context,
    account: Account = None,
    kind: Kind = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The latest runs, newest first."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    period = period_option(since, until)
    with app_state.runtime().uow() as uow:
        runs = uow.runs.recent(
            limit,
            account=None if account is None else AccountId(account),
            kind=kind,
            period=period,
        )
    if as_json:
        emit_json({"runs": [run_payload(r) for r in runs]})
        return
    console().print(
        table(
            "Runs",
            (
                "run",
                "kind",
                "account",
                "trigger",
                "started",
                "outcome",
                "counts",
                "error",
            ),
            [
                (
                    r.id,
                    r.kind.value,
                    r.account or "",
                    r.trigger,
                    r.started_at.isoformat(timespec="seconds"),
                    r.outcome.value,
                    ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())),
                    r.error,
                )
                for r in runs
            ],
        )
    )


@app.command("show")
def show_command(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="The run's id.", min=1)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One run with every item result and the marketplace's errors."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    with app_state.runtime().uow() as uow:
        run = uow.runs.get(run_id)
    if run is None:
        raise DomainError(f"run {run_id}: no such run")
    if as_json:
        emit_json(run_payload(run))
        return
    payload = run_payload(run)
    console().print(
        table(
            f"Run {run.id}",
            ("field", "value"),
            [
                (name, value)
                for name, value in payload.items()
                if name not in {"items", "counts"} and value is not None
            ]
            + [
                ("counts", ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())))
            ],
        )
    )
    console().print(
        table(
            f"Items ({len(run.items)})",
            ("subject", "operation", "ok", "error"),
            [
                (
                    i.subject,
                    i.operation,
                    "yes" if i.ok else "no",
                    i.error_message or "",
                )
                for i in run.items
            ],
        )
    )


@app.command("export")
def export_command(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    account: Account = None,
    kind: Kind = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Write JSON Lines: one run per line.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Write CSV: one row per item.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write to this file (default: standard output).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Every run of a period with every item and the values sent, oldest first,
    streamed: JSON Lines (one run per line, its items inside) or CSV (one row per
    item, the run's fields repeated)."""
    app_state = state(ctx)
    fmt = export_format(as_json, as_csv)
    if fmt is None:
        raise typer.BadParameter("choose the export's format: --json or --csv")
    period = period_option(since, until)
    runs = export_runs(
        app_state.runtime().run_archive(),
        period,
        account=None if account is None else AccountId(account),
        kind=kind,
    )
    match fmt:
        case ExportFormat.JSON:
            write_json_lines((run_record(r) for r in runs), out)
        case ExportFormat.CSV:
            write_csv_rows(
                RUN_ITEM_COLUMNS, (row for r in runs for row in run_item_rows(r)), out
            )
