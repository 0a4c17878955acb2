"""Services through the ports, over the in-memory fake and the real database alike."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest

from core.catalogue.sheets import Cell, Sheet
from core.catalogue.validate import ProductRecord
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.ids import AccountId, ProducerCode
from core.domain.stock import MovementReason
from core.errors import (
    DomainError,
    InputRejectedError,
    InsufficientStockError,
    UnknownSkuError,
)
from core.services import catalogue as catalogue_service
from core.services.accounts import apply_accounts
from core.services.catalogue import export_catalogue, import_catalogue
from core.services.status import catalogue_status
from core.services.stock import adjust_stock, show_stock
from core.store.products import SqlProductRepository
from tests.fakes import FakeClock, FakeProducts

PRODUCERS = Sheet(
    "producers.csv",
    ("producer_code", "name", "kind", "province", "regency", "institution"),
    [
        (2, ("IKM-NTT-001", "Koperasi Kopi Bajawa", "ikm", "NTT", "Ngada", "")),
        (
            3,
            (
                "WBP-KALBAR-001",
                "Bengkel Kerja Lapas Pontianak",
                "wbp",
                "Kalimantan Barat",
                "Kota Pontianak",
                "Lapas Kelas IIA Pontianak",
            ),
        ),
    ],
)
HEADER = ("sku", "producer_code", "name", "price", "weight_grams", "stock")


def products(*rows: tuple[Cell, ...]) -> Sheet:
    return Sheet("products.csv", HEADER, [(n, r) for n, r in enumerate(rows, start=2)])


KOPI = (
    "KOPI-FLR-001",
    "IKM-NTT-001",
    "Kopi Arabika Flores Bajawa 250 g",
    "85000",
    "270",
    "48",
)
JATI = (
    "AKARJATI-PTK-001",
    "WBP-KALBAR-001",
    "Patung Akar Jati Burung Enggang",
    "750000",
    "2500",
    "3",
)


def run_import(
    uow: Any, clock: FakeClock, *sheets: Sheet, dry_run: bool = False
) -> Any:
    return import_catalogue(
        uow,
        list(sheets),
        actor="officer:ani",
        clock=clock,
        dry_run=dry_run,
    )


def test_import_creates_records_and_initial_stock(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    report = run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    assert report.applied
    assert report.receipts_recorded == 2
    view = show_stock(uow_factory(), "kopi-flr-001")
    assert view.level.on_hand == 48
    (movement,) = view.movements
    assert (movement.reason, movement.actor, movement.reference) == (
        MovementReason.RECEIPT,
        "officer:ani",
        "products.csv, row 2",
    )
    status = catalogue_status(uow_factory())
    assert status.stock.on_hand == 51
    assert sum(status.producers.values()) == 2


def test_reimporting_the_same_file_changes_nothing(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    again = run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    assert not again.plan.changes_anything
    assert again.plan.summary()["products_unchanged"] == 2
    assert again.receipts_recorded == 0
    assert show_stock(uow_factory(), "KOPI-FLR-001").level.on_hand == 48


def test_a_changed_row_updates_that_sku_only(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    dearer = (*KOPI[:3], "90000", *KOPI[4:])
    report = run_import(uow_factory(), clock, products(dearer, JATI))
    (change,) = report.plan.products
    assert (change.product.sku, change.changed) == ("KOPI-FLR-001", ("price",))
    assert show_stock(uow_factory(), "KOPI-FLR-001").product.price == 90000


def test_a_dry_run_writes_nothing(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    report = run_import(uow_factory(), clock, PRODUCERS, products(KOPI), dry_run=True)
    assert report.plan.summary()["products_created"] == 1
    with pytest.raises(UnknownSkuError):
        show_stock(uow_factory(), "KOPI-FLR-001")


def test_an_unknown_sku_says_where_the_skus_are_listed(
    uow_factory: Callable[[], Any],
) -> None:
    with pytest.raises(UnknownSkuError) as unknown:
        show_stock(uow_factory(), "KOPI-FLR-404")
    message = str(unknown.value)
    assert "'KOPI-FLR-404'" in message
    assert "`ikm-sync catalog export products.csv` lists every SKU" in message
    assert "ikm-sync status" not in message  # it counts products, names none


def test_a_bad_file_is_rejected_whole(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI))
    bad = (
        "BATIK-CPN-001",
        "WBP-DKI-404",
        "Kain Batik Tulis Cipinang",
        "350000",
        "400",
        "2",
    )
    dearer = (*KOPI[:3], "99000", *KOPI[4:])
    with pytest.raises(InputRejectedError) as rejected:
        run_import(uow_factory(), clock, products(dearer, bad))
    assert [(i.row, i.column) for i in rejected.value.issues] == [(3, "producer_code")]
    assert show_stock(uow_factory(), "KOPI-FLR-001").product.price == 85000


def test_adjust_stock_records_one_movement_and_refuses_negative(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI))
    recorded = adjust_stock(
        uow_factory(),
        sku="KOPI-FLR-001",
        delta=-8,
        note="tasting",
        actor="officer:ani",
        clock=clock,
        idempotency_key="k1",
    )
    assert (recorded.created, recorded.level.on_hand) == (True, 40)
    replay = adjust_stock(
        uow_factory(),
        sku="KOPI-FLR-001",
        delta=-8,
        note="tasting",
        actor="officer:ani",
        clock=clock,
        idempotency_key="k1",
    )
    assert (replay.created, replay.level.on_hand) == (False, 40)
    with pytest.raises(InsufficientStockError):
        adjust_stock(
            uow_factory(),
            sku="KOPI-FLR-001",
            delta=-41,
            note="x",
            actor="officer:ani",
            clock=clock,
        )
    assert show_stock(uow_factory(), "KOPI-FLR-001").level.on_hand == 40


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 0}, "moves nothing"),
        ({"note": "  "}, "reason text is required"),
        ({"reason": MovementReason.ORDER_RESERVED}, "recorded from orders"),
        ({"reason": MovementReason.RECEIPT, "delta": -1}, "receipt movement needs"),
    ],
)
def test_adjust_stock_refuses_bad_requests(
    uow_factory: Callable[[], Any],
    clock: FakeClock,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI))
    arguments: dict[str, Any] = {
        "sku": "KOPI-FLR-001",
        "delta": 1,
        "note": "why",
        "actor": "officer:ani",
        "clock": clock,
        **kwargs,
    }
    with pytest.raises(DomainError, match=message):
        adjust_stock(uow_factory(), **arguments)


def test_export_lists_products_with_on_hand(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    producers, rows = export_catalogue(uow_factory())
    assert [p.code for p in producers] == ["IKM-NTT-001", "WBP-KALBAR-001"]
    assert [(p.sku, on_hand) for p, on_hand in rows] == [
        ("AKARJATI-PTK-001", 3),
        ("KOPI-FLR-001", 48),
    ]


def _account(**changes: Any) -> ChannelAccount:
    values: dict[str, Any] = {
        "id": AccountId("shopee-ntt"),
        "marketplace": Marketplace.SHOPEE,
        "shop_id": "220011",
        "producer_codes": (ProducerCode("IKM-NTT-001"),),
        "policy": AllocationPolicy(default=AllocationRule(share_percent=60)),
        "credentials_ref": "shopee_main",
    }
    return ChannelAccount(**{**values, **changes})


def test_apply_accounts_creates_updates_and_reports(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI))
    first = apply_accounts(uow_factory(), [_account()], clock=clock, source="t.toml")
    assert first.created == ["shopee-ntt"]
    again = apply_accounts(uow_factory(), [_account()], clock=clock, source="t.toml")
    assert again.unchanged == ["shopee-ntt"]
    changed = _account(
        enabled=False,
        producer_codes=(ProducerCode("IKM-NTT-001"), ProducerCode("WBP-KALBAR-001")),
    )
    third = apply_accounts(uow_factory(), [changed], clock=clock, source="t.toml")
    assert third.updated == ["shopee-ntt"]
    (stored,) = catalogue_status(uow_factory()).accounts
    assert stored.account == changed
    later = apply_accounts(uow_factory(), [], clock=clock, source="t.toml")
    assert later.only_in_store == ["shopee-ntt"]


def test_apply_accounts_refuses_unknown_producers(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    bad = _account(producer_codes=(ProducerCode("IKM-NOPE"),))
    with pytest.raises(InputRejectedError) as rejected:
        apply_accounts(uow_factory(), [bad], clock=clock, source="t.toml")
    assert rejected.value.issues[0].column == "accounts[0].producers"
    assert catalogue_status(uow_factory()).accounts == []


def test_reimport_recognises_rows_it_imported_and_rechecks_the_rest(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI, JATI))
    again = run_import(uow_factory(), clock, products(KOPI, JATI))
    assert again.plan.summary()["products_unchanged"] == 2
    # A narrower sheet changes the price: KOPI's digest now names that sheet's row.
    narrow = Sheet(
        "price.csv",
        ("sku", "producer_code", "name", "price", "weight_grams"),
        [(2, (*KOPI[:3], "99000", KOPI[4]))],
    )
    run_import(uow_factory(), clock, narrow)
    assert show_stock(uow_factory(), "KOPI-FLR-001").product.price == 99000
    # The full sheet again: KOPI's row no longer matches, so it is parsed and applied.
    restored = run_import(uow_factory(), clock, products(KOPI, JATI))
    assert [p.changed for p in restored.plan.products] == [("price",)]
    assert restored.plan.summary()["products_unchanged"] == 1
    assert show_stock(uow_factory(), "KOPI-FLR-001").product.price == 85000


def test_a_stored_shop_cannot_move_to_another_account_id(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    run_import(uow_factory(), clock, PRODUCERS, products(KOPI))
    apply_accounts(uow_factory(), [_account()], clock=clock, source="t.toml")
    renamed = _account(id=AccountId("shopee-ntt-renamed"))
    with pytest.raises(InputRejectedError) as rejected:
        apply_accounts(uow_factory(), [renamed], clock=clock, source="t.toml")
    (issue,) = rejected.value.issues
    assert issue.column == "accounts[0].shop_id"
    assert "stored as account 'shopee-ntt'" in issue.expected
    assert [a.account.id for a in catalogue_status(uow_factory()).accounts] == [
        "shopee-ntt"
    ]


def _many(count: int, *, unknown_at: tuple[int, ...] = ()) -> Sheet:
    """``count`` product rows; those at ``unknown_at`` name an unknown producer."""
    return products(
        *(
            (
                f"TENUN-{n:03}",
                "IKM-NTT-404" if n in unknown_at else "IKM-NTT-001",
                f"Kain Tenun Ikat Sumba {n}",
                str(100_000 + n),
                "400",
                "2",
            )
            for n in range(count)
        )
    )


def _live_records() -> int:
    return sum(isinstance(o, ProductRecord) for o in gc.get_objects())


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Chunks of 3 rows, records held up to 4; each ``add_many`` call is logged as
    (products added, validated records alive at that moment)."""
    monkeypatch.setattr(catalogue_service, "CHUNK_ROWS", 3)
    monkeypatch.setattr(catalogue_service, "HELD_ROWS", 4)
    calls: list[tuple[int, int]] = []
    for repository in (FakeProducts, SqlProductRepository):
        original = repository.add_many

        def add_many(
            self: Any, items: Any, *args: Any, _original: Any = original, **kw: Any
        ) -> None:
            calls.append((len(items), _live_records()))
            _original(self, items, *args, **kw)

        monkeypatch.setattr(repository, "add_many", add_many)
    return calls


def test_a_large_import_is_written_chunk_by_chunk_holding_one_chunk(
    uow_factory: Callable[[], Any],
    clock: FakeClock,
    small_chunks: list[tuple[int, int]],
) -> None:
    report = run_import(uow_factory(), clock, PRODUCERS, _many(10))
    assert [added for added, _ in small_chunks] == [3, 3, 3, 1]
    assert max(alive for _, alive in small_chunks) <= 3
    summary = report.plan.summary()
    assert (summary["products_created"], summary["stock_receipts"]) == (10, 10)
    assert (summary["stock_received"], report.receipts_recorded) == (20, 10)
    assert catalogue_status(uow_factory()).stock.on_hand == 20
    assert show_stock(uow_factory(), "TENUN-009").product.price == 100_009

    again = run_import(uow_factory(), clock, _many(10))
    assert not again.plan.changes_anything
    assert again.plan.summary()["products_unchanged"] == 10
    rows = list(_many(10).rows)
    number, cells = rows[7]
    rows[7] = (number, (*cells[:3], "99000", *cells[4:]))
    changed = run_import(uow_factory(), clock, Sheet("products.csv", HEADER, rows))
    assert [(p.product.sku, p.changed) for p in changed.plan.products] == [
        ("TENUN-007", ("price",))
    ]
    assert changed.plan.summary()["products_unchanged"] == 9
    assert show_stock(uow_factory(), "TENUN-007").product.price == 99000


@pytest.mark.parametrize("held", [True, False], ids=["held", "validated-again"])
def test_an_issue_in_a_late_chunk_undoes_the_chunks_written_before(
    uow_factory: Callable[[], Any],
    clock: FakeClock,
    small_chunks: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
    held: bool,
) -> None:
    if held:
        monkeypatch.setattr(catalogue_service, "HELD_ROWS", 100)
    with pytest.raises(InputRejectedError) as rejected:
        run_import(uow_factory(), clock, PRODUCERS, _many(10, unknown_at=(7, 9)))
    issues = [(i.source, i.row, i.column) for i in rejected.value.issues]
    assert issues == [
        ("products.csv", 9, "producer_code"),
        ("products.csv", 11, "producer_code"),
    ]
    assert [added for added, _ in small_chunks] == [3, 3]  # then rolled back
    status = catalogue_status(uow_factory())
    assert (sum(status.producers.values()), status.stock.on_hand) == (0, 0)
    with pytest.raises(UnknownSkuError):
        show_stock(uow_factory(), "TENUN-000")


def test_a_plan_holds_the_changes_asked_for_and_counts_them_all(
    uow_factory: Callable[[], Any],
    clock: FakeClock,
    small_chunks: list[tuple[int, int]],
) -> None:
    report = import_catalogue(
        uow_factory(),
        [PRODUCERS, _many(10)],
        actor="officer:ani",
        clock=clock,
        dry_run=True,
        hold=2,
    )
    assert [p.product.sku for p in report.plan.products] == ["TENUN-000", "TENUN-001"]
    assert len(report.plan.receipts) == 2
    summary = report.plan.summary()
    assert (summary["products_created"], summary["stock_receipts"]) == (10, 10)
    assert summary["stock_received"] == 20
    assert small_chunks == []
    with pytest.raises(UnknownSkuError):
        show_stock(uow_factory(), "TENUN-000")


def test_a_sheet_read_only_once_is_held_whole_however_large(
    uow_factory: Callable[[], Any],
    clock: FakeClock,
    small_chunks: list[tuple[int, int]],
) -> None:
    streamed = Sheet("products.csv", HEADER, iter(list(_many(10).rows)))
    report = run_import(uow_factory(), clock, PRODUCERS, streamed)
    assert report.plan.summary()["products_created"] == 10
    assert [added for added, _ in small_chunks] == [3, 3, 3, 1]
    assert catalogue_status(uow_factory()).stock.on_hand == 20


def test_a_refused_confirmation_writes_nothing(
    uow_factory: Callable[[], Any], clock: FakeClock
) -> None:
    seen: list[dict[str, int]] = []

    def refuse(plan: Any) -> None:
        seen.append(plan.summary())
        raise RuntimeError("not the plan a person saw")

    with pytest.raises(RuntimeError, match="not the plan"):
        import_catalogue(
            uow_factory(),
            [PRODUCERS, products(KOPI)],
            actor="officer:ani",
            clock=clock,
            confirm=refuse,
        )
    assert seen[0]["products_created"] == 1
    assert seen[0]["stock_receipts"] == 1
    with pytest.raises(UnknownSkuError):
        show_stock(uow_factory(), "KOPI-FLR-001")
    with uow_factory() as uow:
        assert uow.producers.get_all() == {}
    confirmed: list[int] = []
    run = import_catalogue(
        uow_factory(),
        [PRODUCERS, products(KOPI)],
        actor="officer:ani",
        clock=clock,
        confirm=lambda plan: confirmed.append(len(plan.products)),
    )
    assert run.applied
    assert confirmed == [1]
    assert show_stock(uow_factory(), "KOPI-FLR-001").level.on_hand == 48
