"""Account leases in the database: one writer per account, across machines.

**The database's clock.** Every expiry is computed and compared in the SQL statement
itself (PostgreSQL ``clock_timestamp()``; SQLite ``strftime(…, 'now')``, written in
the exact text form SQLAlchemy stores timestamps in on SQLite), never from the
caller's clock: a worker whose clock is minutes off neither takes a lease early nor
keeps one too long.

**Taking a lease** is one statement, ``INSERT … ON CONFLICT (account) DO UPDATE …
WHERE`` the lease is the taker's own or is not live (expired, or released): the
account's first lease row is inserted, an existing one taken only on that condition
(both atomically, the row locked), and whichever statement changes a row (seen
through ``RETURNING``) wins, so two processes cannot both hold one account. A lease
passing to a new holder, or taken again after it expired or was released, gets the
next **epoch**; renewal (or a new ``acquire``) of a live lease by its holder keeps
it. Holders are unique per job, so a fence
(holder, epoch) names one holding only.

**Releasing** keeps the row: its holder becomes :data:`FREE` and it expires at once.
An account's lease row, once made, is never deleted, so its epoch only ever grows:
a paused holder of epoch 1 can never meet a later lease that starts again at 1.

**Fencing.** :func:`fence_holds` is the check a fenced unit of work runs just before
``COMMIT``, in the same transaction as the writes it guards::

    SELECT epoch FROM account_leases
     WHERE account_id = ? AND holder = ? AND epoch = ? AND expires_at > <db now>
     [FOR SHARE on PostgreSQL]

Why a takeover between the check and the commit cannot let a stale write through:

* **SQLite**: every writing transaction begins ``BEGIN IMMEDIATE`` (see
  :mod:`core.store.db`), so it holds the database's single write lock from its first
  statement to its ``COMMIT``. A takeover is itself a write; it runs either wholly
  before the check (which then sees the new holder and refuses) or wholly after the
  commit (when the writes were made under a lease still valid at the check).
* **PostgreSQL**: the check takes a ``FOR SHARE`` row lock on the lease row, which a
  takeover's ``UPDATE`` of that row must wait for until the checking transaction
  commits or rolls back. A takeover that committed before the check is seen by it
  (read committed: each statement reads the latest committed row; a lock wait
  re-reads the row after the other transaction ends), so the check refuses.
  ``clock_timestamp()`` is the time of the statement, not of the transaction's
  start (``now()``), so a long transaction cannot pass with a lease that expired
  while it ran.

So the writes of a holder paused past its lease (garbage collection, VM pause,
SIGSTOP) are refused as a whole when it resumes. Each call here runs and commits in a
session of its own, outside any unit of work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from core.domain.ids import AccountId
from core.ports import Fence
from core.store._sql import dialect_insert
from core.store.accounts import account_row_id
from core.store.tables import AccountLeaseRow, ChannelAccountRow, table_of

HOLDER_LENGTH = 128
"""Holders are stored, matched and released by their first 128 characters."""

#: The holder of a released lease (the row stays, so the epoch keeps growing).
FREE = ""

#: SQLAlchemy's text form of a timestamp on SQLite (microseconds, no zone: UTC).
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"


def db_now(session: Session, after: timedelta = timedelta(0)) -> ColumnElement[Any]:
    """The database's own clock (plus ``after``) as a SQL expression, comparable
    with and storable in a ``UtcDateTime`` column."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.clock_timestamp() + sa.literal(after, sa.Interval())
    # strftime's %f gives milliseconds ("SS.SSS"); SQLAlchemy stores six digits.
    return sa.func.strftime(
        _SQLITE_FORMAT, "now", f"{after.total_seconds():+.3f} seconds"
    ).concat("000")


class SqlLeaseStore:
    """``core.ports.LeaseStore`` on SQLAlchemy."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def acquire(
        self, account: AccountId, holder: str, duration: timedelta
    ) -> Fence | None:
        holder = holder[:HOLDER_LENGTH]
        table = table_of(AccountLeaseRow)
        with self._session_factory() as session:
            # One statement whether the account has a lease row or not: insert it,
            # or take the existing one when it is ours (and live) or is not live.
            insert = dialect_insert(session, table).from_select(
                ["account_id", "holder", "expires_at", "epoch"],
                sa.select(
                    col(ChannelAccountRow.id),
                    sa.literal(holder, sa.String()),
                    db_now(session, duration),
                    sa.literal(1, sa.Integer()),
                ).where(col(ChannelAccountRow.account_key) == account),
            )
            live = table.c.expires_at > db_now(session)
            ours = table.c.holder == holder
            taken = session.execute(
                insert.on_conflict_do_update(
                    index_elements=["account_id"],
                    set_={
                        "holder": insert.excluded.holder,
                        "expires_at": insert.excluded.expires_at,
                        # a new holder (or a lease taken again after it ran out or
                        # was released) fences off every earlier one; a renewal
                        # does not
                        "epoch": sa.case(
                            (sa.and_(ours, live), table.c.epoch),
                            else_=table.c.epoch + 1,
                        ),
                    },
                    where=sa.or_(ours, ~live),
                ).returning(table.c.epoch)
            ).scalar_one_or_none()
            if taken is None:
                account_row_id(session, account)  # raises for an unknown account
            session.commit()
            return None if taken is None else Fence(account, holder, int(taken))

    def renew(self, fence: Fence, duration: timedelta) -> bool:
        with self._session_factory() as session:
            account_id = account_row_id(session, fence.account)
            kept = session.execute(
                sa.update(AccountLeaseRow)
                .where(
                    col(AccountLeaseRow.account_id) == account_id,
                    col(AccountLeaseRow.holder) == fence.holder[:HOLDER_LENGTH],
                    col(AccountLeaseRow.epoch) == fence.epoch,
                )
                .values(expires_at=db_now(session, duration))
                .returning(col(AccountLeaseRow.epoch))
            ).first()
            session.commit()
            return kept is not None

    def release(self, fence: Fence) -> None:
        with self._session_factory() as session:
            # the row stays (see the module): deleting it would start the next
            # holder's epoch again at 1
            session.execute(
                sa.update(AccountLeaseRow)
                .where(
                    col(AccountLeaseRow.account_id) == _row_id(fence.account),
                    col(AccountLeaseRow.holder) == fence.holder[:HOLDER_LENGTH],
                    col(AccountLeaseRow.epoch) == fence.epoch,
                )
                .values(holder=FREE, expires_at=db_now(session))
            )
            session.commit()

    def holder(self, account: AccountId) -> str | None:
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            found = session.execute(
                sa.select(col(AccountLeaseRow.holder)).where(
                    col(AccountLeaseRow.account_id) == account_id,
                    col(AccountLeaseRow.holder) != FREE,
                )
            ).scalar_one_or_none()
            return None if found is None else str(found)

    def take_over(
        self, account: AccountId, previous: str, holder: str, duration: timedelta
    ) -> Fence | None:
        holder = holder[:HOLDER_LENGTH]
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            moved = session.execute(
                sa.update(AccountLeaseRow)
                .where(
                    col(AccountLeaseRow.account_id) == account_id,
                    col(AccountLeaseRow.holder) == previous[:HOLDER_LENGTH],
                )
                .values(
                    holder=holder,
                    expires_at=db_now(session, duration),
                    epoch=col(AccountLeaseRow.epoch) + 1,
                )
                .returning(col(AccountLeaseRow.epoch))
            ).scalar_one_or_none()
            session.commit()
            return None if moved is None else Fence(account, holder, int(moved))


def _row_id(account: AccountId) -> Any:
    """``account``'s row id as a scalar subquery (no look-up of its own)."""
    return (
        sa.select(col(ChannelAccountRow.id))
        .where(col(ChannelAccountRow.account_key) == account)
        .scalar_subquery()
    )


def fence_holds(session: Session, fence: Fence) -> bool:
    """True when ``fence`` still holds its lease by the database's clock; on
    PostgreSQL the lease row stays share-locked until the transaction ends, so no
    takeover can commit before it (see the module's race analysis)."""
    query = sa.select(col(AccountLeaseRow.epoch)).where(
        col(AccountLeaseRow.account_id) == _row_id(fence.account),
        col(AccountLeaseRow.holder) == fence.holder[:HOLDER_LENGTH],
        col(AccountLeaseRow.epoch) == fence.epoch,
        col(AccountLeaseRow.expires_at) > db_now(session),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return session.execute(query).first() is not None
