"""Moving stock by hand and reading a SKU's stock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog

from core.domain.catalogue import Product
from core.domain.ids import Sku
from core.domain.stock import (
    DEFAULT_LOCATION,
    Movement,
    MovementReason,
    NewMovement,
    RecordedMovement,
    StockLevel,
)
from core.errors import DomainError, UnknownSkuError
from core.ports import Clock, UnitOfWork

log = structlog.get_logger(__name__)

#: Reasons an officer may record by hand; order movements come from marketplaces.
MANUAL_REASONS = (
    MovementReason.ADJUSTMENT,
    MovementReason.RECEIPT,
    MovementReason.RETURN,
)


def adjust_stock(
    uow: UnitOfWork,
    *,
    sku: str,
    delta: int,
    note: str,
    actor: str,
    clock: Clock,
    reason: MovementReason = MovementReason.ADJUSTMENT,
    idempotency_key: str | None = None,
    reference: str = "",
    location: str = DEFAULT_LOCATION,
) -> RecordedMovement:
    """Record one manual movement of ``delta`` units and return it with the new level.

    Give ``idempotency_key`` to make a retried call safe: a key already recorded with
    the same effect moves nothing and returns ``created=False``.

    Raises:
        DomainError: zero delta, a reason not allowed by hand, an empty note or actor,
            or a receipt/return that does not add stock.
        UnknownSkuError: no product has the SKU.
        InsufficientStockError: on-hand stock would fall below zero.
        IdempotencyConflictError: the key records a different movement.
    """
    if reason not in MANUAL_REASONS:
        raise DomainError(
            f"reason {reason.value!r} is recorded from orders, not by hand; "
            f"expected one of {', '.join(r.value for r in MANUAL_REASONS)}"
        )
    if delta == 0:
        raise DomainError(
            "a change of 0 moves nothing; expected a non-zero whole number"
        )
    if not note.strip():
        raise DomainError("a reason text is required: say why the stock changes")
    try:
        movement = NewMovement(
            sku=Sku(sku.strip()),
            reason=reason,
            on_hand_delta=delta,
            reserved_delta=0,
            idempotency_key=idempotency_key or f"manual:{uuid.uuid4()}",
            actor=actor,
            reference=reference,
            note=note.strip(),
            location=location,
        )
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    with uow:
        recorded = uow.stock.record(movement, clock.now())
        uow.commit()
    log.info(
        "stock.adjusted" if recorded.created else "stock.adjust_replayed",
        sku=recorded.movement.sku,
        delta=delta,
        reason=reason.value,
        actor=actor,
        movement_id=recorded.movement.id,
        on_hand=recorded.level.on_hand,
        available=recorded.level.available,
    )
    return recorded


@dataclass(frozen=True)
class StockView:
    """A SKU's product, balances and latest movements (newest first)."""

    product: Product
    level: StockLevel
    movements: list[Movement]


def show_stock(uow: UnitOfWork, sku: str, *, limit: int = 20) -> StockView:
    """The balances and latest movements of one SKU.

    Raises:
        UnknownSkuError: no product has the SKU.
    """
    with uow:
        product = uow.products.get(sku)
        if product is None:
            raise UnknownSkuError(sku)
        return StockView(
            product=product,
            level=uow.stock.level(sku),
            movements=uow.stock.history(sku, limit),
        )
