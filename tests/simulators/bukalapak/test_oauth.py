"""OAuth2 at accounts.bukalapak.com and token checks on the API (page §2, §8.1, §9)."""

from __future__ import annotations

import base64
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.simulators.bukalapak._support import (
    START,
    Market,
    assert_error,
    bearer,
    make_market,
)


def test_authorize_redirects_straight_back_with_code_and_state(market: Market) -> None:
    response = market.authorize(state="abc123")

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.geturl().startswith(market.creds["redirect_uri"] + "?")
    query = parse_qs(location.query)
    assert query["state"] == ["abc123"]
    assert query["code"][0]


def test_authorize_refuses_unknown_client_and_bad_response_type(
    market: Market,
) -> None:
    unknown = market.authorize(client_id="nope")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"
    assert unknown.json()["meta"]["http_status"] == 401

    wrong_type = market.authorize(response_type="token")
    assert wrong_type.status_code == 302
    query = parse_qs(urlsplit(wrong_type.headers["location"]).query)
    assert query["error"] == ["unsupported_response_type"]
    assert "code" not in query


def test_code_exchange_returns_the_documented_token_json(market: Market) -> None:
    response = market.exchange(market.code())

    assert response.status_code == 200
    body = response.json()
    assert {"access_token", "refresh_token", "expires_in", "created_at"} <= set(body)
    assert body["expires_in"] == 3_600
    assert body["created_at"] == int(START.timestamp())
    assert body["scope"].split() == ["public", "user", "store"]
    assert body["meta"]["http_status"] == 200
    assert body["errors"] == []
    assert body["data"]["access_token"] == body["access_token"]


def test_code_is_single_use(market: Market) -> None:
    code = market.code()
    assert market.exchange(code).status_code == 200

    again = market.exchange(code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again.json()["meta"]["http_status"] == 400
    assert again.json()["errors"][0]["message"]


def test_code_is_bound_to_its_redirect_uri(market: Market) -> None:
    code = market.code()

    other = market.exchange(code, redirect_uri="https://evil.example/callback")

    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"


def test_code_lapses_after_ten_minutes(market: Market) -> None:
    code = market.code()
    market.clock.advance(minutes=10)

    response = market.exchange(code)

    assert response.json()["error"] == "invalid_grant"


def test_unknown_code_is_invalid_grant(market: Market) -> None:
    assert market.exchange("not-a-code").json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(market: Market) -> None:
    response = market.token_request(
        grant_type="authorization_code",
        client_id=market.creds["client_id"],
        client_secret="wrong",
        code=market.code(),
        redirect_uri=market.creds["redirect_uri"],
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


def test_client_may_authenticate_with_http_basic(market: Market) -> None:
    pair = f"{market.creds['client_id']}:{market.creds['client_secret']}"
    response = market.accounts.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": market.code(),
            "redirect_uri": market.creds["redirect_uri"],
        },
        headers={"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()},
    )

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_refresh_rotates_and_the_old_refresh_token_is_spent(market: Market) -> None:
    first = market.tokens()
    market.clock.advance(minutes=5)

    renewed = market.refresh(first["refresh_token"])

    assert renewed.status_code == 200
    body = renewed.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["created_at"] == int(START.timestamp()) + 300
    reused = market.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert market.refresh(body["refresh_token"]).status_code == 200


def test_refresh_revokes_the_previous_access_token(market: Market) -> None:
    first = market.tokens()
    renewed = market.refresh(first["refresh_token"]).json()

    assert_error(market.api.get("/me", headers=bearer(first["access_token"])), 401)
    assert market.api.get("/me", headers=bearer(renewed["access_token"])).is_success


def test_refresh_token_lapses_after_thirty_days(market: Market) -> None:
    first = market.tokens()
    market.clock.advance(days=30)

    response = market.refresh(first["refresh_token"])

    assert response.json()["error"] == "invalid_grant"


def test_refresh_with_another_clients_id_is_refused(market: Market) -> None:
    first = market.tokens()

    response = market.token_request(
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id="someone-else",
        client_secret="x",
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_refresh_token_is_invalid_grant(market: Market) -> None:
    assert market.refresh("never-issued").json()["error"] == "invalid_grant"


def test_unsupported_and_missing_grant_types(market: Market) -> None:
    assert (
        market.token_request(grant_type="implicit").json()["error"]
        == "unsupported_grant_type"
    )
    assert market.token_request().json()["error"] == "invalid_request"


def test_legacy_password_grant(market: Market) -> None:
    response = market.token_request(
        grant_type="password",
        client_id=market.creds["client_id"],
        client_secret=market.creds["client_secret"],
        username=market.creds["seller_username"],
        password=market.creds["seller_password"],
    )
    assert response.status_code == 200
    me = market.api.get("/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["data"]["username"] == market.creds["seller_username"]

    wrong = market.token_request(
        grant_type="password",
        client_id=market.creds["client_id"],
        client_secret=market.creds["client_secret"],
        username=market.creds["seller_username"],
        password="wrong",
    )
    assert wrong.json()["error"] == "invalid_grant"


def test_bearer_header_and_query_parameter_are_both_accepted(
    market: Market, token: str
) -> None:
    by_header = market.api.get("/me", headers=bearer(token))
    by_query = market.api.get("/me", params={"access_token": token})

    assert by_header.status_code == by_query.status_code == 200
    assert by_header.json() == by_query.json()
    data = by_header.json()["data"]
    assert str(data["id"]) == market.creds["user_id"]
    assert str(data["store"]["id"]) == market.creds["store_id"]
    assert by_header.json()["meta"]["http_status"] == 200


def test_missing_and_unknown_tokens_get_401(market: Market) -> None:
    assert_error(market.api.get("/me"), 401)
    assert_error(market.api.get("/me", headers=bearer("forged")), 401)
    assert_error(
        market.api.get("/stores/me/products", headers={"Authorization": "Basic eA=="}),
        401,
    )


def test_access_token_expires_after_an_hour(market: Market, token: str) -> None:
    market.clock.advance(seconds=3_599)
    assert market.api.get("/me", headers=bearer(token)).status_code == 200

    market.clock.advance(seconds=1)

    assert_error(market.api.get("/me", headers=bearer(token)), 401)


def test_client_credentials_token_is_public_only(market: Market, token: str) -> None:
    product = market.sim.add_product(
        name="Tas Anyaman", sku_name="TAS-1", price=90_000, stock=3
    )
    public = market.public_token()

    assert market.api.get(f"/products/{product}", headers=bearer(public)).is_success
    for path in ("/stores/me/products", "/me"):
        assert_error(market.api.get(path, headers=bearer(public)), 403)
    assert_error(
        market.api.get(
            "/transactions", params={"context": "sale"}, headers=bearer(public)
        ),
        403,
    )
    assert_error(
        market.api.post("/products", json={}, headers=bearer(public)),
        403,
    )


def test_client_credentials_refuses_wider_scopes(market: Market) -> None:
    response = market.token_request(
        grant_type="client_credentials",
        client_id=market.creds["client_id"],
        client_secret=market.creds["client_secret"],
        scope="public store",
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_seller_granting_no_store_scope_cannot_reach_store_endpoints(
    market: Market,
) -> None:
    token = market.seller_token(scope="public user")

    assert market.api.get("/me", headers=bearer(token)).status_code == 200
    assert_error(market.api.get("/stores/me/products", headers=bearer(token)), 403)


def test_seed_makes_credentials_deterministic() -> None:
    first, second = make_market(seed=7), make_market(seed=7)

    assert first.creds == second.creds
    assert first.seller_token() == second.seller_token()
    assert make_market(seed=8).creds["client_id"] != first.creds["client_id"]


def test_client_secrets_and_passwords_are_compared_in_constant_time(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[object, object]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    wrong_secret = market.token_request(
        grant_type="authorization_code",
        client_id=market.creds["client_id"],
        client_secret="wrong-secret",
        code=market.code(),
        redirect_uri=market.creds["redirect_uri"],
    )
    wrong_password = market.token_request(
        grant_type="password",
        client_id=market.creds["client_id"],
        client_secret=market.creds["client_secret"],
        username=market.creds["seller_username"],
        password="wrong-password",
    )
    assert wrong_secret.json()["error"] == "invalid_client"
    assert wrong_password.json()["error"] == "invalid_grant"
    given = {value for pair in compared for value in pair}
    for value in ("wrong-secret", "wrong-password"):
        assert value in given or value.encode() in given
