"""§5 products: create, edit, stock, price, active/inactive, product info."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulators.tokopedia.conftest import Toko, error, ok, valid_row

# ------------------------------------------------------------------ create (§5.1)


def test_create_returns_per_row_results_and_the_product_exists(toko: Toko) -> None:
    data = ok(toko.create([valid_row(), valid_row(sku="BTK-002", price=99)]))
    assert data["total_data"] == 2
    assert data["success_data"] == 1
    assert data["fail_data"] == 1
    product_id = data["success_rows_data"][0]["product_id"]
    failed = data["failed_rows_data"][0]
    assert failed["sku"] == "BTK-002"
    assert failed["product_price"] == 99
    assert failed["product_name"] == "Batik Tulis Pekalongan"
    assert any("price" in message for message in failed["error"])
    [item] = ok(toko.info({"product_id": product_id}))
    assert item["basic"]["productID"] == product_id
    assert item["basic"]["Name"] == "Batik Tulis Pekalongan"
    assert item["basic"]["childCategoryID"] == 1791
    assert item["price"]["value"] == 150_000
    assert item["stock"]["value"] == 10
    assert item["other"]["sku"] == "BTK-001"
    assert [p["sku"] for p in toko.sim.inspect_listings()] == ["BTK-001"]


BAD_ROWS: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"),
    ({"name": "x" * 71}, "name"),
    ({"name": "   "}, "name"),
    ({"category_id": None}, "category_id"),
    ({"category_id": 1787}, "category_id"),  # a parent, not a leaf
    ({"category_id": 4242}, "category_id"),  # not in the fixture
    ({"price": None}, "price"),
    ({"price": 99}, "price"),
    ({"price": 100_000_001}, "price"),
    ({"price": 1000.5}, "price"),
    ({"price": "1000"}, "price"),
    ({"price_currency": None}, "price_currency"),
    ({"price_currency": "EUR"}, "price_currency"),
    ({"status": None}, "status"),
    ({"status": "ACTIVE"}, "status"),
    ({"weight": None}, "weight"),
    ({"weight": 0}, "weight"),
    ({"weight_unit": None}, "weight_unit"),
    ({"weight_unit": "LB"}, "weight_unit"),
    ({"condition": None}, "condition"),
    ({"condition": "BROKEN"}, "condition"),
    ({"min_order": None}, "min_order"),
    ({"min_order": 0}, "min_order"),
    ({"dimension": {"height": 10, "width": 5}}, "dimension"),
    ({"dimension": {"height": 10, "width": 5, "length": -1}}, "dimension"),
    ({"sku": "S" * 51}, "sku"),
    ({"description": "d" * 2001}, "description"),
    ({"pictures": []}, "pictures"),
    (
        {"pictures": [{"file_path": f"https://e.com/{i}.jpg"} for i in range(6)]},
        "pictures",
    ),
    ({"pictures": [{"url": "https://e.com/1.jpg"}]}, "picture"),
    ({"stock": -1}, "stock"),
    ({"stock": 1_000_000}, "stock"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_ROWS)
def test_create_validation_rules_fail_the_row(
    toko: Toko, overrides: dict[str, Any], field: str
) -> None:
    row = valid_row(**{k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            row.pop(key)
    data = ok(toko.create([row]))
    assert data["success_data"] == 0
    [failed] = data["failed_rows_data"]
    assert any(field in message for message in failed["error"]), failed
    assert toko.sim.inspect_listings() == []


GOOD_ROWS: list[dict[str, Any]] = [
    {"name": "x" * 70},
    {"price": 100},
    {"price": 100_000_000},
    {"price_currency": "USD"},
    {"status": "UNLIMITED"},
    {"status": "EMPTY"},
    {"weight_unit": "KG", "weight": 0.3},
    {"condition": "USED"},
    {"sku": "S" * 50},
    {"description": "d" * 2000},
    {"dimension": {"height": 10, "width": 5, "length": 2}},
    {"dimension": {}},
    {"pictures": [{"file_path": f"https://e.com/{i}.jpg"} for i in range(5)]},
    {"stock": 0},
    {"stock": 999_999},
    {"category_id": 2301},
]


@pytest.mark.parametrize("overrides", GOOD_ROWS)
def test_create_accepts_values_at_the_limits(
    toko: Toko, overrides: dict[str, Any]
) -> None:
    data = ok(toko.create([valid_row(**overrides)]))
    assert data["success_data"] == 1, data["failed_rows_data"]


def test_create_ignores_unknown_fields(toko: Toko) -> None:
    row = valid_row(colour="merah", wholesale=[{"min_qty": 5, "price": 140_000}])
    data = ok(toko.create([row], client_note="not in the API"))
    assert data["success_data"] == 1


def test_create_batch_limit_is_20(toko: Toko) -> None:
    rows = [valid_row(sku=f"B-{i}", name=f"Batik {i}") for i in range(21)]
    error(toko.create(rows), 400, "PRD_DLV_043")
    assert toko.sim.inspect_listings() == []
    assert ok(toko.create(rows[:20]))["success_data"] == 20
    error(toko.create([]), 400, "PRD_DLV_043")


def test_create_body_must_be_the_documented_json(toko: Toko) -> None:
    path = f"/v3/products/fs/{toko.fs_id}/create"
    params = {"shop_id": toko.shop_id}
    error(
        toko.call("POST", path, params=params, body=[valid_row()]), 400, "PRD_DLV_038"
    )
    error(toko.call("POST", path, params=params), 400, "PRD_DLV_038")
    raw = toko.http.post(
        f"https://fs.tokopedia.net{path}",
        params=params,
        content=b"{not json",
        headers={"Authorization": f"Bearer {toko.token}"},
    )
    error(raw, 400, "PRD_DLV_038")
    error(toko.call("POST", path, body={"products": []}), 400, "PRD_DLV_042")


def test_duplicate_sku_in_a_shop_fails_the_row(toko: Toko) -> None:
    ok(toko.create([valid_row()]))
    data = ok(toko.create([valid_row(name="Lain")]))
    assert data["fail_data"] == 1
    assert "sku" in data["failed_rows_data"][0]["error"][0]


def test_stock_zero_on_create_makes_the_product_empty(toko: Toko) -> None:
    ok(toko.create([valid_row(stock=0)]))
    [listing] = toko.sim.inspect_listings()
    assert listing["status"] == "empty"
    assert toko.sim.buyable_listings() == []


# ------------------------------------------------------------------ edit (§5.2)


def test_edit_changes_only_the_fields_sent(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="E-1", name="Kopi Gayo").product_id
    data = ok(toko.edit([{"id": product_id, "price": 55_000, "description": "baru"}]))
    assert data["success_data"] == 1
    [item] = ok(toko.info({"product_id": product_id}))
    assert item["price"]["value"] == 55_000
    assert item["basic"]["Name"] == "Kopi Gayo"
    assert item["other"]["sku"] == "E-1"


def test_edit_name_is_locked_once_the_product_has_an_order(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="E-2", name="Kopi Gayo").product_id
    ok(toko.edit([{"id": product_id, "name": "Kopi Gayo Arabika"}]))
    toko.paid_order(product_id)
    data = ok(toko.edit([{"id": product_id, "name": "Kopi Toraja"}]))
    assert data["fail_data"] == 1
    assert "name" in data["failed_rows_data"][0]["error"][0]
    same = ok(
        toko.edit([{"id": product_id, "name": "Kopi Gayo Arabika", "price": 60_000}])
    )
    assert same["success_data"] == 1
    assert toko.sim.inspect_listings()[0]["name"] == "Kopi Gayo Arabika"


def test_edit_of_an_inactive_product_is_refused(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="E-3").product_id
    ok(toko.set_active([product_id], active=False))
    header = error(toko.edit([{"id": product_id, "price": 20_000}]), 400, "PRD_USC_028")
    assert str(product_id) in header["reason"]
    assert toko.sim.inspect_listings()[0]["price"] == 10_000


def test_edit_rows_validate_and_unknown_ids_fail(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="E-4").product_id
    data = ok(
        toko.edit(
            [
                {"id": product_id, "price": 50},
                {"id": 1, "price": 5_000},
                {"id": product_id, "sku": "E-4b", "stock": 0},
            ]
        )
    )
    assert data["success_data"] == 1
    assert data["failed_rows_data"][1]["error"] == ["Invalid Product ID."]
    [listing] = toko.sim.inspect_listings()
    assert (listing["sku"], listing["stock"], listing["status"]) == ("E-4b", 0, "empty")
    assert ok(toko.info({"sku": "E-4b"}))[0]["basic"]["productID"] == product_id
    assert ok(toko.info({"sku": "E-4"})) == []


def test_edit_batch_limit_is_20(toko: Toko) -> None:
    ids = [toko.sim.seed_product(sku=f"E-{i}").product_id for i in range(21)]
    rows = [{"id": i, "price": 12_000} for i in ids]
    error(toko.edit(rows), 400, "PRD_DLV_043")
    assert ok(toko.edit(rows[:20]))["success_data"] == 20


# ------------------------------------------------------------------ stock and price


def test_stock_update_by_sku_or_product_id_with_row_failures(toko: Toko) -> None:
    a = toko.sim.seed_product(sku="A", name="A").product_id
    b = toko.sim.seed_product(sku="B", name="B").product_id
    data = ok(
        toko.stock(
            [
                {"sku": "A", "product_id": b, "new_stock": 7},  # sku wins
                {"product_id": b, "new_stock": 40},
                {"sku": "NOPE", "product_id": a, "new_stock": 3},
                {"product_id": 151231699, "new_stock": 40},
                {"sku": "A", "new_stock": -5},
            ]
        )
    )
    assert data["succeed_rows"] == 2
    assert data["failed_rows"] == 3
    messages = [row["message"] for row in data["failed_rows_data"]]
    assert messages == ["Invalid SKU.", "Invalid Product ID.", "Invalid Stock."]
    assert data["failed_rows_data"][1]["product_id"] == 151231699
    assert data["failed_rows_data"][1]["new_stock"] == 40
    stocks = {p["sku"]: p["stock"] for p in toko.sim.inspect_listings()}
    assert stocks == {"A": 7, "B": 40}


def test_stock_zero_makes_the_product_empty_unless_bypassed(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="Z").product_id
    ok(toko.stock([{"sku": "Z", "new_stock": 0}]))
    [item] = ok(toko.info({"product_id": product_id}))
    assert item["basic"]["status"] == 3
    assert item["stock"]["value"] == 0
    assert toko.sim.inspect_listings()[0]["status"] == "empty"
    ok(toko.stock([{"sku": "Z", "new_stock": 4}]))
    assert ok(toko.info({"product_id": product_id}))[0]["basic"]["status"] == 1
    assert toko.sim.buyable_listings() == [(str(product_id), 4)]
    ok(toko.stock([{"sku": "Z", "new_stock": 0}], bypass_update_product_status="true"))
    listing = toko.sim.inspect_listings()[0]
    assert (listing["status"], listing["stock_status"]) == ("active", "LIMITED")
    assert toko.sim.buyable_listings() == []


def test_stock_and_price_batch_limit_is_100(toko: Toko) -> None:
    for i in range(101):
        toko.sim.seed_product(sku=f"S-{i}")
    stock_rows = [{"sku": f"S-{i}", "new_stock": 3} for i in range(101)]
    price_rows = [{"sku": f"S-{i}", "new_price": 9_000} for i in range(101)]
    error(toko.stock(stock_rows), 400, "PRD_DLV_043")
    error(toko.price(price_rows), 400, "PRD_DLV_043")
    assert {p["stock"] for p in toko.sim.inspect_listings()} == {10}
    assert ok(toko.stock(stock_rows[:100]))["succeed_rows"] == 100
    assert ok(toko.price(price_rows[:100]))["succeed_rows"] == 100
    error(toko.stock([]), 400, "PRD_DLV_043")


def test_price_update_rows(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="P").product_id
    toko.clock.advance(60)
    data = ok(
        toko.price(
            [
                {"product_id": product_id, "new_price": 25_000, "note": "ignored"},
                {"sku": "P", "new_price": 99},
                {"sku": "Q", "new_price": 1_000},
            ]
        )
    )
    assert [r["message"] for r in data["failed_rows_data"]] == [
        "Invalid Price.",
        "Invalid SKU.",
    ]
    [item] = ok(toko.info({"product_id": product_id}))
    assert item["price"]["value"] == 25_000
    assert item["price"]["LastUpdateUnix"] == toko.clock.timestamp()


def test_stock_body_must_be_an_array(toko: Toko) -> None:
    path = f"/inventory/v1/fs/{toko.fs_id}/stock/update"
    answer = toko.call(
        "POST", path, params={"shop_id": toko.shop_id}, body={"sku": "A"}
    )
    error(answer, 400, "PRD_DLV_038")
    missing_shop = toko.call("POST", path, body=[{"sku": "A", "new_stock": 1}])
    error(missing_shop, 400, "PRD_DLV_042")


def test_planned_row_failures(toko: Toko) -> None:
    for sku in ("R-1", "R-2", "R-3"):
        toko.sim.seed_product(sku=sku)
    toko.sim.faults.fail_items("stock_update", ["R-2"])
    toko.sim.faults.fail_items("stock_update", ["R-3"], "Invalid SKU.")
    data = ok(toko.stock([{"sku": s, "new_stock": 1} for s in ("R-1", "R-2", "R-3")]))
    assert [r["message"] for r in data["failed_rows_data"]] == [
        "ERR_TOO_MANY_REQUEST",
        "Invalid SKU.",
    ]
    assert {p["sku"]: p["stock"] for p in toko.sim.inspect_listings()} == {
        "R-1": 1,
        "R-2": 10,
        "R-3": 10,
    }


# ------------------------------------------------------------------ active/inactive


def test_active_inactive_limit_and_effect(toko: Toko) -> None:
    ids = [toko.sim.seed_product(sku=f"AC-{i}").product_id for i in range(26)]
    error(toko.set_active(ids, active=False), 400, "PRD_DLV_043")
    data = ok(toko.set_active(ids[:25], active=False))
    assert (data["total_data"], data["succeed_rows"], data["failed_rows"]) == (
        25,
        25,
        0,
    )
    statuses = {p["product_id"]: p["status"] for p in toko.sim.inspect_listings()}
    assert [statuses[i] for i in ids] == ["inactive"] * 25 + ["active"]
    assert ok(toko.info({"product_id": ids[0]}))[0]["basic"]["status"] == 3
    again = ok(toko.set_active([ids[0], 12345], active=True))
    assert again["failed_rows_data"] == [
        {"product_id": 12345, "message": "Invalid Product ID."}
    ]
    assert ok(toko.info({"product_id": ids[0]}))[0]["basic"]["status"] == 1


# ------------------------------------------------------------------ product info (§5.7)


def test_product_info_four_query_forms(toko: Toko) -> None:
    first = toko.sim.seed_product(sku="F-1", name="Keripik Tempe")
    second = toko.sim.seed_product(sku="F-2", name="Kue Nastar")
    by_ids = ok(
        toko.info([("product_id", first.product_id), ("product_id", second.product_id)])
    )
    assert [i["basic"]["productID"] for i in by_ids] == [
        first.product_id,
        second.product_id,
    ]
    [by_url] = ok(toko.info({"product_url": first.url}))
    assert by_url["basic"]["productID"] == first.product_id
    assert by_url["other"]["url"] == first.url
    [by_sku] = ok(toko.info({"sku": "F-2"}))
    assert by_sku["basic"]["productID"] == second.product_id
    by_shop = ok(toko.info({"shop_id": toko.shop_id, "page": 1, "per_page": 10}))
    assert len(by_shop) == 2
    assert ok(toko.info({"sku": "F-404"})) == []
    error(toko.info({}), 400, "PRD_DLV_042")
    error(toko.info({"product_id": "abc"}), 400, "PRD_DLV_042")


def test_product_info_keys_keep_the_documented_casing(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="K", weight=2, weight_unit="KG").product_id
    [item] = ok(toko.info({"product_id": product_id}))
    assert set(item["basic"]) >= {
        "productID",
        "shopID",
        "status",
        "Name",
        "condition",
        "childCategoryID",
    }
    assert set(item["price"]) >= {"value", "currency", "idr", "LastUpdateUnix"}
    assert item["weight"] == {"value": 2.0, "unit": 2}
    assert set(item["stock"]) == {"value", "stockWording"}
    assert set(item["variant"]) == {"isParent", "isVariant", "childrenID"}
    assert set(item["other"]) >= {"sku", "url"}
    [warehouse] = item["warehouses"]
    assert set(warehouse) >= {"warehouseID", "price", "stock"}
    assert warehouse["stock"] == {"useStock": True, "value": 10}


def test_listing_by_shop_needs_page_and_caps_per_page(toko: Toko) -> None:
    error(toko.info({"shop_id": toko.shop_id}), 400, "PRD_DLV_005")
    error(
        toko.info({"shop_id": toko.shop_id, "page": 1, "per_page": 101}),
        400,
        "PRD_DLV_042",
    )
    error(toko.info({"shop_id": toko.shop_id, "page": 0}), 400, "PRD_DLV_042")
    assert ok(toko.info({"shop_id": toko.shop_id, "page": 1, "per_page": 100})) == []


def test_listing_by_shop_returns_every_product_exactly_once(toko: Toko) -> None:
    expected = {toko.sim.seed_product(sku=f"L-{i}").product_id for i in range(250)}
    seen: list[int] = []
    sizes = []
    for page in range(1, 10):
        items = ok(toko.info({"shop_id": toko.shop_id, "page": page, "per_page": 100}))
        sizes.append(len(items))
        if not items:
            break
        seen.extend(i["basic"]["productID"] for i in items)
    assert sizes == [100, 100, 50, 0]
    assert len(seen) == len(set(seen)) == 250
    assert set(seen) == expected


def test_main_and_reserved_stock_are_kept_apart(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="C", stock=10).product_id
    assert toko.sim.reserve_campaign_stock(product_id, 3) == 3
    [item] = ok(toko.info({"product_id": product_id}))
    assert (item["main_stock"], item["reserve_stock"], item["stock"]["value"]) == (
        7,
        3,
        10,
    )
    assert toko.sim.buyable_listings() == [(str(product_id), 7)]
    assert toko.sim.place_order(str(product_id), 8, "b") is None
    ok(toko.stock([{"sku": "C", "new_stock": 20}]))
    [item] = ok(toko.info({"product_id": product_id}))
    assert (item["main_stock"], item["reserve_stock"]) == (20, 3)
    assert toko.sim.release_campaign_stock(product_id) == 3
    assert toko.sim.inspect_listings()[0]["main_stock"] == 23


def test_product_info_pagination_faults(toko: Toko) -> None:
    for i in range(5):
        toko.sim.seed_product(sku=f"PF-{i}")
    page = {"shop_id": toko.shop_id, "per_page": 2}
    first = ok(toko.info({**page, "page": 1}))
    toko.sim.repeat_page_next(endpoint="product_info")
    repeated = ok(toko.info({**page, "page": 2}))
    assert repeated == first
    toko.sim.empty_page_next(endpoint="product_info")
    assert ok(toko.info({**page, "page": 2})) == []
    assert len(ok(toko.info({**page, "page": 2}))) == 2


def test_category_tree_lists_the_leaves(toko: Toko) -> None:
    data = ok(toko.call("GET", f"/inventory/v1/fs/{toko.fs_id}/product/category"))

    def leaves(nodes: list[dict[str, Any]]) -> set[int]:
        found: set[int] = set()
        for node in nodes:
            found |= leaves(node["child"]) if node["child"] else {node["id"]}
        return found

    expected = toko.sim.credentials()["leaf_category_ids"].split(",")
    assert leaves(data["categories"]) == {int(x) for x in expected}
