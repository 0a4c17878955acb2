"""Product info items and order rows are written straight to JSON and kept between
requests: every answer must still show the records as they are now (the clock is
frozen, so update times do not move), byte for byte what ``json.dumps`` of the
dictionaries (``product_info``, ``order_row``) gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulators.kit.buyers import BuyerEvent
from simulators.tokopedia import encoded as _sim_encoded
from simulators.tokopedia.payloads import order_row, product_info
from tests.simulators.tokopedia.conftest import Toko, ok


def _data_bytes(items: list[dict[str, Any]]) -> bytes:
    """The ``data`` array as the simulator encodes it."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()


def _assert_fresh_items(toko: Toko, params: Any) -> list[dict[str, Any]]:
    """The product info answer holds exactly the items encoded afresh now."""
    answer = toko.info(params)
    items = ok(answer)
    store = toko.sim.store
    expected = [
        product_info(
            store.products[i["basic"]["productID"]], store.shops[i["basic"]["shopID"]]
        )
        for i in items
    ]
    assert answer.content.endswith(b',"data":' + _data_bytes(expected) + b"}")
    return list(items)


def test_product_info_follows_every_change(toko: Toko) -> None:
    product = toko.sim.seed_product(sku="R-1", name="Kopi Gayo", stock=30)
    by_id = {"product_id": product.product_id}
    page = {"shop_id": toko.shop_id, "page": 1, "per_page": 10}
    [item] = _assert_fresh_items(toko, by_id)
    assert item["stock"] == {"value": 30, "stockWording": "Stok tersedia"}

    ok(toko.stock([{"sku": "R-1", "new_stock": 0}]))
    [item] = _assert_fresh_items(toko, page)
    assert (item["basic"]["status"], item["stock"]["value"]) == (3, 0)
    assert item["stock"]["stockWording"] == "Stok habis"

    ok(toko.stock([{"product_id": product.product_id, "new_stock": 5}]))
    ok(toko.price([{"product_id": product.product_id, "new_price": 12_500}]))
    [item] = _assert_fresh_items(toko, by_id)
    assert (item["basic"]["status"], item["main_stock"]) == (1, 5)
    assert item["price"]["value"] == item["warehouses"][0]["price"]["idr"] == 12_500

    edits: list[dict[str, Any]] = [
        {"name": "Kopi Gayo 100% Arabika"},
        {"description": "Biji %d pilihan %(x)s"},
        {"pictures": [{"file_path": "https://img.example/kopi.jpg"}]},
        {"dimension": {"height": 10, "width": 12.4, "length": 20}},
        {"wholesale": [{"min_qty": 5, "price": 9_000}, {"min_qty": 2, "price": 9_500}]},
        {"etalase": {"id": 7}},
        {"weight": 2, "weight_unit": "KG"},
        {"condition": "USED", "min_order": 3},
        {"sku": "R-1B", "category_id": 2310},
        {"price_currency": "USD"},
    ]
    for edit in edits:
        ok(toko.edit([{"id": product.product_id, **edit}]))
        _assert_fresh_items(toko, by_id)
        _assert_fresh_items(toko, page)
    [item] = _assert_fresh_items(toko, by_id)
    assert item["basic"]["Name"] == "Kopi Gayo 100% Arabika"
    assert item["pictures"][0]["OriginalURL"] == "https://img.example/kopi.jpg"
    assert item["volume"] == {"length": 20, "width": 12, "height": 10}
    assert [(w["minQuantity"], w["maxQuantity"]) for w in item["wholesale"]] == [
        (2, 4),
        (5, 10_000),
    ]
    assert item["other"]["sku"] == "R-1B"

    ok(toko.set_active([product.product_id], False))
    [item] = _assert_fresh_items(toko, by_id)
    assert item["basic"]["status"] == 3
    toko.sim.reserve_campaign_stock(product.product_id, 2)
    [item] = _assert_fresh_items(toko, {"sku": "R-1B"})
    assert (item["main_stock"], item["reserve_stock"]) == (3, 2)


def test_product_info_items_with_text_that_looks_like_a_template(toko: Toko) -> None:
    names = ["\x00status\x00", "100% \x00price\x00 %s %d %(stock)d", 'Kain "ikat" é☃']
    for index, name in enumerate(names):
        toko.sim.seed_product(sku=f"T-{index}", name=name, description=name)
    for _ in range(2):  # encoded afresh, then kept
        items = _assert_fresh_items(
            toko, {"shop_id": toko.shop_id, "page": 1, "per_page": 10}
        )
        assert [i["basic"]["Name"] for i in items] == names
        ok(toko.stock([{"sku": f"T-{i}", "new_stock": 40 + i} for i in range(3)]))


def test_order_rows_follow_status_changes(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="OR", stock=10).product_id
    order_id = toko.paid_order(product_id, 2)
    now = toko.clock.timestamp()
    window = {"from_date": now - 60, "to_date": now, "page": 1, "per_page": 10}

    def row() -> dict[str, Any]:
        answer = toko.orders(**window)
        [found] = ok(answer)
        expected = order_row(toko.sim.store.orders[order_id])
        assert answer.content.endswith(b',"data":' + _data_bytes([expected]) + b"}")
        return dict(found)

    assert row()["order_status"] == 220
    ok(toko.action(order_id, "ack"))
    assert row()["order_status"] == 400
    ship = {"order_status": 500, "shipping_ref_num": "JNE777"}
    ok(toko.action(order_id, "status", ship))
    shipped = row()
    assert (shipped["order_status"], shipped["custom_fields"]) == (
        500,
        {"awb": "JNE777"},
    )
    assert toko.sim.buyer_event(str(order_id), BuyerEvent.DELIVER)
    assert row()["order_status"] == 600
    other = toko.paid_order(product_id)
    toko.sim.auto_cancel(other)
    answer = ok(toko.orders(**window))
    assert [(r["order_id"], r["order_status"]) for r in answer] == [
        (order_id, 600),
        (other, 6),
    ]
    assert answer[1]["products_fulfilled"][0]["quantity_reject"] == 1


def _refuse_dictionaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if an item is encoded from its dictionary rather than written directly."""

    def refused(*_args: object) -> dict[str, Any]:
        raise AssertionError("encoded from the dictionary")

    monkeypatch.setattr(_sim_encoded, "product_info", refused)
    monkeypatch.setattr(_sim_encoded, "order_row", refused)


def test_plain_records_are_written_directly(
    toko: Toko, monkeypatch: pytest.MonkeyPatch
) -> None:
    pictures = [{"file_path": f"https://img.example/{i}.jpg"} for i in range(3)]
    toko.sim.seed_product(
        sku="P-1",
        pictures=pictures,
        etalase={"id": 4},
        dimension={"height": 3, "width": 4.5, "length": 9},
        wholesale=[{"min_qty": 4, "price": 9_000}],
    )
    toko.sim.seed_product(
        sku="P-2", weight=1.25, weight_unit="KG", condition="USED", price_currency="USD"
    )
    product_id = toko.sim.seed_product(sku="P-3", name="Tas Anyaman é").product_id
    order_id = toko.paid_order(product_id, 3)
    toko.sim.reserve_campaign_stock(product_id, 2)
    now = toko.clock.timestamp()
    _refuse_dictionaries(monkeypatch)
    answer = toko.info({"shop_id": toko.shop_id, "page": 1, "per_page": 10})
    monkeypatch.undo()
    store = toko.sim.store
    shop = store.shops[int(toko.shop_id)]
    expected = [product_info(p, shop) for p in store.products.values()]
    assert answer.content.endswith(b',"data":' + _data_bytes(expected) + b"}")
    _refuse_dictionaries(monkeypatch)
    answer = toko.orders(from_date=now - 60, to_date=now, page=1, per_page=10)
    monkeypatch.undo()
    expected = [order_row(store.orders[order_id])]
    assert answer.content.endswith(b',"data":' + _data_bytes(expected) + b"}")


def test_unusual_values_are_encoded_from_the_dictionaries(toko: Toko) -> None:
    heavy = toko.sim.seed_product(sku="U-1", stock=4)
    stamped = toko.sim.seed_product(sku="U-2")
    order_id = toko.paid_order(heavy.product_id)
    now = toko.clock.timestamp()
    # Not what the API lets in, but a test or a state file may: written as JSON does.
    heavy.weight = float("inf")
    stamped.price_updated_at = True
    order = toko.sim.store.orders[order_id]
    order.lines[0].weight = float("nan")
    for product in (heavy, stamped):
        _assert_fresh_items(toko, {"product_id": product.product_id})
    answer = toko.orders(from_date=now - 60, to_date=now, page=1, per_page=10)
    assert answer.content.endswith(b',"data":' + _data_bytes([order_row(order)]) + b"}")
    assert b'"weight":NaN,"total_weight":NaN' in answer.content
