"""Paging through the shared fault plan's page faults against the simulator: a page
whose token comes back, a page shifted by a row and an empty page lose no listing or
order and show none twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.tiktok_shop import connector as tiktok_connector
from core.domain.remote import OrderWindow
from simulators.kit.faults import PageFault
from simulators.tiktok_shop import TikTokShopSimulator
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build

PAGE = 4
FAULTS = [PageFault.REPEAT, PageFault.SHIFT, PageFault.EMPTY]


def sim(market: Harness) -> TikTokShopSimulator:
    return market.sim(TikTokShopSimulator)


def plan(market: Harness, fault: PageFault, endpoint: str) -> None:
    {
        PageFault.REPEAT: sim(market).faults.repeat_page_next,
        PageFault.SHIFT: sim(market).faults.shift_page_next,
        PageFault.EMPTY: sim(market).faults.empty_page_next,
    }[fault](endpoint=endpoint)


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setattr(tiktok_connector, "PAGE_SIZE", PAGE)
    return build("tiktok_shop", FakeTime())


@pytest.mark.parametrize("fault", FAULTS)
def test_listing_pages_lose_and_double_nothing(
    market: Harness, fault: PageFault
) -> None:
    skus = [f"PG-{n:02d}" for n in range(10)]
    for sku in skus:
        sim(market).seed_product(sku)
    plan(market, fault, "product_search")
    found = [str(listing.sku) for listing in market.connector.fetch_listings()]
    assert sorted(found) == skus
    assert sim(market).faults.page_faults == [("product_search", fault)]


@pytest.mark.parametrize("fault", FAULTS)
def test_order_pages_lose_and_double_nothing(market: Harness, fault: PageFault) -> None:
    sim(market).seed_product("KOPI-PG", quantity=50)
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-PG"], 10, timedelta(minutes=50))
    plan(market, fault, "order_search")
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    ids = [order.external_id for order in market.connector.fetch_orders(window)]
    assert len(ids) == len(set(ids)) == placed == 10
    assert set(ids) == {str(o["order_id"]) for o in sim(market).inspect_orders()}
    assert sim(market).faults.page_faults == [("order_search", fault)]
