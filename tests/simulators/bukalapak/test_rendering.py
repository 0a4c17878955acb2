"""The fast paths answer exactly what the plain ones did: directly written JSON, the
keyword index, and records served from the render cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulators.bukalapak.model import (
    WIB,
    Line,
    Product,
    Sku,
    Transaction,
    iso_wib,
)
from simulators.bukalapak.render import product_fragment, transaction_fragment
from simulators.bukalapak.wire import product_json, transaction_json
from simulators.kit.fragments import encode
from tests.simulators.bukalapak._support import Market, bearer


def test_iso_wib_is_the_datetime_isoformat() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    day, wib = 86_400_000_000, 7 * 3_600_000_000
    values = [
        start * day - wib + step
        for start in (-1, 0, 1, 19_877, 2_899_999, 2_900_000)
        for step in (-1_000_001, -1_000_000, -1, 0, 1, 999_999, 1_000_000)
    ]
    values += range(-(10**16), 4 * 10**15, 7_000_000_000_001)  # odd microseconds
    values += range(0, 4 * 10**15, 8_000_000_000_000)  # whole seconds

    for value in values:
        moment = (epoch + timedelta(microseconds=value)).astimezone(WIB)
        assert iso_wib.__wrapped__(value) == moment.isoformat(), value


ODD_TEXTS = [
    "",
    "Batik Tulis",
    'Kaos "Polos" \\ Hitam',
    "Tas\nKulit\tAsli\r\x00\x1f\x7f",
    "Straße Großé ﬁne ✓ 😀",
    "</script>&<>'",
]


def _sku(number: int, text: str, **override: Any) -> Sku:
    values: dict[str, Any] = {
        "id": 100_000_000 + number,
        "product_id": "abc12",
        "store_id": 150_001,
        "sku_name": f"SKU-{text}",
        "variant_name": text,
        "price": 10_000 + number,
        "stock": number,
        "state": "active",
        "updated_at": 1_717_380_000_000_000 + number,
    }
    values.update(override)
    return Sku(**values)


@pytest.mark.parametrize("text", ODD_TEXTS)
@pytest.mark.parametrize(
    "states", [(), ("active",), ("inactive",), ("inactive", "active", "inactive")]
)
def test_product_fragment_is_the_encoded_product_json(
    text: str, states: tuple[str, ...]
) -> None:
    skus = [
        _sku(n, text, state=state, price=9_000 - 100 * (n % 2), stock=3 * n)
        for n, state in enumerate(states)
    ]
    product = Product(
        id="abc12",
        store_id=150_001,
        name=text,
        category_id=7,
        description=text * 2,
        condition="used",
        weight=1_250,
        images=[5_000_001, 5_000_002][: len(states) % 3],
        created_at=-1_000_000,  # before the epoch
        updated_at=1_717_380_000_000_001,  # with microseconds
    )

    assert product_fragment(product, skus, f"Toko {text}") == encode(
        product_json(product, skus, f"Toko {text}")
    )


def _transaction(text: str, lines: int, **override: Any) -> Transaction:
    values: dict[str, Any] = {
        "id": 1_500_000_001,
        "transaction_id": "BL240603ABC",
        "store_id": 150_001,
        "state": "paid",
        "created_at": 1_717_380_000_000_000,
        "updated_at": 1_717_380_000_500_000,
        "state_changed_at": 1_717_380_001_000_000,
        "buyer_name": text,
        "buyer_username": "buyer-0001",
        "lines": [
            Line(
                sku_id=100_000_000 + n,
                product_id="abc12",
                sku_name=f"SKU-{n}",
                name=text,
                weight=400 + n,
                quantity=1 + n,
                price=25_000 * (n + 1),
            )
            for n in range(lines)
        ],
        "delivery_fee": 12_000,
        "consignee": {"name": text, "phone": "081234567890", "address": text},
        "requested_carrier": "J&T",
        "buyer_note": text,
        "carrier": "JNE",
        "tracking_number": text,
    }
    values.update(override)
    return Transaction(**values)


@pytest.mark.parametrize("text", ODD_TEXTS)
@pytest.mark.parametrize("lines", [0, 1, 3])
@pytest.mark.parametrize("mask_phone", [False, True])
def test_transaction_fragment_is_the_encoded_transaction_json(
    text: str, lines: int, mask_phone: bool
) -> None:
    for phone_masked in (False, True):
        txn = _transaction(text, lines, phone_masked=phone_masked)

        assert transaction_fragment(txn, mask_phone=mask_phone) == encode(
            transaction_json(txn, mask_phone=mask_phone)
        )


@pytest.mark.parametrize(
    "consignee",
    [
        {},
        {"address": "Jl. Merdeka"},  # no phone: masking adds it last
        {"name": "A", "postal_code": 40132, "note": None, "tags": ["x"]},
    ],
)
def test_any_consignee_renders_as_the_encoder_shows_it(
    consignee: dict[str, Any],
) -> None:
    for mask_phone in (False, True):
        txn = _transaction("x", 1, consignee=consignee)

        assert transaction_fragment(txn, mask_phone=mask_phone) == encode(
            transaction_json(txn, mask_phone=mask_phone)
        )


NAMES = [
    "Produk IKM nomor 5",
    "Produk IKM nomor 15",
    "STRASSE Besar",
    "Straße kecil",
    "ﬁne Kain",
    "Kaos\x00Polos",
    "nomor",
    "ab",
    "Tas 😀 Rotan",
    "IKM-007 tiruan",
    "Kode abcd-bcde",  # every trigram of "abcde", but not "abcde"
]
KEYWORDS = [
    "nomor 5",
    "NOMOR 1",
    "strasse",
    "ß",
    "ss",
    "fi",
    "ﬁne",
    "\x00",
    "s\x00p",
    "b",
    "ab",
    "abc",
    "😀",
    "  rotan ",
    "IKM-007",
    "ikm-007",
    " ",
    "nomor 55",
    "zzz",
    "abcde",
    "bcd-b",
]


def _search(market: Market, token: str, keywords: str, **page: int) -> Any:
    response = market.api.get(
        "/stores/me/products",
        params={"keywords": keywords, "limit": 50, **page},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _expected(market: Market, keywords: str) -> list[str]:
    """Newest first: the name holds the keywords (case-folded) or a SKU is named
    exactly the keywords."""
    store = market.sim.seller.store_id
    needle = keywords.strip().casefold()
    return [
        product.id
        for product in reversed(list(market.sim.catalogue.ordered_products()))
        if product.store_id == store
        and (
            needle in product.name.casefold()
            or any(
                sku.sku_name == keywords.strip()
                for sku in market.sim.catalogue.skus_of(product)
            )
        )
    ]


def test_keyword_search_matches_a_plain_scan(market: Market, token: str) -> None:
    other = int(market.creds["other_store_id"])
    for number, name in enumerate(NAMES):
        market.sim.add_product(
            name=name, sku_name=f"IKM-{number:03d}", price=1, stock=1
        )
        market.sim.add_product(
            name=name, sku_name="IKM-007", price=1, stock=1, store_id=other
        )
    for round_ in range(2):  # the second round after more products were added
        for keywords in KEYWORDS:
            body = _search(market, token, keywords)

            expected = _expected(market, keywords)
            assert [p["id"] for p in body["data"]] == expected, keywords
            assert body["meta"]["total"] == len(expected)
        market.sim.add_product(
            name=f"Nomor 5{round_} baru", sku_name="ab", price=1, stock=1
        )


def test_keyword_search_pages_newest_first(market: Market, token: str) -> None:
    for number in range(130):
        market.sim.add_product(
            name=f"Produk nomor {number}", sku_name=f"SKU-{number}", price=1, stock=1
        )
    expected = _expected(market, "nomor 1")
    assert len(expected) == 41  # 1, 10-19, 100-129

    seen = [
        p["id"]
        for offset in (0, 20, 40)
        for p in _search(market, token, "nomor 1", offset=offset, limit=20)["data"]
    ]

    assert seen == expected
    assert _search(market, token, "nomor 1", offset=41)["data"] == []


def test_single_records_are_the_plain_envelope(market: Market, token: str) -> None:
    product_id = market.sim.add_product(
        name='Kain "Tenun" ✓', sku_name="TN-1", price=75_000, stock=4
    )
    product = market.sim.catalogue.products[product_id]
    txn_id = market.sim.create_transaction(product.sku_ids[0], 2, paid=True)
    txn = market.sim.desk.book.by_id[txn_id]
    store_name = market.sim.seller.store_name
    expected = {
        f"/products/{product_id}": product_json(
            product, market.sim.catalogue.skus_of(product), store_name
        ),
        f"/transactions/{txn_id}": transaction_json(txn, mask_phone=False),
    }

    for path, data in expected.items():
        envelope = {"data": data, "meta": {"http_status": 200}, "errors": []}
        for _ in range(2):  # rendered, then from the cache
            response = market.api.get(path, headers=bearer(token))

            assert response.content == encode(envelope)
            assert response.headers["content-type"] == "application/json"


def test_cached_records_follow_every_change(market: Market, token: str) -> None:
    product_id = market.sim.add_product(
        name="Batik", sku_name="BT-1", price=1_000, stock=10
    )
    sku_id = market.sim.catalogue.products[product_id].sku_ids[0]
    txn_id = market.sim.create_transaction(sku_id, 3)

    def shown() -> tuple[Any, Any, Any]:
        product = market.api.get(f"/products/{product_id}", headers=bearer(token))
        page = _search(market, token, "batik")["data"][0]
        order = market.api.get(
            "/transactions", params={"context": "sale"}, headers=bearer(token)
        ).json()["data"][0]
        return product.json()["data"], page, order

    before = shown()
    market.api.patch(
        f"/products/{product_id}/skus/{sku_id}",
        headers=bearer(token),
        json={"stock": 4, "price": 2_000},
    )
    market.sim.set_transaction_state(txn_id, "paid")  # the clock stands still
    market.sim.mask_phone(txn_id)
    after = shown()

    assert (before[0]["stock"], before[0]["price"]) == (10, 1_000)
    assert (after[0]["stock"], after[0]["price"]) == (1, 2_000)  # 3 reserved
    assert after[1] == after[0]
    assert (before[2]["state"], after[2]["state"]) == ("pending", "paid")
    assert after[2]["delivery"]["consignee"]["phone"] == "Terkunci"
