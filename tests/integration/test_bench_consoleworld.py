"""The console benchmark's world (``bench/_consoleworld.py``) at a tiny size: its
rows are consistent, its audit chain verifies, and its cache gives the same world.
Nothing here is timed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench._consoleworld import ConsoleWorld, build_console_world
from core.store.audit_verify import record_findings, verify_chain
from core.store.db import make_engine, make_session_factory

TINY: dict[str, Any] = {"products": 50, "orders": 200, "audit_events": 500}


def _scalar(engine: sa.Engine, sql: str, **params: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql), params).scalar_one())


def test_a_tiny_world_is_consistent_and_its_chain_verifies(database_url: str) -> None:
    world = build_console_world(database_url, **TINY)

    assert world.counts["products"] == 50
    assert world.counts["orders"] == 200
    assert world.counts["audit_events"] == 500
    assert world.counts["channel_accounts"] == 60
    assert 200 <= world.counts["order_lines"] <= 600
    assert world.counts["sync_runs"] >= 10
    engine = make_engine(database_url)
    try:
        # every line names a product that exists and that its shop sells
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM order_lines l LEFT JOIN products p "
                "ON p.id = l.product_id WHERE p.id IS NULL",
            )
            == 0
        )
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "JOIN products p ON p.id = l.product_id "
                "LEFT JOIN channel_account_producers ap "
                "ON ap.account_id = o.account_id "
                "AND ap.producer_id = p.producer_id WHERE ap.account_id IS NULL",
            )
            == 0
        )
        # an order's total is the sum of its lines
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM orders o WHERE o.total_amount <> (SELECT "
                "sum(l.quantity * l.unit_price) FROM order_lines l "
                "WHERE l.order_id = o.id)",
            )
            == 0
        )
        # each shop sells for the producers of one province, and for some
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM (SELECT ap.account_id "
                "FROM channel_account_producers "
                "ap JOIN producers p ON p.id = ap.producer_id GROUP BY ap.account_id "
                "HAVING count(DISTINCT p.province) <> 1) AS mixed",
            )
            == 0
        )
        assert (
            _scalar(
                engine,
                "SELECT count(DISTINCT account_id) FROM channel_account_producers",
            )
            == 60
        )
        # stock on hand covers every reservation: no product is below zero
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM (SELECT product_id FROM stock_movements "
                "GROUP BY product_id HAVING sum(on_hand_delta) < sum(reserved_delta) "
                "OR sum(on_hand_delta) < 0) AS short",
            )
            == 0
        )
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM products p WHERE NOT EXISTS (SELECT 1 FROM "
                "stock_movements m WHERE m.product_id = p.id AND m.reason = 'receipt')",
            )
            == 0
        )
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM producers WHERE kind NOT IN ('ikm', 'wbp')",
            )
            == 0
        )
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM listings WHERE state = 'failed' "
                "AND last_error IS NULL",
            )
            == 0
        )

        checked = verify_chain(engine)
        assert checked.ok, checked.findings
        assert (checked.walked, checked.unsealed, checked.head.seq) == (500, 0, 500)
        assert record_findings(make_session_factory(engine)) == []

        _assert_names_exist(engine, world)
    finally:
        engine.dispose()


def _assert_names_exist(engine: sa.Engine, world: ConsoleWorld) -> None:
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM producers "
            "WHERE code = :code AND province = :province",
            code=world.producer,
            province=world.province,
        )
        == 1
    )
    assert world.skus
    for sku in world.skus:
        assert (
            _scalar(
                engine,
                "SELECT count(*) FROM products p "
                "JOIN producers r ON r.id = p.producer_id "
                "WHERE p.sku = :sku AND r.code = :code",
                sku=sku,
                code=world.producer,
            )
            == 1
        )
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM channel_account_producers ap "
            "JOIN channel_accounts a ON a.id = ap.account_id "
            "JOIN producers p ON p.id = ap.producer_id "
            "WHERE a.account_key = :account AND p.code = :code",
            account=world.account,
            code=world.producer,
        )
        == 1
    )
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM orders o "
            "JOIN channel_accounts a ON a.id = o.account_id "
            "WHERE o.id = :id AND a.account_key = :account",
            id=world.order_id,
            account=world.account,
        )
        == 1
    )
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM audit_events WHERE subject = :subject",
            subject=world.order_subject,
        )
        >= 1
    )
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM orders WHERE id = :id AND oversold "
            "AND settlement IS NULL",
            id=world.oversold_order_id,
        )
        == 1
    )
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM sync_run_items WHERE run_id = :id",
            id=world.run_id,
        )
        >= 1
    )
    assert len(set(world.accounts)) == 60


def test_a_non_empty_database_is_refused_and_left_alone(database_url: str) -> None:
    build_console_world(database_url, products=20, orders=30, audit_events=40)
    engine = make_engine(database_url)
    try:
        before = _scalar(engine, "SELECT count(*) FROM orders")
        with pytest.raises(ValueError, match="holds 20 products already"):
            build_console_world(database_url, products=20, orders=30, audit_events=40)
        assert _scalar(engine, "SELECT count(*) FROM orders") == before
        assert _scalar(engine, "SELECT count(*) FROM audit_events") == 40
    finally:
        engine.dispose()


@pytest.mark.parametrize("size", ["products", "orders", "audit_events"])
def test_a_size_below_one_is_refused(tmp_path: Path, size: str) -> None:
    target = tmp_path / "world.db"
    with pytest.raises(ValueError, match=f"{size} must be 1 or more, got 0"):
        build_console_world(f"sqlite:///{target}", **{**TINY, size: 0})
    assert not target.exists()


def test_the_cache_copies_the_world_built_before(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = build_console_world(
        f"sqlite:///{tmp_path / 'one.db'}",
        cache_dir=cache,
        **TINY,
    )
    assert len(list(cache.glob("*.db"))) == 1

    url = f"sqlite:///{tmp_path / 'two.db'}"
    second = build_console_world(url, cache_dir=cache, **TINY)

    assert second.database_url == url
    assert second == replace(first, database_url=url)
    engine = make_engine(url)
    try:
        assert _scalar(engine, "SELECT count(*) FROM orders") == 200
        assert verify_chain(engine).ok
    finally:
        engine.dispose()

    # another seed is another world, built and kept beside the first
    other = build_console_world(
        f"sqlite:///{tmp_path / 'three.db'}",
        cache_dir=cache,
        seed=8,
        **TINY,
    )
    assert len(list(cache.glob("*.db"))) == 2
    assert other.skus != first.skus or other.order_subject != first.order_subject


def test_the_cache_is_for_sqlite_files_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a cached console world is a SQLite file"):
        build_console_world(
            "postgresql+psycopg://postgres@127.0.0.1:5432/none",
            cache_dir=tmp_path,
            **TINY,
        )
    assert list(tmp_path.iterdir()) == []


def test_the_same_seed_builds_the_same_world(tmp_path: Path) -> None:
    worlds, orders = [], []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        world = build_console_world(url, **TINY)
        worlds.append(replace(world, database_url="", seconds={}))
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                orders.append(
                    connection.execute(
                        sa.text(
                            "SELECT o.external_id, o.status, o.total_amount, "
                            "l.external_sku, l.quantity FROM orders o "
                            "JOIN order_lines l ON l.order_id = o.id ORDER BY l.id"
                        )
                    ).all()
                )
        finally:
            engine.dispose()
    assert worlds[0] == worlds[1]
    assert orders[0] == orders[1]
    assert len(orders[0]) >= 200
