"""Catalogue imports queue behind one another on PostgreSQL.

Each import locks the stock rows of its products chunk by chunk in file order; two
imports locking overlapping products in different orders could deadlock, so the
import's transaction first takes one advisory lock, held until it ends.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from core.store.products import IMPORT_LOCK_KEY
from core.store.uow import SqlUnitOfWork

pytestmark = pytest.mark.db


def _free(engine: sa.Engine) -> bool:
    """Whether another session can take the import lock right now."""
    with engine.connect() as connection:
        taken = connection.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY}
        ).scalar_one()
        connection.rollback()
    return bool(taken)


def test_an_import_holds_the_import_lock_until_its_transaction_ends(
    engine: sa.Engine, sql_uow: Callable[[], SqlUnitOfWork]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers are serialised by BEGIN IMMEDIATE")
    assert _free(engine)
    with sql_uow() as uow:
        uow.products.hold_for_import()
        assert not _free(engine)  # a second import waits here
        uow.commit()
    assert _free(engine)
    with sql_uow() as uow:
        uow.products.hold_for_import()
        assert not _free(engine)
    assert _free(engine)  # released by a rollback too
