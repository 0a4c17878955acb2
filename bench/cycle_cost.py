"""What one account-cycle costs the store: SQL statements, write transactions, rows
written, threads started and CPU, per cycle with nothing to do and per cycle that
finds one new order.

An *account-cycle* is ``run_cycle(runner, [account])``, as the daemon runs it for an
account it claimed: the account's order pull, then its push, under the runner (lease,
connector, run records). The store holds N accounts (``--accounts``, default 15, 150,
1,500), each with a converged catalogue of 30 SKUs; three of them (one per
marketplace) are wired to the in-process simulators (``bench/_syncworld.py``) and
are the ones cycled, the others are there so the store is of that size (their rows:
account, 30 listings, an order bookmark and two earlier runs each).

Counting (one pass) and timing (another pass, without the counters installed) are
separate, so the counters' own cost never reaches the CPU figure:

* **SQL statements**: SQLAlchemy's ``before_cursor_execute`` on the engine (every
  session, the token store's included), transaction control aside; the ``BEGIN``
  that SQLite is sent as a statement (``BEGIN IMMEDIATE``, see ``core.store.db``)
  is counted beside them (PostgreSQL's driver begins transactions itself);
* **write transactions**: commits of transactions that ran an INSERT, UPDATE or
  DELETE;
* **rows written**: rows changed by those statements (SQLite's ``total_changes``,
  PostgreSQL's row count), also shown per table;
* **threads started**: ``threading.Thread.start`` calls;
* **CPU ms**: ``time.process_time`` of the cycle (the simulators run in this
  process, so the marketplace's side of the one order-list request is in it).

Figures are medians over ``--rounds`` rounds of the three accounts. Run
``python -m bench.cycle_cost [--database-url postgresql://…]``; ``--json`` writes
the figures, ``--baseline`` puts an earlier ``--json`` beside them in the table that
is written to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import resource
import shlex
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench._report import BENCHMARKS, machine, markers, positive, write_section
from bench._syncworld import SyncWorld
from bench.sync import postgres_database, postgres_version, sqlite_database
from config.logging import configure_logging
from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.domain.sync import RunOutcome
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.leases import SqlLeaseStore
from core.store.tables import (
    ChannelAccountRow,
    ListingRow,
    OrderBookmarkRow,
    SyncRunRow,
    table_of,
)
from core.store.uow import fenced_units
from scheduler.jobs import CycleReport, run_cycle
from scheduler.runner import AccountJobRunner, RunnerOptions
from simulators.kit.buyers import BuyerEvent

NAME = "cycle-cost"
#: The figures of the revision before quiet cycles stopped recording runs (9aa9782).
BASELINE = Path(__file__).with_name("cycle_cost_baseline.json")
PRODUCTS = 30
STOCK = 100
#: The issue's goals for a no-op account-cycle.
GOAL_STATEMENTS = 10
GOAL_ROWS = 1
GOAL_CPU_MS = 5.0

Figures = dict[str, float]
_DML = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


class BenchError(Exception):
    """A measurement could not be taken, or a cycle did not do what it must."""


# ------------------------------------------------------------------ counting


class Meter:
    """Counts statements, write transactions and rows written on one engine.

    Rows are counted when their transaction commits (a rolled-back write wrote
    nothing). On SQLite a statement's changes are known once it has completed,
    which it has by the connection's next statement or commit, so they are read
    then from ``total_changes``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.statements = 0
        self.begins = 0
        self.write_transactions = 0
        self.rows: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _settle(self, conn: Any) -> None:
        """SQLite: the changes of the connection's last write, now complete."""
        table = conn.info.pop("bench_table", None)
        if table is not None and self.sqlite:
            dbapi = conn.connection.dbapi_connection
            changed = dbapi.total_changes - conn.info.pop("bench_changes", 0)
            conn.info.setdefault("bench_rows", Counter())[table] += changed

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        begin = statement.lstrip().upper().startswith("BEGIN")
        with self._lock:
            if begin:
                self.begins += 1
            else:
                self.statements += 1
        self._settle(conn)
        found = _DML.match(statement)
        if found is not None:
            conn.info["bench_writing"] = True
            if self.sqlite:
                conn.info["bench_table"] = found.group(2).lower()
                conn.info["bench_changes"] = cursor.connection.total_changes

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        found = _DML.match(statement)
        if found is not None and not self.sqlite:
            rows = conn.info.setdefault("bench_rows", Counter())
            rows[found.group(2).lower()] += max(cursor.rowcount, 0)

    def _commit(self, conn: Any) -> None:
        self._settle(conn)
        rows: Counter[str] = conn.info.pop("bench_rows", Counter())
        with self._lock:
            if conn.info.pop("bench_writing", False):
                self.write_transactions += 1
            self.rows.update(rows)

    def _rollback(self, conn: Any) -> None:
        for key in ("bench_rows", "bench_writing", "bench_table", "bench_changes"):
            conn.info.pop(key, None)

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", self._before),
            ("after_cursor_execute", self._after),
            ("commit", self._commit),
            ("rollback", self._rollback),
        ]
        for name, hook in hooks:
            sa.event.listen(self.engine, name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                sa.event.remove(self.engine, name, hook)


class Threads:
    """Counts ``threading.Thread.start`` calls while installed."""

    def __init__(self) -> None:
        self.started = 0

    @contextmanager
    def installed(self) -> Iterator[Threads]:
        original = threading.Thread.start

        @functools.wraps(original)
        def start(thread: threading.Thread) -> None:
            self.started += 1
            original(thread)

        threading.Thread.start = start  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            threading.Thread.start = original  # type: ignore[method-assign]


@dataclass
class Sample:
    """One account-cycle's counts (CPU from the timing pass)."""

    statements: int
    begins: int
    write_transactions: int
    rows: Counter[str]
    threads: int
    runs: int


# ------------------------------------------------------------------ the world


def _runner(world: SyncWorld) -> AccountJobRunner:
    factory = make_session_factory(world.engine)
    return AccountJobRunner(
        SqlLeaseStore(factory),
        lambda fence: fenced_units(factory, fence),
        world.connector,
        world.clock,
        RunnerOptions(workers=1),
    )


def _fill(world: SyncWorld, accounts: int) -> None:
    """Accounts beyond the three wired ones, each a converged copy of the wired
    account of its marketplace (listings, bookmark, two earlier runs)."""
    now = world.clock.now()
    extra = accounts - len(world.accounts)
    accounts_t, listings_t = table_of(ChannelAccountRow), table_of(ListingRow)
    copies: list[tuple[ChannelAccount, ChannelAccount]] = []
    for n in range(extra):
        model = world.accounts[n % len(world.accounts)]
        copy = ChannelAccount(
            AccountId(f"{model.id}-{n:05d}"),
            model.marketplace,
            f"bench-{n:05d}",
            model.producer_codes,
        )
        copies.append((model, copy))
    with world.uow() as uow:
        for _, copy in copies:
            uow.accounts.save(copy, now)
        uow.commit()
    with world.engine.begin() as connection:
        ids = {
            str(key): int(id_)
            for id_, key in connection.execute(
                sa.select(accounts_t.c.id, accounts_t.c.account_key)
            )
        }
        for model, copy in copies:
            new_id, model_id = ids[copy.id], ids[model.id]
            columns = [
                c.name for c in listings_t.columns if c.name not in {"id", "account_id"}
            ]
            connection.execute(
                sa.insert(listings_t).from_select(
                    ["account_id", *columns],
                    sa.select(
                        sa.literal(new_id),
                        *[listings_t.c[c] for c in columns],
                    ).where(listings_t.c.account_id == model_id),
                )
            )
            connection.execute(
                sa.insert(table_of(OrderBookmarkRow)).values(
                    account_id=new_id, position=now, updated_at=now
                )
            )
            for kind in ("orders", "publish"):
                connection.execute(
                    sa.insert(table_of(SyncRunRow)).values(
                        kind=kind,
                        account_id=new_id,
                        trigger="schedule",
                        started_at=now,
                        finished_at=now,
                        outcome="succeeded",
                        counts={},
                    )
                )


def _runs(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(table_of(SyncRunRow))
            ).scalar_one()
        )


def _order(world: SyncWorld, account: ChannelAccount, buyer: str) -> None:
    """One paid order of one unit on ``account``'s marketplace."""
    sim = world.sims[account.marketplace]
    ref = next(ref for ref, left in sorted(sim.buyable_listings()) if left > 0)
    order = sim.place_order(ref, 1, buyer)
    if order is None or not sim.buyer_event(order, BuyerEvent.PAY):
        raise BenchError(f"{account.marketplace.value}: the order on {ref} refused")


def _cycle(runner: AccountJobRunner, account: ChannelAccount) -> CycleReport:
    report = run_cycle(runner, [account], trigger="bench:cost")
    bad = [r for r in [*report.pulls, *report.pushes] if r.outcome is RunOutcome.FAILED]
    if bad:
        raise BenchError(f"{account.id}: {bad[0].error}")
    return report


def _counted(
    world: SyncWorld, runner: AccountJobRunner, account: ChannelAccount
) -> Sample:
    meter, threads = Meter(world.engine), Threads()
    before = _runs(world.engine)
    with meter.installed(), threads.installed():
        _cycle(runner, account)
    return Sample(
        meter.statements,
        meter.begins,
        meter.write_transactions,
        meter.rows,
        threads.started,
        _runs(world.engine) - before,
    )


def _timed(runner: AccountJobRunner, account: ChannelAccount) -> float:
    cpu = time.process_time()
    _cycle(runner, account)
    return (time.process_time() - cpu) * 1000


def measure(url: str, accounts: int, rounds: int) -> Figures:
    """The figures of one store of ``accounts`` accounts."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        world = SyncWorld.build(engine, products=PRODUCTS, stock=STOCK)
        runner = _runner(world)
        for account in world.accounts:  # the first publish
            _cycle(runner, account)
        _fill(world, accounts)
        for account in world.accounts:  # settle: nothing left to do after this
            world.clock.advance(60)
            _cycle(runner, account)
        noop: list[Sample] = []
        noop_cpu: list[float] = []
        for _ in range(rounds):
            for account in world.accounts:
                world.clock.advance(60)
                noop.append(_counted(world, runner, account))
                world.clock.advance(60)
                noop_cpu.append(_timed(runner, account))
        order: list[Sample] = []
        order_cpu: list[float] = []
        for number in range(rounds):
            for position, account in enumerate(world.accounts):
                for timed in (False, True):
                    world.clock.advance(60)
                    _order(world, account, f"buyer-{number}-{position}-{timed}")
                    world.clock.advance(60)
                    if timed:
                        order_cpu.append(_timed(runner, account))
                    else:
                        order.append(_counted(world, runner, account))
                    for other in world.accounts:  # the others follow the sale
                        if other is not account:
                            world.clock.advance(60)
                            _cycle(runner, other)
        figures = _summary("noop", noop, noop_cpu) | _summary("order", order, order_cpu)
        figures["peak_rss_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        world.close()
        return figures
    finally:
        engine.dispose()


def _summary(prefix: str, samples: Sequence[Sample], cpu: Sequence[float]) -> Figures:
    figures: Figures = {
        f"{prefix}.cpu_ms": statistics.median(cpu),
        f"{prefix}.statements": statistics.median(s.statements for s in samples),
        f"{prefix}.begins": statistics.median(s.begins for s in samples),
        f"{prefix}.write_transactions": statistics.median(
            s.write_transactions for s in samples
        ),
        f"{prefix}.rows": statistics.median(sum(s.rows.values()) for s in samples),
        f"{prefix}.threads": statistics.median(s.threads for s in samples),
        f"{prefix}.runs": statistics.median(s.runs for s in samples),
    }
    tables = sorted({t for s in samples for t in s.rows})
    for table in tables:
        figures[f"{prefix}.rows.{table}"] = statistics.median(
            s.rows.get(table, 0) for s in samples
        )
    return figures


# ------------------------------------------------------------------ report

_ROWS = (
    ("cpu_ms", "CPU ms"),
    ("statements", "SQL statements"),
    ("begins", "+ `BEGIN`"),
    ("write_transactions", "write transactions"),
    ("rows", "rows written"),
    ("threads", "threads started"),
    ("runs", "`sync_runs` rows added"),
)


def _value(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value != int(value) else f"{int(value)}"


def render(
    results: dict[str, dict[str, Figures]],
    baseline: dict[str, dict[str, Figures]] | None,
    command: str,
    software: dict[str, str],
    rounds: int,
) -> str:
    """The BENCHMARKS.md section."""
    start, end = markers(NAME)
    lines = [
        start,
        "## Cost of an account-cycle (`bench/cycle_cost.py`)",
        "",
        f"Command: `{command}`. Per account-cycle (`run_cycle` for one account, as "
        "the daemon runs a claimed account: its order pull, then its push), medians "
        f"of {rounds} rounds x 3 accounts (one per marketplace, 30 SKUs each, "
        "in-process simulators); the store holds N accounts of 30 converged "
        "listings each. CPU from a pass without the counters installed. Figures "
        "shown as *before → after* put the baseline's (`--baseline`; by default "
        "`bench/cycle_cost_baseline.json`: 9aa9782, measured by the same script "
        "on the same machine just before) beside these.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine(software).items()) + ".",
        "",
    ]
    for case, title in (("noop", "no-op account-cycle"), ("order", "one new order")):
        lines += [f"**{title}**", ""]
        header = "| backend | N | " + " | ".join(label for _, label in _ROWS) + " |"
        lines += [header, "|" + "---|" * (len(_ROWS) + 2)]
        for backend, by_n in results.items():
            for n, figures in by_n.items():
                cells = []
                for key, _ in _ROWS:
                    now = figures.get(f"{case}.{key}")
                    was = (
                        (baseline or {})
                        .get(backend, {})
                        .get(n, {})
                        .get(f"{case}.{key}")
                    )
                    cell = _value(now)
                    if baseline is not None:
                        cell = f"{_value(was)} → {cell}"
                    cells.append(cell)
                lines.append(f"| {backend} | {int(n):,} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Rows written per table (median):", ""]
    for backend, by_n in results.items():
        for n, figures in by_n.items():
            for case in ("noop", "order"):
                tables = {
                    k.rsplit(".", 1)[1]: v
                    for k, v in figures.items()
                    if k.startswith(f"{case}.rows.") and v
                }
                earlier: Figures = (baseline or {}).get(backend, {}).get(n, {})
                earlier_tables = {
                    k.rsplit(".", 1)[1]: v
                    for k, v in earlier.items()
                    if k.startswith(f"{case}.rows.") and v
                }
                text = ", ".join(f"{t} {_value(v)}" for t, v in sorted(tables.items()))
                before = ", ".join(
                    f"{t} {_value(v)}" for t, v in sorted(earlier_tables.items())
                )
                prefix = f"before: {before or 'none'}; after: " if baseline else ""
                lines.append(
                    f"- {backend}, N = {int(n):,}, {case}: {prefix}{text or 'none'}"
                )
    peaks = [
        f"{b} N = {int(n):,}: {f['peak_rss_mb']:.0f} MB"
        for b, by_n in results.items()
        for n, f in by_n.items()
    ]
    lines += ["", "Peak RSS of the measuring process: " + "; ".join(peaks) + ".", ""]
    lines.append(end)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cycle_cost")
    parser.add_argument("--accounts", default="15,150,1500")
    parser.add_argument("--rounds", type=positive, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=BASELINE if BASELINE.exists() else None,
        help="figures of an earlier revision (--json) to show beside these",
    )
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    configure_logging(level="ERROR", fmt="json")
    sizes = [int(n) for n in options.accounts.split(",")]
    results: dict[str, dict[str, Figures]] = {}
    software = {"SQLite": sqlite3.sqlite_version}
    with tempfile.TemporaryDirectory(prefix="ikmsync-bench-cost-") as tmp:
        backends: list[tuple[str, Callable[[str], AbstractContextManager[str]]]] = []
        if not options.no_sqlite:
            backends.append(("SQLite", functools.partial(sqlite_database, Path(tmp))))
        if options.database_url:
            admin = make_url(options.database_url)
            if admin.drivername in {"postgresql", "postgres"}:
                admin = admin.set(drivername="postgresql+psycopg")
            admin_url = admin.render_as_string(hide_password=False)
            software["PostgreSQL"] = postgres_version(admin_url)
            backends.append(("PostgreSQL", lambda _label: postgres_database(admin_url)))
        for backend, database in backends:
            for n in sizes:
                print(f"{backend}, N = {n:,}…", flush=True)
                with database(f"cost-{n}") as url:
                    try:
                        figures = measure(url, n, options.rounds)
                    except BenchError as exc:
                        print(f"error: {backend}: {exc}", file=sys.stderr)
                        return 1
                results.setdefault(backend, {})[str(n)] = figures
                print(json.dumps(figures, sort_keys=True), flush=True)
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    baseline = (
        json.loads(options.baseline.read_text())
        if options.baseline is not None
        else None
    )
    command = shlex.join(["python", "-m", "bench.cycle_cost", *arguments])
    section = render(results, baseline, command, software, options.rounds)
    if not options.no_write:
        write_section(options.output, NAME, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
