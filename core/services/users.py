"""Console users: adding them, their role and scope, disabling, passwords, signing
in and out, and what a signed-in user may see.

Passwords are hashed with argon2 (``argon2-cffi``) and never stored, logged or put
in an event. A login that fails is answered the same way whether the user exists,
is disabled, is locked or gave a wrong password, and costs the same hash either way.
After :data:`LOCK_AFTER` failures in a row the user is locked for :data:`LOCK_FOR`;
a success clears the count. Every change to a user and every login (failed or not)
is an audit event whose actor is whoever acts (``console:<user>`` in the console,
the command's actor on the command line).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.audit.events import AuditEvent, JsonValue
from core.domain.users import (
    Role,
    Scope,
    SignedIn,
    User,
    Visible,
    check_password,
    check_username,
)
from core.errors import DomainError
from core.ports import Clock, UnitOfWork

#: Failed logins in a row after which the user is locked.
LOCK_AFTER = 5
#: How long a locked user stays locked.
LOCK_FOR = timedelta(minutes=15)
#: A session ends after this long without a request.
SESSION_IDLE = timedelta(hours=8)
#: The answer to every failed login, whatever the reason.
LOGIN_REFUSED = "user name or password is not right, or the user is locked or disabled"

_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so a miss costs a hash too.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

UnitOfWorkFactory = Callable[[], UnitOfWork]

#: The scope of an admin or auditor (they see everything).
NO_SCOPE = Scope()


def _subject(username: str) -> str:
    return f"user:{username}"


def _public(user: User) -> dict[str, JsonValue]:
    return {
        "role": user.role.value,
        "scope": dict(user.scope.as_json()),
        "display_name": user.display_name,
        "disabled": user.disabled,
        "language": user.language,
    }


def _check_role_scope(role: Role, scope: Scope) -> None:
    if role is Role.OFFICER and scope.empty:
        raise DomainError(
            "scope: an officer needs at least one province, institution or producer"
        )
    if role is not Role.OFFICER and not scope.empty:
        raise DomainError(f"scope: a {role.value} sees everything and takes no scope")


def add_user(
    units: UnitOfWorkFactory,
    clock: Clock,
    *,
    username: str,
    role: Role,
    password: str,
    scope: Scope = NO_SCOPE,
    display_name: str = "",
    language: str = "id",
) -> User:
    """Add a user.

    Raises:
        DomainError: a field is not valid (named) or the name is taken.
    """
    check_username(username)
    check_password(password)
    _check_role_scope(role, scope)
    user = User(username, role, display_name, scope, False, _language(language))
    with units() as uow:
        uow.users.add(user, _HASHER.hash(password), clock.now())
        uow.audit.record(
            AuditEvent("user.added", _subject(username), after=_public(user))
        )
        uow.commit()
    return user


def _language(value: str) -> str:
    if value not in ("id", "en"):
        raise DomainError(f"language {value!r}: expected 'id' or 'en'")
    return value


def _existing(uow: UnitOfWork, username: str) -> User:
    user = uow.users.get(username)
    if user is None:
        raise DomainError(f"user {username!r}: no such user")
    return user


def _change(
    units: UnitOfWorkFactory,
    clock: Clock,
    username: str,
    action: str,
    change: Callable[[User], User],
) -> User:
    with units() as uow:
        before = _existing(uow, username)
        after = change(before)
        _check_role_scope(after.role, after.scope)
        if after == before:
            return after
        uow.users.save(after, clock.now())
        ended = uow.users.close_sessions_of(username)
        uow.audit.record(
            AuditEvent(
                action,
                _subject(username),
                before=_public(before),
                after={**_public(after), "sessions_ended": ended},
            )
        )
        uow.commit()
    return after


def set_role(
    units: UnitOfWorkFactory,
    clock: Clock,
    username: str,
    role: Role,
    scope: Scope = NO_SCOPE,
) -> User:
    """Give a user a role (and an officer a scope); ends the user's sessions.

    Raises:
        DomainError: no such user, or the scope does not suit the role.
    """
    return _change(
        units,
        clock,
        username,
        "user.role_set",
        lambda u: replace(u, role=role, scope=scope),
    )


def set_disabled(
    units: UnitOfWorkFactory, clock: Clock, username: str, disabled: bool
) -> User:
    """Disable (ending every session) or enable a user.

    Raises:
        DomainError: no such user.
    """
    action = "user.disabled" if disabled else "user.enabled"
    return _change(
        units, clock, username, action, lambda u: replace(u, disabled=disabled)
    )


def set_language(
    units: UnitOfWorkFactory, clock: Clock, username: str, language: str
) -> User:
    """The language the console speaks to a user (``id`` or ``en``)."""
    chosen = _language(language)
    with units() as uow:
        user = replace(_existing(uow, username), language=chosen)
        uow.users.save(user, clock.now())
        uow.commit()
    return user


def reset_password(
    units: UnitOfWorkFactory, clock: Clock, username: str, password: str
) -> None:
    """Set a new password, clear the lock and end the user's sessions.

    Raises:
        DomainError: no such user, or the password is too short.
    """
    check_password(password)
    with units() as uow:
        _existing(uow, username)
        uow.users.set_password_hash(username, _HASHER.hash(password), clock.now())
        ended = uow.users.close_sessions_of(username)
        uow.audit.record(
            AuditEvent(
                "user.password_reset",
                _subject(username),
                after={"sessions_ended": ended},
            )
        )
        uow.commit()


@dataclass(frozen=True, slots=True)
class Session:
    """A new session: the token for the cookie (kept by the browser only) and the
    CSRF token for its forms."""

    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def token_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(
    units: UnitOfWorkFactory,
    clock: Clock,
    username: str,
    password: str,
    *,
    address: str = "",
) -> Session:
    """Check a user's password and open a session.

    Raises:
        DomainError: with :data:`LOGIN_REFUSED`, whatever went wrong.
    """
    now = clock.now()
    name = username.strip().lower()[:64]
    with units() as uow:
        found = uow.users.credentials(name)
        stored = found.password_hash if found is not None else _DUMMY_HASH
        matches = _verify(stored, password)
        locked = (
            found is not None
            and found.locked_until is not None
            and found.locked_until > now
        )
        if found is None or not matches or locked or found.user.disabled:
            why = (
                "unknown user"
                if found is None
                else "locked"
                if locked
                else "disabled"
                if found.user.disabled
                else "wrong password"
            )
            after: dict[str, JsonValue] = {"why": why, "address": address}
            if found is not None and not locked and not found.user.disabled:
                failures, lock = uow.users.note_failed_login(
                    name, lock_after=LOCK_AFTER, lock_until=now + LOCK_FOR
                )
                after["failures"] = failures
                if lock is not None and failures >= LOCK_AFTER:
                    after["locked_until"] = lock.isoformat()
            uow.audit.record(
                AuditEvent(
                    "user.login_failed",
                    _subject(name),
                    after=after,
                    actor=f"console:{name}",
                )
            )
            uow.commit()
            raise DomainError(LOGIN_REFUSED)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + SESSION_IDLE
        uow.users.note_login(name, failed_logins=0, locked_until=None)
        uow.users.open_session(
            found.user_id,
            token_hash=token_hash(token),
            csrf_token=csrf,
            at=now,
            expires_at=expires,
        )
        if _HASHER.check_needs_rehash(stored):
            uow.users.set_password_hash(name, _HASHER.hash(password), now)
        uow.audit.record(
            AuditEvent(
                "user.login",
                _subject(name),
                after={"address": address},
                actor=found.user.actor,
            )
        )
        uow.commit()
    return Session(token, csrf, found.user, expires)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def signed_in(units: UnitOfWorkFactory, clock: Clock, token: str) -> SignedIn | None:
    """The live session of a cookie's token, extended by :data:`SESSION_IDLE`."""
    now = clock.now()
    hashed = token_hash(token)
    with units() as uow:
        found = uow.users.signed_in(hashed, now)
        if found is None:
            return None
        # Extend at most once a minute: a page of requests writes once.
        if found.expires_at - now < SESSION_IDLE - timedelta(minutes=1):
            uow.users.touch_session(hashed, now, now + SESSION_IDLE)
            uow.commit()
    return found


def log_out(units: UnitOfWorkFactory, token: str, user: User) -> None:
    """End a session."""
    with units() as uow:
        uow.users.close_session(token_hash(token))
        uow.audit.record(
            AuditEvent("user.logout", _subject(user.username), actor=user.actor)
        )
        uow.commit()


def visible_to(uow: UnitOfWork, user: User) -> Visible:
    """What ``user`` may see: everything for an admin or auditor, else the ids of
    the producers the officer's scope admits (none when it admits none)."""
    if user.role is Role.OFFICER:
        found = uow.users.producers_in(user.scope)
        ids = frozenset(found)
        return Visible(
            user, ids, frozenset(found.values()), uow.users.account_ids_within(ids)
        )
    return Visible(user, None, None, None)
