"""Orders in the store, and the stock effects their statuses imply.

An order's stock effects move forward only, one step at a time, whatever order the
marketplace's pages arrive in::

    none ──► reserved ──► shipped ──► returned
               │
               └──► released

A status names the stock state it implies (:func:`target_state`); :func:`steps` lists
the ledger steps from the state reached so far to that target. Each step becomes one
movement per order line, with an idempotency key of its own, so an order seen twice
moves nothing twice. An order never goes back: a cancelled order seen again as paid (a
stale page) moves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.ids import AccountId, Sku
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import OrderStatus


class StockState(StrEnum):
    """How far an order's stock effects have gone."""

    NONE = "none"
    RESERVED = "reserved"
    RELEASED = "released"
    SHIPPED = "shipped"
    RETURNED = "returned"


class StockStep(StrEnum):
    """One forward step of an order's stock effects (one movement per line)."""

    RESERVE = "reserve"
    RELEASE = "release"
    SHIP = "ship"
    RETURN = "return"


#: How far along its life each status is; a status of a lower rank at the same remote
#: update time is an older view of the order.
STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.PAID: 1,
    OrderStatus.READY_TO_SHIP: 2,
    OrderStatus.SHIPPED: 3,
    OrderStatus.DELIVERED: 4,
    OrderStatus.COMPLETED: 5,
    OrderStatus.CANCELLED: 6,
    OrderStatus.RETURNED: 6,
}

_AFTER: dict[StockState, dict[StockStep, StockState]] = {
    StockState.NONE: {StockStep.RESERVE: StockState.RESERVED},
    StockState.RESERVED: {
        StockStep.SHIP: StockState.SHIPPED,
        StockStep.RELEASE: StockState.RELEASED,
    },
    StockState.SHIPPED: {StockStep.RETURN: StockState.RETURNED},
    StockState.RELEASED: {},
    StockState.RETURNED: {},
}


def target_state(status: OrderStatus, reached: StockState) -> StockState:
    """The stock state ``status`` implies for an order that has reached ``reached``.

    A cancellation releases a reservation; an order cancelled after it shipped has its
    goods coming back, so it is a return; one cancelled before payment moves nothing.
    """
    match status:
        case OrderStatus.PENDING_PAYMENT:
            return StockState.NONE
        case OrderStatus.PAID | OrderStatus.READY_TO_SHIP:
            return StockState.RESERVED
        case OrderStatus.SHIPPED | OrderStatus.DELIVERED | OrderStatus.COMPLETED:
            return StockState.SHIPPED
        case OrderStatus.RETURNED:
            return StockState.RETURNED
        case OrderStatus.CANCELLED:
            if reached is StockState.SHIPPED:
                return StockState.RETURNED
            if reached is StockState.RESERVED:
                return StockState.RELEASED
            return reached


_ROUTES: dict[tuple[StockState, StockState], tuple[StockStep, ...]] = {
    (StockState.NONE, StockState.RESERVED): (StockStep.RESERVE,),
    (StockState.NONE, StockState.SHIPPED): (StockStep.RESERVE, StockStep.SHIP),
    (StockState.NONE, StockState.RETURNED): (
        StockStep.RESERVE,
        StockStep.SHIP,
        StockStep.RETURN,
    ),
    (StockState.RESERVED, StockState.SHIPPED): (StockStep.SHIP,),
    (StockState.RESERVED, StockState.RELEASED): (StockStep.RELEASE,),
    (StockState.RESERVED, StockState.RETURNED): (StockStep.SHIP, StockStep.RETURN),
    (StockState.SHIPPED, StockState.RETURNED): (StockStep.RETURN,),
}


def steps(reached: StockState, target: StockState) -> tuple[StockStep, ...]:
    """The steps from ``reached`` to ``target``; none when ``target`` lies behind or
    beside (an order never goes back)."""
    return _ROUTES.get((reached, target), ())


def after(reached: StockState, step: StockStep) -> StockState:
    """The state one ``step`` leads to from ``reached``.

    Raises:
        ValueError: the step does not follow ``reached``.
    """
    following = _AFTER[reached].get(step)
    if following is None:
        raise ValueError(f"{step.value} does not follow {reached.value}")
    return following


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of a stored order; ``sku`` is ``None`` when no product matches it."""

    line_no: int
    external_sku: str
    quantity: int
    unit_price: int
    sku: Sku | None = None


class SettlementKind(StrEnum):
    """How an officer settled an oversold order."""

    HANDLED = "handled"  # dealt with outside ikm-sync (stock found, buyer told)
    CANCELLED = "cancelled"  # cancelled on the marketplace


class CancelReason(StrEnum):
    """Why a seller cancels an order on its marketplace."""

    OUT_OF_STOCK = "out_of_stock"
    BUYER_REQUEST = "buyer_request"


@dataclass(frozen=True, slots=True)
class Settlement:
    """Who settled an oversold order, when, how and why."""

    kind: SettlementKind
    actor: str
    at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order as the store holds it; ``settlement`` is set once an officer has
    settled it as oversold (ingestion never changes it)."""

    account: AccountId
    external_id: str
    status: OrderStatus
    raw_status: str
    total_amount: int
    stock_state: StockState
    oversold: bool
    placed_at: datetime | None
    remote_updated_at: datetime | None
    lines: tuple[OrderLine, ...] = ()
    settlement: Settlement | None = None


def is_newer(
    status: OrderStatus,
    updated_at: datetime,
    stored_status: OrderStatus,
    stored_updated_at: datetime | None,
) -> bool:
    """Whether a view of an order (``status`` as of ``updated_at``) is newer than the
    stored one: a later remote update time, or the same time and a later status."""
    if stored_updated_at is None or updated_at > stored_updated_at:
        return True
    if updated_at < stored_updated_at:
        return False
    return STATUS_RANK[status] > STATUS_RANK[stored_status]


_REASONS: dict[StockStep, MovementReason] = {
    StockStep.RESERVE: MovementReason.ORDER_RESERVED,
    StockStep.RELEASE: MovementReason.ORDER_RELEASED,
    StockStep.SHIP: MovementReason.ORDER_SHIPPED,
    StockStep.RETURN: MovementReason.RETURN,
}


def movement_key(
    account: AccountId, external_id: str, line_no: int, step: StockStep
) -> str:
    """The idempotency key of one step of one order line."""
    return f"order:{account}:{external_id}:{line_no}:{step.value}"


def line_movement(
    order: StoredOrder,
    line: OrderLine,
    step: StockStep,
    *,
    actor: str,
    marketplace: str,
) -> NewMovement:
    """The ledger movement of ``step`` for one line of ``order``."""
    if line.sku is None:
        raise ValueError("a line without a product moves no stock")
    quantity = line.quantity
    on_hand, reserved = {
        StockStep.RESERVE: (0, quantity),
        StockStep.RELEASE: (0, -quantity),
        StockStep.SHIP: (-quantity, -quantity),
        StockStep.RETURN: (quantity, 0),
    }[step]
    return NewMovement(
        sku=line.sku,
        reason=_REASONS[step],
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        idempotency_key=movement_key(
            order.account, order.external_id, line.line_no, step
        ),
        actor=actor,
        reference=f"{marketplace} order {order.external_id}",
        note=f"{order.status.value} ({order.raw_status})",
    )
