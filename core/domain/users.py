"""People of the console: roles, the scope an officer works in, and what a signed-in
user may see and do.

Deny by default: an officer sees only producers their scope names (by province, by
institution such as a Lapas or a Dinas, or by producer code), the products of those
producers, and the accounts *all* of whose producers are in scope (an account shared
with a producer out of scope is not theirs to change). An auditor reads everything
and changes nothing; an admin does everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.errors import DomainError

#: A user name: lower-case letters, digits, dot, dash, underscore; 3 to 64 long.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
#: The shortest password accepted.
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    OFFICER = "officer"
    AUDITOR = "auditor"


class AccessDeniedError(DomainError):
    """The signed-in user may not do this (the console answers 403)."""


class NotVisibleError(DomainError):
    """The thing asked for does not exist or is outside the user's scope (the console
    answers 404 for both, so that a scope's edges cannot be probed)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """The producers an officer works for, named three ways; any match admits."""

    provinces: frozenset[str] = frozenset()
    institutions: frozenset[str] = frozenset()
    producers: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        """True when the scope names nothing (an officer with it sees nothing)."""
        return not (self.provinces or self.institutions or self.producers)

    def admits(self, *, code: str, province: str, institution: str | None) -> bool:
        """Whether a producer with these fields is in scope."""
        return (
            code in self.producers
            or province in self.provinces
            or (institution is not None and institution in self.institutions)
        )

    def as_json(self) -> dict[str, list[str]]:
        """The stored form (sorted lists)."""
        return {
            "provinces": sorted(self.provinces),
            "institutions": sorted(self.institutions),
            "producers": sorted(self.producers),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Scope:
        """Read the stored form; unknown keys are refused."""
        value = value or {}
        unknown = set(value) - {"provinces", "institutions", "producers"}
        if unknown:
            raise DomainError(f"scope: unknown key(s) {sorted(unknown)}")
        return cls(
            provinces=_names(value.get("provinces", ()), "provinces"),
            institutions=_names(value.get("institutions", ()), "institutions"),
            producers=_names(value.get("producers", ()), "producers"),
        )

    def describe(self) -> str:
        """One line for people: ``province: NTT; institution: Lapas …``."""
        parts = [
            f"{label}: {', '.join(sorted(names))}"
            for label, names in (
                ("province", self.provinces),
                ("institution", self.institutions),
                ("producer", self.producers),
            )
            if names
        ]
        return "; ".join(parts) or "nothing"


def _names(values: Iterable[Any], field_name: str) -> frozenset[str]:
    names: set[str] = set()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise DomainError(f"scope.{field_name}: expected non-empty names")
        names.add(value.strip())
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class User:
    """A console user as stored (without the password hash)."""

    username: str
    role: Role
    display_name: str = ""
    scope: Scope = field(default_factory=Scope)
    disabled: bool = False
    language: str = "id"

    @property
    def actor(self) -> str:
        """How the audit trail names this user."""
        return f"console:{self.username}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login checks: the stored hash and the throttle's state."""

    user: User
    user_id: int
    password_hash: str
    failed_logins: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session: its user and CSRF token."""

    user: User
    user_id: int
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Visible:
    """What a signed-in user may see, resolved against the store:
    ``producer_ids`` and ``producer_codes`` are ``None`` for everything (admin,
    auditor), else the producers in scope."""

    user: User
    producer_ids: frozenset[int] | None
    producer_codes: frozenset[str] | None = frozenset()
    #: Row ids of the accounts all of whose producers are in scope (``None``:
    #: every account).
    account_ids: frozenset[int] | None = frozenset()

    @property
    def everything(self) -> bool:
        """True for a user who sees every producer."""
        return self.producer_ids is None

    @property
    def may_change(self) -> bool:
        """Admins and officers change things; auditors only read."""
        return self.user.role in (Role.ADMIN, Role.OFFICER)

    @property
    def reads_audit(self) -> bool:
        """Auditors and admins read the audit views."""
        return self.user.role in (Role.ADMIN, Role.AUDITOR)

    def require_change(self) -> None:
        """Refuse a read-only user.

        Raises:
            AccessDeniedError: the user is an auditor.
        """
        if not self.may_change:
            raise AccessDeniedError(
                f"{self.user.username} ({self.user.role.value}) may not change anything"
            )

    def require_audit(self) -> None:
        """Refuse a user who may not read the audit views.

        Raises:
            AccessDeniedError: the user is an officer.
        """
        if not self.reads_audit:
            raise AccessDeniedError(
                f"{self.user.username} ({self.user.role.value}) may not read the audit"
            )

    def require_admin(self) -> None:
        """Refuse anyone but an admin.

        Raises:
            AccessDeniedError: the user is not an admin.
        """
        if self.user.role is not Role.ADMIN:
            raise AccessDeniedError(f"{self.user.username} is not an admin")

    def sees_producer(self, producer_id: int) -> bool:
        """Whether the producer with this id is in scope."""
        return self.producer_ids is None or producer_id in self.producer_ids

    def sees_producer_code(self, code: str) -> bool:
        """Whether the producer with this code is in scope."""
        return self.producer_codes is None or code in self.producer_codes

    def sees_account(self, producer_codes: Iterable[str]) -> bool:
        """Whether an account owned by these producers is in scope: all of them
        must be (and an account of nobody is an admin's or auditor's only)."""
        if self.producer_codes is None:
            return True
        codes = set(producer_codes)
        return bool(codes) and codes <= self.producer_codes


def check_username(name: str) -> str:
    """``name`` when it is a valid user name.

    Raises:
        DomainError: it is not.
    """
    if not USERNAME_PATTERN.match(name):
        raise DomainError(
            f"user name {name!r}: expected 3 to 64 lower-case letters, digits, "
            "'.', '-' "
            "or '_', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    """``password`` when it is long enough.

    Raises:
        DomainError: it is too short (the message never contains it).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"password: expected at least {MIN_PASSWORD_LENGTH} characters"
        )
    return password
