"""Products (§5, §6, §9.3): create, search with ``page_size`` and ``page_token``,
stock 0-99,999 on live SKUs only, IDR prices 100-100,000,000, failures per SKU."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.tiktok_shop.model import (
    DUPLICATE_SELLER_SKU,
    INVALID_PAGE_TOKEN,
    INVALID_PARAMETER,
    ITEM_REFUSED,
    PRICE_OUT_OF_RANGE,
    QUANTITY_OUT_OF_RANGE,
    SKU_NOT_LIVE,
)
from tests.simulators.tiktok_shop.conftest import API, Tts, error, new_product, ok


def _two_skus(tts: Tts) -> tuple[str, list[str]]:
    body = new_product()
    body["skus"].append(
        {
            "seller_sku": "KOPI-002",
            "price": {"amount": "90000", "currency": "IDR"},
            "inventory": [{"quantity": 3}],
        }
    )
    created = ok(tts.create(body))
    return created["product_id"], [s["id"] for s in created["skus"]]


def _shown(tts: Tts) -> dict[str, dict[str, Any]]:
    return {x["sku"]: x for x in tts.sim.inspect_listings()}


def test_a_created_product_is_found_by_seller_sku(tts: Tts) -> None:
    created = ok(tts.create(new_product()))
    found = ok(tts.search(seller_skus=["KOPI-001"]))["products"]
    assert [p["id"] for p in found] == [created["product_id"]]
    sku = found[0]["skus"][0]
    assert (sku["id"], sku["seller_sku"]) == (created["skus"][0]["id"], "KOPI-001")
    assert sku["price"]["sale_price"] == "85000"
    assert sku["inventory"][0]["quantity"] == 10
    assert ok(tts.search(seller_skus=["NOPE"]))["products"] == []


def test_a_seller_sku_is_unique_in_the_shop(tts: Tts) -> None:
    ok(tts.create(new_product()))
    error(tts.create(new_product()), 400, DUPLICATE_SELLER_SKU)
    assert len(tts.sim.inspect_listings()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x" * 71}, "title"),
        ({"category_id": "1"}, "category_id"),
        ({"main_images": []}, "main_images"),
        ({"package_weight": {"value": "1", "unit": "POUND"}}, "package_weight"),
    ],
)
def test_a_bad_create_names_the_field_and_creates_nothing(
    tts: Tts, change: dict[str, Any], field: str
) -> None:
    assert field in error(tts.create(new_product(**change)), 400, INVALID_PARAMETER)
    assert tts.sim.inspect_listings() == []


@pytest.mark.parametrize("size", [0, 101, -1])
def test_page_size_outside_1_to_100_is_refused(tts: Tts, size: int) -> None:
    assert "page_size" in error(tts.search(page_size=size), 400, INVALID_PARAMETER)
    assert "page_size" in error(tts.orders(page_size=size), 400, INVALID_PARAMETER)


def test_pages_follow_the_cursor_to_the_end(tts: Tts) -> None:
    for n in range(5):
        ok(tts.create(new_product(f"SKU-{n}")))
    seen: list[str] = []
    token = ""
    for _ in range(10):
        params = {"page_token": token} if token else {}
        page = ok(tts.search(page_size=2, params=params))
        seen += [p["id"] for p in page["products"]]
        assert page["total_count"] == 5
        token = page["next_page_token"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    assert ok(tts.search(page_size=100))["next_page_token"] == ""


def test_a_page_token_is_opaque_and_checked(tts: Tts) -> None:
    for n in range(3):
        ok(tts.create(new_product(f"SKU-{n}")))
    token = ok(tts.search(page_size=1))["next_page_token"]
    assert token
    error(
        tts.search(page_size=1, params={"page_token": "bogus"}), 400, INVALID_PAGE_TOKEN
    )
    other = tts.search(page_size=1, params={"page_token": token}, status="ACTIVATE")
    error(other, 400, INVALID_PAGE_TOKEN)  # a token of other filters


def _errors(answer: Any) -> list[tuple[int, str]]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [(e["code"], e["detail"]["sku_id"]) for e in body["data"]["errors"]]


@pytest.mark.parametrize(
    ("quantity", "accepted"),
    [(0, True), (99_999, True), (100_000, False), (-1, False), ("5", False)],
)
def test_quantity_must_be_0_to_99999(tts: Tts, quantity: Any, accepted: bool) -> None:
    product_id, (first, second) = _two_skus(tts)
    answer = tts.stock(
        product_id,
        [
            {"id": first, "inventory": [{"quantity": quantity}]},
            {"id": second, "inventory": [{"quantity": 7}]},
        ],
    )
    assert answer.json()["code"] == 0  # one SKU at least went through
    shown = _shown(tts)
    assert shown["KOPI-002"]["stock"] == 7
    if accepted:
        assert _errors(answer) == []
        assert shown["KOPI-001"]["stock"] == quantity
    else:
        assert _errors(answer) == [(QUANTITY_OUT_OF_RANGE, first)]
        assert shown["KOPI-001"]["stock"] == 10


@pytest.mark.parametrize(
    ("amount", "accepted"),
    [
        ("100", True),
        ("100000000", True),
        ("99", False),
        ("100000001", False),
        ("85000.50", False),
    ],
)
def test_prices_must_be_100_to_100000000_rupiah(
    tts: Tts, amount: str, accepted: bool
) -> None:
    product_id, (first, second) = _two_skus(tts)
    answer = tts.price(
        product_id,
        [
            {"id": first, "price": {"amount": amount, "currency": "IDR"}},
            {"id": second, "price": {"amount": "95000", "currency": "IDR"}},
        ],
    )
    shown = _shown(tts)
    assert shown["KOPI-002"]["price"] == 95_000
    if accepted:
        assert _errors(answer) == []
        assert shown["KOPI-001"]["price"] == int(amount)
    else:
        assert _errors(answer) == [(PRICE_OUT_OF_RANGE, first)]
        assert shown["KOPI-001"]["price"] == 85_000


def test_a_planned_sku_failure_fails_that_sku_alone(tts: Tts) -> None:
    product_id, (first, second) = _two_skus(tts)
    tts.sim.faults.fail_items("inventory_update", ["KOPI-002"], "warehouse locked")
    answer = tts.stock(
        product_id,
        [
            {"id": first, "inventory": [{"quantity": 4}]},
            {"id": second, "inventory": [{"quantity": 4}]},
        ],
    )
    assert answer.json()["code"] == 0
    assert _errors(answer) == [(ITEM_REFUSED, second)]
    assert answer.json()["data"]["errors"][0]["message"] == "warehouse locked"
    assert {k: v["stock"] for k, v in _shown(tts).items()} == {
        "KOPI-001": 4,
        "KOPI-002": 3,
    }


def test_stock_needs_a_live_sku_and_every_failure_shows_in_the_code(tts: Tts) -> None:
    product_id, (first, second) = _two_skus(tts)
    ok(
        tts.call(
            "POST",
            "/product/202309/products/deactivate",
            body={"product_ids": [product_id]},
        )
    )
    answer = tts.stock(
        product_id,
        [
            {"id": first, "inventory": [{"quantity": 1}]},
            {"id": second, "inventory": [{"quantity": 1}]},
        ],
    )
    assert answer.json()["code"] == SKU_NOT_LIVE  # every SKU failed
    assert _errors(answer) == [(SKU_NOT_LIVE, first), (SKU_NOT_LIVE, second)]
    assert {v["stock"] for v in _shown(tts).values()} == {10, 3}


def test_a_bound_shops_products_are_seeded_live_and_bad_rows_change_nothing(
    tts: Tts,
) -> None:
    bound = tts.http.post(
        f"{API}/_sim/products",
        json={"products": [{"seller_sku": "KOPI-1", "price": 85_000, "quantity": 4}]},
    )
    assert bound.status_code == 200, bound.text
    made = bound.json()["products"]
    shown = {x["sku"]: x for x in tts.sim.inspect_listings()}
    assert set(shown) == {"KOPI-1"}
    assert (shown["KOPI-1"]["price"], shown["KOPI-1"]["stock"]) == (85_000, 4)
    assert str(shown["KOPI-1"]["product_id"]) == made["KOPI-1"]
    for body in ({"products": [{"price": 1}]}, {"products": "KOPI-2"}, [1]):
        refused = tts.http.post(f"{API}/_sim/products", json=body)
        assert refused.status_code == 400
        assert "seller_sku" in refused.json()["error"]
    assert {x["sku"] for x in tts.sim.inspect_listings()} == {"KOPI-1"}
