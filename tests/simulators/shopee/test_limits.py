"""§7 rate limits and daily quota, and the generic faults in Shopee's own words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import PageClient, ShopSession
from tests.simulators.shopee.conftest import client_for

LIST = "/api/v2/product/get_item_list"
NORMAL = {"item_status": "NORMAL", "offset": 0, "page_size": 10}


def limited(clock: SimClock, **options: Any) -> tuple[ShopeeSimulator, PageClient]:
    sim = ShopeeSimulator(clock=clock, sleep=lambda _s: None, **options)
    return sim, client_for(sim, clock)


def test_burst_of_ten_per_shop_and_endpoint(clock: SimClock) -> None:
    sim, api = limited(clock, rate_limits=True)
    shop = api.session(int(sim.credentials()["shop_id"]))
    answers = [shop.get(LIST, NORMAL) for _ in range(11)]
    assert [a.json()["error"] for a in answers[:10]] == [""] * 10
    throttled = answers[10]
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "error_rate_limit"
    assert "retry-after" not in throttled.headers
    other_endpoint = shop.get("/api/v2/product/get_item_limit")
    assert other_endpoint.json()["error"] == ""
    other = api.session(int(sim.credentials()["other_shop_id"]))
    assert other.get(LIST, NORMAL).json()["error"] == ""
    clock.advance(seconds=0.1)
    assert shop.get(LIST, NORMAL).json()["error"] == ""
    assert shop.get(LIST, NORMAL).json()["error"] == "error_rate_limit"
    clock.advance(seconds=1)
    refilled = [shop.get(LIST, NORMAL).json()["error"] for _ in range(11)]
    assert refilled == [""] * 10 + ["error_rate_limit"]


def test_no_burst_limit_when_switched_off(clock: SimClock) -> None:
    sim, api = limited(clock, rate_limits=False)
    shop = api.session(int(sim.credentials()["shop_id"]))
    assert {shop.get(LIST, NORMAL).json()["error"] for _ in range(60)} == {""}


def test_daily_quota_resets_at_midnight_utc_plus_8(clock: SimClock) -> None:
    # 2025-06-02 03:00 UTC is 11:00 in UTC+8: the next reset is 13 hours away.
    sim, api = limited(clock, rate_limits=False, daily_quota=5)
    shop = api.session(int(sim.credentials()["shop_id"]))  # two calls
    assert [shop.get(LIST, NORMAL).json()["error"] for _ in range(3)] == [""] * 3
    over = shop.get(LIST, NORMAL)
    assert over.status_code == 429
    assert over.json()["error"] == "error_limit"
    assert "00: 00 (UTC+08:00)" in over.json()["message"]
    clock.advance(hours=13, seconds=-1)
    blocked = api.refresh(shop.refresh_token, shop_id=shop.shop_id)
    assert blocked.json()["error"] == "error_limit"
    clock.advance(seconds=1)
    fresh = api.refresh(shop.refresh_token, shop_id=shop.shop_id).json()
    assert fresh["error"] == ""
    shop.access_token = fresh["access_token"]
    assert shop.get(LIST, NORMAL).json()["error"] == ""


def test_exhausted_quota_until_next_day(
    sim: ShopeeSimulator, clock: SimClock, shop: ShopSession
) -> None:
    sim.exhaust_daily_quota()
    assert shop.get(LIST, NORMAL).json()["error"] == "error_limit"
    clock.advance(hours=13)
    assert shop.get(LIST, NORMAL).json()["error"] == "error_auth"  # 4 h token
    sim.set_daily_quota(None)


def test_injected_server_error_and_throttling(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    sim.faults.fail_next(1, endpoint="product.get_item_list", status=503, retry_after=2)
    failed = shop.get(LIST, NORMAL)
    assert failed.status_code == 503
    assert failed.json()["error"] == "error_inner"
    assert failed.headers["retry-after"] == "2"
    sim.faults.rate_limit_next(1)
    throttled = shop.get(LIST, NORMAL)
    assert (throttled.status_code, throttled.json()["error"]) == (
        429,
        "error_rate_limit",
    )
    assert shop.get(LIST, NORMAL).json()["error"] == ""


def test_lost_response_after_commit_is_found_by_sku(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    body = shop.item_body(item_sku="KOPI-LOST-1")
    sim.faults.lose_response_next(1, endpoint="product.add_item")
    with pytest.raises(httpx.ReadTimeout):
        shop.post("/api/v2/product/add_item", body)
    found = shop.get("/api/v2/product/search_item", {"item_sku": "KOPI-LOST-1"}).json()
    assert found["response"]["total_count"] == 1


def test_timeout_applies_nothing(sim: ShopeeSimulator, shop: ShopSession) -> None:
    sim.faults.timeout_next(1, endpoint="product.add_item")
    with pytest.raises(httpx.ReadTimeout):
        shop.post("/api/v2/product/add_item", shop.item_body(item_sku="KOPI-T"))
    found = shop.get("/api/v2/product/search_item", {"item_sku": "KOPI-T"}).json()
    assert found["response"]["total_count"] == 0
