"""Console users and their sessions in the database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session, col

from core.domain.users import Credentials, Role, Scope, SignedIn, User
from core.errors import DomainError
from core.store.tables import (
    ChannelAccountProducerRow,
    ConsoleSessionRow,
    ProducerRow,
    UserRow,
)


def _to_domain(row: UserRow) -> User:
    return User(
        username=row.username,
        role=Role(row.role),
        display_name=row.display_name,
        scope=Scope.from_json(row.scope),
        disabled=row.disabled,
        language=row.language,
    )


class SqlUserRepository:
    """``core.ports.UserRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # ------------------------------------------------------------------ users

    def get(self, username: str) -> User | None:
        row = self._row(username)
        return None if row is None else _to_domain(row)

    def get_all(self) -> list[User]:
        rows = self._session.execute(
            select(UserRow).order_by(col(UserRow.username))
        ).scalars()
        return [_to_domain(row) for row in rows]

    def count(self) -> int:
        return int(
            self._session.execute(
                select(func.count()).select_from(UserRow)
            ).scalar_one()
        )

    def credentials(self, username: str) -> Credentials | None:
        row = self._row(username)
        if row is None or row.id is None:
            return None
        return Credentials(
            _to_domain(row),
            row.id,
            row.password_hash,
            row.failed_logins,
            row.locked_until,
        )

    def add(self, user: User, password_hash: str, at: datetime) -> None:
        if self._row(user.username) is not None:
            raise DomainError(f"user {user.username!r} already exists")
        self._session.add(
            UserRow(
                username=user.username,
                display_name=user.display_name,
                role=user.role.value,
                scope=user.scope.as_json(),
                language=user.language,
                password_hash=password_hash,
                disabled=user.disabled,
                created_at=at,
                updated_at=at,
            )
        )
        self._session.flush()

    def save(self, user: User, at: datetime) -> None:
        """Overwrite role, scope, name, language and disabled of an existing user."""
        self._require(user.username)
        self._session.execute(
            update(UserRow)
            .where(col(UserRow.username) == user.username)
            .values(
                display_name=user.display_name,
                role=user.role.value,
                scope=user.scope.as_json(),
                language=user.language,
                disabled=user.disabled,
                updated_at=at,
            )
        )

    def set_password_hash(
        self, username: str, password_hash: str, at: datetime
    ) -> None:
        self._require(username)
        self._session.execute(
            update(UserRow)
            .where(col(UserRow.username) == username)
            .values(
                password_hash=password_hash,
                failed_logins=0,
                locked_until=None,
                updated_at=at,
            )
        )

    def note_login(
        self, username: str, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        """Store the throttle's state after a login attempt."""
        self._session.execute(
            update(UserRow)
            .where(col(UserRow.username) == username)
            .values(failed_logins=failed_logins, locked_until=locked_until)
        )

    def note_failed_login(
        self, username: str, *, lock_after: int, lock_until: datetime
    ) -> tuple[int, datetime | None]:
        failures = col(UserRow.failed_logins) + 1
        found = self._session.execute(
            update(UserRow)
            .where(col(UserRow.username) == username)
            .values(
                failed_logins=failures,
                locked_until=sa.case(
                    (failures >= lock_after, lock_until),
                    else_=col(UserRow.locked_until),
                ),
            )
            .returning(col(UserRow.failed_logins), col(UserRow.locked_until))
        ).one()
        return int(found[0]), found[1]

    def _row(self, username: str) -> UserRow | None:
        return self._session.execute(
            select(UserRow).where(col(UserRow.username) == username)
        ).scalar_one_or_none()

    def _require(self, username: str) -> UserRow:
        row = self._row(username)
        if row is None:
            raise DomainError(f"user {username!r}: no such user")
        return row

    # ------------------------------------------------------------------ scope

    def producers_in(self, scope: Scope) -> dict[int, str]:
        """Code by id of the producers ``scope`` admits (none for an empty scope)."""
        if scope.empty:
            return {}
        clauses = []
        if scope.provinces:
            clauses.append(col(ProducerRow.province).in_(sorted(scope.provinces)))
        if scope.institutions:
            clauses.append(col(ProducerRow.institution).in_(sorted(scope.institutions)))
        if scope.producers:
            clauses.append(col(ProducerRow.code).in_(sorted(scope.producers)))
        rows = self._session.execute(
            select(col(ProducerRow.id), col(ProducerRow.code)).where(or_(*clauses))
        )
        return {int(id_): str(code) for id_, code in rows}

    def account_ids_within(
        self, producer_ids: frozenset[int] | None
    ) -> frozenset[int] | None:
        """Row ids of the accounts every one of whose producers is in
        ``producer_ids`` (``None``: every account)."""
        if producer_ids is None:
            return None
        if not producer_ids:
            return frozenset()
        link = ChannelAccountProducerRow
        outside = sa.case((col(link.producer_id).in_(sorted(producer_ids)), 0), else_=1)
        rows = self._session.execute(
            select(col(link.account_id))
            .group_by(col(link.account_id))
            .having(func.sum(outside) == 0)
        )
        return frozenset(int(i) for (i,) in rows)

    # ------------------------------------------------------------------ sessions

    def open_session(
        self,
        user_id: int,
        *,
        token_hash: str,
        csrf_token: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        self._session.add(
            ConsoleSessionRow(
                token_hash=token_hash,
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=at,
                last_seen_at=at,
                expires_at=expires_at,
            )
        )

    def signed_in(self, token_hash: str, at: datetime) -> SignedIn | None:
        """The session with this token hash when it is live and its user enabled."""
        found = self._session.execute(
            select(ConsoleSessionRow, UserRow)
            .join(UserRow, col(UserRow.id) == col(ConsoleSessionRow.user_id))
            .where(col(ConsoleSessionRow.token_hash) == token_hash)
        ).first()
        if found is None:
            return None
        session_row, user_row = found
        if session_row.expires_at <= at or user_row.disabled or user_row.id is None:
            return None
        return SignedIn(
            _to_domain(user_row),
            user_row.id,
            session_row.csrf_token,
            session_row.expires_at,
        )

    def touch_session(
        self, token_hash: str, at: datetime, expires_at: datetime
    ) -> None:
        self._session.execute(
            update(ConsoleSessionRow)
            .where(col(ConsoleSessionRow.token_hash) == token_hash)
            .values(last_seen_at=at, expires_at=expires_at)
        )

    def close_session(self, token_hash: str) -> None:
        self._session.execute(
            delete(ConsoleSessionRow).where(
                col(ConsoleSessionRow.token_hash) == token_hash
            )
        )

    def close_sessions_of(self, username: str) -> int:
        """End every session of a user (disabled, role changed, password reset)."""
        user_id = select(col(UserRow.id)).where(col(UserRow.username) == username)
        result = self._session.execute(
            delete(ConsoleSessionRow).where(
                col(ConsoleSessionRow.user_id).in_(user_id.scalar_subquery())
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def close_expired_sessions(self, at: datetime) -> int:
        result = self._session.execute(
            delete(ConsoleSessionRow).where(col(ConsoleSessionRow.expires_at) <= at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
