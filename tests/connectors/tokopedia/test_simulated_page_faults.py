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
from simulators.tokopedia import TokopediaSimulator
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build

PAGE = 4


def sim(market: Harness) -> TokopediaSimulator:
    return market.sim(TokopediaSimulator)


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch) -> Harness:
    harness = build("tokopedia", FakeTime())
    monkeypatch.setattr(tokopedia_connector, "PRODUCT_PAGE_SIZE", PAGE)
    limits = replace(harness.connector.limits, order_page_size=PAGE)
    monkeypatch.setattr(harness.connector, "limits", limits)
    return harness


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_listing_pages_lose_and_double_nothing(
    market: Harness, fault: PageFault
) -> None:
    skus = [f"PG-{n:02d}" for n in range(10)]
    for sku in skus:
        sim(market).seed_product(sku=sku)
    if fault is PageFault.REPEAT:
        sim(market).repeat_page_next(endpoint="product_info")
    else:
        sim(market).shift_page_next(endpoint="product_info")
    found = [str(listing.sku) for listing in market.connector.fetch_listings()]
    assert sorted(found) == skus
    assert sim(market).faults.page_faults == [("product_info", fault)]


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_order_pages_lose_and_double_nothing(market: Harness, fault: PageFault) -> None:
    sim(market).seed_product(sku="KOPI-PG", stock=50)
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-PG"], 10, timedelta(minutes=50))
    if fault is PageFault.REPEAT:
        sim(market).repeat_page_next()
    else:
        sim(market).shift_page_next()
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    ids = [order.external_id for order in market.connector.fetch_orders(window)]
    assert len(ids) == len(set(ids)) == placed == 10
    assert set(ids) == {str(o["order_id"]) for o in sim(market).inspect_orders()}
    assert sim(market).faults.page_faults == [("order_list", fault)]
