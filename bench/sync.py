"""Benchmark: the sync engine against three in-process simulators.

The canonical store (a SQLite file in a temporary directory, or a scratch PostgreSQL
database with ``--database-url``, created and dropped here), migrated with
``core.store.db.upgrade``, and the three simulators (Shopee, Tokopedia, Bukalapak) on
one simulated clock, wired as ``tests/sync/world.py`` wires them (``bench/_syncworld``
is a bench-local copy): connectors built per phase with a ``ConnectorContext``, tokens
in the store (``SqlTokenStore``), one account per marketplace listing the whole
catalogue, logging configured as in production (INFO, JSON lines, to ``/dev/null``).

Each run is a child process of its own, on a fresh database, so its peak RSS
(``ru_maxrss``) is its own. With rate limits off on both sides (simulators
``rate_limits=False``, connector budgets disabled), the clock frozen and the accounts
worked on one after another (``--workers``, default 1: in one process the simulators
and the engine share one interpreter lock, so a pool of threads measures their
contention rather than the engine):

1. **first publish**: the first sync cycle of ``--products`` products (100 units
   received each) to the three marketplaces, run as ``run_cycle`` runs it (every
   account's order pull, then every account's push, ``push_account``); listing
   operations per second are the creates of all three accounts over the wall seconds
   of the push phase; peak RSS is the process's high-water mark right after it;
2. **no-op cycle**: ``run_cycle`` right after the publish converged (every
   marketplace shows exactly its allocation): the requests the simulators counted on
   routes that change something (``WRITE_ROUTES``) must be 0; wall seconds;
3. **orders**: ``--orders`` orders placed and paid on the three simulators (split
   evenly) through the simulators' own buyer path (``place_order`` on a listing with
   stock, never more than it shows, then the ``pay`` event), then the order pull of
   every account (``pull_orders``, which stores them through ``OrderIngester`` and
   reserves their stock): orders per second over the wall seconds of that pull phase,
   and the share spent inside ``OrderIngester.ingest``.

For reference, another child creates the same listings through the connectors alone
(``apply_listing_changes`` in chunks of ``CREATE_CHUNK``, tokens in memory, no
engine): the rate the engine's publish cannot exceed on this machine.

Then, in another child and on another fresh database, **propagation with rate limits
on**: simulators metering as documented and connector budgets as production sets them
(``ikm_sync.bootstrap.default_rate``), ``--propagation-products`` products published
and one quiet cycle run first (their waits advance the running simulated clock instead
of sleeping), then a buyer orders on Tokopedia and one ``run_cycle`` runs with the
production pool (``RunnerOptions()``) and real waits: the seconds until Shopee and
Bukalapak show the corrected stock, the requests it took and the throttles received.

Median, min and max of ``--runs`` runs per backend. The figures replace this
benchmark's section of BENCHMARKS.md.

    python -m bench.sync                                           # 10,000, 3 runs
    python -m bench.sync --products 300 --orders 300 --runs 1      # smoke
    python -m bench.sync --database-url postgresql+psycopg://127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import secrets
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

import connectors
from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section
from bench._syncworld import (
    SyncWorld,
    bench_cipher,
    product_of,
    requests_made,
)
from bench.connectors import MemoryTokens
from config.logging import configure_logging
from core.domain.accounts import Marketplace
from core.domain.ids import sku_key
from core.domain.remote import ChangeKind, ListingChange, ListingDraft
from core.domain.sync import RunOutcome, SyncKind
from core.services.orders import OrderIngester
from core.services.publish import CREATE_CHUNK
from core.services.runs import RunReport
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.leases import SqlLeaseStore
from core.store.tokens import SqlTokenStore
from core.store.uow import fenced_units
from ikm_sync.bootstrap import default_rate
from scheduler.jobs import pull_job, push_job, run_cycle
from scheduler.runner import AccountJobRunner, RunnerOptions
from simulators.kit.buyers import BuyerEvent

NAME = "sync"
START, END = markers(NAME)
#: Units received per product before the first publish (buyers never order more than
#: a listing shows, so every order of the run finds stock).
STOCK = 100
#: Units received per product in the propagation run.
PROPAGATION_STOCK = 20
#: Seed of the buyers' choices.
SEED = 7
MARKETS = (Marketplace.SHOPEE, Marketplace.TOKOPEDIA, Marketplace.BUKALAPAK)
#: Each marketplace's display name, as its descriptor gives it.
TITLES = {m: connectors.descriptor(m.value).display_name for m in MARKETS}

#: The goals from the issue.
GOAL_PUBLISH_OPS = 1_000
GOAL_PUBLISH_MB = 400
GOAL_NOOP_WRITES = 0
GOAL_NOOP_SECONDS = 2.0
GOAL_ORDERS = 1_000

Figures = dict[str, float]


class BenchError(Exception):
    """A measurement could not be taken, or the engine did not do what it must."""


# ------------------------------------------------------------------ helpers


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, MB (``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(reports: Sequence[RunReport], phase: str) -> None:
    failed = [r for r in reports if r.outcome is not RunOutcome.SUCCEEDED]
    if failed:
        detail = "; ".join(
            f"{r.account}: {r.outcome.value} {r.error} {r.counts}" for r in failed
        )
        raise BenchError(f"{phase}: not every run succeeded: {detail}")


def _total(reports: Sequence[RunReport], count: str) -> int:
    return sum(r.counts.get(count, 0) for r in reports)


def converged(world: SyncWorld) -> str:
    """Why the marketplaces are not in step with the store ("" when they are)."""
    for account in world.accounts:
        shown = world.shown_stock(account.marketplace)
        wanted = world.wanted_stock(account)
        if shown != wanted:
            wrong = sorted(
                k for k in wanted.keys() | shown.keys() if shown.get(k) != wanted.get(k)
            )
            return (
                f"{account.id}: {len(wrong)} SKUs differ, e.g. {wrong[0]} shows "
                f"{shown.get(wrong[0])}, expected {wanted.get(wrong[0])}"
            )
        listed = [e["sku"] for e in world.sims[account.marketplace].inspect_listings()]
        if len(listed) != len({sku_key(s) for s in listed}):
            return f"{account.id}: a SKU is listed twice"
    return ""


def _per_market(prefix: str, values: Mapping[Marketplace, float]) -> Figures:
    return {f"{prefix}.{m.value}": float(values[m]) for m in MARKETS}


def _delta(
    after: Mapping[Marketplace, int], before: Mapping[Marketplace, int]
) -> dict[Marketplace, int]:
    return {m: after[m] - before[m] for m in MARKETS}


def _scalar(engine: sa.Engine, query: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(query)).scalar_one())


# ------------------------------------------------------------------ orders


def place_orders(world: SyncWorld, count: int) -> tuple[int, int]:
    """``count`` orders, split evenly over the marketplaces, each placed on a
    listing with stock (never more than it shows, at most 3 units) and paid, through
    the simulators' own buyer path; returns (orders, units)."""
    rng = random.Random(SEED)
    placed = units = 0
    for position, marketplace in enumerate(MARKETS):
        sim = world.sims[marketplace]
        wanted = count // len(MARKETS) + (1 if position < count % len(MARKETS) else 0)
        shown = dict(sim.buyable_listings())
        listings = sorted(ref for ref, left in shown.items() if left > 0)
        for number in range(wanted):
            while listings and shown[ref := rng.choice(listings)] < 1:
                listings.remove(ref)
            if not listings:
                raise BenchError(f"{marketplace.value}: no listing has stock left")
            quantity = rng.randint(1, min(3, shown[ref]))
            order = sim.place_order(ref, quantity, f"buyer-{number:05d}")
            if order is None or not sim.buyer_event(order, BuyerEvent.PAY):
                raise BenchError(f"{marketplace.value}: order on {ref} refused")
            shown[ref] -= quantity
            placed += 1
            units += quantity
    return placed, units


class IngestTimer:
    """Wall seconds spent inside ``OrderIngester.ingest`` while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = OrderIngester.ingest

        @functools.wraps(original)
        def timed(ingester: OrderIngester, remote: Any) -> None:
            started = time.perf_counter()
            try:
                original(ingester, remote)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        setattr(OrderIngester, "ingest", timed)  # noqa: B010 - a method, patched
        try:
            yield
        finally:
            setattr(OrderIngester, "ingest", original)  # noqa: B010


def check_orders(world: SyncWorld, orders: int, units: int) -> None:
    """Every order stored once, its stock reserved once; the ledger agrees."""
    engine = world.engine
    stored = _scalar(engine, "SELECT COUNT(*) FROM orders")
    reserved = _scalar(
        engine, "SELECT COUNT(*) FROM orders WHERE stock_state = 'reserved'"
    )
    movements = _scalar(
        engine, "SELECT COUNT(*) FROM stock_movements WHERE reason = 'order_reserved'"
    )
    held = _scalar(
        engine,
        "SELECT COALESCE(SUM(reserved_delta), 0) FROM stock_movements "
        "WHERE reason = 'order_reserved'",
    )
    lines = _scalar(engine, "SELECT COUNT(*) FROM order_lines")
    if (stored, reserved, movements, held, lines) != (
        orders,
        orders,
        orders,
        units,
        orders,
    ):
        raise BenchError(
            f"orders: {stored} stored, {reserved} reserved, {movements} reservations "
            f"of {held} units over {lines} lines; expected {orders} orders of one "
            f"line each and {units} units"
        )


# ------------------------------------------------------------------ child: throughput


def _runner(
    world: SyncWorld, workers: int = RunnerOptions().workers
) -> AccountJobRunner:
    """The account-job runner on the world's database, as the command line builds
    it."""
    factory = make_session_factory(world.engine)
    return AccountJobRunner(
        SqlLeaseStore(factory),
        lambda fence: fenced_units(factory, fence),
        world.connector,
        world.clock,
        RunnerOptions(workers=workers),
    )


def throughput(url: str, products: int, orders: int, workers: int) -> Figures:
    """Publish, a no-op cycle and an order pull on one world; the figures."""
    engine = make_engine(url)
    upgrade(engine)
    world = SyncWorld.build(engine, products=products, stock=STOCK)
    runner = _runner(world, workers)
    figures: Figures = {"build.rss_mb": peak_rss_mb()}

    # 1. The first cycle: every account's (empty) order pull, then the push.
    pulls = runner.run(SyncKind.ORDERS, world.accounts, pull_job("bench:first"))
    _check(pulls, "first cycle, pull")
    requests, in_sims = world.requests(), world.meter.in_sims
    started, cpu = time.perf_counter(), time.process_time()
    pushes = runner.run(SyncKind.PUBLISH, world.accounts, push_job("bench:first"))
    seconds = time.perf_counter() - started
    figures["publish.cpu_s"] = time.process_time() - cpu
    figures["publish.rss_mb"] = peak_rss_mb()
    _check(pushes, "first cycle, push")
    creates = _total(pushes, "create")
    if creates != products * len(world.accounts):
        raise BenchError(f"publish: {creates} creates, expected {products * 3}")
    figures["publish.seconds"] = seconds
    figures["publish.creates"] = creates
    figures["publish.ops_per_s"] = creates / seconds
    figures["publish.in_sims_s"] = world.meter.in_sims - in_sims
    figures.update(_per_market("publish.requests", _delta(world.requests(), requests)))
    if reason := converged(world):
        raise BenchError(f"after the publish the marketplaces differ: {reason}")

    # 2. A cycle with nothing to do.
    world.clock.advance(60)
    writes, requests = world.write_calls(), world.requests()
    started, cpu = time.perf_counter(), time.process_time()
    report = run_cycle(runner, world.accounts, trigger="bench:noop")
    figures["noop.seconds"] = time.perf_counter() - started
    figures["noop.cpu_s"] = time.process_time() - cpu
    _check([*report.pulls, *report.pushes], "no-op cycle")
    figures.update(_per_market("noop.writes", _delta(world.write_calls(), writes)))
    figures.update(_per_market("noop.requests", _delta(world.requests(), requests)))
    figures["noop.writes"] = sum(figures[f"noop.writes.{m.value}"] for m in MARKETS)

    # 3. Orders placed and paid by buyers, then every account's order pull.
    placed, units = place_orders(world, orders)
    world.clock.advance(60)
    requests, in_sims = world.requests(), world.meter.in_sims
    timer = IngestTimer()
    with timer.installed():
        started, cpu = time.perf_counter(), time.process_time()
        pulls = runner.run(SyncKind.ORDERS, world.accounts, pull_job("bench:orders"))
        seconds = time.perf_counter() - started
        figures["orders.cpu_s"] = time.process_time() - cpu
    _check(pulls, "order pull")
    if (stored := _total(pulls, "order")) != placed:
        raise BenchError(f"orders: {stored} ingested, expected {placed}")
    check_orders(world, placed, units)
    figures["orders.count"] = placed
    figures["orders.seconds"] = seconds
    figures["orders.per_s"] = placed / seconds
    figures["orders.ingest_s"] = timer.seconds
    figures["orders.ingest_per_s"] = placed / timer.seconds
    figures["orders.in_sims_s"] = world.meter.in_sims - in_sims
    figures.update(_per_market("orders.requests", _delta(world.requests(), requests)))
    figures["end.rss_mb"] = peak_rss_mb()
    world.close()
    engine.dispose()
    return figures


# ------------------------------------------------------------------ child: connectors


def connectors_alone(url: str, products: int) -> Figures:
    """The same creates through the connectors alone: no engine, tokens in memory."""
    engine = make_engine(url)
    upgrade(engine)
    world = SyncWorld.build(engine, products=products, stock=STOCK)
    stored = SqlTokenStore(make_session_factory(engine), world.clock, bench_cipher())
    memory = MemoryTokens()
    for account in world.accounts:
        memory.tokens[account.id] = stored.load(account.id)
    world.tokens = memory
    drafts = [
        ListingDraft.from_product(product_of(n), STOCK) for n in range(1, products + 1)
    ]
    in_sims = world.meter.in_sims
    seconds = 0.0
    for account in world.accounts:
        connector = world.connector(account)
        started = time.perf_counter()
        for start in range(0, products, CREATE_CHUNK):
            chunk = drafts[start : start + CREATE_CHUNK]
            results = connector.apply_listing_changes(
                [ListingChange(ChangeKind.CREATE, d) for d in chunk]
            )
            if not all(r.ok and not r.bound for r in results):
                raise BenchError(f"connectors alone: {account.id}: a create failed")
        seconds += time.perf_counter() - started
        connector.close()
    figures: Figures = {
        "connectors.seconds": seconds,
        "connectors.ops_per_s": len(world.accounts) * products / seconds,
        "connectors.in_sims_s": world.meter.in_sims - in_sims,
    }
    world.close()
    engine.dispose()
    return figures


# ------------------------------------------------------------------ child: propagation


@dataclass
class Seen:
    """What one marketplace showed of the ordered SKU after each of its writes."""

    wall: float
    clock: float
    stock: int | None


def propagation(url: str, products: int) -> Figures:
    """A Tokopedia sale reaching the other marketplaces in one rate-limited cycle."""
    engine = make_engine(url)
    upgrade(engine)
    world = SyncWorld.build(
        engine,
        products=products,
        stock=PROPAGATION_STOCK,
        running=True,
        rate_limits=True,
    )
    # Publish, then one cycle with nothing to do, as a scheduler runs them back to
    # back; their waits advance the simulated clock instead of sleeping.
    for trigger in ("bench:publish", "bench:quiet"):
        report = run_cycle(_runner(world, 1), world.accounts, trigger=trigger)
        _check([*report.pulls, *report.pushes], trigger)
    if reason := converged(world):
        raise BenchError(f"propagation: not converged before the sale: {reason}")

    tokopedia = world.sims[Marketplace.TOKOPEDIA]
    before = world.shown_stock(Marketplace.TOKOPEDIA)
    if len(tokopedia.buyers.rush(1)) != 1:
        raise BenchError("propagation: the Tokopedia buyer could not order")
    tokopedia.tick()  # the buyer pays
    after = world.shown_stock(Marketplace.TOKOPEDIA)
    sold = [k for k in before if after.get(k) != before[k]]
    if len(sold) != 1:
        raise BenchError(f"propagation: expected one SKU sold on Tokopedia, got {sold}")
    key = sold[0]
    quantity = before[key] - after[key]
    stale = {m: world.shown_stock(m).get(key) for m in MARKETS}

    seen: dict[Marketplace, list[Seen]] = {m: [] for m in MARKETS}
    world.waits.real = True
    waited = {m: world.budgets[m].waited for m in MARKETS}
    requests, writes = world.requests(), world.write_calls()
    throttled = dict(world.meter.throttled)
    clock_start = world.clock.now()
    started, cpu = time.perf_counter(), time.process_time()

    def watch(marketplace: Marketplace) -> None:
        seen[marketplace].append(
            Seen(
                time.perf_counter() - started,
                (world.clock.now() - clock_start).total_seconds(),
                world.shown_stock(marketplace).get(key),
            )
        )

    world.meter.after_write = watch
    report = run_cycle(_runner(world), world.accounts, trigger="bench:propagation")
    seconds = time.perf_counter() - started
    figures: Figures = {
        "propagation.cpu_s": time.process_time() - cpu,
        "propagation.seconds": seconds,
        "propagation.clock_s": (world.clock.now() - clock_start).total_seconds(),
        "propagation.quantity": quantity,
    }
    world.meter.after_write = None
    _check([*report.pulls, *report.pushes], "propagation cycle")
    if reason := converged(world):
        raise BenchError(f"propagation: not converged after the cycle: {reason}")
    for marketplace in MARKETS:
        account = world.account(marketplace)
        expected = world.wanted_stock(account)[key]
        prefix = f"propagation.{marketplace.value}"
        shown_at = next((s for s in seen[marketplace] if s.stock == expected), None)
        if marketplace is not Marketplace.TOKOPEDIA:
            if stale[marketplace] == expected:
                raise BenchError(f"propagation: {marketplace.value} was not stale")
            if shown_at is None:
                raise BenchError(f"propagation: {marketplace.value} never showed it")
        if shown_at is not None:
            figures[f"{prefix}.shown_s"] = shown_at.wall
            figures[f"{prefix}.shown_clock_s"] = shown_at.clock
        figures[f"{prefix}.requests"] = (
            requests_made(world.sims[marketplace]) - requests[marketplace]
        )
        figures[f"{prefix}.writes"] = (
            world.markets.write_calls(marketplace.value) - writes[marketplace]
        )
        figures[f"{prefix}.throttled"] = world.meter.throttled[
            marketplace
        ] - throttled.get(marketplace, 0)
        figures[f"{prefix}.waited_s"] = (
            world.budgets[marketplace].waited - waited[marketplace]
        )
    figures["propagation.reached_s"] = max(
        figures[f"propagation.{m.value}.shown_s"]
        for m in (Marketplace.SHOPEE, Marketplace.BUKALAPAK)
    )
    figures["propagation.reached_clock_s"] = max(
        figures[f"propagation.{m.value}.shown_clock_s"]
        for m in (Marketplace.SHOPEE, Marketplace.BUKALAPAK)
    )
    figures["propagation.requests"] = sum(
        figures[f"propagation.{m.value}.requests"] for m in MARKETS
    )
    figures["propagation.rss_mb"] = peak_rss_mb()
    world.close()
    engine.dispose()
    return figures


# ------------------------------------------------------------------ databases


@contextmanager
def sqlite_database(directory: Path, label: str) -> Iterator[str]:
    """A new SQLite file in ``directory``, removed afterwards."""
    path = directory / f"{label}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_version(admin_url: str) -> str:
    """The server's version; raises ``SQLAlchemyError`` when it cannot be reached."""
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar_one())
    finally:
        engine.dispose()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database on ``admin_url``'s server, dropped afterwards."""
    name = f"ikmsync_bench_{secrets.token_hex(4)}"  # [a-z0-9_]: safe unquoted
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield (
                make_url(admin_url)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )
    finally:
        engine.dispose()


# ------------------------------------------------------------------ runs


@dataclass
class Backend:
    """One database backend's runs, or why it was not measured."""

    name: str
    version: str
    database: Callable[[str], Any]
    runs: list[Figures] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)


def run_child(arguments: Sequence[str]) -> tuple[Figures, float]:
    """``python -m bench.sync --child …`` in a new process: its figures and its peak
    RSS in MB.

    Raises:
        BenchError: the child failed.
    """
    command = [sys.executable, "-m", "bench.sync", *arguments]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, cwd=ROOT, stdout=out, stderr=err
        )
        # wait4 gives the rusage of this one child, so ru_maxrss is its own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = "\n".join((stdout + stderr).strip().splitlines()[-20:])
        raise BenchError(f"`{shlex.join(arguments)}` exited with {code}:\n{tail}")
    figures: Figures = json.loads(stdout.strip().splitlines()[-1])
    return figures, usage.ru_maxrss / 1024  # ru_maxrss is in KiB


def bench_backend(backend: Backend, options: argparse.Namespace) -> None:
    """``--runs`` runs of both children on fresh databases of ``backend``."""
    for run in range(1, options.runs + 1):
        with backend.database(f"throughput-{run}") as url:
            figures, peak = run_child(
                [
                    "--child",
                    "throughput",
                    "--url",
                    url,
                    "--products",
                    str(options.products),
                    "--orders",
                    str(options.orders),
                    "--workers",
                    str(options.workers),
                ]
            )
        if backend.name == "SQLite":  # the connectors alone use no database
            with backend.database(f"connectors-{run}") as url:
                alone, _ = run_child(
                    [
                        "--child",
                        "connectors",
                        "--url",
                        url,
                        "--products",
                        str(options.products),
                    ]
                )
            figures.update(alone)
        with backend.database(f"propagation-{run}") as url:
            more, more_peak = run_child(
                [
                    "--child",
                    "propagation",
                    "--url",
                    url,
                    "--propagation-products",
                    str(options.propagation_products),
                ]
            )
        figures.update(more)
        backend.runs.append(figures)
        backend.peaks.append(peak)
        print(
            f"  {backend.name} run {run}/{options.runs}: publish "
            f"{figures['publish.ops_per_s']:,.0f} listing ops/s "
            f"({figures['publish.seconds']:.1f} s, "
            f"{figures['publish.rss_mb']:.0f} MB); "
            f"no-op cycle {figures['noop.seconds']:.2f} s, "
            f"{figures['noop.writes']:.0f} writes; orders "
            f"{figures['orders.per_s']:,.0f}/s; propagation "
            f"{figures['propagation.reached_s']:.2f} s, peak {peak:.0f} MB "
            f"(propagation child {more_peak:.0f} MB)",
            flush=True,
        )


# ------------------------------------------------------------------ report


def _figure(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _three(runs: Sequence[Figures], key: str) -> str:
    values = [r[key] for r in runs]
    return (
        f"{_figure(statistics.median(values))} | {_figure(min(values))} "
        f"| {_figure(max(values))}"
    )


def _median(runs: Sequence[Figures], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _markets(runs: Sequence[Figures], prefix: str) -> str:
    return ", ".join(
        f"{TITLES[m]} {_median(runs, f'{prefix}.{m.value}'):,.0f}" for m in MARKETS
    )


def _backend_table(backend: Backend, options: argparse.Namespace) -> list[str]:
    runs = backend.runs
    products, orders = options.products, options.orders
    rows = [
        (
            "first publish: listing operations/s (creates / push-phase seconds)",
            "publish.ops_per_s",
        ),
        (
            f"first publish: push phase, seconds ({3 * products:,} creates)",
            "publish.seconds",
        ),
        ("first publish: CPU seconds of the process", "publish.cpu_s"),
        ("first publish: of which inside the simulators, seconds", "publish.in_sims_s"),
        ("first publish: peak RSS after it, MB", "publish.rss_mb"),
        (
            "the same creates through the connectors alone (no engine, tokens in "
            "memory): listing operations/s",
            "connectors.ops_per_s",
        ),
        ("no-op cycle: seconds", "noop.seconds"),
        ("no-op cycle: write requests to the marketplaces", "noop.writes"),
        (f"orders: orders/s (order pull of {orders:,} orders)", "orders.per_s"),
        ("orders: pull phase, seconds", "orders.seconds"),
        ("orders: inside `OrderIngester.ingest`, seconds", "orders.ingest_s"),
        ("orders: orders/s inside `OrderIngester.ingest`", "orders.ingest_per_s"),
        ("orders: of which inside the simulators, seconds", "orders.in_sims_s"),
        ("peak RSS of the run (child process), MB", "peak"),
    ]
    for run, peak in zip(runs, backend.peaks, strict=True):
        run["peak"] = peak
    lines = [
        f"**{backend.name}** ({backend.version})",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {label} | {_three(runs, key)} |" for label, key in rows if key in runs[0]
    ]
    lines += [
        "",
        "Requests per run (median): first publish "
        f"{_markets(runs, 'publish.requests')}; "
        f"no-op cycle {_markets(runs, 'noop.requests')} (of which writes "
        f"{_markets(runs, 'noop.writes')}); order pull "
        f"{_markets(runs, 'orders.requests')}.",
        "",
    ]
    return lines


def _propagation_table(backends: Sequence[Backend]) -> list[str]:
    lines = [
        "| backend | seconds until Shopee shows it | until Bukalapak shows it "
        "| Tokopedia re-sent | whole cycle, s | simulated clock, s | requests "
        "(Shopee / Tokopedia / Bukalapak) | of which writes | throttles received "
        "| budget waited, s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for backend in backends:
        runs = backend.runs

        def per(metric: str, runs: Sequence[Figures] = runs) -> str:
            return " / ".join(
                f"{_median(runs, f'propagation.{m.value}.{metric}'):,.0f}"
                for m in MARKETS
            )

        throttles = sum(
            _median(runs, f"propagation.{m.value}.throttled") for m in MARKETS
        )
        waited = sum(_median(runs, f"propagation.{m.value}.waited_s") for m in MARKETS)
        tokopedia = (
            _figure(_median(runs, "propagation.tokopedia.shown_s"))
            if all("propagation.tokopedia.shown_s" in r for r in runs)
            else "n/a"
        )
        lines.append(
            f"| {backend.name} "
            f"| {_figure(_median(runs, 'propagation.shopee.shown_s'))} "
            f"| {_figure(_median(runs, 'propagation.bukalapak.shown_s'))} "
            f"| {tokopedia} | {_figure(_median(runs, 'propagation.seconds'))} "
            f"| {_figure(_median(runs, 'propagation.clock_s'))} | {per('requests')} "
            f"| {per('writes')} | {throttles:.0f} | {waited:.2f} "
            f"| {_figure(_median(runs, 'propagation.cpu_s'))} |"
        )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _goals(backends: Sequence[Backend]) -> list[str]:
    lines = ["| goal | backend | measured | verdict |", "|---|---|---|---|"]
    for backend in backends:
        runs, name = backend.runs, backend.name
        ops = _median(runs, "publish.ops_per_s")
        publish_mb = max(r["publish.rss_mb"] for r in runs)
        writes = max(r["noop.writes"] for r in runs)
        noop = _median(runs, "noop.seconds")
        orders = _median(runs, "orders.per_s")
        alone = (
            f"; the connectors alone, without the engine: "
            f"{_median(runs, 'connectors.ops_per_s'):,.0f}/s"
            if "connectors.ops_per_s" in runs[0]
            else ""
        )
        lines += [
            f"| first publish ≥ {GOAL_PUBLISH_OPS:,} listing operations/s | {name} "
            f"| {ops:,.0f}/s (median){alone} | {_verdict(ops >= GOAL_PUBLISH_OPS)} |",
            f"| first publish peak memory < {GOAL_PUBLISH_MB} MB | {name} "
            f"| {publish_mb:.0f} MB (highest of the runs) "
            f"| {_verdict(publish_mb < GOAL_PUBLISH_MB)} |",
            f"| no-op cycle: {GOAL_NOOP_WRITES} write calls | {name} "
            f"| {writes:.0f} (most of any run) "
            f"| {_verdict(writes <= GOAL_NOOP_WRITES)} |",
            f"| no-op cycle < {GOAL_NOOP_SECONDS:g} s | {name} | {noop:.2f} s (median) "
            f"| {_verdict(noop < GOAL_NOOP_SECONDS)} |",
            f"| orders ≥ {GOAL_ORDERS:,}/s (on SQLite) | {name} | {orders:,.0f}/s "
            "(median) | "
            + (
                _verdict(orders >= GOAL_ORDERS)
                if name == "SQLite"
                else "for information (the goal is SQLite's)"
            )
            + " |",
        ]
    return lines


def render_section(
    backends: Sequence[Backend], options: argparse.Namespace, command: str
) -> str:
    """This benchmark's section of BENCHMARKS.md, markers included."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    software = {"SQLite": sqlite3.sqlite_version, "httpx": httpx.__version__}
    for backend in backends:
        if backend.name == "PostgreSQL":
            software["PostgreSQL server"] = backend.version.removeprefix("PostgreSQL ")
    info = machine(software)
    budgets = ", ".join(
        f"{TITLES[m]} {rate:g}/s burst {burst}"
        for m in MARKETS
        for rate, burst in [default_rate(m.value)]
    )
    products, orders = options.products, options.orders
    workers = (
        "one account after another (`RunnerOptions(workers=1)`)"
        if options.workers == 1
        else f"a pool of {options.workers} accounts at once"
    )
    lines = [
        START,
        "## Sync engine (`bench/sync.py`)",
        "",
        f"`{command}`, run {now}.",
        "",
        "The canonical store (a SQLite file in a temporary directory"
        + (
            ", and a scratch PostgreSQL database created and dropped per run"
            if len(backends) > 1
            else ""
        )
        + ", migrated with `core.store.db.upgrade`) and the three simulators on one "
        "simulated clock, wired as `tests/sync/world.py` wires them "
        "(`bench/_syncworld.py`): connectors built per phase on a "
        "`ConnectorContext` with tokens in the store (`SqlTokenStore`), one account "
        f"per marketplace listing all {products:,} products at 100 % of the available "
        f"stock ({STOCK} units received per product), requests through "
        "`httpx.MockTransport` to the simulators' handlers in process, logging as in "
        "production (INFO, JSON lines, to `/dev/null`). Each run is a child process "
        "of its own on a fresh database, so its peak RSS (`ru_maxrss`) is its own.",
        "",
        "With rate limits off on both sides (simulators `rate_limits=False`, "
        f"connector budgets disabled), the clock frozen, accounts run {workers}:",
        "",
        "1. **first publish**: the first sync cycle as `run_cycle` runs it (every "
        "account's order pull, then every account's push, `push_account`); listing "
        "operations/s are the creates of all three accounts over the wall seconds of "
        "the push phase; peak RSS is the process's high-water mark right after it. "
        "Before creating, the connectors look the SKUs up (they bind instead of "
        "creating twice): here, the shops being small, by reading each shop once "
        "and then from their own creates (`connectors._lookup.ShopIndex`), so per "
        "product Shopee answers about 1.1 requests (the create; images uploaded up "
        "to eight a call), Bukalapak 1 and Tokopedia 0.05 (creates in bulk, 20 a "
        "call); the images' downloads are not counted;",
        "2. **no-op cycle**: `run_cycle` right after the publish converged (every "
        "marketplace shows exactly its allocation, each SKU listed once); write "
        "requests are those the simulators counted on routes that change something "
        "(`WRITE_ROUTES` of `tests/sync/world.py`);",
        f"3. **orders**: {orders:,} orders placed and paid on the simulators (a third "
        "each) through their buyer path (`place_order` on a random listing with "
        "stock, 1 to 3 units, never more than it shows, then the `pay` event), then "
        "every account's order pull (`pull_orders`: pages fetched, orders stored and "
        "their stock reserved by `OrderIngester` in batches of 500); orders/s over "
        "the wall seconds of that pull phase. Every order is checked stored once "
        "with one reservation of its units.",
        "",
        "**Propagation with rate limits on** (simulators metering as documented, "
        f"connector budgets as production sets them, `default_rate`: {budgets}): in "
        f"another child on another fresh database, {options.propagation_products} "
        f"products ({PROPAGATION_STOCK} units each) are published and one cycle with "
        "nothing to do is run, back to back, their waits advancing the running "
        "simulated clock; then a simulated buyer orders on Tokopedia "
        "(`buyers.rush(1)`, "
        "paid) and one `run_cycle` runs with the production pool (`RunnerOptions()`, "
        "8 workers) and real waits (the simulated clock runs in real time, so its "
        "seconds are real seconds). Seconds are from the start of that cycle to the "
        "write after which the marketplace showed the corrected stock (its allocation "
        "of the new available stock); Tokopedia took the units itself when the buyer "
        "ordered and is sent its stock again. Requests and throttles are the "
        "simulators' own counts over that cycle.",
        "",
        f"Median, min and max of {options.runs} run(s) per backend.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for backend in backends:
        lines += _backend_table(backend, options)
    lines += [
        "### Propagation of a Tokopedia sale, rate limits on "
        f"({options.propagation_products} products)",
        "",
        *_propagation_table(backends),
        "",
        "### Goals",
        "",
        *_goals(backends),
        END,
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.sync",
        description="Benchmark the sync engine against the simulators and write "
        "BENCHMARKS.md.",
    )
    parser.add_argument(
        "--runs", type=positive, default=3, help="runs per backend (default 3)"
    )
    parser.add_argument(
        "--products",
        type=positive,
        default=10_000,
        help="products published to each marketplace (default 10000)",
    )
    parser.add_argument(
        "--orders",
        type=positive,
        default=10_000,
        help="orders placed and ingested, split over the marketplaces (default 10000)",
    )
    parser.add_argument(
        "--propagation-products",
        type=positive,
        default=200,
        help="products of the rate-limited propagation run (default 200)",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="accounts worked on at once in the throughput runs (default 1)",
    )
    parser.add_argument(
        "--database-url",
        help="also measure PostgreSQL: a database on the server to create scratch "
        "databases from, e.g. postgresql+psycopg://127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS,
        help="the file to write the figures to (default BENCHMARKS.md)",
    )
    parser.add_argument(
        "--child",
        choices=("throughput", "connectors", "propagation"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(options: argparse.Namespace) -> int:
    """One measured run in this process; its figures as one JSON line."""
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives to exit
    configure_logging("INFO", "json", stream=sink)
    if options.child == "throughput":
        figures = throughput(
            options.url, options.products, options.orders, options.workers
        )
    elif options.child == "connectors":
        figures = connectors_alone(options.url, options.products)
    else:
        figures = propagation(options.url, options.propagation_products)
    print(json.dumps(figures))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    if options.child:
        return child(options)
    command = shlex.join(["python", "-m", "bench.sync", *arguments])
    backends: list[Backend] = []
    with tempfile.TemporaryDirectory(prefix="ikmsync-bench-sync-") as tmp:
        directory = Path(tmp)
        backends.append(
            Backend(
                "SQLite",
                f"SQLite {sqlite3.sqlite_version}",
                functools.partial(sqlite_database, directory),
            )
        )
        if options.database_url:
            admin = make_url(options.database_url)
            if admin.drivername in {"postgresql", "postgres"}:
                admin = admin.set(drivername="postgresql+psycopg")
            admin_url = admin.render_as_string(hide_password=False)
            try:
                version = postgres_version(admin_url)
            except SQLAlchemyError as exc:
                print(
                    f"error: cannot reach {options.database_url}: "
                    f"{str(exc).splitlines()[0]}",
                    file=sys.stderr,
                )
                return 1
            backends.append(
                Backend(
                    "PostgreSQL",
                    f"PostgreSQL {version}",
                    lambda _label: postgres_database(admin_url),
                )
            )
        for backend in backends:
            print(
                f"{backend.name}: {options.runs} run(s), {options.products:,} "
                f"products, {options.orders:,} orders…",
                flush=True,
            )
            try:
                bench_backend(backend, options)
            except BenchError as exc:
                print(f"error: {backend.name}: {exc}", file=sys.stderr)
                return 1
    section = render_section(backends, options, command)
    write_section(options.output, NAME, section)
    print()
    print(section)
    print(f"written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
