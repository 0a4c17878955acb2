"""What the auditor asks of the trail: periods, event filters, and events as stored.

A period is half open, ``[since, until)``, in UTC. Times are read as
``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` (a space may stand for ``T``),
UTC unless an offset (``Z``, ``+07:00``) is written; a bare date given as the end
of a period covers that whole day, so ``--since 2026-12-01 --until 2026-12-31``
holds all of December.

Filters (``audit log``):

- ``subject``: exact (``sku:KOPI-FLR-001``), or a prefix when it ends with ``*``
  (``sku:KOPI*`` is every subject that starts with ``sku:KOPI``); the SKU of a
  ``sku:`` subject is compared as events hold it, by its key (``sku:kopi-flr-001``
  finds ``sku:KOPI-FLR-001``);
- ``kind``: an action (``stock.moved``) or a kind of action (``stock``: the
  actions ``stock`` and ``stock.<anything>``);
- ``actor``, ``account``: exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.domain.ids import sku_key

#: The forms a time may take, as error messages name them.
TIME_FORMATS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC unless an offset is given)"
#: The mark that makes a subject filter a prefix.
PREFIX_MARK = "*"


def parse_instant(text: str, *, end: bool = False) -> datetime:
    """The UTC instant ``text`` names (see the module); with ``end``, a bare date
    is the start of the next day (the end of a period that holds that day).

    Raises:
        ValueError: ``text`` is not one of :data:`TIME_FORMATS`, naming them.
    """
    value = text.strip()
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date; expected {TIME_FORMATS}"
            ) from None
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        instant = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or time; expected {TIME_FORMATS}"
        ) from None
    if len(value) < 16:  # "2026-12-07T10" and the like: not one of our forms
        raise ValueError(f"{text!r} is not a date or time; expected {TIME_FORMATS}")
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def stored_subject(text: str) -> str:
    """``text`` as events hold it: a ``sku:`` subject's SKU by its key."""
    kind, colon, rest = text.partition(":")
    if kind == "sku" and colon:
        return f"sku:{sku_key(rest)}"
    return text


@dataclass(frozen=True, slots=True)
class Period:
    """``[since, until)`` in UTC; either end open when None."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"a period's {name} must be a UTC instant")
        if (
            self.since is not None
            and self.until is not None
            and self.since >= self.until
        ):
            raise ValueError(
                f"the period is empty: --since {self.since.isoformat()} is not "
                f"before --until {self.until.isoformat()}"
            )

    def holds(self, at: datetime) -> bool:
        """True when ``at`` lies in the period."""
        return (self.since is None or at >= self.since) and (
            self.until is None or at < self.until
        )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events ``audit log`` selects (see the module); None selects all."""

    period: Period = Period()
    actor: str | None = None
    subject: str | None = None
    account: str | None = None
    kind: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.subject is not None:
            body = self.subject.removesuffix(PREFIX_MARK)
            if not body or PREFIX_MARK in body:
                raise ValueError(
                    f"--subject {self.subject!r}: expected a subject "
                    "(sku:KOPI-FLR-001) or a prefix ending in one * (sku:KOPI*)"
                )
        if self.kind is not None and (
            not self.kind or self.kind.startswith(".") or self.kind.endswith(".")
        ):
            raise ValueError(
                f"--kind {self.kind!r}: expected an action (stock.moved) or a "
                "kind of action (stock)"
            )
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit {self.limit}: expected a positive number")

    @property
    def subject_prefix(self) -> str | None:
        """The prefix a ``*``-ended subject filter names, else None."""
        if self.subject is not None and self.subject.endswith(PREFIX_MARK):
            return self.subject[: -len(PREFIX_MARK)]
        return None

    def selects(self, event: StoredEvent) -> bool:
        """True when ``event`` passes the filter (the store's queries do the same)."""
        prefix = self.subject_prefix
        if prefix is not None:
            subject_ok = event.subject.startswith(prefix)
        else:
            subject_ok = self.subject is None or event.subject == self.subject
        return (
            self.period.holds(event.at)
            and subject_ok
            and (self.actor is None or event.actor == self.actor)
            and (self.account is None or event.account == self.account)
            and (
                self.kind is None
                or event.action == self.kind
                or event.action.startswith(self.kind + ".")
            )
        )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An audit event as the store holds it: ``seq`` None while unsealed;
    ``before`` and ``after`` the canonical JSON text, byte for byte."""

    id: int
    seq: int | None
    at: datetime
    actor: str
    action: str
    subject: str
    account: str | None
    run_id: int | None
    reason: str
    before: str | None
    after: str | None
