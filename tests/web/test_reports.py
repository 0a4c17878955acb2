"""Reports: programme figures, top products, chart and exports, in scope only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col

from core.store.tables import ChannelAccountRow, OrderLineRow, OrderRow, ProductRow
from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in

pytestmark = pytest.mark.db

AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
PERIOD = "since=2026-11-01&until=2026-11-30"
PLANTED = "<script>window.pwned=1</script>"


def _id(session: Session, row: type, column: str, value: str) -> int:
    found = session.execute(
        sa.select(row.id).where(getattr(row, column) == value)  # type: ignore[attr-defined]
    ).scalar_one()
    return int(found)


def _order(
    session: Session,
    account: str,
    external: str,
    status: str,
    lines: list[tuple[str, int, int]],
) -> None:
    order = OrderRow(
        account_id=_id(session, ChannelAccountRow, "account_key", account),
        external_id=external,
        status=status,
        raw_status=status,
        total_amount=sum(q * p for _, q, p in lines),
        placed_at=AT,
        first_seen_at=AT,
        updated_at=AT,
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    for number, (sku, quantity, price) in enumerate(lines, start=1):
        session.add(
            OrderLineRow(
                order_id=order.id,
                line_no=number,
                product_id=_id(session, ProductRow, "sku", sku),
                external_sku=sku,
                quantity=quantity,
                unit_price=price,
            )
        )


def _sales(world: ConsoleWorld) -> None:
    """NTT: 3 coffee at 50,000 over two paid orders and a cancelled one; the Lapas:
    one carving at 75,000. A product name carries a script."""
    with world.console.runtime.session_factory() as session:
        _order(
            session, "shopee-ntt-flores", "SHP-1", "paid", [("KOPI-FLR-001", 2, 50_000)]
        )
        _order(
            session,
            "shopee-ntt-flores",
            "SHP-2",
            "completed",
            [("KOPI-FLR-001", 1, 50_000)],
        )
        _order(
            session,
            "shopee-ntt-flores",
            "SHP-3",
            "cancelled",
            [("KOPI-FLR-001", 9, 50_000)],
        )
        _order(
            session,
            "tokopedia-karya-lapas",
            "TKP-1",
            "paid",
            [("AKARJATI-PTK-001", 1, 75_000)],
        )
        session.execute(
            sa.update(ProductRow)
            .where(col(ProductRow.sku) == "KOPI-FLR-001")
            .values(name=f"Kopi {PLANTED}")
        )
        session.commit()


def test_an_officer_sees_the_figures_of_their_scope_only(
    console_world: ConsoleWorld,
) -> None:
    _sales(console_world)
    client = console_world.client
    sign_in(client, "officer.ntt")
    page = client.get(f"/reports?by=province&{PERIOD}")
    assert page.status_code == 200
    assert "Nusa Tenggara Timur" in page.text
    assert "Rp 150.000" in page.text
    assert "Kalimantan Barat" not in page.text
    assert "AKARJATI" not in page.text
    assert "<svg" in page.text
    assert PLANTED not in page.text
    assert "&lt;script&gt;" in page.text
    exported = client.get(
        f"/reports/export?report=figures&format=csv&by=province&{PERIOD}"
    )
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(exported.text)))
    values = [r[0] for r in rows[1:]]
    assert "Nusa Tenggara Timur" in values
    assert "Kalimantan Barat" not in values
    top = client.get(f"/reports/export?report=top&format=xlsx&{PERIOD}")
    sheet = load_workbook(io.BytesIO(top.content)).worksheets[0]
    skus = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert skus == ["KOPI-FLR-001"]


def test_an_admin_sees_every_province(console_world: ConsoleWorld) -> None:
    _sales(console_world)
    client = console_world.client
    sign_in(client, "admin")
    page = client.get(f"/reports?by=province&{PERIOD}").text
    assert "Nusa Tenggara Timur" in page
    assert "Kalimantan Barat" in page
    assert "Rp 225.000" in page  # the total; the cancelled order does not count


def test_a_bad_period_names_the_field(console_world: ConsoleWorld) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    page = client.get("/reports?since=31-12-2026&until=2026-12-31")
    assert page.status_code == 422
    assert "since" in page.text
    backwards = client.get("/reports?since=2026-12-31&until=2026-01-01")
    assert backwards.status_code == 422
    assert (
        client.get("/reports/export?since=yesterday&until=2026-12-01").status_code
        == 422
    )
