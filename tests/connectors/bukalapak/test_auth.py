"""OAuth2 on the wire: the consent URL, the code exchange, Bearer calls, refresh 30
minutes before expiry and once after a 401, ``invalid_grant`` and a store-less token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from core.errors import AuthError
from tests.connectors.bukalapak._support import (
    ACCESS,
    ACCOUNT,
    ACCOUNTS,
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    NEW_ACCESS,
    NEW_REFRESH,
    NOW,
    REDIRECT,
    REFRESH,
    envelope,
    failure,
    make,
    token_answer,
)

TOKEN_URL = f"{ACCOUNTS}/oauth/token"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


def test_the_consent_url_is_the_documented_authorize_call() -> None:
    url = make().connector.authorization_url(REDIRECT, "st-42")
    assert url == (
        "https://accounts.bukalapak.com/oauth/authorize"
        f"?client_id={CLIENT_ID}"
        "&redirect_uri=https%3A%2F%2Fikm-sync.example%2Foauth%2Fbukalapak%2Fcallback"
        "&scope=public%20user%20store&response_type=code&state=st-42"
    )


def test_a_code_is_exchanged_and_the_pair_stored(router: respx.MockRouter) -> None:
    rig = make(expires_in=None)
    created = NOW - timedelta(seconds=20)
    route = router.post(TOKEN_URL).respond(200, json=token_answer(created_at=created))
    rig.connector.authorize(CODE, REDIRECT)
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(request) == {
        "grant_type": ["authorization_code"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "code": [CODE],
        "redirect_uri": [REDIRECT],
    }
    stored = rig.tokens.load(ACCOUNT)
    assert stored.access_token is not None
    assert stored.refresh_token is not None
    assert stored.access_token.reveal() == NEW_ACCESS
    assert stored.refresh_token.reveal() == NEW_REFRESH
    assert stored.access_expires_at == created + timedelta(seconds=3600)
    assert stored.refresh_expires_at == created + timedelta(days=30)
    assert stored.version == 1
    assert not stored.needs_reauthorisation


def test_a_refused_code_is_an_auth_error(router: respx.MockRouter) -> None:
    router.post(TOKEN_URL).respond(
        400,
        json={
            "error": "invalid_grant",
            **failure(400, "invalid_grant: the authorization code is invalid"),
        },
    )
    with pytest.raises(AuthError, match="invalid_grant"):
        make(expires_in=None).connector.authorize(CODE, REDIRECT)
    assert router.routes[0].call_count == 1  # a code is never sent twice


def test_calls_carry_the_bearer_token_and_the_v4_accept_header(
    router: respx.MockRouter,
) -> None:
    route = router.get("/stores/me/products").respond(200, json=envelope([], total=0))
    make().connector.check()
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {ACCESS}"
    assert request.headers["accept"] == "application/vnd.bukalapak.v4+json"
    assert "access_token" not in str(request.url)
    assert dict(request.url.params) == {"offset": "0", "limit": "1"}


def test_a_token_is_refreshed_30_minutes_before_it_expires(
    router: respx.MockRouter,
) -> None:
    rig = make(expires_in=timedelta(minutes=29))
    refresh = router.post(TOKEN_URL).respond(200, json=token_answer())
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        # the rotated pair is stored before the new token is used
        stored = rig.tokens.load(ACCOUNT).refresh_token
        assert stored is not None
        assert stored.reveal() == NEW_REFRESH
        return httpx.Response(200, json=envelope([], total=0))

    router.get("/stores/me/products").mock(side_effect=answer)
    rig.connector.check()
    assert form(refresh.calls.last.request) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert seen == [f"Bearer {NEW_ACCESS}"]
    assert rig.tokens.load(ACCOUNT).version == 2


def test_a_token_with_more_than_30_minutes_left_is_used_as_is(
    router: respx.MockRouter,
) -> None:
    route = router.get("/stores/me/products").respond(200, json=envelope([]))
    make(expires_in=timedelta(minutes=31)).connector.check()
    assert route.calls.last.request.headers["authorization"] == f"Bearer {ACCESS}"


def test_a_401_refreshes_once_and_retries_once(router: respx.MockRouter) -> None:
    rig = make()
    refresh = router.post(TOKEN_URL).respond(200, json=token_answer())
    call = router.get("/stores/me/products").mock(
        side_effect=[
            httpx.Response(401, json=failure(401, "the access token has expired")),
            httpx.Response(200, json=envelope([], total=0)),
        ]
    )
    rig.connector.check()
    assert refresh.call_count == 1
    assert [c.request.headers["authorization"] for c in call.calls] == [
        f"Bearer {ACCESS}",
        f"Bearer {NEW_ACCESS}",
    ]


def test_a_second_401_is_an_auth_error_without_a_second_refresh(
    router: respx.MockRouter,
) -> None:
    rig = make()
    refresh = router.post(TOKEN_URL).respond(200, json=token_answer())
    call = router.get("/stores/me/products").respond(
        401, json=failure(401, "invalid access token")
    )
    with pytest.raises(AuthError):
        rig.connector.check()
    assert (refresh.call_count, call.call_count) == (1, 2)


def test_a_401_said_by_the_body_of_an_http_200_is_refreshed_too(
    router: respx.MockRouter,
) -> None:
    refresh = router.post(TOKEN_URL).respond(200, json=token_answer())
    router.get("/stores/me/products").mock(
        side_effect=[
            httpx.Response(200, json=failure(401, "invalid access token")),
            httpx.Response(200, json=envelope([])),
        ]
    )
    make().connector.check()
    assert refresh.call_count == 1


def test_invalid_grant_on_refresh_marks_the_account_and_stops(
    router: respx.MockRouter,
) -> None:
    rig = make(expires_in=timedelta(minutes=5))
    refresh = router.post(TOKEN_URL).respond(
        400, json={"error": "invalid_grant", **failure(400, "invalid_grant: used")}
    )
    with pytest.raises(AuthError, match="invalid_grant"):
        rig.connector.check()
    stored = rig.tokens.load(ACCOUNT)
    assert stored.needs_reauthorisation
    assert "invalid_grant" in stored.reason
    with pytest.raises(AuthError, match="re-authorisation"):
        rig.connector.check()  # no call, no second refresh
    assert refresh.call_count == 1


def test_a_token_that_cannot_reach_the_store_fails_the_check_for_good(
    router: respx.MockRouter,
) -> None:
    rig = make()
    router.get("/stores/me/products").respond(
        403, json=failure(403, "this endpoint needs the 'store' scope")
    )
    with pytest.raises(AuthError, match="does not reach the store"):
        rig.connector.check()
    assert rig.tokens.load(ACCOUNT).needs_reauthorisation


def test_a_wrong_app_secret_is_an_auth_error_at_refresh(
    router: respx.MockRouter,
) -> None:
    router.post(TOKEN_URL).respond(
        401,
        json={"error": "invalid_client", **failure(401, "invalid_client: failed")},
    )
    with pytest.raises(AuthError, match="invalid_client"):
        make(expires_in=timedelta(seconds=-1)).connector.check()


def test_without_tokens_nothing_is_sent() -> None:
    with pytest.raises(AuthError, match="no refresh token"):
        make(expires_in=None).connector.check()


def test_token_expiry_comes_from_created_at_plus_expires_in(
    router: respx.MockRouter,
) -> None:
    rig = make(expires_in=None)
    issued = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    router.post(TOKEN_URL).respond(200, json=token_answer(created_at=issued))
    rig.connector.authorize(CODE, REDIRECT)
    assert rig.tokens.load(ACCOUNT).access_expires_at == issued + timedelta(hours=1)


def test_the_consent_url_names_no_secret() -> None:
    url = make().connector.authorization_url(REDIRECT, "s")
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {
        "client_id",
        "redirect_uri",
        "scope",
        "response_type",
        "state",
    }
    assert CLIENT_SECRET not in url
