"""Audit events: who did what to which subject, before → after, why, when.

Every business change records one or more :class:`AuditEvent` in the transaction
that makes the change (:func:`core.store.audit.record`); the sealer later chains
them (:mod:`core.audit.chain`). Who acts comes from the acting context
(:func:`acting`), bound by whatever starts the work: a command (``officer:ani``,
``cli:budi``), the daemon (``system:scheduler``), a webhook (``webhook:shopee``);
what a marketplace reported is recorded as ``marketplace:<name>`` by the code that
ingests it. An event never holds a secret: values are chosen field by field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The actor of scheduled work.
SCHEDULER = "system:scheduler"
#: The actor recorded when no context named one.
UNNAMED = "system:unnamed"

#: A JSON value as events hold it: no floats (money is integer rupiah, ids are
#: strings), so the canonical form is exact.
JsonValue = str | int | bool | None | list[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Acting:
    """Who acts now, and under which run and reason (see :func:`acting`)."""

    actor: str = UNNAMED
    run_id: int | None = None
    reason: str = ""


_ACTING: ContextVar[Acting] = ContextVar(
    "audit_acting",
    default=Acting(),  # noqa: B039 (frozen, so shared safely)
)


def current() -> Acting:
    """Who acts in this thread or task."""
    return _ACTING.get()


@contextmanager
def acting(
    actor: str | None = None, *, run_id: int | None = None, reason: str | None = None
) -> Iterator[Acting]:
    """Bind who acts (and the run or reason) to the events recorded inside; what
    is not given is kept from the enclosing context."""
    outer = _ACTING.get()
    inner = Acting(
        actor=outer.actor if actor is None else actor,
        run_id=outer.run_id if run_id is None else run_id,
        reason=outer.reason if reason is None else reason,
    )
    token = _ACTING.set(inner)
    try:
        yield inner
    finally:
        _ACTING.reset(token)


def bind_run(run_id: int) -> Token[Acting]:
    """From now on in this context, events belong to run ``run_id`` (a run's row
    is written after the context that started it was bound); :func:`restore` the
    token returned when the run ends."""
    outer = _ACTING.get()
    return _ACTING.set(Acting(outer.actor, run_id, outer.reason))


@contextmanager
def unbound() -> Iterator[None]:
    """Nobody named and no run inside (whatever was bound outside); anything bound
    inside is undone on the way out."""
    token = _ACTING.set(Acting())
    try:
        yield
    finally:
        _ACTING.reset(token)


def restore(token: Token[Acting]) -> None:
    """Undo :func:`bind_run` (and any binding after it) in this context."""
    _ACTING.reset(token)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One business change.

    ``action`` is dotted (``stock.moved``, ``order.status``, ``run.finished``);
    ``subject`` names what changed with its kind (``sku:KR-001``,
    ``order:shopee:2412…``, ``run:17``, ``account:shopee-main``,
    ``listing:shopee-main:KR-001``); ``account`` is the account key when the
    change belongs to one. ``actor``, ``run_id`` and ``reason`` default to the
    acting context's; ``at`` to the time the store records it.
    """

    action: str
    subject: str
    before: Mapping[str, JsonValue] | None = None
    after: Mapping[str, JsonValue] | None = None
    account: str | None = None
    actor: str | None = None
    run_id: int | None = None
    reason: str | None = None
    at: datetime | None = None
