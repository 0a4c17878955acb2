"""§3 request signing and §8 webhook signatures: known answers, then the simulator
accepting exactly the requests signed that way."""

from __future__ import annotations

import pytest

from simulators.tiktok_shop.model import (
    INVALID_APP_KEY,
    INVALID_PARAMETER,
    INVALID_SIGNATURE,
)
from simulators.tiktok_shop.simulator import request_signature, webhook_signature
from tests.simulators.tiktok_shop.conftest import Tts, error, ok, page_sign

SECRET = "e59af819cc"
BODY = b'{"skus":[{"id":"7","inventory":[{"quantity":5}]}]}'
QUERY = {
    "timestamp": "1700000000",
    "app_key": "29a39d",
    "shop_cipher": "ROW_abc",
    "sign": "ignored",
    "access_token": "ignored-too",
}
#: Worked by hand from §3: secret + path + app_key29a39d + shop_cipherROW_abc +
#: timestamp1700000000 + body + secret, HMAC-SHA256 keyed with the secret.
KNOWN_SIGN = "19f03c334eefd7a50cec9a38ffe81c4cf3d0533404415cd82984c16dc1125303"
#: The same for a GET without body or shop: /authorization/202309/shops.
KNOWN_SIGN_NO_BODY = "78ff58970b946694e7a3b7647895b1bc6786a07f40043ef016956571012865c6"
#: §8: HMAC-SHA256(key = secret, msg = app_key + raw body) for body {"type":1}.
KNOWN_WEBHOOK = "72be2b2d87ad7ba394f304cbc5b2c2b9a8982dc91867ec4174f9703b53e41f49"


def test_the_request_signature_matches_the_known_answers() -> None:
    path = "/product/202309/products/1729/inventory/update"
    assert request_signature(SECRET, path, QUERY, BODY) == KNOWN_SIGN
    assert page_sign(SECRET, path, QUERY, BODY) == KNOWN_SIGN
    no_body = {"app_key": "29a39d", "timestamp": "1700000000"}
    assert (
        request_signature(SECRET, "/authorization/202309/shops", no_body, b"")
        == KNOWN_SIGN_NO_BODY
    )


def test_every_part_of_the_request_changes_the_signature() -> None:
    path = "/product/202309/products/1729/inventory/update"
    changed = [
        request_signature(SECRET + "x", path, QUERY, BODY),
        request_signature(SECRET, path + "x", QUERY, BODY),
        request_signature(SECRET, path, {**QUERY, "timestamp": "1700000001"}, BODY),
        request_signature(SECRET, path, QUERY, BODY + b" "),
    ]
    assert KNOWN_SIGN not in changed
    # sign and access_token are not signed: changing them changes nothing
    same = {**QUERY, "sign": "other", "access_token": "other"}
    assert request_signature(SECRET, path, same, BODY) == KNOWN_SIGN


def test_the_webhook_signature_matches_the_known_answer() -> None:
    assert webhook_signature("29a39d", SECRET, b'{"type":1}') == KNOWN_WEBHOOK


def test_a_correctly_signed_call_is_accepted(tts: Tts) -> None:
    shops = ok(tts.call("GET", "/authorization/202309/shops", scoped=False))
    assert [s["cipher"] for s in shops["shops"]] == [tts.cipher]


@pytest.mark.parametrize("how", ["wrong secret", "missing", "tampered body"])
def test_a_call_signed_otherwise_is_refused(tts: Tts, how: str) -> None:
    if how == "wrong secret":
        tts.sign_with = "not-the-secret"
        answer = tts.search()
    elif how == "missing":
        answer = tts.http.post(
            "https://open-api.tiktokglobalshop.com/product/202312/products/search",
            params={
                "app_key": tts.creds["app_key"],
                "timestamp": str(tts.clock.timestamp()),
                "shop_cipher": tts.cipher,
                "page_size": "10",
            },
            headers={"x-tts-access-token": tts.access_token},
            content=b"{}",
        )
    else:
        request = tts.http.build_request(
            "POST",
            "https://open-api.tiktokglobalshop.com/product/202312/products/search",
            params={
                "app_key": tts.creds["app_key"],
                "timestamp": str(tts.clock.timestamp()),
                "shop_cipher": tts.cipher,
                "page_size": "10",
                "sign": page_sign(
                    tts.creds["app_secret"],
                    "/product/202312/products/search",
                    {
                        "app_key": tts.creds["app_key"],
                        "timestamp": str(tts.clock.timestamp()),
                        "shop_cipher": tts.cipher,
                        "page_size": "10",
                    },
                    b"{}",
                ),
            },
            headers={"x-tts-access-token": tts.access_token},
            content=b'{"status":"ALL"}',
        )
        answer = tts.http.send(request)
    error(answer, 401, INVALID_SIGNATURE)
    assert tts.sim.store.products == {}


def test_an_unknown_app_key_is_refused(tts: Tts) -> None:
    tts.creds = {**tts.creds, "app_key": "6ffffffffffff"}
    error(tts.search(), 401, INVALID_APP_KEY)


def test_a_timestamp_far_from_now_is_refused(tts: Tts) -> None:
    ok(tts.search())
    tts.sim.timestamp_tolerance = -1  # every timestamp is now too far from the clock
    message = error(tts.search(), 400, INVALID_PARAMETER)
    assert "timestamp" in message
