"""Products and SKUs (page §4, §8.1 items 4-6, §9 value limits and v4 create)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulators.bukalapak._support import (
    Market,
    assert_error,
    bearer,
    create_product,
    product_body,
)


def _listing(market: Market, sku_id: int) -> dict[str, Any]:
    listings = market.api.get("/_sim/listings").json()["listings"]
    return next(entry for entry in listings if entry["sku_id"] == sku_id)


def _patch(market: Market, token: str, product: str, sku: int | str, body: Any) -> Any:
    return market.api.patch(
        f"/products/{product}/skus/{sku}", headers=bearer(token), json=body
    )


def test_create_answers_id_and_skus(market: Market, token: str) -> None:
    response = market.api.post(
        "/products", headers=bearer(token), json=product_body(market)
    )

    assert response.status_code == 201
    body = response.json()
    assert body["meta"]["http_status"] == 201
    assert body["errors"] == []
    data = body["data"]
    assert data["id"]
    assert [s["sku_name"] for s in data["skus"]] == ["BTK-001"]
    listing = _listing(market, data["skus"][0]["id"])
    assert listing["sku"] == "BTK-001"
    assert (listing["price"], listing["stock"], listing["status"]) == (
        250_000,
        5,
        "active",
    )
    assert listing["product_id"] == data["id"]


def test_create_ignores_unknown_extra_fields(market: Market, token: str) -> None:
    data = create_product(market, token, colour="merah", negotiable=True)

    shown = market.api.get(f"/products/{data['id']}", headers=bearer(token)).json()
    assert "colour" not in shown["data"]
    assert shown["data"]["name"] == "Batik Tulis Pekalongan"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", None),
        ("sku_name", ""),
        ("category_id", 0),
        ("category_id", "12"),
        ("price", 0),
        ("price", -5),
        ("price", 10.5),
        ("price", "1000"),
        ("weight", 0),
        ("stock", -1),
        ("stock", 1_000_000),
        ("stock", True),
        ("condition", "refurbished"),
        ("description", 42),
        ("images", []),
        ("images", "1"),
    ],
)
def test_create_validation_is_422(
    market: Market, token: str, field: str, value: Any
) -> None:
    body = product_body(market, **{field: value})

    response = market.api.post("/products", headers=bearer(token), json=body)

    error = assert_error(response, 422)
    assert field in error["errors"][0]["message"]
    assert market.api.get("/_sim/listings").json()["listings"] == []


def test_create_reports_every_problem(market: Market, token: str) -> None:
    response = market.api.post(
        "/products", headers=bearer(token), json={"name": "only a name"}
    )

    error = assert_error(response, 422)
    assert len(error["errors"]) >= 6


def test_create_requires_each_documented_field(market: Market, token: str) -> None:
    for field in ("name", "category_id", "price", "weight", "stock", "condition"):
        body = product_body(market)
        del body[field]
        response = market.api.post("/products", headers=bearer(token), json=body)
        assert_error(response, 422)


def test_create_limits_at_the_edges(market: Market, token: str) -> None:
    images = market.images()
    edge = create_product(market, token, price=1, stock=999_999, images=images[:5])
    assert _listing(market, edge["skus"][0]["id"])["stock"] == 999_999
    assert create_product(market, token, stock=0, sku_name="ZERO")["id"]

    six = market.api.post(
        "/products",
        headers=bearer(token),
        json=product_body(market, images=[*images[:5], market.sim.add_attachment()]),
    )
    assert_error(six, 422)


def test_create_refuses_attachments_it_does_not_know(
    market: Market, token: str
) -> None:
    other_store = market.sim.add_attachment(int(market.creds["other_store_id"]))
    for images in ([123], [other_store]):
        response = market.api.post(
            "/products", headers=bearer(token), json=product_body(market, images=images)
        )
        assert "attachment" in assert_error(response, 422)["errors"][0]["message"]


def test_sim_attachment_upload_gives_a_usable_id(market: Market, token: str) -> None:
    uploaded = market.api.post("/_sim/attachments")
    assert uploaded.status_code == 201

    data = create_product(market, token, images=[uploaded.json()["data"]["id"]])

    assert data["images"] == [{"id": uploaded.json()["data"]["id"]}]


def test_create_is_not_idempotent(market: Market, token: str) -> None:
    first = create_product(market, token)
    second = create_product(market, token)

    assert first["id"] != second["id"]
    skus = [e["sku"] for e in market.api.get("/_sim/listings").json()["listings"]]
    assert skus == ["BTK-001", "BTK-001"]


def test_body_that_is_not_a_json_object_is_400(market: Market, token: str) -> None:
    for content in (b"not json", b"[1, 2]", b""):
        response = market.api.post(
            "/products",
            headers={**bearer(token), "content-type": "application/json"},
            content=content,
        )
        assert_error(response, 400)


def test_get_product_and_its_skus(market: Market, token: str) -> None:
    created = create_product(market, token)
    sku = created["skus"][0]

    product = market.api.get(f"/products/{created['id']}", headers=bearer(token))
    skus = market.api.get(f"/products/{created['id']}/skus", headers=bearer(token))

    assert product.status_code == 200
    variant = product.json()["data"]["variants"][0]
    assert variant["id"] == sku["id"]
    assert variant["product_id"] == created["id"]
    assert variant["sku_name"] == "BTK-001"
    assert "variant_name" in variant
    assert skus.json()["data"][0]["id"] == sku["id"]
    assert skus.json()["data"][0]["stock"] == 5


def test_unknown_product_is_404(market: Market, token: str) -> None:
    assert_error(market.api.get("/products/zzzzzz", headers=bearer(token)), 404)
    assert_error(market.api.get("/products/zzzzzz/skus", headers=bearer(token)), 404)


def test_stock_and_price_updates_one_sku(market: Market, token: str) -> None:
    created = create_product(market, token)
    product, sku = created["id"], created["skus"][0]["id"]

    stock = _patch(market, token, product, sku, {"stock": 12, "state": "active"})
    price = _patch(market, token, product, sku, {"price": 275_000})

    assert stock.status_code == price.status_code == 200
    assert stock.json()["data"]["stock"] == 12
    assert price.json()["data"]["price"] == 275_000
    assert price.json()["meta"]["http_status"] == 200
    listing = _listing(market, sku)
    assert (listing["stock"], listing["price"]) == (12, 275_000)


def test_state_update_deactivates_a_sku(market: Market, token: str) -> None:
    created = create_product(market, token)
    product, sku = created["id"], created["skus"][0]["id"]

    response = _patch(market, token, product, sku, {"state": "inactive"})

    assert response.json()["data"]["state"] == "inactive"
    assert _listing(market, sku)["status"] == "inactive"
    assert_error(_patch(market, token, product, sku, {"state": "deleted"}), 422)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"stock": 0}, True),
        ({"stock": 999_999}, True),
        ({"stock": 1_000_000}, False),
        ({"stock": -1}, False),
        ({"stock": 2.5}, False),
        ({"stock": "3"}, False),
        ({"stock": False}, False),
        ({"price": 1}, True),
        ({"price": 0}, False),
        ({"price": 1500.5}, False),
        ({"price": None}, False),
        ({}, False),
        ({"note": "no known field"}, False),
    ],
)
def test_sku_value_limits(
    market: Market, token: str, body: dict[str, Any], accepted: bool
) -> None:
    created = create_product(market, token)
    product, sku = created["id"], created["skus"][0]["id"]

    response = _patch(market, token, product, sku, body)

    if accepted:
        assert response.status_code == 200
        for key, value in body.items():
            assert _listing(market, sku)[key] == value
    else:
        assert_error(response, 422)
        assert _listing(market, sku)["stock"] == 5
        assert _listing(market, sku)["price"] == 250_000


def test_sku_update_ignores_unknown_extra_fields(market: Market, token: str) -> None:
    created = create_product(market, token)
    product, sku = created["id"], created["skus"][0]["id"]

    response = _patch(market, token, product, sku, {"stock": 7, "warehouse": "A"})

    assert response.status_code == 200
    assert _listing(market, sku)["stock"] == 7


def test_sku_must_belong_to_the_product(market: Market, token: str) -> None:
    first = create_product(market, token)
    second = create_product(market, token, sku_name="BTK-002")

    response = _patch(market, token, first["id"], second["skus"][0]["id"], {"stock": 1})

    assert_error(response, 404)
    assert _listing(market, second["skus"][0]["id"])["stock"] == 5
    assert_error(_patch(market, token, first["id"], "999", {"stock": 1}), 404)
    assert_error(_patch(market, token, "nope", "1", {"stock": 1}), 404)


def test_sku_of_another_store_is_403(market: Market, token: str) -> None:
    other_product = market.sim.add_product(
        name="Kopi",
        sku_name="KOPI-1",
        price=50_000,
        stock=9,
        store_id=int(market.creds["other_store_id"]),
    )
    sku = next(
        e["sku_id"]
        for e in market.api.get("/_sim/listings").json()["listings"]
        if e["product_id"] == other_product
    )

    response = _patch(market, token, other_product, sku, {"stock": 0})

    assert_error(response, 403)
    assert _listing(market, sku)["stock"] == 9
    other_token = market.seller_token(sim_seller=market.creds["other_seller_username"])
    assert _patch(market, other_token, other_product, sku, {"stock": 0}).is_success


def test_another_stores_inactive_product_is_hidden(market: Market, token: str) -> None:
    other = market.sim.add_product(
        name="Kopi",
        sku_name="KOPI-1",
        price=50_000,
        stock=9,
        store_id=int(market.creds["other_store_id"]),
        state="inactive",
    )
    assert_error(market.api.get(f"/products/{other}", headers=bearer(token)), 404)


def test_store_products_paging_returns_every_product_once(
    market: Market, token: str
) -> None:
    for number in range(123):
        market.sim.add_product(
            name=f"Produk {number}", sku_name=f"SKU-{number:03d}", price=1000, stock=1
        )
    seen: list[str] = []
    offset = 0
    while True:
        response = market.api.get(
            "/stores/me/products",
            params={"offset": offset, "limit": 50},
            headers=bearer(token),
        )
        body = response.json()
        assert body["meta"]["total"] == 123
        assert len(body["data"]) <= 50
        if not body["data"]:
            break
        seen.extend(p["variants"][0]["sku_name"] for p in body["data"])
        offset += 50

    assert sorted(seen) == [f"SKU-{n:03d}" for n in range(123)]
    assert seen[0] == "SKU-122"  # newest first


def test_store_products_limit_is_at_most_50(market: Market, token: str) -> None:
    at_limit = market.api.get(
        "/stores/me/products", params={"limit": 50}, headers=bearer(token)
    )
    assert at_limit.status_code == 200

    for params in ({"limit": 51}, {"limit": 0}, {"offset": -1}, {"limit": "ten"}):
        response = market.api.get(
            "/stores/me/products", params=params, headers=bearer(token)
        )
        assert_error(response, 422)


def test_store_products_show_only_the_tokens_store(market: Market, token: str) -> None:
    market.sim.add_product(name="Milik saya", sku_name="MINE", price=1, stock=1)
    market.sim.add_product(
        name="Milik lain",
        sku_name="THEIRS",
        price=1,
        stock=1,
        store_id=int(market.creds["other_store_id"]),
    )

    body = market.api.get("/stores/me/products", headers=bearer(token)).json()

    assert [p["sku_name"] for p in body["data"]] == ["MINE"]
    assert body["meta"]["total"] == 1


def test_keywords_find_by_name_and_by_sku(market: Market, token: str) -> None:
    market.sim.add_product(name="Batik Tulis", sku_name="A-1", price=1, stock=1)
    market.sim.add_product(name="Tas Rotan", sku_name="B-2", price=1, stock=1)

    def search(words: str) -> list[str]:
        response = market.api.get(
            "/stores/me/products",
            params={"keywords": words, "product_type": "all", "sort": "date"},
            headers=bearer(token),
        )
        return [p["sku_name"] for p in response.json()["data"]]

    assert search("batik") == ["A-1"]
    assert search("B-2") == ["B-2"]
    assert search("kursi") == []


def test_unknown_path_and_wrong_method(market: Market, token: str) -> None:
    assert_error(market.api.get("/nothing-here", headers=bearer(token)), 404)
    assert_error(market.api.delete("/products", headers=bearer(token)), 405)


def test_one_sku_per_call_even_when_the_body_names_others(
    market: Market, token: str
) -> None:
    first = create_product(market, token)
    second = create_product(market, token, sku_name="BTK-002")
    other_sku = second["skus"][0]["id"]

    response = _patch(
        market,
        token,
        first["id"],
        first["skus"][0]["id"],
        {"stock": 3, "skus": [{"id": other_sku, "stock": 9}]},
    )

    assert response.status_code == 200
    assert _listing(market, first["skus"][0]["id"])["stock"] == 3
    assert _listing(market, other_sku)["stock"] == 5
