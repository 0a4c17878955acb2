"""``audit trace``: why a SKU's stock is what it is (DESIGN §6).

The figure (on hand, reserved, available) at a time is the sum of the SKU's
movements recorded by then, so the trace lists every movement from zero, in
ledger order, each with its running figure and its cause: the reason, the order
and marketplace (from the movement's reference and key), the run (from the
``stock.moved`` event whose ``after.key`` is the movement's idempotency key), the
actor, and the note (an import's row, an adjustment's reason). A movement no
event describes is a finding the trace names. Two queries whatever the number of
movements: the movements, then the SKU's ``stock.moved`` events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.audit import actions
from core.audit.query import StoredEvent
from core.domain.stock import Movement, StockLevel
from core.errors import UnknownSkuError
from core.ports import AuditReader
from core.services.audit_read import UNSEALED

#: ``<marketplace> order <id>``, the reference of an order's movements.
_ORDER_REFERENCE = re.compile(r"^(?P<marketplace>\S+) order (?P<order>.+)$")


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One movement, the figure after it and its cause.

    ``order``/``marketplace``/``account`` are set for an order's movements;
    ``event`` is the ``stock.moved`` event recording the movement, None when no
    event does (a finding); ``run_id`` comes from that event.
    """

    movement: Movement
    level: StockLevel
    event: StoredEvent | None
    order: str | None = None
    marketplace: str | None = None
    account: str | None = None

    @property
    def run_id(self) -> int | None:
        """The run the movement was made in, per its event."""
        return None if self.event is None else self.event.run_id

    @property
    def cause(self) -> str:
        """The cause in words: what moved the stock and why."""
        movement = self.movement
        text = movement.reason.value
        if self.order is not None:
            text += f": {self.marketplace or 'marketplace'} order {self.order}"
        if movement.note:
            text += f" ({movement.note})"
        if movement.reference and self.order is None:
            text += f" [{movement.reference}]"
        return text


@dataclass(frozen=True, slots=True)
class StockTrace:
    """A SKU's figure at ``at`` (None: now) and the movements that made it."""

    sku: str
    name: str
    at: datetime | None
    level: StockLevel
    steps: tuple[TraceStep, ...]
    #: ``stock.moved`` events of the SKU whose key no movement has (only looked
    #: for when tracing to now: an event may be written after its movement's time).
    orphan_events: tuple[StoredEvent, ...] = ()

    @property
    def unrecorded(self) -> tuple[TraceStep, ...]:
        """The movements no audit event records (findings)."""
        return tuple(step for step in self.steps if step.event is None)


def _order_of(movement: Movement) -> tuple[str | None, str | None, str | None]:
    """(order id, marketplace, account) of an order's movement, else Nones; its
    key is ``order:<account>:<id>:<line>:<step>``, its reference
    ``<marketplace> order <id>``."""
    parts = movement.idempotency_key.split(":")
    if parts[0] != "order" or len(parts) < 5:
        return None, None, None
    found = _ORDER_REFERENCE.match(movement.reference)
    if found is None:
        return ":".join(parts[2:-2]), None, parts[1]
    return found["order"], found["marketplace"], parts[1]


def event_key(event: StoredEvent) -> str | None:
    """The movement key a ``stock.moved`` event names (``after.key``)."""
    if event.after is None:
        return None
    try:
        after = json.loads(event.after)
    except ValueError:
        return None
    key = after.get("key") if isinstance(after, dict) else None
    return key if isinstance(key, str) else None


def trace_stock(
    reader: AuditReader, sku: str, at: datetime | None = None
) -> StockTrace:
    """The figure of ``sku`` at ``at`` (now when None) and every movement from
    zero that made it, each with its cause.

    Raises:
        UnknownSkuError: no product has the SKU.
    """
    trail = reader.stock_trail(sku, at)
    if trail is None:
        raise UnknownSkuError(sku)
    events: dict[str, StoredEvent] = {}
    for event in reader.events_of(actions.sku(trail.sku), actions.STOCK_MOVED):
        key = event_key(event)
        if key is not None:
            events.setdefault(key, event)
    on_hand = reserved = 0
    steps: list[TraceStep] = []
    for movement in trail.movements:
        on_hand += movement.on_hand_delta
        reserved += movement.reserved_delta
        order, marketplace, account = _order_of(movement)
        steps.append(
            TraceStep(
                movement=movement,
                level=StockLevel(trail.sku, on_hand, reserved),
                event=events.get(movement.idempotency_key),
                order=order,
                marketplace=marketplace,
                account=account,
            )
        )
    orphans: tuple[StoredEvent, ...] = ()
    if at is None:
        moved = {m.idempotency_key for m in trail.movements}
        orphans = tuple(e for k, e in events.items() if k not in moved)
    return StockTrace(
        sku=trail.sku,
        name=trail.name,
        at=at,
        level=StockLevel(trail.sku, on_hand, reserved),
        steps=tuple(steps),
        orphan_events=orphans,
    )


def _step_record(step: TraceStep) -> dict[str, Any]:
    movement, level, event = step.movement, step.level, step.event
    return {
        "movement": movement.id,
        "at": movement.at.isoformat(),
        "reason": movement.reason.value,
        "on_hand_delta": movement.on_hand_delta,
        "reserved_delta": movement.reserved_delta,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "cause": step.cause,
        "order": step.order,
        "marketplace": step.marketplace,
        "account": step.account,
        "run": step.run_id,
        "actor": movement.actor,
        "note": movement.note,
        "reference": movement.reference,
        "key": movement.idempotency_key,
        "event": None
        if event is None
        else {
            "seq": UNSEALED if event.seq is None else event.seq,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "reason": event.reason,
        },
    }


def trace_record(trace: StockTrace) -> dict[str, Any]:
    """``trace`` as a JSON object (``audit trace --json`` and the console's)."""
    return {
        "sku": trace.sku,
        "name": trace.name,
        "at": None if trace.at is None else trace.at.isoformat(),
        "on_hand": trace.level.on_hand,
        "reserved": trace.level.reserved,
        "available": trace.level.available,
        "movements": [_step_record(step) for step in trace.steps],
        "findings": trace_findings(trace),
    }


def trace_findings(trace: StockTrace) -> list[str]:
    """The trace's findings in words: movements no event records, events whose
    movement is missing."""
    found = [
        f"movement {step.movement.id} ({step.movement.idempotency_key}): no audit "
        "event records it"
        for step in trace.unrecorded
    ]
    found += [
        f"event {e.id} (stock.moved, key {event_key(e)!r}): no movement has its key"
        for e in trace.orphan_events
    ]
    return found
