"""§6 push notifications: configuration check, codes 3 and 8, the signature, retries,
lost pushes and their recovery, suspension and the delivery faults."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import PageClient, ShopSession, push_signature
from tests.simulators.shopee.conftest import client_for

CALLBACK = "https://ikm-sync.example/hooks/shopee"
SET = "/api/v2/push/set_app_push_config"
LOST = "/api/v2/push/get_lost_push_message"
CONFIRM = "/api/v2/push/confirm_consumed_lost_push_message"


@dataclass
class Receiver:
    """A push receiver that verifies §6.4 signatures over the raw bytes."""

    partner_key: str
    status: int = 200
    accepted: list[dict[str, Any]] = field(default_factory=list)
    checks: int = 0
    rejected: list[bytes] = field(default_factory=list)
    attempts: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        body = request.content
        expected = push_signature(self.partner_key, CALLBACK, body)
        assert str(request.url) == CALLBACK
        if not hmac.compare_digest(expected, request.headers.get("authorization", "")):
            self.rejected.append(body)
            return httpx.Response(401)
        if self.status >= 300:
            return httpx.Response(self.status)
        if body == b"":
            self.checks += 1
        else:
            self.accepted.append(json.loads(body))
        return httpx.Response(200)

    def codes(self, code: int) -> list[dict[str, Any]]:
        return [message for message in self.accepted if message["code"] == code]


@dataclass
class World:
    sim: ShopeeSimulator
    api: PageClient
    shop: ShopSession
    receiver: Receiver
    sleeps: list[float]


@pytest.fixture
def world(clock: SimClock) -> World:
    sleeps: list[float] = []
    receiver = Receiver("")
    hooks = httpx.Client(transport=httpx.MockTransport(receiver.handle))
    sim = ShopeeSimulator(
        clock=clock,
        seed=3,
        sleep=sleeps.append,
        rate_limits=False,
        webhook_client=hooks,
    )
    receiver.partner_key = sim.credentials()["partner_key"]
    api = client_for(sim, clock)
    shop = api.session(int(sim.credentials()["shop_id"]))
    return World(sim, api, shop, receiver, sleeps)


def configure(world: World, codes: list[int]) -> httpx.Response:
    return world.api.public(
        "POST", SET, json={"callback_url": CALLBACK, "set_push_config_on": codes}
    )


def lost(world: World) -> dict[str, Any]:
    body = world.api.public("GET", LOST).json()
    assert body["error"] == "", body
    return dict(body["response"])


def test_saving_the_callback_sends_a_signed_empty_check(world: World) -> None:
    answer = configure(world, [3, 8])
    assert answer.json()["error"] == ""
    assert world.receiver.checks == 1
    config = world.api.public("GET", "/api/v2/push/get_app_push_config").json()
    assert config["response"]["callback_url"] == CALLBACK
    assert config["response"]["live_push_status"] == "Normal"
    assert {3, 8} <= set(config["response"]["push_config_on_list"])


def test_a_callback_that_fails_the_check_is_not_saved(world: World) -> None:
    world.receiver.status = 500
    answer = configure(world, [3])
    assert answer.json()["error"] == "error_param"
    assert world.receiver.attempts == 3
    assert world.sleeps == [1.0, 5.0]
    config = world.api.public("GET", "/api/v2/push/get_app_push_config").json()
    assert config["response"]["callback_url"] == ""


def test_push_apis_use_the_public_signature(world: World) -> None:
    shop_signed = world.api.shop(
        "GET", LOST, world.shop.shop_id, world.shop.access_token
    )
    assert shop_signed.json()["error"] == "error_sign"


def test_code_3_on_every_status_change(world: World) -> None:
    configure(world, [3])
    item_id = world.shop.add_item(seller_stock=[{"stock": 5}])
    order = world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert order
    world.sim.buyer_event(order, BuyerEvent.PAY)
    world.shop.post(
        "/api/v2/order/cancel_order",
        {"order_sn": order, "cancel_reason": "CUSTOMER_REQUEST"},
    )
    pushes = world.receiver.codes(3)
    assert [p["data"]["status"] for p in pushes] == [
        "UNPAID",
        "READY_TO_SHIP",
        "IN_CANCEL",
        "CANCELLED",
    ]
    first = pushes[0]
    assert set(first) == {"shop_id", "code", "timestamp", "data"}
    assert first["shop_id"] == world.shop.shop_id
    assert set(first["data"]) == {
        "ordersn",
        "status",
        "update_time",
        "completed_scenario",
        "items",
    }
    assert first["data"]["ordersn"] == order
    assert world.receiver.codes(8) == []  # code 8 was not switched on


def test_code_8_on_reserved_stock_changes(world: World) -> None:
    configure(world, [3, 8])
    item_id = world.shop.add_item(seller_stock=[{"stock": 5}])
    order = world.sim.place_order(f"{item_id}:0", 2, "buyer")
    assert order
    world.sim.buyer_event(order, BuyerEvent.CANCEL)
    reserved = world.receiver.codes(8)
    assert len(reserved) == 2
    assert all(
        set(p["data"]) == {"item_id", "model_id", "update_time"} for p in reserved
    )
    assert reserved[0]["data"]["item_id"] == item_id
    assert reserved[0]["data"]["model_id"] == 0


def test_bad_signature_is_detected_and_the_push_is_lost(world: World) -> None:
    configure(world, [3])
    world.sim.webhooks.bad_signature_next()
    item_id = world.shop.add_item()
    order = world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert order
    assert len(world.receiver.rejected) == 3  # first attempt and two retries
    assert world.receiver.codes(3) == []
    messages = lost(world)["push_message_list"]
    assert len(messages) == 1
    assert json.loads(messages[0]["data"])["data"]["ordersn"] == order


def test_failed_delivery_is_retried_then_kept_as_lost_push(
    world: World, clock: SimClock
) -> None:
    configure(world, [3])
    world.receiver.status = 503
    item_id = world.shop.add_item()
    order = world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert order
    assert world.sleeps == [1.0, 5.0]
    page = lost(world)
    assert page["has_next_page"] is False
    message = page["push_message_list"][0]
    assert message["code"] == 3
    assert message["shop_id"] == world.shop.shop_id
    assert message["timestamp"] == clock.timestamp()
    assert isinstance(message["data"], str)
    payload = json.loads(message["data"])
    assert payload["data"]["ordersn"] == order
    assert payload["data"]["status"] == "UNPAID"
    confirmed = world.api.public(
        "POST", CONFIRM, json={"last_message_id": page["last_message_id"]}
    )
    assert confirmed.json()["error"] == ""
    assert lost(world)["push_message_list"] == []


def test_lost_pushes_come_100_at_a_time_earliest_first(world: World) -> None:
    configure(world, [3])
    world.receiver.status = 500
    item_id = world.shop.add_item(seller_stock=[{"stock": 500}])
    orders = [world.sim.place_order(f"{item_id}:0", 1, f"b{n}") for n in range(130)]
    first = lost(world)
    assert len(first["push_message_list"]) == 100
    assert first["has_next_page"] is True
    sns = [json.loads(m["data"])["data"]["ordersn"] for m in first["push_message_list"]]
    assert sns == orders[:100]
    world.api.public(
        "POST", CONFIRM, json={"last_message_id": first["last_message_id"]}
    )
    second = lost(world)
    assert len(second["push_message_list"]) == 30
    assert second["has_next_page"] is False


def test_lost_pushes_are_kept_for_three_days(world: World, clock: SimClock) -> None:
    configure(world, [3])
    world.sim.webhooks.drop_next()
    item_id = world.shop.add_item()
    world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert world.receiver.attempts == 1  # only the configuration check
    clock.advance(days=3)
    assert len(lost(world)["push_message_list"]) == 1
    clock.advance(seconds=1)
    assert lost(world)["push_message_list"] == []


def test_suspended_push_is_not_delivered(world: World) -> None:
    configure(world, [3])
    world.sim.set_live_push_status("Suspended")
    config = world.api.public("GET", "/api/v2/push/get_app_push_config").json()
    assert config["response"]["live_push_status"] == "Suspended"
    assert config["response"]["suspended_time"] > 0
    item_id = world.shop.add_item()
    world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert world.receiver.accepted == []
    assert len(lost(world)["push_message_list"]) == 1
    world.sim.set_live_push_status("Warning")
    world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert len(world.receiver.codes(3)) == 1


def test_blocked_shops_get_no_pushes(world: World) -> None:
    world.api.public(
        "POST",
        SET,
        json={
            "callback_url": CALLBACK,
            "set_push_config_on": [3],
            "blocked_shop_id_list": [world.shop.shop_id],
        },
    )
    item_id = world.shop.add_item()
    world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert world.receiver.accepted == []
    too_many = world.api.public(
        "POST", SET, json={"blocked_shop_id_list": list(range(501))}
    )
    assert too_many.json()["error"] == "error_param"


def test_duplicated_and_reordered_pushes(world: World) -> None:
    configure(world, [3])
    item_id = world.shop.add_item()
    world.sim.webhooks.duplicate_next()
    order = world.sim.place_order(f"{item_id}:0", 1, "buyer")
    assert order
    assert [p["data"]["status"] for p in world.receiver.codes(3)] == [
        "UNPAID",
        "UNPAID",
    ]
    world.sim.webhooks.hold_next(2)
    world.sim.buyer_event(order, BuyerEvent.PAY)
    world.sim.set_order_status(order, "PROCESSED")
    world.sim.webhooks.release_held(reverse=True)
    statuses = [p["data"]["status"] for p in world.receiver.codes(3)]
    assert statuses[2:] == ["PROCESSED", "READY_TO_SHIP"]


def test_deauthorisation_push_is_partner_level(world: World) -> None:
    configure(world, [2, 12])
    world.sim.expire_authorisation(world.shop.shop_id, in_seconds=86_400)
    world.sim.deauthorise_shop(world.shop.shop_id)
    codes = [p["code"] for p in world.receiver.accepted]
    assert codes == [12, 2]
    assert all("shop_id" not in p for p in world.receiver.accepted)
    assert world.receiver.accepted[1]["data"]["shop_id"] == world.shop.shop_id
