"""§5.7: the simulator's product info items have the structure of the Get Product
page's sample (``tests/connectors/tokopedia/fixtures/product_info.json``): the same
blocks in the same order, the same keys with the same casing, the same kinds of value,
field by field; blocks with nothing to show are present and empty or zero."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulators.tokopedia.payloads import product_info
from tests.simulators.tokopedia.conftest import Toko, ok

SAMPLE = (
    Path(__file__).parents[2]
    / "connectors"
    / "tokopedia"
    / "fixtures"
    / "product_info.json"
)


def reference_item() -> dict[str, Any]:
    item: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))["data"][0]
    return item


def kind(value: object) -> str:
    """The JSON kind of a value (an integer and a fraction are both numbers)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def differences(given: object, reference: object, where: str = "") -> list[str]:
    """Where ``given`` departs from ``reference``'s structure: keys (and their
    order), kinds of value; array elements against the reference's first one."""
    if kind(given) != kind(reference):
        return [f"{where or '.'}: {kind(given)} where the sample has {kind(reference)}"]
    found: list[str] = []
    if isinstance(given, dict) and isinstance(reference, dict):
        if list(given) != list(reference):
            found.append(f"{where or '.'}: keys {list(given)} != {list(reference)}")
        for key in given:
            if key in reference:
                found += differences(given[key], reference[key], f"{where}.{key}")
    elif isinstance(given, list) and isinstance(reference, list) and reference:
        for index, element in enumerate(given):
            found += differences(element, reference[0], f"{where}[{index}]")
    return found


def test_the_structure_check_finds_a_wrong_casing_and_a_wrong_kind() -> None:
    item = reference_item()
    item["menu"] = {"id": 1, "name": "Kopi"}
    item["campaign"]["StartDate"] = 0
    assert differences(item, reference_item()) == [
        ".menu: keys ['id', 'name'] != ['id', 'Name']",
        ".campaign.StartDate: number where the sample has string",
    ]


def test_a_full_product_has_the_samples_structure(toko: Toko) -> None:
    product = toko.sim.seed_product(
        sku="KOPI-GAYO-250",
        name="Kopi Arabika Gayo 250 g",
        category_id=1828,
        stock=12,
        etalase={"id": 7},
        dimension={"height": 22, "width": 8, "length": 15},
        wholesale=[{"min_qty": 5, "price": 9_000}, {"min_qty": 10, "price": 8_500}],
        pictures=[
            {"file_path": "https://img.example/produk/kopi/depan.jpg"},
            {"file_path": "https://img.example/produk/kopi/belakang.jpg"},
        ],
    )
    toko.sim.reserve_campaign_stock(product.product_id, 3)
    (item,) = ok(toko.info({"product_id": product.product_id}))
    assert differences(item, reference_item()) == []
    assert item["volume"] == {"length": 15, "width": 8, "height": 22}
    assert item["extraAttribute"]["isOnCampaign"] is True
    assert [
        (w["minQuantity"], w["maxQuantity"], w["price"]["idr"])
        for w in item["wholesale"]
    ] == [(5, 9, 9_000), (10, 10_000, 8_500)]
    assert [c["Name"] for c in item["categoryTree"]] == [
        "Fashion Pria",
        "Celana",
        "Celana Jeans",
    ]
    assert item["categoryTree"][-1]["breadcrumbURL"] == (
        "https://www.tokopedia.com/p/fashion-pria/celana/celana-jeans"
    )
    first, second = item["pictures"]
    assert (first["filePath"], first["fileName"]) == ("produk/kopi", "depan.jpg")
    assert first["OriginalURL"] == "https://img.example/produk/kopi/depan.jpg"
    assert (first["status"], second["status"]) == (2, 1)


def test_a_bare_product_shows_every_block_empty_or_zero(toko: Toko) -> None:
    product = toko.sim.seed_product(sku="POLOS")
    (item,) = ok(toko.info({"product_id": product.product_id}))
    assert differences(item, reference_item()) == []
    assert (item["wholesale"], item["pictures"]) == ([], [])
    assert item["GMStats"] == {
        "transactionSuccess": 0,
        "transactionReject": 0,
        "countSold": 0,
    }
    assert item["stats"] == {"countView": 0}
    assert item["campaign"] == {
        "StartDate": "0001-01-01T00:00:00Z",
        "EndDate": "0001-01-01T00:00:00Z",
    }
    assert item["volume"] == {"length": 0, "width": 0, "height": 0}
    assert item["extraAttribute"]["isOnCampaign"] is False


def test_list_pages_write_what_the_dictionaries_hold(toko: Toko) -> None:
    toko.sim.seed_product(
        sku="W-1",
        wholesale=[{"min_qty": 3, "price": 9_000}, {"min_qty": "x", "price": 1}],
        dimension={"height": 1.4, "width": 2.6, "length": 3},
    )
    items = ok(toko.info({"shop_id": toko.shop_id, "page": 1, "per_page": 10}))
    store = toko.sim.store
    for item in items:
        product = store.products[item["basic"]["productID"]]
        assert item == product_info(product, store.shops[product.shop_id])
    (item,) = items
    assert [w["minQuantity"] for w in item["wholesale"]] == [3]  # "x" is no quantity
    assert item["volume"] == {"length": 3, "width": 3, "height": 1}
