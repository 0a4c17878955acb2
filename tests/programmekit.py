"""A small world of producers, products, accounts and orders whose programme
figures are worked out by hand (``tests/integration/test_programme.py``).

The world (times UTC; the period is January and February in WIB, that is
[2025-12-31 17:00, 2026-02-28 17:00) UTC; "seen" is first_seen_at):

=====  =========  ===============  ================  ===========================
order  account    status           time              lines (sku x qty)
=====  =========  ===============  ================  ===========================
O0     tokopedia  paid             2025-12-31 17:00  TENUN x 1 (at since)
O1     shopee     paid             2026-01-10 03:00  KOPI x 2; TENUN x 1
O2     tokopedia  completed        2026-01-31 18:00  ANYAM x 3 (February in WIB)
O3     shopee     shipped          seen 2026-02-05   KOPI x 1; ANYAM x 1
O4     tokopedia  cancelled        2026-01-15        KOPI x 10
O5     shopee     returned         2026-01-20        TENUN x 5
O6     shopee     pending_payment  2026-01-21        KOPI x 4
O7     tokopedia  delivered        2026-01-25        (no product) x 2; TENUN x 2
O8     shopee     paid             2026-02-28 17:00  KOPI x 1 (at until)
O9     shopee     paid             2025-12-20,       ANYAM x 1 (placed before)
                                   seen 2026-01-05
=====  =========  ===============  ================  ===========================

Prices: KOPI 50,000, TENUN 200,000, ANYAM 30,000, the unmatched line 10,000.
KOPI is made by an IKM of NTT (no institution), TENUN by Lapas Kupang (WBP, NTT),
ANYAM by Lapas Pontianak (WBP, Kalimantan Barat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from core.domain.programme import month_start
from core.store.programme import SqlProgrammeReader
from core.store.tables import (
    ChannelAccountRow,
    OrderLineRow,
    OrderRow,
    ProducerRow,
    ProductRow,
)

#: The period of the world: January and February 2026 in WIB.
SINCE = month_start(2026, 1)
UNTIL = month_start(2026, 3)
NTT = "Nusa Tenggara Timur"
KALBAR = "Kalimantan Barat"
#: A producer name a spreadsheet program would run as a formula.
HOSTILE = '=HYPERLINK("http://x.example","klik")'
CREATED = datetime(2025, 6, 1, tzinfo=UTC)


#: An order's lines: SKU (None: no product matched) and quantity.
Lines = list[tuple[str | None, int]]


def at(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    reader: SqlProgrammeReader
    producers: dict[str, int]  # code -> producers.id

    def ids(self, *codes: str) -> frozenset[int]:
        return frozenset(self.producers[code] for code in codes)


def _id(row: ProducerRow | ProductRow | ChannelAccountRow | OrderRow) -> int:
    assert row.id is not None, "flushed rows have their id"
    return row.id


def seed(session: Session) -> dict[str, int]:
    """Write the world; returns each producer's ``producers.id`` by code."""
    producers = {
        "IKM-NTT": ProducerRow(
            code="IKM-NTT", name="Kopi Flores", kind="ikm", province=NTT,
            regency="Manggarai", created_at=CREATED, updated_at=CREATED,
        ),
        "WBP-NTT": ProducerRow(
            code="WBP-NTT", name="Tenun Lapas Kupang", kind="wbp", province=NTT,
            regency="Kupang", institution="Lapas Kupang",
            created_at=CREATED, updated_at=CREATED,
        ),
        "WBP-KB": ProducerRow(
            code="WBP-KB", name=HOSTILE, kind="wbp", province=KALBAR,
            regency="Pontianak", institution="Lapas Pontianak",
            created_at=CREATED, updated_at=CREATED,
        ),
    }  # fmt: skip
    session.add_all(producers.values())
    session.flush()
    products = {
        sku: ProductRow(
            sku=sku, sku_key=sku.lower(), producer_id=_id(producers[code]),
            name=name, price=price, weight_grams=500, condition="new",
            status="active", fingerprint="f" * 64,
            created_at=CREATED, updated_at=CREATED,
        )
        for sku, code, name, price in (
            ("KOPI-1", "IKM-NTT", "Kopi Arabika Flores", 50_000),
            ("TENUN-1", "WBP-NTT", "Selendang Tenun Ikat", 200_000),
            ("ANYAM-1", "WBP-KB", "Tas Anyaman Rotan", 30_000),
        )
    }  # fmt: skip
    session.add_all(products.values())
    accounts = {
        name: ChannelAccountRow(
            account_key=f"{name}-main", marketplace=name, shop_id=f"{name}-1",
            created_at=CREATED, updated_at=CREATED,
        )
        for name in ("shopee", "tokopedia")
    }  # fmt: skip
    session.add_all(accounts.values())
    session.flush()
    price = {"KOPI-1": 50_000, "TENUN-1": 200_000, "ANYAM-1": 30_000, None: 10_000}
    kopi, tenun, anyam = "KOPI-1", "TENUN-1", "ANYAM-1"
    orders: list[tuple[str, str, str, datetime | None, datetime, Lines]] = [
        ("O0", "tokopedia", "paid", at(12, 31, 17, 2025), at(1, 1), [(tenun, 1)]),
        ("O1", "shopee", "paid", at(1, 10, 3), at(1, 10), [(kopi, 2), (tenun, 1)]),
        ("O2", "tokopedia", "completed", at(1, 31, 18), at(1, 31), [(anyam, 3)]),
        ("O3", "shopee", "shipped", None, at(2, 5), [(kopi, 1), (anyam, 1)]),
        ("O4", "tokopedia", "cancelled", at(1, 15), at(1, 15), [(kopi, 10)]),
        ("O5", "shopee", "returned", at(1, 20), at(1, 20), [(tenun, 5)]),
        ("O6", "shopee", "pending_payment", at(1, 21), at(1, 21), [(kopi, 4)]),
        ("O7", "tokopedia", "delivered", at(1, 25), at(1, 25), [(None, 2), (tenun, 2)]),
        ("O8", "shopee", "paid", at(2, 28, 17), at(2, 28), [(kopi, 1)]),
        ("O9", "shopee", "paid", at(12, 20, 0, 2025), at(1, 5), [(anyam, 1)]),
    ]  # fmt: skip
    for external_id, account, status, placed, seen, lines in orders:
        order = OrderRow(
            account_id=_id(accounts[account]), external_id=external_id, status=status,
            raw_status=status.upper(), total_amount=sum(price[s] * q for s, q in lines),
            placed_at=placed, first_seen_at=seen, updated_at=seen,
        )  # fmt: skip
        session.add(order)
        session.flush()
        session.add_all(
            OrderLineRow(
                order_id=_id(order), line_no=number, quantity=quantity,
                product_id=None if sku is None else _id(products[sku]),
                external_sku=sku or "GONE-9", unit_price=price[sku],
            )
            for number, (sku, quantity) in enumerate(lines, start=1)
        )  # fmt: skip
    session.commit()
    return {code: _id(row) for code, row in producers.items()}
