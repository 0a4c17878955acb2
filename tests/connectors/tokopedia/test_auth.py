"""§2 authentication: the client-credentials token, reuse, expiry, refusals, options."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.tokopedia import TokopediaConnector
from core.errors import AuthError, ConfigError
from tests.connectors.tokopedia.conftest import (
    ACCOUNT,
    API,
    BASIC,
    FRESH_TOKEN,
    FS_ID,
    NOW,
    SHOP_ID,
    STORED_TOKEN,
    Build,
    fail,
    ok,
    token_answer,
)

INFO = f"/inventory/v1/fs/{FS_ID}/product/info"


def test_the_first_call_fetches_a_token_exactly_as_the_page_says(build: Build) -> None:
    wire = build(stored_token=False)
    token = wire.token_route()
    info = wire.router.get(INFO).mock(return_value=ok([]))

    wire.connector.check()

    (call,) = token.calls
    request = call.request
    assert request.method == "POST"
    assert str(request.url) == (
        "https://accounts.tokopedia.com/token?grant_type=client_credentials"
    )
    assert request.headers["Authorization"] == BASIC
    assert request.content == b""
    api = info.calls[0].request
    assert api.headers["Authorization"] == f"Bearer {FRESH_TOKEN}"
    assert dict(api.url.params) == {
        "shop_id": str(SHOP_ID),
        "page": "1",
        "per_page": "1",
    }
    stored = wire.tokens.load(ACCOUNT)
    assert stored.access_token is not None
    assert stored.access_token.reveal() == FRESH_TOKEN
    assert stored.access_expires_at == NOW + timedelta(seconds=1_209_600)
    assert stored.refresh_token is None


def test_the_same_token_serves_while_valid_and_a_new_one_comes_after_expiry(
    build: Build,
) -> None:
    wire = build(stored_token=False)
    token = wire.token_route(
        token_answer("c:first", expires_in=3_600), token_answer("c:second")
    )
    info = wire.router.get(INFO).mock(return_value=ok([]))

    wire.connector.check()
    wire.clock.advance(minutes=59)
    wire.connector.check()
    assert token.call_count == 1  # still valid: no token call
    wire.clock.advance(minutes=2)
    wire.connector.check()

    assert token.call_count == 2
    used = [c.request.headers["Authorization"] for c in info.calls]
    assert used == ["Bearer c:first", "Bearer c:first", "Bearer c:second"]


def test_unauthorized_gets_a_new_token_and_retries_once(build: Build) -> None:
    wire = build()
    token = wire.token_route()
    info = wire.router.get(INFO)
    info.side_effect = [
        fail(401, "OPENAPI_MDLW_401", "access token expired", messages="unauthorized"),
        ok([]),
    ]

    wire.connector.check()

    assert token.call_count == 1
    used = [c.request.headers["Authorization"] for c in info.calls]
    assert used == [f"Bearer {STORED_TOKEN}", f"Bearer {FRESH_TOKEN}"]


def test_unauthorized_twice_is_an_auth_error_after_one_refresh(build: Build) -> None:
    wire = build()
    token = wire.token_route()
    refused = fail(401, "OPENAPI_MDLW_401", "token refused", messages="unauthorized")
    info = wire.router.get(INFO).mock(return_value=refused)

    with pytest.raises(AuthError):
        wire.connector.check()

    assert token.call_count == 1
    assert info.call_count == 2


def test_a_shop_no_longer_linked_needs_reauthorisation_and_is_not_called_again(
    build: Build,
) -> None:
    wire = build()
    info = wire.router.get(INFO).mock(
        return_value=fail(
            403, "RBAC_MDLW_001", f"shop {SHOP_ID} is not connected to this fs_id"
        )
    )

    with pytest.raises(AuthError):
        wire.connector.check()
    stored = wire.tokens.load(ACCOUNT)
    assert stored.needs_reauthorisation
    assert "not connected" in stored.reason
    with pytest.raises(AuthError, match="re-authorisation"):
        wire.connector.check()
    assert info.call_count == 1  # no retry loop


def test_authorising_again_clears_the_mark_once_the_shop_is_linked_again(
    build: Build,
) -> None:
    wire = build()
    info = wire.router.get(INFO).mock(
        side_effect=[
            fail(403, "RBAC_MDLW_001", f"shop {SHOP_ID} is not connected"),
            ok([]),
        ]
    )
    with pytest.raises(AuthError):
        wire.connector.check()
    assert wire.tokens.load(ACCOUNT).needs_reauthorisation

    # The officer re-links the shop in the Seller Center, then authorises here.
    wire.connector.authorize("", "https://ikm.example/cb")
    stored = wire.tokens.load(ACCOUNT)
    assert not stored.needs_reauthorisation
    assert stored.reason == ""
    wire.connector.check()
    assert info.call_count == 2


def test_wrong_client_credentials_are_an_auth_error(build: Build) -> None:
    wire = build(stored_token=False)
    wire.token_route(
        httpx.Response(
            401,
            json={
                "error": "invalid_client",
                "error_description": "client authentication failed",
            },
        )
    )

    with pytest.raises(AuthError, match="invalid_client") as refused:
        wire.connector.check()
    # The app's own credentials: fixed in the settings, the shop stays authorised.
    assert refused.value.reauthorise is False
    assert not wire.tokens.load(ACCOUNT).needs_reauthorisation


def test_shops_are_linked_out_of_band(build: Build) -> None:
    wire = build()
    assert wire.connector.authorization_url("https://ikm.example/cb", "s") is None
    wire.connector.authorize("any-code", "https://ikm.example/cb")  # no request
    stored = wire.tokens.load(ACCOUNT)
    assert stored.access_token is not None
    assert not stored.needs_reauthorisation


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({}, "fs_id"),
        ({"fs_id": 0}, "fs_id"),
        ({"fs_id": "abc"}, "fs_id"),
        ({"fs_id": FS_ID, "partner_id": 1}, "partner_id"),
        ({"fs_id": FS_ID, "token_url": "accounts.tokopedia.com/token"}, "token_url"),
        ({"fs_id": FS_ID, "min_order": 0}, "min_order"),
        ({"fs_id": FS_ID, "product_status": "ACTIVE"}, "product_status"),
        ({"fs_id": FS_ID, "categories": {"Kopi": -1}}, "categories"),
        ({"fs_id": FS_ID, "payment_lookback_hours": -1}, "payment_lookback_hours"),
        ({"fs_id": FS_ID, "payment_lookback_hours": "2d"}, "payment_lookback_hours"),
    ],
)
def test_bad_options_are_config_errors_naming_the_option(
    build: Build, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=f"options.{named}"):
        build(options=options)


def test_missing_credentials_and_shop_ids_are_config_errors(build: Build) -> None:
    context = build().context
    with pytest.raises(ConfigError, match="client_secret"):
        TokopediaConnector(replace(context, credentials={}))
    account = replace(context.account, shop_id="toko-ku")
    with pytest.raises(ConfigError, match="shop_id"):
        TokopediaConnector(replace(context, account=account))


def test_the_api_base_url_comes_from_the_context(build: Build) -> None:
    wire = build()
    route = wire.router.get(f"{API}{INFO}").mock(return_value=ok([]))
    wire.connector.check()
    assert route.called
