"""§8 webhooks: type-1 bodies signed with HMAC-SHA256(app_secret, app_key + body),
a unique ``tts_notification_id`` each, and the faults a receiver must survive."""

from __future__ import annotations

import hashlib
import hmac
import json

from simulators.kit.buyers import BuyerEvent
from tests.simulators.tiktok_shop.conftest import (
    HOOKS,
    Receiver,
    Tts,
    new_product,
    ok,
)


def _verify(tts: Tts, body: bytes, headers: dict[str, str]) -> bool:
    key, secret = tts.creds["app_key"], tts.creds["app_secret"]
    expected = hmac.new(secret.encode(), key.encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["authorization"], expected.hexdigest())


def _register(tts: Tts) -> None:
    body = {"address": HOOKS, "event_type": "ORDER_STATUS_CHANGE"}
    ok(tts.call("PUT", "/event/202309/webhooks", body=body))


def _paid_order(tts: Tts) -> str:
    product_id = ok(tts.create(new_product()))["product_id"]
    order = tts.sim.place_order(product_id, 1, "Dewi")
    assert order is not None
    assert tts.sim.buyer_event(order, BuyerEvent.PAY)
    return order


def test_status_changes_arrive_signed_with_unique_ids(
    tts: Tts, receiver: Receiver
) -> None:
    _register(tts)
    order = _paid_order(tts)
    bodies = [json.loads(body) for body, _ in receiver.deliveries]
    assert [b["data"]["order_status"] for b in bodies] == [
        "UNPAID",
        "AWAITING_SHIPMENT",
    ]
    assert all(_verify(tts, body, headers) for body, headers in receiver.deliveries)
    first = bodies[0]
    assert first["type"] == 1
    assert first["shop_id"] == tts.sim.main_shop.shop_id
    assert first["data"]["order_id"] == order
    assert isinstance(first["timestamp"], int)
    ids = [b["tts_notification_id"] for b in bodies]
    assert len(set(ids)) == len(ids)


def test_nothing_is_sent_before_an_address_is_registered(
    tts: Tts, receiver: Receiver
) -> None:
    _paid_order(tts)
    assert receiver.deliveries == []


def test_a_bad_signature_fails_verification(tts: Tts, receiver: Receiver) -> None:
    _register(tts)
    tts.sim.webhooks.bad_signature_next()
    _paid_order(tts)
    verdicts = [_verify(tts, body, headers) for body, headers in receiver.deliveries]
    assert verdicts == [False, True]


def test_a_duplicate_repeats_the_notification_id(tts: Tts, receiver: Receiver) -> None:
    _register(tts)
    tts.sim.webhooks.duplicate_next()
    _paid_order(tts)
    ids = [json.loads(body)["tts_notification_id"] for body, _ in receiver.deliveries]
    assert len(ids) == 3
    assert ids[0] == ids[1] != ids[2]


def test_held_webhooks_can_arrive_reordered(tts: Tts, receiver: Receiver) -> None:
    _register(tts)
    tts.sim.webhooks.hold_next(2)
    _paid_order(tts)
    assert receiver.deliveries == []
    tts.sim.webhooks.release_held(reverse=True)
    statuses = [
        json.loads(body)["data"]["order_status"] for body, _ in receiver.deliveries
    ]
    assert statuses == ["AWAITING_SHIPMENT", "UNPAID"]
