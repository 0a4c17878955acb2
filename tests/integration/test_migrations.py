"""Migrations: they build the schema the tables describe, and run both ways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from core.errors import StoreError
from core.store import tables  # noqa: F401  (registers every table)
from core.store.db import current_revision, ensure_current, head_revision, upgrade

pytestmark = pytest.mark.db


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    ensure_current(engine)
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_downgrade_to_empty_and_back(engine: Engine) -> None:
    from alembic import command

    from core.store.db import _alembic_config

    command.downgrade(_alembic_config(engine), "base")
    assert current_revision(engine) is None
    with pytest.raises(StoreError, match="run `ikm-sync db upgrade`"):
        ensure_current(engine)
    assert sa.inspect(engine).get_table_names() in ([], ["alembic_version"])
    upgrade(engine)
    assert "stock_movements" in sa.inspect(engine).get_table_names()
