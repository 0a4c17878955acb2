"""Classification: the body's ``meta.http_status`` and ``errors[]`` first, the HTTP
status second, never an ``errors[].code`` value; rate limits waited out through the
budget on fake time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.bukalapak.errors import classify, classify_oauth
from core.domain.ids import Sku
from core.domain.remote import StockUpdate
from core.errors import (
    AuthError,
    ConnectorError,
    ContractError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
    Where,
)
from tests.connectors.bukalapak._support import API, envelope, failure, make

WHERE: Where = {"marketplace": "bukalapak", "account": "a-1", "operation": "op"}
PATCH = "/products/1zki72/skus/156448166"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


def answer(
    http: int, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(http, content=content, headers=headers)


@pytest.mark.parametrize(
    ("http", "body", "expected"),
    [
        (401, failure(401, "invalid access token", 10004), AuthError),
        (400, failure(400, "the request body must be a JSON object"), RejectedError),
        (403, failure(403, "this product belongs to another store"), RejectedError),
        (403, failure(403, "adding products is disabled", 10007), RejectedError),
        (404, failure(404, "SKU not found in this product", 10002), RejectedError),
        (422, failure(422, "price must be an integer greater than 0"), RejectedError),
        (405, failure(405, "method PUT is not allowed here"), ContractError),
        (408, failure(408, "request timeout"), TransientError),
        (429, failure(429, "too many requests", 10005), RateLimitError),
        (500, failure(500, "internal server error", 10006), TransientError),
        (503, failure(503, "service unavailable"), TransientError),
        # HTTP 200 whose body says otherwise: the body wins
        (200, failure(500, "simulated failure (HTTP 500)"), TransientError),
        (200, failure(503, "simulated failure (HTTP 503)"), TransientError),
        (200, failure(422, "stock must be an integer"), RejectedError),
        (200, failure(401, "the access token has expired"), AuthError),
        (200, failure(429, "too many requests"), RateLimitError),
        (200, failure(404, "transaction not found"), RejectedError),
        # the status stated by the body, not the code value, decides
        (422, failure(422, "rate-ish code, validation status", 10005), RejectedError),
        # no envelope: the HTTP status decides
        (502, b"<html>502 Bad Gateway</html>", TransientError),
        (429, b"slow down", RateLimitError),
        # not JSON, or cut short: unreadable (a read is asked for again)
        (200, b"<html><body>oops</body></html>", UnreadableAnswerError),
        (200, b'{"data": {"id": 1', UnreadableAnswerError),
        # a success status with errors[] is not trusted
        (
            200,
            {"data": None, "meta": {"http_status": 200}, "errors": [{"message": "x"}]},
            ContractError,
        ),
    ],
)
def test_api_answers_are_classified_by_the_body_first(
    http: int, body: Any, expected: type[ConnectorError]
) -> None:
    with pytest.raises(expected) as raised:
        classify(answer(http, body), WHERE)
    assert type(raised.value) is expected
    assert raised.value.operation == "op"


def test_a_success_passes() -> None:
    classify(answer(200, envelope({"id": 1})), WHERE)
    classify(answer(201, envelope({"id": 1}, status=201)), WHERE)


def test_a_rejection_carries_the_status_and_the_first_message() -> None:
    body = failure(422, "price must be an integer greater than 0")
    body["errors"].append({"code": 10001, "message": "stock must be an integer"})
    with pytest.raises(RejectedError) as raised:
        classify(answer(422, body), WHERE)
    assert raised.value.code == "422"
    assert "price must be an integer greater than 0 (+1 more)" in str(raised.value)


@pytest.mark.parametrize(
    ("http", "error", "expected"),
    [
        (400, "invalid_grant", AuthError),
        (401, "invalid_client", AuthError),
        (400, "unauthorized_client", AuthError),
        (400, "invalid_request", AuthError),
        (400, "invalid_scope", AuthError),
        (400, "unsupported_grant_type", AuthError),
        (503, "temporarily_unavailable", TransientError),
        (500, "server_error", TransientError),
    ],
)
def test_token_errors_are_classified_by_their_oauth_error(
    http: int, error: str, expected: type[ConnectorError]
) -> None:
    body = {"error": error, **failure(http, f"{error}: refused")}
    with pytest.raises(expected) as raised:
        classify_oauth(answer(http, body), WHERE)
    assert type(raised.value) is expected
    assert error in str(raised.value)


@pytest.mark.parametrize(
    ("http", "body", "expected"),
    [
        (502, b"bad gateway", TransientError),
        (429, failure(429, "too many requests"), RateLimitError),
        (200, b"not json", ContractError),
        (400, failure(400, "bad"), AuthError),
    ],
)
def test_token_answers_without_an_oauth_error_fall_back_on_the_status(
    http: int, body: Any, expected: type[ConnectorError]
) -> None:
    with pytest.raises(expected):
        classify_oauth(answer(http, body), WHERE)


def stock_update() -> StockUpdate:
    return StockUpdate(Sku("KOPI-FLR-001"), "1zki72", 7, "156448166")


def test_a_429_without_retry_after_backs_off_then_succeeds(
    router: respx.MockRouter,
) -> None:
    rig = make()
    route = router.patch(PATCH).mock(
        side_effect=[
            httpx.Response(429, json=failure(429, "too many requests")),
            httpx.Response(200, json=envelope({"id": 156448166, "stock": 7})),
        ]
    )
    (result,) = rig.connector.push_stock([stock_update()])
    assert result.ok
    assert route.call_count == 2
    assert rig.time.slept  # waited on the fake clock, never for real
    assert sum(rig.time.slept) >= 1.0  # at least the initial backoff


def test_a_retry_after_sent_anyway_is_obeyed_through_the_budget(
    router: respx.MockRouter,
) -> None:
    rig = make()
    moments: list[float] = []
    answers = iter(
        [
            httpx.Response(
                429, json=failure(429, "too many"), headers={"Retry-After": "3"}
            ),
            httpx.Response(200, json=envelope({"id": 156448166})),
        ]
    )

    def respond(request: httpx.Request) -> httpx.Response:
        moments.append(rig.time.now)
        return next(answers)

    router.patch(PATCH).mock(side_effect=respond)
    (result,) = rig.connector.push_stock([stock_update()])
    assert result.ok
    assert 3.0 in rig.time.slept  # on the fake clock, never for real
    assert moments[1] - moments[0] == pytest.approx(3.0)


def test_budget_is_per_account_at_ten_a_second(router: respx.MockRouter) -> None:
    rig = make()
    route = router.patch(PATCH).respond(200, json=envelope({"id": 156448166}))
    start = rig.time.now
    results = rig.connector.push_stock([stock_update() for _ in range(30)])
    assert all(r.ok for r in results)
    assert route.call_count == 30
    assert rig.time.now - start == pytest.approx(2.0)  # 10 at once, then 10 a second


def test_persistent_envelope_mismatch_500_ends_transient_in_the_item(
    router: respx.MockRouter,
) -> None:
    rig = make()
    route = router.patch(PATCH).respond(200, json=failure(500, "simulated failure"))
    (result,) = rig.connector.push_stock([stock_update()])
    assert not result.ok
    assert isinstance(result.error, TransientError)
    assert route.call_count == 3  # the policy's attempts, then given up
