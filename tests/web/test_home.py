"""The home page: what needs a person now, in the viewer's scope only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col

from core.store.tables import (
    ChannelAccountRow,
    ListingRow,
    OrderRow,
    ProductRow,
    SyncRunRow,
    table_of,
)
from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in

pytestmark = pytest.mark.db

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PLANTED = "<script>window.pwned=1</script>"


def _account_id(session: sa.orm.Session, key: str) -> int:
    found = session.execute(
        sa.select(col(ChannelAccountRow.id)).where(
            col(ChannelAccountRow.account_key) == key
        )
    ).scalar_one()
    assert found is not None
    return found


def _plant(world: ConsoleWorld) -> None:
    """A failed NTT listing, an oversold Lapas order and drift on the NTT shop."""
    with world.console.runtime.session_factory() as session:
        ntt = _account_id(session, "shopee-ntt-flores")
        lapas = _account_id(session, "tokopedia-karya-lapas")
        coffee = session.execute(
            sa.select(col(ProductRow.id)).where(col(ProductRow.sku) == "KOPI-FLR-001")
        ).scalar_one()
        session.execute(
            sa.insert(table_of(ListingRow)),
            [
                {
                    "account_id": ntt,
                    "product_id": coffee,
                    "state": "failed",
                    "last_error": f"category refused {PLANTED}",
                    "created_at": AT,
                    "updated_at": AT,
                }
            ],
        )
        session.execute(
            sa.insert(table_of(OrderRow)),
            [
                {
                    "account_id": lapas,
                    "external_id": "TKP-OVERSOLD-1",
                    "status": "paid",
                    "raw_status": "220",
                    "total_amount": 185000,
                    "currency": "IDR",
                    "oversold": True,
                    "stock_state": "reserved",
                    "placed_at": AT,
                    "first_seen_at": AT,
                    "updated_at": AT,
                }
            ],
        )
        session.execute(
            sa.insert(table_of(SyncRunRow)),
            [
                {
                    "kind": "reconcile",
                    "account_id": ntt,
                    "trigger": "schedule",
                    "started_at": AT,
                    "finished_at": AT,
                    "outcome": "succeeded",
                    "counts": {"drift": 2, "orphan": 1, "listings_seen": 14},
                }
            ],
        )
        session.commit()


def test_each_officer_sees_what_needs_them_and_nothing_of_others(
    console_world: ConsoleWorld,
) -> None:
    _plant(console_world)
    ntt = console_world.client
    sign_in(ntt, "officer.ntt")
    page = ntt.get("/").text
    assert "KOPI-FLR-001" in page
    assert "category refused &lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert PLANTED not in page
    assert "drift 2, orphan 1" in page
    assert "TKP-OVERSOLD-1" not in page
    lapas = console_world.browser()
    sign_in(lapas, "officer.lapas")
    page = lapas.get("/").text
    assert "TKP-OVERSOLD-1" in page
    assert "Rp 185.000" in page
    assert "KOPI-FLR-001" not in page
    assert "drift 2" not in page


def test_an_auditor_sees_everything_that_needs_attention(
    console_world: ConsoleWorld,
) -> None:
    _plant(console_world)
    client = console_world.client
    sign_in(client, "auditor")
    page = client.get("/").text
    assert "KOPI-FLR-001" in page
    assert "TKP-OVERSOLD-1" in page
    assert "drift 2, orphan 1" in page


def test_nothing_planted_says_nothing_needs_a_person(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "admin")
    assert "Tidak ada yang perlu ditangani sekarang." in client.get("/").text
