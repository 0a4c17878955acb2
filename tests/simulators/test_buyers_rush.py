"""``POST /_sim/buyers``: buyers order now and their payment is due at once.

Run against each simulator with one listing on a frozen clock: the orders placed by the
call have been paid when it returns, never take more than the listing shows, and a
body that is not ``{"orders": 1..1000}`` is refused without placing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulators.bukalapak.simulator import BukalapakSimulator
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from simulators.tokopedia.simulator import TokopediaSimulator

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
SKU = "KOPI-FLR-001"
#: Every buyer pays; nobody cancels or returns (their lives stay predictable).
PAYING = BuyerSettings(unpaid_share=0.0, cancel_share=0.0, return_share=0.0)


@dataclass
class Shop:
    """A simulator holding one listing of ``SKU``, behind an in-process client, and
    how its marketplace names an unpaid and a paid order."""

    sim: Simulator
    clock: SimClock
    http: httpx.Client
    id_field: str
    unpaid: object
    paid: object

    def rush(self, content: bytes) -> httpx.Response:
        return self.http.post(
            "/_sim/buyers",
            content=content,
            headers={"Content-Type": "application/json"},
        )

    def orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get("/_sim/orders").json()["orders"]
        return found

    def order_ids(self) -> set[str]:
        return {str(order[self.id_field]) for order in self.orders()}

    def stock(self) -> int:
        (listing,) = [
            x
            for x in self.http.get("/_sim/listings").json()["listings"]
            if x["sku"] == SKU
        ]
        units: int = listing["stock"]
        return units


def _shopee(clock: SimClock, settings: BuyerSettings, stock: int) -> Shop:
    sim = ShopeeSimulator(
        clock=clock, seed=5, sleep=lambda _s: None, rate_limits=False, buyers=settings
    )
    sim.seed_listing(SKU, "Kopi Arabika Flores", 85_000, stock)
    return Shop(sim, clock, _client(sim), "order_sn", "UNPAID", "READY_TO_SHIP")


def _tokopedia(clock: SimClock, settings: BuyerSettings, stock: int) -> Shop:
    sim = TokopediaSimulator(
        clock=clock, seed=5, sleep=lambda _s: None, rate_limits=False, buyers=settings
    )
    sim.seed_product(sku=SKU, stock=stock)
    return Shop(sim, clock, _client(sim), "order_id", 100, 220)


def _bukalapak(clock: SimClock, settings: BuyerSettings, stock: int) -> Shop:
    sim = BukalapakSimulator(
        clock=clock, seed=5, sleep=lambda _s: None, rate_limits=False, buyers=settings
    )
    sim.add_product(name="Kopi Arabika Flores", sku_name=SKU, price=85_000, stock=stock)
    return Shop(sim, clock, _client(sim), "id", "pending", "paid")


def _client(sim: Simulator) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(sim.handler), base_url="http://simulator.test"
    )


BUILDERS: dict[str, Callable[[SimClock, BuyerSettings, int], Shop]] = {
    "shopee": _shopee,
    "tokopedia": _tokopedia,
    "bukalapak": _bukalapak,
}


@pytest.fixture(params=sorted(BUILDERS))
def make_shop(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., Shop]]:
    built: list[Shop] = []

    def make(settings: BuyerSettings = PAYING, stock: int = 100) -> Shop:
        shop = BUILDERS[request.param](SimClock(START, frozen=True), settings, stock)
        built.append(shop)
        return shop

    yield make
    for shop in built:
        shop.http.close()


def test_rushed_buyers_have_paid_when_the_call_returns(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop()
    answer = shop.rush(b'{"orders": 5}')
    assert answer.status_code == 200, answer.text
    placed = answer.json()["placed"]
    assert len(placed) == 5
    assert shop.clock.now() == START  # no simulated time had to pass
    orders = shop.orders()
    assert {str(o[shop.id_field]) for o in orders} == set(placed)
    assert [o["status"] for o in orders] == [shop.paid] * 5
    assert shop.stock() == 100 - sum(
        line["quantity"] for o in orders for line in o["lines"]
    )
    # The later steps keep their usual delays: shipping comes hours later.
    shop.clock.advance(seconds=PAYING.ship_after[1] + 1)
    shop.sim.tick()
    assert shop.paid not in {o["status"] for o in shop.orders()}


def test_with_the_usual_shares_no_rushed_order_is_left_awaiting_payment(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop(BuyerSettings(unpaid_share=0.3))
    answer = shop.rush(b'{"orders": 40}')
    assert answer.status_code == 200, answer.text
    statuses = [o["status"] for o in shop.orders()]
    assert len(statuses) == len(answer.json()["placed"]) == 40
    assert shop.unpaid not in statuses  # paid, or lapsed unpaid, at once
    assert shop.paid in statuses


def test_rushed_buyers_never_take_more_than_the_listing_shows(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop(PAYING, stock=4)
    answer = shop.rush(b'{"orders": 1000}')  # the most one call may ask
    assert answer.status_code == 200, answer.text
    placed = set(answer.json()["placed"])
    orders = shop.orders()
    assert shop.order_ids() == placed
    paid_units = sum(
        line["quantity"]
        for o in orders
        if o["status"] == shop.paid
        for line in o["lines"]
    )
    assert 0 < paid_units <= 4
    assert shop.stock() == 4 - paid_units >= 0
    assert all(
        o["status"] != shop.paid
        or all(1 <= line["quantity"] <= 3 for line in o["lines"])
        for o in orders
    )


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"{}",
        b'{"count": 3}',
        b'{"orders": 0}',
        b'{"orders": -1}',
        b'{"orders": 1001}',
        b'{"orders": true}',
        b'{"orders": "3"}',
        b'{"orders": 2.5}',
        b'{"orders": null}',
        b"[3]",
    ],
    ids=lambda c: c.decode() or "empty",
)
def test_a_bad_body_is_refused_and_places_nothing(
    make_shop: Callable[..., Shop], content: bytes
) -> None:
    shop = make_shop()
    answer = shop.rush(content)
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert shop.orders() == []
    assert shop.sim.buyers.placed == 0
    assert shop.stock() == 100
