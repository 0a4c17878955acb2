"""The simulator holds 100,000 listings and 100,000 orders and still answers by
index: lookups by SKU and id, and order paging by time, return exactly what exists."""

from __future__ import annotations

import pytest

from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import PageClient, ShopSession

LISTINGS = ORDERS = 100_000


@pytest.mark.slow
def test_one_hundred_thousand_listings_and_orders(
    sim: ShopeeSimulator, clock: SimClock, api: PageClient, shop: ShopSession
) -> None:
    start = clock.timestamp()
    ids = [
        sim.seed_listing(f"IKM-{n:06d}", f"Produk IKM nomor {n}", 10_000, 3)
        for n in range(LISTINGS)
    ]
    for n in range(ORDERS):
        assert sim.create_order(ids[n], 0, 1 + n % 3, f"buyer-{n % 997}") is not None
        if n % 50 == 49:
            clock.advance(seconds=300)  # 100,000 orders over about 7 days
    shop = api.session(shop.shop_id)
    found = shop.get("/api/v2/product/search_item", {"item_sku": "IKM-054321"}).json()[
        "response"
    ]
    assert found["item_id_list"] == [ids[54_321]]
    info = shop.base_info(ids[99_999])
    assert info["stock_info_v2"]["summary_info"] == {
        "total_reserved_stock": 1 + 99_999 % 3,
        "total_available_stock": 3 - (1 + 99_999 % 3),
    }
    listed = shop.get(
        "/api/v2/product/get_item_list",
        {"item_status": "NORMAL", "offset": 9_900, "page_size": 100},
    ).json()["response"]
    assert listed["total_count"] == LISTINGS
    assert [row["item_id"] for row in listed["item"]] == ids[9_900:10_000]
    seen: set[str] = set()
    cursor, pages = "", 0
    while True:
        page = shop.get(
            "/api/v2/order/get_order_list",
            {
                "time_range_field": "create_time",
                "time_from": start,
                "time_to": start + 15 * 86_400,
                "page_size": 100,
                "cursor": cursor,
            },
        ).json()["response"]
        pages += 1
        seen.update(row["order_sn"] for row in page["order_list"])
        if not page["more"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == ORDERS
    assert pages == ORDERS // 100
    assert len(sim.inspect_listings()) == LISTINGS
