"""Paging through the shared fault plan's page faults against the simulator: an
offset page answered with the page before it and a page shifted by a row landing
ahead of the reader lose no listing or transaction and show none twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.bukalapak import connector as bukalapak_connector
from core.domain.remote import OrderWindow
from simulators.bukalapak import BukalapakSimulator
from simulators.kit.faults import PageFault
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build


@pytest.fixture
def market(monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.setattr(bukalapak_connector, "PAGE_LIMIT", 4)
    monkeypatch.setattr(bukalapak_connector, "OVERLAP", 1)
    return build("bukalapak", FakeTime())


def plan(market: Harness, fault: PageFault, endpoint: str) -> None:
    faults = market.simulator.faults
    if fault is PageFault.REPEAT:
        faults.repeat_page_next(endpoint=endpoint)
    else:
        faults.shift_page_next(endpoint=endpoint)


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_listing_pages_lose_and_double_nothing(
    market: Harness, fault: PageFault
) -> None:
    skus = [f"PG-{n:02d}" for n in range(10)]
    for sku in skus:
        market.sim(BukalapakSimulator).add_product(
            name=f"Tenun {sku}", sku_name=sku, price=85_000, stock=5
        )
    plan(market, fault, "stores.products")
    found = [str(listing.sku) for listing in market.connector.fetch_listings()]
    listed = [str(listing["sku"]) for listing in market.simulator.inspect_listings()]
    assert sorted(found) == sorted(listed)  # each once, the one listed meanwhile too
    assert set(skus) <= set(found)
    assert len(listed) == len(skus) + (fault is PageFault.SHIFT)
    assert market.simulator.faults.page_faults == [("stores.products", fault)]


@pytest.mark.parametrize("fault", [PageFault.REPEAT, PageFault.SHIFT])
def test_transaction_pages_lose_and_double_nothing(
    market: Harness, fault: PageFault
) -> None:
    market.sim(BukalapakSimulator).add_product(
        name="Tenun", sku_name="TENUN-PG", price=85_000, stock=50
    )
    start = market.clock.now()
    placed = market.place_paid_orders(["TENUN-PG"], 10, timedelta(minutes=50))
    plan(market, fault, "transactions.list")
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    ids = [order.external_id for order in market.connector.fetch_orders(window)]
    listed = {str(o["id"]) for o in market.simulator.inspect_orders()}
    assert len(ids) == len(set(ids))
    assert set(ids) == listed  # every placed one, and one landing meanwhile (shift)
    assert len(listed) == placed + (fault is PageFault.SHIFT)
    assert market.simulator.faults.page_faults == [("transactions.list", fault)]
