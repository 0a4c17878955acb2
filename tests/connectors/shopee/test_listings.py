"""Listings on the wire: create (lookup, images, add_item), update, unlist, find,
list every page, and stock and price batches with per-model outcomes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connectors._http import RetryPolicy
from core.domain.ids import Sku
from core.domain.remote import (
    ChangeKind,
    ListingChange,
    PriceUpdate,
    StockUpdate,
)
from core.errors import (
    ContractError,
    OutcomeUnknownError,
    RejectedError,
    UnreadableAnswerError,
)
from simulators.shopee import ShopeeSimulator
from tests.connectors.shopee._support import (
    BASE,
    IMAGE_HOST,
    JPEG,
    PARTNER_ID,
    TS,
    FakeTime,
    body,
    draft,
    fail,
    item_info,
    ok,
    options,
    page_sign,
    params,
    rig,
    stock_reads,
)
from tests.contract.harness import build

API = "/api/v2/"
SEARCH = API + "product/search_item"
BASE_INFO = API + "product/get_item_base_info"
ITEM_LIST = API + "product/get_item_list"
MODEL_LIST = API + "product/get_model_list"
ADD_ITEM = API + "product/add_item"
UPDATE_ITEM = API + "product/update_item"
UNLIST_ITEM = API + "product/unlist_item"
UPLOAD = API + "media_space/upload_image"
UPDATE_STOCK = API + "product/update_stock"
UPDATE_PRICE = API + "product/update_price"


def not_found() -> httpx.Response:
    return ok({"item_id_list": [], "total_count": 0, "has_next_page": False})


def empty_shop() -> httpx.Response:
    """The first ``get_item_list`` page of a shop without listings."""
    return ok({"item": [], "total_count": 0, "has_next_page": False})


def large_shop() -> httpx.Response:
    """The first ``get_item_list`` page of a shop too large to scan before a few
    creates (each SKU is then searched)."""
    rows = [{"item_id": n, "item_status": "NORMAL"} for n in range(1, 101)]
    return ok(
        {"item": rows, "total_count": 50_000, "has_next_page": True, "next_offset": 100}
    )


def uploaded(*image_ids: str) -> httpx.Response:
    return ok(
        {
            "image_info": {"image_id": image_ids[0]},
            "image_info_list": [
                {"id": n, "error": "", "message": "", "image_info": {"image_id": i}}
                for n, i in enumerate(image_ids)
            ],
        }
    )


def create(*drafts: Any) -> list[ListingChange]:
    return [ListingChange(ChangeKind.CREATE, d) for d in drafts]


# ---------------------------------------------------------------- create


def test_a_create_looks_up_uploads_images_and_adds_one_item() -> None:
    setup = rig(opts=options(days_to_ship=2, location_id="WH-1"))
    two_images = draft(
        image_urls=(
            f"https://{IMAGE_HOST}/k/1.jpg",
            f"https://{IMAGE_HOST}/k/2.jpg",
        )
    )
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        scan = router.get(ITEM_LIST).mock(return_value=empty_shop())
        images = router.get(host=IMAGE_HOST).mock(
            return_value=httpx.Response(200, content=JPEG)
        )
        upload = router.post(UPLOAD).mock(return_value=uploaded("img-1", "img-2"))
        add = router.post(ADD_ITEM).mock(return_value=ok({"item_id": 30_001}))
        (result,) = setup.connector.apply_listing_changes(create(two_images))
    assert (result.ok, result.external_id, result.error) == (True, "30001", None)
    (asked,) = scan.calls  # one page: the whole shop, no SKU searched
    assert params(asked.request)["item_status"] == [
        "NORMAL",
        "UNLIST",
        "BANNED",
        "REVIEWING",
    ]
    assert params(asked.request)["offset"] == ["0"]
    assert len(images.calls) == 2
    sent = upload.calls.last.request
    assert params(sent) == {
        "partner_id": [str(PARTNER_ID)],
        "timestamp": [str(TS)],
        "sign": [page_sign(UPLOAD, TS)],  # a public API: no token, no shop
    }
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.content.count(b'name="image"') == 2
    assert b'name="scene"' in sent.content
    assert b"normal" in sent.content
    assert body(add.calls.last.request) == {
        "item_name": "Kopi Arabika Flores Bajawa 250 g",
        "description": "Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
        "category_id": 100_001,
        "original_price": 85_000,
        "weight": 0.27,  # 270 g in kg
        "image": {"image_id_list": ["img-1", "img-2"]},
        "logistic_info": [{"logistic_id": 8_003, "enabled": True, "is_free": False}],
        "attribute_list": [
            {
                "attribute_id": 100_010,
                "attribute_value_list": [
                    {"value_id": 0, "original_value_name": "NoBrand"}
                ],
            }
        ],
        "item_sku": "KOPI-FLR-001",
        "condition": "NEW",
        "seller_stock": [{"stock": 5, "location_id": "WH-1"}],
        "item_status": "NORMAL",
        "dimension": {"package_length": 18, "package_width": 10, "package_height": 6},
        "pre_order": {"is_pre_order": False, "days_to_ship": 2},
    }


def test_an_existing_sku_is_bound_not_created_and_an_unlisted_one_relisted() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=large_shop())
        router.get(SEARCH).mock(
            return_value=ok({"item_id_list": [555], "has_next_page": False})
        )
        router.get(BASE_INFO).mock(
            return_value=ok(
                {"item_list": [item_info(555, "kopi-flr-001", status="UNLIST")]}
            )
        )
        relist = router.post(UNLIST_ITEM).mock(
            return_value=ok(
                {
                    "failure_list": [],
                    "success_list": [{"item_id": 555, "unlist": False}],
                }
            )
        )
        results = setup.connector.apply_listing_changes(
            create(draft("KOPI-FLR-001"), draft("KOPI-FLR-001"))
        )
    assert [(r.ok, r.external_id) for r in results] == [(True, "555"), (True, "555")]
    assert len(relist.calls) == 1
    assert body(relist.calls[0].request) == {
        "item_list": [{"item_id": 555, "unlist": False}]
    }


def test_a_batchs_images_are_uploaded_together_each_url_once() -> None:
    setup = rig()
    shared = f"https://{IMAGE_HOST}/shared.jpg"
    drafts = [
        draft(f"KOPI-{n}", image_urls=(f"https://{IMAGE_HOST}/{n}.jpg", shared))
        for n in range(1, 6)
    ]  # six distinct images in all: one call (fewer than 9 a call, §4.11)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        fetched = router.get(host=IMAGE_HOST).mock(
            return_value=httpx.Response(200, content=JPEG)
        )
        upload = router.post(UPLOAD).mock(
            return_value=uploaded(*(f"img-{n}" for n in range(1, 7)))
        )
        add = router.post(ADD_ITEM).mock(
            side_effect=[ok({"item_id": 100 + n}) for n in range(1, 6)]
        )
        results = setup.connector.apply_listing_changes(create(*drafts))
    assert [r.ok for r in results] == [True] * 5
    assert len(upload.calls) == 1
    assert upload.calls.last.request.content.count(b'name="image"') == 6
    assert len(fetched.calls) == 6
    sent = [body(call.request)["image"]["image_id_list"] for call in add.calls]
    # upload order: 1.jpg, shared.jpg, 2.jpg, 3.jpg, 4.jpg, 5.jpg
    assert sent == [
        ["img-1", "img-2"],
        ["img-3", "img-2"],
        ["img-4", "img-2"],
        ["img-5", "img-2"],
        ["img-6", "img-2"],
    ]


def test_a_lost_add_item_answer_is_outcome_unknown_and_not_retried() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        router.get(host=IMAGE_HOST).mock(return_value=httpx.Response(200, content=JPEG))
        router.post(UPLOAD).mock(return_value=uploaded("img-1"))
        add = router.post(ADD_ITEM).mock(side_effect=httpx.ReadTimeout("lost"))
        (result,) = setup.connector.apply_listing_changes(create(draft()))
    assert not result.ok
    assert isinstance(result.error, OutcomeUnknownError)
    assert len(add.calls) == 1


def test_an_add_item_answer_without_an_item_id_is_outcome_unknown() -> None:
    # Shopee answered success but the body lacks the new item's id: it may exist.
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        router.get(host=IMAGE_HOST).mock(return_value=httpx.Response(200, content=JPEG))
        router.post(UPLOAD).mock(return_value=uploaded("img-1"))
        add = router.post(ADD_ITEM).mock(return_value=ok({"item_name": "x"}))
        (result,) = setup.connector.apply_listing_changes(create(draft()))
    assert isinstance(result.error, OutcomeUnknownError)
    assert "item_id" in str(result.error)
    assert len(add.calls) == 1


def test_an_image_that_cannot_be_fetched_fails_only_its_item() -> None:
    setup = rig()
    broken = draft("TENUN-SKA-001", image_urls=(f"https://{IMAGE_HOST}/gone.jpg",))
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        router.get(f"https://{IMAGE_HOST}/gone.jpg").mock(
            return_value=httpx.Response(404)
        )
        router.get(f"https://{IMAGE_HOST}/KOPI-FLR-001/1.jpg").mock(
            return_value=httpx.Response(200, content=JPEG)
        )
        router.post(UPLOAD).mock(return_value=uploaded("img-1"))
        add = router.post(ADD_ITEM).mock(return_value=ok({"item_id": 7}))
        results = setup.connector.apply_listing_changes(create(broken, draft()))
    assert [r.ok for r in results] == [False, True]
    error = results[0].error
    assert isinstance(error, RejectedError)
    assert error.code == "image_unavailable"
    assert "HTTP 404" in str(error)
    assert IMAGE_HOST in str(error)
    assert "gone.jpg" not in str(error)  # never the full URL
    assert len(add.calls) == 1


def test_a_refused_image_is_that_items_rejection() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        router.get(host=IMAGE_HOST).mock(return_value=httpx.Response(200, content=JPEG))
        router.post(UPLOAD).mock(
            return_value=ok(
                {
                    "image_info_list": [
                        {"id": 0, "error": "error_param", "message": "too big"}
                    ]
                }
            )
        )
        (result,) = setup.connector.apply_listing_changes(create(draft()))
    assert isinstance(result.error, RejectedError)
    assert "too big" in str(result.error)


def test_a_draft_shopee_cannot_take_is_refused_before_calling() -> None:
    setup = rig(opts=options(logistics=[]))
    unmapped = draft("X-1", category="Perhiasan")
    no_images = draft("X-2", image_urls=())
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        results = setup.connector.apply_listing_changes(
            create(unmapped, no_images, draft("X-3"))
        )
    codes = [r.error.code for r in results if isinstance(r.error, RejectedError)]
    assert codes == [
        "category_unmapped",
        "logistics_unconfigured",
        "logistics_unconfigured",
    ]


def test_a_validation_error_names_the_field() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(return_value=empty_shop())
        router.get(host=IMAGE_HOST).mock(return_value=httpx.Response(200, content=JPEG))
        router.post(UPLOAD).mock(return_value=uploaded("img-1"))
        router.post(ADD_ITEM).mock(
            return_value=fail(
                "product.error_price_exceed_max_limitt", "Price should be at most 1"
            )
        )
        (result,) = setup.connector.apply_listing_changes(
            create(draft(price=200_000_000))
        )
    assert isinstance(result.error, RejectedError)
    assert result.error.fields == {"original_price": "Price should be at most 1"}


def test_update_sends_content_only_and_deactivate_unlists() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.post(UPDATE_ITEM).mock(return_value=ok({}))
        unlisting = router.post(UNLIST_ITEM).mock(
            return_value=ok(
                {"failure_list": [], "success_list": [{"item_id": 42, "unlist": True}]}
            )
        )
        results = setup.connector.apply_listing_changes(
            [
                ListingChange(ChangeKind.UPDATE, draft(image_urls=()), "41"),
                ListingChange(ChangeKind.DEACTIVATE, draft(), "42"),
                ListingChange(ChangeKind.UPDATE, draft(), None),
            ]
        )
    assert [r.ok for r in results] == [True, True, False]
    (update,) = (body(call.request) for call in route.calls)
    (unlist,) = (body(call.request) for call in unlisting.calls)
    assert update == {
        "item_id": 41,
        "item_name": "Kopi Arabika Flores Bajawa 250 g",
        "description": "Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
        "item_sku": "KOPI-FLR-001",
        "category_id": 100_001,
        "attribute_list": [
            {
                "attribute_id": 100_010,
                "attribute_value_list": [
                    {"value_id": 0, "original_value_name": "NoBrand"}
                ],
            }
        ],
        "weight": 0.27,
        "dimension": {"package_length": 18, "package_width": 10, "package_height": 6},
        "condition": "NEW",
    }
    assert not {"original_price", "seller_stock"} & update.keys()
    assert unlist == {"item_list": [{"item_id": 42, "unlist": True}]}


#: ``v2.product.unlist_item`` response_sample: one item refused, one relisted.
UNLIST_SAMPLE: dict[str, Any] = {
    "failure_list": [
        {
            "item_id": 2300069665,
            "failed_reason": "Can't unlist item when item is under promotion",
        }
    ],
    "success_list": [{"item_id": 2400143710, "unlist": False}],
}


def test_reactivate_lists_the_item_again_with_unlist_item() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        relisting = router.post(UNLIST_ITEM).mock(
            return_value=ok(
                {"failure_list": [], "success_list": [{"item_id": 42, "unlist": False}]}
            )
        )
        (result,) = setup.connector.apply_listing_changes(
            [ListingChange(ChangeKind.REACTIVATE, draft(), "42")]
        )
    assert (result.ok, result.external_id) == (True, "42")
    assert body(relisting.calls.last.request) == {
        "item_list": [{"item_id": 42, "unlist": False}]
    }


def _deactivate(*answers: httpx.Response) -> list[Any]:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(UNLIST_ITEM).mock(side_effect=list(answers))
        return setup.connector.apply_listing_changes(
            [
                ListingChange(ChangeKind.DEACTIVATE, draft("A"), "2300069665"),
                ListingChange(ChangeKind.DEACTIVATE, draft("B"), "2400143710"),
            ]
        )


def test_an_unlist_refused_for_one_item_fails_only_that_item() -> None:
    """The reference's sample read as it stands: the item in ``failure_list`` fails
    with its reason, the one in ``success_list`` succeeds."""
    first, second = _deactivate(ok(UNLIST_SAMPLE), ok(UNLIST_SAMPLE))
    assert not first.ok
    assert isinstance(first.error, RejectedError)
    assert "under promotion" in first.error.reason
    assert first.error.operation == "product.unlist_item"
    assert (second.ok, second.external_id) == (True, "2400143710")


def test_an_unlist_that_all_failed_gives_each_item_its_reason() -> None:
    all_failed = httpx.Response(
        400,
        json={
            "error": "product.error_unlist_item_all_failed",
            "message": "Unlist item all failed.",
            "request_id": "r",
            "response": {
                "failure_list": [
                    {
                        "item_id": 2300069665,
                        "failed_reason": "Banned and Reviewing Products cannot "
                        "be delisted",
                    }
                ],
                "success_list": [],
            },
        },
    )
    silent = ok({"failure_list": [], "success_list": []})
    first, second = _deactivate(all_failed, silent)
    assert isinstance(first.error, RejectedError)
    assert "cannot be delisted" in first.error.reason
    assert isinstance(second.error, ContractError)
    assert "no outcome for item 2400143710" in second.error.reason


# ---------------------------------------------------------------- find and list


def test_find_searches_each_sku_and_reads_details_in_batches_of_50() -> None:
    setup = rig()
    skus = [f"SKU-{n:03d}" for n in range(60)] + ["kopi flr 1"]
    ids = {sku: 1_000 + n for n, sku in enumerate(skus)}
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:

        def search(request: httpx.Request) -> httpx.Response:
            sku = params(request)["item_sku"][0]
            found = [ids[sku]] if sku in ids and sku != "kopi flr 1" else []
            if sku == "KOPIFLR1":
                found = [ids["kopi flr 1"]]
            return ok({"item_id_list": found, "has_next_page": False})

        searches = router.get(SEARCH).mock(side_effect=search)

        def info(request: httpx.Request) -> httpx.Response:
            asked = [int(i) for i in params(request)["item_id_list"][0].split(",")]
            by_id = {v: k for k, v in ids.items()}
            return ok(
                {
                    "item_list": [
                        item_info(i, by_id[i].upper().replace(" ", "")) for i in asked
                    ]
                }
            )

        details = router.get(BASE_INFO).mock(side_effect=info)
        found = setup.connector.find_listings([*skus, "NOPE"])
    assert len(found) == 61
    assert found["KOPIFLR1"].external_id == str(ids["kopi flr 1"])
    # "kopi flr 1" is asked as given and as its SKU key; "NOPE" once.
    assert len(searches.calls) == 63
    sizes = [
        len(params(call.request)["item_id_list"][0].split(","))
        for call in details.calls
    ]
    assert sizes == [50, 11]


def test_search_results_are_paged() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        search = router.get(SEARCH).mock(
            side_effect=[
                ok({"item_id_list": [1], "has_next_page": True, "next_offset": "1"}),
                ok({"item_id_list": [2], "has_next_page": False, "next_offset": ""}),
            ]
        )
        router.get(BASE_INFO).mock(
            return_value=ok(
                {
                    "item_list": [
                        item_info(1, "A-1", status="BANNED"),
                        item_info(2, "A-1"),
                    ]
                }
            )
        )
        found = setup.connector.find_listings(["A-1"])
    assert [params(c.request)["offset"] for c in search.calls] == [["0"], ["1"]]
    assert found["A-1"].external_id == "2"  # the active one is preferred


def test_search_pages_as_the_reference_sample_answers() -> None:
    """``v2.product.search_item``'s sample has no ``has_next_page``: a further page
    is known from ``total_count`` and a non-empty ``next_offset`` (a string)."""
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        search = router.get(SEARCH).mock(
            side_effect=[
                ok({"item_id_list": [653211], "next_offset": "1", "total_count": 2}),
                ok({"item_id_list": [564331], "next_offset": "", "total_count": 2}),
                ok({"item_id_list": [], "next_offset": "", "total_count": 0}),
            ]
        )
        router.get(BASE_INFO).mock(
            return_value=ok(
                {
                    "item_list": [
                        item_info(653211, "A-1", status="BANNED"),
                        item_info(564331, "A-1"),
                    ]
                }
            )
        )
        found = setup.connector.find_listings(["A-1", "B-2"])
    offsets = [params(c.request)["offset"] for c in search.calls]
    assert offsets == [["0"], ["1"], ["0"]]  # two pages for A-1, one for B-2
    assert found["A-1"].external_id == "564331"
    assert "B-2" not in found


def test_fetch_listings_pages_statuses_and_models() -> None:
    setup = rig()
    pages = [
        ok(
            {
                "item": [{"item_id": n} for n in range(1, 101)],
                "total_count": 102,
                "has_next_page": True,
                "next_offset": 100,
            }
        ),
        ok(
            {
                "item": [{"item_id": 101}, {"item_id": 102}],
                "total_count": 102,
                "has_next_page": False,
                "next_offset": 102,
            }
        ),
    ]
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        listing = router.get(ITEM_LIST).mock(side_effect=pages)

        def info(request: httpx.Request) -> httpx.Response:
            asked = [int(i) for i in params(request)["item_id_list"][0].split(",")]
            return ok(
                {
                    "item_list": [
                        item_info(i, f"S-{i}", has_model=i == 102) for i in asked
                    ]
                }
            )

        details = router.get(BASE_INFO).mock(side_effect=info)
        models = router.get(MODEL_LIST).mock(
            return_value=ok(
                {
                    "model": [
                        {
                            "model_id": 9_001,
                            "model_sku": "S-102-RED",
                            "model_status": "MODEL_NORMAL",
                            "price_info": [{"original_price": 99_000}],
                            "stock_info_v2": {"seller_stock": [{"stock": 4}]},
                        }
                    ]
                }
            )
        )
        found = list(setup.connector.fetch_listings())
    first, second = (params(call.request) for call in listing.calls)
    assert first["item_status"] == ["NORMAL", "UNLIST", "BANNED", "REVIEWING"]
    assert (first["offset"], first["page_size"]) == (["0"], ["100"])
    assert (second["offset"], second["page_size"]) == (["100"], ["100"])
    assert "update_time_from" not in first
    assert len(details.calls) == 3  # 50 + 50 + 2
    assert len(found) == 102
    variant = found[-1]
    assert (variant.sku, variant.external_variant_id, variant.price, variant.stock) == (
        "S-102-RED",
        "9001",
        99_000,
        4,
    )
    assert params(models.calls.last.request)["item_id"] == ["102"]


def test_a_shop_beyond_the_offset_ceiling_is_listed_in_update_time_halves() -> None:
    setup = rig()
    horizon = TS + 1
    middle = horizon // 2
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:

        def listing(request: httpx.Request) -> httpx.Response:
            query = params(request)
            if "update_time_from" not in query:
                return ok(
                    {
                        "item": [{"item_id": 1}],
                        "total_count": 15_000,
                        "has_next_page": True,
                    }
                )
            low = int(query["update_time_from"][0])
            rows = (
                [{"item_id": 1}, {"item_id": 2}]
                if low == 0
                else [{"item_id": 2}, {"item_id": 3}]
            )
            return ok({"item": rows, "total_count": 2, "has_next_page": False})

        route = router.get(ITEM_LIST).mock(side_effect=listing)
        router.get(BASE_INFO).mock(
            side_effect=lambda request: ok(
                {
                    "item_list": [
                        item_info(int(i), f"S-{i}")
                        for i in params(request)["item_id_list"][0].split(",")
                    ]
                }
            )
        )
        found = list(setup.connector.fetch_listings())
    ranges = [
        (
            params(c.request).get("update_time_from"),
            params(c.request).get("update_time_to"),
        )
        for c in route.calls
    ]
    assert ranges == [
        (None, None),
        (["0"], [str(middle)]),
        ([str(middle)], None),  # the newest half stays open ended
    ]
    # §4.7: offset and page_size are required; every range's walk sends both.
    assert [
        (params(c.request)["offset"], params(c.request)["page_size"])
        for c in route.calls
    ] == [(["0"], ["100"])] * 3
    assert sorted(x.external_id for x in found) == ["1", "2", "3"]  # no duplicates


def test_a_repeated_offset_stops_the_walk() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(
            return_value=ok(
                {
                    "item": [],
                    "total_count": 5,
                    "has_next_page": True,
                    "next_offset": 0,
                }
            )
        )
        with pytest.raises(ContractError, match="twice"):
            list(setup.connector.fetch_listings())


# ---------------------------------------------------------------- stock and prices


def test_stock_rows_of_one_item_share_a_call_of_at_most_50_models() -> None:
    setup = rig()
    updates = [StockUpdate(Sku(f"M-{n}"), "77", n, str(500 + n)) for n in range(60)]
    updates.append(StockUpdate(Sku("OTHER"), "88", 1))
    updates.append(StockUpdate(Sku("M-0-AGAIN"), "77", 9, "500"))
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:

        def answer(request: httpx.Request) -> httpx.Response:
            rows = body(request)["stock_list"]
            return ok(
                {
                    "success_list": [
                        {
                            "model_id": r["model_id"],
                            "stock": r["seller_stock"][0]["stock"],
                        }
                        for r in rows
                        if r["model_id"] != 503
                    ],
                    "failure_list": [
                        {"model_id": 503, "failed_reason": "Wrong model_id."}
                    ],
                }
            )

        reads = stock_reads(router, models={77: range(500, 560)})
        route = router.post(UPDATE_STOCK).mock(side_effect=answer)
        results = setup.connector.push_stock(updates)
    assert reads.asked_items() == [[77, 88]]  # one read for both items
    sent = [body(call.request) for call in route.calls]
    assert [(b["item_id"], len(b["stock_list"])) for b in sent] == [
        (77, 50),
        (77, 11),  # models 550-559, then the repeat of 500
        (88, 1),
    ]
    assert sent[1]["stock_list"][-1]["model_id"] == 500  # the repeat, in a later call
    assert all(
        len({r["model_id"] for r in b["stock_list"]}) == len(b["stock_list"])
        for b in sent
    )
    assert [r.sku for r in results] == [u.sku for u in updates]
    assert [r.ok for r in results].count(False) == 1
    assert isinstance(results[3].error, RejectedError)
    assert "Wrong model_id" in str(results[3].error)


def test_all_rows_failed_still_reports_each_reason() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        stock_reads(router, models={5: [1, 2]})
        router.post(UPDATE_STOCK).mock(
            return_value=fail(
                "product.error_busi_update_stock_failed",
                "Update stock failed",
                200,
                response={
                    "success_list": [],
                    "failure_list": [
                        {
                            "model_id": 1,
                            "failed_reason": (
                                "error_cannt_edit_stock_in_promotion: locked"
                            ),
                        },
                    ],
                },
            )
        )
        results = setup.connector.push_stock(
            [
                StockUpdate(Sku("A"), "5", 1, "1"),
                StockUpdate(Sku("B"), "5", 1, "2"),
            ]
        )
    first, second = (r.error for r in results)
    assert isinstance(first, RejectedError)
    assert first.code == "error_cannt_edit_stock_in_promotion"
    assert isinstance(second, RejectedError)
    assert second.code == "error_busi_update_stock_failed"


def test_a_row_without_an_outcome_is_a_contract_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(UPDATE_PRICE).mock(return_value=ok({"success_list": []}))
        (result,) = setup.connector.push_prices([PriceUpdate(Sku("A"), "5", 90_000)])
    assert isinstance(result.error, ContractError)


def test_prices_are_sent_in_whole_rupiah_and_fractions_refused_first() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.post(UPDATE_PRICE).mock(
            return_value=ok({"success_list": [{"model_id": 0}], "failure_list": []})
        )
        results = setup.connector.push_prices(
            [
                PriceUpdate(Sku("A"), "5", 90_000),
                PriceUpdate(Sku("B"), "6", 90_000.5),  # type: ignore[arg-type]
                PriceUpdate(Sku("C"), "not-an-id", 1_000),
            ]
        )
    assert [r.ok for r in results] == [True, False, False]
    assert isinstance(results[1].error, RejectedError)
    assert results[1].error.code == "price_not_whole_rupiah"
    assert len(route.calls) == 1
    assert json.loads(route.calls.last.request.content) == {
        "item_id": 5,
        "price_list": [{"model_id": 0, "original_price": 90_000}],
    }


@pytest.mark.parametrize("quantity", [-1, 2.5])
def test_an_impossible_stock_is_refused_before_calling(quantity: Any) -> None:
    setup = rig()
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True):
        (result,) = setup.connector.push_stock([StockUpdate(Sku("A"), "5", quantity)])
    assert isinstance(result.error, RejectedError)


# ---------------------------------------------------------------- unreadable look-ups


def test_an_unreadable_base_info_chunk_fails_only_the_skus_it_concerns() -> None:
    """A SKU already listed is read back with ``get_item_base_info``; when that
    answer stays unreadable (in the scan of the shop, then in the SKU's own look-up),
    that SKU fails (it might exist) while a SKU whose search found nothing is
    created."""
    built = build("shopee", FakeTime())
    connector, sim = built.connector, built.sim(ShopeeSimulator)
    (first,) = connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, built.draft("KOPI-OLD-1"))]
    )
    assert first.ok, first.error
    built.clock.advance(minutes=6)  # past the scan's age: the shop is read again
    sim.faults.truncated_next(
        2 * RetryPolicy().attempts, endpoint="product.get_item_base_info"
    )
    results = connector.apply_listing_changes(
        [
            ListingChange(ChangeKind.CREATE, built.draft("KOPI-OLD-1")),
            ListingChange(ChangeKind.CREATE, built.draft("KOPI-NEW-1")),
        ]
    )
    assert [(r.sku, r.ok) for r in results] == [
        ("KOPI-OLD-1", False),
        ("KOPI-NEW-1", True),
    ]
    assert isinstance(results[0].error, UnreadableAnswerError)
    assert results[0].error.operation == "product.get_item_base_info"
    assert sorted(x["sku"] for x in sim.inspect_listings()) == [
        "KOPI-NEW-1",
        "KOPI-OLD-1",
    ]
    (again,) = connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, built.draft("KOPI-OLD-1"))]
    )
    assert (again.ok, again.bound, again.external_id) == (
        True,
        True,
        first.external_id,
    )
