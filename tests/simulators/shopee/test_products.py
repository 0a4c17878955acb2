"""§4 products: create, update, stock and price batches, reading and searching."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.kit.clock import SimClock as SimClockType
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import JPEG, PageClient, ShopSession, error_name

ADD = "/api/v2/product/add_item"
UPDATE = "/api/v2/product/update_item"
STOCK = "/api/v2/product/update_stock"
PRICE = "/api/v2/product/update_price"
LIST = "/api/v2/product/get_item_list"
INFO = "/api/v2/product/get_item_base_info"
SEARCH = "/api/v2/product/search_item"
LIMIT = "/api/v2/product/get_item_limit"


def add_error(shop: ShopSession, **overrides: Any) -> tuple[str, str]:
    answer = shop.post(ADD, shop.item_body(**overrides))
    body = answer.json()
    assert answer.status_code == 400, body
    assert "response" not in body
    return error_name(answer), body["message"]


def stock_row(model_id: int, stock: int, **extra: Any) -> dict[str, Any]:
    return {"model_id": model_id, "seller_stock": [{"stock": stock, **extra}]}


# ---------------------------------------------------------------------- add_item


def test_add_item_returns_the_item_and_ignores_unknown_fields(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    answer = shop.post(
        ADD, shop.item_body(future_field={"x": 1}, seller_stock=[{"stock": 7}])
    )
    body = answer.json()
    assert body["error"] == ""
    item = body["response"]
    assert item["item_status"] == "NORMAL"
    assert item["price_info"] == {"current_price": 85_000, "original_price": 85_000}
    listing = [x for x in sim.inspect_listings() if x["item_id"] == item["item_id"]]
    assert listing == [
        {
            "sku": "KOPI-FLR-001",
            "name": "Kopi Arabika Flores Bajawa 250 g",
            "price": 85_000,
            "stock": 7,
            "seller_stock": 7,
            "reserved_stock": 0,
            "status": "NORMAL",
            "item_id": item["item_id"],
            "model_id": 0,
            "item_sku": "KOPI-FLR-001",
            "shop_id": shop.shop_id,
        }
    ]


def test_add_item_error_names_carry_the_module_prefix(shop: ShopSession) -> None:
    answer = shop.post(ADD, shop.item_body(original_price=85_000.5))
    assert answer.json()["error"] == "product.error_invalid_price"


@pytest.mark.parametrize(
    "missing",
    [
        "item_name",
        "description",
        "category_id",
        "original_price",
        "weight",
        "image",
        "logistic_info",
    ],
)
def test_add_item_required_fields(shop: ShopSession, missing: str) -> None:
    body = shop.item_body()
    del body[missing]
    answer = shop.post(ADD, body)
    assert error_name(answer) == "error_param"
    assert missing in answer.json()["message"]


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"item_name": "   "}, "error_item_name_empty"),
        ({"item_name": "Kopi"}, "error_item_name_is_too_short"),
        ({"item_name": "K" * 256}, "error_title_exceeds_max_length"),
        ({"item_name": "Kopi <b>Flores</b> Bajawa"}, "error_title_character_forbidden"),
        ({"description": "Kopi enak."}, "error_desc_length_min_limit"),
        ({"category_id": 999_999}, "error_invalid_category"),
        ({"category_id": 100_000}, "error_invalid_category"),
        ({"category_id": 100_009}, "error_category_is_block"),
        ({"original_price": 85_000.5}, "error_invalid_price"),
        ({"original_price": "85000"}, "error_invalid_price"),
        ({"original_price": 99}, "error_price_exceed_min_limitt"),
        ({"original_price": 150_000_001}, "error_price_exceed_max_limitt"),
        (
            {"pre_order": {"is_pre_order": False, "days_to_ship": 4}},
            "error_param_dts_exceeds_max_limit",
        ),
        (
            {"pre_order": {"is_pre_order": True, "days_to_ship": 31}},
            "error_param_dts_exceeds_max_limit",
        ),
        (
            {"wholesale": [{"min_count": 5, "max_count": 10, "unit_price": 90_000}]},
            "error_whole_sale_price_setting_incorrect",
        ),
    ],
)
def test_add_item_validation_errors(
    shop: ShopSession, override: dict[str, Any], error: str
) -> None:
    assert add_error(shop, **override)[0] == error


def test_limits_at_the_edges_pass(shop: ShopSession) -> None:
    shop.add_item(original_price=100, item_name="K" * 10)
    shop.add_item(original_price=150_000_000, item_name="K" * 255, item_sku="B")
    shop.add_item(original_price=85_000.0, item_sku="C")  # a whole value typed float
    shop.add_item(pre_order={"is_pre_order": True, "days_to_ship": 30}, item_sku="D")
    shop.add_item(
        wholesale=[
            {"min_count": 5, "max_count": 10, "unit_price": 80_000},
            {"min_count": 11, "max_count": 50, "unit_price": 75_000},
        ],
        item_sku="E",
    )


def test_weight_dimension_and_image_messages(shop: ShopSession) -> None:
    assert add_error(shop, weight=0) == ("error_param", "Invalid Weight.")
    assert add_error(shop, image={"image_id_list": ["id-not-uploaded"]}) == (
        "error_param",
        "Image not exist.",
    )
    wood = {
        "category_id": 100_003,
        "attribute_list": [
            {"attribute_id": 100_020, "attribute_value_list": [{"value_id": 3_003}]}
        ],
    }
    assert add_error(shop, **wood) == ("error_param", "dimension is required")
    dimension = {"package_length": 30, "package_width": 20, "package_height": 10}
    shop.add_item(**wood, dimension=dimension, item_sku="KAYU-1")


def test_image_count_follows_the_limit(shop: ShopSession, api: PageClient) -> None:
    images = [api.upload_image() for _ in range(10)]
    assert add_error(shop, image={"image_id_list": []})[0] == "error_param"
    assert add_error(shop, image={"image_id_list": images})[0] == "error_param"
    shop.add_item(image={"image_id_list": images[:9]})


def test_indonesian_items_need_attributes(shop: ShopSession) -> None:
    assert add_error(shop, attribute_list=[])[0] == "error_param"
    optional_only = [
        {"attribute_id": 100_011, "attribute_value_list": [{"value_id": 2_001}]}
    ]
    name, message = add_error(shop, attribute_list=optional_only)
    assert name == "error_param"
    assert "100010" in message
    foreign = [{"attribute_id": 100_020, "attribute_value_list": [{"value_id": 3_001}]}]
    assert add_error(shop, attribute_list=foreign)[0] == "error_param"


def test_category_and_attribute_fixtures_are_served(shop: ShopSession) -> None:
    categories = shop.get("/api/v2/product/get_category").json()["response"]
    ids = {c["category_id"] for c in categories["category_list"]}
    assert {100_001, 100_002, 100_003} <= ids
    attributes = shop.get(
        "/api/v2/product/get_attributes", {"category_id": 100_001}
    ).json()["response"]["attribute_list"]
    mandatory = {a["attribute_id"] for a in attributes if a["is_mandatory"]}
    assert mandatory == {100_010}
    channels = shop.get("/api/v2/logistics/get_channel_list").json()["response"]
    assert 8_003 in {
        c["logistics_channel_id"] for c in channels["logistics_channel_list"]
    }


def test_get_item_limit_serves_the_limits_it_enforces(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    limits = shop.get(LIMIT, {"category_id": 100_001}).json()["response"]
    assert limits["price_limit"] == {"min_limit": 100, "max_limit": 150_000_000}
    assert limits["stock_limit"] == {"min_limit": 0, "max_limit": 999_999}
    assert limits["item_name_length_limit"] == {"min_limit": 10, "max_limit": 255}
    assert limits["item_image_count_limit"] == {"min_limit": 1, "max_limit": 9}
    assert limits["item_description_length_limit"] == {
        "min_limit": 20,
        "max_limit": 3000,
    }
    assert limits["item_count_limit"] == {"max_limit": 1000}
    assert limits["weight_limit"] == {"weight_mandatory": True}
    assert limits["dimension_limit"] == {"dimension_mandatory": False}
    wood = shop.get(LIMIT, {"category_id": 100_003}).json()["response"]
    assert wood["dimension_limit"] == {"dimension_mandatory": True}
    sim.item_limits["price_limit"]["min_limit"] = 1_000
    served = shop.get(LIMIT).json()["response"]["price_limit"]
    assert served["min_limit"] == 1_000
    assert add_error(shop, original_price=999)[0] == "error_price_exceed_min_limitt"


def test_shop_item_count_limit(shop: ShopSession, sim: ShopeeSimulator) -> None:
    sim.item_limits["item_count_limit"]["max_limit"] = 2
    first = shop.add_item(item_sku="A")
    shop.add_item(item_sku="B")
    assert add_error(shop, item_sku="C")[0] == "error_reach_shop_item_limit"
    assert (
        shop.post("/api/v2/product/delete_item", {"item_id": first}).json()["error"]
        == ""
    )
    shop.add_item(item_sku="C")


def test_upload_image_rules(api: PageClient) -> None:
    not_image = api.public(
        "POST",
        "/api/v2/media_space/upload_image",
        files=[("image", ("a.gif", b"GIF89a....", "image/gif"))],
    )
    assert not_image.json()["error"] == "error_param"
    nine = api.public(
        "POST",
        "/api/v2/media_space/upload_image",
        files=[("image", (f"{i}.jpg", JPEG, "image/jpeg")) for i in range(9)],
    )
    assert nine.json()["error"] == "error_param"
    mixed = api.public(
        "POST",
        "/api/v2/media_space/upload_image",
        files=[
            ("image", ("a.jpg", JPEG, "image/jpeg")),
            ("image", ("b.png", b"\x89PNG\r\n\x1a\n0000", "image/png")),
            ("image", ("c.txt", b"hello", "text/plain")),
        ],
    ).json()
    assert mixed["error"] == ""
    results = mixed["response"]["image_info_list"]
    assert [r["error"] for r in results] == ["", "", "error_param"]
    assert mixed["response"]["image_info"] == results[0]["image_info"]


# ---------------------------------------------------------------------- update_item


def test_update_item_refuses_price_and_stock(shop: ShopSession) -> None:
    item_id = shop.add_item()
    for field, value in (("original_price", 90_000), ("seller_stock", [{"stock": 1}])):
        answer = shop.post(UPDATE, {"item_id": item_id, field: value})
        assert answer.status_code == 400
        assert error_name(answer) == "error_param"
        assert field in answer.json()["message"]
    info = shop.base_info(item_id)
    assert info["price_info"][0]["original_price"] == 85_000


def test_update_item_changes_only_what_is_sent(shop: ShopSession) -> None:
    item_id = shop.add_item()
    answer = shop.post(
        UPDATE,
        {
            "item_id": item_id,
            "item_name": "Kopi Arabika Flores Bajawa 500 g",
            "item_sku": "KOPI-FLR-500",
            "item_status": "UNLIST",
            "ignored_new_field": True,
        },
    )
    assert answer.json()["error"] == ""
    info = shop.base_info(item_id)
    assert info["item_name"] == "Kopi Arabika Flores Bajawa 500 g"
    assert info["item_status"] == "UNLIST"
    assert info["description"].startswith("Kopi arabika dari Bajawa")
    found = shop.get(SEARCH, {"item_sku": "KOPI-FLR-500"}).json()["response"]
    assert found["item_id_list"] == [item_id]
    old = shop.get(SEARCH, {"item_sku": "KOPI-FLR-001"}).json()["response"]
    assert old["item_id_list"] == []
    assert error_name(shop.post(UPDATE, {"item_id": item_id, "item_name": "X"})) == (
        "error_item_name_is_too_short"
    )


def test_update_item_of_another_shop_or_unknown(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    other = api.session(int(sim.credentials()["other_shop_id"]))
    theirs = other.add_item()
    answer = shop.post(
        UPDATE, {"item_id": theirs, "item_name": "Kain Tenun Ikat Sintang"}
    )
    assert answer.json()["error"] == "product.error_item_not_belong_shop"
    answer = shop.post(UPDATE, {"item_id": 42, "item_name": "Kain Tenun Ikat Sintang"})
    assert answer.json()["error"] == "product.error_item_not_found"


# ---------------------------------------------------------------------- stock, price


def test_update_stock_batch_limit(shop: ShopSession) -> None:
    item_id = shop.add_variant_item(51)
    models = [m["model_id"] for m in shop.models(item_id)]
    assert len(models) == 51
    at_limit = shop.post(
        STOCK,
        {"item_id": item_id, "stock_list": [stock_row(m, 9) for m in models[:50]]},
    )
    assert at_limit.json()["error"] == ""
    assert len(at_limit.json()["response"]["success_list"]) == 50
    over = shop.post(
        STOCK, {"item_id": item_id, "stock_list": [stock_row(m, 8) for m in models]}
    )
    assert over.status_code == 400
    assert error_name(over) == "error_param"
    empty = shop.post(STOCK, {"item_id": item_id, "stock_list": []})
    assert error_name(empty) == "error_param"
    stocks = {m["model_id"]: m["stock_info_v2"] for m in shop.models(item_id)}
    assert stocks[models[0]]["seller_stock"][0]["stock"] == 9
    assert stocks[models[50]]["seller_stock"][0]["stock"] == 5


def test_update_price_batch_limit(shop: ShopSession) -> None:
    item_id = shop.add_variant_item(51)
    models = [m["model_id"] for m in shop.models(item_id)]
    rows = [{"model_id": m, "original_price": 160_000} for m in models]
    at_limit = shop.post(PRICE, {"item_id": item_id, "price_list": rows[:50]})
    assert len(at_limit.json()["response"]["success_list"]) == 50
    over = shop.post(PRICE, {"item_id": item_id, "price_list": rows})
    assert error_name(over) == "error_param"
    prices = {
        m["model_id"]: m["price_info"][0]["original_price"]
        for m in shop.models(item_id)
    }
    assert prices[models[49]] == 160_000
    assert prices[models[50]] == 150_000


def test_update_stock_request_level_errors(
    sim: ShopeeSimulator, api: PageClient, shop: ShopSession
) -> None:
    item_id = shop.add_item()
    repeat = shop.post(
        STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 1), stock_row(0, 2)]}
    )
    assert (error_name(repeat), repeat.json()["message"]) == (
        "error_param",
        "Repeat model_id.",
    )
    missing = shop.post(STOCK, {"item_id": 1, "stock_list": [stock_row(0, 1)]})
    assert missing.json()["error"] == "product.error_item_not_found"
    other = api.session(int(sim.credentials()["other_shop_id"]))
    theirs = other.add_item()
    foreign = shop.post(STOCK, {"item_id": theirs, "stock_list": [stock_row(0, 1)]})
    assert foreign.json()["error"] == "product.error_item_not_belong_shop"
    sim.set_holiday_mode(True, shop.shop_id)
    holiday = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 1)]})
    assert holiday.json()["error"] == "product.error_holiday_mode_change_stock"
    sim.set_holiday_mode(False, shop.shop_id)
    sim.set_fbs(True, shop.shop_id)
    fbs = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 1)]})
    assert error_name(fbs) == "error_wms_shop_block_upate_stock"
    sim.set_fbs(False, shop.shop_id)
    assert shop.base_info(item_id)["stock_info_v2"]["seller_stock"][0]["stock"] == 10


def test_multi_warehouse_shop_needs_location_id(
    sim: ShopeeSimulator, shop: ShopSession
) -> None:
    item_id = shop.add_item()
    sim.set_warehouses(["IDG", "IDH"], shop.shop_id)
    lacking = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 3)]})
    assert error_name(lacking) == "error_param"
    assert lacking.json()["message"].startswith("Lack of location_id")
    answer = shop.post(
        STOCK,
        {
            "item_id": item_id,
            "stock_list": [
                {
                    "model_id": 0,
                    "seller_stock": [
                        {"location_id": "IDG", "stock": 3},
                        {"location_id": "IDH", "stock": 4},
                    ],
                }
            ],
        },
    )
    assert answer.json()["error"] == ""
    success = answer.json()["response"]["success_list"]
    assert {(s["location_id"], s["stock"]) for s in success} == {("IDG", 3), ("IDH", 4)}
    unknown = shop.post(
        STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 1, location_id="IDX")]}
    )
    assert unknown.json()["error"] == "product.error_busi_update_stock_failed"


def test_update_stock_partial_success(shop: ShopSession, sim: ShopeeSimulator) -> None:
    item_id = shop.add_variant_item(3)
    m1, m2, m3 = (m["model_id"] for m in shop.models(item_id))
    sim.set_promotion(item_id, m2, stock_locked=True, price_locked=False)
    sim.faults.fail_items("product.update_stock", [f"{item_id}:{m3}"], "system busy")
    answer = shop.post(
        STOCK,
        {
            "item_id": item_id,
            "stock_list": [
                stock_row(m1, 4),
                stock_row(m2, 4),
                stock_row(m3, 4),
                stock_row(12345, 4),
            ],
        },
    )
    body = answer.json()
    assert answer.status_code == 200
    assert body["error"] == ""
    assert body["response"]["success_list"] == [
        {"model_id": m1, "location_id": "IDZ", "stock": 4}
    ]
    reasons = {
        f["model_id"]: f["failed_reason"] for f in body["response"]["failure_list"]
    }
    assert reasons[12345] == "Wrong model_id."
    assert reasons[m2].startswith("error_cannt_edit_stock_in_promotion")
    assert reasons[m3] == "system busy"
    stock = {
        m["model_id"]: m["stock_info_v2"]["seller_stock"][0]["stock"]
        for m in shop.models(item_id)
    }
    assert stock == {m1: 4, m2: 5, m3: 5}


def test_update_stock_all_failed(shop: ShopSession) -> None:
    item_id = shop.add_item()
    answer = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(7, 1)]})
    body = answer.json()
    assert answer.status_code == 400
    assert body["error"] == "product.error_busi_update_stock_failed"
    assert body["response"]["failure_list"] == [
        {"model_id": 7, "failed_reason": "Wrong model_id."}
    ]


def test_stock_cannot_go_below_reserved(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    item_id = shop.add_item(seller_stock=[{"stock": 10}])
    assert sim.place_order(f"{item_id}:0", 4, "buyer-1")
    sim.set_promotion(item_id, 0, stock_locked=False, price_locked=False, reserved=2)
    below = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 5)]})
    assert below.json()["error"] == "product.error_busi_update_stock_failed"
    assert below.json()["response"]["failure_list"][0]["failed_reason"] == (
        "Total stock must be more than reserved stock."
    )
    equal = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 6)]})
    assert equal.json()["error"] == ""
    summary = shop.base_info(item_id)["stock_info_v2"]["summary_info"]
    assert summary == {"total_reserved_stock": 6, "total_available_stock": 0}


def test_update_price_rules(shop: ShopSession, sim: ShopeeSimulator) -> None:
    item_id = shop.add_variant_item(3)
    m1, m2, m3 = (m["model_id"] for m in shop.models(item_id))
    sim.set_promotion(item_id, m3, stock_locked=False, price_locked=True)
    answer = shop.post(
        PRICE,
        {
            "item_id": item_id,
            "price_list": [
                {"model_id": m1, "original_price": 175_000},
                {"model_id": m2, "original_price": 175_000.5},
                {"model_id": m3, "original_price": 175_000},
                {"model_id": 1, "original_price": 175_000},
            ],
        },
    ).json()
    assert answer["error"] == ""
    assert answer["response"]["success_list"] == [
        {"model_id": m1, "original_price": 175_000}
    ]
    reasons = {
        f["model_id"]: f["failed_reason"] for f in answer["response"]["failure_list"]
    }
    assert reasons[m2].startswith("error_invalid_price")
    assert reasons[m3].startswith("error_cannot_update_price_in_promotion")
    assert reasons[1] == "Wrong model_id."
    repeat = shop.post(
        PRICE,
        {
            "item_id": item_id,
            "price_list": [{"model_id": m1, "original_price": 1_000}] * 2,
        },
    )
    assert repeat.json()["message"] == "Repeat model_id."
    low = shop.post(
        PRICE,
        {"item_id": item_id, "price_list": [{"model_id": m1, "original_price": 50}]},
    ).json()
    assert low["response"]["failure_list"][0]["failed_reason"].startswith(
        "error_price_exceed_min_limitt"
    )


def test_price_below_wholesale_is_refused(shop: ShopSession) -> None:
    item_id = shop.add_item(
        wholesale=[{"min_count": 5, "max_count": 10, "unit_price": 80_000}]
    )
    answer = shop.post(
        PRICE,
        {"item_id": item_id, "price_list": [{"model_id": 0, "original_price": 80_000}]},
    ).json()
    reason = answer["response"]["failure_list"][0]["failed_reason"]
    assert reason.startswith("error_busi_price_lower_then_wholesale_price")


# ---------------------------------------------------------------------- reading


def test_model_zero_for_items_without_variants(shop: ShopSession) -> None:
    item_id = shop.add_item()
    assert shop.get("/api/v2/product/get_model_list", {"item_id": item_id}).json()[
        "response"
    ] == {"tier_variation": [], "model": []}
    info = shop.base_info(item_id)
    assert info["has_model"] is False
    assert info["price_info"] == [
        {"currency": "IDR", "original_price": 85_000, "current_price": 85_000}
    ]
    ok = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 3)]})
    assert ok.json()["response"]["success_list"][0]["model_id"] == 0


def test_items_with_models_have_no_item_price(shop: ShopSession) -> None:
    item_id = shop.add_variant_item(2)
    info = shop.base_info(item_id)
    assert info["has_model"] is True
    assert "price_info" not in info
    models = shop.models(item_id)
    assert [m["model_sku"] for m in models] == ["TENUN-000", "TENUN-001"]
    assert models[0]["price_info"][0]["original_price"] == 150_000
    zero = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 3)]})
    assert zero.json()["response"]["failure_list"][0]["failed_reason"] == (
        "Wrong model_id."
    )


def test_get_item_base_info_takes_at_most_50_ids(shop: ShopSession) -> None:
    ids = [shop.add_item(item_sku=f"S{n}") for n in range(3)]
    fifty = ",".join(str(i) for i in (ids * 17)[:50])
    answer = shop.get(INFO, {"item_id_list": fifty}).json()
    assert answer["error"] == ""
    fifty_one = ",".join(str(i) for i in (ids * 17)[:51])
    assert error_name(shop.get(INFO, {"item_id_list": fifty_one})) == "error_param"
    assert error_name(shop.get(INFO, {"item_id_list": ""})) == "error_param"


def test_get_item_list_rules_and_paging(
    shop: ShopSession, sim: ShopeeSimulator
) -> None:
    ids = [shop.add_item(item_sku=f"S{n}") for n in range(25)]
    sim.change_item_status(ids[0], "BANNED")
    shop.post(UPDATE, {"item_id": ids[1], "item_status": "UNLIST"})
    assert error_name(shop.get(LIST, {"page_size": 10})) == "error_param"
    for size in (0, 101):
        answer = shop.get(
            LIST, {"item_status": "NORMAL", "offset": 0, "page_size": size}
        )
        assert error_name(answer) == "error_param"
    seen: list[int] = []
    offset = 0
    while True:
        page = shop.get(
            LIST,
            [
                ("item_status", "NORMAL"),
                ("item_status", "BANNED"),
                ("offset", offset),
                ("page_size", 10),
            ],
        ).json()["response"]
        seen.extend(row["item_id"] for row in page["item"])
        assert page["total_count"] == 24
        if not page["has_next_page"]:
            break
        offset = page["next_offset"]
    assert sorted(seen) == sorted(i for i in ids if i != ids[1])
    unlisted = shop.get(
        LIST, {"item_status": "UNLIST", "offset": 0, "page_size": 100}
    ).json()
    assert [row["item_id"] for row in unlisted["response"]["item"]] == [ids[1]]


def test_get_item_list_offset_ceiling(shop: ShopSession) -> None:
    shop.add_item()
    fits = shop.get(LIST, {"item_status": "NORMAL", "offset": 9_900, "page_size": 100})
    assert fits.json()["error"] == ""
    over = shop.get(LIST, {"item_status": "NORMAL", "offset": 9_901, "page_size": 100})
    assert (
        over.json()["message"]
        == "get items offset over limit, please use the next field"
    )


def test_search_item_by_sku_finds_duplicates(shop: ShopSession) -> None:
    first = shop.add_item(item_sku="DUP")
    second = shop.add_item(item_sku="DUP")
    shop.add_item(item_sku="OTHER")
    found = shop.get(SEARCH, {"item_sku": "DUP", "page_size": 10}).json()["response"]
    assert found["item_id_list"] == [first, second]
    assert found["total_count"] == 2
    by_name = shop.get(SEARCH, {"item_name": "bajawa"}).json()["response"]
    assert by_name["total_count"] == 3
    assert error_name(shop.get(SEARCH, {"page_size": 10})) == "error_param"


def test_delete_hides_the_item(shop: ShopSession, sim: ShopeeSimulator) -> None:
    item_id = shop.add_item()
    shop.post("/api/v2/product/delete_item", {"item_id": item_id})
    assert all(x["item_id"] != item_id for x in sim.inspect_listings())
    answer = shop.post(STOCK, {"item_id": item_id, "stock_list": [stock_row(0, 1)]})
    assert answer.json()["error"] == "product.error_item_not_found"
    deleted = shop.get(
        LIST, {"item_status": "SELLER_DELETE", "offset": 0, "page_size": 10}
    ).json()
    assert [row["item_id"] for row in deleted["response"]["item"]] == [item_id]


def test_variant_rules(shop: ShopSession) -> None:
    item_id = shop.add_item()
    bad = shop.post(
        "/api/v2/product/init_tier_variation",
        {
            "item_id": item_id,
            "tier_variation": [{"name": "W" * 21, "option_list": [{"option": "A"}]}],
            "model": [{"tier_index": [0], "original_price": 1_000}],
        },
    )
    assert error_name(bad) == "error_param"
    good = shop.post(
        "/api/v2/product/init_tier_variation",
        {
            "item_id": item_id,
            "tier_variation": [
                {
                    "name": "Warna",
                    "option_list": [{"option": "Merah"}, {"option": "Biru"}],
                }
            ],
            "model": [
                {
                    "tier_index": [0],
                    "original_price": 90_000,
                    "model_sku": "R",
                    "seller_stock": [{"stock": 2}],
                }
            ],
        },
    ).json()
    assert good["error"] == ""
    added = shop.post(
        "/api/v2/product/add_model",
        {
            "item_id": item_id,
            "model_list": [
                {"tier_index": [1], "original_price": 90_000, "model_sku": "B"}
            ],
        },
    ).json()
    assert added["error"] == ""
    again = shop.post(
        "/api/v2/product/add_model",
        {
            "item_id": item_id,
            "model_list": [{"tier_index": [1], "original_price": 1_000}],
        },
    )
    assert error_name(again) == "error_param"
    assert [(m["model_sku"], m["tier_index"]) for m in shop.models(item_id)] == [
        ("R", [0]),
        ("B", [1]),
    ]


def test_unknown_fields_are_ignored_in_batches(shop: ShopSession) -> None:
    item_id = shop.add_item()
    stock = shop.post(
        STOCK,
        {
            "item_id": item_id,
            "request_tag": "ikm-sync",
            "stock_list": [
                {"model_id": 0, "note": "x", "seller_stock": [{"stock": 4, "memo": 1}]}
            ],
        },
    )
    assert stock.json()["error"] == ""
    price = shop.post(
        PRICE,
        {
            "item_id": item_id,
            "price_list": [
                {"model_id": 0, "original_price": 90_000, "currency": "IDR"}
            ],
            "extra": [],
        },
    )
    assert price.json()["response"]["success_list"] == [
        {"model_id": 0, "original_price": 90_000}
    ]
    missing = shop.post(STOCK, {"item_id": item_id, "stock_list": [{"model_id": 0}]})
    assert error_name(missing) == "error_param"


def test_get_item_list_update_time_filter(
    shop: ShopSession, clock: SimClockType
) -> None:
    early = shop.add_item(item_sku="EARLY")
    clock.advance(hours=1)
    late = shop.add_item(item_sku="LATE")
    since = clock.timestamp()
    clock.advance(hours=1)
    shop.post(UPDATE, {"item_id": early, "item_name": "Kopi Arabika Flores Baru 250 g"})
    page = shop.get(
        LIST,
        {
            "item_status": "NORMAL",
            "offset": 0,
            "page_size": 10,
            "update_time_from": since + 1,
        },
    ).json()["response"]
    assert [row["item_id"] for row in page["item"]] == [early]
    assert page["total_count"] == 1
    upto = shop.get(
        LIST,
        {
            "item_status": "NORMAL",
            "offset": 0,
            "page_size": 10,
            "update_time_to": since,
        },
    ).json()["response"]
    assert [row["item_id"] for row in upto["item"]] == [late]
