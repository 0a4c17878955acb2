"""Migrations: they build the schema the tables describe, and run both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from core.errors import StoreError
from core.store import tables  # noqa: F401  (registers every table)
from core.store.db import (
    chain_head,
    current_revision,
    ensure_current,
    head_revision,
    stored_revisions,
    upgrade,
)

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


def test_the_check_before_each_command_reads_what_alembic_reads(engine: Engine) -> None:
    """``ensure_current`` reads revisions without Alembic; at head and one below it,
    it sees what Alembic sees."""
    from alembic import command

    from core.store.db import _alembic_config

    head = head_revision()
    assert chain_head() == head
    assert stored_revisions(engine) == [head] == [current_revision(engine)]
    command.downgrade(_alembic_config(engine), "-1")
    older = current_revision(engine)
    assert older is not None
    assert older != head
    assert stored_revisions(engine) == [older]
    with pytest.raises(
        StoreError, match=f"at revision {older}, expected revision {head}"
    ):
        ensure_current(engine)
    upgrade(engine)
    ensure_current(engine)


def _script(folder: Path, name: str, revision: str, parent: str) -> None:
    (folder / f"{name}.py").write_text(
        f'"""{name}"""\n\nrevision: str = {revision}\ndown_revision = {parent}\n'
    )


def test_chain_head_reads_a_plain_chain(tmp_path: Path) -> None:
    _script(tmp_path, "b", '"0002"', '"0001"')
    _script(tmp_path, "a", '"0001"', "None")
    _script(tmp_path, "c", '"0003"', '"0002"')
    assert chain_head(tmp_path) == "0003"


@pytest.mark.parametrize(
    ("scripts"),
    [
        pytest.param([("0002", '"0001"'), ("0003", '"0001"')], id="two heads"),
        pytest.param([("0002", '("0001", "0001b")')], id="a merge"),
        pytest.param([("0002", '"0009"')], id="a missing parent"),
        pytest.param([("0002", "PARENT")], id="a computed parent"),
        pytest.param([("0001", "None")], id="a repeated id"),
    ],
)
def test_chain_head_leaves_anything_else_to_alembic(
    tmp_path: Path, scripts: list[tuple[str, str]]
) -> None:
    _script(tmp_path, "0001", '"0001"', "None")
    for number, (revision, parent) in enumerate(scripts):
        _script(tmp_path, f"x{number}", f'"{revision}"', parent)
    assert chain_head(tmp_path) is None


def test_a_downgrade_below_0009_refuses_while_a_window_was_run_twice(
    engine: Engine,
) -> None:
    """Since 0009 every run keeps its row; going back to one run per window would
    have to drop some, so the downgrade refuses and changes nothing."""
    from alembic import command

    from core.store.db import _alembic_config

    insert = sa.text(
        'INSERT INTO sync_runs (kind, account_id, "trigger", window_start, '
        "started_at, outcome, counts) VALUES ('orders', NULL, 's', :w, :w, "
        "'failed', '{}')"
    )
    config = _alembic_config(engine)
    command.downgrade(config, "0009")  # the later revisions go down freely
    with engine.begin() as connection:
        for _ in range(2):
            connection.execute(insert, {"w": "2026-12-01 00:00:00"})
    with pytest.raises(RuntimeError, match="1 order windows were run more than once"):
        command.downgrade(config, "0008")
    assert current_revision(engine) == "0009"
    with engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT COUNT(*) FROM sync_runs")).scalar() == 2
        )
    command.upgrade(config, "head")
    assert current_revision(engine) == head_revision()
