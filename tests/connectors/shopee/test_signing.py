"""Signatures, common parameters and the authorisation flow on the wire (§1, §2)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx

from core.domain.ids import Sku
from core.domain.remote import StockUpdate
from core.errors import AuthError
from tests.connectors.shopee._support import (
    ACCESS,
    ACCOUNT,
    BASE,
    NEW_ACCESS,
    NEW_REFRESH,
    NOW,
    PARTNER_ID,
    SHOP_ID,
    TS,
    body,
    ok,
    page_sign,
    params,
    rig,
    shop_info,
    stock_reads,
    token_answer,
)

SHOP_INFO = "/api/v2/shop/get_shop_info"


def test_a_shop_call_is_signed_with_the_shop_base_string() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(SHOP_INFO).mock(return_value=shop_info())
        setup.connector.check()
    request = route.calls.last.request
    assert request.url.path == SHOP_INFO
    assert params(request) == {
        "partner_id": [str(PARTNER_ID)],
        "timestamp": [str(TS)],
        "access_token": [ACCESS],
        "shop_id": [str(SHOP_ID)],
        "sign": [page_sign(SHOP_INFO, TS, ACCESS, SHOP_ID)],
    }
    # Signed per request, never through client-wide headers or cookies.
    assert "authorization" not in request.headers
    assert "cookie" not in request.headers


def test_the_recorded_example_signature_is_lowercase_hex_of_the_page_algorithm() -> (
    None
):
    expected = page_sign("/api/v2/product/update_stock", 1_748_833_200, ACCESS, SHOP_ID)
    assert TS == 1_748_833_200
    assert len(expected) == 64
    assert expected == expected.lower()
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        reads = stock_reads(router)  # push_stock reads the reserved units first
        route = router.post("/api/v2/product/update_stock").mock(
            return_value=ok({"success_list": [{"model_id": 0}], "failure_list": []})
        )
        (result,) = setup.connector.push_stock([StockUpdate(Sku("A-1"), "123", 7)])
    assert result.ok
    request = route.calls.last.request
    assert request.url.path == "/api/v2/product/update_stock"
    assert params(request)["sign"] == [expected]
    # The read before it is signed over its own path, not the recorded example's.
    read = reads.base_info.calls.last.request
    read_sign = page_sign(read.url.path, TS, ACCESS, SHOP_ID)
    assert params(read)["sign"] == [read_sign]
    assert read_sign != expected
    assert request.headers["content-type"] == "application/json"
    assert body(request) == {
        "item_id": 123,
        "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 7}]}],
    }


def test_each_attempt_is_signed_afresh() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(SHOP_INFO)
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            if len(seen) == 1:
                setup.clock.advance(seconds=30)  # time passes during the back-off
                return httpx.Response(502, text="<html>bad gateway</html>")
            return shop_info()

        route.mock(side_effect=answer)
        setup.connector.check()
    first, second = (call.request for call in route.calls)
    assert params(first)["timestamp"] == [str(TS)]
    assert params(second)["timestamp"] == [str(TS + 30)]
    assert params(second)["sign"] == [page_sign(SHOP_INFO, TS + 30, ACCESS, SHOP_ID)]


def test_the_authorisation_link_is_signed_as_a_public_api() -> None:
    setup = rig()
    link = setup.connector.authorization_url(
        "https://ikm-sync.example/shopee/callback", "st-42"
    )
    assert link is not None
    url = httpx.URL(link)
    assert f"{url.scheme}://{url.host}{url.path}" == BASE + "/api/v2/shop/auth_partner"
    assert dict(url.params) == {
        "partner_id": str(PARTNER_ID),
        "timestamp": str(TS),
        "sign": page_sign("/api/v2/shop/auth_partner", TS),
        "redirect": "https://ikm-sync.example/shopee/callback?state=st-42",
    }


def test_authorize_exchanges_the_code_and_stores_the_pair_under_the_hold() -> None:
    setup = rig()
    setup.store.tokens.clear()
    path = "/api/v2/auth/token/get"
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.post(path).mock(return_value=token_answer())
        setup.connector.authorize("code-123", "https://ikm-sync.example/cb")
    request = route.calls.last.request
    assert params(request) == {
        "partner_id": [str(PARTNER_ID)],
        "timestamp": [str(TS)],
        "sign": [page_sign(path, TS)],
    }
    assert body(request) == {
        "code": "code-123",
        "partner_id": PARTNER_ID,
        "shop_id": SHOP_ID,
    }
    saved = setup.store.load(ACCOUNT)
    assert saved.access_token is not None
    assert saved.refresh_token is not None
    assert saved.access_token.reveal() == NEW_ACCESS
    assert saved.refresh_token.reveal() == NEW_REFRESH
    assert saved.access_expires_at == NOW + timedelta(seconds=14_400)
    assert saved.refresh_expires_at == NOW + timedelta(days=30)
    assert saved.version == 1
    assert not saved.needs_reauthorisation


def test_a_code_for_another_shop_is_an_auth_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post("/api/v2/auth/token/get").mock(
            return_value=httpx.Response(
                200,
                json={
                    "access_token": "a",
                    "refresh_token": "r",
                    "expire_in": 14_400,
                    "shop_id_list": [999],
                    "error": "",
                    "message": "",
                },
            )
        )
        with pytest.raises(AuthError, match="another shop"):
            setup.connector.authorize("code-x", "https://ikm-sync.example/cb")


def test_a_refresh_is_signed_as_a_public_api_with_the_rotating_token() -> None:
    setup = rig(tokens=None)
    setup.clock.advance(hours=3)  # within five minutes of the access token's end
    path = "/api/v2/auth/access_token/get"
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        refresh = router.post(path).mock(return_value=token_answer())
        shop = router.get(SHOP_INFO).mock(return_value=shop_info())
        setup.connector.check()
    ts = TS + 3 * 3600
    request = refresh.calls.last.request
    assert params(request) == {
        "partner_id": [str(PARTNER_ID)],
        "timestamp": [str(ts)],
        "sign": [page_sign(path, ts)],
    }
    assert "access_token" not in params(request)
    assert body(request)["refresh_token"] == "refresh-token-4e5f6a7b"
    assert params(shop.calls.last.request)["access_token"] == [NEW_ACCESS]
