"""The simulator against the official reference's samples (``congminh1254/shopee-sdk``
``schemas/v2.<module>.<api>.json``): answers have the sample's fields, nesting and
types; the calls added from §4.7, §4.10a, §4.10b and §4.11 behave as the reference
describes them."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import (
    JPEG,
    PageClient,
    ShopSession,
    error_name,
    shopee_sign,
)

LIST = "/api/v2/product/get_item_list"
UNLIST = "/api/v2/product/unlist_item"
UPDATE = "/api/v2/product/update_item"
CATEGORY = "/api/v2/product/get_category"
TREE = "/api/v2/product/get_attribute_tree"
BRANDS = "/api/v2/product/get_brand_list"
UPLOAD = "/api/v2/media_space/upload_image"


def shape(value: Any) -> Any:
    """A JSON value's shape: objects by key, a list by its first element's shape,
    numbers as ``number`` (the reference types prices ``float`` while Indonesian
    prices are whole), other scalars by type name."""
    if isinstance(value, dict):
        return {key: shape(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(actual: Any, sample: Any, where: str = "response") -> None:
    """``actual`` has exactly the sample's keys at every level (an empty list in
    either matches any list), with the same types."""
    if isinstance(sample, dict):
        assert isinstance(actual, dict), f"{where}: expected an object"
        assert set(actual) == set(sample), (
            f"{where}: missing {sorted(set(sample) - set(actual))}, "
            f"extra {sorted(set(actual) - set(sample))}"
        )
        for key, inner in sample.items():
            assert_same_shape(actual[key], inner, f"{where}.{key}")
    elif isinstance(sample, list):
        assert isinstance(actual, list), f"{where}: expected a list"
        if sample and actual:
            assert_same_shape(actual[0], sample[0], f"{where}[0]")
    else:
        assert shape(actual) == shape(sample), f"{where}: {actual!r} vs {sample!r}"


# ---------------------------------------------------------------- get_item_list (§4.7)

#: ``v2.product.get_item_list`` response_sample.
ITEM_LIST_SAMPLE: dict[str, Any] = {
    "item": [
        {
            "item_id": 2500139861,
            "item_status": "NORMAL",
            "tag": {"kit": False},
            "update_time": 1608128470,
        }
    ],
    "total_count": 19,
    "has_next_page": True,
    "next_offset": 10,
}


def test_get_item_list_answers_as_the_sample(shop: ShopSession) -> None:
    shop.add_item()
    answer = shop.get(LIST, {"item_status": "NORMAL", "offset": 0, "page_size": 10})
    assert answer.json()["error"] == ""
    assert_same_shape(answer.json()["response"], ITEM_LIST_SAMPLE)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"item_status": "NORMAL", "page_size": 10}, "Offset"),
        ({"item_status": "NORMAL", "offset": 0}, "PageSize"),
        ({"item_status": "NORMAL", "offset": "", "page_size": 10}, "Offset"),
    ],
)
def test_get_item_list_requires_offset_and_page_size(
    shop: ShopSession, params: dict[str, Any], field: str
) -> None:
    """Both are required (§4.7); the refusal is worded as the reference's error
    samples word a missing field."""
    shop.add_item()
    answer = shop.get(LIST, params)
    body = answer.json()
    assert answer.status_code == 400
    assert body["error"] == "product.error_param"
    assert body["message"] == f"invalid field {field}: value must  Not Null"
    assert "response" not in body
    assert body["request_id"]


# ---------------------------------------------------------------- unlist_item (§4.10a)

#: ``v2.product.unlist_item`` response_sample.
UNLIST_SAMPLE: dict[str, Any] = {
    "failure_list": [
        {
            "item_id": 2300069665,
            "failed_reason": "Can't unlist item when item is under promotion",
        }
    ],
    "success_list": [{"item_id": 2400143710, "unlist": False}],
}


def _status(shop: ShopSession, item_id: int) -> str:
    return str(shop.base_info(item_id)["item_status"])


def test_unlist_item_takes_items_off_sale_and_back(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    """The reference's request sample: one item in a promotion (refused with the
    sample's reason), one listed again."""
    promoted = shop.add_item(item_sku="PROMO")
    other = shop.add_item(item_sku="OTHER")
    sim.set_promotion(promoted, stock_locked=True, price_locked=False)
    assert shop.post(
        UNLIST, {"item_list": [{"item_id": other, "unlist": True}]}
    ).json()["response"] == {
        "failure_list": [],
        "success_list": [{"item_id": other, "unlist": True}],
    }
    assert _status(shop, other) == "UNLIST"
    answer = shop.post(
        UNLIST,
        {
            "item_list": [
                {"item_id": promoted, "unlist": True},
                {"item_id": other, "unlist": False},
            ]
        },
    ).json()
    assert answer["error"] == ""
    assert_same_shape(answer["response"], UNLIST_SAMPLE)
    assert answer["response"] == {
        "failure_list": [
            {
                "item_id": promoted,
                "failed_reason": "Can't unlist item when item is under promotion",
            }
        ],
        "success_list": [{"item_id": other, "unlist": False}],
    }
    assert (_status(shop, promoted), _status(shop, other)) == ("NORMAL", "NORMAL")
    listed = shop.get(LIST, {"item_status": "UNLIST", "offset": 0, "page_size": 10})
    assert listed.json()["response"]["item"] == []


def test_unlist_item_reports_each_item_that_cannot_change(
    shop: ShopSession, sim: ShopeeSimulator, api: PageClient
) -> None:
    banned = shop.add_item(item_sku="BANNED")
    sim.change_item_status(banned, "BANNED")
    deleted = shop.add_item(item_sku="GONE")
    shop.post("/api/v2/product/delete_item", {"item_id": deleted})
    other_shop = int(sim.credentials()["other_shop_id"])
    foreign = sim.seed_listing(
        "FOREIGN", "Tenun Ikat Sintang", 150_000, 3, shop_id=other_shop
    )
    fine = shop.add_item(item_sku="FINE")
    answer = shop.post(
        UNLIST,
        {
            "item_list": [
                {"item_id": banned, "unlist": True},
                {"item_id": deleted, "unlist": True},
                {"item_id": foreign, "unlist": True},
                {"item_id": 1, "unlist": True},
                {"item_id": fine, "unlist": True},
            ]
        },
    ).json()
    assert answer["error"] == ""
    reasons = {
        row["item_id"]: row["failed_reason"]
        for row in answer["response"]["failure_list"]
    }
    assert reasons == {
        banned: "Banned and Reviewing Products cannot be delisted",
        deleted: "Product not found",
        foreign: "Item not belong to shop.",
        1: "Product not found",
    }
    assert answer["response"]["success_list"] == [{"item_id": fine, "unlist": True}]
    assert _status(shop, banned) == "BANNED"
    assert sim.items[foreign].item_status == "NORMAL"


def test_unlist_item_all_failed_is_an_error_that_still_lists_each_reason(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    item_id = shop.add_item()
    sim.faults.fail_items("product.unlist_item", [str(item_id)], "system busy")
    answer = shop.post(UNLIST, {"item_list": [{"item_id": item_id, "unlist": True}]})
    body = answer.json()
    assert answer.status_code == 400
    assert body["error"] == "product.error_unlist_item_all_failed"
    assert body["response"] == {
        "failure_list": [{"item_id": item_id, "failed_reason": "system busy"}],
        "success_list": [],
    }
    assert _status(shop, item_id) == "NORMAL"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "invalid field ItemList: value must  Not Null"),
        ({"item_list": []}, "item_list length should be between 1 and 50"),
        ({"item_list": [{"item_id": 1, "unlist": True}] * 51}, "between 1 and 50"),
        ({"item_list": [{"item_id": 1}]}, "a boolean unlist"),
        ({"item_list": [{"item_id": 1, "unlist": "yes"}]}, "a boolean unlist"),
        ({"item_list": [{"unlist": True}]}, "needs item_id"),
    ],
)
def test_unlist_item_refuses_a_malformed_request(
    shop: ShopSession, body: dict[str, Any], message: str
) -> None:
    item_id = shop.add_item()
    answer = shop.post(UNLIST, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "product.error_param"
    assert message in answer.json()["message"]
    assert _status(shop, item_id) == "NORMAL"


# ------------------------------------------------------- category metadata (§4.10b)

#: ``v2.product.get_category`` response_sample.
CATEGORY_SAMPLE: dict[str, Any] = {
    "category_list": [
        {
            "category_id": 123,
            "parent_category_id": 456,
            "original_category_name": "aaa",
            "display_category_name": "bbb",
            "has_children": False,
        }
    ]
}

#: ``v2.product.get_attribute_tree`` response_sample (``child_attribute_list``
#: left out: it holds further trees, and the fixtures have none).
TREE_SAMPLE: dict[str, Any] = {
    "list": [
        {
            "attribute_tree": [
                {
                    "attribute_id": 0,
                    "mandatory": True,
                    "name": "-",
                    "attribute_value_list": [
                        {
                            "value_id": 0,
                            "name": "-",
                            "value_unit": "-",
                            "multi_lang": [{"language": "-", "value": "-"}],
                        }
                    ],
                    "attribute_info": {
                        "input_type": 0,
                        "input_validation_type": 0,
                        "format_type": 0,
                        "date_format_type": 0,
                        "attribute_unit_list": ["-"],
                        "max_value_count": 0,
                    },
                    "multi_lang": [{"language": "-", "value": "-"}],
                }
            ],
            "category_id": 0,
        }
    ]
}

#: ``v2.product.get_brand_list`` response_sample.
BRANDS_SAMPLE: dict[str, Any] = {
    "brand_list": [
        {
            "brand_id": 2500139861,
            "original_brand_name": "nike",
            "display_brand_name": "nike",
        }
    ],
    "has_next_page": True,
    "next_offset": 10,
    "is_mandatory": False,
    "input_type": "TEXT_FILED",
}


def test_get_category_answers_as_the_sample(shop: ShopSession) -> None:
    answer = shop.get(CATEGORY, {"language": "id"}).json()
    assert_same_shape(answer["response"], CATEGORY_SAMPLE)
    rows = {c["category_id"]: c for c in answer["response"]["category_list"]}
    assert rows[100_000]["has_children"] is True
    assert rows[100_001]["parent_category_id"] == 100_000
    assert 100_009 not in rows  # blocked


def test_get_attribute_tree_serves_the_category_fixtures(shop: ShopSession) -> None:
    answer = shop.get(TREE, {"category_id_list": "100001,100002"}).json()
    assert answer["error"] == ""
    assert_same_shape(answer["response"], TREE_SAMPLE)
    trees = {
        row["category_id"]: row["attribute_tree"] for row in answer["response"]["list"]
    }
    assert list(trees) == [100_001, 100_002]
    coffee = {a["attribute_id"]: a for a in trees[100_001]}
    assert {k: a["mandatory"] for k, a in coffee.items()} == {
        100_010: True,
        100_011: False,
    }
    assert [v["value_id"] for v in coffee[100_010]["attribute_value_list"]] == [
        0,
        1_146_111,
    ]
    assert coffee[100_010]["name"] == "Merek"
    repeated = shop.get(
        TREE, [("category_id_list", 100_003), ("category_id_list", 100_000)]
    ).json()["response"]["list"]
    assert [(r["category_id"], len(r["attribute_tree"])) for r in repeated] == [
        (100_003, 1),
        (100_000, 0),
    ]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({}, "product.error_param", "invalid field CategoryIdList"),
        (
            {"category_id_list": ",".join(["100001"] * 21)},
            "product.error_param",
            "at most 20",
        ),
        ({"category_id_list": "100001,999"}, "product.error_invalid_category", "999"),
        ({"category_id_list": "abc"}, "product.error_invalid_category", "abc"),
    ],
)
def test_get_attribute_tree_refusals(
    shop: ShopSession, params: dict[str, Any], error: str, message: str
) -> None:
    answer = shop.get(TREE, params)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert message in answer.json()["message"]


def test_get_brand_list_serves_the_brand_attribute(shop: ShopSession) -> None:
    query = {"category_id": 100_001, "status": 1, "offset": 0, "page_size": 10}
    answer = shop.get(BRANDS, query).json()
    assert answer["error"] == ""
    assert_same_shape(answer["response"], BRANDS_SAMPLE)
    assert answer["response"] == {
        "brand_list": [
            {
                "brand_id": 1_146_111,
                "original_brand_name": "Kopi Flores",
                "display_brand_name": "Kopi Flores",
            }
        ],
        "has_next_page": False,
        "next_offset": 1,
        "is_mandatory": True,
        "input_type": "DROP_DOWN",
    }
    pending = shop.get(BRANDS, {**query, "status": 2}).json()["response"]
    assert (pending["brand_list"], pending["has_next_page"]) == ([], False)
    none = shop.get(BRANDS, {**query, "category_id": 100_002}).json()["response"]
    assert (none["brand_list"], none["is_mandatory"]) == ([], False)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"offset": None}, "product.error_param", "invalid field Offset"),
        ({"page_size": None}, "product.error_param", "invalid field PageSize"),
        ({"category_id": None}, "product.error_param", "invalid field CategoryId"),
        ({"status": None}, "product.error_param", "invalid field Status"),
        ({"status": 3}, "product.error_param", "status should be 1"),
        ({"page_size": 101}, "product.error_param", "between 1 and 100"),
        ({"category_id": 100_000}, "product.error_invalid_category", "leaf"),
        ({"category_id": 100_009}, "product.error_category_is_block", "blocked"),
    ],
)
def test_get_brand_list_refusals(
    shop: ShopSession, change: dict[str, Any], error: str, message: str
) -> None:
    query: dict[str, Any] = {
        "category_id": 100_001,
        "status": 1,
        "offset": 0,
        "page_size": 10,
    }
    query.update(change)
    answer = shop.get(BRANDS, {k: v for k, v in query.items() if v is not None})
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert message in answer.json()["message"]


# ---------------------------------------------------------------- upload_image (§4.11)


def _upload(api: PageClient, query: dict[str, Any]) -> dict[str, Any]:
    answer = api.http.post(
        UPLOAD, params=query, files=[("image", ("a.jpg", JPEG, "image/jpeg"))]
    )
    body: dict[str, Any] = answer.json()
    return body


def test_upload_image_accepts_the_shop_signature(
    api: PageClient, shop: ShopSession, sim: ShopeeSimulator
) -> None:
    ts = api.clock.timestamp()
    common = {"partner_id": api.partner_id, "timestamp": ts}
    as_shop = {
        **common,
        "access_token": shop.access_token,
        "shop_id": shop.shop_id,
        "sign": shopee_sign(
            api.partner_key, api.partner_id, UPLOAD, ts, shop.access_token, shop.shop_id
        ),
    }
    body = _upload(api, as_shop)
    assert body["error"] == "", body
    image_id = body["response"]["image_info"]["image_id"]
    assert image_id in sim.images
    as_public = {
        **common,
        "sign": shopee_sign(api.partner_key, api.partner_id, UPLOAD, ts),
    }
    assert _upload(api, as_public)["error"] == ""
    shop.add_item(image={"image_id_list": [image_id]})


def test_upload_image_checks_the_shop_signature_it_is_given(
    api: PageClient, shop: ShopSession
) -> None:
    ts = api.clock.timestamp()
    public_sign = shopee_sign(api.partner_key, api.partner_id, UPLOAD, ts)
    shop_query = {
        "partner_id": api.partner_id,
        "timestamp": ts,
        "access_token": shop.access_token,
        "shop_id": shop.shop_id,
    }
    # A shop-level query must carry the shop signature, not the public one.
    assert _upload(api, {**shop_query, "sign": public_sign})["error"] == "error_sign"
    bad_token = {
        **shop_query,
        "access_token": "0" * 32,
        "sign": shopee_sign(
            api.partner_key, api.partner_id, UPLOAD, ts, "0" * 32, shop.shop_id
        ),
    }
    refused = _upload(api, bad_token)
    assert (refused["error"], refused["message"]) == (
        "error_auth",
        "Invalid access_token.",
    )
    no_shop = {k: v for k, v in shop_query.items() if k != "shop_id"}
    missing = _upload(api, {**no_shop, "sign": public_sign})
    assert (missing["error"], missing["message"]) == (
        "error_param",
        "There is no shop_id in query.",
    )
    assert error_name(api.http.post(UPLOAD, params={"partner_id": api.partner_id})) == (
        "error_param"
    )
