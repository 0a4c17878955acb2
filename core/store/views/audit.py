"""The audit log page's read: one page of events by keyset.

Events are ordered by ``(at, id)``; a page is the :data:`PAGE` events just older
(or just newer) than a cursor ``(at, id)``, newest first. The filter's conditions
are :func:`core.store.audit_read.event_conditions` (the same as ``audit log``),
so each lands on one of the ``ix_audit_events_*`` indexes; the cursor adds
``at <= cursor.at`` (a range on the same index) and a tie-break on ``id``. One
statement per page, ``PAGE + 1`` rows, never a count of the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.audit.query import EventFilter, StoredEvent
from core.store.audit_read import (
    _EVENT_COLUMNS,
    _event,
    event_conditions,
    orders_by_code_point,
)
from core.store.tables import AuditEventRow

#: Events on a page.
PAGE = 50


@dataclass(frozen=True, slots=True)
class Cursor:
    """A place in the log: an event's ``(at, id)``."""

    at: datetime
    id: int

    @classmethod
    def of(cls, event: StoredEvent) -> Cursor:
        """The place of ``event``."""
        return cls(event.at, event.id)


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events newest first; ``older``/``newer`` the cursors of the next pages
    that way (None: none there)."""

    events: tuple[StoredEvent, ...]
    older: Cursor | None
    newer: Cursor | None


def _beyond(cursor: Cursor, *, older: bool) -> list[sa.ColumnElement[bool]]:
    at, id_ = col(AuditEventRow.at), col(AuditEventRow.id)
    if older:
        return [at <= cursor.at, sa.or_(at < cursor.at, id_ < cursor.id)]
    return [at >= cursor.at, sa.or_(at > cursor.at, id_ > cursor.id)]


def page_statement(
    selection: EventFilter,
    cursor: Cursor | None,
    *,
    older: bool,
    size: int = PAGE,
    ranges: bool = True,
) -> Any:
    """``size + 1`` events beyond ``cursor`` (older: newest first; newer: oldest
    first); public for ``EXPLAIN`` in tests."""
    conditions = event_conditions(selection, ranges)
    if cursor is not None:
        conditions += _beyond(cursor, older=older)
    at, id_ = col(AuditEventRow.at), col(AuditEventRow.id)
    order = (at.desc(), id_.desc()) if older else (at.asc(), id_.asc())
    return (
        sa.select(*_EVENT_COLUMNS).where(*conditions).order_by(*order).limit(size + 1)
    )


def event_page(
    sessions: sessionmaker[Session],
    selection: EventFilter,
    cursor: Cursor | None = None,
    *,
    older: bool = True,
    size: int = PAGE,
) -> EventPage:
    """The page of events ``selection`` selects beyond ``cursor``: older than it
    (or the newest, without a cursor), or, with ``older=False``, newer than it."""
    with sessions() as session:
        connection = session.connection()
        statement = page_statement(
            selection,
            cursor,
            older=older,
            size=size,
            ranges=orders_by_code_point(connection),
        )
        found = [_event(row) for row in connection.execute(statement)]
    more = len(found) > size
    found = found[:size]
    if not older:
        found.reverse()
    if not found:
        return EventPage((), None, None)
    beyond_older = more if older else True
    beyond_newer = (cursor is not None) if older else more
    return EventPage(
        tuple(found),
        older=Cursor.of(found[-1]) if beyond_older else None,
        newer=Cursor.of(found[0]) if beyond_newer else None,
    )
