"""Reading the audit trail: ``audit log`` and the runs export, and the shape of
their exports.

Exports are streams (JSON Lines, one object per line; CSV, one row per event or
per run item), built row by row from the store's stream, so their memory does not
grow with the number of rows. ``seq`` is the event's place in the chain, or
``"unsealed"`` until the sealer has given it one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from core.audit import actions
from core.audit.events import AuditEvent
from core.audit.query import EventFilter, Period, StoredEvent
from core.domain.ids import AccountId
from core.domain.runs import RunItem, SyncRun
from core.domain.sync import SyncKind
from core.ports import AuditReader, RunArchive, UnitOfWork

UNSEALED = "unsealed"

#: The columns of an event in ``audit log``'s CSV, in order.
EVENT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "subject",
    "account",
    "run",
    "reason",
    "before",
    "after",
)


def audit_log(reader: AuditReader, selection: EventFilter) -> Iterator[StoredEvent]:
    """The events ``selection`` selects, oldest first, streamed."""
    return reader.events(selection)


def event_row(event: StoredEvent) -> list[object]:
    """An event as a CSV row of :data:`EVENT_COLUMNS` (``before``/``after`` as
    the canonical JSON text the chain covers)."""
    return [
        UNSEALED if event.seq is None else event.seq,
        event.at.isoformat(),
        event.actor,
        event.action,
        event.subject,
        event.account or "",
        "" if event.run_id is None else event.run_id,
        event.reason,
        event.before or "",
        event.after or "",
    ]


def event_record(event: StoredEvent) -> dict[str, Any]:
    """An event as a JSON object (``before``/``after`` as JSON values)."""
    return {
        "seq": UNSEALED if event.seq is None else event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "account": event.account,
        "run": event.run_id,
        "reason": event.reason,
        "before": None if event.before is None else json.loads(event.before),
        "after": None if event.after is None else json.loads(event.after),
    }


def export_runs(
    archive: RunArchive,
    period: Period,
    account: AccountId | None = None,
    kind: SyncKind | None = None,
) -> Iterator[SyncRun]:
    """Every run started in ``period`` with every item and the values sent,
    oldest first, streamed.

    Raises:
        StoreError: ``account`` is not in the store (before anything is read).
    """
    return archive.runs(period, account=account, kind=kind)


#: The columns of the runs export's CSV: the run's, then its item's.
RUN_ITEM_COLUMNS = (
    "run",
    "kind",
    "account",
    "trigger",
    "outcome",
    "started_at",
    "finished_at",
    "window_start",
    "window_end",
    "counts",
    "error",
    "item_subject",
    "item_operation",
    "item_ok",
    "item_at",
    "item_error_code",
    "item_error_message",
    "item_sent",
)


def _iso(value: Any) -> str:
    return "" if value is None else str(value.isoformat())


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def run_item_rows(run: SyncRun) -> Iterator[list[object]]:
    """One CSV row of :data:`RUN_ITEM_COLUMNS` per item (the run's fields
    repeated); one row with empty item fields for a run without items."""
    head: list[object] = [
        run.id,
        run.kind.value,
        run.account or "",
        run.trigger,
        run.outcome.value,
        _iso(run.started_at),
        _iso(run.finished_at),
        _iso(run.window_start),
        _iso(run.window_end),
        _canonical(run.counts),
        run.error,
    ]
    if not run.items:
        yield [*head, *[""] * 7]
        return
    for item in run.items:
        yield [
            *head,
            item.subject,
            item.operation,
            "yes" if item.ok else "no",
            _iso(item.at),
            item.error_code or "",
            item.error_message or "",
            "" if item.sent is None else _canonical(item.sent),
        ]


def _item_record(item: RunItem) -> dict[str, Any]:
    return {
        "subject": item.subject,
        "operation": item.operation,
        "ok": item.ok,
        "at": _iso(item.at),
        "error_code": item.error_code,
        "error_message": item.error_message,
        "sent": None if item.sent is None else dict(item.sent),
    }


def run_record(run: SyncRun) -> dict[str, Any]:
    """A run with every item and the values sent, as a JSON object."""
    return {
        "id": run.id,
        "kind": run.kind.value,
        "account": run.account,
        "trigger": run.trigger,
        "outcome": run.outcome.value,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at) or None,
        "window_start": _iso(run.window_start) or None,
        "window_end": _iso(run.window_end) or None,
        "counts": run.counts,
        "error": run.error or None,
        "items": [_item_record(item) for item in run.items],
    }


def record_export(
    units: Callable[[], UnitOfWork],
    *,
    actor: str,
    what: str,
    fmt: str,
    filters: Mapping[str, str],
    rows: int,
    complete: bool,
) -> None:
    """Record that ``actor`` took an export of ``what`` (``events`` or ``runs``)
    with ``filters``: ``rows`` written, ``complete`` unless it stopped part way."""
    with units() as uow:
        uow.audit.record(
            AuditEvent(
                actions.AUDIT_EXPORTED,
                actions.export(what),
                after={
                    "format": fmt,
                    "filters": dict(filters),
                    "rows": rows,
                    "complete": complete,
                },
                actor=actor,
            )
        )
        uow.commit()
