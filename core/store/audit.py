"""Audit events in the database: recorded in the change's own transaction.

:func:`record` queues an event on the session; just before the session commits,
every queued event is inserted with one statement, in the same transaction as the
change it describes (a session event, so no write path can commit its change and
forget its events); a rollback drops them with the change. Writers never lock
anything for the chain: the sealer (:mod:`core.store.audit_chain`) orders them later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from core.audit.canonical import dumps
from core.audit.events import AuditEvent, current
from core.store._sql import bulk_insert
from core.store.tables import AuditEventRow, table_of

_PENDING = "audit.pending"
#: Queued events are inserted at once, still in the transaction, once this many
#: wait (a bulk change such as a catalogue import keeps bounded memory).
WRITE_AT = 5_000


def record(session: OrmSession, *events: AuditEvent) -> None:
    """Queue ``events`` to be written with the session's next commit (a rollback
    drops them); past :data:`WRITE_AT` waiting, they are inserted now, in the
    same transaction."""
    if not session.in_transaction():
        session.begin()  # so a rollback, even before any statement, is seen
    queued = session.info.setdefault(_PENDING, [])
    queued.extend(events)
    if len(queued) >= WRITE_AT:
        write_pending(session)


def pending(session: OrmSession) -> list[AuditEvent]:
    """The events queued on ``session`` and not yet written."""
    found: list[AuditEvent] = session.info.get(_PENDING, [])
    return found


def _row(event_: AuditEvent, now: datetime) -> dict[str, Any]:
    acting = current()
    return {
        "at": event_.at or now,
        "actor": event_.actor or acting.actor,
        "action": event_.action,
        "subject": event_.subject,
        "account": event_.account,
        "run_id": event_.run_id if event_.run_id is not None else acting.run_id,
        "reason": event_.reason if event_.reason is not None else acting.reason,
        "before": None if event_.before is None else dumps(event_.before),
        "after": None if event_.after is None else dumps(event_.after),
    }


def write_pending(session: OrmSession) -> int:
    """Insert the queued events now (one statement); how many."""
    queued = session.info.pop(_PENDING, None)
    if not queued:
        return 0
    now = datetime.now(UTC)
    return bulk_insert(
        session,  # type: ignore[arg-type]
        table_of(AuditEventRow),
        [_row(e, now) for e in queued],
    )


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    write_pending(session)


@event.listens_for(OrmSession, "after_soft_rollback")
def _after_rollback(session: OrmSession, *_: Any) -> None:
    session.info.pop(_PENDING, None)


class SqlAuditLog:
    """``core.ports.AuditLog`` on a session (see :func:`record`)."""

    def __init__(self, session: OrmSession) -> None:
        self._session = session

    def record(self, *events: AuditEvent) -> None:
        """Write ``events`` with the session's commit; a rollback drops them."""
        record(self._session, *events)
