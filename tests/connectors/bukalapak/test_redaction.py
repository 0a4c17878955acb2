"""No secret, token or code in any log line or exception message the connector
produces, across authorisation, refresh, refusals and retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from core.domain.ids import Sku
from core.domain.remote import StockUpdate
from core.errors import AuthError, ContractError
from tests.connectors.bukalapak._support import (
    ACCOUNTS,
    API,
    CODE,
    REDIRECT,
    SECRETS,
    failure,
    make,
    token_answer,
)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


def test_nothing_secret_reaches_logs_or_errors(router: respx.MockRouter) -> None:
    token = router.post(f"{ACCOUNTS}/oauth/token").mock(
        side_effect=[
            httpx.Response(200, json=token_answer()),  # authorize
            httpx.Response(200, json=token_answer()),  # refresh after the 401
            httpx.Response(
                400, json={"error": "invalid_grant", **failure(400, "invalid_grant")}
            ),
        ]
    )
    router.patch("/products/p1/skus/11").mock(
        side_effect=[
            httpx.Response(429, json=failure(429, "too many requests")),
            httpx.Response(401, json=failure(401, "invalid access token")),
            *(
                httpx.Response(200, json=failure(503, "simulated failure"))
                for _ in range(3)
            ),
            httpx.Response(422, json=failure(422, "stock must be an integer")),
        ]
    )
    rig = make(expires_in=None)
    messages: list[str] = []
    with capture_logs() as logs:
        rig.connector.authorize(CODE, REDIRECT)
        results = rig.connector.push_stock(
            [
                StockUpdate(Sku("A-1"), "p1", 3, "11"),
                StockUpdate(Sku("A-1"), "p1", 4, "11"),
            ]
        )
        assert [type(r.error).__name__ for r in results] == [
            "TransientError",
            "RejectedError",
        ]
        messages += [str(r.error) for r in results]
        rig.clock.advance(hours=2)  # the access token lapses: refresh is refused
        with pytest.raises(AuthError) as raised:
            rig.connector.push_stock([StockUpdate(Sku("A-1"), "p1", 5, "11")])
        messages.append(str(raised.value))
    assert token.call_count == 3
    events = {entry["event"] for entry in logs}
    assert {
        "tokens.authorised",
        "http.retrying",
        "tokens.refreshed",
        "stock.rejected",
        "tokens.reauthorisation_needed",
    } <= events
    assert messages
    text = repr(logs) + "\n".join(messages)
    for secret in SECRETS:
        assert secret not in text
    assert "Bearer" not in text
    assert not any("url" in entry for entry in logs)


def test_a_validation_error_on_a_token_answer_does_not_echo_it(
    router: respx.MockRouter,
) -> None:
    bad = token_answer()
    bad["expires_in"] = "soon"
    router.post(f"{ACCOUNTS}/oauth/token").respond(200, json=bad)
    rig = make(expires_in=timedelta(minutes=1))
    with capture_logs() as logs, pytest.raises(ContractError) as raised:
        rig.connector.check()
    text = repr(logs) + str(raised.value) + repr(raised.value.__cause__)
    for secret in SECRETS:
        assert secret not in text
    assert raised.value.__cause__ is None
