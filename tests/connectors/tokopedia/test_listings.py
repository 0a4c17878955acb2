"""§5 products: lookup, paging, create, edit, inactive, stock and price, row limits."""

from __future__ import annotations

import json
from typing import Any, cast

import httpx
import pytest

from connectors.tokopedia import mapping
from connectors.tokopedia.schemas import ProductInfo
from core.domain.ids import Sku
from core.domain.remote import ChangeKind, ListingChange, PriceUpdate, StockUpdate
from core.errors import (
    AuthError,
    ContractError,
    OutcomeUnknownError,
    RateLimitError,
    RejectedError,
    TransientError,
)
from tests.connectors.tokopedia.conftest import (
    FS_ID,
    SHOP_ID,
    STORED_TOKEN,
    Build,
    body,
    draft,
    fail,
    ok,
    product_item,
)

INFO = f"/inventory/v1/fs/{FS_ID}/product/info"
CREATE = f"/v3/products/fs/{FS_ID}/create"
EDIT = f"/v3/products/fs/{FS_ID}/edit"
INACTIVE = f"/v1/products/fs/{FS_ID}/inactive"
STOCK = f"/inventory/v1/fs/{FS_ID}/stock/update"
PRICE = f"/inventory/v1/fs/{FS_ID}/price/update"


def rows_result(
    success: list[dict[str, Any]], failed: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "total_data": len(success) + len(failed),
        "success_data": len(success),
        "fail_data": len(failed),
        "success_rows_data": success,
        "failed_rows_data": failed,
    }


def update_result(failed: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "failed_rows": len(failed),
        "succeed_rows": total - len(failed),
        "failed_rows_data": failed,
    }


def create(sku: str, **extra: Any) -> ListingChange:
    return ListingChange(ChangeKind.CREATE, draft(sku, **extra))


# ==================================================================== lookups


def test_find_listings_is_case_insensitive_and_keyed_by_sku_key(build: Build) -> None:
    wire = build()
    info = wire.router.get(INFO)
    info.side_effect = [
        ok([]),  # sku=kopi-001 as given: nothing
        ok([product_item(15000001, "KOPI-001", price=91_000, stock=17)]),
        ok([]),  # NOPE-1
    ]

    found = wire.connector.find_listings(["kopi-001", "NOPE-1"])

    asked = [dict(c.request.url.params) for c in info.calls]
    assert asked == [
        {"shop_id": str(SHOP_ID), "sku": "kopi-001"},
        {"shop_id": str(SHOP_ID), "sku": "KOPI-001"},
        {"shop_id": str(SHOP_ID), "sku": "NOPE-1"},
    ]
    assert set(found) == {"KOPI-001"}
    listing = found["KOPI-001"]
    # main_stock (what a stock update sets), not stock.value (reserve included)
    assert (listing.external_id, listing.price, listing.stock) == (
        "15000001",
        91_000,
        17,
    )
    assert listing.active
    assert listing.raw_status == "1"
    assert info.calls[0].request.headers["Authorization"] == f"Bearer {STORED_TOKEN}"


def test_fetch_listings_walks_every_page_of_one_hundred(build: Build) -> None:
    wire = build()
    pages = [
        [product_item(1000 + i, f"A-{i}") for i in range(100)],
        [product_item(2000 + i, f"B-{i}") for i in range(100)],
        [product_item(3000 + i, f"C-{i}") for i in range(3)],
    ]
    info = wire.router.get(INFO)
    info.side_effect = [ok(page) for page in pages]

    listings = list(wire.connector.fetch_listings())

    assert len(listings) == 203
    asked = [dict(c.request.url.params) for c in info.calls]
    assert asked == [
        {"shop_id": str(SHOP_ID), "page": str(n), "per_page": "100"} for n in (1, 2, 3)
    ]


def test_an_empty_page_in_the_middle_does_not_end_the_walk(build: Build) -> None:
    wire = build()
    info = wire.router.get(INFO)
    info.side_effect = [
        ok([product_item(1000 + i, f"A-{i}") for i in range(100)]),
        ok([]),
        ok([product_item(3000, "C-0")]),
    ]
    assert len(list(wire.connector.fetch_listings())) == 101


def test_two_empty_pages_end_the_walk(build: Build) -> None:
    wire = build()
    info = wire.router.get(INFO)
    info.side_effect = [
        ok([product_item(1000 + i, f"A-{i}") for i in range(100)]),
        ok([]),
        ok([]),
    ]
    assert len(list(wire.connector.fetch_listings())) == 100
    assert info.call_count == 3


def test_a_repeated_page_is_a_contract_error(build: Build) -> None:
    wire = build()
    page = [product_item(1000 + i, f"A-{i}") for i in range(100)]
    wire.router.get(INFO).mock(return_value=ok(page))
    with pytest.raises(ContractError, match="twice"):
        list(wire.connector.fetch_listings())


# ==================================================================== create


def test_create_looks_up_then_sends_the_documented_body(build: Build) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    route = wire.router.post(CREATE).mock(
        return_value=ok(rows_result([{"product_id": 15000007}], []))
    )

    (result,) = wire.connector.apply_listing_changes([create("KOPI-001")])

    assert (result.ok, result.external_id, result.sku) == (True, "15000007", "KOPI-001")
    request = route.calls[0].request
    assert dict(request.url.params) == {"shop_id": str(SHOP_ID)}
    assert request.headers["Authorization"] == f"Bearer {STORED_TOKEN}"
    assert body(route.calls[0]) == {
        "products": [
            {
                "name": "Kopi Arabika KOPI-001",
                "category_id": 2310,  # "kopi" → "Kopi" case-insensitively
                "price": 85_000,
                "price_currency": "IDR",
                "status": "LIMITED",
                "weight": 250,
                "weight_unit": "GR",
                "condition": "NEW",
                "min_order": 1,
                "sku": "KOPI-001",
                "stock": 5,
                "description": "Kopi arabika Bajawa",
                "dimension": {"height": 15, "width": 8, "length": 10},
                "pictures": [{"file_path": "https://img.example.com/kopi.jpg"}],
            }
        ]
    }


def test_create_results_are_matched_row_by_row(build: Build) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    wire.router.post(CREATE).mock(
        return_value=ok(
            rows_result(
                [{"product_id": 11}, {"product_id": 13}],
                [
                    {
                        "product_name": "Kopi Arabika B",
                        "product_price": 85_000,
                        "sku": "B",
                        "error": ["category_id 9 is not a leaf category"],
                    }
                ],
            )
        )
    )

    results = wire.connector.apply_listing_changes(
        [create("A"), create("B"), create("C")]
    )

    assert [(r.sku, r.ok, r.external_id) for r in results] == [
        ("A", True, "11"),
        ("B", False, None),
        ("C", True, "13"),
    ]
    error = results[1].error
    assert isinstance(error, RejectedError)
    assert set(error.fields) == {"category_id"}


def test_an_unaccounted_create_row_is_resolved_by_its_sku(build: Build) -> None:
    wire = build()
    info = wire.router.get(INFO)
    # one page of the (empty) shop before the create, then the two unaccounted SKUs
    info.side_effect = [ok([]), ok([]), ok([product_item(21, "B")])]
    wire.router.post(CREATE).mock(
        return_value=ok(rows_result([{"product_id": 21}], []))
    )

    results = wire.connector.apply_listing_changes([create("A"), create("B")])

    assert [(r.ok, r.external_id) for r in results] == [(False, None), (True, "21")]
    assert isinstance(results[0].error, ContractError)


def test_an_existing_sku_is_bound_not_created_again(build: Build) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([product_item(15000001, "KOPI-001")]))
    # no create route: assert_all_mocked fails the test if one is sent

    (result,) = wire.connector.apply_listing_changes([create("KOPI-001")])

    assert (result.ok, result.external_id) == (True, "15000001")


def test_a_lost_create_answer_is_outcome_unknown_for_every_product_and_not_resent(
    build: Build,
) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    route = wire.router.post(CREATE).mock(side_effect=httpx.ReadTimeout("lost"))

    results = wire.connector.apply_listing_changes([create("A"), create("B")])

    assert all(isinstance(r.error, OutcomeUnknownError) for r in results)
    assert not any(r.ok for r in results)
    assert route.call_count == 1


def test_a_create_answer_of_the_wrong_shape_is_outcome_unknown(build: Build) -> None:
    # HTTP 200 whose data is not the rows result: the products may have been made.
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    route = wire.router.post(CREATE).mock(return_value=ok(["unexpected"]))

    results = wire.connector.apply_listing_changes([create("A"), create("B")])

    assert all(isinstance(r.error, OutcomeUnknownError) for r in results)
    assert "may have been applied" in str(results[0].error)
    assert route.call_count == 1


def test_a_throttled_create_was_not_applied_so_it_is_sent_again(build: Build) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    route = wire.router.post(CREATE)
    route.side_effect = [
        fail(
            429,
            "OPENAPI_MDLW_429",
            "rate limit exceeded",
            "ERR_TOO_MANY_REQUEST",
            headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset-After": "0.6"},
        ),
        ok(rows_result([{"product_id": 15000009}], [])),
    ]

    (result,) = wire.connector.apply_listing_changes([create("KOPI-009")])

    assert (result.ok, result.external_id) == (True, "15000009")
    assert route.call_count == 2
    assert wire.time.slept[0] == pytest.approx(0.6)


def test_a_server_error_on_create_is_not_resent(build: Build) -> None:
    wire = build()
    wire.router.get(INFO).mock(return_value=ok([]))
    route = wire.router.post(CREATE).mock(
        return_value=fail(500, "PRD_API_006", "upstream")
    )

    (result,) = wire.connector.apply_listing_changes([create("KOPI-010")])

    assert isinstance(result.error, OutcomeUnknownError)
    assert route.call_count == 1  # it may have been applied: the next run looks it up


def test_creates_go_twenty_a_call_sized_by_the_budget(build: Build) -> None:
    wire = build(rate=100.0, burst=100)
    wire.router.get(INFO).mock(return_value=ok([]))
    counter = iter(range(1, 1000))

    def created(request: httpx.Request) -> httpx.Response:
        rows = body_of(request)["products"]
        return ok(rows_result([{"product_id": next(counter)} for _ in rows], []))

    route = wire.router.post(CREATE).mock(side_effect=created)
    results = wire.connector.apply_listing_changes(
        [create(f"S-{i}") for i in range(45)]
    )

    assert all(r.ok for r in results)
    assert [len(body(c)["products"]) for c in route.calls] == [20, 20, 5]


def test_refused_drafts_fail_before_any_call(build: Build) -> None:
    wire = build()  # no routes: any request would fail the test
    results = wire.connector.apply_listing_changes(
        [
            create("P-1", price=99),
            create("P-2", price=100_000_001),
            create("P-3", category="Sabun"),
            create("P-4", name="x" * 71),
            create("S" * 51),
        ]
    )
    fields = [set(cast(RejectedError, r.error).fields) for r in results if not r.ok]
    assert fields == [{"price"}, {"price"}, {"category"}, {"name"}, {"sku"}]


# ==================================================================== edit, inactive


def test_update_edits_content_only_and_reports_a_locked_name(build: Build) -> None:
    wire = build()
    route = wire.router.patch(EDIT).mock(
        return_value=ok(
            rows_result(
                [{"product_id": 15000001}],
                [
                    {
                        "product_id": 15000002,
                        "product_name": "Kopi Arabika B",
                        "sku": "B",
                        "error": [
                            "name cannot be changed once the product has a transaction"
                        ],
                    }
                ],
            )
        )
    )
    changes = [
        ListingChange(ChangeKind.UPDATE, draft("A"), external_id="15000001"),
        ListingChange(ChangeKind.UPDATE, draft("B"), external_id="15000002"),
    ]

    results = wire.connector.apply_listing_changes(changes)

    assert [r.ok for r in results] == [True, False]
    error = results[1].error
    assert isinstance(error, RejectedError)
    assert set(error.fields) == {"name"}
    sent = body(route.calls[0])["products"][0]
    assert sent["id"] == 15000001
    assert "price" not in sent
    assert "stock" not in sent
    assert sent["weight_unit"] == "GR"
    assert route.calls[0].request.method == "PATCH"


def test_an_inactive_product_in_an_edit_batch_fails_alone(build: Build) -> None:
    wire = build()
    not_active = fail(400, "PRD_USC_028", "product 15000002 is not active")

    def edit(request: httpx.Request) -> httpx.Response:
        ids = [row["id"] for row in body_of(request)["products"]]
        if 15000002 in ids:
            return not_active
        return ok(rows_result([{"product_id": i} for i in ids], []))

    route = wire.router.patch(EDIT).mock(side_effect=edit)
    changes = [
        ListingChange(ChangeKind.UPDATE, draft(s), external_id=i)
        for s, i in (("A", "15000001"), ("B", "15000002"), ("C", "15000003"))
    ]

    results = wire.connector.apply_listing_changes(changes)

    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert isinstance(error, RejectedError)
    assert error.code == "PRD_USC_028"
    assert route.call_count == 4  # the batch, then one by one


def test_deactivate_posts_the_ids_to_inactive(build: Build) -> None:
    wire = build()
    route = wire.router.post(INACTIVE).mock(
        return_value=ok(
            {
                "total_data": 2,
                "succeed_rows": 1,
                "failed_rows": 1,
                "failed_rows_data": [
                    {"product_id": 15000002, "message": "Invalid Product ID."}
                ],
            }
        )
    )
    changes = [
        ListingChange(ChangeKind.DEACTIVATE, draft("A"), external_id="15000001"),
        ListingChange(ChangeKind.DEACTIVATE, draft("B"), external_id="15000002"),
        ListingChange(ChangeKind.DEACTIVATE, draft("C"), external_id=None),
    ]

    results = wire.connector.apply_listing_changes(changes)

    assert [r.ok for r in results] == [True, False, False]
    assert body(route.calls[0]) == {"product_id": [15000001, 15000002]}
    assert dict(route.calls[0].request.url.params) == {"shop_id": str(SHOP_ID)}


# ==================================================================== stock, price


def stock(sku: str, quantity: int, external_id: str = "1") -> StockUpdate:
    return StockUpdate(Sku(sku), external_id, quantity)


def test_stock_rows_are_keyed_by_sku_with_per_row_results(build: Build) -> None:
    wire = build()
    route = wire.router.post(STOCK).mock(
        return_value=ok(
            update_result(
                [
                    {
                        "product_id": 0,
                        "sku": "B",
                        "product_url": "",
                        "new_stock": 9,
                        "message": "Invalid SKU.",
                    }
                ],
                total=2,
            )
        )
    )

    results = wire.connector.push_stock([stock("A", 4, "15000001"), stock("B", 9)])

    assert [r.ok for r in results] == [True, False]
    assert results[0].external_id == "15000001"
    assert isinstance(results[1].error, RejectedError)
    assert body(route.calls[0]) == [
        {"sku": "A", "new_stock": 4},
        {"sku": "B", "new_stock": 9},
    ]
    assert dict(route.calls[0].request.url.params) == {"shop_id": str(SHOP_ID)}


def test_the_bypass_option_is_sent_with_stock_updates(build: Build) -> None:
    wire = build(options={"fs_id": FS_ID, "bypass_update_product_status": True})
    route = wire.router.post(STOCK).mock(return_value=ok(update_result([], 1)))
    wire.connector.push_stock([stock("A", 0)])
    assert dict(route.calls[0].request.url.params) == {
        "shop_id": str(SHOP_ID),
        "bypass_update_product_status": "true",
    }


def test_bulk_rows_never_exceed_the_budget(build: Build) -> None:
    wire = build(rate=5.0, burst=5)
    route = wire.router.post(STOCK).mock(
        side_effect=lambda request: ok(update_result([], len(body_of(request))))
    )

    results = wire.connector.push_stock([stock(f"S-{i}", i) for i in range(12)])

    assert all(r.ok for r in results)
    assert [len(body(c)) for c in route.calls] == [5, 5, 2]
    # 5 rows at once, 5 more after 1 s (a full burst), the last 2 after 0.4 s
    assert sum(wire.time.slept) == pytest.approx(1.4)


def test_rows_throttled_per_row_are_retried_alone(build: Build) -> None:
    wire = build(rate=100.0, burst=100)

    def throttle_b_and_d(request: httpx.Request) -> httpx.Response:
        rows = body_of(request)
        failed = [
            {
                "sku": row["sku"],
                "new_stock": row["new_stock"],
                "message": "ERR_TOO_MANY_REQUEST",
            }
            for row in rows
            if row["sku"] in {"B", "D"} and len(rows) > 2
        ]
        return ok(update_result(failed, len(rows)))

    route = wire.router.post(STOCK).mock(side_effect=throttle_b_and_d)

    results = wire.connector.push_stock([stock(s, 1) for s in "ABCDE"])

    assert all(r.ok for r in results)
    assert [[row["sku"] for row in body(c)] for c in route.calls] == [
        ["A", "B", "C", "D", "E"],
        ["B", "D"],
    ]


def test_rows_throttled_every_time_end_as_rate_limit_errors(build: Build) -> None:
    wire = build(rate=100.0, burst=100)
    throttled = {"sku": "A", "new_stock": 1, "message": "ERR_TOO_MANY_REQUEST"}
    route = wire.router.post(STOCK).mock(
        side_effect=lambda request: ok(
            update_result(
                [throttled] if body_of(request)[0]["sku"] == "A" else [],
                len(body_of(request)),
            )
        )
    )

    results = wire.connector.push_stock([stock("A", 1), stock("B", 1)])

    assert [r.ok for r in results] == [False, True]
    assert isinstance(results[0].error, RateLimitError)
    assert route.call_count == 1 + 5  # THROTTLE_ROUNDS more tries of A alone


def test_a_whole_call_failure_fails_its_items_and_the_next_call_carries_on(
    build: Build,
) -> None:
    wire = build(rate=1000.0, burst=1000, attempts=2)
    route = wire.router.post(STOCK)
    route.side_effect = [
        fail(500, "PRD_API_006", "upstream"),
        fail(500, "PRD_API_006", "upstream"),
        ok(update_result([], 50)),
    ]

    results = wire.connector.push_stock([stock(f"S-{i}", 1) for i in range(150)])

    assert all(isinstance(r.error, TransientError) for r in results[:100])
    assert all(r.ok for r in results[100:])
    assert [len(body(c)) for c in route.calls] == [100, 100, 50]


def test_prices_are_whole_rupiah_in_range_or_refused_before_calling(
    build: Build,
) -> None:
    wire = build()
    route = wire.router.post(PRICE).mock(return_value=ok(update_result([], 1)))
    updates = [
        PriceUpdate(Sku("A"), "1", 91_000),
        PriceUpdate(Sku("B"), "2", cast(int, 91_000.5)),
        PriceUpdate(Sku("C"), "3", 99),
        PriceUpdate(Sku("D"), "4", 100_000_001),
    ]

    results = wire.connector.push_prices(updates)

    assert [r.ok for r in results] == [True, False, False, False]
    assert all(isinstance(r.error, RejectedError) for r in results[1:])
    assert body(route.calls[0]) == [{"sku": "A", "new_price": 91_000}]


def test_an_auth_error_in_a_batch_propagates(build: Build) -> None:
    wire = build()
    wire.router.post(STOCK).mock(return_value=fail(403, "RBAC_MDLW_001", "unlinked"))
    with pytest.raises(AuthError):
        wire.connector.push_stock([stock("A", 1)])


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.mark.parametrize(
    ("status", "stock", "active"),
    [(1, 5, True), (1, 0, True), (3, 0, True), (3, 5, False), (2, 4, True)],
    ids=["active", "active-empty", "empty", "seller-inactive", "status-2"],
)
def test_a_product_at_stock_zero_is_live_though_tokopedia_shows_it_inactive(
    status: int, stock: int, active: bool
) -> None:
    item = ProductInfo.model_validate(
        product_item(7, "KOPI-1", stock=stock, status=status)
    )

    shown = mapping.listing(item)

    assert shown.active is active
    assert shown.stock == stock
    assert shown.raw_status == str(status)
