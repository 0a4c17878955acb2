"""TikTok Shop wire tests: what the connector sends (§3 signing, §2 tokens) and how
it reads refusals, on a respx router that fails on unused and unmocked routes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.tiktok_shop import TikTokShopConnector
from connectors.tiktok_shop.client import signature
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.domain.sync import OrderStatus
from core.errors import AuthError
from core.ports import TokenSet
from tests.connectors.test_plumbing import FakeTime
from tests.fakes import FakeClock, FakeTokenStore

API = "https://open-api.tiktokglobalshop.com"
TOKEN_URL = "https://auth.tiktok-shops.com/api/v2/token/get"
APP_KEY = "6a1b2c3d4e5f6"
APP_SECRET = "tts-secret-0f9e8d7c6b5a"
SHOP_ID = "7494000000000001"
CIPHER = "ROW_cipher_0001"
ACCESS = "ROW_access_0001"
NOW = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)
ACCOUNT = AccountId("tiktok-wire")
SHOPS = {
    "code": 0,
    "message": "Success",
    "request_id": "r1",
    "data": {"shops": [{"id": SHOP_ID, "cipher": CIPHER, "name": "Toko"}]},
}


def page_sign(path: str, query: dict[str, str], body: bytes) -> str:
    """§3 by hand: the secret, the path, the sorted pairs, the body, the secret."""
    pairs = "".join(
        k + query[k] for k in sorted(query) if k not in ("sign", "access_token")
    )
    text = APP_SECRET + path + pairs + body.decode() + APP_SECRET
    return hmac.new(APP_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def tokens() -> FakeTokenStore:
    store = FakeTokenStore()
    store.tokens[ACCOUNT] = TokenSet(
        access_token=Secret(ACCESS),
        refresh_token=Secret("ROW_refresh_0001"),
        access_expires_at=NOW + timedelta(days=6),
        refresh_expires_at=NOW + timedelta(days=29),
        version=1,
    )
    return store


def connector(tokens: FakeTokenStore, fake_time: FakeTime) -> TikTokShopConnector:
    context = ConnectorContext(
        account=ChannelAccount(
            ACCOUNT, Marketplace("tiktok_shop"), SHOP_ID, (ProducerCode("IKM-1"),)
        ),
        base_url=API,
        http=httpx.Client(),
        clock=FakeClock(NOW),
        tokens=tokens,
        budget=RateBudget(10, 10, monotonic=fake_time.monotonic, sleep=fake_time.sleep),
        credentials={"app_key": Secret(APP_KEY), "app_secret": Secret(APP_SECRET)},
        options={"default_category_id": "600001", "token_url": TOKEN_URL},
        policy=RetryPolicy(attempts=2),
        sleep=fake_time.sleep,
    )
    return TikTokShopConnector(context)


def test_the_known_answer_of_the_signature() -> None:
    query = {"app_key": "29a39d", "timestamp": "1700000000", "sign": "x"}
    assert (
        signature("e59af819cc", "/authorization/202309/shops", query)
        == "78ff58970b946694e7a3b7647895b1bc6786a07f40043ef016956571012865c6"
    )


def test_calls_are_signed_and_carry_the_token_and_cipher(
    router: respx.MockRouter, tokens: FakeTokenStore
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/shops"):
            return httpx.Response(200, json=SHOPS)
        body = {"products": [], "next_page_token": "", "total_count": 0}
        return httpx.Response(200, json={"code": 0, "data": body})

    router.get(f"{API}/authorization/202309/shops").mock(side_effect=answer)
    router.post(f"{API}/product/202312/products/search").mock(side_effect=answer)

    assert connector(tokens, FakeTime()).find_listings(["KOPI-001"]) == {}

    shops, search = sent[0], sent[1]
    for request in sent:
        query = dict(request.url.params)
        assert query["app_key"] == APP_KEY
        assert query["timestamp"] == str(int(NOW.timestamp()))
        assert query["sign"] == page_sign(request.url.path, query, request.content)
        assert request.headers["x-tts-access-token"] == ACCESS
        assert "app_secret" not in query
    assert "shop_cipher" not in shops.url.params
    assert search.url.params["shop_cipher"] == CIPHER
    assert search.url.params["page_size"] == "100"
    assert json.loads(search.content) == {"seller_skus": ["KOPI-001"]}


def test_authorising_stores_the_ends_the_answer_gives(
    router: respx.MockRouter, fake_time: FakeTime
) -> None:
    route = router.get(TOKEN_URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "code": 0,
                "data": {
                    "access_token": "ROW_new_access",
                    "access_token_expire_in": int(NOW.timestamp()) + 604_800,
                    "refresh_token": "ROW_new_refresh",
                    "refresh_token_expire_in": 2_592_000,  # seconds: read as such
                },
            },
        )
    )
    store = FakeTokenStore()
    connector(store, fake_time).authorize("ROW_code", "https://x.example/cb")
    query = dict(route.calls.last.request.url.params)
    assert query == {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "auth_code": "ROW_code",
        "grant_type": "authorized_code",
    }
    saved = store.load(ACCOUNT)
    assert saved.access_token == Secret("ROW_new_access")
    assert saved.access_expires_at == NOW + timedelta(days=7)
    assert saved.refresh_expires_at == NOW + timedelta(days=30)


def test_a_refused_signature_is_the_apps_fault_not_the_shops(
    router: respx.MockRouter, tokens: FakeTokenStore, fake_time: FakeTime
) -> None:
    router.get(f"{API}/authorization/202309/shops").mock(
        return_value=httpx.Response(
            401, json={"code": 106001, "message": "sign is wrong", "data": None}
        )
    )
    with pytest.raises(AuthError) as caught:
        connector(tokens, fake_time).check()
    assert caught.value.reauthorise is False
    assert not tokens.load(ACCOUNT).needs_reauthorisation


def test_a_refused_refresh_marks_the_account(
    router: respx.MockRouter, tokens: FakeTokenStore, fake_time: FakeTime
) -> None:
    router.get(f"{API}/authorization/202309/shops").mock(
        return_value=httpx.Response(
            401, json={"code": 105002, "message": "expired", "data": None}
        )
    )
    refresh = router.get(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"code": 36004010, "message": "refresh token invalid"}
        )
    )
    with pytest.raises(AuthError):
        connector(tokens, fake_time).check()
    assert refresh.calls.last.request.url.params["grant_type"] == "refresh_token"
    stored = tokens.load(ACCOUNT)
    assert stored.needs_reauthorisation
    assert "36004010" in stored.reason


def test_orders_sum_units_per_sku_and_map_statuses(
    router: respx.MockRouter, tokens: FakeTokenStore, fake_time: FakeTime
) -> None:
    def item(sku: str, price: str) -> dict[str, str]:
        return {"sku_id": f"id-{sku}", "seller_sku": sku, "sale_price": price}

    order = {
        "id": "5760001",
        "status": "AWAITING_COLLECTION",
        "create_time": int(NOW.timestamp()) - 60,
        "update_time": int(NOW.timestamp()),
        "line_items": [item("A", "1000"), item("B", "2500"), item("A", "1000")],
        "payment": {"currency": "IDR", "total_amount": "13500"},
    }
    router.get(f"{API}/authorization/202309/shops").mock(
        return_value=httpx.Response(200, json=SHOPS)
    )
    router.get(f"{API}/order/202309/orders").mock(
        return_value=httpx.Response(200, json={"code": 0, "data": {"orders": [order]}})
    )
    found = connector(tokens, fake_time).fetch_order("5760001")
    assert found.status is OrderStatus.READY_TO_SHIP
    assert [(str(x.sku), x.quantity, x.unit_price) for x in found.lines] == [
        ("A", 2, 1000),
        ("B", 1, 2500),
    ]
    assert found.total_amount == 13_500
    assert found.placed_at == NOW - timedelta(seconds=60)
