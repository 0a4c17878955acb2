"""The append-only stock ledger: movements, and the levels derived from them.

Each movement states what it does to two balances. ``on_hand`` is what the workshop
physically holds; ``reserved`` is what paid orders have claimed but not yet shipped;
``available = on_hand - reserved`` is what may still be sold. Levels are never typed in:
they are sums over movements, so every figure traces back to the movements that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.ids import Sku, sku_key

DEFAULT_LOCATION = "main"
#: Largest change one movement may make to a balance.
MAX_MOVEMENT_QUANTITY = 1_000_000
_TEXT_LIMITS = {
    "idempotency_key": 255,
    "actor": 128,
    "reference": 255,
    "location": 32,
    "note": 2000,
}


class MovementReason(StrEnum):
    """Why stock moved; each reason fixes which balances a movement may change."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    ORDER_RESERVED = "order_reserved"
    ORDER_RELEASED = "order_released"
    ORDER_SHIPPED = "order_shipped"
    RETURN = "return"


def _check_shape(reason: MovementReason, on_hand: int, reserved: int) -> None:
    match reason:
        case MovementReason.RECEIPT | MovementReason.RETURN:
            ok = on_hand > 0 and reserved == 0
            rule = "a positive on-hand change and no reservation change"
        case MovementReason.ADJUSTMENT:
            ok = on_hand != 0 and reserved == 0
            rule = "a non-zero on-hand change and no reservation change"
        case MovementReason.ORDER_RESERVED:
            ok = on_hand == 0 and reserved > 0
            rule = "a positive reservation and no on-hand change"
        case MovementReason.ORDER_RELEASED:
            ok = on_hand == 0 and reserved < 0
            rule = "a negative reservation change and no on-hand change"
        case MovementReason.ORDER_SHIPPED:
            ok = on_hand < 0 and reserved == on_hand
            rule = "equal negative on-hand and reservation changes"
    if not ok:
        raise ValueError(f"a {reason.value} movement needs {rule}")


@dataclass(frozen=True, slots=True)
class NewMovement:
    """A movement about to be recorded. ``idempotency_key`` makes it happen once."""

    sku: Sku
    reason: MovementReason
    on_hand_delta: int
    reserved_delta: int
    idempotency_key: str
    actor: str
    reference: str = ""
    note: str = ""
    location: str = DEFAULT_LOCATION

    def __post_init__(self) -> None:
        _check_shape(self.reason, self.on_hand_delta, self.reserved_delta)
        for quantity in (self.on_hand_delta, self.reserved_delta):
            if abs(quantity) > MAX_MOVEMENT_QUANTITY:
                raise ValueError(
                    f"a movement changes stock by at most {MAX_MOVEMENT_QUANTITY:,} "
                    f"units, got {quantity:,}"
                )
        if not self.idempotency_key.strip():
            raise ValueError("a movement needs a non-empty idempotency key")
        if not self.actor.strip():
            raise ValueError("a movement needs an actor")
        if not self.location.strip():
            raise ValueError("a movement needs a location")
        for name, limit in _TEXT_LIMITS.items():
            if len(getattr(self, name)) > limit:
                raise ValueError(
                    f"a movement's {name} holds at most {limit} characters"
                )

    def recorded(self, movement_id: int, sku: Sku, at: datetime) -> Movement:
        """The ledger entry this movement becomes, under the product's stored SKU."""
        return Movement(
            id=movement_id,
            sku=sku,
            reason=self.reason,
            on_hand_delta=self.on_hand_delta,
            reserved_delta=self.reserved_delta,
            idempotency_key=self.idempotency_key,
            actor=self.actor,
            reference=self.reference,
            note=self.note,
            location=self.location,
            at=at,
        )

    @property
    def available_delta(self) -> int:
        """The change this movement makes to available stock."""
        return self.on_hand_delta - self.reserved_delta

    def same_effect_as(self, other: NewMovement | Movement) -> bool:
        """True when ``other`` records the same change (used to vet a reused key)."""
        return (
            sku_key(self.sku) == sku_key(other.sku)
            and self.reason == other.reason
            and self.on_hand_delta == other.on_hand_delta
            and self.reserved_delta == other.reserved_delta
            and self.location == other.location
        )


@dataclass(frozen=True, slots=True)
class Movement:
    """A recorded movement, as the ledger holds it."""

    id: int
    sku: Sku
    reason: MovementReason
    on_hand_delta: int
    reserved_delta: int
    idempotency_key: str
    actor: str
    reference: str
    note: str
    location: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Balances of one SKU, summed from its movements."""

    sku: Sku
    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        """What may still be sold; negative means orders exceed stock (oversold)."""
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class RecordedMovement:
    """Outcome of recording a movement: the ledger row and whether it is new."""

    movement: Movement
    created: bool
    level: StockLevel
