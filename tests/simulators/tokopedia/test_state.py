"""Buyers and stock, state export/import, /_sim/ inspection, lost responses."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest

from simulators.kit.buyers import BuyerEngine, BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.tokopedia.model import CANCELLED
from simulators.tokopedia.simulator import TokopediaSimulator
from tests.simulators.tokopedia.conftest import (
    API,
    START,
    Receiver,
    Toko,
    error,
    make_toko,
    ok,
    valid_row,
)


def _held(sim: TokopediaSimulator) -> Counter[int]:
    """Units held by orders that were not cancelled, per product."""
    held: Counter[int] = Counter()
    for order in sim.inspect_orders():
        if order["status"] not in CANCELLED:
            for line in order["lines"]:
                held[line["product_id"]] += line["quantity"]
    return held


def test_buyers_never_order_more_than_the_listing_shows(
    sim_clock: SimClock, receiver: Receiver
) -> None:
    settings = BuyerSettings(
        orders_per_hour=4_000,
        max_quantity=4,
        cancel_share=0.3,
        unpaid_share=0.1,
        pay_after=(10, 600),
        ship_after=(600, 3_600),
    )
    for toko in make_toko(sim_clock, receiver, rate_limits=False, buyers=settings):
        sim = toko.sim
        listed = {
            sim.seed_product(sku=f"U-{i}", name=f"U {i}", stock=units).product_id: units
            for i, units in enumerate((3, 5, 1))
        }
        skus = {pid: f"U-{i}" for i, pid in enumerate(listed)}
        sold_out = set()
        for step in range(600):
            toko.clock.advance(30)
            sim.buyers.tick()
            sim.tick()
            if step % 60 == 59:  # the seller tops every listing up by 2 units
                shown = {
                    p["product_id"]: p["main_stock"] for p in sim.inspect_listings()
                }
                rows = [
                    {"sku": skus[pid], "new_stock": shown[pid] + 2} for pid in listed
                ]
                assert ok(toko.stock(rows))["succeed_rows"] == 3
                for pid in listed:
                    listed[pid] += 2
            held = _held(sim)
            for listing in sim.inspect_listings():
                pid = listing["product_id"]
                assert listing["main_stock"] >= 0
                if listing["main_stock"] == 0:
                    sold_out.add(pid)
                # what is shown + what live orders hold = everything ever listed
                assert listing["main_stock"] + held[pid] == listed[pid]
        assert sim.buyers.placed > 40
        assert sold_out == set(listed)
        orders = sim.inspect_orders()
        assert any(o["status"] in CANCELLED for o in orders)
        assert any(o["status"] == 500 for o in orders)  # shipped within five hours


def test_place_order_refuses_more_than_main_stock_and_below_min_order(
    toko: Toko,
) -> None:
    product_id = toko.sim.seed_product(sku="Q", stock=3, min_order=2).product_id
    assert toko.sim.place_order(str(product_id), 4, "b") is None
    assert toko.sim.place_order(str(product_id), 1, "b") is None
    assert toko.sim.place_order("no-such", 1, "b") is None
    order = toko.sim.place_order(str(product_id), 3, "b")
    assert order is not None
    listing = toko.sim.inspect_listings()[0]
    assert (listing["stock"], listing["status"]) == (0, "empty")
    assert toko.sim.place_order(str(product_id), 2, "b") is None
    assert toko.sim.buyable_listings() == []
    ok(toko.set_active([product_id], active=False))
    ok(toko.stock([{"sku": "Q", "new_stock": 5}]))
    assert toko.sim.place_order(str(product_id), 2, "b") is None  # inactive


def test_stock_is_taken_at_order_and_given_back_on_every_cancellation(
    toko: Toko,
) -> None:
    product_id = toko.sim.seed_product(sku="T", stock=10).product_id

    def stock() -> int:
        return int(toko.sim.inspect_listings()[0]["main_stock"])

    unpaid = toko.sim.place_order(str(product_id), 2, "b")
    assert unpaid is not None
    assert stock() == 8
    assert toko.sim.buyer_event(unpaid, BuyerEvent.CANCEL)
    assert stock() == 10
    fraud = toko.paid_order(product_id, 1)
    assert toko.sim.set_order_status(fraud, 5)
    assert stock() == 10
    assert not toko.sim.set_order_status(fraud, 400)  # cancelled is final
    kept = toko.paid_order(product_id, 4)
    ok(toko.action(kept, "ack"))
    assert stock() == 6
    assert toko.sim.buyer_event(str(kept), BuyerEvent.SHIP)
    assert toko.sim.buyer_event(str(kept), BuyerEvent.DELIVER)
    assert stock() == 6


def _activity(toko: Toko, receiver: Receiver) -> None:
    ok(
        toko.call(
            "POST",
            f"/v1/fs/{toko.fs_id}/register",
            body={
                "order_status_url": "https://p.example/s",
                "webhook_secret": receiver.secret,
            },
        )
    )
    created = ok(
        toko.create([valid_row(), valid_row(sku="BTK-2", name="Batik Cap", stock=0)])
    )
    assert created["success_data"] == 2
    product_id = created["success_rows_data"][0]["product_id"]
    toko.sim.reserve_campaign_stock(product_id, 2)
    toko.sim.add_shop(fs_id=0, name="Toko Lepas")
    for _ in range(3):
        toko.clock.advance(3_600)
        toko.paid_order(product_id)
    order = toko.paid_order(product_id)
    ok(toko.action(order, "ack"))
    toko.sim.request_cancellation(order, "berubah pikiran")


def test_export_import_round_trip(toko: Toko, receiver: Receiver) -> None:
    _activity(toko, receiver)
    state = json.loads(json.dumps(toko.sim.export_state()))
    for clone in make_toko(toko.clock, receiver, rate_limits=False, seed=99):
        clone.sim.import_state(state)
        assert json.loads(json.dumps(clone.sim.export_state())) == state
        assert clone.sim.inspect_listings() == toko.sim.inspect_listings()
        assert clone.sim.inspect_orders() == toko.sim.inspect_orders()
        assert clone.sim.credentials() == toko.sim.credentials()
        # the exported token still works, and the same lists come back
        now = toko.clock.timestamp()
        window = {"from_date": now - 86_400, "to_date": now, "page": 1, "per_page": 50}
        expected = ok(toko.orders(**window))
        answer = clone.call(
            "GET",
            "/v2/order/list",
            params={"fs_id": toko.fs_id, "shop_id": toko.shop_id, **window},
            token=toko.token,
        )
        assert ok(answer) == expected
        assert len(expected) == 4
        assert ok(clone.call("GET", f"/v1/fs/{toko.fs_id}", token=toko.token)) == ok(
            toko.call("GET", f"/v1/fs/{toko.fs_id}")
        )
        # deadlines survive: the open cancel request still expires
        clone.clock.advance(172_800)
        assert clone.sim.tick() == 1
        # ids continue the same sequence as the original would
        assert (
            clone.sim.seed_product(sku="N").product_id
            == toko.sim.seed_product(sku="N").product_id
        )


def test_state_file_round_trip(toko: Toko, receiver: Receiver, tmp_path: Any) -> None:
    _activity(toko, receiver)
    path = tmp_path / "tokopedia.json"
    toko.sim.save_state(path)
    other = TokopediaSimulator(clock=toko.clock, sleep=lambda _s: None, seed=5)
    other.load_state(path)
    assert other.inspect_orders() == toko.sim.inspect_orders()


def test_sim_inspection_endpoints_show_what_the_marketplace_shows(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="V", name="Vas", stock=4).product_id
    ok(toko.stock([{"sku": "V", "new_stock": 6}]))
    order_id = toko.paid_order(product_id, 2)
    listings = toko.http.get(f"{API}/_sim/listings").json()["listings"]
    [item] = ok(toko.info({"product_id": product_id}))
    assert listings == [
        {
            "product_id": product_id,
            "shop_id": int(toko.shop_id),
            "sku": "V",
            "name": "Vas",
            "price": item["price"]["value"],
            "stock": item["stock"]["value"],
            "main_stock": 4,
            "reserve_stock": 0,
            "status": "active",
            "stock_status": "LIMITED",
            "active": True,
            "category_id": item["basic"]["childCategoryID"],
            "url": item["other"]["url"],
            "has_order": True,
        }
    ]
    orders = toko.http.get(f"{API}/_sim/orders").json()["orders"]
    [order] = orders
    detail = ok(toko.order(order_id=order_id))
    assert (order["order_id"], order["status"]) == (order_id, detail["order_status"])
    assert order["invoice_ref_num"] == detail["invoice_number"]
    assert order["lines"][0]["quantity"] == 2
    requests = toko.http.get(f"{API}/_sim/requests").json()["requests"]
    assert requests["stock_update"] == 1
    assert requests["token"] == 1


def test_lost_create_response_then_lookup_by_sku(toko: Toko) -> None:
    toko.sim.faults.lose_response_next(endpoint="product_create")
    with pytest.raises(httpx.ReadTimeout):
        toko.create([valid_row(sku="LOST-1")])
    [found] = ok(toko.info({"sku": "LOST-1"}))
    assert found["other"]["sku"] == "LOST-1"
    retry = ok(toko.create([valid_row(sku="LOST-1")]))
    assert retry["fail_data"] == 1
    assert len(toko.sim.inspect_listings()) == 1


def test_timeouts_apply_nothing(toko: Toko) -> None:
    toko.sim.seed_product(sku="TO")
    toko.sim.faults.timeout_next(endpoint="stock_update")
    with pytest.raises(httpx.ReadTimeout):
        toko.stock([{"sku": "TO", "new_stock": 1}])
    assert toko.sim.inspect_listings()[0]["stock"] == 10


def test_planned_create_row_failure(toko: Toko) -> None:
    toko.sim.faults.fail_items("product_create", ["BAD-1"], "internal row error")
    data = ok(toko.create([valid_row(sku="BAD-1"), valid_row(sku="GOOD-1", name="Ok")]))
    assert data["failed_rows_data"][0]["error"] == ["internal row error"]
    assert [p["sku"] for p in toko.sim.inspect_listings()] == ["GOOD-1"]


def test_same_seed_same_story(sim_clock: SimClock) -> None:
    def story() -> list[Any]:
        clock = SimClock(START, frozen=True)
        sim = TokopediaSimulator(clock=clock, sleep=lambda _s: None, seed=3)
        sim.seed_product(sku="R", stock=20)
        engine = BuyerEngine(sim, BuyerSettings(orders_per_hour=500), clock, seed=3)
        for _ in range(50):
            clock.advance(60)
            engine.tick()
        return [sim.credentials(), sim.inspect_orders(), sim.inspect_listings()]

    assert story() == story()
    other = TokopediaSimulator(clock=sim_clock, sleep=lambda _s: None, seed=4)
    assert other.credentials()["client_id"] != story()[0]["client_id"]


def test_reset_restores_the_seeded_start(toko: Toko) -> None:
    before = toko.sim.credentials()
    toko.sim.seed_product(sku="X")
    toko.sim.reset()
    assert toko.sim.credentials() == before
    assert toko.sim.inspect_listings() == []
    error(toko.info({"shop_id": toko.shop_id, "page": 1}), 401, "OPENAPI_MDLW_401")
