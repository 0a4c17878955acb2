"""The import planner, on plain data."""

from __future__ import annotations

from core.catalogue.plan import Action, plan_import
from core.catalogue.validate import ProducerRecord, ProductRecord, RowRef, ValidatedCatalogue
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import ProducerCode
from core.domain.stock import MovementReason
from core.ports import ProductIndexEntry
from tests.fakes import product

PRODUCER = Producer(ProducerCode("IKM-NTT-001"), "Koperasi Kopi Bajawa", ProducerKind.IKM,
                    "Nusa Tenggara Timur", "Ngada")  # fmt: skip


def catalogue(*records: ProductRecord, producers: tuple[Producer, ...] = ()) -> ValidatedCatalogue:
    return ValidatedCatalogue(
        producers=[ProducerRecord(p, RowRef("pr.csv", i)) for i, p in enumerate(producers, 2)],
        products=list(records),
    )


def record(row: int = 2, stock: int | None = None, **changes: object) -> ProductRecord:
    return ProductRecord(product(**changes), stock, RowRef("p.csv", row))


def test_new_products_are_created_with_their_initial_stock() -> None:
    plan = plan_import(catalogue(record(stock=12)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t")
    assert plan.issues == []
    assert [p.action for p in plan.products] == [Action.CREATE]
    (receipt,) = plan.receipts
    assert receipt.reason is MovementReason.RECEIPT
    assert receipt.on_hand_delta == 12
    assert receipt.idempotency_key == "catalog-initial:KOPI-FLR-001"
    assert receipt.reference == "p.csv, row 2"


def test_zero_initial_stock_records_nothing() -> None:
    plan = plan_import(catalogue(record(stock=0)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t")
    assert plan.receipts == []


def test_an_unchanged_row_changes_nothing() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint())}
    plan = plan_import(catalogue(record(stock=5)), {PRODUCER.code: PRODUCER}, index, {},
                       {stored.key: 5}, "t")  # fmt: skip
    assert not plan.changes_anything
    assert plan.unchanged_products == 1
    assert plan.notices == []


def test_a_changed_row_is_an_update_naming_its_fields() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint())}
    plan = plan_import(catalogue(record(price=90_000, name="Kopi Bajawa 250 g")),
                       {PRODUCER.code: PRODUCER}, index, {stored.key: stored}, {}, "t")  # fmt: skip
    (change,) = plan.products
    assert change.action is Action.UPDATE
    assert change.changed == ("name", "price")


def test_initial_stock_is_ignored_with_a_notice_once_the_sku_has_movements() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint())}
    plan = plan_import(catalogue(record(stock=30)), {PRODUCER.code: PRODUCER}, index, {},
                       {stored.key: 7}, "t")  # fmt: skip
    assert plan.receipts == []
    (notice,) = plan.notices
    assert notice.column == "stock"
    assert "on hand 7" in notice.expected


def test_initial_stock_applies_to_a_stored_sku_without_movements() -> None:
    stored = product()
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint())}
    plan = plan_import(catalogue(record(stock=30)), {PRODUCER.code: PRODUCER}, index, {}, {}, "t")
    assert [m.on_hand_delta for m in plan.receipts] == [30]
    assert plan.unchanged_products == 1


def test_unknown_producer_is_an_issue_but_a_producer_in_the_same_import_is_known() -> None:
    plan = plan_import(catalogue(record(producer="IKM-X")), {}, {}, {}, {}, "t")
    assert [(i.row, i.column, i.value) for i in plan.issues] == [(2, "producer_code", "IKM-X")]
    plan = plan_import(catalogue(record(), producers=(PRODUCER,)), {}, {}, {}, {}, "t")
    assert plan.issues == []
    assert [p.action for p in plan.producers] == [Action.CREATE]


def test_a_sku_that_differs_from_the_stored_one_only_by_case_is_refused() -> None:
    stored = product(sku="KOPI-FLR-001")
    index = {stored.key: ProductIndexEntry(stored.sku, stored.fingerprint())}
    plan = plan_import(catalogue(record(sku="kopi-flr-001")), {PRODUCER.code: PRODUCER},
                       index, {}, {}, "t")  # fmt: skip
    (issue,) = plan.issues
    assert issue.column == "sku"
    assert "'KOPI-FLR-001'" in issue.expected


def test_producer_updates_name_changed_fields() -> None:
    moved = Producer(PRODUCER.code, PRODUCER.name, PRODUCER.kind, PRODUCER.province,
                     "Manggarai", sentra="Sentra Kopi Ruteng")  # fmt: skip
    plan = plan_import(catalogue(producers=(moved,)), {PRODUCER.code: PRODUCER}, {}, {}, {}, "t")
    assert plan.producers[0].changed == ("regency", "sentra")
