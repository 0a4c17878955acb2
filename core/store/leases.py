"""Account leases in the database: one writer per account, across processes.

A lease is taken or renewed by one conditional ``UPDATE`` (its holder's own, or an
expired one) or, for an account never leased, an ``INSERT … ON CONFLICT DO NOTHING``:
whichever statement changes a row (seen through ``RETURNING``: psycopg reports no row
count for the insert) wins, so two processes cannot both hold one account.
Each call runs and commits in a session of its own, outside any unit of work.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.ids import AccountId
from core.store._sql import insert_ignoring_conflicts
from core.store.accounts import account_row_id
from core.store.tables import AccountLeaseRow, table_of

HOLDER_LENGTH = 128
"""Holders are stored, matched and released by their first 128 characters."""


class SqlLeaseRepository:
    """``core.ports.LeaseRepository`` on SQLAlchemy."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def acquire(
        self, account: AccountId, holder: str, now: datetime, until: datetime
    ) -> bool:
        holder = holder[:HOLDER_LENGTH]
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            renewed = session.execute(
                sa.update(AccountLeaseRow)
                .where(
                    col(AccountLeaseRow.account_id) == account_id,
                    sa.or_(
                        col(AccountLeaseRow.holder) == holder,
                        col(AccountLeaseRow.expires_at) <= now,
                    ),
                )
                .values(holder=holder, expires_at=until)
                .returning(col(AccountLeaseRow.account_id))
            )
            won = renewed.first() is not None
            if not won:
                created = session.execute(
                    insert_ignoring_conflicts(
                        session, table_of(AccountLeaseRow), ["account_id"]
                    )
                    .values(account_id=account_id, holder=holder, expires_at=until)
                    .returning(table_of(AccountLeaseRow).c.account_id)
                )
                won = created.first() is not None
            session.commit()
            return won

    def release(self, account: AccountId, holder: str) -> None:
        holder = holder[:HOLDER_LENGTH]
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            session.execute(
                sa.delete(AccountLeaseRow).where(
                    col(AccountLeaseRow.account_id) == account_id,
                    col(AccountLeaseRow.holder) == holder,
                )
            )
            session.commit()

    def holder(self, account: AccountId) -> str | None:
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            found = session.execute(
                sa.select(col(AccountLeaseRow.holder)).where(
                    col(AccountLeaseRow.account_id) == account_id
                )
            ).scalar_one_or_none()
            return None if found is None else str(found)

    def take_over(
        self, account: AccountId, previous: str, holder: str, until: datetime
    ) -> bool:
        holder = holder[:HOLDER_LENGTH]
        with self._session_factory() as session:
            account_id = account_row_id(session, account)
            moved = session.execute(
                sa.update(AccountLeaseRow)
                .where(
                    col(AccountLeaseRow.account_id) == account_id,
                    col(AccountLeaseRow.holder) == previous[:HOLDER_LENGTH],
                )
                .values(holder=holder, expires_at=until)
                .returning(col(AccountLeaseRow.account_id))
            )
            won = moved.first() is not None
            session.commit()
            return won
