"""A store that held records before the audit trail began: ``audit verify``'s
record checks do not ask those records for events no one could have written, and
still ask every record made since."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.domain.ids import Sku
from core.domain.stock import MovementReason, NewMovement
from core.store.audit_state import mismatches
from core.store.db import _alembic_config, make_session_factory, upgrade
from core.store.uow import SqlUnitOfWork

pytestmark = pytest.mark.db

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _receipt(sessions: sessionmaker[Session], key: str) -> None:
    with SqlUnitOfWork(sessions) as uow:
        uow.stock.record(
            NewMovement(
                Sku("KOPI-1"), MovementReason.RECEIPT, 5, 0, key, "officer:ani"
            ),
            NOW,
        )
        uow.commit()


def _by_hand(engine: sa.Engine, key: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO stock_movements (product_id, location, reason,"
                " on_hand_delta, reserved_delta, reference, actor, note, at,"
                " idempotency_key) SELECT id, 'main', 'receipt', 3, 0, '',"
                " 'officer:ani', '', :at, :key FROM products WHERE sku = 'KOPI-1'"
            ),
            {"at": NOW, "key": key},
        )


def test_records_made_before_the_trail_are_not_asked_for_events(
    engine: sa.Engine,
) -> None:
    command.downgrade(_alembic_config(engine), "0012")  # a store from before
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO producers (code, name, kind, province, regency,"
                " created_at, updated_at) VALUES ('IKM-1', 'Kopi', 'IKM', 'NTT',"
                " 'Ngada', :at, :at)"
            ),
            {"at": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO products (sku, sku_key, producer_id, name, description,"
                " category, price, weight_grams, image_urls, condition, status,"
                " provenance, fingerprint, created_at, updated_at) SELECT 'KOPI-1',"
                " 'KOPI-1', id, 'Kopi', '', '', 85000, 250, '[]', 'new', 'active',"
                " '', 'f', :at, :at FROM producers"
            ),
            {"at": NOW},
        )
    _by_hand(engine, "before:1")
    upgrade(engine)  # the trail begins here
    sessions = make_session_factory(engine)

    with sessions() as session:
        assert mismatches(session) == []
    _receipt(sessions, "after:1")  # through the application: its event written
    with sessions() as session:
        assert mismatches(session) == []
    _by_hand(engine, "after:2")  # behind the application's back, after the start
    with sessions() as session:
        found = mismatches(session)
    assert [(f.subject, f.problem) for f in found] == [
        ("movement:after:2", "no stock.moved event describes this movement")
    ]
