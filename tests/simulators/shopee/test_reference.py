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


# ----------------------------------------------------------- reads (§4.8, §4.9, §4.10)

#: ``v2.product.get_item_base_info`` response_sample, one item without models,
#: cut to what an Indonesian local shop's item has: the sample's SIP prices,
#: ``size_chart``, ``video_info``, ``complaint_policy`` (PL), ``tax_info``
#: (BR/PL/IN), ``description_info`` (whitelisted) and the logistics'
#: ``estimated_shipping_fee`` are left out; ``description_type``, ``gtin_code``
#: and ``price_info`` (absent on items with models) are in its fields list.
BASE_INFO_ITEM: dict[str, Any] = {
    "item_id": 34002,
    "category_id": 14646,
    "item_name": "seller discount",
    "description": "first product 001first product",
    "description_type": "normal",
    "item_sku": "-",
    "create_time": 1600572637,
    "update_time": 1600572640,
    "attribute_list": [
        {
            "attribute_id": 4811,
            "original_attribute_name": "Brand: L2 Default [14644]",
            "is_mandatory": True,
            "attribute_value_list": [
                {"value_id": 0, "original_value_name": "Default", "value_unit": "g"}
            ],
        }
    ],
    "price_info": [
        {"currency": "SGD", "original_price": 122.02, "current_price": 122.02}
    ],
    "image": {"image_url_list": ["-"], "image_id_list": ["-"]},
    "weight": "10.02",
    "dimension": {"package_length": 11, "package_width": 12, "package_height": 13},
    "logistic_info": [
        {
            "logistic_id": 80012,
            "logistic_name": "-",
            "enabled": True,
            "shipping_fee": 5.02,
            "size_id": 0,
            "is_free": True,
        }
    ],
    "pre_order": {"is_pre_order": True, "days_to_ship": 3},
    "wholesales": [],
    "condition": "NEW/USED",
    "item_status": "NORMAL",
    "deboost": False,
    "has_model": True,
    "promotion_id": 13123,
    "brand": {"brand_id": 123, "original_brand_name": "nike"},
    "item_dangerous": 0,
    "gtin_code": "",
    "stock_info_v2": {
        "summary_info": {"total_reserved_stock": 100, "total_available_stock": 100},
        "seller_stock": [{"location_id": "-", "stock": 10}],
        "shopee_stock": [],
    },
}

#: ``v2.product.get_model_list`` response_sample's model (its SIP and local prices
#: and ``if_saleable`` left out) with the fields the reference lists beside it:
#: ``model_id``, ``tier_index``, ``promotion_id``, ``has_promotion``,
#: ``is_fulfillment_by_shopee``. No ``model_name``.
MODEL: dict[str, Any] = {
    "model_id": 2000458802,
    "tier_index": [0, 1],
    "promotion_id": 0,
    "has_promotion": True,
    "price_info": [{"currency": "TWD", "current_price": 100, "original_price": 100}],
    "model_sku": "blue bag",
    "model_status": "MODEL_NORMAL",
    "pre_order": {"is_pre_order": False, "days_to_ship": 3},
    "stock_info_v2": {
        "summary_info": {"total_reserved_stock": 0, "total_available_stock": 0},
        "seller_stock": [{"location_id": "-", "stock": 0}],
        "shopee_stock": [],
    },
    "gtin_code": "-",
    "weight": "1.1",
    "dimension": {"package_height": 11, "package_length": 11, "package_width": 11},
    "is_fulfillment_by_shopee": False,
}

#: ``v2.product.search_item`` response_sample (no ``has_next_page``;
#: ``next_offset`` a string).
SEARCH_SAMPLE: dict[str, Any] = {
    "item_id_list": [653211, 564331],
    "next_offset": "xsszxjcdeahx",
    "total_count": 100,
}


def test_get_item_base_info_answers_as_the_sample(shop: ShopSession) -> None:
    item_id = shop.add_item(
        dimension={"package_length": 18, "package_width": 10, "package_height": 6},
        brand={"brand_id": 1_146_111, "original_brand_name": "Kopi Flores"},
    )
    info = shop.base_info(item_id)
    assert_same_shape(info, BASE_INFO_ITEM, "item_list[0]")
    assert info["weight"] == "0.3"
    assert info["attribute_list"][0] == {
        "attribute_id": 100_010,
        "original_attribute_name": "Merek",
        "is_mandatory": True,
        "attribute_value_list": [
            {"value_id": 0, "original_value_name": "Kopi Flores", "value_unit": ""}
        ],
    }


def test_seeded_listings_read_as_the_sample(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    item_id = sim.seed_listing("SEED-1", "Kopi Robusta Temanggung 1 kg", 90_000, 4)
    info = shop.base_info(item_id)
    # A seeded listing has no dimension: the one field the sample shows that a
    # listing created without one lacks.
    assert info["dimension"] is None
    assert_same_shape(
        {**info, "dimension": BASE_INFO_ITEM["dimension"]},
        BASE_INFO_ITEM,
        "item_list[0]",
    )
    assert info["attribute_list"][0]["original_attribute_name"] == "Merek"


def test_get_model_list_answers_as_the_sample(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    item_id = shop.add_variant_item(2)
    first, second = shop.models(item_id)
    sim.set_promotion(item_id, first["model_id"], stock_locked=False)
    first, second = shop.models(item_id)
    assert_same_shape(first, MODEL, "model[0]")
    assert "model_name" not in first
    assert (first["has_promotion"], second["has_promotion"]) == (True, False)
    assert first["weight"] == "0.3"


def test_search_item_answers_as_the_sample(shop: ShopSession) -> None:
    ids = [shop.add_item(item_sku="TWIN") for _ in range(3)]
    first = shop.get(
        "/api/v2/product/search_item", {"item_sku": "TWIN", "offset": 0, "page_size": 2}
    ).json()["response"]
    assert_same_shape(first, SEARCH_SAMPLE)
    assert (first["item_id_list"], first["total_count"], first["next_offset"]) == (
        ids[:2],
        3,
        "2",
    )
    last = shop.get(
        "/api/v2/product/search_item", {"item_sku": "TWIN", "offset": 2, "page_size": 2}
    ).json()["response"]
    assert (last["item_id_list"], last["next_offset"]) == (ids[2:], "")


# ---------------------------------------------------------------- logistics (§5.5)

#: ``v2.logistics.get_channel_list`` response_sample's first channel.
CHANNEL: dict[str, Any] = {
    "block_seller_cover_shipping_fee": False,
    "cod_enabled": True,
    "enabled": True,
    "fee_type": "SIZE_INPUT",
    "force_enable": False,
    "item_max_dimension": {
        "dimension_sum": 90,
        "height": 30,
        "length": 30,
        "unit": "cm",
        "width": 30,
    },
    "logistics_capability": {"seller_logistics": False},
    "logistics_channel_id": 40029,
    "logistics_channel_name": "Shopee Self Pick-up",
    "logistics_description": "",
    "mask_channel_id": 0,
    "seller_logistic_has_configuration": None,
    "size_list": [],
    "support_cross_border": False,
    "volume_limit": {"item_max_volume": 0, "item_min_volume": 0},
    "weight_limit": {"item_max_weight": 5, "item_min_weight": 0},
}


def test_get_channel_list_answers_as_the_sample(shop: ShopSession) -> None:
    answer = shop.get("/api/v2/logistics/get_channel_list").json()["response"]
    assert_same_shape(answer, {"logistics_channel_list": [CHANNEL]})


def _shipped_order(shop: ShopSession, sim: ShopeeSimulator) -> str:
    shop.add_item()
    listing, _ = sim.buyable_listings()[0]
    order_sn = sim.place_order(listing, 1, "buyer-1")
    assert order_sn is not None
    sim.set_order_status(order_sn, "READY_TO_SHIP")
    return order_sn


def test_ship_order_answers_without_a_response_object(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    """The reference's sample: ``{"error", "message", "request_id"}`` only."""
    order_sn = _shipped_order(shop, sim)
    answer = shop.post(
        "/api/v2/logistics/ship_order",
        {"order_sn": order_sn, "non_integrated": {"tracking_number": "JX0001"}},
    )
    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"error", "message", "request_id"}
    assert body["error"] == ""
    assert sim.orders[order_sn].status == "PROCESSED"


def test_get_shipping_parameter_answers_as_the_sample(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    order_sn = _shipped_order(shop, sim)
    answer = shop.get(
        "/api/v2/logistics/get_shipping_parameter", {"order_sn": order_sn}
    ).json()["response"]
    assert answer["dropoff"] is None
    assert answer["info_needed"]["pickup"] == ["address_id", "pickup_time_id"]
    address = {
        "address_id": 123,
        "region": "SG",
        "state": "",
        "city": "",
        "district": "",
        "town": "",
        "address": "",
        "zipcode": "40009",
        "address_flag": ["default_address", "pickup_address", "return_address"],
        "time_slot_list": [],
    }
    assert_same_shape(answer["pickup"], {"address_list": [address]})
    slot = answer["pickup"]["address_list"][0]["time_slot_list"][0]
    assert_same_shape(slot, {"date": 1608103685, "time_text": "", "pickup_time_id": ""})


def test_get_tracking_number_returns_optional_fields_only_when_asked(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    order_sn = _shipped_order(shop, sim)
    shop.post(
        "/api/v2/logistics/ship_order",
        {"order_sn": order_sn, "non_integrated": {"tracking_number": "JX0001"}},
    )
    path = "/api/v2/logistics/get_tracking_number"
    plain = shop.get(path, {"order_sn": order_sn}).json()["response"]
    assert plain == {"tracking_number": "JX0001"}
    asked = shop.get(
        path,
        {
            "order_sn": order_sn,
            "response_optional_fields": "first_mile_tracking_number",
        },
    ).json()["response"]
    # The reference's sample answer to the same request.
    assert_same_shape(
        asked,
        {
            "tracking_number": "MY200448706479IT",
            "first_mile_tracking_number": "CNF877146678717210312",
        },
    )
    sim.lag_tracking_numbers(1)
    lagging = _shipped_order(shop, sim)
    shop.post(
        "/api/v2/logistics/ship_order",
        {"order_sn": lagging, "non_integrated": {"tracking_number": "JX0002"}},
    )
    empty = shop.get(path, {"order_sn": lagging}).json()["response"]
    assert empty["tracking_number"] == ""
    assert empty["hint"]


# ---------------------------------------------------------------- merchant (§2.2)

#: ``v2.merchant.get_merchant_info`` response_sample: top-level fields.
MERCHANT_INFO_SAMPLE: dict[str, Any] = {
    "merchant_name": "CNSC Company 7",
    "is_cnsc": True,
    "request_id": "4022b2fcf376045bba533b504e02476a",
    "auth_time": 1650624369,
    "expire_time": 1682179199,
    "merchant_currency": "CNY",
    "merchant_region": "CN",
    "is_upgraded_cbsc": True,
    "error": "",
    "message": "",
}

#: ``v2.merchant.get_shop_list_by_merchant`` response_sample (with the
#: ``sip_affi_shops`` its fields list): top-level fields.
SHOP_LIST_SAMPLE: dict[str, Any] = {
    "request_id": "nGwxMqhTRqgbpfmNlbvgcTZEenLPmyyo",
    "is_cnsc": True,
    "shop_list": [{"shop_id": 601306294, "sip_affi_shops": []}],
    "more": False,
    "error": "",
    "message": "",
}


def test_merchant_calls_answer_with_top_level_fields(
    sim: ShopeeSimulator, api: PageClient
) -> None:
    creds = sim.credentials()
    main, merchant_id = int(creds["main_account_id"]), int(creds["merchant_id"])
    code, _ = api.code_from_redirect(main_account_id=main)
    token = api.get_token(code, main_account_id=main).json()["access_token"]
    info = api.merchant("GET", "/api/v2/merchant/get_merchant_info", merchant_id, token)
    assert_same_shape(info.json(), MERCHANT_INFO_SAMPLE, "body")
    assert info.json()["merchant_name"] == "Koperasi IKM Nusantara"
    shops = api.merchant(
        "GET",
        "/api/v2/merchant/get_shop_list_by_merchant",
        merchant_id,
        token,
        params={"page_no": 1, "page_size": 100},
    )
    assert_same_shape(shops.json(), SHOP_LIST_SAMPLE, "body")
    assert shops.json()["shop_list"][0]["shop_id"] == int(creds["other_shop_id"])
    refused = api.merchant(
        "GET", "/api/v2/merchant/get_merchant_info", merchant_id, "0" * 32
    )
    assert set(refused.json()) == {"error", "message", "request_id"}
    assert refused.json()["error"] == "error_auth"


def test_delete_item_answers_without_a_response_object(shop: ShopSession) -> None:
    """``v2.product.delete_item``'s sample: error, message, warning, request_id."""
    item_id = shop.add_item()
    answer = shop.post("/api/v2/product/delete_item", {"item_id": item_id})
    assert set(answer.json()) == {"error", "message", "warning", "request_id"}
    assert answer.json()["error"] == ""
    again = shop.post("/api/v2/product/delete_item", {"item_id": item_id})
    assert again.json()["error"] == "product.error_item_not_found"


# ---------------------------------------------------------------- orders (§5.2)

#: ``v2.order.get_order_detail`` response_sample's package (``sorting_group``, a
#: field added in 2025 for sorting centres, left out).
PACKAGE: dict[str, Any] = {
    "group_shipment_id": None,
    "item_list": [
        {
            "item_id": 23620853561,
            "model_id": 221404189791,
            "model_quantity": 1,
            "order_item_id": 23620853561,
            "product_location_id": "VN10XX2UZ",
            "promotion_group_id": 0,
        }
    ],
    "logistics_status": "LOGISTICS_DELIVERY_DONE",
    "package_number": "OFG166300791210964",
    "parcel_chargeable_weight_gram": 10,
    "shipping_carrier": "5-Day Delivery (SPX)",
    "logistics_channel_id": 18080,
    "allow_self_design_awb": True,
}

#: The sample's ordered item, with ``active_qty`` / ``cancelled_qty`` (newer
#: fields of its list, §5.2).
ORDER_ITEM: dict[str, Any] = {
    "add_on_deal": False,
    "add_on_deal_id": 0,
    "image_info": {"image_url": "https://cf.shopee.vn/file/vn-11134207_tn"},
    "is_b2c_owned_item": False,
    "is_prescription_item": False,
    "item_id": 23620853561,
    "item_name": "Kem",
    "item_sku": "",
    "main_item": False,
    "model_discounted_price": 48000,
    "model_id": 221404189791,
    "model_name": "60g",
    "model_original_price": 300000,
    "model_quantity_purchased": 1,
    "model_sku": "QAZ-SADOER-05",
    "order_item_id": 23620853561,
    "product_location_id": ["VN10XX2UZ"],
    "promotion_group_id": 0,
    "promotion_id": 779222207758537,
    "promotion_type": "flash_sale",
    "weight": 0.01,
    "wholesale": False,
    "active_qty": 1,
    "cancelled_qty": 0,
}


def test_get_order_detail_package_and_items_as_the_sample(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    order_sn = _shipped_order(shop, sim)
    detail = shop.order(order_sn, "item_list,package_list")
    (package,) = detail["package_list"]
    assert_same_shape(package, PACKAGE, "package_list[0]")
    assert package["logistics_channel_id"] in {8_003, 8_005, 8_002}
    assert package["parcel_chargeable_weight_gram"] == 300  # one 0.3 kg item
    (line,) = detail["item_list"]
    assert_same_shape(line, ORDER_ITEM, "item_list[0]")


#: ``v2.product.add_model`` response_sample's model, with the ``model_id``,
#: ``tier_index`` and ``dimension`` its fields list; ``init_tier_variation``
#: lists the same model fields.
ADDED_MODEL: dict[str, Any] = {
    "tier_index": [0],
    "model_id": 32341,
    "model_sku": "sku",
    "price_info": [{"original_price": 52.4}],
    "seller_stock": [{"location_id": "-", "stock": 0}],
    "weight": 1.1,
    "dimension": {"package_height": 11, "package_length": 11, "package_width": 11},
}


def test_variation_calls_answer_models_as_the_sample(shop: ShopSession) -> None:
    item_id = shop.add_item(item_sku="TENUN")
    tiers = [
        {"name": "Warna", "option_list": [{"option": "Merah"}, {"option": "Biru"}]}
    ]
    first = {
        "tier_index": [0],
        "original_price": 90_000,
        "model_sku": "R",
        "seller_stock": [{"stock": 2}],
    }
    init = shop.post(
        "/api/v2/product/init_tier_variation",
        {"item_id": item_id, "tier_variation": tiers, "model": [first]},
    ).json()["response"]
    (model,) = init["model"]
    assert_same_shape(model, ADDED_MODEL, "model[0]")
    assert model["price_info"] == [{"original_price": 90_000}]
    added = shop.post(
        "/api/v2/product/add_model",
        {
            "item_id": item_id,
            "model_list": [{**first, "tier_index": [1], "model_sku": "B"}],
        },
    ).json()["response"]
    assert_same_shape(added, {"model": [ADDED_MODEL]})
    assert added["model"][0]["weight"] == 0.3


#: ``v2.product.add_item`` response_sample (``video_info``, ``description_info``
#: and ``complaint_policy`` left out: no video, no extended description, PL only).
#: Its field list names the attributes ``attribute``; the sample, ``attributes``.
ADDED_ITEM: dict[str, Any] = {
    "description": "description",
    "weight": 1,
    "pre_order": {"days_to_ship": 1, "is_pre_order": True},
    "item_name": "Hello Product",
    "images": {"image_id_list": ["-"], "image_url_list": ["-"]},
    "item_status": "NORMAL",
    "price_info": {"current_price": 148.02, "original_price": 148.02},
    "logistic_info": [
        {
            "size_id": 0,
            "shipping_fee": 0.1,
            "enabled": True,
            "logistic_id": 88014,
            "is_free": True,
        }
    ],
    "item_id": 3000142341,
    "attributes": [
        {
            "attribute_id": 4990,
            "attribute_value_list": [
                {
                    "original_value_name": "Samsung ID",
                    "value_id": 32142,
                    "value_unit": "kg",
                }
            ],
        }
    ],
    "category_id": 14695,
    "dimension": {"package_width": 11, "package_length": 11, "package_height": 11},
    "condition": "NEW",
    "wholesale": [{"min_count": 1, "max_count": 100, "unit_price": 13.3}],
    "brand": {"brand_id": 0, "original_brand_name": "nike"},
    "item_dangerous": 0,
    "description_type": "-",
    "seller_stock": [{"location_id": "-", "stock": 0}],
}


def test_add_item_answers_as_the_sample(shop: ShopSession) -> None:
    body = shop.item_body(
        dimension={"package_length": 18, "package_width": 10, "package_height": 6},
        wholesale=[{"min_count": 2, "max_count": 10, "unit_price": 80_000}],
    )
    answer = shop.post("/api/v2/product/add_item", body).json()
    assert answer["error"] == ""
    item = answer["response"]
    # The item's logistics carry the channel's name too, as get_item_base_info
    # shows them; the sample's entry has no name.
    assert item["logistic_info"][0].pop("logistic_name") == "J&T Express"
    assert_same_shape(item, ADDED_ITEM)
    assert item["brand"] == {"brand_id": 0, "original_brand_name": "NoBrand"}
    assert item["attributes"][0]["attribute_id"] == 100_010
