"""Accounts' marketplace tokens in the database, refreshed one holder at a time.

:meth:`SqlTokenStore.refreshing` locks the account's token row (``SELECT … FOR UPDATE``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` queues every writer) until the new tokens
are committed, so a single-use refresh token is spent once and the new pair is stored
before anyone uses it — across threads, processes and machines. Every save is an
audit event in its own transaction (``account.authorised``, or
``account.reauthorisation_needed`` when it marks the account): the version, the
expiry times and the mark, never a token. Tokens are stored
encrypted (:class:`~core.store.crypto.TokenCipher`); a write the database refuses
raises :class:`~core.errors.StoreError` naming the account, never the values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.audit import actions
from core.audit.canonical import timestamp
from core.audit.events import AuditEvent, JsonValue
from core.domain.ids import AccountId
from core.domain.remote import Secret
from core.errors import StoreError
from core.ports import Clock, TokenSet
from core.store._sql import insert_ignoring_conflicts
from core.store.audit import record
from core.store.crypto import TokenCipher
from core.store.db import READ_ONLY, first_line
from core.store.tables import AccountTokenRow, ChannelAccountRow, table_of


def _token_set(
    cipher: TokenCipher, account: AccountId, row: AccountTokenRow
) -> TokenSet:
    return TokenSet(
        access_token=_reveal(cipher, account, "access", row.access_token),
        refresh_token=_reveal(cipher, account, "refresh", row.refresh_token),
        access_expires_at=row.access_expires_at,
        refresh_expires_at=row.refresh_expires_at,
        version=row.version,
        needs_reauthorisation=row.needs_reauthorisation,
        reason=row.reason,
        authorisation_expires_at=row.authorisation_expires_at,
    )


def _reveal(
    cipher: TokenCipher, account: AccountId, kind: str, stored: str | None
) -> Secret | None:
    if stored is None:
        return None
    return Secret(
        cipher.decrypt(stored, what=f"the {kind} token of account {account!r}")
    )


def _conceal(cipher: TokenCipher, secret: Secret | None) -> str | None:
    return None if secret is None else cipher.encrypt(secret.reveal())


def _state(row: AccountTokenRow) -> dict[str, JsonValue]:
    """What an event tells of a token row: its version, expiry times and mark
    (never a token)."""
    return {
        "version": row.version,
        "access_expires_at": _when(row.access_expires_at),
        "refresh_expires_at": _when(row.refresh_expires_at),
        "needs_reauthorisation": row.needs_reauthorisation,
    }


def _when(at: datetime | None) -> str | None:
    return None if at is None else timestamp(at)


def _saved_event(
    account: AccountId,
    before: dict[str, JsonValue],
    after: dict[str, JsonValue],
    reason: str,
) -> AuditEvent:
    """``account.reauthorisation_needed`` when the save marks the account (the
    mark's ``reason`` the event's), else ``account.authorised`` (an authorisation, a
    refresh, a mark cleared)."""
    subject = actions.account(account)
    if after["needs_reauthorisation"] and not before["needs_reauthorisation"]:
        return AuditEvent(
            actions.ACCOUNT_REAUTHORISATION,
            subject,
            before=before,
            after=after,
            account=account,
            reason=reason,
        )
    return AuditEvent(
        actions.ACCOUNT_AUTHORISED, subject, before=before, after=after, account=account
    )


def _expiry_event(
    account: AccountId, known: datetime | None, read: datetime
) -> AuditEvent:
    """``account.authorisation_expiry``: the authorisation's end as read, when it
    differs from the one known."""
    return AuditEvent(
        actions.ACCOUNT_AUTHORISATION_EXPIRY,
        actions.account(account),
        before={"authorisation_expires_at": _when(known)},
        after={"authorisation_expires_at": _when(read)},
        account=account,
    )


class _HeldTokens:
    """One account's token row, locked until :meth:`save` commits (or the hold ends)."""

    def __init__(
        self,
        session: Session,
        row: AccountTokenRow,
        clock: Clock,
        cipher: TokenCipher,
        account: AccountId,
    ) -> None:
        self._session, self._row, self._clock = session, row, clock
        self._cipher, self._account = cipher, account
        self._saved = False

    @property
    def current(self) -> TokenSet:
        return _token_set(self._cipher, self._account, self._row)

    def save(self, tokens: TokenSet) -> TokenSet:
        if self._saved:
            raise StoreError("tokens were saved already in this hold")
        row = self._row
        before = _state(row)
        row.access_token = _conceal(self._cipher, tokens.access_token)
        row.refresh_token = _conceal(self._cipher, tokens.refresh_token)
        row.access_expires_at = tokens.access_expires_at
        row.refresh_expires_at = tokens.refresh_expires_at
        row.needs_reauthorisation = tokens.needs_reauthorisation
        row.reason = tokens.reason
        row.version += 1
        row.updated_at = self._clock.now()
        self._session.add(row)
        record(
            self._session, _saved_event(self._account, before, _state(row), row.reason)
        )
        try:
            self._session.commit()  # durable before anyone uses the new tokens
        except SQLAlchemyError as exc:
            self._session.rollback()
            # The driver's first line only: the statement and its values stay out.
            raise StoreError(
                f"cannot save the tokens of account {self._account!r}: "
                f"{first_line(exc)}"
            ) from None
        self._saved = True
        return self.current


_LOAD = (
    select(
        col(ChannelAccountRow.id),
        col(AccountTokenRow.access_token),
        col(AccountTokenRow.refresh_token),
        col(AccountTokenRow.access_expires_at),
        col(AccountTokenRow.refresh_expires_at),
        col(AccountTokenRow.version),
        col(AccountTokenRow.needs_reauthorisation),
        col(AccountTokenRow.reason),
        col(AccountTokenRow.authorisation_expires_at),
    )
    .outerjoin(
        AccountTokenRow,
        col(AccountTokenRow.account_id) == col(ChannelAccountRow.id),
    )
    .where(col(ChannelAccountRow.account_key) == sa.bindparam("account"))
)


class SqlTokenStore:
    """``core.ports.TokenStore`` on the canonical store's database."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        cipher: TokenCipher,
    ) -> None:
        self._session_factory, self._clock = session_factory, clock
        self._cipher = cipher

    def _account_row_id(self, session: Session, account: AccountId) -> int:
        found = session.execute(
            select(col(ChannelAccountRow.id)).where(
                col(ChannelAccountRow.account_key) == account
            )
        ).scalar_one_or_none()
        if found is None:
            raise StoreError(
                f"account {account!r} is not in the store; "
                "run `ikm-sync accounts apply`"
            )
        return int(found)

    def load(self, account: AccountId) -> TokenSet:
        # Connectors read the tokens before every request: one query for the account
        # and its token row together, in a read-only transaction (on SQLite it does
        # not queue behind writers for the write lock).
        bind = self._session_factory.kw.get("bind")
        if isinstance(bind, Engine):  # no session needed for one read
            with bind.connect() as connection:
                connection.execution_options(**{READ_ONLY: True})
                row = connection.execute(_LOAD, {"account": account}).first()
        else:
            with self._session_factory() as session:
                connection = session.connection(execution_options={READ_ONLY: True})
                row = connection.execute(_LOAD, {"account": account}).first()
        if row is None:
            raise StoreError(
                f"account {account!r} is not in the store; "
                "run `ikm-sync accounts apply`"
            )
        if row.version is None:  # no token row yet
            return TokenSet()
        return TokenSet(
            access_token=_reveal(self._cipher, account, "access", row.access_token),
            refresh_token=_reveal(self._cipher, account, "refresh", row.refresh_token),
            access_expires_at=row.access_expires_at,
            refresh_expires_at=row.refresh_expires_at,
            version=int(row.version),
            needs_reauthorisation=bool(row.needs_reauthorisation),
            reason=row.reason,
            authorisation_expires_at=row.authorisation_expires_at,
        )

    def record_authorisation_expiry(
        self, account: AccountId, expires_at: datetime
    ) -> None:
        """Remember when ``account``'s authorisation ends (see
        ``core.ports.TokenStore``): one column, the tokens and version untouched,
        so a refresh held meanwhile loses nothing. A time that differs from the one
        known is recorded as an ``account.authorisation_expiry`` audit event.

        Raises:
            StoreError: the account is not in the store, or the write is refused.
        """
        with self._session_factory() as session:
            try:
                account_id = self._account_row_id(session, account)
                self._ensure_row(session, account_id)
                known = session.execute(
                    select(col(AccountTokenRow.authorisation_expires_at)).where(
                        col(AccountTokenRow.account_id) == account_id
                    )
                ).scalar_one()
                session.execute(
                    sa.update(AccountTokenRow)
                    .where(col(AccountTokenRow.account_id) == account_id)
                    .values(authorisation_expires_at=expires_at)
                )
                if known != expires_at:
                    record(session, _expiry_event(account, known, expires_at))
                session.commit()
            except SQLAlchemyError as exc:
                session.rollback()
                raise StoreError(
                    f"cannot record the authorisation end of account {account!r}: "
                    f"{first_line(exc)}"
                ) from None

    def _ensure_row(self, session: Session, account_id: int) -> None:
        """Create the account's token row, empty, unless it exists."""
        now: datetime = self._clock.now()
        empty = {
            "account_id": account_id,
            "version": 0,
            "needs_reauthorisation": False,
            "reason": "",
            "updated_at": now,
        }
        tokens = table_of(AccountTokenRow)
        session.execute(
            insert_ignoring_conflicts(session, tokens, ["account_id"]), [empty]
        )

    def _hold(self, session: Session, account: AccountId) -> AccountTokenRow:
        """The account's token row, created empty if missing, locked for the hold."""
        account_id = self._account_row_id(session, account)
        self._ensure_row(session, account_id)
        row: AccountTokenRow = session.execute(
            select(AccountTokenRow)
            .where(col(AccountTokenRow.account_id) == account_id)
            .with_for_update()
        ).scalar_one()
        return row

    @contextmanager
    def refreshing(self, account: AccountId) -> Iterator[_HeldTokens]:
        """Hold the account's tokens (see ``core.ports.TokenStore``).

        Raises:
            StoreError: the hold cannot be taken (the database is unreachable or
                refuses it), naming the account, never a statement's values.
        """
        session = self._session_factory()
        try:
            try:
                row = self._hold(session, account)
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"cannot hold the tokens of account {account!r}: {first_line(exc)}"
                ) from None
            yield _HeldTokens(session, row, self._clock, self._cipher, account)
        finally:
            # Releases the hold when nothing was saved; a connection already lost
            # has nothing to release and must not hide what happened in the hold.
            with suppress(SQLAlchemyError):
                session.rollback()
            session.close()

    def reencrypt(self) -> int:
        """Encrypt every stored token again with the cipher's first key (after a new
        key was put first), each account's an ``account.tokens_reencrypted`` audit
        event; returns how many accounts' tokens were rewritten."""
        with self._session_factory() as session:
            rows = (
                session.execute(select(AccountTokenRow).with_for_update())
                .scalars()
                .all()
            )
            accounts = select(
                col(ChannelAccountRow.id), col(ChannelAccountRow.account_key)
            )
            names = {int(r.id): str(r.account_key) for r in session.execute(accounts)}
            count = 0
            for row in rows:
                what = f"account {names.get(row.account_id, row.account_id)!r}"
                if row.access_token is None and row.refresh_token is None:
                    continue
                if row.access_token is not None:
                    row.access_token = self._cipher.rotate(
                        row.access_token, what=f"the access token of {what}"
                    )
                if row.refresh_token is not None:
                    row.refresh_token = self._cipher.rotate(
                        row.refresh_token, what=f"the refresh token of {what}"
                    )
                session.add(row)
                record(
                    session,
                    AuditEvent(
                        actions.ACCOUNT_TOKENS_REENCRYPTED,
                        actions.account(names.get(row.account_id, str(row.account_id))),
                        after={"version": row.version},
                        account=names.get(row.account_id),
                    ),
                )
                count += 1
            session.commit()
        return count
