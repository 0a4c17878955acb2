"""Sync runs and their item results in the database."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import Session, col

from core.audit.canonical import dumps
from core.audit.query import Period
from core.domain.ids import AccountId
from core.domain.remote import OrderWindow
from core.domain.runs import RunItem, SyncRun
from core.domain.sync import RunOutcome, SyncKind
from core.store._sql import bulk_insert, chunks
from core.store.accounts import account_row_id
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
        return int(inserted[0])

    def add_items(self, run_id: int, items: Sequence[RunItem]) -> None:
        for batch in chunks(items, 2000):
            bulk_insert(
                self._session,
                table_of(SyncRunItemRow),
                [
                    {
                        "subject": item.subject[:128],
                        "operation": item.operation[:32],
                        "ok": item.ok,
                        "error_code": None
                        if item.error_code is None
                        else item.error_code[:64],
                        "error_message": item.error_message,
                        "at": item.at,
                        "sent": None if item.sent is None else dumps(item.sent),
                    }
                    for item in batch
                ],
                constants={"run_id": run_id},
            )

    def finish(
        self,
        run_id: int,
        outcome: RunOutcome,
        counts: Mapping[str, int],
        at: datetime,
        error: str = "",
    ) -> None:
        self._session.execute(
            sa.update(SyncRunRow)
            .where(col(SyncRunRow.id) == run_id)
            .values(
                outcome=outcome.value,
                counts=dict(counts),
                finished_at=at,
                error=error or None,
            )
        )

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
            RunItem(
                subject=subject,
                operation=operation,
                ok=bool(ok),
                at=at,
                error_code=code,
                error_message=message,
                sent=None if sent is None else json.loads(sent),
            )
            for (
                subject,
                operation,
                ok,
                code,
                message,
                at,
                sent,
            ) in self._session.execute(
                select(
                    col(SyncRunItemRow.subject),
                    col(SyncRunItemRow.operation),
                    col(SyncRunItemRow.ok),
                    col(SyncRunItemRow.error_code),
                    col(SyncRunItemRow.error_message),
                    col(SyncRunItemRow.at),
                    col(SyncRunItemRow.sent),
                )
                .where(col(SyncRunItemRow.run_id) == run_id)
                .order_by(col(SyncRunItemRow.id))
            )
        ]
        return _run(row, items)
