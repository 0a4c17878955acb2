"""The sealer: audit events chained in the order their transactions became visible.

Writers insert their events unsealed (``seq`` and ``hash`` null) in the transaction
of the change, without touching anything shared (:mod:`core.store.audit`). The
sealer, in one transaction per batch, locks the chain's head (``audit_head`` row 1,
``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every writing transaction begins
``BEGIN IMMEDIATE``, which already admits one at a time), selects the unsealed events
visible now (``seq IS NULL``, by id, at most ``batch``), gives them the next
positions and their hashes (:mod:`core.audit.chain`), updates them in one
executemany, moves the head and commits; it repeats until none is left.

Why this design: it selects *unsealed* rows, not "ids above the last sealed one".
Ids are handed out when a transaction inserts, but rows become visible when it
commits, and those orders differ (a long import commits after a short adjustment
that began later). A sealer following ids would pass over the row still
uncommitted and never come back; this one seals it in a later batch, at a later
position: nothing is skipped, nothing sealed twice (the head lock makes sealers take
turns, each seeing what the one before it sealed). Writers never wait for the
chain, so the write paths scale as they did; the one serial step is the sealer's,
a few milliseconds per thousand events. Per-account chains joined by a periodic
root would let sealers run in parallel, but one sealer keeps up with far more
events than the write paths produce, and a single chain gives the auditor one
order, one head to sign and one first broken link, and covers events that belong
to no account (imports, settings, users) without a chain of their own.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.audit.canonical import timestamp
from core.audit.chain import GENESIS, Link, next_hash
from core.store._sql import insert_ignoring_conflicts, update_many_by
from core.store.tables import AuditEventRow, AuditHeadRow, UtcDateTime, table_of

EVENTS = table_of(AuditEventRow)
HEAD = table_of(AuditHeadRow)
#: Events sealed per transaction.
BATCH = 5_000
_HEAD_ID = 1
#: Characters of a time as SQLite stores it: ``2026-12-07 15:01:53.000000``.
_SQLITE_TIME_LENGTH = 26
#: The columns a link covers, in :class:`Link`'s order (after ``seq``).
LINK_COLUMNS = (
    EVENTS.c.id,
    EVENTS.c.at,
    EVENTS.c.actor,
    EVENTS.c.action,
    EVENTS.c.subject,
    EVENTS.c.account,
    EVENTS.c.run_id,
    EVENTS.c.reason,
    EVENTS.c.before,
    EVENTS.c.after,
)


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's head: the last sealed position and its hash (0 and
    :data:`~core.audit.chain.GENESIS` before the first event)."""

    seq: int = 0
    hash: str = GENESIS
    sealed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sealed:
    """What one :func:`seal` did: events sealed and the head after it;
    ``skipped`` when another sealer held the head and ``wait`` was off; ``more``
    when it stopped at its ``most`` with events still unsealed."""

    events: int
    head: Head
    skipped: bool = False
    more: bool = False


def _head_of(row: Any) -> Head:
    return Head(int(row.seq), row.hash or GENESIS, row.sealed_at)


def read_head(connection: Connection | Session) -> Head:
    """The head as stored (no lock)."""
    row = connection.execute(
        sa.select(HEAD.c.seq, HEAD.c.hash, HEAD.c.sealed_at).where(
            HEAD.c.id == _HEAD_ID
        )
    ).first()
    return Head() if row is None else _head_of(row)


def _lock_head(session: Session, *, wait: bool) -> Head | None:
    """The head, locked until the transaction ends (created when missing);
    None when ``wait`` is off and another sealer holds it."""
    session.execute(
        insert_ignoring_conflicts(session, HEAD, ["id"]).values(
            id=_HEAD_ID, seq=0, hash=""
        )
    )
    query = sa.select(HEAD.c.seq, HEAD.c.hash, HEAD.c.sealed_at).where(
        HEAD.c.id == _HEAD_ID
    )
    row = session.execute(query.with_for_update(skip_locked=not wait)).first()
    return None if row is None else _head_of(row)


def link_of(seq: int, row: Any) -> Link:
    """The :class:`Link` of a row of :data:`LINK_COLUMNS` at position ``seq``."""
    return Link(seq, *row)


def _seal_batch(session: Session, batch: int, *, wait: bool) -> tuple[int, Head] | None:
    head = _lock_head(session, wait=wait)
    if head is None:
        return None
    rows = session.execute(
        sa.select(*LINK_COLUMNS)
        .where(EVENTS.c.seq.is_(None))
        .order_by(EVENTS.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0, head
    seq, hash_ = head.seq, head.hash
    updates = []
    for row in rows:
        seq += 1
        hash_ = next_hash(hash_, link_of(seq, row))
        updates.append({"id": row.id, "seq": seq, "hash": hash_})
    update_many_by(session, EVENTS, "id", updates)
    now = datetime.now(UTC)
    session.execute(
        sa.update(HEAD)
        .where(HEAD.c.id == _HEAD_ID)
        .values(seq=seq, hash=hash_, sealed_at=now)
    )
    return len(rows), Head(seq, hash_, now)


def seal(
    sessions: sessionmaker[Session],
    *,
    batch: int = BATCH,
    wait: bool = True,
    most: int | None = None,
) -> Sealed:
    """Seal every event visible as unsealed, ``batch`` per transaction (see the
    module), or, with ``most``, stop once that many are sealed (``more`` tells
    whether some were left). With ``wait`` off, return at once (``skipped``)
    while another sealer holds the head on PostgreSQL: it seals what is visible
    until none is left."""
    total = 0
    head = Head()
    while True:
        with sessions() as session, session.begin():
            done = _seal_batch(session, batch, wait=wait)
        if done is None:
            return Sealed(total, head, skipped=True)
        count, head = done
        total += count
        if count < batch:
            return Sealed(total, head)
        if most is not None and total >= most:
            return Sealed(total, head, more=True)


def unsealed(connection: Connection | Session) -> int:
    """How many events wait for the sealer."""
    return int(
        connection.execute(
            sa.select(sa.func.count()).select_from(EVENTS).where(EVENTS.c.seq.is_(None))
        ).scalar_one()
    )


def any_unsealed(connection: Connection | Session) -> bool:
    """True when an event waits for the sealer (one index probe)."""
    found = connection.execute(
        sa.select(EVENTS.c.id).where(EVENTS.c.seq.is_(None)).limit(1)
    ).first()
    return found is not None


def first_sealed(connection: Connection) -> int | None:
    """The lowest sealed position present (1 unless events were archived or
    deleted), None when nothing is sealed."""
    found = connection.execute(sa.select(sa.func.min(EVENTS.c.seq))).scalar_one()
    return None if found is None else int(found)


def sealed_rows(
    connection: Connection, *, after: int = 0, batch: int = 10_000
) -> Generator[Sequence[Sequence[Any]]]:
    """Every sealed event after position ``after`` in ``seq`` order, ``batch``
    rows at a time, each as :meth:`core.audit.chain.Walk.feed_rows` takes it:
    ``seq``, the stored hash, then the fields a link covers, ``at`` already
    written as the chain writes it (:func:`at_text`), which saves parsing a
    datetime per event only to print it again."""
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(
        sa.select(EVENTS.c.seq, EVENTS.c.hash, EVENTS.c.id, at_text(connection))
        .add_columns(*LINK_COLUMNS[2:])
        .where(EVENTS.c.seq > after)
        .order_by(EVENTS.c.seq)
    )
    times = (
        None if connection.dialect.name == "postgresql" else _SqliteTimes(connection)
    )
    try:
        for rows in result.partitions(batch):
            if times is None:
                yield rows
            else:
                yield [(*row[:3], times(row[3]), *row[4:]) for row in rows]
    finally:
        result.close()


def at_text(connection: Connection) -> sa.ColumnElement[Any]:
    """``at`` as text: on PostgreSQL written by the server as
    :func:`core.audit.canonical.timestamp` writes it; on SQLite as stored (see
    :class:`_SqliteTimes`)."""
    if connection.dialect.name == "postgresql":
        return sa.func.to_char(
            sa.func.timezone("UTC", EVENTS.c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        )
    return sa.type_coerce(EVENTS.c.at, sa.String())


class _SqliteTimes:
    """SQLite's stored ``at`` text (``2026-12-07 15:01:53.000000``, UTC, as the
    store writes it) in the chain's form; any other text through the column's
    type, exactly as the sealer reads it."""

    def __init__(self, connection: Connection) -> None:
        self._dialect = connection.dialect
        self._parse = (
            sa.DateTime(timezone=True)
            .dialect_impl(self._dialect)
            .result_processor(self._dialect, None)
        )

    def __call__(self, raw: Any) -> str:
        if (
            isinstance(raw, str)
            and len(raw) == _SQLITE_TIME_LENGTH
            and raw[10] == " "
            and raw[19] == "."
        ):
            return f"{raw[:10]}T{raw[11:]}Z"
        value = self._parse(raw) if self._parse is not None else raw
        found = UtcDateTime().process_result_value(value, self._dialect)
        if found is None:
            raise ValueError("an audit event without a time")
        return timestamp(found)
