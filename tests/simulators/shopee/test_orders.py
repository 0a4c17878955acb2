"""§5 orders: list windows and cursors, detail, the state machine, stock effects,
shipping and cancellation."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import PageClient, ShopSession, error_name

LIST = "/api/v2/order/get_order_list"
DETAIL = "/api/v2/order/get_order_detail"
CANCEL = "/api/v2/order/cancel_order"
SHIP = "/api/v2/logistics/ship_order"
DAY = 86_400
WINDOW = 15 * DAY


def listing(sim: ShopeeSimulator, shop: ShopSession, stock: int = 10_000) -> int:
    return sim.seed_listing(
        "KOPI-1", "Kopi Flores Bajawa", 85_000, stock, shop_id=shop.shop_id
    )


def spread_orders(
    sim: ShopeeSimulator, clock: SimClock, item_id: int, count: int, step: int
) -> list[str]:
    """``count`` orders, one every ``step`` to ``3 * step`` seconds."""
    orders: list[str] = []
    for n in range(count):
        order = sim.place_order(f"{item_id}:0", 1, f"buyer-{n}")
        assert order is not None
        orders.append(order)
        clock.advance(seconds=step * (1 + n % 3))
    return orders


def walk(
    shop: ShopSession,
    field: str,
    start: int,
    end: int,
    page_size: int,
    extra: dict[str, Any] | None = None,
) -> list[str]:
    """Every order_sn from ``start`` to ``end`` in documented windows and pages."""
    found: list[str] = []
    time_from = start
    while time_from <= end:
        time_to = min(time_from + WINDOW, end)
        if time_to == time_from:
            time_to += 1
        cursor = ""
        seen_cursors: set[str] = set()
        while True:
            params = {
                "time_range_field": field,
                "time_from": time_from,
                "time_to": time_to,
                "page_size": page_size,
                "cursor": cursor,
                **(extra or {}),
            }
            body = shop.get(LIST, params).json()
            assert body["error"] == "", body
            page = body["response"]
            found.extend(row["order_sn"] for row in page["order_list"])
            if not page["more"]:
                assert page["next_cursor"] == ""
                break
            assert page["next_cursor"] not in seen_cursors
            seen_cursors.add(page["next_cursor"])
            cursor = page["next_cursor"]
        time_from = time_to + 1
    return found


def test_every_order_exactly_once_across_pages_and_windows(
    sim: ShopeeSimulator, clock: SimClock, api: PageClient, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 240, 2_400)  # about 13 days of orders
    clock.advance(days=30)
    more = spread_orders(sim, clock, item_id, 60, 3_600)
    end = clock.timestamp()
    shop = api.session(shop.shop_id)  # the first tokens expired long ago
    found = walk(shop, "create_time", start, end, 7)
    assert len(found) == len(set(found)) == 300
    assert set(found) == set(orders + more)
    times = [shop.order(sn)["create_time"] for sn in found[:20]]
    assert times == sorted(times)


def test_update_time_windows_follow_status_changes(
    sim: ShopeeSimulator, clock: SimClock, api: PageClient, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 30, 600)
    clock.advance(days=20)
    changed_at = clock.timestamp()
    for order in orders[:10]:
        assert sim.buyer_event(order, BuyerEvent.PAY)
    shop = api.session(shop.shop_id)
    recent = walk(shop, "update_time", changed_at, clock.timestamp() + 1, 4)
    assert sorted(recent) == sorted(orders[:10])
    everything = walk(shop, "update_time", start, clock.timestamp() + 1, 4)
    assert sorted(everything) == sorted(orders)


@pytest.mark.parametrize(
    ("time_from", "time_to"),
    [(1_000, 1_000), (2_000, 1_000), (0, WINDOW + 1)],
)
def test_order_window_rule(shop: ShopSession, time_from: int, time_to: int) -> None:
    base = 1_748_000_000
    answer = shop.get(
        LIST,
        {
            "time_range_field": "create_time",
            "time_from": base + time_from,
            "time_to": base + time_to,
            "page_size": 10,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "order.order_list_invalid_time"
    assert answer.json()["message"] == (
        "Start time must be earlier than end time and diff in 15days."
    )


def test_fifteen_days_exactly_and_page_size_limits(shop: ShopSession) -> None:
    base = {"time_range_field": "create_time", "time_from": 1_748_000_000}
    ok = shop.get(LIST, {**base, "time_to": 1_748_000_000 + WINDOW, "page_size": 100})
    assert ok.json()["error"] == ""
    assert ok.json()["response"] == {"more": False, "next_cursor": "", "order_list": []}
    for size in (0, 101):
        bad = shop.get(LIST, {**base, "time_to": 1_748_000_100, "page_size": size})
        assert bad.json()["error"] == "order.error_param"
    field = shop.get(
        LIST,
        {
            **base,
            "time_range_field": "pay_time",
            "time_to": 1_748_000_100,
            "page_size": 10,
        },
    )
    assert field.json()["error"] == "order.error_param"


def test_status_filter_and_optional_status(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 6, 60)
    for order in orders[:2]:
        sim.buyer_event(order, BuyerEvent.PAY)
    window = {
        "time_range_field": "create_time",
        "time_from": start,
        "time_to": clock.timestamp(),
        "page_size": 100,
    }
    plain = shop.get(LIST, window).json()["response"]["order_list"]
    assert all(set(row) == {"order_sn"} for row in plain)
    paid = shop.get(
        LIST,
        {
            **window,
            "order_status": "READY_TO_SHIP",
            "response_optional_fields": "order_status",
        },
    ).json()["response"]["order_list"]
    assert sorted(row["order_sn"] for row in paid) == sorted(orders[:2])
    assert {row["order_status"] for row in paid} == {"READY_TO_SHIP"}
    two = shop.get(
        LIST,
        [
            *window.items(),
            ("order_status", "UNPAID"),
            ("order_status", "READY_TO_SHIP"),
        ],
    )
    assert two.json()["error"] == "order.error_param"


def test_cursor_is_opaque_and_checked(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    spread_orders(sim, clock, item_id, 5, 60)
    window = {
        "time_range_field": "create_time",
        "time_from": start,
        "time_to": clock.timestamp(),
        "page_size": 2,
    }
    first = shop.get(LIST, window).json()["response"]
    assert first["more"] is True
    assert isinstance(first["next_cursor"], str)
    assert first["next_cursor"]
    bad = shop.get(LIST, {**window, "cursor": "not-a-cursor"})
    assert bad.json()["error"] == "order.error_param"


def test_repeated_cursor_fault(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 9, 60)
    window = {
        "time_range_field": "create_time",
        "time_from": start,
        "time_to": clock.timestamp(),
        "page_size": 3,
    }
    first = shop.get(LIST, window).json()["response"]
    sim.repeat_cursor_next()
    second = shop.get(LIST, {**window, "cursor": first["next_cursor"]}).json()[
        "response"
    ]
    assert second["more"] is True
    assert second["next_cursor"] == first["next_cursor"]
    again = shop.get(LIST, {**window, "cursor": first["next_cursor"]}).json()[
        "response"
    ]
    assert again["order_list"] == second["order_list"]
    assert again["next_cursor"] != first["next_cursor"]
    rest = shop.get(LIST, {**window, "cursor": again["next_cursor"]}).json()["response"]
    collected = first["order_list"] + again["order_list"] + rest["order_list"]
    assert [row["order_sn"] for row in collected] == orders
    assert rest["more"] is False


def test_empty_page_with_more_fault(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 8, 60)
    sim.empty_page_next()
    found = walk(shop, "create_time", start, clock.timestamp(), 3)
    assert found == orders


def test_order_detail_limits_and_optional_fields(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    item_id = listing(sim, shop)
    orders = spread_orders(sim, clock, item_id, 3, 10)
    fifty = ",".join((orders * 17)[:50])
    assert shop.get(DETAIL, {"order_sn_list": fifty}).json()["error"] == ""
    fifty_one = ",".join(f"2506020000{n:04d}" for n in range(51))
    over = shop.get(DETAIL, {"order_sn_list": fifty_one})
    assert over.status_code == 400
    assert over.json()["error"] == "order.error_param"
    assert (
        shop.get(DETAIL, {"order_sn_list": ""}).json()["error"] == "order.error_param"
    )
    plain = shop.order(orders[0])
    for field in (
        "item_list",
        "total_amount",
        "recipient_address",
        "pay_time",
        "buyer_username",
        "package_list",
    ):
        assert field not in plain
    assert plain["order_status"] == "UNPAID"
    assert plain["currency"] == "IDR"
    assert plain["region"] == "ID"
    full = shop.order(orders[0], "item_list,total_amount,recipient_address,no_such")
    assert "no_such" not in full
    assert full["total_amount"] == 85_000
    line = full["item_list"][0]
    assert (line["item_id"], line["model_id"], line["model_quantity_purchased"]) == (
        item_id,
        0,
        1,
    )
    assert line["item_sku"] == "KOPI-1"
    assert "pay_time" not in full


def test_masked_personal_data(sim: ShopeeSimulator, shop: ShopSession) -> None:
    item_id = listing(sim, shop)
    order = sim.place_order(f"{item_id}:0", 1, "buyer")
    assert order
    clear = shop.order(order, "recipient_address")["recipient_address"]
    assert "*" not in clear["name"]
    sim.mask_pii = True
    masked = shop.order(order, "recipient_address")["recipient_address"]
    assert masked["name"] != clear["name"]
    assert "*" in masked["name"]
    assert masked["name"][0] == clear["name"][0]
    assert "*" in masked["phone"]
    assert masked["city"] == clear["city"]


def test_pending_only_when_requested(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    start = clock.timestamp()
    item_id = listing(sim, shop)
    created = sim.create_order(item_id, 0, 1, "buyer", pending=True)
    assert created
    window = {
        "time_range_field": "create_time",
        "time_from": start,
        "time_to": start + 60,
        "page_size": 10,
        "response_optional_fields": "order_status",
    }
    plain = shop.get(LIST, window).json()["response"]["order_list"]
    assert plain[0]["order_status"] == "UNPAID"
    refused = shop.get(LIST, {**window, "order_status": "PENDING"})
    assert refused.json()["error"] == "order.error_param"
    pending = shop.get(
        LIST,
        {**window, "order_status": "PENDING", "request_order_status_pending": "true"},
    ).json()["response"]["order_list"]
    assert [row["order_status"] for row in pending] == ["PENDING"]


def test_stock_reserved_released_and_shipped(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = shop.add_item(seller_stock=[{"stock": 10}])

    def summary() -> dict[str, int]:
        return dict(shop.base_info(item_id)["stock_info_v2"]["summary_info"])

    first = sim.place_order(f"{item_id}:0", 3, "a")
    second = sim.place_order(f"{item_id}:0", 2, "b")
    assert first
    assert second
    assert summary() == {"total_reserved_stock": 5, "total_available_stock": 5}
    assert sim.place_order(f"{item_id}:0", 6, "c") is None
    cancelled = shop.post(
        CANCEL, {"order_sn": first, "cancel_reason": "CUSTOMER_REQUEST"}
    )
    assert cancelled.json()["error"] == ""
    assert shop.order(first)["order_status"] == "CANCELLED"
    assert summary() == {"total_reserved_stock": 2, "total_available_stock": 8}
    assert sim.buyer_event(second, BuyerEvent.PAY)
    assert sim.buyer_event(second, BuyerEvent.SHIP)
    assert shop.order(second)["order_status"] == "SHIPPED"
    assert summary() == {"total_reserved_stock": 0, "total_available_stock": 8}
    assert shop.base_info(item_id)["stock_info_v2"]["seller_stock"][0]["stock"] == 8


def test_cancel_order_rules(sim: ShopeeSimulator, shop: ShopSession) -> None:
    item_id = listing(sim, shop)
    order = sim.place_order(f"{item_id}:0", 1, "a")
    assert order
    bad_reason = shop.post(CANCEL, {"order_sn": order, "cancel_reason": "CHANGED_MIND"})
    assert bad_reason.json()["error"] == "order.error_param"
    no_items = shop.post(CANCEL, {"order_sn": order, "cancel_reason": "OUT_OF_STOCK"})
    assert no_items.json()["error"] == "order.error_param"
    wrong_items = shop.post(
        CANCEL,
        {
            "order_sn": order,
            "cancel_reason": "OUT_OF_STOCK",
            "item_list": [{"item_id": item_id, "model_id": 9}],
        },
    )
    assert wrong_items.json()["error"] == "order.error_param"
    unknown = shop.post(
        CANCEL, {"order_sn": "NOPE", "cancel_reason": "CUSTOMER_REQUEST"}
    )
    assert error_name(unknown) == "error_not_found"
    done = shop.post(
        CANCEL,
        {
            "order_sn": order,
            "cancel_reason": "OUT_OF_STOCK",
            "item_list": [{"item_id": item_id, "model_id": 0}],
        },
    ).json()
    assert done["error"] == ""
    assert done["response"]["update_time"] > 0
    detail = shop.order(order, "cancel_by,cancel_reason")
    assert (detail["cancel_by"], detail["cancel_reason"]) == ("seller", "OUT_OF_STOCK")
    shipped = sim.place_order(f"{item_id}:0", 1, "b")
    assert shipped
    sim.buyer_event(shipped, BuyerEvent.PAY)
    assert sim.set_order_status(shipped, "PROCESSED")
    late = shop.post(CANCEL, {"order_sn": shipped, "cancel_reason": "CUSTOMER_REQUEST"})
    assert late.json()["error"] == "order.error_param"


def test_ship_order_flow_and_tracking_lag(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = listing(sim, shop)
    order = sim.place_order(f"{item_id}:0", 1, "a")
    assert order
    params = shop.get("/api/v2/logistics/get_shipping_parameter", {"order_sn": order})
    pickup = params.json()["response"]["pickup"]["address_list"][0]
    slot = pickup["time_slot_list"][0]["pickup_time_id"]
    body = {
        "order_sn": order,
        "pickup": {"address_id": pickup["address_id"], "pickup_time_id": slot},
    }
    unpaid = shop.post(SHIP, body)
    assert unpaid.json()["error"] == "logistics.error_param"
    sim.buyer_event(order, BuyerEvent.PAY)
    shipments = shop.get("/api/v2/order/get_shipment_list", {"page_size": 10}).json()
    assert [r["order_sn"] for r in shipments["response"]["order_list"]] == [order]
    both = shop.post(SHIP, {**body, "dropoff": {"branch_id": 1}})
    assert both.json()["error"] == "logistics.error_param"
    bad_slot = shop.post(
        SHIP,
        {
            "order_sn": order,
            "pickup": {"address_id": pickup["address_id"], "pickup_time_id": "1"},
        },
    )
    assert bad_slot.json()["error"] == "logistics.error_param"
    sim.lag_tracking_numbers(2)
    assert shop.post(SHIP, body).json()["error"] == ""
    assert shop.order(order)["order_status"] == "PROCESSED"
    tracking = [
        shop.get("/api/v2/logistics/get_tracking_number", {"order_sn": order}).json()[
            "response"
        ]["tracking_number"]
        for _ in range(3)
    ]
    assert tracking[:2] == ["", ""]
    assert tracking[2].startswith("SPXID")
    again = shop.post(SHIP, body)
    assert again.json()["error"] == "logistics.error_param"
    shipments = shop.get("/api/v2/order/get_shipment_list", {"page_size": 10}).json()
    assert shipments["response"]["order_list"] == []


def test_state_machine_with_retry_ship_and_return(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = listing(sim, shop)
    order = sim.place_order(f"{item_id}:0", 1, "a")
    assert order
    assert not sim.buyer_event(order, BuyerEvent.DELIVER)
    assert not sim.buyer_event(order, BuyerEvent.COMPLETE)
    assert not sim.set_order_status(order, "SHIPPED")
    assert sim.buyer_event(order, BuyerEvent.PAY)
    assert not sim.buyer_event(order, BuyerEvent.PAY)
    assert sim.set_order_status(order, "PROCESSED")
    assert sim.set_order_status(order, "RETRY_SHIP")
    assert shop.order(order)["order_status"] == "RETRY_SHIP"
    assert not sim.buyer_event(order, BuyerEvent.CANCEL)
    assert sim.set_order_status(order, "PROCESSED")
    assert sim.buyer_event(order, BuyerEvent.SHIP)
    assert sim.buyer_event(order, BuyerEvent.DELIVER)
    assert shop.order(order)["order_status"] == "TO_CONFIRM_RECEIVE"
    assert sim.buyer_event(order, BuyerEvent.RETURN)
    assert shop.order(order)["order_status"] == "TO_RETURN"
    assert not sim.buyer_event(order, BuyerEvent.COMPLETE)
    done = sim.place_order(f"{item_id}:0", 1, "b")
    assert done
    for event in (
        BuyerEvent.PAY,
        BuyerEvent.SHIP,
        BuyerEvent.DELIVER,
        BuyerEvent.COMPLETE,
    ):
        assert sim.buyer_event(done, event)
    assert shop.order(done)["order_status"] == "COMPLETED"
    assert not sim.buyer_event(done, BuyerEvent.RETURN)
    assert not sim.buyer_event("NO-SUCH-ORDER", BuyerEvent.PAY)


def test_buyer_cancellation_of_a_paid_order_waits_in_cancel(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    item_id = shop.add_item(seller_stock=[{"stock": 4}])
    order = sim.place_order(f"{item_id}:0", 4, "a")
    assert order
    sim.buyer_event(order, BuyerEvent.PAY)
    assert sim.buyer_event(order, BuyerEvent.CANCEL)
    assert shop.order(order)["order_status"] == "IN_CANCEL"
    summary = shop.base_info(item_id)["stock_info_v2"]["summary_info"]
    assert summary["total_reserved_stock"] == 4
    clock.advance(seconds=sim.buyer_cancel_seconds)
    detail = shop.order(order, "cancel_by")
    assert detail["order_status"] == "CANCELLED"
    assert detail["cancel_by"] == "buyer"
    summary = shop.base_info(item_id)["stock_info_v2"]["summary_info"]
    assert summary == {"total_reserved_stock": 0, "total_available_stock": 4}
