"""Due times of the scheduler's jobs in the database, shared by every daemon.

**Claiming** is one transaction: select the due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so concurrent claimers pass over each other's rows instead of waiting;
on SQLite every writing transaction begins ``BEGIN IMMEDIATE`` and so runs alone),
then move each one's next due time to the database's now plus its interval, and
commit. A claimer that gets a row is the only one that gets it for this turn, and a
turn missed for any length of time is one catch-up run, never a backlog. Due times
and back-off are computed by the database's clock (:func:`core.store.leases.db_now`).

**The sweep** (:mod:`scheduler.sweep`) finds runs left ``running`` whose account has
no live lease: every run row is started in a transaction fenced by a live lease, and
the lease is released only after the run is closed, so such a run belongs to a
process that died, lost the lease or is paused past it. The sweep then takes the
account's lease (a new epoch: the old holder can never write again, its run record
included) and closes the runs under it, in a transaction that checks the fence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.ids import AccountId
from core.domain.sync import RunOutcome
from core.ports import Fence, ScheduleEntry
from core.store._sql import chunks, insert_ignoring_conflicts
from core.store.accounts import account_row_id
from core.store.audit import record
from core.store.leases import db_now, fence_holds
from core.store.runs import RUN_STATE_COLUMNS, finished_event
from core.store.tables import (
    AccountLeaseRow,
    AccountScheduleRow,
    ChannelAccountRow,
    SyncRunRow,
    table_of,
)

#: Why the sweep closed a run.
ABANDONED_ERROR = "left running by a process that died or lost the account's lease"
#: Rows per INSERT when accounts get their first due time (bound parameters
#: stay well under both databases' limits).
_INSERT_ROWS = 100
#: Errors are stored up to this length.
ERROR_LENGTH = 2000


class SqlScheduleStore:
    """``core.ports.ScheduleStore`` on SQLAlchemy."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def ensure(self, job: str, first_due: Mapping[AccountId, timedelta]) -> int:
        # set-based: one look-up of the accounts without a row for the job (the
        # steady state: nothing to add, one statement), then one INSERT per
        # hundred of them, skipping rows another daemon added meanwhile
        if not first_due:
            return 0
        with self._session_factory() as session:
            scheduled = (
                sa.select(col(AccountScheduleRow.account_id))
                .where(
                    col(AccountScheduleRow.account_id) == col(ChannelAccountRow.id),
                    col(AccountScheduleRow.job) == job,
                )
                .exists()
            )
            missing = [
                (int(row_id), AccountId(key))
                for row_id, key in session.execute(
                    sa.select(
                        col(ChannelAccountRow.id), col(ChannelAccountRow.account_key)
                    ).where(~scheduled)
                )
                if key in first_due
            ]
            table = table_of(AccountScheduleRow)
            added = 0
            for batch in chunks(missing, _INSERT_ROWS):
                added += len(
                    session.execute(
                        insert_ignoring_conflicts(session, table, ["account_id", "job"])
                        .values(
                            [
                                {
                                    "account_id": row_id,
                                    "job": job,
                                    "next_due_at": db_now(session, first_due[key]),
                                    "failures": 0,
                                }
                                for row_id, key in batch
                            ]
                        )
                        .returning(table.c.account_id)
                    ).all()
                )
            session.commit()
        return added

    def claim_due(
        self,
        job: str,
        interval: Callable[[AccountId], timedelta],
        limit: int,
        exclude: Iterable[AccountId] = (),
    ) -> list[AccountId]:
        if limit <= 0:
            return []
        skip = list(exclude)
        with self._session_factory() as session:
            now = db_now(session)
            query = (
                sa.select(
                    col(AccountScheduleRow.account_id),
                    col(ChannelAccountRow.account_key),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(AccountScheduleRow.account_id),
                )
                .where(
                    col(AccountScheduleRow.job) == job,
                    col(ChannelAccountRow.enabled).is_(True),
                    col(AccountScheduleRow.next_due_at) <= now,
                    sa.or_(
                        col(AccountScheduleRow.backoff_until).is_(None),
                        col(AccountScheduleRow.backoff_until) <= now,
                    ),
                )
                .order_by(col(AccountScheduleRow.next_due_at))
                .limit(limit)
            )
            if skip:
                query = query.where(col(ChannelAccountRow.account_key).not_in(skip))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=AccountScheduleRow)
            claimed = [(int(i), AccountId(k)) for i, k in session.execute(query)]
            for row_id, key in claimed:
                session.execute(
                    sa.update(AccountScheduleRow)
                    .where(
                        col(AccountScheduleRow.account_id) == row_id,
                        col(AccountScheduleRow.job) == job,
                    )
                    .values(next_due_at=db_now(session, interval(key)))
                )
            session.commit()
        return [key for _, key in claimed]

    def succeeded(self, job: str, account: AccountId, outcome: str) -> None:
        self._update(
            job,
            account,
            lambda s: {
                "failures": 0,
                "backoff_until": None,
                "last_outcome": outcome,
                "last_error": None,
                "last_finished_at": db_now(s),
            },
        )

    def failed(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        backoff: Callable[[int], timedelta],
    ) -> int:
        with self._session_factory() as session:
            row_id = _row_ids(session, [account]).get(account)
            if row_id is None:
                return 0
            where = (
                col(AccountScheduleRow.account_id) == row_id,
                col(AccountScheduleRow.job) == job,
            )
            lock = sa.select(col(AccountScheduleRow.failures)).where(*where)
            if session.get_bind().dialect.name == "postgresql":
                lock = lock.with_for_update()
            before = session.execute(lock).scalar_one_or_none()
            if before is None:
                return 0
            failures = int(before) + 1
            session.execute(
                sa.update(AccountScheduleRow)
                .where(*where)
                .values(
                    failures=failures,
                    backoff_until=db_now(session, backoff(failures)),
                    last_outcome=outcome,
                    last_error=error[:ERROR_LENGTH],
                    last_finished_at=db_now(session),
                )
            )
            session.commit()
            return failures

    def noted(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        due_in: timedelta | None = None,
    ) -> None:
        def values(session: Session) -> dict[str, object]:
            found: dict[str, object] = {
                "last_outcome": outcome,
                "last_error": error[:ERROR_LENGTH],
                "last_finished_at": db_now(session),
            }
            if due_in is not None:
                sooner = db_now(session, due_in)
                due = col(AccountScheduleRow.next_due_at)
                found["next_due_at"] = sa.case((due > sooner, sooner), else_=due)
            return found

        self._update(job, account, values)

    def entries(self, job: str) -> list[ScheduleEntry]:
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    col(ChannelAccountRow.account_key),
                    col(AccountScheduleRow.next_due_at),
                    col(AccountScheduleRow.failures),
                    col(AccountScheduleRow.backoff_until),
                    col(AccountScheduleRow.last_outcome),
                    col(AccountScheduleRow.last_error),
                    col(AccountScheduleRow.last_finished_at),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(AccountScheduleRow.account_id),
                )
                .where(col(AccountScheduleRow.job) == job)
                .order_by(col(ChannelAccountRow.account_key))
            ).all()
        return [
            ScheduleEntry(
                account=AccountId(key),
                job=job,
                next_due_at=due,
                failures=int(failures),
                backoff_until=backoff,
                last_outcome=outcome,
                last_error=error,
                last_finished_at=finished,
            )
            for key, due, failures, backoff, outcome, error, finished in rows
        ]

    def unleased_running(self) -> list[AccountId]:
        with self._session_factory() as session:
            live = (
                sa.select(col(AccountLeaseRow.account_id))
                .where(
                    col(AccountLeaseRow.account_id) == col(SyncRunRow.account_id),
                    col(AccountLeaseRow.expires_at) > db_now(session),
                )
                .exists()
            )
            found = session.execute(
                sa.select(col(ChannelAccountRow.account_key))
                .distinct()
                .join(SyncRunRow, col(SyncRunRow.account_id) == ChannelAccountRow.id)
                .where(col(SyncRunRow.outcome) == RunOutcome.RUNNING.value, ~live)
                .order_by(col(ChannelAccountRow.account_key))
            ).scalars()
            return [AccountId(k) for k in found]

    def close_abandoned(self, fence: Fence) -> list[int]:
        with self._session_factory() as session:
            if not fence_holds(session, fence):
                session.rollback()
                return []
            account_id = account_row_id(session, fence.account)
            closed = session.execute(
                sa.update(SyncRunRow)
                .where(
                    col(SyncRunRow.account_id) == account_id,
                    col(SyncRunRow.outcome) == RunOutcome.RUNNING.value,
                )
                .values(
                    outcome=RunOutcome.ABANDONED.value,
                    finished_at=db_now(session),
                    error=ABANDONED_ERROR,
                )
                .returning(col(SyncRunRow.id), *RUN_STATE_COLUMNS)
            ).all()
            record(
                session,
                *(finished_event(int(r[0]), r[1:], session) for r in closed),
            )
            session.commit()
        return sorted(int(r[0]) for r in closed)

    def _update(
        self,
        job: str,
        account: AccountId,
        values: Callable[[Session], dict[str, object]],
    ) -> None:
        with self._session_factory() as session:
            row_id = _row_ids(session, [account]).get(account)
            if row_id is None:
                return
            session.execute(
                sa.update(AccountScheduleRow)
                .where(
                    col(AccountScheduleRow.account_id) == row_id,
                    col(AccountScheduleRow.job) == job,
                )
                .values(values(session))
            )
            session.commit()


def _row_ids(session: Session, keys: Iterable[AccountId]) -> dict[AccountId, int]:
    wanted = list(keys)
    found: dict[AccountId, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row_id, key in session.execute(
            sa.select(
                col(ChannelAccountRow.id), col(ChannelAccountRow.account_key)
            ).where(col(ChannelAccountRow.account_key).in_(chunk))
        ):
            found[AccountId(key)] = int(row_id)
    return found
