"""``ikm-sync audit log`` and ``audit trace``: the auditor's reading of the trail.

``audit log`` selects events by period, actor, subject (exact, or a prefix ending
in ``*``), account and kind (an action or its kind: ``stock`` or
``stock.moved``), oldest first; ``--json`` writes JSON Lines (one event per line)
and ``--csv`` a CSV with a header, both streamed, so an export of millions of
events takes constant memory. ``audit trace SKU`` shows the SKU's figure and every
movement from zero that made it, with its cause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from core.audit.query import PREFIX_MARK, EventFilter, parse_instant, stored_subject
from core.services.audit_read import (
    EVENT_COLUMNS,
    UNSEALED,
    audit_log,
    event_record,
    event_row,
)
from core.services.trace import (
    StockTrace,
    trace_findings,
    trace_record,
    trace_stock,
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

EVENT_HEADINGS = (
    *("seq", "at (UTC)", "actor", "action", "subject", "account", "run"),
    *("reason", "before", "after"),
)
TRACE_HEADINGS = (
    *("#", "when (UTC)", "on hand", "reserved", "available", "cause"),
    *("run", "actor", "event"),
)
#: Events the table shows when no ``--limit`` is given (exports hold all).
TABLE_LIMIT = 100


def register(group: typer.Typer) -> None:
    """Add ``log`` and ``trace`` to the ``audit`` group."""
    group.command("log")(log_command)
    group.command("trace")(trace_command)


def _selection(**given: Any) -> EventFilter:
    try:
        return EventFilter(**given)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def log_command(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help=time_help("From this time on (inclusive)"))
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help=time_help("Before this time (a date: to its end)")),
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Only this actor, e.g. officer:ani.")
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            help=f"Only this subject (sku:KOPI-FLR-001), or a prefix ending in "
            f"{PREFIX_MARK} (sku:KOPI{PREFIX_MARK})."
        ),
    ] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="Only this action (stock.moved) or kind (stock)."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help=f"At most this many events (table: {TABLE_LIMIT})."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Write JSON Lines: one event per line.")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Write CSV.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the export to this file.", dir_okay=False),
    ] = None,
) -> None:
    """The audit events of a period, oldest first, filtered; export as JSON Lines
    or CSV."""
    app_state = state(ctx)
    fmt = export_format(as_json, as_csv)
    if out is not None and fmt is None:
        raise typer.BadParameter("--out writes an export: add --json or --csv")
    selection = _selection(
        period=period_option(since, until),
        actor=actor,
        subject=None if subject is None else stored_subject(subject),
        account=account,
        kind=kind,
        limit=limit if limit is not None or fmt is not None else TABLE_LIMIT + 1,
    )
    reader = app_state.runtime().audit_reader()
    events = audit_log(reader, selection)
    match fmt:
        case ExportFormat.JSON:
            write_json_lines((event_record(e) for e in events), out)
        case ExportFormat.CSV:
            write_csv_rows(EVENT_COLUMNS, (event_row(e) for e in events), out)
        case None:
            shown = list(events)  # at most one more than the table shows
            more = limit is None and len(shown) > TABLE_LIMIT
            _print_events(shown[:TABLE_LIMIT] if more else shown, more)


def _print_events(events: list[Any], more: bool) -> None:
    out = console()
    if not events:
        out.print("no audit event matches")
        return
    out.print(
        table(
            f"Audit events ({len(events)}{', more follow' if more else ''})",
            EVENT_HEADINGS,
            [
                (
                    UNSEALED if e.seq is None else e.seq,
                    e.at.isoformat(timespec="seconds"),
                    e.actor,
                    e.action,
                    e.subject,
                    e.account,
                    e.run_id,
                    e.reason,
                    e.before,
                    e.after,
                )
                for e in events
            ],
        )
    )
    if more:
        out.print(
            f"showing the first {TABLE_LIMIT}: narrow with --since/--until or "
            "filters, raise --limit, or export with --json/--csv"
        )


def trace_command(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The product's SKU.")],
    at: Annotated[
        str | None,
        typer.Option(help=time_help("The figure at this time (default: now)")),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why a SKU's stock is what it is: the figure (on hand, reserved, available)
    and every movement from zero that made it, each with its cause."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    when = None
    if at is not None:
        try:
            when = parse_instant(at)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--at'") from None
    trace = trace_stock(app_state.runtime().audit_reader(), sku, when)
    if as_json:
        emit_json(trace_record(trace))
        return
    _print_trace(trace)


def _print_trace(trace: StockTrace) -> None:
    out = console()
    when = "now" if trace.at is None else f"at {trace.at.isoformat()}"
    level = trace.level
    out.print(f"{trace.sku} {trace.name}", markup=False, highlight=False)
    out.print(
        f"{when}: on hand {level.on_hand}   reserved {level.reserved}   "
        f"available {level.available}   ({len(trace.steps)} movement(s) from zero)"
    )
    out.print(
        table(
            None,
            TRACE_HEADINGS,
            [
                (
                    step.movement.id,
                    step.movement.at.isoformat(timespec="seconds"),
                    f"{step.movement.on_hand_delta:+d} → {step.level.on_hand}",
                    f"{step.movement.reserved_delta:+d} → {step.level.reserved}",
                    step.level.available,
                    step.cause,
                    step.run_id,
                    step.movement.actor,
                    "MISSING"
                    if step.event is None
                    else (UNSEALED if step.event.seq is None else step.event.seq),
                )
                for step in trace.steps
            ],
        )
    )
    findings = trace_findings(trace)
    if findings:
        out.print(f"[bold red]{len(findings)} finding(s):[/bold red]")
        for line in findings:
            out.print(f"  {line}", markup=False)
    else:
        out.print("every movement is recorded by an audit event")
