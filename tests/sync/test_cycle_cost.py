"""What an account-cycle costs the store, counted (never timed): a cycle with nothing
to do sends at most ten SQL statements, writes one row of data (the bookmark with
the in-step mark) beside the lease's own row, and records no run; a cycle that does
something records its runs as before."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import RunOutcome
from core.services.status import catalogue_status
from core.store.db import make_session_factory
from core.store.watch import SqlAccountWatch
from ikm_sync.commands.status import status_payload
from scheduler.jobs import CycleReport, run_cycle
from tests.sync.world import World

pytestmark = pytest.mark.db

_DML = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)
#: The issue's goals for a no-op account-cycle.
MOST_STATEMENTS = 10
#: The lease's own row: written when the cycle takes the lease and when it ends.
LEASE_TABLE = "account_leases"


@dataclass
class Counts:
    """SQL statements (transaction control aside) and rows written per table."""

    statements: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    threads: int = 0


@contextmanager
def counted(engine: sa.Engine) -> Iterator[Counts]:
    """Count what reaches ``engine`` while the block runs (rows of DML statements:
    SQLite's ``total_changes`` once the statement completed, PostgreSQL's row
    count)."""
    counts = Counts()
    sqlite = engine.dialect.name == "sqlite"
    lock = threading.Lock()

    def settle(conn: Any) -> None:
        table = conn.info.pop("test_table", None)
        if table is not None:
            total = conn.connection.dbapi_connection.total_changes
            with lock:
                counts.rows[table] += total - conn.info.pop("test_changes")

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if sqlite:
            settle(conn)
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            return
        with lock:
            counts.statements += 1
        found = _DML.match(statement)
        if found is not None and sqlite:
            conn.info["test_table"] = found.group(2).lower()
            conn.info["test_changes"] = cursor.connection.total_changes

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        found = _DML.match(statement)
        if found is not None and not sqlite:
            with lock:
                counts.rows[found.group(2).lower()] += max(cursor.rowcount, 0)

    def ended(conn: Any) -> None:
        if sqlite:
            settle(conn)

    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        counts.threads += 1
        original(thread)

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", before),
        ("after_cursor_execute", after),
        ("commit", ended),
    ]
    for name, hook in hooks:
        sa.event.listen(engine, name, hook)
    threading.Thread.start = start  # type: ignore[method-assign,assignment]
    try:
        yield counts
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
        for name, hook in hooks:
            sa.event.remove(engine, name, hook)


def _runs(world: World) -> list[tuple[int, str, str]]:
    with world.engine.connect() as connection:
        return [
            (int(i), str(k), str(o))
            for i, k, o in connection.execute(
                sa.text("SELECT id, kind, outcome FROM sync_runs ORDER BY id")
            )
        ]


def _in_step(world: World) -> dict[str, str | None]:
    uow = world.uow()
    watch = SqlAccountWatch(make_session_factory(world.engine))
    payload = status_payload(catalogue_status(uow, watch))
    return {a["id"]: a["in_step_at"] for a in payload["accounts"]}


def _cycle(world: World, account: ChannelAccount) -> CycleReport:
    """One account's cycle, as the daemon runs a claimed account."""
    return run_cycle(world.runner(), [account], trigger="schedule")


@pytest.fixture
def converged(world: World) -> World:
    """Every account published and in step."""
    world.cycle()
    world.advance(60)
    world.cycle()
    return world


def test_a_cycle_with_nothing_to_do_records_no_run_and_writes_one_row(
    converged: World,
) -> None:
    world = converged
    runs = _runs(world)
    for account in world.accounts:
        world.advance(60)
        with counted(world.engine) as counts:
            report = _cycle(world, account)
        assert [r.outcome for r in [*report.pulls, *report.pushes]] == [
            RunOutcome.SUCCEEDED,
            RunOutcome.SUCCEEDED,
        ]
        assert [r.run_id for r in [*report.pulls, *report.pushes]] == [0, 0]
        assert counts.statements <= MOST_STATEMENTS, account.id
        data = {t: n for t, n in counts.rows.items() if n and t != LEASE_TABLE}
        assert data == {"order_bookmarks": 1}, account.id
        # the lease is taken and given back: its row written twice
        assert counts.rows[LEASE_TABLE] == 2, account.id
        assert counts.threads <= 1, account.id  # the lease's renewer
        assert _in_step(world)[account.id] == world.clock.now().isoformat()
    assert _runs(world) == runs  # the log did not grow


def test_the_in_step_mark_moves_with_each_quiet_cycle_of_every_account(
    converged: World,
) -> None:
    world = converged
    runs = _runs(world)
    marks = []
    for _ in range(2):
        world.advance(60)
        report = world.cycle(trigger="schedule")  # every pull, then every push
        assert all(r.run_id == 0 for r in [*report.pulls, *report.pushes]), report
        marks.append(_in_step(world))
    now = world.clock.now().isoformat()
    assert set(marks[1].values()) == {now}
    assert all(marks[0][a] != marks[1][a] for a in marks[0])
    assert _runs(world) == runs


def test_a_quiet_cycle_a_person_started_is_recorded_with_who_started_it(
    converged: World,
) -> None:
    """Only the scheduler's quiet cycles leave no run: one an officer asked for
    keeps who asked, and when, even though it found nothing to do."""
    world = converged
    runs = _runs(world)
    world.advance(60)
    report = world.cycle(trigger="manual:officer:ani")
    recorded = [r.run_id for r in [*report.pulls, *report.pushes]]
    assert all(recorded), report
    assert len(_runs(world)) == len(runs) + len(recorded)
    with world.engine.connect() as connection:
        triggers = {
            str(t)
            for (t,) in connection.execute(
                sa.text('SELECT "trigger" FROM sync_runs WHERE id > :last'),
                {"last": runs[-1][0] if runs else 0},
            )
        }
    assert triggers == {"manual:officer:ani"}


def test_a_cycle_that_stores_an_order_records_its_runs(converged: World) -> None:
    world = converged
    shopee = next(a for a in world.accounts if a.marketplace is Marketplace.SHOPEE)
    world.advance(60)
    _cycle(world, shopee)
    quiet_mark = _in_step(world)[shopee.id]
    runs = _runs(world)
    world.buy(Marketplace.SHOPEE, 1)
    world.advance(60)
    report = _cycle(world, shopee)
    pulled, pushed = report.pulls[0], report.pushes[0]
    assert pulled.outcome is RunOutcome.SUCCEEDED
    assert pulled.run_id != 0
    assert pulled.counts.get("movement_reserve", 0) >= 1
    new = _runs(world)[len(runs) :]
    assert (pulled.run_id, "orders", "succeeded") in new
    # the order changed what Shopee shows itself: its stock is pushed again, or
    # (when Shopee's own reservation already shows the allocation) nothing is
    if pushed.run_id:
        assert (pushed.run_id, "publish", "succeeded") in new
    # the cycle did something: no in-step mark for it
    assert _in_step(world)[shopee.id] == quiet_mark


def test_a_push_has_its_run_before_its_first_marketplace_write(
    converged: World,
) -> None:
    world = converged
    tokopedia = next(
        a for a in world.accounts if a.marketplace is Marketplace.TOKOPEDIA
    )
    seen: list[list[tuple[int, str, str]]] = []
    build = world.connector

    def connector(account: ChannelAccount) -> Any:
        built = build(account)
        push_stock = built.push_stock

        def recording(updates: Any) -> Any:
            seen.append([r for r in _runs(world) if r[2] == "running"])
            return push_stock(updates)

        built.push_stock = recording  # type: ignore[method-assign]
        return built

    with world.uow() as uow:  # a receipt: every shop's stock is pushed again
        products = uow.products.for_producers(tokopedia.producer_codes)
        product = next(iter(products.values()))
        uow.stock.record_many(
            [
                NewMovement(
                    product.sku,
                    MovementReason.RECEIPT,
                    5,
                    0,
                    "receipt:test",
                    "officer:test",
                )
            ],
            world.clock.now(),
        )
        uow.commit()
    world.advance(60)
    report = run_cycle(
        world.runner(connectors=connector), [tokopedia], trigger="schedule"
    )
    assert report.pushes[0].run_id != 0
    assert seen, "no stock was pushed"
    assert [r[0] for r in seen[0]] == [report.pushes[0].run_id]
