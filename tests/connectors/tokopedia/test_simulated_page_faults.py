"""Paging through the shared fault plan's page faults against the simulator: a page
that comes again and a page shifted by a row landing ahead of the reader lose no
listing or order and show none twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.tokopedia import connector as tokopedia_connector
from core.domain.remote import OrderWindow
from simulators.kit.faults import PageFault
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness_tokopedia import TokopediaHarness, build

PAGE = 4


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch) -> TokopediaHarness:
    harness = build(FakeTime())
    monkeypatch.setattr(tokopedia_connector, "PRODUCT_PAGE_SIZE", PAGE)
    limits = replace(harness.connector.limits, order_page_size=PAGE)
    monkeypatch.setattr(harness.connector, "limits", limits)
    return harness


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_listing_pages_lose_and_double_nothing(
    market: TokopediaHarness, fault: PageFault
) -> None:
    skus = [f"PG-{n:02d}" for n in range(10)]
    for sku in skus:
        market.sim.seed_product(sku=sku)
    if fault is PageFault.REPEAT:
        market.sim.repeat_page_next(endpoint="product_info")
    else:
        market.sim.shift_page_next(endpoint="product_info")
    found = [str(listing.sku) for listing in market.connector.fetch_listings()]
    assert sorted(found) == skus
    assert market.sim.faults.page_faults == [("product_info", fault)]


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_order_pages_lose_and_double_nothing(
    market: TokopediaHarness, fault: PageFault
) -> None:
    market.sim.seed_product(sku="KOPI-PG", stock=50)
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-PG"], 10, timedelta(minutes=50))
    if fault is PageFault.REPEAT:
        market.sim.repeat_page_next()
    else:
        market.sim.shift_page_next()
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    ids = [order.external_id for order in market.connector.fetch_orders(window)]
    assert len(ids) == len(set(ids)) == placed == 10
    assert set(ids) == {str(o["order_id"]) for o in market.sim.inspect_orders()}
    assert market.sim.faults.page_faults == [("order_list", fault)]
