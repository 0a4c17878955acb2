"""Simulated buyers, stock accounting, inspection endpoints and state files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from simulators.kit.buyers import BuyerEvent, BuyerSettings
from tests.simulators.bukalapak._support import (
    Market,
    bearer,
    create_product,
    make_market,
)

HOLDING = {"paid", "accepted", "delivered", "received", "remitted"}


def _check_stock(market: Market, initial: dict[int, int]) -> Counter[str]:
    """Stock never negative; shown stock + units held by paid orders = initial."""
    listings = {
        e["sku_id"]: e for e in market.api.get("/_sim/listings").json()["listings"]
    }
    orders = market.api.get("/_sim/orders").json()["orders"]
    held: Counter[int] = Counter()
    for order in orders:
        assert order["reserved"] == (order["status"] in HOLDING)
        if order["reserved"]:
            for line in order["lines"]:
                held[line["sku_id"]] += line["quantity"]
    for sku_id, units in initial.items():
        assert listings[sku_id]["stock"] >= 0
        assert listings[sku_id]["stock"] + held[sku_id] == units
    return Counter(order["status"] for order in orders)


def test_buyers_never_take_more_than_the_listed_stock() -> None:
    settings = BuyerSettings(
        orders_per_hour=600,
        max_quantity=3,
        pay_after=(60, 7_200),
        unpaid_share=0.1,
        cancel_share=0.15,
        return_share=0.1,
    )
    market = make_market(buyers=settings, seed=11)
    initial = {}
    for number, units in enumerate((4, 7, 2)):
        product = market.sim.add_product(
            name=f"Kerajinan {number}",
            sku_name=f"KR-{number}",
            price=5_000,
            stock=units,
        )
        initial[market.sim.catalogue.products[product].sku_ids[0]] = units

    for _ in range(240):
        market.clock.advance(minutes=30)
        market.sim.buyers.tick()
        _check_stock(market, initial)

    statuses = _check_stock(market, initial)
    assert market.sim.buyers.placed > sum(initial.values())  # buyers wanted more
    sold = sum(statuses[s] for s in HOLDING)
    assert 0 < sold <= sum(initial.values())
    assert statuses["expired"] > 0  # payments refused once stock ran out
    assert market.sim.webhooks.log == []  # Bukalapak has no webhooks
    assert market.api.get("/_sim/webhooks").json()["webhooks"] == []


def test_buyers_act_while_the_api_is_called() -> None:
    market = make_market(buyers=BuyerSettings(orders_per_hour=3_600), seed=5)
    token = market.seller_token()
    create_product(market, token, stock=1_000)

    for _ in range(20):
        market.clock.advance(seconds=30)
        market.api.get("/me", headers=bearer(token))

    listed = market.api.get(
        "/transactions", params={"context": "sale", "limit": 50}, headers=bearer(token)
    ).json()
    assert listed["meta"]["total"] == market.sim.buyers.placed > 0


def test_buyer_events_follow_the_state_machine(market: Market) -> None:
    product = market.sim.add_product(name="Tikar", sku_name="TK", price=1, stock=9)
    sku = str(market.sim.catalogue.products[product].sku_ids[0])

    unpaid = market.sim.place_order(sku, 1, "b-1")
    paid = market.sim.place_order(sku, 1, "b-2")
    assert unpaid is not None
    assert paid is not None
    assert not market.sim.buyer_event(unpaid, BuyerEvent.SHIP)
    assert market.sim.buyer_event(unpaid, BuyerEvent.CANCEL)  # lapses unpaid
    assert market.sim.buyer_event(paid, BuyerEvent.PAY)
    assert not market.sim.buyer_event(paid, BuyerEvent.PAY)
    assert not market.sim.buyer_event(paid, BuyerEvent.DELIVER)
    assert market.sim.buyer_event(paid, BuyerEvent.CANCEL)
    assert market.sim.buyer_event(paid, BuyerEvent.RETURN)  # refund
    assert not market.sim.buyer_event("999", BuyerEvent.PAY)

    states = {o["id"]: o["status"] for o in market.sim.inspect_orders()}
    assert states == {int(unpaid): "expired", int(paid): "refunded"}


def test_place_order_refuses_more_than_shown(market: Market) -> None:
    product = market.sim.add_product(name="Tikar", sku_name="TK", price=1, stock=2)
    sku = str(market.sim.catalogue.products[product].sku_ids[0])

    assert market.sim.buyable_listings() == [(sku, 2)]
    assert market.sim.place_order(sku, 3, "b-1") is None
    assert market.sim.place_order(sku, 0, "b-1") is None
    assert market.sim.place_order("nope", 1, "b-1") is None
    assert market.sim.place_order(sku, 2, "b-1") is not None


def test_inactive_and_empty_skus_are_not_buyable(market: Market, token: str) -> None:
    data = create_product(market, token, stock=3)
    empty = create_product(market, token, stock=0, sku_name="EMPTY")
    sku = data["skus"][0]["id"]
    market.api.patch(
        f"/products/{data['id']}/skus/{sku}",
        headers=bearer(token),
        json={"state": "inactive"},
    )

    assert market.sim.buyable_listings() == []
    assert market.sim.place_order(str(sku), 1, "b-1") is None
    assert market.sim.place_order(str(empty["skus"][0]["id"]), 1, "b-1") is None


def test_inspection_shows_what_the_api_shows(market: Market, token: str) -> None:
    data = create_product(market, token, price=12_000, stock=4)
    sku = data["skus"][0]["id"]
    market.api.patch(
        f"/products/{data['id']}/skus/{sku}",
        headers=bearer(token),
        json={"price": 13_000, "stock": 6},
    )
    order = market.sim.place_order(str(sku), 2, "b-1")
    assert order is not None
    assert market.sim.buyer_event(order, BuyerEvent.PAY)

    listings = market.api.get("/_sim/listings").json()["listings"]
    orders = market.api.get("/_sim/orders").json()["orders"]
    api_sku = market.api.get(
        f"/products/{data['id']}/skus", headers=bearer(token)
    ).json()["data"][0]

    assert listings == [
        {
            "sku": "BTK-001",
            "name": "Batik Tulis Pekalongan",
            "price": 13_000,
            "stock": 4,
            "status": "active",
            "product_id": data["id"],
            "sku_id": sku,
            "store_id": int(market.creds["store_id"]),
            "variant_name": "",
        }
    ]
    assert (api_sku["price"], api_sku["stock"]) == (13_000, 4)
    assert len(orders) == 1
    assert orders[0]["id"] == int(order)
    assert orders[0]["status"] == "paid"
    assert orders[0]["lines"] == [
        {
            "sku": "BTK-001",
            "sku_id": sku,
            "product_id": data["id"],
            "quantity": 2,
            "price": 13_000,
        }
    ]
    assert market.api.get("/_sim/requests").json()["requests"]["skus.update"] == 1


def _populate(market: Market) -> dict[str, Any]:
    tokens = market.tokens()
    token = tokens["access_token"]
    data = create_product(market, token, stock=20)
    sku = data["skus"][0]["id"]
    orders = []
    for number, events in enumerate(
        ([], [BuyerEvent.PAY], [BuyerEvent.PAY, BuyerEvent.SHIP], [BuyerEvent.CANCEL])
    ):
        market.clock.advance(minutes=number + 1)
        order = market.sim.place_order(str(sku), number + 1, f"buyer-{number}")
        assert order is not None
        for event in events:
            market.sim.buyer_event(order, event)
        orders.append(order)
    market.sim.mask_phone(int(orders[0]))
    market.sim.set_closed()
    return tokens


def test_export_import_round_trip() -> None:
    source = make_market(seed=21)
    tokens = _populate(source)
    state = json.loads(json.dumps(source.sim.export_state()))

    target = make_market(seed=99)
    target.sim.import_state(state)
    target.creds = target.sim.credentials()
    target.clock.advance(minutes=10)
    source.clock.advance(minutes=10)

    assert target.sim.export_state() == source.sim.export_state()
    assert target.sim.inspect_listings() == source.sim.inspect_listings()
    assert target.sim.inspect_orders() == source.sim.inspect_orders()
    assert target.sim.credentials() == source.sim.credentials()
    token = tokens["access_token"]
    for market in (source, target):
        listed = market.api.get(
            "/transactions", params={"context": "sale"}, headers=bearer(token)
        ).json()
        assert listed["meta"]["total"] == 4
        assert "Terkunci" in listed["data"][-1]["delivery"]["consignee"]["phone"]
    renewed = [
        m.refresh(tokens["refresh_token"]).json()["access_token"]
        for m in (source, target)
    ]
    assert renewed[0] == renewed[1]  # the generator continues identically
    for market in (source, target):
        market.sim.set_closed(False)
    ids = [
        create_product(m, token, sku_name="NEXT")["id"]
        for m, token in ((source, renewed[0]), (target, renewed[1]))
    ]
    assert ids[0] == ids[1]


def test_state_file_round_trip(tmp_path: Path) -> None:
    source = make_market(seed=4)
    _populate(source)
    path = tmp_path / "bukalapak.json"
    source.sim.save_state(path)

    target = make_market(seed=5)
    target.sim.load_state(path)

    assert target.sim.inspect_orders() == source.sim.inspect_orders()
    assert target.sim.closed


def test_import_keeps_clock_driven_lapses() -> None:
    source = make_market(seed=2)
    product = source.sim.add_product(name="Tikar", sku_name="TK", price=1, stock=5)
    sku = source.sim.catalogue.products[product].sku_ids[0]
    order = source.sim.place_order(str(sku), 2, "b-1")
    assert order is not None
    assert source.sim.buyer_event(order, BuyerEvent.PAY)
    target = make_market(seed=3)
    target.sim.import_state(json.loads(json.dumps(source.sim.export_state())))

    target.clock.advance(hours=48)

    statuses = {o["id"]: o["status"] for o in target.sim.inspect_orders()}
    assert statuses == {int(order): "expired"}
    assert target.sim.inspect_listings()[0]["stock"] == 5


def test_reset_forgets_everything(market: Market, token: str) -> None:
    creds = market.creds
    create_product(market, token)
    market.sim.set_closed()

    market.sim.reset()

    assert market.sim.inspect_listings() == []
    assert market.sim.credentials() == creds
    assert not market.sim.closed
    assert market.api.get("/me", headers=bearer(token)).status_code == 401
