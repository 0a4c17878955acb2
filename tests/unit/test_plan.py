"""The import planner, on plain data."""

from __future__ import annotations

from typing import Any

from core.catalogue.plan import Action, plan_import
from core.catalogue.validate import (
    ProducerRecord,
    ProductRecord,
    RowRef,
    ValidatedCatalogue,
)
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import ProducerCode
from core.domain.stock import MovementReason
from core.ports import ProductIndexEntry
from tests.fakes import product

PRODUCER = Producer(
    ProducerCode("IKM-NTT-001"),
    "Koperasi Kopi Bajawa",
    ProducerKind.IKM,
    "Nusa Tenggara Timur",
    "Ngada",
)


def catalogue(
    *records: ProductRecord, producers: tuple[Producer, ...] = ()
) -> ValidatedCatalogue:
    return ValidatedCatalogue(
        producers=[
            ProducerRecord(p, RowRef("pr.csv", i)) for i, p in enumerate(producers, 2)
        ],
        products=list(records),
    )


def record(row: int = 2, stock: int | None = None, **changes: Any) -> ProductRecord:
    return ProductRecord(product(**changes), stock, RowRef("p.csv", row))


def test_new_products_are_created_with_their_initial_stock() -> None:
    plan = plan_import(
        catalogue(record(stock=12)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t"
    )
    assert plan.issues == []
    assert [p.action for p in plan.products] == [Action.CREATE]
    (receipt,) = plan.receipts
    assert receipt.reason is MovementReason.RECEIPT
    assert receipt.on_hand_delta == 12
    assert receipt.idempotency_key == "catalog-initial:KOPI-FLR-001"
    assert receipt.reference == "p.csv, row 2"


def test_zero_initial_stock_records_nothing() -> None:
    plan = plan_import(
        catalogue(record(stock=0)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t"
    )
    assert plan.receipts == []


def test_an_unchanged_row_changes_nothing() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    plan = plan_import(
        catalogue(record(stock=5)),
        {PRODUCER.code: PRODUCER},
        index,
        {},
        {stored.key: 5},
        "t",
    )
    assert not plan.changes_anything
    assert plan.unchanged_products == 1
    assert plan.notices == []


def test_a_changed_row_is_an_update_naming_its_fields() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    plan = plan_import(
        catalogue(record(price=90_000, name="Kopi Bajawa 250 g")),
        {PRODUCER.code: PRODUCER},
        index,
        {stored.key: stored},
        {},
        "t",
    )
    (change,) = plan.products
    assert change.action is Action.UPDATE
    assert change.changed == ("name", "price")


def test_initial_stock_is_ignored_with_a_notice_once_the_sku_has_movements() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    plan = plan_import(
        catalogue(record(stock=30)),
        {PRODUCER.code: PRODUCER},
        index,
        {},
        {stored.key: 7},
        "t",
    )
    assert plan.receipts == []
    (notice,) = plan.notices
    assert notice.column == "stock"
    assert "on hand 7" in notice.expected


def test_initial_stock_applies_to_a_stored_sku_without_movements() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    plan = plan_import(
        catalogue(record(stock=30)), {PRODUCER.code: PRODUCER}, index, {}, {}, "t"
    )
    assert [m.on_hand_delta for m in plan.receipts] == [30]
    assert plan.unchanged_products == 1


def test_unknown_producer_is_an_issue_but_a_producer_in_the_same_import_is_known() -> (
    None
):
    plan = plan_import(catalogue(record(producer="IKM-X")), {}, {}, {}, {}, "t")
    assert [(i.row, i.column, i.value) for i in plan.issues] == [
        (2, "producer_code", "IKM-X")
    ]
    plan = plan_import(catalogue(record(), producers=(PRODUCER,)), {}, {}, {}, {}, "t")
    assert plan.issues == []
    assert [p.action for p in plan.producers] == [Action.CREATE]


def test_a_sku_that_differs_from_the_stored_one_only_by_case_is_refused() -> None:
    stored = product(sku="KOPI-FLR-001")
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    plan = plan_import(
        catalogue(record(sku="kopi-flr-001")),
        {PRODUCER.code: PRODUCER},
        index,
        {},
        {},
        "t",
    )
    (issue,) = plan.issues
    assert issue.column == "sku"
    assert "'KOPI-FLR-001'" in issue.expected


def test_producer_updates_name_changed_fields() -> None:
    moved = Producer(
        PRODUCER.code,
        PRODUCER.name,
        PRODUCER.kind,
        PRODUCER.province,
        "Manggarai",
        sentra="Sentra Kopi Ruteng",
    )
    plan = plan_import(
        catalogue(producers=(moved,)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t"
    )
    assert plan.producers[0].changed == ("regency", "sentra")


def test_columns_missing_from_the_sheet_keep_their_stored_values() -> None:
    stored = product(
        description="Sangrai medium", image_urls=("https://a.example/1.jpg",)
    )
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    price_only = ProductRecord(
        product(price=90_000), None, RowRef("p.csv", 2), frozenset()
    )
    plan = plan_import(
        catalogue(price_only),
        {PRODUCER.code: PRODUCER},
        index,
        {stored.key: stored},
        {},
        "t",
    )
    (change,) = plan.products
    assert change.changed == ("price",)
    assert change.product.description == "Sangrai medium"
    assert change.product.image_urls == ("https://a.example/1.jpg",)


def test_an_empty_cell_in_a_present_column_clears_the_field() -> None:
    stored = product(description="Sangrai medium")
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    cleared = ProductRecord(
        product(), None, RowRef("p.csv", 2), frozenset({"description"})
    )
    plan = plan_import(
        catalogue(cleared),
        {PRODUCER.code: PRODUCER},
        index,
        {stored.key: stored},
        {},
        "t",
    )
    assert plan.products[0].changed == ("description",)


def test_a_sheet_without_optional_columns_leaves_a_full_product_unchanged() -> None:
    stored = product(description="Sangrai medium", category="Kopi")
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint)}
    bare = ProductRecord(product(), None, RowRef("p.csv", 2), frozenset())
    plan = plan_import(
        catalogue(bare), {PRODUCER.code: PRODUCER}, index, {stored.key: stored}, {}, "t"
    )
    assert not plan.changes_anything
    assert plan.unchanged_products == 1
