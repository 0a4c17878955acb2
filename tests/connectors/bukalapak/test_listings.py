"""Listings on the wire: lookup by SKU, every page of the store, creates (binding,
lost answers), one SKU per stock/price PATCH, deactivation, refused updates."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from core.domain.catalogue import Condition
from core.domain.ids import Sku
from core.domain.remote import (
    ChangeKind,
    ListingChange,
    ListingDraft,
    PriceUpdate,
    StockUpdate,
)
from core.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientError,
)
from tests.connectors.bukalapak._support import (
    ACCOUNTS,
    API,
    envelope,
    failure,
    make,
    product,
    sku,
)

PRODUCTS = "/stores/me/products"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


def draft(code: str, **changes: object) -> ListingDraft:
    values: dict[str, object] = {
        "sku": Sku(code),
        "name": "Kopi Arabika Flores",
        "description": "Biji kopi sangrai",
        "category": "Kopi",
        "price": 85_000,
        "stock": 5,
        "weight_grams": 250,
        "condition": Condition.NEW,
        "image_urls": ("https://img.example/kopi.jpg",),
    }
    values.update(changes)
    return ListingDraft(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- find


def test_find_searches_each_sku_by_keyword_and_keeps_exact_matches(
    router: respx.MockRouter,
) -> None:
    route = router.get(PRODUCTS).mock(
        side_effect=[
            httpx.Response(
                200,
                json=envelope(
                    [
                        product("p1", sku(11, "p1", "KOPI-FLR-0011")),
                        product("p2", sku(12, "p2", "kopi-flr-001", stock=9)),
                    ],
                    total=2,
                ),
            ),
            httpx.Response(200, json=envelope([], total=0)),
        ]
    )
    found = make().connector.find_listings(["KOPI-FLR-001", "NOPE-1", "kopi-flr-001"])
    assert set(found) == {"KOPI-FLR-001"}
    hit = found["KOPI-FLR-001"]
    assert (hit.external_id, hit.external_variant_id, hit.stock) == ("p2", "12", 9)
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"offset": "0", "limit": "50", "keywords": "KOPI-FLR-001"},
        {"offset": "0", "limit": "50", "keywords": "NOPE-1"},
    ]


def test_find_reads_the_skus_when_the_product_omits_stock_and_price(
    router: respx.MockRouter,
) -> None:
    router.get(PRODUCTS).respond(
        200,
        json=envelope(
            [product("p2", sku(12, "p2", "KOPI-1", price=None, stock=None))], total=1
        ),
    )
    skus = router.get("/products/p2/skus").respond(
        200, json=envelope([sku(12, "p2", "KOPI-1", price=91_000, stock=3)])
    )
    found = make().connector.find_listings(["KOPI-1"])
    assert (found["KOPI-1"].price, found["KOPI-1"].stock) == (91_000, 3)
    assert skus.call_count == 1


def test_find_pages_through_keyword_hits(router: respx.MockRouter) -> None:
    others = [product(f"o{i}", sku(100 + i, f"o{i}", f"KOPI-X-{i}")) for i in range(50)]
    route = router.get(PRODUCTS).mock(
        side_effect=[
            httpx.Response(200, json=envelope(others, total=51)),
            httpx.Response(
                200, json=envelope([product("p9", sku(9, "p9", "KOPI"))], total=51)
            ),
        ]
    )
    assert "KOPI" in make().connector.find_listings(["KOPI"])
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "50"]


# ---------------------------------------------------------------- fetch


def test_fetch_listings_walks_every_page_with_overlap(router: respx.MockRouter) -> None:
    rows = [product(f"p{i}", sku(i, f"p{i}", f"SKU-{i}")) for i in range(95)]
    route = router.get(PRODUCTS).mock(
        side_effect=lambda request: httpx.Response(
            200,
            json=envelope(
                rows[
                    int(request.url.params["offset"]) : int(
                        request.url.params["offset"]
                    )
                    + int(request.url.params["limit"])
                ],
                total=95,
            ),
        )
    )
    listings = list(make().connector.fetch_listings())
    assert [x.sku for x in listings] == [f"SKU-{i}" for i in range(95)]
    assert [
        (c.request.url.params["offset"], c.request.url.params["limit"])
        for c in route.calls
    ] == [("0", "50"), ("40", "50"), ("80", "50")]


def test_fetch_listings_maps_state_price_and_variant(router: respx.MockRouter) -> None:
    router.get(PRODUCTS).respond(
        200,
        json=envelope(
            [
                product(
                    "p1",
                    sku(1, "p1", "A-1", state="inactive", stock=0),
                    sku(2, "p1", "", stock=4),  # no seller SKU: not a listing
                )
            ],
            total=1,
        ),
    )
    (only,) = make().connector.fetch_listings()
    assert (only.sku, only.active, only.raw_status, only.stock) == (
        "A-1",
        False,
        "inactive",
        0,
    )
    assert only.updated_at is not None
    assert only.updated_at.utcoffset() is not None
    assert only.updated_at.isoformat() == "2026-11-22T03:00:00+00:00"


# ---------------------------------------------------------------- create


def test_a_create_posts_the_documented_body(router: respx.MockRouter) -> None:
    router.get(PRODUCTS).respond(200, json=envelope([], total=0))
    create = router.post("/products").respond(
        201,
        json=envelope(
            {"id": "1zki72", "skus": [{"id": 156448166, "sku_name": "KOPI-FLR-001"}]},
            status=201,
        ),
    )
    (result,) = make().connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, draft("KOPI-FLR-001"))]
    )
    assert result.ok
    assert (result.external_id, result.external_variant_id) == ("1zki72", "156448166")
    assert json.loads(create.calls.last.request.content) == {
        "name": "Kopi Arabika Flores",
        "category_id": 501,
        "price": 85_000,
        "weight": 250,
        "stock": 5,
        "description": "Biji kopi sangrai",
        "condition": "new",
        "images": [7001],
        "sku_name": "KOPI-FLR-001",
    }


def test_an_existing_sku_is_bound_not_created(router: respx.MockRouter) -> None:
    router.get(PRODUCTS).respond(
        200, json=envelope([product("p7", sku(77, "p7", "KOPI-FLR-001"))], total=1)
    )
    (result,) = make().connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, draft("kopi-flr-001"))]
    )
    assert (result.ok, result.external_id, result.external_variant_id) == (
        True,
        "p7",
        "77",
    )


def test_a_lost_create_answer_is_outcome_unknown_and_not_resent(
    router: respx.MockRouter,
) -> None:
    router.get(PRODUCTS).respond(200, json=envelope([], total=0))
    create = router.post("/products").mock(side_effect=httpx.ReadTimeout("lost"))
    (result,) = make().connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, draft("KOPI-FLR-001"))]
    )
    assert not result.ok
    assert isinstance(result.error, OutcomeUnknownError)
    assert create.call_count == 1


def test_a_create_answer_of_the_wrong_shape_is_outcome_unknown(
    router: respx.MockRouter,
) -> None:
    # HTTP 201 without the product's id: the listing may exist.
    router.get(PRODUCTS).respond(200, json=envelope([], total=0))
    create = router.post("/products").respond(201, json=envelope({"name": "x"}))
    (result,) = make().connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, draft("KOPI-FLR-001"))]
    )
    assert isinstance(result.error, OutcomeUnknownError)
    assert "may have been applied" in str(result.error)
    assert create.call_count == 1


def test_a_refused_create_fails_alone_and_unmapped_drafts_never_leave(
    router: respx.MockRouter,
) -> None:
    router.get(PRODUCTS).respond(200, json=envelope([], total=0))
    router.post("/products").mock(
        side_effect=[
            httpx.Response(422, json=failure(422, "name is required")),
            httpx.Response(
                201,
                json=envelope(
                    {"id": "p3", "skus": [{"id": 3, "sku_name": "C-3"}]}, status=201
                ),
            ),
        ]
    )
    rig = make(options={"category_ids": {"Kopi": 501}, "default_image_ids": [7100]})
    results = rig.connector.apply_listing_changes(
        [
            ListingChange(ChangeKind.CREATE, draft("A-1")),
            ListingChange(ChangeKind.CREATE, draft("B-2", category="Tenun")),
            ListingChange(ChangeKind.CREATE, draft("C-3", price=85_000.5)),
            ListingChange(ChangeKind.CREATE, draft("D-4", stock=1_000_000)),
            ListingChange(ChangeKind.CREATE, draft("E-5")),
        ]
    )
    assert [r.ok for r in results] == [False, False, False, False, True]
    assert all(isinstance(r.error, RejectedError) for r in results[:4])
    assert "category" in str(results[1].error)
    assert "whole rupiah" in str(results[2].error)
    assert "999,999" in str(results[3].error)


def test_a_failed_lookup_stops_creates_instead_of_risking_duplicates(
    router: respx.MockRouter,
) -> None:
    router.get(PRODUCTS).respond(503, json=failure(503, "unavailable"))
    (result,) = make().connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, draft("A-1"))]
    )
    assert isinstance(result.error, TransientError)


def test_updates_are_refused_and_deactivation_unlists_the_sku(
    router: respx.MockRouter,
) -> None:
    patch = router.patch("/products/p1/skus/11").respond(
        200, json=envelope({"id": 11, "state": "inactive"})
    )
    results = make().connector.apply_listing_changes(
        [
            ListingChange(ChangeKind.UPDATE, draft("A-1"), "p1", "11"),
            ListingChange(ChangeKind.DEACTIVATE, draft("A-1"), "p1", "11"),
        ]
    )
    assert isinstance(results[0].error, RejectedError)
    assert results[1].ok
    assert json.loads(patch.calls.last.request.content) == {"state": "inactive"}


# ---------------------------------------------------------------- stock and prices


def test_stock_is_one_patch_per_sku_with_per_item_outcomes(
    router: respx.MockRouter,
) -> None:
    ok = router.patch("/products/p1/skus/11").respond(
        200, json=envelope({"id": 11, "stock": 9})
    )
    refused = router.patch("/products/p2/skus/22").respond(
        200, json=failure(422, "stock must be an integer from 0 to 999999")
    )
    results = make().connector.push_stock(
        [
            StockUpdate(Sku("A-1"), "p1", 9, "11"),
            StockUpdate(Sku("B-2"), "p2", 9, "22"),
            StockUpdate(Sku("C-3"), "p3", -1, "33"),
        ]
    )
    assert [r.ok for r in results] == [True, False, False]
    assert isinstance(results[1].error, RejectedError)
    assert isinstance(results[2].error, RejectedError)  # refused before calling
    assert json.loads(ok.calls.last.request.content) == {"stock": 9}
    assert refused.call_count == 1


def test_a_missing_sku_id_is_resolved_from_the_product(
    router: respx.MockRouter,
) -> None:
    router.get("/products/p1/skus").respond(
        200, json=envelope([sku(10, "p1", "OTHER"), sku(11, "p1", "A-1")])
    )
    patch = router.patch("/products/p1/skus/11").respond(200, json=envelope({}))
    (result,) = make().connector.push_prices([PriceUpdate(Sku("a-1"), "p1", 91_000)])
    assert (result.ok, result.external_variant_id) == (True, "11")
    assert json.loads(patch.calls.last.request.content) == {"price": 91_000}


def test_fractional_and_non_positive_prices_never_leave() -> None:
    results = make().connector.push_prices(
        [
            PriceUpdate(Sku("A-1"), "p1", 85_000.5, "11"),  # type: ignore[arg-type]
            PriceUpdate(Sku("B-2"), "p2", 0, "22"),
        ]
    )
    assert [type(r.error) for r in results] == [RejectedError, RejectedError]


def test_an_auth_failure_during_a_push_is_raised(router: respx.MockRouter) -> None:
    router.patch("/products/p1/skus/11").respond(401, json=failure(401, "revoked"))
    router.post(f"{ACCOUNTS}/oauth/token").respond(
        400, json={"error": "invalid_grant", **failure(400, "invalid_grant")}
    )
    with pytest.raises(AuthError):
        make().connector.push_stock([StockUpdate(Sku("A-1"), "p1", 1, "11")])


def test_whole_call_failures_go_into_that_item_and_the_rest_carry_on(
    router: respx.MockRouter,
) -> None:
    router.patch("/products/p1/skus/11").respond(503, json=failure(503, "down"))
    router.patch("/products/p2/skus/22").respond(200, json=envelope({}))
    results = make().connector.push_stock(
        [
            StockUpdate(Sku("A-1"), "p1", 1, "11"),
            StockUpdate(Sku("B-2"), "p2", 1, "22"),
        ]
    )
    assert isinstance(results[0].error, TransientError)
    assert results[1].ok
