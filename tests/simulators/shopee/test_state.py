"""State export/import, the simulated buyers against listed stock, and the /_sim/
inspection endpoints."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from simulators.kit.buyers import BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import PageClient, ShopSession
from tests.simulators.shopee.conftest import START, client_for

LIST = "/api/v2/product/get_item_list"


def test_export_import_round_trip(
    sim: ShopeeSimulator, clock: SimClock, api: PageClient, shop: ShopSession
) -> None:
    plain = shop.add_item(seller_stock=[{"stock": 9}])
    variants = shop.add_variant_item(3)
    orders = [sim.place_order(f"{plain}:0", 2, f"b{n}") for n in range(3)]
    assert all(orders)
    sim.buyer_event(str(orders[0]), BuyerEvent.PAY)
    sim.buyer_event(str(orders[1]), BuyerEvent.CANCEL)
    sim.set_promotion(variants, shop.models(variants)[0]["model_id"], reserved=1)
    sim.set_daily_quota(1_000)
    spent = api.refresh(shop.refresh_token, shop_id=shop.shop_id).json()
    state = json.loads(json.dumps(sim.export_state()))

    copy = ShopeeSimulator(
        clock=clock, seed=99, sleep=lambda _s: None, rate_limits=False
    )
    copy.import_state(state)
    assert copy.export_state() == sim.export_state()
    assert copy.inspect_listings() == sim.inspect_listings()
    assert copy.inspect_orders() == sim.inspect_orders()
    assert copy.credentials() == sim.credentials()

    assert copy.place_order(f"{plain}:0", 1, "x") == sim.place_order(
        f"{plain}:0", 1, "x"
    )

    mirror = client_for(copy, clock)
    same = ShopSession(
        mirror, shop.shop_id, spent["access_token"], spent["refresh_token"]
    )
    renewed = ShopSession(
        api, shop.shop_id, spent["access_token"], spent["refresh_token"]
    )
    assert same.add_item(item_sku="NEXT") == renewed.add_item(item_sku="NEXT")
    reused = mirror.refresh(shop.refresh_token, shop_id=shop.shop_id)
    assert reused.json()["message"] == "Invalid refresh_token."


def test_state_files_and_reset(
    sim: ShopeeSimulator, shop: ShopSession, tmp_path: Path
) -> None:
    shop.add_item()
    path = tmp_path / "shopee.json"
    sim.save_state(path)
    before = sim.inspect_listings()
    sim.reset()
    assert sim.inspect_listings() == []
    sim.load_state(path)
    assert sim.inspect_listings() == before


def test_buyers_never_order_more_than_listed(clock: SimClock) -> None:
    settings = BuyerSettings(
        orders_per_hour=3_600,
        max_quantity=3,
        cancel_share=0.3,
        unpaid_share=0.2,
        pay_after=(60, 600),
        ship_after=(600, 3_600),
        deliver_after=(3_600, 7_200),
        complete_after=(3_600, 7_200),
    )
    sim = ShopeeSimulator(
        clock=clock, seed=11, sleep=lambda _s: None, rate_limits=False, buyers=settings
    )
    initial = {
        sim.seed_listing(f"SKU-{n}", f"Tikar Pandan Motif {n}", 40_000, 5): 5
        for n in range(3)
    }
    for _ in range(48 * 6):  # two days in ten-minute steps
        clock.advance(minutes=10)
        with sim.lock:
            sim.buyers.tick()
    assert sim.buyers.placed >= 10
    ordered: dict[int, int] = defaultdict(int)
    holding: dict[int, int] = defaultdict(int)
    shipped: dict[int, int] = defaultdict(int)
    for order in sim.inspect_orders():
        line = order["lines"][0]
        if order["status"] != "CANCELLED":
            ordered[line["item_id"]] += line["quantity"]
        if order["status"] in ("UNPAID", "READY_TO_SHIP", "PROCESSED", "IN_CANCEL"):
            holding[line["item_id"]] += line["quantity"]
        if order["status"] in (
            "SHIPPED",
            "TO_CONFIRM_RECEIVE",
            "COMPLETED",
            "TO_RETURN",
        ):
            shipped[line["item_id"]] += line["quantity"]
    assert any(o["status"] == "CANCELLED" for o in sim.inspect_orders())
    for listing in sim.inspect_listings():
        item_id = listing["item_id"]
        assert ordered[item_id] <= initial[item_id]
        assert listing["reserved_stock"] == holding[item_id]
        assert listing["seller_stock"] + shipped[item_id] == initial[item_id]
        assert listing["stock"] == initial[item_id] - ordered[item_id]
        assert listing["stock"] >= 0


def test_buyers_stop_at_zero_and_resume_after_cancellation(
    sim: ShopeeSimulator,
) -> None:
    item_id = sim.seed_listing("ONE", "Batik Tulis Sambas", 250_000, 2)
    for _ in range(20):
        sim.buyers.place_one()
    orders = sim.inspect_orders()
    assert sum(o["lines"][0]["quantity"] for o in orders) == 2
    assert sim.buyable_listings() == []
    assert sim.buyer_event(orders[0]["order_sn"], BuyerEvent.CANCEL)
    assert sim.buyable_listings() == [
        (f"{item_id}:0", orders[0]["lines"][0]["quantity"])
    ]


def test_sim_endpoints_show_what_the_marketplace_shows(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    item_id = shop.add_item(seller_stock=[{"stock": 6}])
    shop.post(
        "/api/v2/product/update_stock",
        {
            "item_id": item_id,
            "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 8}]}],
        },
    )
    order = sim.place_order(f"{item_id}:0", 3, "buyer")
    sim.buyer_event(str(order), BuyerEvent.PAY)
    listings = api.http.get("/_sim/listings").json()["listings"]
    assert [
        (x["sku"], x["stock"], x["reserved_stock"], x["status"]) for x in listings
    ] == [("KOPI-FLR-001", 5, 3, "NORMAL")]
    orders = api.http.get("/_sim/orders").json()["orders"]
    assert [
        (o["order_sn"], o["status"], o["lines"][0]["quantity"]) for o in orders
    ] == [(order, "READY_TO_SHIP", 3)]
    counted = api.http.get("/_sim/requests").json()["requests"]
    assert counted["product.update_stock"] == 1


def test_same_seed_same_world(clock: SimClock) -> None:
    first = ShopeeSimulator(clock=SimClock(START, frozen=True), seed=5)
    second = ShopeeSimulator(clock=SimClock(START, frozen=True), seed=5)
    third = ShopeeSimulator(clock=SimClock(START, frozen=True), seed=6)
    assert first.credentials() == second.credentials()
    assert first.credentials()["partner_key"] != third.credentials()["partner_key"]
    assert first.issue_code() == second.issue_code()
