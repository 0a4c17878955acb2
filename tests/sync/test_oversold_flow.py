"""Oversold orders against the simulators: cancelled on the marketplace (the status
comes back through the order pull and the reservation is released once), refused
where the marketplace documents no cancellation, or marked handled."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.accounts import Marketplace
from core.domain.ids import AccountId
from core.domain.orders import CancelReason, SettlementKind, StoredOrder
from core.domain.sync import OrderStatus, RunOutcome
from core.services.oversold import (
    SettlementRefusedError,
    cancel_oversold,
    settle_oversold,
)
from core.services.stock import adjust_stock
from simulators.kit.buyers import BuyerEvent
from tests.sync.world import BUKALAPAK, SHOPEE, TOKOPEDIA, World

pytestmark = pytest.mark.db

ACTOR = "officer:ani"


@pytest.fixture
def oversold(world: World) -> World:
    """Listings published with eight units each; then the store finds only one unit
    of every SKU (the shops are not told) and buyers on every marketplace order: the
    next cycle's pull flags what goes beyond the one unit."""
    world.cycle()
    for key in world.available():
        adjust_stock(
            world.uow(),
            sku=key,
            delta=-7,
            note="jars broken in transit",
            actor=ACTOR,
            clock=world.clock,
        )
    for marketplace in world.marketplaces:
        world.buy(marketplace, 12)
    world.advance(5)
    assert all(r.outcome is RunOutcome.SUCCEEDED for r in world.cycle().pulls)
    return world


def open_oversold(world: World, account: AccountId) -> list[StoredOrder]:
    with world.uow() as uow:
        return uow.orders.oversold(account, open_only=True)


def paid_oversold(world: World, account: AccountId) -> StoredOrder:
    found = [o for o in open_oversold(world, account) if o.status is OrderStatus.PAID]
    assert found, f"{account} has no paid oversold order"
    return found[0]


def stored(world: World, account: AccountId, external_id: str) -> StoredOrder:
    with world.uow() as uow:
        return uow.orders.get_many(account, [external_id])[external_id]


def releases(world: World, account: AccountId, external_id: str) -> list[str]:
    prefix = f"order:{account}:{external_id}:"
    return [
        key
        for key, reason, _, _ in world.movements()
        if key.startswith(prefix) and reason == "order_released"
    ]


def assert_reservations_match_orders(world: World) -> None:
    """Every SKU's reserved units are those of the orders holding a reservation."""
    query = sa.text(
        "SELECT p.sku_key, SUM(l.quantity) FROM order_lines l "
        "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
        "WHERE o.stock_state = 'reserved' GROUP BY p.sku_key"
    )
    with world.engine.connect() as connection:
        held = Counter({str(k): int(n) for k, n in connection.execute(query)})
    with world.uow() as uow:
        reserved = Counter(
            {k: v.reserved for k, v in uow.stock.levels().items() if v.reserved}
        )
    assert reserved == held


def sim_status(world: World, marketplace: Marketplace, external_id: str) -> Any:
    key = {Marketplace.SHOPEE: "order_sn", Marketplace.TOKOPEDIA: "order_id"}[
        marketplace
    ]
    (found,) = [
        o
        for o in world.sims[marketplace].inspect_orders()
        if str(o[key]) == external_id
    ]
    return found["status"]


def database(world: World) -> dict[str, list[tuple[Any, ...]]]:
    with world.engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {t}"))]  # noqa: S608
            for t in ("orders", "stock_movements", "sync_runs")
        }


@pytest.mark.parametrize(
    ("account", "marketplace", "shown"),
    [
        pytest.param(SHOPEE, Marketplace.SHOPEE, "CANCELLED", id="shopee"),
        pytest.param(TOKOPEDIA, Marketplace.TOKOPEDIA, 3, id="tokopedia"),
    ],
)
def test_an_order_cancelled_on_the_marketplace_is_released_once_and_leaves_the_list(
    oversold: World, account: AccountId, marketplace: Marketplace, shown: Any
) -> None:
    world = oversold
    order = paid_oversold(world, account)
    assert (order.stock_state.value, releases(world, account, order.external_id)) == (
        "reserved",
        [],
    )

    outcome = cancel_oversold(
        world.uow,
        world.connector(world.account(account)),
        world.account(account),
        order.external_id,
        reason=CancelReason.OUT_OF_STOCK,
        actor=ACTOR,
        clock=world.clock,
        trigger="manual:test",
    )

    assert sim_status(world, marketplace, order.external_id) == shown
    assert outcome.read_back_error == ""
    assert (outcome.order.status, outcome.order.stock_state.value) == (
        OrderStatus.CANCELLED,
        "released",
    )
    assert outcome.order.settlement is not None
    assert (outcome.order.settlement.kind, outcome.order.settlement.actor) == (
        SettlementKind.CANCELLED,
        ACTOR,
    )
    assert order.external_id not in {
        o.external_id for o in open_oversold(world, account)
    }
    assert len(releases(world, account, order.external_id)) == len(order.lines)
    assert_reservations_match_orders(world)

    # the next pulls see the cancellation again: nothing moves twice
    movements = world.movements()
    for _ in range(2):
        world.advance(600)
        assert all(r.outcome is RunOutcome.SUCCEEDED for r in world.cycle().pulls)
    assert len(releases(world, account, order.external_id)) == len(order.lines)
    assert [m for m in world.movements() if m[0].startswith("order:")][
        : len(movements)
    ] == [m for m in movements if m[0].startswith("order:")]
    again = stored(world, account, order.external_id)
    assert again.settlement == outcome.order.settlement
    assert again.stock_state.value == "released"
    assert_reservations_match_orders(world)


def test_a_marketplace_without_cancellation_refuses_and_nothing_changes(
    oversold: World,
) -> None:
    world = oversold
    order = open_oversold(world, BUKALAPAK)[0]
    bukalapak = world.account(BUKALAPAK)
    before, shown = database(world), world.sims[Marketplace.BUKALAPAK].inspect_orders()
    writes = world.write_calls()

    with pytest.raises(SettlementRefusedError, match="bukalapak documents no"):
        cancel_oversold(
            world.uow,
            world.connector(bukalapak),
            bukalapak,
            order.external_id,
            reason=CancelReason.OUT_OF_STOCK,
            actor=ACTOR,
            clock=world.clock,
            trigger="manual:test",
        )

    assert database(world) == before
    assert world.sims[Marketplace.BUKALAPAK].inspect_orders() == shown
    assert world.write_calls() == writes
    assert order.external_id in {o.external_id for o in open_oversold(world, BUKALAPAK)}


def test_an_order_marked_handled_stays_settled_while_its_status_moves_on(
    oversold: World,
) -> None:
    world = oversold
    order = open_oversold(world, BUKALAPAK)[0]

    settle_oversold(
        world.uow,
        BUKALAPAK,
        order.external_id,
        note="buyer agreed to wait for the next batch",
        actor=ACTOR,
        clock=world.clock,
    )

    assert order.external_id not in {
        o.external_id for o in open_oversold(world, BUKALAPAK)
    }
    # the buyer cancels on the marketplace; the pull brings it, the settlement stays
    assert world.sims[Marketplace.BUKALAPAK].buyer_event(
        order.external_id, BuyerEvent.CANCEL
    )
    world.advance(600)
    assert all(r.outcome is RunOutcome.SUCCEEDED for r in world.cycle().pulls)
    after = stored(world, BUKALAPAK, order.external_id)
    assert after.status is OrderStatus.CANCELLED
    assert after.settlement is not None
    assert (after.settlement.kind, after.settlement.actor, after.settlement.note) == (
        SettlementKind.HANDLED,
        ACTOR,
        "buyer agreed to wait for the next batch",
    )
    with pytest.raises(SettlementRefusedError, match="already settled"):
        settle_oversold(
            world.uow,
            BUKALAPAK,
            order.external_id,
            note="again",
            actor="officer:budi",
            clock=world.clock,
        )
    assert_reservations_match_orders(world)


CANCEL_ENDPOINTS = {
    Marketplace.SHOPEE: "order.cancel_order",
    Marketplace.TOKOPEDIA: "order_nack",
}
CANCELLED_ON = [
    pytest.param(SHOPEE, Marketplace.SHOPEE, "CANCELLED", id="shopee"),
    pytest.param(TOKOPEDIA, Marketplace.TOKOPEDIA, 3, id="tokopedia"),
]


def cancel(world: World, account: AccountId, external_id: str) -> Any:
    return cancel_oversold(
        world.uow,
        world.connector(world.account(account)),
        world.account(account),
        external_id,
        reason=CancelReason.OUT_OF_STOCK,
        actor=ACTOR,
        clock=world.clock,
        trigger="manual:test",
    )


@pytest.mark.parametrize(("account", "marketplace", "shown"), CANCELLED_ON)
def test_a_cancel_whose_answer_is_lost_is_settled_from_what_the_marketplace_shows(
    oversold: World, account: AccountId, marketplace: Marketplace, shown: Any
) -> None:
    """The marketplace applied the cancellation but its answer never came: the order
    read back shows it cancelled, so the settlement is recorded and the reservation
    released once; nothing is sent twice."""
    world = oversold
    order = paid_oversold(world, account)
    world.sims[marketplace].faults.lose_response_next(
        endpoint=CANCEL_ENDPOINTS[marketplace]
    )

    outcome = cancel(world, account, order.external_id)

    assert sim_status(world, marketplace, order.external_id) == shown
    assert outcome.order.status is OrderStatus.CANCELLED
    assert outcome.order.stock_state.value == "released"
    assert outcome.order.settlement is not None
    assert (outcome.order.settlement.kind, outcome.order.settlement.actor) == (
        SettlementKind.CANCELLED,
        ACTOR,
    )
    assert order.external_id not in {
        o.external_id for o in open_oversold(world, account)
    }
    assert len(releases(world, account, order.external_id)) == len(order.lines)
    world.advance(600)
    assert all(r.outcome is RunOutcome.SUCCEEDED for r in world.cycle().pulls)
    assert len(releases(world, account, order.external_id)) == len(order.lines)
    assert_reservations_match_orders(world)


@pytest.mark.parametrize(("account", "marketplace", "shown"), CANCELLED_ON)
def test_an_order_the_buyer_cancelled_meanwhile_is_settled_not_refused(
    oversold: World, account: AccountId, marketplace: Marketplace, shown: Any
) -> None:
    """The buyer cancelled before the officer did (the store has not pulled it yet):
    the marketplace refuses a second cancellation, the order read back shows it
    cancelled, and the case is settled as cancelled with the release done once."""
    world = oversold
    order = paid_oversold(world, account)
    assert world.sims[marketplace].buyer_event(order.external_id, BuyerEvent.CANCEL)
    world.advance(3601)  # a paid Shopee order's buyer cancellation takes an hour
    assert sim_status(world, marketplace, order.external_id) in ("CANCELLED", 15)
    assert stored(world, account, order.external_id).status is OrderStatus.PAID

    outcome = cancel(world, account, order.external_id)

    assert outcome.order.status is OrderStatus.CANCELLED
    assert outcome.order.stock_state.value == "released"
    assert outcome.order.settlement is not None
    assert outcome.order.settlement.kind is SettlementKind.CANCELLED
    assert "already cancelled" in outcome.order.settlement.note
    assert len(releases(world, account, order.external_id)) == len(order.lines)
    assert_reservations_match_orders(world)


def test_an_order_of_another_account_is_neither_settled_nor_cancelled(
    oversold: World,
) -> None:
    world = oversold
    order = paid_oversold(world, SHOPEE)
    before, writes = database(world), world.write_calls()

    with pytest.raises(SettlementRefusedError, match="no such order"):
        settle_oversold(
            world.uow,
            TOKOPEDIA,
            order.external_id,
            note="wrong shop",
            actor=ACTOR,
            clock=world.clock,
        )
    with pytest.raises(SettlementRefusedError, match="no such order"):
        cancel(world, TOKOPEDIA, order.external_id)

    assert database(world) == before
    assert world.write_calls() == writes
    assert order.external_id in {o.external_id for o in open_oversold(world, SHOPEE)}
