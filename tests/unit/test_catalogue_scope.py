"""Which import rows an officer may write: only those of producers in scope."""

from __future__ import annotations

from core.catalogue.scope import out_of_scope
from core.catalogue.sheets import Sheet
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import ProducerCode
from core.domain.users import Role, Scope, User, Visible

NTT = "Nusa Tenggara Timur"
STORED = {
    "IKM-NTT-001": Producer(
        ProducerCode("IKM-NTT-001"), "Kopi", ProducerKind.IKM, NTT, "Ngada"
    ),
    "WBP-KALBAR-001": Producer(
        ProducerCode("WBP-KALBAR-001"),
        "Lapas",
        ProducerKind.WBP,
        "Kalimantan Barat",
        "Pontianak",
        institution="Lapas Kelas IIA Pontianak",
    ),
}
PRODUCT_HEADER = ("sku", "producer_code", "name", "price", "weight_grams")
PRODUCER_HEADER = ("producer_code", "name", "kind", "province", "regency")


def _officer(**scope: frozenset[str]) -> Visible:
    user = User("officer.ntt", Role.OFFICER, scope=Scope(**scope))
    return Visible(user, frozenset({1}), frozenset({"IKM-NTT-001"}))


def _products(*rows: tuple[str, str]) -> Sheet:
    return Sheet(
        "produk.csv",
        PRODUCT_HEADER,
        [
            (n, (sku, code, "Barang", "1000", "10"))
            for n, (sku, code) in enumerate(rows, 2)
        ],
    )


def test_everyone_who_sees_everything_may_import_any_row() -> None:
    admin = Visible(User("admin", Role.ADMIN), None, None)
    sheet = _products(("JATI-1", "WBP-KALBAR-001"))
    assert out_of_scope([sheet], admin, STORED) == []


def test_a_row_of_a_producer_out_of_scope_is_named_by_file_row_and_code() -> None:
    officer = _officer(provinces=frozenset({NTT}))
    sheet = _products(("KOPI-1", "IKM-NTT-001"), ("JATI-1", "WBP-KALBAR-001"))
    issues = out_of_scope([sheet], officer, STORED)
    assert [(i.source, i.row, i.column, i.value) for i in issues] == [
        ("produk.csv", 3, "producer_code", "WBP-KALBAR-001")
    ]
    assert "WBP-KALBAR-001 is outside" in issues[0].expected


def test_a_new_producer_in_scope_brings_its_products_but_none_may_leave() -> None:
    officer = _officer(provinces=frozenset({NTT}))
    producers = Sheet(
        "produsen.csv",
        PRODUCER_HEADER,
        [
            (2, ("IKM-NTT-009", "Baru", "ikm", NTT, "Sikka")),
            (3, ("IKM-NTT-001", "Kopi", "ikm", "Bali", "Gianyar")),  # moves out
            (4, ("IKM-BALI-001", "Bali", "ikm", "Bali", "Gianyar")),
            (5, ("WBP-KALBAR-001", "Lapas", "ikm", NTT, "Kupang")),  # not ours now
        ],
    )
    sheet = _products(
        ("NEW-1", "IKM-NTT-009"), ("NEW-2", "IKM-BALI-001"), ("NEW-3", "IKM-X-1")
    )
    issues = out_of_scope([producers, sheet], officer, STORED)
    assert [(i.source, i.row, i.value) for i in issues] == [
        ("produsen.csv", 3, "IKM-NTT-001"),
        ("produsen.csv", 4, "IKM-BALI-001"),
        ("produsen.csv", 5, "WBP-KALBAR-001"),
        ("produk.csv", 3, "IKM-BALI-001"),  # NEW-3's unknown producer: the import's
    ]
