"""The auditor's queries: audit events by filter, a SKU's movements, runs of a
period with their items. Each reads in one statement (events of a trace in one
more), streamed from the database (a server-side cursor on PostgreSQL), so an
export of millions of rows holds one batch in memory at a time.

Each filter lands on an index of migration 0013: ``(actor, at)``, ``(subject,
at)``, ``(account, at)``, ``(action, at)``, and ``(at)`` for a period alone. A
prefix (of a subject, of an action's kind) is ``LIKE 'prefix%'`` and, where the
database orders text by code point (SQLite; PostgreSQL databases whose collation
is ``C``, ``POSIX`` or ``C.UTF-8``), also a range the index answers (``>= prefix``
and ``<`` the prefix with its last character raised). Under a linguistic
collation such a range can miss rows (``en_US`` skips punctuation), so there the
prefix is ``LIKE`` alone: exact, but not served by the index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.audit.query import EventFilter, Period, StoredEvent
from core.domain.ids import AccountId, Sku, sku_key
from core.domain.runs import SyncRun
from core.domain.sync import SyncKind
from core.ports import StockTrail
from core.store.accounts import account_row_id
from core.store.ledger import _MOVEMENT_COLUMNS, _movement
from core.store.runs import _ITEM_COLUMNS, _RUN_COLUMNS, _item, _run, started_in
from core.store.tables import (
    AuditEventRow,
    ChannelAccountRow,
    ProductRow,
    StockMovementRow,
    SyncRunItemRow,
    SyncRunRow,
)

#: Rows fetched from the cursor at a time.
BATCH = 1000

_EVENT_COLUMNS = (
    col(AuditEventRow.id),
    col(AuditEventRow.seq),
    col(AuditEventRow.at),
    col(AuditEventRow.actor),
    col(AuditEventRow.action),
    col(AuditEventRow.subject),
    col(AuditEventRow.account),
    col(AuditEventRow.run_id),
    col(AuditEventRow.reason),
    col(AuditEventRow.before),
    col(AuditEventRow.after),
)


def _event(row: Any) -> StoredEvent:
    id_, seq, at, actor, action, subject, account, run_id, reason, before, after = row
    return StoredEvent(
        id=int(id_),
        seq=None if seq is None else int(seq),
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        account=account,
        run_id=None if run_id is None else int(run_id),
        reason=reason,
        before=before,
        after=after,
    )


#: Collations that order text by code point, so a prefix is a range.
_CODE_POINT_COLLATIONS = frozenset({"c", "posix", "c.utf-8", "c.utf8", "ucs_basic"})


def orders_by_code_point(connection: sa.Connection) -> bool:
    """True when the database compares text by code point (see the module)."""
    match connection.dialect.name:
        case "sqlite":
            return True
        case "postgresql":
            collation = connection.execute(
                sa.text(
                    "SELECT datcollate FROM pg_database "
                    "WHERE datname = current_database()"
                )
            ).scalar_one()
            return str(collation).lower() in _CODE_POINT_COLLATIONS
        case _:
            return False


def _starting_with(
    column: Any, prefix: str, ranges: bool
) -> list[sa.ColumnElement[bool]]:
    """``column`` starts with ``prefix``: ``LIKE``, and an index range where the
    database orders by code point."""
    conditions: list[sa.ColumnElement[bool]] = [
        column.startswith(prefix, autoescape=True)
    ]
    if ranges:
        conditions.append(column >= prefix)
        if prefix[-1] != chr(0x10FFFF):
            conditions.append(column < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    return conditions


def event_conditions(
    selection: EventFilter, ranges: bool = True
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of ``selection`` (see :mod:`core.audit.query`);
    ``ranges``: prefixes also as index ranges (only where the database orders
    text by code point)."""
    found: list[sa.ColumnElement[bool]] = []
    period = selection.period
    at = col(AuditEventRow.at)
    if period.since is not None:
        found.append(at >= period.since)
    if period.until is not None:
        found.append(at < period.until)
    if selection.actor is not None:
        found.append(col(AuditEventRow.actor) == selection.actor)
    if selection.account is not None:
        found.append(col(AuditEventRow.account) == selection.account)
    prefix = selection.subject_prefix
    if prefix is not None:
        found.extend(_starting_with(col(AuditEventRow.subject), prefix, ranges))
    elif selection.subject is not None:
        found.append(col(AuditEventRow.subject) == selection.subject)
    if selection.kind is not None:
        action = col(AuditEventRow.action)
        found.append(
            sa.or_(
                action == selection.kind,
                sa.and_(*_starting_with(action, selection.kind + ".", ranges)),
            )
        )
    return found


def events_statement(selection: EventFilter, ranges: bool = True) -> Any:
    """The query of ``audit log`` (public for ``EXPLAIN`` in tests and tools)."""
    statement = (
        sa.select(*_EVENT_COLUMNS)
        .where(*event_conditions(selection, ranges))
        .order_by(col(AuditEventRow.at), col(AuditEventRow.id))
    )
    if selection.limit is not None:
        statement = statement.limit(selection.limit)
    return statement


def trail_statement(product_id: int, until: datetime | None) -> Any:
    """The movements of one product (up to ``until``), in ledger order."""
    statement = (
        sa.select(*_MOVEMENT_COLUMNS)
        .join(ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id))
        .where(col(StockMovementRow.product_id) == product_id)
        .order_by(col(StockMovementRow.id))
    )
    if until is not None:
        statement = statement.where(col(StockMovementRow.at) <= until)
    return statement


def _streaming(session: Session) -> sa.Connection:
    return session.connection(
        execution_options={"stream_results": True, "yield_per": BATCH}
    )


def _streamed(session: Session, statement: Any) -> Iterator[Any]:
    yield from _streaming(session).execute(statement)


class SqlAuditReader:
    """``core.ports.AuditReader`` on SQLAlchemy; each call reads in its own
    session, held while a stream is read."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def events(self, selection: EventFilter) -> Iterator[StoredEvent]:
        with self._session_factory() as session:
            connection = _streaming(session)
            statement = events_statement(selection, orders_by_code_point(connection))
            for row in connection.execute(statement):
                yield _event(row)

    def events_of(self, subject: str, action: str) -> list[StoredEvent]:
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(*_EVENT_COLUMNS)
                .where(
                    col(AuditEventRow.subject) == subject,
                    col(AuditEventRow.action) == action,
                )
                .order_by(col(AuditEventRow.id))
            )
            return [_event(row) for row in rows]

    def stock_trail(self, sku: str, until: datetime | None) -> StockTrail | None:
        with self._session_factory() as session:
            product = session.execute(
                sa.select(
                    col(ProductRow.id), col(ProductRow.sku), col(ProductRow.name)
                ).where(col(ProductRow.sku_key) == sku_key(sku))
            ).first()
            if product is None:
                return None
            product_id, stored_sku, name = product
            movements = tuple(
                _movement(row)
                for row in session.execute(trail_statement(int(product_id), until))
            )
        return StockTrail(Sku(stored_sku), name, movements)


def runs_statement(
    period: Period, account_id: int | None, kind: SyncKind | None
) -> Any:
    """Runs of the period joined to their items, in run then item order."""
    statement = (
        sa.select(
            *_RUN_COLUMNS,
            col(SyncRunItemRow.id),
            *_ITEM_COLUMNS,
        )
        .select_from(SyncRunRow)
        .outerjoin(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(SyncRunRow.account_id)
        )
        .outerjoin(SyncRunItemRow, col(SyncRunItemRow.run_id) == col(SyncRunRow.id))
        .where(*started_in(period))
        .order_by(col(SyncRunRow.id), col(SyncRunItemRow.id))
    )
    if account_id is not None:
        statement = statement.where(col(SyncRunRow.account_id) == account_id)
    if kind is not None:
        statement = statement.where(col(SyncRunRow.kind) == kind.value)
    return statement


_RUN_WIDTH = len(_RUN_COLUMNS)


class SqlRunArchive:
    """``core.ports.RunArchive`` on SQLAlchemy: one streamed join of runs and
    items, grouped run by run (a run's items in memory at a time)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def runs(
        self,
        period: Period,
        account: AccountId | None = None,
        kind: SyncKind | None = None,
    ) -> Iterator[SyncRun]:
        account_id: int | None = None
        if account is not None:  # checked now, before any row is written out
            with self._session_factory() as session:
                account_id = account_row_id(session, account)
        return self._stream(runs_statement(period, account_id, kind))

    def _stream(self, statement: Any) -> Iterator[SyncRun]:
        with self._session_factory() as session:
            rows = _streamed(session, statement)
            for _, group in itertools.groupby(rows, key=lambda row: row[0]):
                members = list(group)
                items = [
                    _item(row[_RUN_WIDTH + 1 :])
                    for row in members
                    if row[_RUN_WIDTH] is not None
                ]
                yield _run(tuple(members[0][:_RUN_WIDTH]), items)
