"""The page's §8.2 faults, end to end against the simulator (through the contract
harness): envelope mismatch, shifting pages, masked phones, state races, closed
marketplace, token expiry and a rejected refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.ids import Sku
from core.domain.remote import (
    ChangeKind,
    ListingChange,
    OrderWindow,
    StockUpdate,
)
from core.domain.sync import OrderStatus
from core.errors import AuthError, RejectedError, TransientError
from simulators.bukalapak import BukalapakSimulator
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build


@pytest.fixture
def market() -> Harness:
    return build("bukalapak", FakeTime())


def created(market: Harness, *skus: str) -> dict[str, tuple[str, str]]:
    results = market.connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, market.draft(s)) for s in skus]
    )
    assert all(r.ok for r in results), [r.error for r in results]
    return {r.sku: (str(r.external_id), str(r.external_variant_id)) for r in results}


def test_an_http_200_that_says_422_fails_the_item(market: Harness) -> None:
    ids = created(market, "KOPI-FLR-001")
    market.sim(BukalapakSimulator).envelope_mismatch_next(
        1, endpoint="skus.update", status=422
    )
    product, variant = ids["KOPI-FLR-001"]
    (result,) = market.connector.push_stock(
        [StockUpdate(Sku("KOPI-FLR-001"), product, 3, variant)]
    )
    assert isinstance(result.error, RejectedError)


def test_an_http_200_that_says_500_is_retried(market: Harness) -> None:
    ids = created(market, "KOPI-FLR-001")
    market.sim(BukalapakSimulator).envelope_mismatch_next(
        2, endpoint="skus.update", status=500
    )
    product, variant = ids["KOPI-FLR-001"]
    (result,) = market.connector.push_stock(
        [StockUpdate(Sku("KOPI-FLR-001"), product, 3, variant)]
    )
    assert result.ok
    assert market.simulator.requests["skus.update"] == 3


def test_shifting_pages_lose_and_repeat_nothing(market: Harness) -> None:
    created(market, "KOPI-FLR-001")
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-FLR-001"], 120, timedelta(hours=6))
    market.sim(BukalapakSimulator).shift_pages_next(2)
    market.sim(BukalapakSimulator).mask_phones = True
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    orders = list(market.connector.fetch_orders(window))
    ids = [o.external_id for o in orders]
    assert len(ids) == len(set(ids))
    assert len(ids) == placed + 2  # the two transactions that landed meanwhile
    assert {o.external_id for o in orders} == {
        str(o["id"]) for o in market.simulator.inspect_orders()
    }


def test_a_state_race_shows_the_state_read_last(market: Harness) -> None:
    created(market, "KOPI-FLR-001")
    market.place_paid_orders(["KOPI-FLR-001"], 1, timedelta(minutes=1))
    (txn,) = market.simulator.inspect_orders()
    market.sim(BukalapakSimulator).race_next(1, endpoint="transactions.get")
    order = market.connector.fetch_order(str(txn["id"]))
    assert (order.raw_status, order.status) == ("cancelled", OrderStatus.CANCELLED)


def test_a_closed_marketplace_refuses_writes_item_by_item(
    market: Harness,
) -> None:
    ids = created(market, "KOPI-FLR-001")
    market.sim(BukalapakSimulator).set_closed()
    product, variant = ids["KOPI-FLR-001"]
    results = market.connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, market.draft("TENUN-SKA-001"))]
    )
    assert isinstance(results[0].error, RejectedError)
    assert "no longer sells physical products" in str(results[0].error)
    (stock,) = market.connector.push_stock(
        [StockUpdate(Sku("KOPI-FLR-001"), product, 3, variant)]
    )
    assert isinstance(stock.error, RejectedError)
    market.connector.check()  # reads still work


def test_lapsed_tokens_are_refreshed_before_use(market: Harness) -> None:
    before = market.tokens.load(market.account_id).version
    market.clock.advance(hours=5)
    market.connector.check()
    assert market.tokens.load(market.account_id).version == before + 1


def test_a_rejected_refresh_needs_reauthorisation(market: Harness) -> None:
    market.sim(BukalapakSimulator).expire_access_tokens()
    market.sim(BukalapakSimulator).reject_refresh_next()
    with pytest.raises(AuthError):
        market.connector.check()
    assert market.tokens.load(market.account_id).needs_reauthorisation
    assert market.simulator.requests["oauth.token"] == 2  # authorise + one refresh


def test_server_errors_on_reads_end_transient(market: Harness) -> None:
    market.simulator.faults.fail_next(20, endpoint="stores.products", status=502)
    with pytest.raises(TransientError):
        market.connector.check()
