"""§2 tokens and the shop cipher: exchange, refresh, expiry, revocation, and
``shop_cipher`` matched to the token's seller (§9.1, §9.2)."""

from __future__ import annotations

from datetime import timedelta

from simulators.tiktok_shop.model import (
    ACCESS_TOKEN_LIFETIME,
    EXPIRED_ACCESS_TOKEN,
    INVALID_ACCESS_TOKEN,
    INVALID_APP_KEY,
    INVALID_AUTH_CODE,
    INVALID_PARAMETER,
    INVALID_REFRESH_TOKEN,
    REFRESH_TOKEN_LIFETIME,
    SHOP_NOT_AUTHORISED,
)
from tests.simulators.tiktok_shop.conftest import Tts, error, ok

SHOPS = "/authorization/202309/shops"


def _code(tts: Tts, shop_id: str = "") -> str:
    params = {"shop_id": shop_id} if shop_id else {}
    return str(
        tts.http.get(
            "https://open-api.tiktokglobalshop.com/_sim/auth_code", params=params
        ).json()["code"]
    )


def test_the_token_answer_carries_the_documented_fields(tts: Tts) -> None:
    data = ok(
        tts.token_call(
            app_secret=tts.creds["app_secret"],
            auth_code=_code(tts),
            grant_type="authorized_code",
        )
    )
    now = tts.clock.timestamp()
    assert data["access_token_expire_in"] == now + ACCESS_TOKEN_LIFETIME
    assert data["refresh_token_expire_in"] == now + REFRESH_TOKEN_LIFETIME
    assert data["seller_base_region"] == "ID"
    assert data["open_id"]
    assert data["seller_name"]


def test_a_code_works_once_and_without_app_secret(tts: Tts) -> None:
    code = _code(tts)
    ok(tts.token_call(auth_code=code, grant_type="authorized_code"))
    again = tts.token_call(auth_code=code, grant_type="authorized_code")
    error(again, 400, INVALID_AUTH_CODE)


def test_a_wrong_app_secret_is_refused_on_the_token_call(tts: Tts) -> None:
    answer = tts.token_call(
        app_secret="wrong", auth_code=_code(tts), grant_type="authorized_code"
    )
    error(answer, 401, INVALID_APP_KEY)


def test_refresh_issues_a_new_access_token_and_retires_the_old(tts: Tts) -> None:
    old = tts.access_token
    tts.clock.advance(days=8)
    error(tts.call("GET", SHOPS, scoped=False), 401, EXPIRED_ACCESS_TOKEN)
    data = ok(
        tts.token_call(
            app_secret=tts.creds["app_secret"],
            refresh_token=tts.refresh_token,
            grant_type="refresh_token",
        )
    )
    assert data["access_token"] != old
    assert data["refresh_token"] == tts.refresh_token
    tts.access_token = data["access_token"]
    ok(tts.call("GET", SHOPS, scoped=False))
    error(tts.call("GET", SHOPS, scoped=False, token=old), 401, INVALID_ACCESS_TOKEN)


def test_an_expired_refresh_token_is_refused(tts: Tts) -> None:
    tts.clock.advance(timedelta(days=31).total_seconds())
    answer = tts.token_call(refresh_token=tts.refresh_token, grant_type="refresh_token")
    error(answer, 400, INVALID_REFRESH_TOKEN)


def test_a_withdrawn_authorisation_stops_access_and_refresh(tts: Tts) -> None:
    tts.sim.revoke_authorisation()
    error(tts.call("GET", SHOPS, scoped=False), 401, INVALID_ACCESS_TOKEN)
    answer = tts.token_call(refresh_token=tts.refresh_token, grant_type="refresh_token")
    error(answer, 400, INVALID_REFRESH_TOKEN)
    tts.login()  # approving again brings it back
    ok(tts.call("GET", SHOPS, scoped=False))


def test_a_missing_or_wrong_access_token_is_refused(tts: Tts) -> None:
    error(tts.call("GET", SHOPS, scoped=False, token=""), 401, INVALID_ACCESS_TOKEN)
    error(tts.call("GET", SHOPS, scoped=False, token="x"), 401, INVALID_ACCESS_TOKEN)


def test_shop_scoped_calls_need_the_cipher_of_a_shop_of_the_token(tts: Tts) -> None:
    search = "/product/202312/products/search"
    page = {"page_size": "10"}
    missing = tts.call("POST", search, params=page, body={}, scoped=False)
    assert "shop_cipher" in error(missing, 400, INVALID_PARAMETER)
    other = tts.sim.add_shop("Toko Lain", new_seller=True)
    foreign = tts.call("POST", search, params=page, body={}, cipher=other.cipher)
    error(foreign, 403, SHOP_NOT_AUTHORISED)
    unknown = tts.call("POST", search, params=page, body={}, cipher="ROW_unknown")
    error(unknown, 403, SHOP_NOT_AUTHORISED)
    # a second shop of the same seller is listed and usable with its own cipher
    sister = tts.sim.add_shop("Toko Kedua")
    shops = ok(tts.call("GET", SHOPS, scoped=False))["shops"]
    assert {s["cipher"] for s in shops} == {tts.cipher, sister.cipher}
    ok(tts.call("POST", search, params=page, body={}, cipher=sister.cipher))
