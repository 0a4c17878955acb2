"""A Tokopedia shop bound to TikTok Shop, end to end: the legacy account published
and sold; the shop is bound (its products now also served through the TikTok Shop
Partner API, its orders visible through both APIs for a while); the TikTok Shop
account takes over. Its products are bound, not listed twice; the legacy account
sends nothing more; every order moves stock once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.accounts import AllocationPolicy, ChannelAccount, Handover, Marketplace
from core.domain.ids import AccountId
from simulators.kit.buyers import BuyerEvent
from tests.sync.world import COFFEE, WEAVERS, World

pytestmark = pytest.mark.db

LEGACY = ChannelAccount(
    AccountId("tokopedia-lapas"),
    Marketplace.TOKOPEDIA,
    "",
    (COFFEE, WEAVERS),
    AllocationPolicy(),
)
BOUND = ChannelAccount(
    AccountId("tiktok-lapas"),
    Marketplace("tiktok_shop"),
    "",
    (COFFEE, WEAVERS),
    AllocationPolicy(),
)


def _buy(world: World, marketplace: Marketplace, sku: str, buyer: str) -> str:
    """A paid order of one unit of ``sku`` on ``marketplace``."""
    sim = world.sims[marketplace]
    kit = world.markets.kits[marketplace.value]
    order = sim.place_order(kit.listing_handle(sim, sku), 1, buyer)
    assert order is not None
    assert sim.buyer_event(order, BuyerEvent.PAY)
    return order


def test_a_tokopedia_shop_bound_to_tiktok_shop_keeps_its_listings_and_orders(
    engine: sa.Engine,
) -> None:
    world = World.build(engine, products=3, stock=10, accounts=[LEGACY, BOUND])
    legacy, bound = world.accounts
    tokopedia, tiktok = legacy.marketplace, bound.marketplace
    world.accounts = [legacy]  # before the binding, only the legacy API serves it
    assert world.cycle().ok
    listed = sorted(e["sku"] for e in world.shown(tokopedia))
    assert len(listed) == 6

    # The shop is bound: TikTok Shop serves the same products, and an order placed
    # now is visible through both APIs (each with its own id).
    for entry in world.shown(tokopedia):
        world.sims[tiktok].seed_product(  # type: ignore[attr-defined]
            entry["sku"], price=int(entry["price"]), quantity=int(entry["stock"])
        )
    before = [
        _buy(world, tokopedia, "KOPI-0001", "ani"),
        _buy(world, tiktok, "KOPI-0001", "ani"),
    ]
    world.advance(60)
    handover = Handover(legacy.id, bound.id, world.clock.now())
    legacy, bound = (
        replace(legacy, handover=handover),
        replace(bound, handover=handover),
    )
    with world.uow() as uow:
        uow.accounts.save(legacy, world.clock.now())
        uow.accounts.save(bound, world.clock.now())
        uow.commit()
    world.accounts = [legacy, bound]
    world.advance(300)
    after = [
        _buy(world, tiktok, "TENUN-0002", "budi"),
        _buy(world, tokopedia, "TENUN-0002", "budi"),
    ]
    legacy_writes = world.write_calls()[tokopedia]

    assert world.cycle().ok
    world.advance(60)
    assert world.cycle().ok

    # listings: bound by SKU on TikTok Shop, never listed twice; Tokopedia left alone
    assert all(n == 1 for n in world.listed_count(bound).values())
    assert sorted(world.listed_count(bound)) == listed
    assert world.write_calls()[tokopedia] == legacy_writes
    # orders: each account keeps its side of the handover, so each sale counts once
    stored = {(a, o) for a, o, *_ in world.stored_orders()}
    assert stored == {(legacy.id, before[0]), (bound.id, after[0])}
    available = world.available()
    assert available["KOPI-0001"] == 10 - 1
    assert available["TENUN-0002"] == 10 - 1
    assert world.converged([bound])
    assert world.plan(legacy).empty
    assert world.clock.now() - handover.at >= timedelta(minutes=5)
