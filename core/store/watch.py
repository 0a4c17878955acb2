"""What ``ikm-sync status`` shows per account, read from the database: each
account's latest run, when a cycle last found it in step, its lease, its cycle's
due time and backoff (kept by ``ikm-sync run``) and its authorisation's end, in one
query each however many accounts there are."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.ids import AccountId
from core.domain.runs import SyncRun
from core.ports import AccountSchedule, AuthorisationView, LeaseView
from core.store.leases import FREE, db_now
from core.store.runs import _RUN_COLUMNS, _run
from core.store.tables import (
    AccountLeaseRow,
    AccountScheduleRow,
    AccountTokenRow,
    ChannelAccountRow,
    OrderBookmarkRow,
    SyncRunRow,
)


class SqlAccountWatch:
    """``core.ports.AccountWatch`` on SQLAlchemy."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def last_runs(self) -> dict[AccountId, SyncRun]:
        latest = (
            sa.select(sa.func.max(col(SyncRunRow.id)))
            .where(col(SyncRunRow.account_id).is_not(None))
            .group_by(col(SyncRunRow.account_id))
        )
        statement = (
            sa.select(*_RUN_COLUMNS)
            .join(
                ChannelAccountRow,
                col(ChannelAccountRow.id) == col(SyncRunRow.account_id),
            )
            .where(col(SyncRunRow.id).in_(latest))
        )
        with self._session_factory() as session:
            runs = [_run(row) for row in session.execute(statement)]
        return {run.account: run for run in runs if run.account is not None}

    def leases(self) -> dict[AccountId, LeaseView]:
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    col(ChannelAccountRow.account_key),
                    col(AccountLeaseRow.holder),
                    col(AccountLeaseRow.expires_at),
                    col(AccountLeaseRow.expires_at) > db_now(session),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(AccountLeaseRow.account_id),
                )
                .where(col(AccountLeaseRow.holder) != FREE)  # released
            ).all()
        return {
            AccountId(key): LeaseView(str(holder), expires, bool(live))
            for key, holder, expires, live in rows
        }

    def schedules(self) -> dict[AccountId, AccountSchedule] | None:
        """Each scheduled account's cycle: next due, backoff and why; ``None``
        while no daemon has scheduled any account."""
        with self._session_factory() as session:
            now = db_now(session)
            rows = session.execute(
                sa.select(
                    col(ChannelAccountRow.account_key),
                    col(AccountScheduleRow.next_due_at),
                    col(AccountScheduleRow.backoff_until),
                    col(AccountScheduleRow.backoff_until) > now,
                    col(AccountScheduleRow.failures),
                    col(AccountScheduleRow.last_error),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(AccountScheduleRow.account_id),
                )
                .where(col(AccountScheduleRow.job) == "cycle")
            ).all()
        if not rows:
            return None
        return {
            AccountId(key): AccountSchedule(
                next_due=due,
                backoff_until=until if backing_off else None,
                failures=int(failures),
                reason=error or "",
            )
            for key, due, until, backing_off, failures, error in rows
        }

    def in_step(self) -> dict[AccountId, datetime]:
        """When a cycle last found each account in step (accounts never found so
        are absent)."""
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    col(ChannelAccountRow.account_key),
                    col(OrderBookmarkRow.in_step_at),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(OrderBookmarkRow.account_id),
                )
                .where(col(OrderBookmarkRow.in_step_at).is_not(None))
            ).all()
        return {AccountId(key): at for key, at in rows}

    def authorisations(self) -> dict[AccountId, AuthorisationView]:
        """Each account's authorisation end and re-authorisation mark (accounts
        without a token row are absent); no token is read."""
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    col(ChannelAccountRow.account_key),
                    col(AccountTokenRow.authorisation_expires_at),
                    col(AccountTokenRow.needs_reauthorisation),
                    col(AccountTokenRow.reason),
                ).join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(AccountTokenRow.account_id),
                )
            ).all()
        return {
            AccountId(key): AuthorisationView(expires, bool(marked), reason or "")
            for key, expires, marked, reason in rows
        }
