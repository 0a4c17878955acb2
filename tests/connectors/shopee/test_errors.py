"""Shopee's error names and HTTP statuses → the error tree; rate limits and quota."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connectors.shopee.errors import (
    AuthorisationGoneError,
    CredentialsRefusedError,
    DailyQuotaError,
    TokenRefusedError,
    classify,
    error_name,
    next_quota_reset,
    row_error,
)
from core.domain.ids import Sku
from core.domain.remote import StockUpdate
from core.errors import (
    AuthError,
    ConnectorError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
    Where,
)
from tests.connectors.shopee._support import (
    BASE,
    NOW,
    body,
    fail,
    ok,
    rig,
    stock_reads,
    stored,
)

WHERE: Where = {"marketplace": "shopee", "account": "shopee-ntt", "operation": "x"}

#: (error name, message, §11 status, expected class)
NAMED: list[tuple[str, str, int, type[ConnectorError]]] = [
    ("error_auth", "Invalid access_token.", 403, TokenRefusedError),
    ("common.error_auth", "Invalid access_token.", 403, TokenRefusedError),
    ("error_auth", "Invalid refresh_token.", 403, TokenRefusedError),
    ("invalid_acceess_token", "Invalid access token.", 403, TokenRefusedError),
    ("invalid_access_token", "Invalid access token.", 403, TokenRefusedError),
    ("error_auth", "Invalid partner_id or shopid.", 403, CredentialsRefusedError),
    ("error_auth", "No permission to current api.", 403, CredentialsRefusedError),
    ("error_sign", "Wrong sign.", 403, CredentialsRefusedError),
    ("common.error_sign", "Wrong sign.", 403, CredentialsRefusedError),
    ("error_partner_key_expired", "", 403, CredentialsRefusedError),
    ("source_ip_undeclared", "", 403, CredentialsRefusedError),
    ("shop_no_linked", "Partner and shop has no linked.", 403, AuthorisationGoneError),
    ("refresh_token_expired", "", 403, AuthorisationGoneError),
    ("invalid_code", "Invalid code.", 403, AuthError),
    ("error_rate_limit", "Too many requests.", 429, RateLimitError),
    ("common.error_rate_limit", "Too many requests.", 429, RateLimitError),
    ("error_limit", "daily API call limit", 429, DailyQuotaError),
    ("error_inner", "System error.", 500, TransientError),
    ("error_param", "Timestamp is expired.", 400, RejectedError),
    ("product.error_param", "Image not exist.", 400, RejectedError),
    ("product.error_item_not_found", "Item_id is not found.", 400, RejectedError),
    ("product.error_item_not_belong_shop", "", 400, RejectedError),
    ("product.error_price_exceed_max_limitt", "Price too high", 400, RejectedError),
    ("product.error_price_exceed_min_limitt", "Price too low", 400, RejectedError),
    ("product.error_invalid_price", "use the correct format", 400, RejectedError),
    ("product.error_invalid_category", "", 400, RejectedError),
    ("product.error_item_name_is_too_short", "", 400, RejectedError),
    ("product.error_holiday_mode_change_stock", "", 400, RejectedError),
    ("product.error_busi_update_stock_failed", "", 400, RejectedError),
    ("order.order_list_invalid_time", "diff in 15days", 400, RejectedError),
]


def response(
    status: int, payload: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def error_body(name: str, message: str) -> dict[str, str]:
    return {"error": name, "message": message, "request_id": "req-9"}


@pytest.mark.parametrize("http_200", [False, True], ids=["status", "http-200"])
@pytest.mark.parametrize(("name", "message", "status", "expected"), NAMED)
def test_the_error_name_decides_whatever_the_status(
    name: str,
    message: str,
    status: int,
    expected: type[ConnectorError],
    http_200: bool,
) -> None:
    answer = response(200 if http_200 else status, error_body(name, message))
    with pytest.raises(ConnectorError) as raised:
        classify(answer, WHERE, now=NOW)
    assert type(raised.value) is expected
    assert raised.value.request_id == "req-9"
    assert raised.value.marketplace == "shopee"
    if isinstance(raised.value, AuthError):
        # Only a refused app credential leaves the seller out of it.
        credentials = isinstance(raised.value, CredentialsRefusedError)
        assert raised.value.reauthorise is not credentials


def test_the_misspelt_price_limit_names_name_their_field() -> None:
    answer = response(400, error_body("product.error_price_exceed_max_limitt", "high"))
    with pytest.raises(RejectedError) as raised:
        classify(answer, WHERE, now=NOW)
    assert raised.value.code == "error_price_exceed_max_limitt"
    assert raised.value.fields == {"original_price": "high"}


def test_error_param_messages_name_their_field() -> None:
    answer = response(400, error_body("product.error_param", "Invalid Weight."))
    with pytest.raises(RejectedError) as raised:
        classify(answer, WHERE, now=NOW)
    assert raised.value.fields == {"weight": "Invalid Weight."}


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (500, b"", TransientError),
        (502, b"<html>502 Bad Gateway</html>", TransientError),
        (503, b'{"error": "", "message": ""}', TransientError),
        (408, b"", TransientError),
        (429, b"", RateLimitError),
        (401, b"", AuthError),
        (403, b"<html>forbidden</html>", AuthError),
        (404, b"not found", RejectedError),
        (200, b"<html>not json</html>", UnreadableAnswerError),
        (200, b"[1, 2]", UnreadableAnswerError),
    ],
)
def test_without_an_error_name_the_status_decides(
    status: int, content: bytes, expected: type[ConnectorError]
) -> None:
    with pytest.raises(ConnectorError) as raised:
        classify(httpx.Response(status, content=content), WHERE, now=NOW)
    assert type(raised.value) is expected


def test_a_success_passes() -> None:
    classify(response(200, {"error": "", "response": {}}), WHERE, now=NOW)


def test_a_retry_after_header_is_the_wait_of_a_rate_limit() -> None:
    answer = response(429, error_body("error_rate_limit", ""), {"Retry-After": "7"})
    with pytest.raises(RateLimitError) as raised:
        classify(answer, WHERE, now=NOW)
    assert raised.value.retry_after == 7.0


def test_the_daily_quota_resets_at_midnight_utc_plus_8() -> None:
    # 2025-06-02 03:00 UTC is 11:00 UTC+8: the reset is 2025-06-02 16:00 UTC.
    assert next_quota_reset(NOW) == datetime(2025, 6, 2, 16, 0, tzinfo=UTC)
    late = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)  # exactly midnight UTC+8
    assert next_quota_reset(late) == datetime(2025, 6, 3, 16, 0, tzinfo=UTC)


def test_module_prefixes_are_stripped() -> None:
    assert error_name("product.error_param") == "error_param"
    assert error_name("common.error_auth") == "error_auth"
    assert error_name("invalid_acceess_token") == "invalid_acceess_token"


@pytest.mark.parametrize(
    ("reason", "expected", "code"),
    [
        ("Wrong model_id.", RejectedError, "failed"),
        (
            "error_cannt_edit_stock_in_promotion: locked",
            RejectedError,
            "error_cannt_edit_stock_in_promotion",
        ),
        ("product.error_price_exceed_max_limitt: high", RejectedError, None),
        ("error_inner: busy", TransientError, None),
    ],
)
def test_row_reasons_are_classified(
    reason: str, expected: type[ConnectorError], code: str | None
) -> None:
    error = row_error(reason, WHERE, now=NOW)
    assert type(error) is expected
    if code is not None:
        assert isinstance(error, RejectedError)
        assert error.code == code


# ---------------------------------------------------------------- on the wire

SHOP_INFO = "/api/v2/shop/get_shop_info"
UPDATE_STOCK = "/api/v2/product/update_stock"


def test_an_error_with_http_200_is_an_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(SHOP_INFO).mock(return_value=fail("error_sign", "Wrong sign.", 200))
        with pytest.raises(CredentialsRefusedError, match="Wrong sign"):
            setup.connector.check()


def test_a_retry_after_is_obeyed_through_the_budget_without_real_sleep() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        reads = stock_reads(router)
        route = router.post(UPDATE_STOCK).mock(
            side_effect=[
                fail("error_rate_limit", "slow down", 429, {"Retry-After": "7"}),
                ok({"success_list": [{"model_id": 0}], "failure_list": []}),
            ]
        )
        (result,) = setup.connector.push_stock([StockUpdate(Sku("A-1"), "11", 3)])
    assert result.ok
    assert len(reads.base_info.calls) == 1  # the read is not repeated by the retry
    assert len(route.calls) == 2
    assert body(route.calls[0].request) == body(route.calls[1].request)
    assert setup.time.slept == [7.0]  # the wait asked for, on the fake clock


def test_a_burst_limit_without_retry_after_backs_off() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        stock_reads(router)
        router.post(UPDATE_STOCK).mock(
            side_effect=[
                fail("error_rate_limit", "slow down", 200),
                ok({"success_list": [{"model_id": 0}], "failure_list": []}),
            ]
        )
        (result,) = setup.connector.push_stock([StockUpdate(Sku("A-1"), "11", 3)])
    assert result.ok
    assert setup.time.slept
    assert 0 < sum(setup.time.slept) <= 10


def test_the_daily_quota_waits_until_midnight_utc_plus_8_and_stops_calling() -> None:
    setup = rig(attempts=2, tokens=stored(timedelta(hours=20)))
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(SHOP_INFO).mock(
            return_value=fail("error_limit", "daily API call limit", 429)
        )
        with pytest.raises(DailyQuotaError) as raised:
            setup.connector.check()
        assert raised.value.retry_after == pytest.approx(13 * 3600)
        assert raised.value.resets_at == datetime(2025, 6, 2, 16, 0, tzinfo=UTC)
        assert max(setup.time.slept) < 60  # never slept the hours away
        calls = len(route.calls)
        setup.clock.advance(hours=1)
        with pytest.raises(RateLimitError) as again:
            setup.connector.check()  # refused without a call
        assert len(route.calls) == calls
        assert again.value.retry_after == pytest.approx(12 * 3600)
        setup.clock.advance(hours=12, seconds=1)
        route.mock(return_value=ok({}))
        setup.connector.check()
    assert len(route.calls) == calls + 1


def test_persistent_server_errors_fail_every_row_of_that_call_only() -> None:
    setup = rig(attempts=2)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:

        def answer(request: httpx.Request) -> httpx.Response:
            if b'"item_id":11' in request.content:
                return fail("error_inner", "System error", 500)
            return ok({"success_list": [{"model_id": 0}], "failure_list": []})

        stock_reads(router, models={11: [101, 102]})
        route = router.post(UPDATE_STOCK).mock(side_effect=answer)
        results = setup.connector.push_stock(
            [
                StockUpdate(Sku("A-1"), "11", 3, "101"),
                StockUpdate(Sku("B-1"), "12", 3),
                StockUpdate(Sku("A-2"), "11", 3, "102"),
            ]
        )
    assert [r.ok for r in results] == [False, True, False]
    assert isinstance(results[0].error, TransientError)
    assert results[0].error is results[2].error  # the same call's failure
    assert len(route.calls) == 3  # two attempts for item 11, one for item 12


def test_an_auth_error_in_a_batch_is_raised() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        stock_reads(router)
        route = router.post(UPDATE_STOCK).mock(
            return_value=fail("shop_no_linked", "no linked", 403)
        )
        with pytest.raises(AuthError):
            setup.connector.push_stock([StockUpdate(Sku("A-1"), "11", 3)])
    assert len(route.calls) == 1  # raised by update_stock itself


def test_quota_reset_math_is_in_utc() -> None:
    assert next_quota_reset(NOW).tzinfo is not None
    assert next_quota_reset(NOW) - NOW == timedelta(hours=13)
