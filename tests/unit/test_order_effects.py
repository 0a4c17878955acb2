"""An order's stock effects: forward only, one step at a time, once per line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.ids import AccountId, Sku
from core.domain.orders import (
    STATUS_RANK,
    OrderLine,
    StockState,
    StockStep,
    StoredOrder,
    after,
    is_newer,
    line_movement,
    movement_key,
    steps,
    target_state,
)
from core.domain.stock import MovementReason
from core.domain.sync import OrderStatus

S = OrderStatus
St = StockState
RESERVE, RELEASE, SHIP, RETURN = (
    StockStep.RESERVE,
    StockStep.RELEASE,
    StockStep.SHIP,
    StockStep.RETURN,
)
T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

#: (reached, status) → (target state, steps taken): every status from every state.
TABLE: list[tuple[StockState, OrderStatus, StockState, tuple[StockStep, ...]]] = [
    # never moved
    (St.NONE, S.PENDING_PAYMENT, St.NONE, ()),
    (St.NONE, S.PAID, St.RESERVED, (RESERVE,)),
    (St.NONE, S.READY_TO_SHIP, St.RESERVED, (RESERVE,)),
    (St.NONE, S.SHIPPED, St.SHIPPED, (RESERVE, SHIP)),
    (St.NONE, S.DELIVERED, St.SHIPPED, (RESERVE, SHIP)),
    (St.NONE, S.COMPLETED, St.SHIPPED, (RESERVE, SHIP)),
    (St.NONE, S.CANCELLED, St.NONE, ()),
    (St.NONE, S.RETURNED, St.RETURNED, (RESERVE, SHIP, RETURN)),
    # reserved
    (St.RESERVED, S.PENDING_PAYMENT, St.NONE, ()),
    (St.RESERVED, S.PAID, St.RESERVED, ()),
    (St.RESERVED, S.READY_TO_SHIP, St.RESERVED, ()),
    (St.RESERVED, S.SHIPPED, St.SHIPPED, (SHIP,)),
    (St.RESERVED, S.DELIVERED, St.SHIPPED, (SHIP,)),
    (St.RESERVED, S.COMPLETED, St.SHIPPED, (SHIP,)),
    (St.RESERVED, S.CANCELLED, St.RELEASED, (RELEASE,)),
    (St.RESERVED, S.RETURNED, St.RETURNED, (SHIP, RETURN)),
    # shipped
    (St.SHIPPED, S.PENDING_PAYMENT, St.NONE, ()),
    (St.SHIPPED, S.PAID, St.RESERVED, ()),
    (St.SHIPPED, S.READY_TO_SHIP, St.RESERVED, ()),
    (St.SHIPPED, S.SHIPPED, St.SHIPPED, ()),
    (St.SHIPPED, S.DELIVERED, St.SHIPPED, ()),
    (St.SHIPPED, S.COMPLETED, St.SHIPPED, ()),
    (St.SHIPPED, S.CANCELLED, St.RETURNED, (RETURN,)),
    (St.SHIPPED, S.RETURNED, St.RETURNED, (RETURN,)),
    # released (cancelled after payment): nothing moves any more
    (St.RELEASED, S.PENDING_PAYMENT, St.NONE, ()),
    (St.RELEASED, S.PAID, St.RESERVED, ()),
    (St.RELEASED, S.READY_TO_SHIP, St.RESERVED, ()),
    (St.RELEASED, S.SHIPPED, St.SHIPPED, ()),
    (St.RELEASED, S.DELIVERED, St.SHIPPED, ()),
    (St.RELEASED, S.COMPLETED, St.SHIPPED, ()),
    (St.RELEASED, S.CANCELLED, St.RELEASED, ()),
    (St.RELEASED, S.RETURNED, St.RETURNED, ()),
    # returned: nothing moves any more
    (St.RETURNED, S.PENDING_PAYMENT, St.NONE, ()),
    (St.RETURNED, S.PAID, St.RESERVED, ()),
    (St.RETURNED, S.READY_TO_SHIP, St.RESERVED, ()),
    (St.RETURNED, S.SHIPPED, St.SHIPPED, ()),
    (St.RETURNED, S.DELIVERED, St.SHIPPED, ()),
    (St.RETURNED, S.COMPLETED, St.SHIPPED, ()),
    (St.RETURNED, S.CANCELLED, St.RETURNED, ()),
    (St.RETURNED, S.RETURNED, St.RETURNED, ()),
]


def test_the_table_covers_every_status_from_every_state() -> None:
    assert {(r, s) for r, s, _, _ in TABLE} == {
        (r, s) for r in StockState for s in OrderStatus
    }
    assert len(TABLE) == len(StockState) * len(OrderStatus)


@pytest.mark.parametrize(
    ("reached", "status", "target", "expected"),
    TABLE,
    ids=[f"{r.value}-sees-{s.value}" for r, s, _, _ in TABLE],
)
def test_each_status_moves_each_state_forward_only(
    reached: StockState,
    status: OrderStatus,
    target: StockState,
    expected: tuple[StockStep, ...],
) -> None:
    assert target_state(status, reached) is target
    taken = steps(reached, target)
    assert taken == expected
    state = reached
    for step in taken:
        state = after(state, step)
    assert state is (target if taken else reached)


@pytest.mark.parametrize(
    "status", [S.PAID, S.READY_TO_SHIP, S.PENDING_PAYMENT], ids=str
)
@pytest.mark.parametrize("reached", [St.RELEASED, St.RETURNED], ids=str)
def test_a_cancelled_or_returned_order_seen_again_as_open_moves_nothing(
    reached: StockState, status: OrderStatus
) -> None:
    assert steps(reached, target_state(status, reached)) == ()


def test_a_cancellation_after_shipping_is_a_return() -> None:
    target = target_state(S.CANCELLED, St.SHIPPED)
    assert target is St.RETURNED
    assert steps(St.SHIPPED, target) == (RETURN,)


def test_a_cancellation_before_payment_moves_nothing() -> None:
    target = target_state(S.CANCELLED, St.NONE)
    assert target is St.NONE
    assert steps(St.NONE, target) == ()


def test_a_cancellation_after_payment_releases_the_reservation() -> None:
    assert steps(St.RESERVED, target_state(S.CANCELLED, St.RESERVED)) == (RELEASE,)


@pytest.mark.parametrize("state", list(StockState), ids=str)
def test_no_steps_from_a_state_to_itself(state: StockState) -> None:
    assert steps(state, state) == ()


@pytest.mark.parametrize("reached", list(StockState), ids=str)
@pytest.mark.parametrize("target", list(StockState), ids=str)
def test_every_route_is_a_chain_of_steps_that_follow(
    reached: StockState, target: StockState
) -> None:
    state = reached
    for step in steps(reached, target):
        state = after(state, step)
    assert state in {reached, target}
    if steps(reached, target):
        assert state is target


# ------------------------------------------------------------------ after

FOLLOWING = {
    (St.NONE, RESERVE): St.RESERVED,
    (St.RESERVED, SHIP): St.SHIPPED,
    (St.RESERVED, RELEASE): St.RELEASED,
    (St.SHIPPED, RETURN): St.RETURNED,
}


@pytest.mark.parametrize(("reached", "step"), list(FOLLOWING), ids=str)
def test_after_gives_the_state_a_step_leads_to(
    reached: StockState, step: StockStep
) -> None:
    assert after(reached, step) is FOLLOWING[reached, step]


@pytest.mark.parametrize(
    ("reached", "step"),
    [(r, s) for r in StockState for s in StockStep if (r, s) not in FOLLOWING],
    ids=str,
)
def test_after_refuses_a_step_that_does_not_follow(
    reached: StockState, step: StockStep
) -> None:
    with pytest.raises(ValueError, match=f"{step.value} does not follow"):
        after(reached, step)


# ------------------------------------------------------------------ is_newer


@pytest.mark.parametrize(
    ("status", "at", "stored_status", "stored_at", "newer"),
    [
        pytest.param(S.PAID, T0, S.PAID, None, True, id="stored-time-unknown"),
        pytest.param(
            S.PENDING_PAYMENT, T0, S.COMPLETED, None, True, id="unknown-beats-rank"
        ),
        pytest.param(
            S.PAID,
            T0 + timedelta(seconds=1),
            S.CANCELLED,
            T0,
            True,
            id="later-wins-even-at-lower-rank",
        ),
        pytest.param(
            S.CANCELLED,
            T0 - timedelta(seconds=1),
            S.PAID,
            T0,
            False,
            id="earlier-loses-even-at-higher-rank",
        ),
        pytest.param(S.SHIPPED, T0, S.PAID, T0, True, id="same-time-higher-rank"),
        pytest.param(S.PAID, T0, S.SHIPPED, T0, False, id="same-time-lower-rank"),
        pytest.param(S.PAID, T0, S.PAID, T0, False, id="same-time-same-status"),
        pytest.param(S.CANCELLED, T0, S.RETURNED, T0, False, id="same-time-equal-rank"),
        pytest.param(
            S.CANCELLED, T0, S.COMPLETED, T0, True, id="same-time-cancel-after-done"
        ),
    ],
)
def test_is_newer(
    status: OrderStatus,
    at: datetime,
    stored_status: OrderStatus,
    stored_at: datetime | None,
    newer: bool,
) -> None:
    assert is_newer(status, at, stored_status, stored_at) is newer


def test_every_status_has_a_rank_in_life_order() -> None:
    assert set(STATUS_RANK) == set(OrderStatus)
    life = [S.PENDING_PAYMENT, S.PAID, S.READY_TO_SHIP, S.SHIPPED, S.DELIVERED]
    life += [S.COMPLETED]
    ranks = [STATUS_RANK[s] for s in life]
    assert ranks == sorted(set(ranks))
    assert STATUS_RANK[S.CANCELLED] == STATUS_RANK[S.RETURNED] > max(ranks)


# ------------------------------------------------------------------ movements

ACCOUNT = AccountId("shopee-ntt")


def order(*lines: OrderLine, status: OrderStatus = S.PAID) -> StoredOrder:
    return StoredOrder(
        account=ACCOUNT,
        external_id="2611220001",
        status=status,
        raw_status="READY_TO_SHIP",
        total_amount=255_000,
        stock_state=St.NONE,
        oversold=False,
        placed_at=T0,
        remote_updated_at=T0,
        lines=lines,
    )


LINE = OrderLine(1, "kopi-1", 3, 85_000, Sku("KOPI-1"))


@pytest.mark.parametrize(
    ("step", "reason", "on_hand", "reserved"),
    [
        (RESERVE, MovementReason.ORDER_RESERVED, 0, 3),
        (RELEASE, MovementReason.ORDER_RELEASED, 0, -3),
        (SHIP, MovementReason.ORDER_SHIPPED, -3, -3),
        (RETURN, MovementReason.RETURN, 3, 0),
    ],
    ids=str,
)
def test_each_step_moves_the_line_quantity(
    step: StockStep, reason: MovementReason, on_hand: int, reserved: int
) -> None:
    movement = line_movement(
        order(LINE), LINE, step, actor="sync", marketplace="shopee"
    )
    assert movement.sku == "KOPI-1"
    assert movement.reason is reason
    assert (movement.on_hand_delta, movement.reserved_delta) == (on_hand, reserved)
    assert movement.idempotency_key == f"order:shopee-ntt:2611220001:1:{step.value}"
    assert movement.idempotency_key == movement_key(ACCOUNT, "2611220001", 1, step)
    assert movement.actor == "sync"
    assert movement.reference == "shopee order 2611220001"
    assert movement.note == "paid (READY_TO_SHIP)"


def test_each_step_of_each_line_has_its_own_key() -> None:
    lines = (LINE, OrderLine(2, "kopi-1", 1, 85_000, Sku("KOPI-1")))
    stored = order(*lines)
    keys = [
        line_movement(stored, line, step, actor="a", marketplace="m").idempotency_key
        for line in lines
        for step in StockStep
    ]
    assert len(set(keys)) == len(lines) * len(StockStep)


def test_keys_differ_between_accounts_and_orders() -> None:
    keys = {
        movement_key(AccountId("shopee-ntt"), "1", 1, RESERVE),
        movement_key(AccountId("tokopedia-ntt"), "1", 1, RESERVE),
        movement_key(AccountId("shopee-ntt"), "2", 1, RESERVE),
    }
    assert len(keys) == 3


def test_the_same_step_of_the_same_line_has_the_same_key_whatever_the_status() -> None:
    paid = line_movement(order(LINE), LINE, SHIP, actor="a", marketplace="m")
    done = line_movement(
        order(LINE, status=S.COMPLETED), LINE, SHIP, actor="b", marketplace="m"
    )
    assert paid.idempotency_key == done.idempotency_key
    assert paid.same_effect_as(done)


def test_a_line_without_a_product_moves_no_stock() -> None:
    unmatched = OrderLine(1, "UNKNOWN-SKU", 2, 10_000)
    with pytest.raises(ValueError, match="without a product"):
        line_movement(order(unmatched), unmatched, RESERVE, actor="a", marketplace="m")
