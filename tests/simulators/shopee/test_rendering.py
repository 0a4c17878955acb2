"""Batch reads and list pages are rendered once per change and kept: a read after any
change shows it, even on a frozen clock where ``update_time`` stays the same, and
every answer is the compact JSON the simulator writes everywhere."""

from __future__ import annotations

import json
from typing import Any

import httpx

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import ShopSession

INFO = "/api/v2/product/get_item_base_info"
STOCK = "/api/v2/product/update_stock"
PRICE = "/api/v2/product/update_price"
UPDATE = "/api/v2/product/update_item"
ITEMS = "/api/v2/product/get_item_list"
DETAIL = "/api/v2/order/get_order_detail"
ORDERS = "/api/v2/order/get_order_list"
ALL_FIELDS = (
    "buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,"
    "actual_shipping_fee,goods_to_declare,note,note_update_time,item_list,pay_time,"
    "dropshipper,dropshipper_phone,split_up,buyer_cancel_reason,cancel_by,"
    "cancel_reason,actual_shipping_fee_confirmed,buyer_cpf_id,fulfillment_flag,"
    "pickup_done_time,package_list,shipping_carrier,payment_method,total_amount,"
    "invoice_data,checkout_shipping_carrier,reverse_shipping_fee,order_chargeable_"
    "weight_gram,edt,prescription_images,prescription_check_status"
)


def compact(answer: httpx.Response) -> dict[str, Any]:
    """The answer's body, checked to be compact UTF-8 JSON as the encoder writes
    it (same keys in the same order, no spaces, nothing escaped needlessly)."""
    text = answer.content.decode()
    body: dict[str, Any] = json.loads(text)
    assert text == json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    assert body["error"] == "", body
    return body


def base_info(shop: ShopSession, *item_ids: int) -> list[dict[str, Any]]:
    answer = shop.get(INFO, {"item_id_list": ",".join(map(str, item_ids))})
    return list(compact(answer)["response"]["item_list"])


def detail(shop: ShopSession, order_sn: str, fields: str = "") -> dict[str, Any]:
    answer = shop.get(
        DETAIL, {"order_sn_list": order_sn, "response_optional_fields": fields}
    )
    orders = compact(answer)["response"]["order_list"]
    assert len(orders) == 1
    return dict(orders[0])


def stock_of(info: dict[str, Any]) -> tuple[int, int, list[dict[str, Any]]]:
    stock = info["stock_info_v2"]
    summary = stock["summary_info"]
    return (
        summary["total_available_stock"],
        summary["total_reserved_stock"],
        stock["seller_stock"],
    )


def test_item_reads_follow_every_change_on_a_frozen_clock(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = sim.seed_listing(
        "KOPI-1", 'Kopi "Bajawa" ñ Flores 250 g', 85_000, 10, shop_id=shop.shop_id
    )
    (first,) = base_info(shop, item_id)
    assert first["item_name"] == 'Kopi "Bajawa" ñ Flores 250 g'
    assert stock_of(first) == (10, 0, [{"location_id": "IDZ", "stock": 10}])
    assert first["price_info"][0]["original_price"] == 85_000

    row = {"model_id": 0, "seller_stock": [{"stock": 7}]}
    assert (
        shop.post(STOCK, {"item_id": item_id, "stock_list": [row]}).json()["error"]
        == ""
    )
    (info,) = base_info(shop, item_id)
    assert info["update_time"] == first["update_time"]  # the clock is frozen
    assert stock_of(info) == (7, 0, [{"location_id": "IDZ", "stock": 7}])

    price = {"model_id": 0, "original_price": 90_000}
    shop.post(PRICE, {"item_id": item_id, "price_list": [price]})
    assert base_info(shop, item_id)[0]["price_info"][0]["current_price"] == 90_000

    order = sim.create_order(item_id, 0, 2, "buyer-1")
    assert order is not None
    assert stock_of(base_info(shop, item_id)[0])[:2] == (5, 2)
    sim.set_promotion(item_id, reserved=1, stock_locked=False, price_locked=False)
    assert stock_of(base_info(shop, item_id)[0])[:2] == (4, 3)

    image = shop.api.upload_image()
    edit = {"item_id": item_id, "item_name": "Kopi Flores baru", "weight": 0.25}
    shop.post(UPDATE, {**edit, "image": {"image_id_list": [image]}})
    (info,) = base_info(shop, item_id)
    assert (info["item_name"], info["weight"]) == ("Kopi Flores baru", "0.25")
    assert info["image"]["image_id_list"] == [image]
    shop.post(UPDATE, {"item_id": item_id, "item_sku": "KOPI-2"})
    assert base_info(shop, item_id)[0]["item_sku"] == "KOPI-2"

    sim.change_item_status(item_id, "BANNED")
    assert base_info(shop, item_id)[0]["item_status"] == "BANNED"


def test_variants_added_after_a_read_are_shown(shop: ShopSession) -> None:
    item_id = shop.add_item()
    assert base_info(shop, item_id)[0]["has_model"] is False
    tiers = [{"name": "Ukuran", "option_list": [{"option": "S"}, {"option": "M"}]}]
    model = {"tier_index": [0], "original_price": 90_000, "model_sku": "K-S"}
    answer = shop.post(
        "/api/v2/product/init_tier_variation",
        {
            "item_id": item_id,
            "tier_variation": tiers,
            "model": [{**model, "seller_stock": [{"stock": 4}]}],
        },
    )
    assert answer.json()["error"] == "", answer.json()
    (info,) = base_info(shop, item_id)
    assert info["has_model"] is True
    assert "price_info" not in info
    assert stock_of(info)[0] == 4
    added = {**model, "tier_index": [1], "model_sku": "K-M"}
    answer = shop.post(
        "/api/v2/product/add_model",
        {"item_id": item_id, "model_list": [{**added, "seller_stock": [{"stock": 6}]}]},
    )
    assert answer.json()["error"] == "", answer.json()
    assert stock_of(base_info(shop, item_id)[0])[0] == 10


def test_order_details_follow_status_fields_and_switches(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = sim.seed_listing("KOPI-1", "Kopi Flores", 85_000, 10)
    order = sim.create_order(item_id, 0, 1, "buyer-1", pending=True)
    assert order is not None
    sn = order.order_sn
    assert detail(shop, sn)["order_status"] == "UNPAID"
    pending = shop.get(
        DETAIL, {"order_sn_list": sn, "request_order_status_pending": "true"}
    )
    assert compact(pending)["response"]["order_list"][0]["order_status"] == "PENDING"

    full = detail(shop, sn, ALL_FIELDS)
    assert full["pay_time"] == 0
    assert full["recipient_address"]["name"].count("*") == 0
    assert "pay_time" not in detail(shop, sn)
    listed = detail(shop, sn, "total_amount,item_list")
    assert sorted(set(listed) - set(detail(shop, sn))) == ["item_list", "total_amount"]
    assert detail(shop, sn, ALL_FIELDS) == full

    assert sim.buyer_event(sn, BuyerEvent.PAY)
    paid = detail(shop, sn, ALL_FIELDS)
    assert paid["order_status"] == "READY_TO_SHIP"
    assert paid["pay_time"] == paid["update_time"] == full["update_time"]
    assert paid["package_list"][0]["logistics_status"] == "LOGISTICS_READY"

    sim.mask_pii = True
    masked = detail(shop, sn, ALL_FIELDS)["recipient_address"]
    assert masked["name"] != full["recipient_address"]["name"]
    assert "*" in masked["name"]
    assert detail(shop, sn, "pay_time") == {
        key: value
        for key, value in paid.items()
        if key not in ALL_FIELDS.split(",") or key == "pay_time"
    }

    assert sim.buyer_event(sn, BuyerEvent.CANCEL)  # waits in IN_CANCEL
    cancelling = detail(shop, sn, "cancel_by,cancel_reason,buyer_cancel_reason")
    assert cancelling["order_status"] == "IN_CANCEL"
    assert cancelling["cancel_by"] == "buyer"
    assert cancelling["buyer_cancel_reason"] == cancelling["cancel_reason"] != ""
    sim.clock.advance(seconds=sim.buyer_cancel_seconds)
    line = detail(shop, sn, "item_list")["item_list"][0]
    assert (line["active_qty"], line["cancelled_qty"]) == (0, 1)


def test_order_details_show_the_items_current_image(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = shop.add_item()
    order = sim.create_order(item_id, 0, 1, "buyer-1")
    assert order is not None
    before = detail(shop, order.order_sn, "item_list")["item_list"][0]
    assert before["image_info"]["image_url"].endswith(shop.images[0])
    image = shop.api.upload_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    edit = {"item_id": item_id, "image": {"image_id_list": [image]}}
    assert shop.post(UPDATE, edit).json()["error"] == ""
    after = detail(shop, order.order_sn, "item_list")["item_list"][0]
    assert after["image_info"]["image_url"].endswith(image)


def test_pages_are_compact_json(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    ids = [
        sim.seed_listing(f"SKU-{n}", f"Produk {n} «batik»", 10_000, 5) for n in range(3)
    ]
    sim.change_item_status(ids[1], "UNLIST")
    for n in range(3):
        assert sim.create_order(ids[0], 0, 1, f"buyer-{n}") is not None
    for status in ("NORMAL", "NORMAL,UNLIST"):
        page = compact(
            shop.get(ITEMS, {"item_status": status, "offset": 0, "page_size": 1})
        )
        assert page["response"]["item"][0] == {
            "item_id": ids[0],
            "item_status": "NORMAL",
            "update_time": clock.timestamp(),
            "tag": {"kit": False},
        }
        assert page["response"]["has_next_page"] is True
    now = clock.timestamp()
    window = {"time_range_field": "create_time", "time_from": now - 60}
    for extra in ({}, {"response_optional_fields": "order_status"}):
        params = {**window, "time_to": now + 60, "page_size": 2, **extra}
        page = compact(shop.get(ORDERS, params))["response"]
        assert page["more"] is True
        assert len(page["order_list"]) == 2
        assert ("order_status" in page["order_list"][0]) is bool(extra)


def test_reads_after_a_state_import_show_the_imported_state(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = sim.seed_listing("KOPI-1", "Kopi Flores", 85_000, 10)
    saved = sim.export_state()
    row = {"model_id": 0, "seller_stock": [{"stock": 3}]}
    shop.post(STOCK, {"item_id": item_id, "stock_list": [row]})
    assert stock_of(base_info(shop, item_id)[0])[0] == 3
    sim.import_state(saved)
    assert stock_of(base_info(shop, item_id)[0])[0] == 10
