"""§2 authentication and signing, §3 envelopes, and the §11 HTTP status mapping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import (
    BASE_URL,
    PageClient,
    ShopSession,
    error_name,
    shopee_sign,
)
from tests.simulators.shopee.conftest import client_for

ITEM_LIST = "/api/v2/product/get_item_list"
NORMAL: dict[str, Any] = {"item_status": "NORMAL", "offset": 0, "page_size": 10}


def test_shop_call_signed_as_documented_is_accepted(shop: ShopSession) -> None:
    answer = shop.get(ITEM_LIST, NORMAL)
    body = answer.json()
    assert answer.status_code == 200
    assert body["error"] == ""
    assert set(body) >= {"error", "message", "warning", "request_id", "response"}
    assert body["response"]["item"] == []


def test_every_response_has_a_fresh_request_id(shop: ShopSession) -> None:
    ids = {shop.get(ITEM_LIST, NORMAL).json()["request_id"] for _ in range(5)}
    ids.add(shop.get(ITEM_LIST, {"page_size": 10}).json()["request_id"])
    assert len(ids) == 6
    assert all(len(i) == 32 for i in ids)


def test_missing_sign(api: PageClient, shop: ShopSession) -> None:
    ts = api.clock.timestamp()
    answer = api.http.get(
        ITEM_LIST,
        params={
            "partner_id": api.partner_id,
            "timestamp": ts,
            "access_token": shop.access_token,
            "shop_id": shop.shop_id,
            **NORMAL,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "error_param"
    assert answer.json()["message"] == "There is no sign in query"


def test_unparseable_timestamp(api: PageClient, shop: ShopSession) -> None:
    answer = api.http.get(
        ITEM_LIST,
        params={
            "partner_id": api.partner_id,
            "timestamp": "yesterday",
            "access_token": shop.access_token,
            "shop_id": shop.shop_id,
            "sign": "0" * 64,
        },
    )
    assert answer.json()["error"] == "error_param"
    assert answer.json()["message"] == "Invalid timestamp"


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_expired(
    api: PageClient, shop: ShopSession, skew: int
) -> None:
    ts = api.clock.timestamp() + skew
    answer = api.shop(
        "GET", ITEM_LIST, shop.shop_id, shop.access_token, params=NORMAL, timestamp=ts
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "error_param"
    assert answer.json()["message"] == "Timestamp is expired."


@pytest.mark.parametrize("skew", [-300, 300])
def test_timestamp_at_five_minutes_either_way_is_accepted(
    api: PageClient, shop: ShopSession, skew: int
) -> None:
    ts = api.clock.timestamp() + skew
    answer = api.shop(
        "GET", ITEM_LIST, shop.shop_id, shop.access_token, params=NORMAL, timestamp=ts
    )
    assert answer.json()["error"] == ""


def test_wrong_partner_key_is_wrong_sign(api: PageClient, shop: ShopSession) -> None:
    answer = api.shop(
        "GET", ITEM_LIST, shop.shop_id, shop.access_token, params=NORMAL, key="x" * 64
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "error_sign"
    assert answer.json()["message"] == "Wrong sign."


def test_tampered_path_is_wrong_sign(api: PageClient, shop: ShopSession) -> None:
    answer = api.shop(
        "GET",
        ITEM_LIST,
        shop.shop_id,
        shop.access_token,
        params=NORMAL,
        sign_path="/api/v2/product/get_item_base_info",
    )
    assert answer.json()["error"] == "error_sign"


def test_sign_must_be_lowercase_hex(api: PageClient, shop: ShopSession) -> None:
    ts = api.clock.timestamp()
    good = shopee_sign(
        api.partner_key, api.partner_id, ITEM_LIST, ts, shop.access_token, shop.shop_id
    )
    query = {
        "partner_id": api.partner_id,
        "timestamp": ts,
        "access_token": shop.access_token,
        "shop_id": shop.shop_id,
        **NORMAL,
    }
    assert api.http.get(ITEM_LIST, params={**query, "sign": good}).json()["error"] == ""
    upper = api.http.get(ITEM_LIST, params={**query, "sign": good.upper()})
    assert upper.json()["error"] == "error_sign"


def test_shop_call_signed_with_the_public_base_fails(
    api: PageClient, shop: ShopSession
) -> None:
    ts = api.clock.timestamp()
    public_sign = shopee_sign(api.partner_key, api.partner_id, ITEM_LIST, ts)
    answer = api.http.get(
        ITEM_LIST,
        params={
            "partner_id": api.partner_id,
            "timestamp": ts,
            "access_token": shop.access_token,
            "shop_id": shop.shop_id,
            "sign": public_sign,
            **NORMAL,
        },
    )
    assert answer.json()["error"] == "error_sign"


def test_unknown_partner_and_unknown_shop(api: PageClient, shop: ShopSession) -> None:
    stranger = PageClient(api.http, api.clock, api.partner_id + 1, api.partner_key)
    answer = stranger.shop(
        "GET", ITEM_LIST, shop.shop_id, shop.access_token, params=NORMAL
    )
    assert answer.json()["error"] == "error_auth"
    assert answer.json()["message"] == "Invalid partner_id or shopid."
    answer = api.shop("GET", ITEM_LIST, 1, shop.access_token, params=NORMAL)
    assert answer.json()["error"] == "error_auth"
    assert answer.json()["message"] == "Invalid partner_id or shopid."


def test_token_of_another_shop_is_invalid(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    other = int(sim.credentials()["other_shop_id"])
    answer = api.shop("GET", ITEM_LIST, other, shop.access_token, params=NORMAL)
    assert answer.status_code == 403
    assert answer.json()["error"] == "error_auth"
    assert answer.json()["message"] == "Invalid access_token."


def test_access_token_expires_after_four_hours(
    clock: SimClock, shop: ShopSession
) -> None:
    clock.advance(hours=4, seconds=-1)
    assert shop.get(ITEM_LIST, NORMAL).json()["error"] == ""
    clock.advance(seconds=1)
    answer = shop.get(ITEM_LIST, NORMAL)
    assert answer.json()["error"] == "error_auth"
    assert answer.json()["message"] == "Invalid access_token."


def test_token_answer_is_top_level_with_expire_in(api: PageClient) -> None:
    code, redirect = api.code_from_redirect()
    shop_id = int(redirect["shop_id"])
    body = api.get_token(code, shop_id=shop_id).json()
    assert "response" not in body
    assert body["error"] == ""
    assert body["message"] == ""
    assert body["expire_in"] == 14_400
    assert body["shop_id_list"] == [shop_id]
    assert len(body["access_token"]) == 32
    assert len(body["refresh_token"]) == 32
    assert body["request_id"]


def test_code_is_single_use(api: PageClient) -> None:
    code, redirect = api.code_from_redirect()
    shop_id = int(redirect["shop_id"])
    assert api.get_token(code, shop_id=shop_id).json()["error"] == ""
    again = api.get_token(code, shop_id=shop_id)
    assert again.status_code == 403
    assert again.json()["error"] == "invalid_code"
    assert "response" not in again.json()


def test_code_expires_after_ten_minutes(api: PageClient, clock: SimClock) -> None:
    code, redirect = api.code_from_redirect()
    clock.advance(minutes=10)
    answer = api.get_token(code, shop_id=int(redirect["shop_id"]))
    assert answer.json()["error"] == "invalid_code"


def test_code_for_another_shop_is_refused(
    sim: ShopeeSimulator, api: PageClient
) -> None:
    code, _ = api.code_from_redirect()
    other = int(sim.credentials()["other_shop_id"])
    assert api.get_token(code, shop_id=other).json()["error"] == "invalid_code"


def test_refresh_rotates_and_old_refresh_token_is_spent(
    api: PageClient, shop: ShopSession
) -> None:
    first = api.refresh(shop.refresh_token, shop_id=shop.shop_id).json()
    assert "response" not in first
    assert first["error"] == ""
    assert first["shop_id"] == shop.shop_id
    assert first["expire_in"] == 14_400
    assert first["refresh_token"] != shop.refresh_token
    assert first["access_token"] != shop.access_token
    reused = api.refresh(shop.refresh_token, shop_id=shop.shop_id)
    assert reused.json()["error"] == "error_auth"
    assert reused.json()["message"] == "Invalid refresh_token."
    assert reused.status_code == 403
    renewed = ShopSession(
        api, shop.shop_id, first["access_token"], first["refresh_token"]
    )
    assert renewed.get(ITEM_LIST, NORMAL).json()["error"] == ""
    second = api.refresh(first["refresh_token"], shop_id=shop.shop_id).json()
    assert second["error"] == ""


def test_refresh_token_expires_after_thirty_days(
    api: PageClient, clock: SimClock, shop: ShopSession
) -> None:
    clock.advance(days=30)
    answer = api.refresh(shop.refresh_token, shop_id=shop.shop_id)
    assert answer.json()["error"] == "refresh_token_expired"


def test_refresh_then_retry_after_revoked_token(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    sim.revoke_access_tokens(shop.shop_id)
    answer = shop.get(ITEM_LIST, NORMAL)
    assert answer.json()["error"] == "error_auth"
    assert answer.json()["message"] == "Invalid access_token."
    fresh = api.refresh(shop.refresh_token, shop_id=shop.shop_id).json()
    shop.access_token = fresh["access_token"]
    assert shop.get(ITEM_LIST, NORMAL).json()["error"] == ""


def test_deauthorised_shop_is_not_linked_until_authorised_again(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    sim.deauthorise_shop(shop.shop_id)
    answer = shop.get(ITEM_LIST, NORMAL)
    assert answer.status_code == 403
    assert answer.json()["error"] == "shop_no_linked"
    refreshed = api.refresh(shop.refresh_token, shop_id=shop.shop_id)
    assert refreshed.json()["error"] == "shop_no_linked"
    again = api.session(shop.shop_id)
    assert again.get(ITEM_LIST, NORMAL).json()["error"] == ""


def test_expired_authorisation_is_not_linked(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    sim.expire_authorisation(shop.shop_id, in_seconds=60)
    assert shop.get(ITEM_LIST, NORMAL).json()["error"] == ""
    clock.advance(seconds=60)
    assert shop.get(ITEM_LIST, NORMAL).json()["error"] == "shop_no_linked"


SHOP_INFO = "/api/v2/shop/get_shop_info"
SHOPS_BY_PARTNER = "/api/v2/public/get_shops_by_partner"


def test_authorisation_lasts_a_year(
    sim: ShopeeSimulator, api: PageClient, clock: SimClock, shop: ShopSession
) -> None:
    info = shop.get(SHOP_INFO).json()
    assert info["expire_time"] - info["auth_time"] == 365 * 86_400
    assert info["auth_time"] == clock.timestamp()
    listed = api.public("GET", SHOPS_BY_PARTNER).json()
    shops = {s["shop_id"] for s in listed["authed_shop_list"]}
    assert shop.shop_id in shops


def test_shop_info_answers_with_top_level_fields(shop: ShopSession) -> None:
    """The reference's sample of ``v2.shop.get_shop_info``: the shop's fields beside
    ``error``/``message``/``request_id``, no ``response`` object."""
    answer = shop.get(SHOP_INFO)
    body = answer.json()
    assert answer.status_code == 200
    assert "response" not in body
    assert body["error"] == ""
    assert body["message"] == ""
    assert len(body["request_id"]) == 32
    assert isinstance(body["shop_name"], str)
    assert body["region"] == "ID"
    assert body["status"] == "NORMAL"
    assert isinstance(body["auth_time"], int)
    assert isinstance(body["expire_time"], int)


def test_shops_by_partner_answers_with_top_level_fields(
    api: PageClient, shop: ShopSession
) -> None:
    body = api.public("GET", SHOPS_BY_PARTNER).json()
    assert "response" not in body
    assert body["error"] == ""
    assert body["more"] is False
    entry = next(s for s in body["authed_shop_list"] if s["shop_id"] == shop.shop_id)
    assert set(entry) >= {"shop_id", "region", "auth_time", "expire_time"}


def test_shop_info_error_has_no_response_object(
    api: PageClient, shop: ShopSession
) -> None:
    answer = api.shop("GET", SHOP_INFO, shop.shop_id, "0" * 32)
    body = answer.json()
    assert answer.status_code == 403
    assert body["error"] == "error_auth"
    assert body["message"] == "Invalid access_token."
    assert set(body) == {"error", "message", "request_id"}


def test_a_test_sets_the_authorisation_period(
    sim: ShopeeSimulator, api: PageClient, clock: SimClock, shop: ShopSession
) -> None:
    now = clock.timestamp()
    sim.set_authorisation(shop.shop_id, auth_time=now - 100, expire_time=now + 3_600)
    info = shop.get(SHOP_INFO).json()
    assert (info["auth_time"], info["expire_time"]) == (now - 100, now + 3_600)
    listed = api.public("GET", SHOPS_BY_PARTNER).json()["authed_shop_list"]
    entry = next(s for s in listed if s["shop_id"] == shop.shop_id)
    assert entry["expire_time"] == now + 3_600
    clock.advance(seconds=3_600)
    assert shop.get(SHOP_INFO).json()["error"] == "shop_no_linked"


def test_the_admin_endpoint_sets_the_authorisation_period(
    api: PageClient, clock: SimClock, shop: ShopSession
) -> None:
    expire = clock.timestamp() + 5 * 86_400
    answer = api.http.post(
        "/_sim/authorisation", json={"shop_id": shop.shop_id, "expire_time": expire}
    )
    assert answer.status_code == 200
    assert answer.json()["expire_time"] == expire
    assert shop.get(SHOP_INFO).json()["expire_time"] == expire
    # The main shop by default; unknown fields and non-integers are refused.
    assert api.http.post("/_sim/authorisation", json={}).status_code == 200
    bad = api.http.post("/_sim/authorisation", json={"expire_time": "soon"})
    assert bad.status_code == 400
    assert "integers" in bad.json()["message"]
    unknown = api.http.post("/_sim/authorisation", json={"expires": 1})
    assert unknown.status_code == 400
    assert shop.get(SHOP_INFO).json()["expire_time"] == expire


def test_redirect_keeps_an_existing_query(api: PageClient) -> None:
    answer = api.public(
        "GET",
        "/api/v2/shop/auth_partner",
        params={"redirect": "https://ikm.example/cb?state=abc"},
    )
    location = httpx.URL(answer.headers["location"])
    assert location.params["state"] == "abc"
    assert location.params["code"]


def test_auth_link_without_redirect_and_with_bad_sign(api: PageClient) -> None:
    answer = api.public("GET", "/api/v2/shop/auth_partner")
    assert answer.json()["error"] == "error_param"
    bad = api.public(
        "GET",
        "/api/v2/shop/auth_partner",
        params={"redirect": "https://x.example"},
        key="k" * 64,
    )
    assert bad.json()["error"] == "error_sign"


def test_sim_auth_code_helper(sim: ShopeeSimulator, api: PageClient) -> None:
    other = int(sim.credentials()["other_shop_id"])
    answer = api.http.get("/_sim/auth_code", params={"shop_id": other})
    code = answer.json()["code"]
    body = api.get_token(code, shop_id=other).json()
    assert body["error"] == ""
    assert body["shop_id_list"] == [other]


def test_merchant_level_signature(sim: ShopeeSimulator, api: PageClient) -> None:
    creds = sim.credentials()
    main, merchant_id = int(creds["main_account_id"]), int(creds["merchant_id"])
    code, redirect = api.code_from_redirect(main_account_id=main)
    assert redirect["main_account_id"] == str(main)
    tokens = api.get_token(code, main_account_id=main).json()
    assert tokens["merchant_id_list"] == [merchant_id]
    assert tokens["shop_id_list"] == [int(creds["other_shop_id"])]
    info = api.merchant(
        "GET", "/api/v2/merchant/get_merchant_info", merchant_id, tokens["access_token"]
    )
    assert info.json()["error"] == ""
    assert info.json()["merchant_currency"] == "IDR"
    shops = api.merchant(
        "GET",
        "/api/v2/merchant/get_shop_list_by_merchant",
        merchant_id,
        tokens["access_token"],
        params={"page_no": 1, "page_size": 10},
    ).json()
    assert [s["shop_id"] for s in shops["shop_list"]] == [int(creds["other_shop_id"])]
    as_shop = api.shop(
        "GET",
        "/api/v2/merchant/get_merchant_info",
        merchant_id,
        tokens["access_token"],
    )
    assert as_shop.json()["error"] == "error_param"  # no merchant_id in the query
    shop_call = api.shop(
        "GET",
        ITEM_LIST,
        int(creds["other_shop_id"]),
        tokens["access_token"],
        params=NORMAL,
    )
    assert shop_call.json()["error"] == ""
    refreshed = api.refresh(tokens["refresh_token"], merchant_id=merchant_id).json()
    assert refreshed["error"] == ""
    assert refreshed["merchant_id"] == merchant_id


def test_errors_can_all_come_with_http_200(clock: SimClock) -> None:
    sim = ShopeeSimulator(
        clock=clock, sleep=lambda _s: None, rate_limits=False, errors_with_http_200=True
    )
    api = client_for(sim, clock)
    shop = api.session(int(sim.credentials()["shop_id"]))
    wrong = api.shop(
        "GET", ITEM_LIST, shop.shop_id, shop.access_token, params=NORMAL, key="x"
    )
    assert wrong.status_code == 200
    assert wrong.json()["error"] == "error_sign"
    invalid = shop.get(ITEM_LIST, {"page_size": 10})
    assert invalid.status_code == 200
    assert invalid.json()["error"] == "product.error_param"
    sim.faults.fail_next(1, status=503)
    server = shop.get(ITEM_LIST, NORMAL)
    assert server.status_code == 200
    assert server.json()["error"] == "error_inner"


def test_common_prefix_switch(clock: SimClock) -> None:
    sim = ShopeeSimulator(
        clock=clock, sleep=lambda _s: None, rate_limits=False, common_prefix=True
    )
    api = client_for(sim, clock)
    shop = api.session(int(sim.credentials()["shop_id"]))
    sim.revoke_access_tokens()
    answer = shop.get(ITEM_LIST, NORMAL)
    assert answer.json()["error"] == "common.error_auth"
    assert error_name(answer) == "error_auth"


def test_unknown_path_and_wrong_method(api: PageClient, shop: ShopSession) -> None:
    missing = shop.get("/api/v2/product/no_such_api")
    assert missing.status_code == 404
    assert missing.json()["error"] == "error_param"
    wrong = api.shop("POST", ITEM_LIST, shop.shop_id, shop.access_token, json={})
    assert wrong.status_code == 405


def test_body_that_is_not_json(api: PageClient, shop: ShopSession) -> None:
    ts = api.clock.timestamp()
    path = "/api/v2/product/add_item"
    signature = shopee_sign(
        api.partner_key, api.partner_id, path, ts, shop.access_token, shop.shop_id
    )
    answer = api.http.post(
        path,
        params={
            "partner_id": api.partner_id,
            "timestamp": ts,
            "access_token": shop.access_token,
            "shop_id": shop.shop_id,
            "sign": signature,
        },
        content=b"{not json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "product.error_param"


def test_base_url_is_the_real_host(sim: ShopeeSimulator) -> None:
    assert sim.credentials()["base_url"] == BASE_URL
