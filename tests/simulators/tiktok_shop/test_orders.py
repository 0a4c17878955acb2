"""Orders (§5, §7, §9.3): search with time filters and a cursor, detail by at most
50 ids, the buyers' lives and the stock they take and give back."""

from __future__ import annotations

from simulators.kit.buyers import BuyerEvent
from simulators.tiktok_shop.model import INVALID_PARAMETER
from tests.simulators.tiktok_shop.conftest import Tts, error, new_product, ok


def _orders(tts: Tts, count: int, gap: float = 60) -> list[str]:
    product_id = ok(tts.create(new_product()))["product_id"]
    tts.sim.store.products[product_id].skus[0].quantity = count * 2
    placed = []
    for n in range(count):
        tts.clock.advance(gap)
        order = tts.sim.place_order(product_id, 1, f"Pembeli {n}")
        assert order is not None
        placed.append(order)
    return placed


def test_a_cursor_walk_returns_every_order_once(tts: Tts) -> None:
    placed = _orders(tts, 7)
    seen: list[str] = []
    token = ""
    for _ in range(10):
        page = ok(tts.orders(page_size=3, token=token))
        assert page["total_count"] == 7
        seen += [o["id"] for o in page["orders"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == placed  # create time, oldest first


def test_an_order_changing_during_a_walk_shifts_no_page(tts: Tts) -> None:
    placed = _orders(tts, 6)
    first = ok(tts.orders(page_size=3, sort_field="update_time"))
    assert [o["id"] for o in first["orders"]] == placed[:3]
    tts.clock.advance(5)
    assert tts.sim.buyer_event(placed[0], BuyerEvent.PAY)  # moves to the end
    rest = ok(
        tts.orders(
            page_size=3, token=first["next_page_token"], sort_field="update_time"
        )
    )
    assert [o["id"] for o in rest["orders"]] == [*placed[3:6]]
    last = ok(
        tts.orders(page_size=3, token=rest["next_page_token"], sort_field="update_time")
    )
    assert [o["id"] for o in last["orders"]] == [placed[0]]  # seen again, none missed
    assert last["next_page_token"] == ""


def test_time_filters_bound_the_search(tts: Tts) -> None:
    placed = _orders(tts, 4, gap=100)
    created = [tts.sim.store.orders[o].create_time for o in placed]
    page = ok(tts.orders(create_time_ge=created[1], create_time_lt=created[3]))
    assert [o["id"] for o in page["orders"]] == placed[1:3]
    tts.clock.advance(100)
    assert tts.sim.buyer_event(placed[2], BuyerEvent.PAY)
    now = tts.clock.timestamp()
    updated = ok(tts.orders(update_time_ge=now, update_time_lt=now + 1))
    assert [(o["id"], o["status"]) for o in updated["orders"]] == [
        (placed[2], "AWAITING_SHIPMENT")
    ]
    assert "create_time_ge" in error(
        tts.orders(create_time_ge="yesterday"), 400, INVALID_PARAMETER
    )


def test_detail_takes_at_most_50_ids(tts: Tts) -> None:
    placed = _orders(tts, 2)
    fifty = placed + [str(n) for n in range(48)]
    shown = ok(tts.detail(fifty))["orders"]
    assert [o["id"] for o in shown] == placed  # unknown ids are left out
    assert "ids" in error(tts.detail([*fifty, "1"]), 400, INVALID_PARAMETER)
    assert "ids" in error(tts.detail([]), 400, INVALID_PARAMETER)


def test_an_order_shows_lines_money_and_status(tts: Tts) -> None:
    product_id = ok(tts.create(new_product()))["product_id"]
    order = tts.sim.place_order(product_id, 3, "Dewi")
    assert order is not None
    (shown,) = ok(tts.detail([order]))["orders"]
    assert shown["status"] == "UNPAID"
    assert [i["seller_sku"] for i in shown["line_items"]] == ["KOPI-001"] * 3
    payment = shown["payment"]
    assert payment["sub_total"] == "255000"
    assert int(payment["total_amount"]) == 255_000 + int(payment["shipping_fee"])
    assert payment["currency"] == "IDR"


def test_stock_leaves_on_order_and_comes_back_on_cancellation(tts: Tts) -> None:
    product_id = ok(tts.create(new_product()))["product_id"]
    order = tts.sim.place_order(product_id, 4, "Agus")
    assert order is not None
    assert tts.sim.inspect_listings()[0]["stock"] == 6
    assert tts.sim.place_order(product_id, 7, "Budi") is None  # beyond the stock
    assert tts.sim.buyer_event(order, BuyerEvent.PAY)
    assert tts.sim.buyer_event(order, BuyerEvent.CANCEL)
    assert tts.sim.inspect_listings()[0]["stock"] == 10
    assert not tts.sim.buyer_event(order, BuyerEvent.CANCEL)
    statuses = [status for status, _ in tts.sim.store.orders[order].history]
    assert statuses == ["UNPAID", "AWAITING_SHIPMENT", "CANCELLED"]


def test_a_shipped_order_moves_through_the_documented_statuses(tts: Tts) -> None:
    product_id = ok(tts.create(new_product()))["product_id"]
    order = tts.sim.place_order(product_id, 1, "Siti")
    assert order is not None
    for event in (
        BuyerEvent.PAY,
        BuyerEvent.SHIP,
        BuyerEvent.DELIVER,
        BuyerEvent.COMPLETE,
    ):
        assert tts.sim.buyer_event(order, event)
    assert not tts.sim.buyer_event(order, BuyerEvent.RETURN)
    statuses = [status for status, _ in tts.sim.store.orders[order].history]
    assert statuses == [
        "UNPAID",
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    ]
