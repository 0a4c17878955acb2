"""§3, §4: each error errors.py maps, body first; rate limits through the budget."""

from __future__ import annotations

import httpx
import pytest

from connectors.tokopedia.errors import ShopNotLinkedError, TokenRefusedError
from core.errors import (
    AuthError,
    ContractError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
)
from tests.connectors.tokopedia.conftest import (
    FS_ID,
    RATE_OK,
    Build,
    fail,
    ok,
    token_answer,
)

ORDER = f"/v2/fs/{FS_ID}/order"
DETAIL = {
    "order_id": 41000001,
    "order_status": 220,
    "invoice_number": "INV/20250303/XXV/III/41000001",
    "item_price": 170_000,
    "order_info": {
        "order_detail": [
            {
                "product_id": 15000001,
                "product_name": "Kopi",
                "product_price": 85_000,
                "quantity": 2,
                "sku": "KOPI-001",
            }
        ]
    },
    "create_time": "2025-03-03T08:00:00+07:00",
    "update_time": "2025-03-03T01:30:00Z",
}

CASES = [
    # (answer, expected class, a subclass it must not be)
    (fail(403, "RBAC_MDLW_001", "shop not connected"), ShopNotLinkedError, None),
    (fail(500, "ORD_USC_015", "shop not connected"), ShopNotLinkedError, None),
    (fail(400, "PRD_USC_001", "fs_id not associated"), ShopNotLinkedError, None),
    (fail(401, "OPENAPI_MDLW_401", "expired", "unauthorized"), TokenRefusedError, None),
    (fail(400, "XYZ_MDLW_009", "who knows", "unauthorized"), TokenRefusedError, None),
    (fail(403, "ABC_MDLW_777", "forbidden"), AuthError, ShopNotLinkedError),
    (
        fail(429, "OPENAPI_MDLW_429", "slow down", "ERR_TOO_MANY_REQUEST"),
        RateLimitError,
        None,
    ),
    (fail(400, "ERR_TOO_MANY_REQUEST", "throttled"), RateLimitError, None),
    (
        fail(500, "ORD_USC_007", "upstream error on accept"),
        TransientError,
        RateLimitError,
    ),
    (fail(500, "ORD_API_006", "upstream"), TransientError, RateLimitError),
    (fail(500, "PRD_GRPC_002", "grpc"), TransientError, RateLimitError),
    (fail(500, "PRD_DB_003", "db"), TransientError, RateLimitError),
    (fail(500, "PRD_CACHE_004", "cache"), TransientError, RateLimitError),
    (fail(400, "ORD_API_006", "upstream, odd status"), TransientError, RateLimitError),
    (
        fail(400, "ORD_DLV_013", "Date Range must be less than 3 days"),
        RejectedError,
        None,
    ),
    (fail(400, "ORD_USC_002", "order not found"), RejectedError, None),
    (fail(400, "ORD_USC_001", "not eligible"), RejectedError, None),
    (fail(400, "PRD_USC_028", "product is not active"), RejectedError, None),
    (fail(400, "PRD_DLV_005", "page is required"), RejectedError, None),
    (fail(200, "PRD_DLV_038", "malformed body in a 200"), RejectedError, None),
    (fail(404, "OPENAPI_DLV_404", "no such path"), RejectedError, None),
    (fail(502, "WHATEVER", "no layer"), TransientError, RateLimitError),
    (httpx.Response(503, text="<html>busy</html>"), TransientError, RateLimitError),
    (httpx.Response(408, text="timeout"), TransientError, RateLimitError),
    (httpx.Response(429, headers={"Retry-After": "1"}), RateLimitError, None),
    (httpx.Response(404, text="not found"), RejectedError, None),
    # a read whose answer cannot be read is asked for again; a redirect is final
    (httpx.Response(200, text="<html>ok?</html>"), UnreadableAnswerError, None),
    (
        httpx.Response(200, json={"header": {"messages": "ok"}}),
        UnreadableAnswerError,
        None,
    ),
    (httpx.Response(302, text="elsewhere"), ContractError, UnreadableAnswerError),
]


@pytest.mark.parametrize(
    ("answer", "expected", "not_a"),
    CASES,
    ids=[
        f"{case[0].status_code}-{case[1].__name__}-{index}"
        for index, case in enumerate(CASES)
    ],
)
def test_each_error_maps_to_what_the_caller_must_do(
    build: Build,
    answer: httpx.Response,
    expected: type[Exception],
    not_a: type[Exception] | None,
) -> None:
    wire = build(attempts=2)
    route = wire.router.get(ORDER).mock(return_value=answer)
    if expected is TokenRefusedError:
        wire.token_route(token_answer())
    with pytest.raises(expected) as caught:
        wire.connector.fetch_order("41000001")
    if not_a is not None:
        assert not isinstance(caught.value, not_a)
    assert caught.value.operation == "fetch_order"  # type: ignore[attr-defined]
    retried = issubclass(expected, TransientError | UnreadableAnswerError) or (
        expected is TokenRefusedError
    )
    assert route.call_count == (2 if retried else 1)


def test_rejected_errors_carry_the_code_and_the_field(build: Build) -> None:
    wire = build()
    wire.router.get(ORDER).mock(
        return_value=fail(
            400,
            "PRD_DLV_042",
            "Invalid field [order_id] format, value [] should be int",
        )
    )
    with pytest.raises(RejectedError) as caught:
        wire.connector.fetch_order("41000001")
    assert caught.value.code == "PRD_DLV_042"
    assert set(caught.value.fields) == {"order_id"}


def test_an_upstream_error_is_retried_then_succeeds(build: Build) -> None:
    wire = build()
    route = wire.router.get(ORDER)
    route.side_effect = [fail(500, "ORD_API_006", "upstream"), ok(DETAIL)]
    order = wire.connector.fetch_order("41000001")
    assert order.external_id == "41000001"
    assert route.call_count == 2
    assert len(wire.time.slept) == 1  # one back-off, on fake time


def test_a_429_waits_what_x_ratelimit_reset_after_asks(build: Build) -> None:
    wire = build()
    throttled = fail(
        429,
        "OPENAPI_MDLW_429",
        "rate limit exceeded",
        "ERR_TOO_MANY_REQUEST",
        headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset-After": "2.500000"},
    )
    route = wire.router.get(ORDER)
    route.side_effect = [throttled, ok(DETAIL)]

    wire.connector.fetch_order("41000001")

    assert route.call_count == 2
    assert sum(wire.time.slept) == pytest.approx(2.5)


def test_retry_after_is_the_fallback_wait(build: Build) -> None:
    wire = build()
    route = wire.router.get(ORDER)
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "3"}), ok(DETAIL)]
    wire.connector.fetch_order("41000001")
    assert sum(wire.time.slept) == pytest.approx(3.0)


def test_rate_headers_of_a_successful_answer_are_obeyed(build: Build) -> None:
    wire = build()
    empty = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset-After": "1.750000"}
    route = wire.router.get(ORDER)
    route.side_effect = [ok(DETAIL, headers=empty), ok(DETAIL)]

    wire.connector.fetch_order("41000001")
    assert wire.time.slept == []
    wire.connector.fetch_order("41000001")

    assert wire.time.slept == [pytest.approx(1.75)]


def test_remaining_calls_reported_shrink_the_budget(build: Build) -> None:
    wire = build()
    few = {**RATE_OK, "X-Ratelimit-Remaining": "1"}
    wire.router.get(ORDER).mock(return_value=ok(DETAIL, headers=few))

    for _ in range(3):
        wire.connector.fetch_order("41000001")

    # 5 tokens at first; after the first answer only 1 is believed left, so the
    # third call waits for a new token (0.2 s at 5 a second)
    assert sum(wire.time.slept) == pytest.approx(0.2)


def test_a_throttled_answer_keeps_throttling_as_rate_limit_error(build: Build) -> None:
    wire = build(attempts=3)
    throttled = fail(
        429,
        "OPENAPI_MDLW_429",
        "rate limit exceeded",
        "ERR_TOO_MANY_REQUEST",
        headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset-After": "0.400000"},
    )
    route = wire.router.get(ORDER).mock(return_value=throttled)
    with pytest.raises(RateLimitError) as caught:
        wire.connector.fetch_order("41000001")
    assert caught.value.retry_after == pytest.approx(0.4)
    assert route.call_count == 3
