"""§4 rate limits: per (fs_id, endpoint) buckets, headers on every answer, bulk rows."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.simulators.tokopedia.conftest import API, Toko, error, ok

HEADERS = (
    "X-Ratelimit-Limit",
    "X-Ratelimit-Remaining",
    "X-Ratelimit-Reset-After",
    "X-Ratelimit-Full-Reset-After",
)


def assert_headers(answer: httpx.Response) -> tuple[int, str, str]:
    """The four headers, in the documented formats; (remaining, reset, full)."""
    for name in HEADERS:
        assert name in answer.headers, (name, answer.status_code)
    assert answer.headers["X-Ratelimit-Limit"] == "5 req/s (burst 5)"
    remaining = answer.headers["X-Ratelimit-Remaining"]
    reset = answer.headers["X-Ratelimit-Reset-After"]
    full = answer.headers["X-Ratelimit-Full-Reset-After"]
    assert re.fullmatch(r"\d+", remaining)
    assert re.fullmatch(r"-?\d+\.\d{6}", reset)
    assert re.fullmatch(r"\d+\.\d{6}", full)
    return int(remaining), reset, full


def _info(toko: Toko) -> httpx.Response:
    return toko.info({"shop_id": toko.shop_id, "page": 1})


def test_burst_of_five_then_429_then_tokens_come_back(limited: Toko) -> None:
    seen = []
    for _ in range(5):
        answer = _info(limited)
        assert answer.status_code == 200
        seen.append(assert_headers(answer))
    assert [s[0] for s in seen] == [4, 3, 2, 1, 0]
    assert seen[0][1:] == ("-0.000000", "0.200000")
    assert seen[-1][1:] == ("0.200000", "1.000000")
    throttled = _info(limited)
    header = error(throttled, 429, "OPENAPI_MDLW_429")
    assert header["messages"] == "ERR_TOO_MANY_REQUEST"
    assert assert_headers(throttled) == (0, "0.200000", "1.000000")
    limited.clock.advance(0.2)
    assert _info(limited).status_code == 200
    assert _info(limited).status_code == 429
    limited.clock.advance(1.0)
    assert [_info(limited).status_code for _ in range(6)] == [200] * 5 + [429]


def test_buckets_are_per_endpoint_and_per_fs_id(limited: Toko) -> None:
    for _ in range(5):
        ok(_info(limited))
    error(_info(limited), 429, "OPENAPI_MDLW_429")
    now = limited.clock.timestamp()
    ok(limited.orders(from_date=now, to_date=now, page=1, per_page=1))
    other = limited.sim.add_app()
    shop = limited.sim.add_shop(fs_id=other.fs_id)
    second = Toko(
        limited.sim,
        limited.clock,
        limited.http,
        str(other.fs_id),
        str(shop.shop_id),
        other.client_id,
        other.client_secret,
    )
    second.login()
    assert [_info(second).status_code for _ in range(6)] == [200] * 5 + [429]


def test_headers_on_every_kind_of_answer(limited: Toko) -> None:
    answers = [
        _info(limited),
        limited.call(
            "GET", f"/inventory/v1/fs/{limited.fs_id}/product/info", token="x"
        ),
        limited.info({"shop_id": 1, "page": 1}),
        limited.call("GET", "/v2/nothing"),
        limited.request_token(),
        limited.request_token(secret="wrong"),
    ]
    limited.sim.faults.fail_next(endpoint="order_list")
    limited.sim.faults.malformed_next(endpoint="order_detail")
    limited.sim.faults.rate_limit_next(endpoint="order_ack")
    now = limited.clock.timestamp()
    answers += [
        limited.orders(from_date=now, to_date=now, page=1, per_page=1),
        limited.order(order_id=1),
        limited.action(1, "ack"),
    ]
    for answer in answers:
        assert_headers(answer)
    assert [a.status_code for a in answers] == [
        200,
        401,
        403,
        404,
        200,
        401,
        500,
        400,
        429,
    ]
    with pytest.raises(ValueError, match="Expecting value"):
        answers[7].json()


def test_injected_burst_limit_fault(limited: Toko) -> None:
    limited.sim.faults.rate_limit_next(2, endpoint="product_info")
    for _ in range(2):
        answer = _info(limited)
        error(answer, 429, "OPENAPI_MDLW_429")
        remaining, reset, _full = assert_headers(answer)
        assert (remaining, reset) == (0, "0.200000")
    ok(_info(limited))


def test_bulk_rows_each_spend_a_token(limited: Toko) -> None:
    for i in range(8):
        limited.sim.seed_product(sku=f"S-{i}")
    rows = [{"sku": f"S-{i}", "new_stock": 3} for i in range(8)]
    answer = limited.stock(rows)
    data = ok(answer)
    assert (data["succeed_rows"], data["failed_rows"]) == (5, 3)
    assert [r["sku"] for r in data["failed_rows_data"]] == ["S-5", "S-6", "S-7"]
    assert {r["message"] for r in data["failed_rows_data"]} == {"ERR_TOO_MANY_REQUEST"}
    assert assert_headers(answer)[0] == 0
    stocks = {p["sku"]: p["stock"] for p in limited.sim.inspect_listings()}
    assert stocks == {f"S-{i}": (3 if i < 5 else 10) for i in range(8)}
    error(limited.stock(rows[5:]), 429, "OPENAPI_MDLW_429")
    limited.clock.advance(0.6)  # three tokens back
    retry = ok(limited.stock(rows[5:]))
    assert retry["succeed_rows"] == 3


def test_bulk_create_rows_beyond_the_budget_fail(limited: Toko) -> None:
    from tests.simulators.tokopedia.conftest import valid_row

    limited.clock.advance(0)
    limited.sim.limiter("product_create").take((limited.fs_id, "product_create"), 3)
    rows = [valid_row(sku=f"C-{i}", name=f"Produk {i}") for i in range(4)]
    data = ok(limited.create(rows))
    assert data["success_data"] == 2
    assert [r["error"] for r in data["failed_rows_data"]] == [
        ["ERR_TOO_MANY_REQUEST"],
        ["ERR_TOO_MANY_REQUEST"],
    ]
    assert sorted(p["sku"] for p in limited.sim.inspect_listings()) == ["C-0", "C-1"]


def test_drained_bucket_and_active_endpoint(limited: Toko) -> None:
    product_id = limited.sim.seed_product(sku="D").product_id
    limited.sim.drain_rate_limit("product_inactive")
    error(limited.set_active([product_id], active=False), 429, "OPENAPI_MDLW_429")
    assert limited.sim.inspect_listings()[0]["status"] == "active"
    ok(limited.set_active([product_id], active=True))


def test_rate_limits_can_be_switched_off(toko: Toko) -> None:
    for _ in range(50):
        answer = _info(toko)
        assert answer.status_code == 200
        assert assert_headers(answer)[0] == 5


def test_inspection_endpoints_are_never_limited(limited: Toko) -> None:
    for _ in range(20):
        assert limited.http.get(f"{API}/_sim/listings").status_code == 200
