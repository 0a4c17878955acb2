"""Paging through the shared fault plan's page faults against the simulator: an item
or order page that comes again (``next_offset`` or ``next_cursor`` pointing at it
once more) and a page shifted by one row lose nothing and show nothing twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.shopee import connector as shopee_connector
from core.domain.remote import OrderWindow
from simulators.kit.faults import PageFault
from simulators.shopee import ShopeeSimulator
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build

PAGE = 4


def sim(market: Harness) -> ShopeeSimulator:
    return market.sim(ShopeeSimulator)


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch) -> Harness:
    harness = build("shopee", FakeTime())
    monkeypatch.setattr(shopee_connector, "ITEM_PAGE", PAGE)
    limits = replace(harness.connector.limits, order_page_size=PAGE)
    monkeypatch.setattr(harness.connector, "limits", limits)
    return harness


def plan(market: Harness, fault: PageFault, endpoint: str) -> None:
    faults = sim(market).faults
    if fault is PageFault.REPEAT:
        faults.repeat_page_next(endpoint=endpoint)
    else:
        faults.shift_page_next(endpoint=endpoint)


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_item_pages_lose_and_double_nothing(market: Harness, fault: PageFault) -> None:
    skus = [f"PG-{n:02d}" for n in range(10)]
    for sku in skus:
        sim(market).seed_listing(sku, f"Kopi {sku}", 85_000, 5)
    plan(market, fault, "product.get_item_list")
    found = [str(listing.sku) for listing in market.connector.fetch_listings()]
    assert sorted(found) == skus
    assert sim(market).faults.page_faults == [("product.get_item_list", fault)]


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_order_pages_lose_and_double_nothing(market: Harness, fault: PageFault) -> None:
    sim(market).seed_listing("KOPI-PG", "Kopi", 85_000, 50)
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-PG"], 10, timedelta(minutes=50))
    plan(market, fault, "order.get_order_list")
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    ids = [order.external_id for order in market.connector.fetch_orders(window)]
    assert len(ids) == len(set(ids)) == placed == 10
    assert set(ids) == {str(o["order_sn"]) for o in sim(market).inspect_orders()}
    assert sim(market).faults.page_faults == [("order.get_order_list", fault)]
