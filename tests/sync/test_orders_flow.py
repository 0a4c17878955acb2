"""Orders against the three simulators: stored once, stock moved once, propagated."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.accounts import Marketplace
from core.domain.remote import OrderWindow, RemoteOrder
from core.domain.sync import OrderStatus, RunOutcome
from core.ports import MarketplaceConnector
from core.services.orders import pull_orders
from simulators.kit.buyers import BuyerEvent
from tests.sync.world import BUKALAPAK, SHOPEE, TOKOPEDIA, World, counts_of

pytestmark = pytest.mark.db

RECEIVED = 8  # units received per SKU when the world is built
HELD = ("reserved", "shipped")  # stock states in which an order holds its units


def sim_order_ids(world: World, marketplace: Marketplace) -> set[str]:
    """Every order the seller can see, by the id its connector reports."""
    kit = world.markets.kits[marketplace.value]
    return kit.seller_order_ids(world.sims[marketplace])


def held_units(world: World, states: Sequence[str] = HELD) -> Counter[str]:
    """Units per SKU key of stored orders in these stock states."""
    query = sa.text(
        "SELECT p.sku_key, SUM(l.quantity) FROM order_lines l "
        "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
        "WHERE o.stock_state IN :states GROUP BY p.sku_key"
    ).bindparams(sa.bindparam("states", expanding=True))
    with world.engine.connect() as connection:
        rows = connection.execute(query, {"states": list(states)})
        return Counter({str(k): int(n) for k, n in rows})


def assert_ledger_matches_orders(world: World, received: int = RECEIVED) -> None:
    """Every SKU: available = receipts - units of its active orders."""
    held = held_units(world)
    available = world.available()
    assert available, "the store holds no stock levels"
    for key, units in available.items():
        assert units == received - held[key], key
    keys = [m[0] for m in world.movements()]
    assert len(keys) == len(set(keys))


def test_orders_are_stored_once_and_their_stock_moves_once(world: World) -> None:
    world.cycle()
    placed = world.buy(Marketplace.TOKOPEDIA, 3)
    assert len(placed) == 3
    world.advance(5)

    report = world.cycle()

    pull = next(r for r in report.pulls if r.account == TOKOPEDIA)
    assert pull.outcome is RunOutcome.SUCCEEDED
    assert pull.counts["order"] == 3
    stored = world.stored_orders()
    assert {o[1] for o in stored} == sim_order_ids(world, Marketplace.TOKOPEDIA)
    assert {(o[2], o[3]) for o in stored} == {("paid", "reserved")}
    reserves = [m for m in world.movements() if m[1] == "order_reserved"]
    assert len(reserves) == sum(
        len(o["lines"]) for o in world.sims[Marketplace.TOKOPEDIA].inspect_orders()
    )
    assert_ledger_matches_orders(world)
    # the other marketplaces were corrected in the same cycle
    pushes = counts_of(report.pushes)
    assert pushes[SHOPEE].get("stock", 0) + pushes[BUKALAPAK].get("stock", 0) > 0
    assert world.converged()

    movements, writes = world.movements(), world.write_calls()
    again = world.cycle()

    assert world.movements() == movements
    assert world.write_calls() == writes
    assert all("order" not in r.counts for r in again.pulls)


class _Jumbled:
    """Pages as a careless marketplace serves them: every order twice, newest
    first, then a stale copy of each (an older status, updated earlier)."""

    def __init__(self, inner: MarketplaceConnector) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        orders = list(self._inner.fetch_orders(window))
        yield from reversed(orders)
        yield from orders
        for order in orders:
            earlier = order.updated_at - timedelta(hours=1)
            yield replace(order, status=OrderStatus.PENDING_PAYMENT, updated_at=earlier)


def test_duplicated_reordered_and_stale_pages_change_nothing(world: World) -> None:
    world.cycle()
    world.buy(Marketplace.SHOPEE, 4)
    world.advance(5)
    shopee = world.account(SHOPEE)

    report = pull_orders(
        world.uow,
        _Jumbled(world.connector(shopee)),  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
    )

    assert report.outcome is RunOutcome.SUCCEEDED
    stored = world.stored_orders()
    assert len(stored) == len(sim_order_ids(world, Marketplace.SHOPEE))
    assert {o[1] for o in stored} == sim_order_ids(world, Marketplace.SHOPEE)
    assert all(o[2] != "pending_payment" for o in stored)
    assert_ledger_matches_orders(world)
    movements = world.movements()

    pull_orders(
        world.uow,
        _Jumbled(world.connector(shopee)),  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
    )

    assert world.movements() == movements


def test_an_order_taking_more_than_is_available_is_kept_and_flagged(
    world: World,
) -> None:
    world.cycle()
    # every marketplace shows part of the same eight units; buyers everywhere
    # empty their listings before the next cycle
    for marketplace in world.marketplaces:
        world.buy(marketplace, 40)
    world.advance(5)

    report = world.cycle()

    assert all(r.outcome is RunOutcome.SUCCEEDED for r in report.pulls)
    placed = set().union(*(sim_order_ids(world, m) for m in world.marketplaces))
    stored = world.stored_orders()
    assert {o[1] for o in stored} == placed  # nothing dropped
    oversold = [o for o in stored if o[4]]
    assert oversold
    with world.uow() as uow:
        flagged = {o.external_id for o in uow.orders.oversold()}
    assert flagged == {o[1] for o in oversold}
    assert min(world.available().values()) < 0
    assert_ledger_matches_orders(world)
    # nothing more can be sold anywhere the shortage is
    for account in world.accounts:
        shown = world.shown_stock(account)
        for key, units in world.available().items():
            if units <= 0 and key in shown:
                assert shown[key] == 0, (account.id, key)


def test_cancellations_shipments_and_returns_move_stock_once(world: World) -> None:
    world.cycle()
    for marketplace in world.marketplaces:
        placed = world.buy(marketplace, 6)
        world.advance(5)
        world.cycle()
        # one buyer changes their mind after paying (and after the pull saw it)
        assert world.sims[marketplace].buyer_event(placed[0], BuyerEvent.CANCEL)
    # six days of cycles every four hours: buyers cancel, receive and return
    for _ in range(6 * 6):
        world.advance(4 * 3600)
        assert all(r.outcome is RunOutcome.SUCCEEDED for r in world.cycle().pulls)

    states = Counter(o[3] for o in world.stored_orders())
    assert states["shipped"] > 0
    assert states["released"] > 0
    assert_ledger_matches_orders(world)
    reasons = Counter(m[1] for m in world.movements())
    assert reasons["order_released"] > 0
    assert reasons["order_shipped"] > 0
    # shipped units left the shelf; returned ones came back
    shipped = held_units(world, ["shipped"])
    with world.uow() as uow:
        levels = uow.stock.levels()
    for key, level in levels.items():
        assert level.on_hand == RECEIVED - shipped[key], key
    assert world.converged()


@pytest.mark.parametrize("workers", [1, 3])
def test_every_buyers_order_is_stored_once_across_many_cycles(
    world: World, workers: int
) -> None:
    rng = random.Random(workers)  # noqa: S311  (a reproducible test load)
    world.cycle(workers=workers)
    for _ in range(30):
        for marketplace in world.marketplaces:
            if rng.random() < 0.5:
                world.buy(marketplace, rng.randint(1, 3))
        world.advance(rng.uniform(60, 4 * 3600))
        world.cycle(workers=workers)
    world.advance(60)
    world.cycle(workers=workers)

    stored = world.stored_orders()
    ids = [(o[0], o[1]) for o in stored]
    assert len(ids) == len(set(ids))
    by_account = {
        SHOPEE: Marketplace.SHOPEE,
        TOKOPEDIA: Marketplace.TOKOPEDIA,
        BUKALAPAK: Marketplace.BUKALAPAK,
    }
    for account, marketplace in by_account.items():
        assert {o[1] for o in stored if o[0] == account} == sim_order_ids(
            world, marketplace
        )
    assert len(stored) > 20
    assert_ledger_matches_orders(world)
    assert world.converged()
