"""The simulator plumbing, through a toy marketplace with one kind of listing."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEngine, BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.faults import FaultKind, FaultPlan, PageFault
from simulators.kit.fragments import FragmentCache, json_array
from simulators.kit.ratelimit import RateLimiter
from simulators.kit.routing import Router, SimRequest, json_response
from simulators.kit.server import SimulatorServer
from simulators.kit.webhooks import Delivery, WebhookDispatcher

START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


class ToyMarket(Simulator):
    """Listings with stock; orders take stock and give it back when cancelled."""

    key = "toy"

    def __init__(self, **options: Any) -> None:
        self.listings: dict[str, int] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        super().__init__(**options)

    def register_routes(self, router: Router) -> None:
        router.add("POST", "/items", self._create, "items.create")
        router.add("GET", "/items/{sku}", self._read, "items.read")

    def _create(self, request: SimRequest) -> httpx.Response:
        body = request.json()
        self.listings[body["sku"]] = int(body["stock"])
        return json_response(201, {"sku": body["sku"]})

    def _read(self, request: SimRequest) -> httpx.Response:
        sku = request.params["sku"]
        if sku not in self.listings:
            return json_response(404, {"error": "no such item"})
        return json_response(200, {"sku": sku, "stock": self.listings[sku]})

    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        return json_response(status, {"error": "server"})

    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        return json_response(429, {"error": "slow down"})

    def not_found_response(
        self, request: SimRequest, path_known: bool
    ) -> httpx.Response:
        return json_response(405 if path_known else 404, {"error": "route"})

    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        return json_response(400, {"error": problem})

    def credentials(self) -> dict[str, str]:
        return {"token": "toy"}

    def inspect_listings(self) -> list[dict[str, Any]]:
        return [{"sku": s, "stock": n} for s, n in sorted(self.listings.items())]

    def inspect_orders(self) -> list[dict[str, Any]]:
        return [{"id": k, **v} for k, v in sorted(self.orders.items())]

    def export_state(self) -> dict[str, Any]:
        return {"listings": self.listings, "orders": self.orders}

    def import_state(self, state: dict[str, Any]) -> None:
        self.listings, self.orders = dict(state["listings"]), dict(state["orders"])

    def buyable_listings(self) -> list[tuple[str, int]]:
        return list(self.listings.items())

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        if self.listings.get(listing, 0) < quantity:
            return None
        self.listings[listing] -= quantity
        order = f"o{len(self.orders) + 1}"
        self.orders[order] = {"sku": listing, "qty": quantity, "status": "unpaid"}
        return order

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        state = self.orders[order]
        allowed = {
            BuyerEvent.PAY: {"unpaid"},
            BuyerEvent.CANCEL: {"unpaid", "paid"},
            BuyerEvent.SHIP: {"paid"},
            BuyerEvent.DELIVER: {"shipped"},
            BuyerEvent.COMPLETE: {"delivered"},
            BuyerEvent.RETURN: {"delivered"},
        }[event]
        if state["status"] not in allowed:
            return False
        if event is BuyerEvent.CANCEL:
            self.listings[state["sku"]] += state["qty"]
        state["status"] = {
            BuyerEvent.PAY: "paid",
            BuyerEvent.CANCEL: "cancelled",
            BuyerEvent.SHIP: "shipped",
            BuyerEvent.DELIVER: "delivered",
            BuyerEvent.COMPLETE: "completed",
            BuyerEvent.RETURN: "returned",
        }[event]
        return True


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START, frozen=True)


@pytest.fixture
def market(clock: SimClock) -> ToyMarket:
    return ToyMarket(clock=clock, seed=7, sleep=lambda _s: None)


def client(market: Simulator) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(market.handler), base_url="https://toy.example"
    )


def test_routes_dispatch_and_unknown_paths(market: ToyMarket) -> None:
    with client(market) as http:
        assert http.post("/items", json={"sku": "A", "stock": 3}).status_code == 201
        assert http.get("/items/A").json() == {"sku": "A", "stock": 3}
        assert http.get("/nowhere").status_code == 404
        assert http.delete("/items/A").status_code == 405
        assert (
            http.post("/items", content=b"{not json")
            .json()["error"]
            .startswith("the request body is not valid JSON")
        )
        counts = http.get("/_sim/requests").json()["requests"]
    assert counts["items.create"] == 2
    assert counts["(unknown)"] == 2


def test_queued_faults_hit_the_named_endpoint_in_order(market: ToyMarket) -> None:
    market.faults.fail_next(endpoint="items.read", status=503)
    market.faults.rate_limit_next(endpoint="items.read")
    with client(market) as http:
        http.post("/items", json={"sku": "A", "stock": 1})
        assert http.get("/items/A").status_code == 503
        assert http.get("/items/A").status_code == 429
        assert http.get("/items/A").status_code == 200


def test_a_timeout_applies_nothing_but_a_lost_response_applies(
    market: ToyMarket,
) -> None:
    with client(market) as http:
        market.faults.timeout_next(endpoint="items.create")
        with pytest.raises(httpx.ReadTimeout):
            http.post("/items", json={"sku": "A", "stock": 1})
        assert "A" not in market.listings
        market.faults.lose_response_next(endpoint="items.create")
        with pytest.raises(httpx.ReadTimeout, match="applied"):
            http.post("/items", json={"sku": "B", "stock": 1})
        assert market.listings["B"] == 1


def test_malformed_and_truncated_bodies(market: ToyMarket) -> None:
    with client(market) as http:
        http.post("/items", json={"sku": "A", "stock": 1})
        market.faults.malformed_next()
        market.faults.truncated_next()
        with pytest.raises(json.JSONDecodeError):
            http.get("/items/A").json()
        with pytest.raises(json.JSONDecodeError):
            http.get("/items/A").json()
        assert http.get("/items/A").json()["stock"] == 1


def test_random_faults_are_the_same_under_the_same_seed(clock: SimClock) -> None:
    def run(seed: int) -> list[tuple[str, FaultKind]]:
        market = ToyMarket(clock=clock, seed=seed, sleep=lambda _s: None)
        market.faults.random_faults(0.3, (FaultKind.ERROR, FaultKind.RATE_LIMIT))
        with client(market) as http:
            for _ in range(50):
                http.get("/items/A")
        return market.faults.injected

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert 5 < len(run(1)) < 30


def test_random_faults_leave_the_spared_endpoints_alone(market: ToyMarket) -> None:
    market.faults.random_faults(1.0, (FaultKind.ERROR,), sparing={"items.read"})
    with client(market) as http:
        assert http.get("/items/A").status_code != 503
        assert http.post("/items", json={"sku": "A", "stock": 1}).status_code == 503
    assert market.faults.injected == [("items.create", FaultKind.ERROR)]


def test_latency_uses_the_injected_sleep(clock: SimClock) -> None:
    slept: list[float] = []
    market = ToyMarket(clock=clock, sleep=slept.append)
    market.faults.set_latency(0.25, endpoint="items.read")
    with client(market) as http:
        http.get("/items/A")
        http.post("/items", json={"sku": "A", "stock": 1})
    assert slept == [0.25]


def test_item_failures_are_asked_for_row_by_row(market: ToyMarket) -> None:
    market.faults.fail_items("stock.update", ["A", "C"], reason="locked")
    assert market.faults.item_failure("stock.update", "A") == "locked"
    assert market.faults.item_failure("stock.update", "B") is None


def test_page_faults_wait_for_a_page_after_the_first() -> None:
    plan = FaultPlan()
    plan.repeat_page_next(endpoint="orders")
    plan.empty_page_next(endpoint="orders")
    assert plan.page_fault("items", first=False) is None  # another endpoint
    assert plan.page_fault("orders", first=True) is PageFault.EMPTY  # any page
    assert plan.page_fault("orders", first=True) is None  # a repeat waits
    assert plan.page_fault("orders", first=False) is PageFault.REPEAT
    assert plan.page_fault("orders", first=False) is None
    assert plan.page_faults == [
        ("orders", PageFault.EMPTY),
        ("orders", PageFault.REPEAT),
    ]
    plan.shift_page_next(2)
    plan.clear()
    assert plan.page_fault("orders", first=False) is None
    with pytest.raises(ValueError, match="0 or more"):
        plan.shift_page_next(-1)


def test_page_start_moves_offset_pages_as_planned() -> None:
    plan = FaultPlan()
    plan.repeat_page_next(endpoint="list")
    assert plan.page_start("list", 0, 10) == 0  # the first page: no repeat yet
    assert plan.page_start("list", 10, 10) == 0  # the page before, again
    assert plan.page_start("list", 10, 10) == 10
    plan.shift_page_next(endpoint="list")
    assert plan.page_start("list", 20, 10) == 19  # a row landed ahead
    assert plan.page_start("list", 30, 10) == 29  # for the rest of the walk
    plan.empty_page_next(endpoint="list")
    assert plan.page_start("list", 40, 10) is None
    assert plan.page_start("list", 0, 10) == 0  # a new walk: no shift
    assert plan.page_start("list", 10, 10) == 10


def test_state_files_round_trip_and_refuse_another_marketplace(
    market: ToyMarket, clock: SimClock, tmp_path: Path
) -> None:
    market.listings["A"] = 4
    market.place_order("A", 2, "buyer")
    path = tmp_path / "toy.json"
    market.save_state(path)
    restored = ToyMarket(clock=clock)
    restored.load_state(path)
    assert restored.listings == {"A": 2}
    assert restored.orders == market.orders
    path.write_text(json.dumps({"marketplace": "other", "state": {}}))
    with pytest.raises(ValueError, match="not 'toy'"):
        restored.load_state(path)


def test_token_buckets_refill_with_the_clock(clock: SimClock) -> None:
    limiter = RateLimiter(clock, rate=5, burst=5)
    assert [limiter.take("k") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.take_up_to("k", 3) == 0
    clock.advance(0.4)
    assert limiter.take_up_to("k", 3) == 2
    clock.advance(0.2)  # exactly one token's worth: no rounding may lose it
    assert limiter.take("k")
    assert limiter.state("k").seconds_until(1) == pytest.approx(0.2)
    assert RateLimiter(clock, 1, 1, enabled=False).take("k", 100)


def test_buyers_never_order_more_than_a_listing_shows(
    market: ToyMarket, clock: SimClock
) -> None:
    market.listings.update({"A": 3, "B": 1})
    engine = BuyerEngine(
        market, BuyerSettings(orders_per_hour=3_600, max_quantity=5), clock, seed=3
    )
    for _ in range(200):
        clock.advance(10)
        engine.tick()
        assert all(units >= 0 for units in market.listings.values())
    taken = sum(o["qty"] for o in market.orders.values() if o["status"] != "cancelled")
    assert taken + sum(market.listings.values()) == 4
    assert engine.placed == len(market.orders) > 0


def test_buyers_drive_orders_through_their_lives(
    market: ToyMarket, clock: SimClock
) -> None:
    market.listings["A"] = 10_000
    settings = BuyerSettings(
        orders_per_hour=600, cancel_share=0.2, return_share=0.2, unpaid_share=0.1
    )
    engine = BuyerEngine(market, settings, clock, seed=11)
    for _ in range(24 * 14):  # two simulated weeks, hour by hour
        clock.advance(hours=1)
        engine.tick()
    statuses = [o["status"] for o in market.orders.values()]
    assert {"completed", "returned", "cancelled"} <= set(statuses)
    share = statuses.count("cancelled") / len(statuses)
    assert 0.15 < share < 0.45  # unpaid + cancelled, drawn at random


def test_webhook_faults(clock: SimClock) -> None:
    received: list[tuple[bytes, str]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append((request.content, request.headers.get("X-Sig", "")))
        return httpx.Response(200)

    failed: list[Delivery] = []
    dispatcher = WebhookDispatcher(
        clock=clock,
        client=httpx.Client(transport=httpx.MockTransport(receiver)),
        on_failed=failed.append,
    )
    send = dispatcher.send
    dispatcher.drop_next()
    send("https://r.example/h", b"1", {"X-Sig": "abc"}, "X-Sig")
    dispatcher.duplicate_next()
    send("https://r.example/h", b"2", {"X-Sig": "abc"}, "X-Sig")
    dispatcher.hold_next(2)
    send("https://r.example/h", b"3", {"X-Sig": "abc"}, "X-Sig")
    send("https://r.example/h", b"4", {"X-Sig": "abc"}, "X-Sig")
    dispatcher.bad_signature_next()
    send("https://r.example/h", b"5", {"X-Sig": "abc"}, "X-Sig")
    dispatcher.release_held(reverse=True)
    assert [body for body, _ in received] == [b"2", b"2", b"5", b"4", b"3"]
    assert received[2][1] == "0bc"
    assert [d.body for d in failed] == [b"1"]


def test_undelivered_webhooks_are_retried_then_reported(clock: SimClock) -> None:
    attempts: list[int] = []
    slept: list[float] = []
    failed: list[Delivery] = []

    def refusing(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        return httpx.Response(503)

    dispatcher = WebhookDispatcher(
        clock=clock,
        client=httpx.Client(transport=httpx.MockTransport(refusing)),
        retry_delays=(1.0, 5.0),
        sleep=slept.append,
        on_failed=failed.append,
    )
    delivery = dispatcher.send("https://r.example/h", b"x", {}, "X-Sig")
    assert (len(attempts), slept, delivery.attempts) == (3, [1.0, 5.0], 3)
    assert failed == [delivery]
    assert delivery.error == "HTTP 503"


def test_served_over_http_with_timeouts_closing_the_connection(clock: SimClock) -> None:
    market = ToyMarket(clock=clock)
    server = SimulatorServer(market, tick_seconds=0.05)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            assert http.post("/items", json={"sku": "A", "stock": 2}).status_code == 201
            assert http.get("/_sim/listings").json() == {
                "listings": [{"sku": "A", "stock": 2}]
            }
            market.faults.lose_response_next(endpoint="items.create")
            with pytest.raises(httpx.RemoteProtocolError):
                http.post("/items", json={"sku": "B", "stock": 1})
            assert market.listings["B"] == 1
    finally:
        server.stop()
    assert not any(t.name == "serve" and t.is_alive() for t in threading.enumerate())


def test_fragment_cache_keeps_the_most_recently_used() -> None:
    cache = FragmentCache(limit=2)
    renders: list[str] = []

    def render(name: str) -> bytes:
        renders.append(name)
        return name.encode()

    assert cache.get("a", 1, render, "a1") == b"a1"
    assert cache.get("a", 1, render, "a2") == b"a1"  # kept
    assert cache.get("a", 2, render, "a3") == b"a3"  # the signature changed
    cache.get("b", 1, render, "b1")
    cache.get("a", 2, render, "unused")  # a is now the most recent
    cache.get("c", 1, render, "c1")  # evicts b
    assert len(cache) == 2
    assert cache.get("b", 1, render, "b2") == b"b2"
    cache.discard("b")
    assert cache.get("b", 1, render, "b3") == b"b3"
    assert renders == ["a1", "a3", "b1", "c1", "b2", "b3"]


def test_fragment_cache_encodes_data_and_can_keep_everything() -> None:
    cache = FragmentCache(limit=None)
    assert cache.get(1, ("v1",), lambda: {"id": 1, "name": "Kopi"}) == (
        b'{"id":1,"name":"Kopi"}'
    )
    for key in range(2, 1_000):
        cache.keep(key, ("v1",), b"{}")
    assert len(cache) == 999
    assert cache.find(1, ("v1",)) == b'{"id":1,"name":"Kopi"}'
    assert cache.find(1, ("v2",)) is None
    assert json_array([b"1", b'"a"']) == b'[1,"a"]'
    cache.clear()
    assert len(cache) == 0
