"""Sync runs and their item results in the database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import Session, col

from core.audit import actions
from core.audit.canonical import dumps, plain
from core.audit.events import AuditEvent, JsonValue
from core.audit.query import Period
from core.domain.ids import AccountId
from core.domain.remote import OrderWindow
from core.domain.runs import RunItem, SyncRun
from core.domain.sync import RunOutcome, SyncKind
from core.store._sql import bulk_insert, chunks
from core.store.accounts import account_row_id
from core.store.audit import record
from core.store.tables import ChannelAccountRow, SyncRunItemRow, SyncRunRow, table_of

_RUN_COLUMNS = (
    col(SyncRunRow.id),
    col(SyncRunRow.kind),
    col(ChannelAccountRow.account_key),
    col(SyncRunRow.trigger),
    col(SyncRunRow.started_at),
    col(SyncRunRow.outcome),
    col(SyncRunRow.window_start),
    col(SyncRunRow.window_end),
    col(SyncRunRow.finished_at),
    col(SyncRunRow.counts),
    col(SyncRunRow.error),
)


#: A run item's stored values, in the order :func:`_item` reads them.
_ITEM_COLUMNS = (
    col(SyncRunItemRow.subject),
    col(SyncRunItemRow.operation),
    col(SyncRunItemRow.ok),
    col(SyncRunItemRow.at),
    col(SyncRunItemRow.error_code),
    col(SyncRunItemRow.error_message),
    col(SyncRunItemRow.sent),
)


def _item(row: Any) -> RunItem:
    """A run item from the values of ``_ITEM_COLUMNS``."""
    subject, operation, ok, at, code, message, sent = row
    return RunItem(
        subject=subject,
        operation=operation,
        ok=bool(ok),
        at=at,
        error_code=code,
        error_message=message,
        sent=None if sent is None else json.loads(sent),
    )


def _run(row: Any, items: Sequence[RunItem] = ()) -> SyncRun:
    (
        id_,
        kind,
        account,
        trigger,
        started,
        outcome,
        start,
        end,
        finished,
        counts,
        error,
    ) = row
    return SyncRun(
        id=int(id_),
        kind=SyncKind(kind),
        account=None if account is None else AccountId(account),
        trigger=trigger,
        started_at=started,
        outcome=RunOutcome(outcome),
        window_start=start,
        window_end=end,
        finished_at=finished,
        counts={str(k): int(v) for k, v in (counts or {}).items()},
        error=error or "",
        items=tuple(items),
    )


def started_in(period: Period) -> list[sa.ColumnElement[bool]]:
    """The conditions of a run started in ``period``."""
    started = col(SyncRunRow.started_at)
    found: list[sa.ColumnElement[bool]] = []
    if period.since is not None:
        found.append(started >= period.since)
    if period.until is not None:
        found.append(started < period.until)
    return found


def item_values(item: RunItem) -> dict[str, Any]:
    """An item's stored values (as cut to their columns), its event's shape."""
    return {
        "subject": item.subject[:128],
        "operation": item.operation[:32],
        "ok": item.ok,
        "error_code": None if item.error_code is None else item.error_code[:64],
        "error_message": item.error_message,
        "at": item.at,
        "sent": None if item.sent is None else plain(item.sent),
    }


def run_state(
    kind: str,
    account: str | None,
    trigger: str,
    started_at: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
    outcome: str,
    counts: Mapping[str, int] | None = None,
    finished_at: datetime | None = None,
    error: str | None = None,
) -> dict[str, JsonValue]:
    """The ``after`` of a run's ``run.started`` / ``run.finished`` event: the
    row's values as stored (``error`` None when there is none)."""
    state: dict[str, JsonValue] = plain(
        {
            "kind": kind,
            "account": account,
            "trigger": trigger[:128],
            "started_at": started_at,
            "window_start": window_start,
            "window_end": window_end,
            "outcome": outcome,
            "counts": {str(k): int(v) for k, v in (counts or {}).items()},
            "finished_at": finished_at,
            "error": error or None,
        }
    )
    return state


def run_event(action: str, run_id: int, state: dict[str, JsonValue]) -> AuditEvent:
    """A run's ``run.started`` / ``run.finished`` event (its account, its id)."""
    account = state.get("account")
    return AuditEvent(
        action,
        actions.run(run_id),
        after=state,
        account=account if isinstance(account, str) else None,
        run_id=run_id,
    )


#: Per session: a run's account key, for its items' events.
_RUN_ACCOUNTS = "audit.run_accounts"


def run_state_columns(account: Any) -> tuple[Any, ...]:
    """A run row's values its events hold, in :func:`run_state`'s order, the
    account read from the column ``account``."""
    return (
        col(SyncRunRow.kind),
        account,
        col(SyncRunRow.trigger),
        col(SyncRunRow.started_at),
        col(SyncRunRow.window_start),
        col(SyncRunRow.window_end),
        col(SyncRunRow.outcome),
        col(SyncRunRow.counts),
        col(SyncRunRow.finished_at),
        col(SyncRunRow.error),
    )


#: A run row's values its events hold (account as the row's id; see
#: :func:`finished_event`).
RUN_STATE_COLUMNS = run_state_columns(col(SyncRunRow.account_id))


def finished_event(run_id: int, row: Any, session: Session) -> AuditEvent:
    """The ``run.finished`` event of a run row just ended (``row``: the values of
    ``RUN_STATE_COLUMNS`` as the update returned them)."""
    kind, account_id, trigger, started, start, end, outcome, counts, finished, err = row
    account = (
        None
        if account_id is None
        else session.execute(
            select(col(ChannelAccountRow.account_key)).where(
                col(ChannelAccountRow.id) == account_id
            )
        ).scalar_one()
    )
    state = run_state(
        kind, account, trigger, started, start, end, outcome, counts, finished, err
    )
    return run_event(actions.RUN_FINISHED, run_id, state)


class SqlRunRepository:
    """``core.ports.RunRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def start(
        self,
        kind: SyncKind,
        account: AccountId | None,
        trigger: str,
        at: datetime,
        window: OrderWindow | None = None,
    ) -> int:
        account_id = None if account is None else account_row_id(self._session, account)
        inserted = self._session.execute(
            sa.insert(SyncRunRow)
            .values(
                kind=kind.value,
                account_id=account_id,
                trigger=trigger[:128],
                window_start=None if window is None else window.since,
                window_end=None if window is None else window.until,
                started_at=at,
                finished_at=None,
                outcome=RunOutcome.RUNNING.value,
                counts={},
            )
            .returning(col(SyncRunRow.id))
        ).one()
        run_id = int(inserted[0])
        state = run_state(
            kind.value,
            account,
            trigger,
            at,
            None if window is None else window.since,
            None if window is None else window.until,
            RunOutcome.RUNNING.value,
        )
        record(self._session, run_event(actions.RUN_STARTED, run_id, state))
        return run_id

    def add_items(self, run_id: int, items: Sequence[RunItem]) -> None:
        if not items:
            return
        values = [item_values(item) for item in items]
        for batch in chunks(values, 2000):
            bulk_insert(
                self._session,
                table_of(SyncRunItemRow),
                [
                    {**v, "sent": None if v["sent"] is None else dumps(v["sent"])}
                    for v in batch
                ],
                constants={"run_id": run_id},
            )
        record(
            self._session,
            AuditEvent(
                actions.RUN_ITEMS,
                actions.run(run_id),
                after={"items": [plain(v) for v in values]},
                account=self._account_of(run_id),
                run_id=run_id,
            ),
        )

    def _account_of(self, run_id: int) -> str | None:
        cache: dict[int, str | None] = self._session.info.setdefault(_RUN_ACCOUNTS, {})
        if run_id not in cache:
            cache[run_id] = self._session.execute(
                select(col(ChannelAccountRow.account_key))
                .select_from(SyncRunRow)
                .outerjoin(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(SyncRunRow.account_id),
                )
                .where(col(SyncRunRow.id) == run_id)
            ).scalar_one_or_none()
        return cache[run_id]

    def finish(
        self,
        run_id: int,
        outcome: RunOutcome,
        counts: Mapping[str, int],
        at: datetime,
        error: str = "",
    ) -> None:
        row = self._session.execute(
            sa.update(SyncRunRow)
            .where(col(SyncRunRow.id) == run_id)
            .values(
                outcome=outcome.value,
                counts=dict(counts),
                finished_at=at,
                error=error or None,
            )
            .returning(*RUN_STATE_COLUMNS)
        ).first()
        if row is not None:
            record(self._session, finished_event(run_id, row, self._session))

    def _select(self) -> Any:
        return select(*_RUN_COLUMNS).outerjoin(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(SyncRunRow.account_id)
        )

    def recent(
        self,
        limit: int,
        account: AccountId | None = None,
        kind: SyncKind | None = None,
        period: Period | None = None,
    ) -> list[SyncRun]:
        statement = self._select()
        if period is not None:
            statement = statement.where(*started_in(period))
        if account is not None:
            statement = statement.where(
                col(SyncRunRow.account_id) == account_row_id(self._session, account)
            )
        if kind is not None:
            statement = statement.where(col(SyncRunRow.kind) == kind.value)
        rows = self._session.execute(
            statement.order_by(col(SyncRunRow.id).desc()).limit(limit)
        )
        return [_run(row) for row in rows]

    def get(self, run_id: int) -> SyncRun | None:
        row = self._session.execute(
            self._select().where(col(SyncRunRow.id) == run_id)
        ).first()
        if row is None:
            return None
        items = [
            _item(item)
            for item in self._session.execute(
                select(*_ITEM_COLUMNS)
                .where(col(SyncRunItemRow.run_id) == run_id)
                .order_by(col(SyncRunItemRow.id))
            )
        ]
        return _run(row, items)
