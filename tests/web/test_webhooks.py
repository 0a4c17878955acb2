"""The webhook receivers: signature (401, nothing stored), size (413), stored before
the answer, duplicates recognised, shops resolved to accounts, the contract pages'
bodies parsed, no secret in any log line."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from core.domain.webhooks import (
    MAX_BODY,
    Action,
    Keys,
    WebhookBodyError,
    distinct_keys,
    parse,
    signature_valid,
)
from core.store.tables import WebhookDeliveryRow
from scheduler.ops import metrics
from tests.web.conftest import ConsoleWorld
from web.webhooks import webhooks_only_app

pytestmark = pytest.mark.db

SHOPEE_URL = "http://testserver/webhooks/shopee"
TOKOPEDIA_URL = "http://testserver/webhooks/tokopedia"
#: The demo's Shopee shop and Tokopedia shop (demo/ikm-sync.toml).
SHOPEE_SHOP = 265220111
TOKOPEDIA_SHOP = 718046

#: shopee.md §6.3, the sample of the official reference (with the demo's shop).
SHOPEE_ORDER = {
    "shop_id": SHOPEE_SHOP,
    "code": 3,
    "timestamp": 1660123127,
    "data": {
        "ordersn": "220810QSK8S7BX",
        "status": "PROCESSED",
        "update_time": 1660123127,
        "completed_scenario": "",
        "items": [],
    },
}
#: tokopedia.md §7.3 ``order_status`` (with the demo's shop).
TOKOPEDIA_STATUS = {
    "fs_id": 1,
    "order_status": 400,
    "order_id": 2,
    "shop_id": TOKOPEDIA_SHOP,
    "warehouse_id": 4,
    "product_details": [
        {
            "id": 5,
            "Name": "Kopi",
            "notes": "",
            "currency": "IDR",
            "weight": 0.2,
            "total_weight": 0.2,
            "price": 3000,
            "total_price": 3000,
            "quantity": 1,
            "sku": "KOPI-FLR-001",
        }
    ],
}


def _secret(world: ConsoleWorld, credentials: str, name: str) -> str:
    entries = world.console.loaded.settings.credentials[credentials]
    return entries[name].get_secret_value()


def _shopee(world: ConsoleWorld, message: dict[str, Any] | bytes) -> tuple[bytes, str]:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    key = _secret(world, "shopee_demo", "partner_key")
    signed = hmac.new(key.encode(), SHOPEE_URL.encode() + b"|" + body, hashlib.sha256)
    return body, signed.hexdigest()


def _tokopedia(world: ConsoleWorld, message: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(message).encode()
    key = _secret(world, "tokopedia_demo", "client_secret")
    return body, hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def _rows(world: ConsoleWorld) -> list[WebhookDeliveryRow]:
    with world.console.runtime.session_factory() as session:
        return list(
            session.scalars(
                sa.select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)  # type: ignore[arg-type]
            )
        )


def _count(marketplace: str, result: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "ikm_sync_webhook_deliveries_total",
        {"marketplace": marketplace, "result": result},
    )
    return value or 0.0


def test_a_signed_shopee_push_is_stored_before_the_answer(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, SHOPEE_ORDER)
    verified = _count("shopee", "verified")
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "stored"}
    (row,) = _rows(console_world)
    assert (row.marketplace, row.account_key, row.shop_id, row.kind) == (
        "shopee",
        "shopee-ntt-flores",
        str(SHOPEE_SHOP),
        "order_status",
    )
    assert row.body == body
    assert row.verified is True
    assert row.processed_at is None
    assert row.outcome is None
    assert row.delivery_key == "sha256:" + hashlib.sha256(body).hexdigest()
    assert _count("shopee", "verified") == verified + 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "0" * 64},
        {"Authorization": "not hex at all"},
    ],
    ids=["missing", "empty", "wrong", "garbage"],
)
def test_a_bad_signature_is_refused_and_nothing_stored(
    console_world: ConsoleWorld, headers: dict[str, str]
) -> None:
    body = json.dumps(SHOPEE_ORDER).encode()
    refused = _count("shopee", "refused")
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers=headers
    )
    assert answer.status_code == 401
    assert _rows(console_world) == []
    assert _count("shopee", "refused") == refused + 1


def test_a_signature_over_another_url_or_body_is_refused(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, SHOPEE_ORDER)
    tampered = body.replace(b"PROCESSED", b"CANCELLED")
    answer = console_world.client.post(
        "/webhooks/shopee", content=tampered, headers={"Authorization": signature}
    )
    assert answer.status_code == 401
    # a Tokopedia delivery signed as Shopee is not a Tokopedia signature either
    answer = console_world.client.post(
        "/webhooks/tokopedia", content=body, headers={"Authorization-Hmac": signature}
    )
    assert answer.status_code == 401
    assert _rows(console_world) == []


def test_an_oversized_delivery_is_refused_unread(console_world: ConsoleWorld) -> None:
    padded = {**SHOPEE_ORDER, "pad": "x" * MAX_BODY}
    body, signature = _shopee(console_world, padded)
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    assert answer.status_code == 413
    assert _rows(console_world) == []


def test_a_replayed_delivery_is_recognised_and_stored_once(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, SHOPEE_ORDER)
    duplicates = _count("shopee", "duplicate")
    answers = [
        console_world.client.post(
            "/webhooks/shopee", content=body, headers={"Authorization": signature}
        )
        for _ in range(3)
    ]
    assert [a.json()["result"] for a in answers] == ["stored", "duplicate", "duplicate"]
    assert all(a.status_code == 200 for a in answers)
    assert len(_rows(console_world)) == 1
    assert _count("shopee", "duplicate") == duplicates + 2


def test_an_unknown_shop_is_stored_without_an_account(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, {**SHOPEE_ORDER, "shop_id": 999})
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    assert answer.status_code == 200
    (row,) = _rows(console_world)
    assert (row.account_key, row.shop_id) == (None, "999")


def test_shopee_url_check_with_an_empty_body_is_answered(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, b"")
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    assert answer.status_code == 200
    (row,) = _rows(console_world)
    assert row.kind == "url_check"


def test_a_signed_body_that_is_not_json_is_refused(
    console_world: ConsoleWorld,
) -> None:
    body, signature = _shopee(console_world, b"{not json")
    answer = console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["result"]
    assert _rows(console_world) == []


def test_tokopedia_status_and_notification(console_world: ConsoleWorld) -> None:
    body, signature = _tokopedia(console_world, TOKOPEDIA_STATUS)
    answer = console_world.client.post(
        "/webhooks/tokopedia", content=body, headers={"Authorization-Hmac": signature}
    )
    assert answer.status_code == 200, answer.text
    notification = {
        "fs_id": 1,
        "order_id": 2,
        "invoice_ref_num": "INV/1",
        "shop_id": TOKOPEDIA_SHOP,
        "order_status": 220,
        "customer": {"id": 1, "Name": "Siti"},
    }
    body, signature = _tokopedia(console_world, notification)
    answer = console_world.client.post(
        "/webhooks/tokopedia", content=body, headers={"Authorization-Hmac": signature}
    )
    assert answer.status_code == 200
    rows = _rows(console_world)
    assert [(r.kind, r.account_key) for r in rows] == [
        ("order_status", "tokopedia-karya-lapas"),
        ("order_notification", "tokopedia-karya-lapas"),
    ]


def test_unknown_marketplace_is_not_found(console_world: ConsoleWorld) -> None:
    answer = console_world.client.post("/webhooks/bukalapak", content=b"{}")
    assert answer.status_code == 404
    assert _rows(console_world) == []


def test_no_secret_in_any_log_line(console_world: ConsoleWorld) -> None:
    key = _secret(console_world, "shopee_demo", "partner_key")
    body, signature = _shopee(console_world, SHOPEE_ORDER)
    with capture_logs() as logs:
        console_world.client.post(
            "/webhooks/shopee", content=body, headers={"Authorization": signature}
        )
        console_world.client.post(
            "/webhooks/shopee", content=body, headers={"Authorization": key}
        )
        console_world.client.post(
            "/webhooks/shopee", content=b"[" + key.encode() + b"]",
            headers={"Authorization": key},
        )  # fmt: skip
    text = repr(logs)
    assert logs, "the receivers log what they do"
    assert key not in text
    assert signature not in text


# ---------------------------------------------------------------- bodies, no store


def test_parse_shopee_codes() -> None:
    for code, kind, action in (
        (2, "shop_deauthorisation", Action.REAUTHORISE),
        (3, "order_status", Action.PULL),
        (4, "tracking_number", Action.PULL),
        (8, "reserved_stock_change", Action.PUSH),
        (12, "authorisation_expiry", Action.REAUTHORISE),
        (10, "code_10", Action.NONE),
    ):
        body = json.dumps({"shop_id": 1, "code": code, "timestamp": 1, "data": {}})
        parsed = parse("shopee", body.encode())
        assert (parsed.kind, parsed.shop_id, parsed.action) == (kind, "1", action)
    # partner-level pushes have no shop
    assert parse("shopee", b'{"code": 1, "data": {}}').shop_id is None


def test_parse_tiktok_deduplicates_on_the_notification_id() -> None:
    sample = {
        "type": 1,
        "tts_notification_id": "7327112393057371910",
        "shop_id": "7494049642642441621",
        "timestamp": 1706166669,
        "data": {"order_id": "576461413038785752", "order_status": "UNPAID"},
    }
    parsed = parse("tiktok_shop", json.dumps(sample).encode())
    assert parsed.delivery_key == "id:7327112393057371910"
    assert (parsed.kind, parsed.action) == ("order_status", Action.PULL)
    assert parsed.shop_id == "7494049642642441621"


@pytest.mark.parametrize(
    ("marketplace", "body", "named"),
    [
        ("shopee", b"[1]", "expected a JSON object"),
        ("shopee", b'{"code": "3"}', "field 'code' must be an integer"),
        ("tokopedia", b'{"shop_id": 1}', "field 'order_id' is missing"),
        ("tokopedia", b"\xff", "not JSON"),
    ],
)
def test_parse_names_what_is_wrong(marketplace: str, body: bytes, named: str) -> None:
    with pytest.raises(WebhookBodyError, match=named):
        parse(marketplace, body)


# ---------------------------------------------------------------- the simulator's own


# The simulator passes its delivery timeout, which the test client only warns about.
@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")
def test_the_shopee_simulators_pushes_with_their_faults(
    console_world: ConsoleWorld,
) -> None:
    """The Shopee simulator signs and sends its pushes to the receivers, with a
    dropped, a duplicated, a badly signed and two reordered ones: every well-signed
    delivery stored once, the badly signed one refused (401, not stored)."""
    from simulators.shopee.simulator import ShopeeSimulator

    key = _secret(console_world, "shopee_demo", "partner_key")
    with TestClient(webhooks_only_app(console_world.console)) as receiver:
        simulator = ShopeeSimulator(seed=0, webhook_client=receiver, sleep=_no_wait)
        assert simulator.partner_key == key, "the demo's key is the seed-0 simulator's"
        simulator.push_url, simulator.push_codes = SHOPEE_URL, {2, 3, 8}

        def push(n: int) -> None:
            data = {"ordersn": f"O{n}", "status": "READY_TO_SHIP", "update_time": n}
            simulator.push(SHOPEE_SHOP, 3, data)

        duplicates, refused = _count("shopee", "duplicate"), _count("shopee", "refused")
        push(1)
        simulator.webhooks.drop_next()
        push(2)
        simulator.webhooks.duplicate_next()
        push(3)
        simulator.webhooks.bad_signature_next()
        push(4)
        simulator.webhooks.hold_next(2)
        push(5)
        push(6)
        simulator.webhooks.release_held(reverse=True)
        push(7)
    stored = [json.loads(r.body)["data"]["ordersn"] for r in _rows(console_world)]
    assert stored == ["O1", "O3", "O6", "O5", "O7"]
    assert _count("shopee", "duplicate") == duplicates + 1
    assert _count("shopee", "refused") > refused
    statuses = {
        json.loads(d.body)["data"]["ordersn"]: d.status for d in simulator.webhooks.log
    }
    assert statuses["O4"] == 401
    assert statuses["O2"] is None  # dropped: never sent, kept as a lost push
    assert {statuses[o] for o in ("O1", "O3", "O5", "O6", "O7")} == {200}


def _no_wait(_seconds: float) -> None:
    """The simulator's retry delays, not waited out in tests."""


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument")
def test_the_tokopedia_simulators_webhooks_with_their_faults(
    console_world: ConsoleWorld,
) -> None:
    """Buyers' orders at the Tokopedia simulator send order notifications and
    statuses, signed with the secret registered with it (the client secret): each
    stored once for the account, the badly signed one refused."""
    from simulators.tokopedia.simulator import TokopediaSimulator

    secret = _secret(console_world, "tokopedia_demo", "client_secret")
    with TestClient(webhooks_only_app(console_world.console)) as receiver:
        simulator = TokopediaSimulator(
            seed=0, webhook_client=receiver, sleep=_no_wait, rate_limits=False
        )
        fs_id = int(simulator.credentials()["fs_id"])
        assert simulator.credentials()["shop_id"] == str(TOKOPEDIA_SHOP)
        simulator.store.registrations[fs_id] = {
            "fs_id": fs_id,
            "order_notification_url": TOKOPEDIA_URL,
            "order_status_url": TOKOPEDIA_URL,
            "webhook_secret": secret,
        }
        simulator.seed_product(sku="KOPI-WH-001", stock=10)
        simulator.webhooks.duplicate_next()
        simulator.webhooks.bad_signature_next()
        simulator.buyers.rush(3)
        simulator.tick()
    sent = simulator.webhooks.log
    assert len(sent) >= 2
    refused = [d for d in sent if d.status == 401]
    assert len(refused) == 1
    accepted = {d.body for d in sent if d.status == 200}
    rows = _rows(console_world)
    assert {r.body for r in rows} == accepted  # each once, the duplicate included
    assert len(rows) == len(accepted) == len(sent) - 1
    assert {r.account_key for r in rows} == {"tokopedia-karya-lapas"}
    assert {r.kind for r in rows} <= {"order_notification", "order_status"}
    assert "order_notification" in {r.kind for r in rows}


def test_signatures_of_each_page() -> None:
    """shopee.md §6.4, tokopedia.md §7.2, tiktok-shop.md §8; every key of the
    marketplace is tried (one credential set's key matches)."""
    body = b'{"type":1,"tts_notification_id":"1","shop_id":"7","data":{}}'
    url = "https://ikm.example/webhooks/shopee"

    def mac(key: str, message: bytes) -> str:
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    keys = distinct_keys([("other-secret", "other-app"), ("s3cret", "app-1")])
    cases = {
        "shopee": ("authorization", mac("s3cret", url.encode() + b"|" + body)),
        "tokopedia": ("authorization-hmac", mac("s3cret", body)),
        "tiktok_shop": ("authorization", mac("s3cret", b"app-1" + body)),
    }
    for marketplace, (header, good) in cases.items():
        assert signature_valid(marketplace, keys, {header: good}, body, url)
        assert signature_valid(marketplace, keys, {header: good.upper()}, body, url)
        assert not signature_valid(marketplace, keys, {header: good}, body + b" ", url)
        assert not signature_valid(marketplace, keys, {}, body, url)
        assert not signature_valid(marketplace, Keys(()), {header: good}, body, url)
    # Shopee signs the callback URL too: another URL is another signature
    shopee_good = cases["shopee"][1]
    assert not signature_valid(
        "shopee", keys, {"authorization": shopee_good}, body, url + "x"
    )
    # TikTok Shop: the app key is part of the message
    tiktok = mac("s3cret", b"other-app" + body)
    assert not signature_valid(
        "tiktok_shop", keys, {"authorization": tiktok}, body, url
    )
