"""§7 webhooks: registration, deliveries, Authorization-Hmac, payloads, recovery."""

from __future__ import annotations

import json
from typing import Any

from simulators.kit.buyers import BuyerEvent
from tests.simulators.tokopedia.conftest import Receiver, Toko, error, ok, sign

HOOKS = "https://partner.example.com/hooks"


def register(toko: Toko, secret: str, **urls: str) -> Any:
    body = {
        "fs_id": int(toko.fs_id),
        "order_notification_url": f"{HOOKS}/order_notification",
        "order_status_url": f"{HOOKS}/order_status",
        "order_cancellation_url": f"{HOOKS}/order_cancellation",
        "order_request_cancellation_url": f"{HOOKS}/order_request_cancellation",
        "webhook_secret": secret,
        **urls,
    }
    return ok(toko.call("POST", f"/v1/fs/{toko.fs_id}/register", body=body))


def test_register_replaces_the_whole_registration(toko: Toko) -> None:
    register(toko, "one", chat_notification_url=f"{HOOKS}/chat", future_url="x")
    first = ok(toko.call("GET", f"/v1/fs/{toko.fs_id}"))
    assert first["chat_notification_url"] == f"{HOOKS}/chat"
    assert first["webhook_secret"] == "one"
    assert "future_url" not in first
    body = {
        "fs_id": toko.fs_id,
        "order_status_url": f"{HOOKS}/s2",
        "webhook_secret": "two",
    }
    ok(toko.call("POST", f"/v1/fs/{toko.fs_id}/register", body=body))
    second = ok(toko.call("GET", f"/v1/fs/{toko.fs_id}"))
    assert second["order_status_url"] == f"{HOOKS}/s2"
    assert second["order_notification_url"] == ""
    assert second["chat_notification_url"] == ""
    assert second["webhook_secret"] == "two"
    assert second["fs_id"] == int(toko.fs_id)


def test_register_rejects_a_foreign_fs_id_and_bad_values(toko: Toko) -> None:
    path = f"/v1/fs/{toko.fs_id}/register"
    error(toko.call("POST", path, body={"fs_id": 1}), 400, "OPENAPI_DLV_001")
    error(toko.call("POST", path, body={"order_status_url": 5}), 400, "OPENAPI_DLV_001")
    error(toko.call("POST", path, body=["x"]), 400, "OPENAPI_DLV_038")


def test_deliveries_follow_the_order_and_verify(toko: Toko, receiver: Receiver) -> None:
    register(toko, receiver.secret)
    product_id = toko.sim.seed_product(sku="WH", name="Tas Anyaman").product_id
    order = toko.sim.place_order(str(product_id), 2, "Dewi")
    assert order is not None
    assert receiver.accepted == []  # the partner does not see unpaid orders
    toko.sim.buyer_event(order, BuyerEvent.PAY)
    assert receiver.kinds() == ["order_notification", "order_status"]
    ok(toko.action(int(order), "ack"))
    toko.sim.request_cancellation(int(order))
    toko.sim.resolve_cancel_request(int(order), cancel=True)
    assert receiver.kinds() == [
        "order_notification",
        "order_status",
        "order_status",
        "order_request_cancellation",
        "order_status",
        "order_cancellation",
    ]
    statuses = [
        body["order_status"]
        for kind, body in receiver.accepted
        if kind.endswith("order_status")
    ]
    assert statuses == [220, 400, 15]
    assert receiver.rejected == []


def test_payload_shapes_use_the_capitalised_name_keys(
    toko: Toko, receiver: Receiver
) -> None:
    register(toko, receiver.secret)
    product_id = toko.sim.seed_product(
        sku="PL", name="Vas Tanah Liat", price=45_000
    ).product_id
    order_id = toko.paid_order(product_id, 2)
    notification = receiver.accepted[0][1]
    assert set(notification) >= {
        "fs_id",
        "order_id",
        "invoice_ref_num",
        "products",
        "customer",
        "recipient",
        "shop_id",
        "warehouse_id",
        "logistics",
        "amt",
        "create_time",
        "order_status",
    }
    assert notification["order_id"] == order_id
    assert notification["fs_id"] == int(toko.fs_id)
    assert notification["products"][0]["Name"] == "Vas Tanah Liat"
    assert notification["recipient"]["Name"] == "Siti Rahma"
    assert set(notification["recipient"]["address"]) >= {
        "address_full",
        "city",
        "postal_code",
    }
    assert set(notification["amt"]) == {
        "ttl_product_price",
        "shipping_cost",
        "insurance_cost",
        "ttl_amount",
        "voucher_amount",
        "toppoints_amount",
    }
    assert notification["amt"]["ttl_product_price"] == 90_000
    status = receiver.accepted[1][1]
    assert set(status) == {
        "fs_id",
        "order_status",
        "order_id",
        "shop_id",
        "warehouse_id",
        "product_details",
    }
    [detail] = status["product_details"]
    assert set(detail) == {
        "id",
        "Name",
        "notes",
        "currency",
        "weight",
        "total_weight",
        "price",
        "total_price",
        "quantity",
        "sku",
    }
    assert (detail["Name"], detail["quantity"], detail["total_price"]) == (
        "Vas Tanah Liat",
        2,
        90_000,
    )
    assert detail["total_weight"] == 2 * detail["weight"] == 0.4


def test_signature_is_hex_hmac_sha256_of_the_raw_body(toko: Toko) -> None:
    register(toko, "k3y")
    toko.paid_order(toko.sim.seed_product(sku="SG").product_id)
    deliveries = toko.sim.webhooks.log
    assert len(deliveries) == 2
    for delivery in deliveries:
        given = delivery.headers["Authorization-Hmac"]
        assert given == sign("k3y", delivery.body)
        assert given == given.lower()
        assert len(given) == 64
        json.loads(delivery.body)


def test_bad_signature_fault_is_detected(toko: Toko, receiver: Receiver) -> None:
    register(toko, receiver.secret)
    toko.sim.webhooks.bad_signature_next()
    toko.paid_order(toko.sim.seed_product(sku="BS").product_id)
    assert receiver.rejected == ["/hooks/order_notification"]
    assert receiver.kinds() == ["order_status"]
    assert toko.sim.webhooks.log[0].delivered is False


def test_wrong_secret_on_the_receiver_rejects_everything(
    toko: Toko, receiver: Receiver
) -> None:
    register(toko, "another-secret")
    toko.paid_order(toko.sim.seed_product(sku="WS").product_id)
    assert receiver.accepted == []
    assert len(receiver.rejected) == 2


def test_dropped_duplicated_and_held_deliveries(toko: Toko, receiver: Receiver) -> None:
    register(toko, receiver.secret)
    product_id = toko.sim.seed_product(sku="DD", stock=9).product_id
    toko.sim.webhooks.drop_next()
    toko.paid_order(product_id)
    assert receiver.kinds() == ["order_status"]
    toko.sim.webhooks.duplicate_next()
    toko.paid_order(product_id)
    assert receiver.kinds()[1:] == [
        "order_notification",
        "order_notification",
        "order_status",
    ]
    toko.sim.webhooks.hold_next(2)
    toko.paid_order(product_id)
    assert len(receiver.accepted) == 4
    toko.sim.webhooks.release_held(reverse=True)
    assert receiver.kinds()[4:] == ["order_status", "order_notification"]


def test_payload_preview_and_manual_trigger(toko: Toko, receiver: Receiver) -> None:
    register(toko, receiver.secret)
    order_id = toko.paid_order(toko.sim.seed_product(sku="TR").product_id)
    ok(toko.action(order_id, "ack"))
    path = f"/v1/order/{order_id}/fs/{toko.fs_id}/webhook"
    preview = ok(toko.call("GET", path, params={"type": "order_status"}))
    assert preview["order_status"] == 400
    notification = ok(toko.call("GET", path, params={"type": "order_notification"}))
    assert notification["invoice_ref_num"].startswith("INV/")
    error(toko.call("GET", path, params={"type": "chat"}), 400, "OPENAPI_DLV_001")
    before = len(receiver.accepted)
    trigger = f"/v1/fs/{toko.fs_id}/trigger"
    body = {
        "Type": "order_status",
        "order_id": order_id,
        "url": "",
        "is_encrypted": False,
    }
    assert ok(toko.call("POST", trigger, body=body)) == "success"
    assert receiver.accepted[before] == ("/hooks/order_status", preview)
    other = {**body, "Type": "order_notification", "url": "https://elsewhere.example/n"}
    ok(toko.call("POST", trigger, body=other))
    assert toko.sim.webhooks.log[-1].url == "https://elsewhere.example/n"
    error(
        toko.call("POST", trigger, body={**body, "Type": "nope"}),
        400,
        "OPENAPI_DLV_001",
    )
    error(toko.call("POST", trigger, body={**body, "order_id": 1}), 400, "ORD_USC_002")


def test_trigger_needs_a_url(toko: Toko) -> None:
    order_id = toko.paid_order(toko.sim.seed_product(sku="NU").product_id)
    body = {"Type": "order_status", "order_id": order_id}
    error(
        toko.call("POST", f"/v1/fs/{toko.fs_id}/trigger", body=body),
        400,
        "OPENAPI_DLV_001",
    )


def test_nothing_is_sent_without_a_registration(toko: Toko, receiver: Receiver) -> None:
    toko.paid_order(toko.sim.seed_product(sku="NR").product_id)
    assert receiver.accepted == []
    assert receiver.rejected == []
    assert toko.sim.webhooks.log == []
    empty = ok(toko.call("GET", f"/v1/fs/{toko.fs_id}"))
    assert empty["order_status_url"] == ""
