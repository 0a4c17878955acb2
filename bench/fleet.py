"""Benchmark: a fleet of shops run by the scheduler daemon.

``n`` accounts per marketplace (Shopee, Tokopedia, Bukalapak), each a producer's shop
of 30 products (``bench/_fleetworld.py``), in a SQLite file or a scratch PostgreSQL
database (``--database-url``, created and dropped here), run in process by the
daemon of ``ikm-sync run`` (``scheduler.daemon.Daemon`` on
``scheduler.runner.AccountJobRunner``, built as the command builds them) against
in-process simulators. In process rather than as ``ikm-sync run --once`` processes:
the code path is the same (``run --once`` is ``Daemon.run_once``, a loop of
``Daemon.claim`` and ``Daemon.run_account``), and only in process can a cycle's SQL
statements, commits and threads be counted and the marketplace's latency be
simulated without a second process answering HTTP; the command's own start-up is
``bench/startup.py``'s.

Only the public entrances are used (``Daemon.claim``, ``Daemon.run_account``,
``Daemon.run_once``, ``Daemon.serve``, ``Daemon.refresh``), so the benchmark measures
whatever those do on the revision it runs on.

Per backend and fleet size, in a child process of its own (its peak RSS its own):

1. **publish**: ``Daemon.run_once`` runs the live accounts' first cycle (30 creates
   each); the following rounds must send no write to any marketplace;
2. **rounds** (``--rounds`` of each; then one of each with ``--latency`` ms waited
   before each marketplace answer): a no-op round (each live account claimed from
   the schedule and its cycle run once, one after another: ``Daemon.claim`` with a
   pool of 1, then ``Daemon.run_account``), then an order round (one buyer orders
   one unit on every live account, then the same round); per account-cycle: process CPU
   (``time.process_time``, the simulators' share beside it), SQL statements
   (``before_cursor_execute``), of which INSERT/UPDATE/DELETE, commits, threads
   started, rows added to the store (``COUNT(*)`` of every table before and after)
   and ``sync_runs`` rows added;
3. **throughput** with the latency and the production pool (8 workers): the daemon as
   ``ikm-sync run`` serves (``Daemon.serve``, its 5 s claim tick) for a few ticks, and
   the same claims made as soon as a worker is free (``Daemon.claim`` and
   ``Daemon.run_account`` in a pool of 8): account-cycles per second, times 300 s,
   is the largest fleet one daemon keeps at a 5-minute interval.

Then the daemon's own overhead with ``--idle-accounts`` accounts in the schedule and
none due: RSS, CPU and statements per claim tick, per refresh of the accounts, and
CPU per second of ``Daemon.serve`` idling.

The machine is shared: CPU time and counts are the figures; wall time is given only
where latency is the point.

    python -m bench.fleet                         # N = 100, 1,000, 3,000, SQLite
    python -m bench.fleet --quick                 # N = 100, SQLite, ~1 minute
    python -m bench.fleet --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench._fleetworld import (
    MARKETS,
    PARKED,
    SKUS,
    Counter,
    Counts,
    Fleet,
    account_id,
    table_rows,
)
from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section
from bench.sync import postgres_database, postgres_version, sqlite_database
from config.logging import configure_logging
from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.services.stopping import StopRequest
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.leases import SqlLeaseStore
from core.store.schedule import SqlScheduleStore
from core.store.tokens import SqlTokenStore
from core.store.uow import SqlUnitOfWork
from scheduler.daemon import CYCLE, AccountResult, Daemon, DaemonOptions
from scheduler.runner import AccountJobRunner, RunnerOptions
from scheduler.timing import Intervals

NAME = "fleet"
START, END = markers(NAME)
SIZES = (100, 1_000, 3_000)
#: The production pool (``[sync] workers``) and claim tick
#: (``[scheduler] tick_seconds``).
WORKERS = 8
TICK = 5.0
INTERVAL_S = 300
#: Goals from the issue.
GOAL_CPU_MS = 5.0
GOAL_STATEMENTS = 10
GOAL_ROWS = 1
GOAL_FLEET = 20_000

Figures = dict[str, Any]


class BenchError(Exception):
    """A measurement could not be taken, or the daemon did not do what it must."""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's resident set size now, MB."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _check(results: Sequence[AccountResult], what: str) -> None:
    bad = [r for r in results if r.outcome != "succeeded"]
    if bad:
        detail = "; ".join(f"{r.account}: {r.outcome} {r.error}" for r in bad[:3])
        raise BenchError(
            f"{what}: {len(bad)} of {len(results)} not succeeded: {detail}"
        )


# ------------------------------------------------------------------ child: cycles


def one_round(fleet: Fleet, daemon: Daemon, counter: Counter) -> tuple[Figures, int]:
    """Every due account claimed and cycled once, one after another; per
    account-cycle figures and the marketplace writes sent."""
    rows = table_rows(fleet.engine)
    writes = fleet.write_calls()
    results: list[AccountResult] = []
    with counter.counting(fleet.transport) as counts:
        seen: set[AccountId] = set()
        for _ in range(10 * len(fleet.live) + 10):  # bounded: one claim per account
            claimed = daemon.claim(CYCLE, daemon.runner.workers, seen)
            if not claimed:
                break
            seen.update(a.id for a in claimed)
            results += [daemon.run_account(CYCLE, a) for a in claimed]
    after = table_rows(fleet.engine)
    _check(results, "round")
    if len(results) != len(fleet.live):
        raise BenchError(f"round: {len(results)} cycles, expected {len(fleet.live)}")
    return per_cycle(counts, len(results), rows, after), fleet.write_calls() - writes


def per_cycle(
    counts: Counts, cycles: int, before: dict[str, int], after: dict[str, int]
) -> Figures:
    added = {t: after.get(t, 0) - before.get(t, 0) for t in after}
    return {
        "cpu_ms": 1000 * counts.cpu / cycles,
        "in_sims_ms": 1000 * counts.in_sims / cycles,
        "wall_ms": 1000 * counts.wall / cycles,
        "statements": counts.statements / cycles,
        "writes": counts.writes / cycles,
        "commits": counts.commits / cycles,
        "threads": counts.threads / cycles,
        "requests": counts.requests / cycles,
        "rows": sum(added.values()) / cycles,
        "sync_runs": added.get("sync_runs", 0) / cycles,
    }


def serve_rate(fleet: Fleet, ticks: int, tick: float = TICK) -> Figures:
    """``Daemon.serve`` with the production pool and claim tick: account-cycles
    started per second over ``ticks`` ticks, counted from the first cycle it starts
    (its start-up, which loads and refreshes every account, is left out)."""
    daemon = fleet.daemon(WORKERS, interval=timedelta(0), tick=timedelta(seconds=tick))
    starts: list[float] = []
    done: list[str] = []
    lock = threading.Lock()
    run_account = daemon.run_account

    def counted(job: str, account: ChannelAccount) -> AccountResult:
        with lock:
            starts.append(time.monotonic())
        result = run_account(job, account)
        with lock:
            done.append(result.outcome)
        return result

    daemon.run_account = counted  # type: ignore[method-assign]
    stop = StopRequest()
    thread = threading.Thread(target=daemon.serve, args=(stop,), daemon=True)
    thread.start()
    limit = time.monotonic() + 300 + ticks * tick  # bounded, however slow
    pause = threading.Event()
    while time.monotonic() < limit:
        with lock:
            first = starts[0] if starts else None
        # the window ends half a tick before the tick after the last one counted
        if first is not None and time.monotonic() > first + (ticks - 0.5) * tick:
            break
        pause.wait(0.1)  # a measuring window, not synchronisation
    stop.request("bench")
    thread.join(timeout=120)
    if thread.is_alive() or not starts:
        raise BenchError("serve: the daemon did not start a cycle, or did not stop")
    if any(o != "succeeded" for o in done):
        raise BenchError(f"serve: outcomes {sorted(set(done))}")
    end = starts[0] + (ticks - 0.5) * tick
    counted_starts = sum(t < end for t in starts)
    return {
        "serve.cycles": counted_starts,
        "serve.per_s": counted_starts / (ticks * tick),
    }


def pool_rate(fleet: Fleet, seconds: float) -> Figures:
    """Claims made as soon as one of the production pool's workers is free
    (``Daemon.claim``, ``Daemon.run_account``): account-cycles per second."""
    daemon = fleet.daemon(WORKERS, interval=timedelta(0))
    daemon.refresh()  # loads the accounts once, as a running daemon has them
    completed: list[AccountResult] = []
    in_flight: dict[Future[AccountResult], AccountId] = {}
    cpu, started = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="cycle") as pool:
        while time.monotonic() - started < seconds:
            free = WORKERS - len(in_flight)
            if free:
                for account in daemon.claim(CYCLE, free, set(in_flight.values())):
                    in_flight[pool.submit(daemon.run_account, CYCLE, account)] = (
                        account.id
                    )
            finished, _ = wait(
                list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED
            )
            for future in finished:
                in_flight.pop(future)
                completed.append(future.result())
        elapsed = time.monotonic() - started
        for future in list(in_flight):
            future.result()
    cpu = time.process_time() - cpu
    _check(completed, "pool")
    return {
        "pool.cycles": len(completed),
        "pool.per_s": len(completed) / elapsed,
        "pool.cpu_ms": 1000 * cpu / max(1, len(completed)),
    }


def cycles(
    url: str,
    n: int,
    live: int,
    rounds: int,
    latency: float,
    ticks: int,
    tick: float = TICK,
) -> Figures:
    """Build a fleet of ``n`` accounts per marketplace and measure it: ``rounds``
    no-op and order rounds without latency, one of each with ``latency`` seconds,
    then the throughput over ``ticks`` claim ticks of ``tick`` seconds."""
    try:
        return _cycles(url, n, live, rounds, latency, ticks, tick)
    finally:
        Counter.restore()


def _cycles(
    url: str,
    n: int,
    live: int,
    rounds: int,
    latency: float,
    ticks: int,
    tick: float,
) -> Figures:
    engine = make_engine(url)
    upgrade(engine)
    started = time.process_time()
    fleet = Fleet.build(engine, n=n, live=live)
    figures: Figures = {
        "build.cpu_s": time.process_time() - started,
        "rows": table_rows(engine),
        "live": len(fleet.live),
    }
    counter = Counter(engine)
    daemon = fleet.daemon(1, interval=timedelta(0))

    cpu = time.process_time()
    published = daemon.run_once(StopRequest())
    figures["publish.cpu_s"] = time.process_time() - cpu
    _check(published, "publish")
    if len(published) != len(fleet.live):
        raise BenchError(f"publish: {len(published)} cycles for {len(fleet.live)}")

    number = 0
    for label, wait_s, times in (("0", 0.0, rounds), ("latency", latency, 1)):
        fleet.transport.latency = wait_s
        noops: list[Figures] = []
        orders: list[Figures] = []
        for _ in range(times):
            figures_, writes = one_round(fleet, daemon, counter)
            if writes:
                raise BenchError(f"a no-op round sent {writes} writes")
            noops.append(figures_)
            for account in fleet.live:
                fleet.order_on(account, number)
                number += 1
            figures_, writes = one_round(fleet, daemon, counter)
            if writes < len(fleet.live):
                raise BenchError(f"an order round sent {writes} writes")
            orders.append(figures_)
        figures[f"noop.{label}"] = noops
        figures[f"order.{label}"] = orders

    fleet.transport.latency = latency
    figures.update(pool_rate(fleet, seconds=ticks * tick))
    figures.update(serve_rate(fleet, ticks, tick))
    figures["peak_rss_mb"] = peak_rss_mb()
    counter.close()
    fleet.close()
    engine.dispose()
    return figures


# ------------------------------------------------------------------ child: idle


def idle_build(url: str, accounts: int) -> Figures:
    """``accounts`` accounts (a producer each, spread over the marketplaces), none
    due for a day."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    every = [
        ChannelAccount(
            account_id(MARKETS[i % 3], i // 3),
            MARKETS[i % 3],
            f"shop-{i}",
            (ProducerCode(f"IKM-I{i:06d}"),),
        )
        for i in range(accounts)
    ]
    started = time.process_time()
    for start in range(0, accounts, 2_000):
        chunk = every[start : start + 2_000]
        with SqlUnitOfWork(factory) as uow:
            uow.producers.add_many(
                [
                    Producer(
                        a.producer_codes[0],
                        "Koperasi",
                        ProducerKind.IKM,
                        "NTT",
                        "Ngada",
                    )
                    for a in chunk
                ],
                now,
            )
            for account in chunk:
                uow.accounts.save(account, now)
            uow.commit()
    SqlScheduleStore(factory).ensure(CYCLE, {a.id: PARKED for a in every})
    engine.dispose()
    return {"idle.build_cpu_s": time.process_time() - started}


def idle(url: str, seconds: float) -> Figures:
    """The daemon over a schedule with nothing due: RSS, claim ticks, refreshes and
    ``serve`` idling."""
    base = rss_mb()
    engine = make_engine(url)
    factory = make_session_factory(engine)

    def no_connector(account: ChannelAccount) -> Any:
        raise BenchError(f"idle: {account.id} was run")

    def accounts() -> list[ChannelAccount]:
        with SqlUnitOfWork(factory) as uow:
            return [a for a in uow.accounts.get_all() if a.enabled]

    def daemon() -> Daemon:
        from simulators.kit.clock import SimClock

        clock = SimClock(datetime.now(UTC), frozen=False)
        runner = AccountJobRunner(
            SqlLeaseStore(factory),
            lambda fence: functools.partial(SqlUnitOfWork, factory, fence),
            no_connector,
            clock,
            RunnerOptions(workers=WORKERS),
        )
        from bench._syncworld import bench_cipher

        return Daemon(
            runner,
            SqlScheduleStore(factory),
            SqlTokenStore(factory, clock, bench_cipher()),
            accounts,
            DaemonOptions(cycles=Intervals(timedelta(seconds=INTERVAL_S), jitter=0.1)),
        )

    counter = Counter(engine)

    class _NoTransport:
        requests = 0
        in_sims = 0.0

    transport: Any = _NoTransport()
    figures: Figures = {}
    found = daemon()
    with counter.counting(transport) as counts:
        found.refresh()
    figures["idle.refresh_cpu_ms"] = 1000 * counts.cpu
    figures["idle.refresh_statements"] = counts.statements
    figures["idle.rss_after_refresh_mb"] = rss_mb()
    figures["idle.rss_before_mb"] = base
    ticks: list[Counts] = []
    for _ in range(20):
        with counter.counting(transport) as counts:
            if found.claim(CYCLE, WORKERS):
                raise BenchError("idle: an account was due")
        ticks.append(counts)
    figures["idle.tick_cpu_ms"] = statistics.median(1000 * c.cpu for c in ticks)
    figures["idle.tick_statements"] = statistics.median(c.statements for c in ticks)
    if seconds > 0:
        serving = daemon()
        stop = StopRequest()
        thread = threading.Thread(target=serving.serve, args=(stop,), daemon=True)
        with counter.counting(transport) as counts:
            thread.start()
            end = time.monotonic() + seconds
            pause = threading.Event()
            while time.monotonic() < end:
                pause.wait(0.1)  # a measuring window
            stop.request("bench")
            thread.join(timeout=120)
        figures["idle.serve_seconds"] = counts.wall
        figures["idle.serve_cpu_ms_per_s"] = 1000 * counts.cpu / counts.wall
        figures["idle.serve_statements"] = counts.statements
    figures["idle.rss_mb"] = rss_mb()
    figures["idle.peak_rss_mb"] = peak_rss_mb()
    counter.close()
    engine.dispose()
    return figures


# ------------------------------------------------------------------ orchestration


@dataclass
class Backend:
    name: str
    version: str
    database: Callable[[str], AbstractContextManager[str]]
    sizes: dict[int, Figures] = field(default_factory=dict)
    idle: Figures = field(default_factory=dict)


def run_child(arguments: Sequence[str]) -> tuple[Figures, float]:
    """``python -m bench.fleet --child …``: its figures and its peak RSS, MB."""
    command = [sys.executable, "-m", "bench.fleet", *arguments]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, cwd=ROOT, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            tail = err.read().decode(errors="replace").strip().splitlines()[-15:]
            raise BenchError(f"{shlex.join(arguments)} failed:\n" + "\n".join(tail))
        figures: Figures = json.loads(out.read().decode().strip().splitlines()[-1])
    return figures, usage.ru_maxrss / 1024


def bench_backend(backend: Backend, options: argparse.Namespace) -> None:
    for n in options.sizes:
        print(f"  {backend.name}, N = {n:,} per marketplace…", flush=True)
        with backend.database(f"fleet-{n}") as url:
            figures, peak = run_child(
                [
                    "--child=cycles",
                    f"--url={url}",
                    f"--n={n}",
                    f"--live={options.live}",
                    f"--rounds={options.rounds}",
                    f"--latency={options.latency}",
                    f"--ticks={options.ticks}",
                ]
            )
        figures["peak_rss_mb"] = peak
        backend.sizes[n] = figures
    if options.idle_accounts:
        print(f"  {backend.name}, idle daemon, {options.idle_accounts:,} accounts…")
        with backend.database("fleet-idle") as url:
            built, _ = run_child(
                ["--child=idle-build", f"--url={url}", f"--n={options.idle_accounts}"]
            )
            figures, peak = run_child(
                ["--child=idle", f"--url={url}", f"--seconds={options.idle_seconds}"]
            )
        backend.idle = {**built, **figures, "idle.peak_rss_mb": peak}


# ------------------------------------------------------------------ report


def _med(rounds: Sequence[Figures], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def _fig(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


COLUMNS = (
    ("CPU ms", "cpu_ms"),
    ("of which in simulators, ms", "in_sims_ms"),
    ("SQL statements", "statements"),
    ("of which writing", "writes"),
    ("commits", "commits"),
    ("threads started", "threads"),
    ("rows added", "rows"),
    ("`sync_runs` rows added", "sync_runs"),
    ("marketplace requests", "requests"),
)


def _cycle_table(backend: Backend, latency: float) -> list[str]:
    header = "| N per marketplace | cycle | " + " | ".join(c for c, _ in COLUMNS)
    lines = [
        header + f" | wall ms at {latency:g} ms latency |",
        "|---:|---|" + "---:|" * (len(COLUMNS) + 1),
    ]
    for n, figures in backend.sizes.items():
        for kind, title in (("noop", "no-op"), ("order", "one new order")):
            rounds = figures[f"{kind}.0"]
            cells = " | ".join(_fig(_med(rounds, key)) for _, key in COLUMNS)
            slow = _fig(_med(figures[f"{kind}.latency"], "wall_ms"))
            lines.append(f"| {n:,} | {title} | {cells} | {slow} |")
    return lines


def _fleet_table(backend: Backend) -> list[str]:
    lines = [
        "| N per marketplace | accounts in store | products | build CPU s "
        "| publish CPU s (live accounts) | `serve`: cycles/s | fleet at 5 min "
        "| claim-when-free pool: cycles/s | fleet at 5 min | CPU ms per cycle "
        "(pool) | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, f in backend.sizes.items():
        rows = f["rows"]
        lines.append(
            f"| {n:,} | {rows.get('channel_accounts', 0):,} "
            f"| {rows.get('products', 0):,} "
            f"| {_fig(f['build.cpu_s'])} | {_fig(f['publish.cpu_s'])} ({f['live']}) "
            f"| {f['serve.per_s']:.2f} | {f['serve.per_s'] * INTERVAL_S:,.0f} "
            f"| {f['pool.per_s']:.1f} | {f['pool.per_s'] * INTERVAL_S:,.0f} "
            f"| {_fig(f['pool.cpu_ms'])} | {f['peak_rss_mb']:.0f} |"
        )
    return lines


def _idle_lines(backend: Backend, accounts: int) -> list[str]:
    f = backend.idle
    if not f:
        return []
    lines = [
        f"**{backend.name}, the daemon idle with {accounts:,} accounts in the "
        "schedule** "
        "(none due):",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| RSS of the process before the daemon (interpreter, imports), MB "
        f"| {f['idle.rss_before_mb']:.0f} |",
        f"| RSS after its first refresh (every account loaded), MB "
        f"| {f['idle.rss_after_refresh_mb']:.0f} |",
        f"| peak RSS of the process, MB | {f['idle.peak_rss_mb']:.0f} |",
        f"| claim tick with nothing due (`Daemon.claim`): CPU ms "
        f"| {_fig(f['idle.tick_cpu_ms'])} |",
        f"| claim tick: SQL statements | {f['idle.tick_statements']:.0f} |",
        f"| refresh of the accounts (`Daemon.refresh`, every sweep): CPU ms "
        f"| {_fig(f['idle.refresh_cpu_ms'])} |",
        f"| refresh: SQL statements | {f['idle.refresh_statements']:,} |",
    ]
    if "idle.serve_cpu_ms_per_s" in f:
        lines += [
            f"| `Daemon.serve` idling {f['idle.serve_seconds']:.0f} s (tick 5 s, sweep "
            f"at start then every 60 s): CPU ms per second "
            f"| {_fig(f['idle.serve_cpu_ms_per_s'])} |",
            f"| … SQL statements in that window | {f['idle.serve_statements']:,} |",
        ]
    return [*lines, ""]


def _goals(backends: Sequence[Backend]) -> list[str]:
    lines = ["| goal | backend | measured | verdict |", "|---|---|---|---|"]

    def verdict(met: bool) -> str:
        return "met" if met else "**not met**"

    for backend in backends:
        if not backend.sizes:
            continue
        noops = {n: f["noop.0"] for n, f in backend.sizes.items()}
        cpu = max(_med(r, "cpu_ms") - _med(r, "in_sims_ms") for r in noops.values())
        statements = max(_med(r, "statements") for r in noops.values())
        rows = max(_med(r, "rows") for r in noops.values())
        fleet = max(f["serve.per_s"] for f in backend.sizes.values()) * INTERVAL_S
        pool = max(f["pool.per_s"] for f in backend.sizes.values()) * INTERVAL_S
        sizes = sorted(noops)
        grow = _med(noops[sizes[-1]], "statements") - _med(
            noops[sizes[0]], "statements"
        )
        lines += [
            f"| no-op cycle ≤ {GOAL_CPU_MS:g} ms CPU (outside the simulators) "
            f"| {backend.name} | {cpu:.1f} ms (highest median of the N measured) "
            f"| {verdict(cpu <= GOAL_CPU_MS)} |",
            f"| no-op cycle ≤ {GOAL_STATEMENTS} SQL statements | {backend.name} "
            f"| {statements:.0f} | {verdict(statements <= GOAL_STATEMENTS)} |",
            f"| no-op cycle ≤ {GOAL_ROWS} row written | {backend.name} | {rows:.1f} "
            f"| {verdict(rows <= GOAL_ROWS)} |",
            f"| cost of a cycle does not grow with N | {backend.name} "
            f"| statements {grow:+.1f} from N = {sizes[0]:,} to {sizes[-1]:,} "
            f"| {verdict(abs(grow) < 1) if len(sizes) > 1 else 'one N only'} |",
            f"| one worker keeps ≥ {GOAL_FLEET:,} shops at 5 min, 100 ms latency "
            f"| {backend.name} | `ikm-sync run` (`serve`): {fleet:,.0f}; "
            "claim-when-free "
            f"pool: {pool:,.0f} | {verdict(fleet >= GOAL_FLEET)} |",
        ]
    return lines


def revision() -> str:
    """The revision measured: HEAD, and the last commit that changed anything but
    the benchmarks and the tests (the code under measurement)."""

    def git(*arguments: str) -> str:
        found = subprocess.run(  # noqa: S603
            ["git", *arguments],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return found.stdout.strip()

    try:
        head = git("log", "-1", "--format=%h")
        code = git(
            "log",
            "-1",
            "--format=%h (%s)",
            "--",
            ".",
            ":!bench",
            ":!tests",
            ":!BENCHMARKS.md",
            ":!Makefile",
        )
        dirty = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!BENCHMARKS.md",
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if len(code) > 70:
        code = code[:68] + "…)"
    changed = " with uncommitted changes" if dirty else ""
    return f"`{head}`{changed} (code measured: `{code}`)"


def render_section(
    backends: Sequence[Backend], options: argparse.Namespace, command: str
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    software = {"SQLite": sqlite3.sqlite_version}
    for backend in backends:
        if backend.name == "PostgreSQL":
            software["PostgreSQL server"] = backend.version.removeprefix("PostgreSQL ")
    info = machine(software)
    latency = options.latency
    lines = [
        START,
        "## Fleet under the daemon (`bench/fleet.py`)",
        "",
        f"`{command}`, run {now} at revision {revision()}.",
        "",
        f"N accounts per marketplace (Shopee, Tokopedia, Bukalapak), each the shop of "
        f"a producer of its own with {SKUS} products (50 units each), in the store; "
        "the "
        f"first {options.live} per marketplace are *live*: a simulator of their own in "
        "process, tokens from a real authorisation, their listings published by their "
        "first cycle. The others are in the store (producers, products, receipts, "
        "accounts, a due time) but first due a day later, so the daemon never claims "
        "them here: they give the tables and the schedule their size. Listing "
        "bindings and run history exist for the live accounts only. The daemon is "
        "`scheduler.daemon.Daemon` on `AccountJobRunner`, built as `ikm-sync run` "
        "builds them, in the benchmark's process (the same path as `ikm-sync run "
        "--once`, which is `Daemon.run_once`; in process so that statements, commits "
        "and threads can be counted and latency simulated), every account due again "
        "at once after its cycle; logging as in production (INFO, JSON, to "
        "`/dev/null`). Each fleet size is a child process of its own on a new "
        "database (its peak RSS its own).",
        "",
        "Per account-cycle, over a *round* (every live account claimed from the "
        "schedule with `Daemon.claim` and its cycle run with `Daemon.run_account`, "
        "orders then push, one after another): process CPU (`time.process_time`, "
        "the in-process simulators' share beside it: a real daemon does not pay it), "
        "SQL statements (SQLAlchemy `before_cursor_execute`; an `executemany` is one), "
        "of which INSERT/UPDATE/DELETE, commits, threads started, rows added to the "
        "store (`COUNT(*)` of every table before and after the round) and "
        "`sync_runs` rows added. A *no-op* round follows a converged state; an "
        "*order* round follows one new paid order (one unit) on every live account, "
        "so its cycle stores the order, reserves its unit and pushes the listing's "
        f"new stock. Median of {options.rounds} round(s) of each. Then one round of "
        f"each with {latency:g} ms waited before every marketplace answer (its wall "
        "ms per cycle shown).",
        "",
        f"Throughput, with {latency:g} ms latency and the production pool of "
        f"{WORKERS}: `Daemon.serve` as `ikm-sync run` runs it (claim tick "
        f"{TICK:g} s), cycles started in {options.ticks} ticks from its first one (its "
        "start-up, a load and refresh of every account, left out; a running daemon "
        "repeats that refresh in every sweep, each minute: see the idle figures); "
        f"and the same claims made as soon as a "
        f"worker is free (`Daemon.claim` + `Daemon.run_account` in a pool of "
        f"{WORKERS}, for {options.ticks * TICK:g} s, the accounts loaded first). "
        "Account-cycles per second times "
        f"{INTERVAL_S} s is the largest fleet one daemon keeps at a 5-minute interval.",
        "",
        "The machine is shared with other work: CPU time and counts are the figures "
        "to compare; wall time only where the latency is the point.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for backend in backends:
        lines += [
            f"**{backend.name}** ({backend.version}), per account-cycle:",
            "",
            *_cycle_table(backend, latency),
            "",
            f"**{backend.name}**, the fleet ({latency:g} ms latency for throughput):",
            "",
            *_fleet_table(backend),
            "",
            *_idle_lines(backend, options.idle_accounts),
        ]
    lines += ["### Goals (issue 10)", "", *_goals(backends), END]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fleet",
        description="Benchmark a fleet of shops under the scheduler daemon and "
        "write BENCHMARKS.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="N = 100 only, one database, short windows (about a minute)",
    )
    parser.add_argument(
        "--sizes",
        type=lambda v: tuple(positive(x) for x in v.split(",")),
        help="accounts per marketplace, comma-separated (default 100,1000,3000)",
    )
    parser.add_argument(
        "--live",
        type=positive,
        default=20,
        help="live accounts per marketplace (default 20)",
    )
    parser.add_argument("--rounds", type=positive, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--latency",
        type=float,
        default=100.0,
        help="marketplace latency per request in ms (default 100)",
    )
    parser.add_argument(
        "--ticks", type=positive, default=4, help="claim ticks of `serve` (default 4)"
    )
    parser.add_argument(
        "--idle-accounts",
        type=int,
        default=20_000,
        help="accounts in the schedule for the idle daemon (default 20000; 0: none)",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=30.0,
        help="seconds of `serve` idling (default 30)",
    )
    parser.add_argument(
        "--database-url",
        help="also measure PostgreSQL: a database on the server to create scratch "
        "databases from, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS,
        help="the file to write the figures to (default BENCHMARKS.md)",
    )
    parser.add_argument(
        "--child", choices=("cycles", "idle-build", "idle"), help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.sizes is None:
        options.sizes = (100,) if options.quick else SIZES
    if options.quick:
        options.rounds = min(options.rounds, 2)
        options.ticks = 1
        options.live = min(options.live, 5)
        options.idle_accounts = min(options.idle_accounts, 2_000)
        options.idle_seconds = 0.0
    return options


def child(options: argparse.Namespace) -> int:
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives to exit
    configure_logging("INFO", "json", stream=sink)
    if options.child == "cycles":
        figures = cycles(
            options.url,
            options.n,
            options.live,
            options.rounds,
            options.latency / 1000,
            options.ticks,
        )
    elif options.child == "idle-build":
        figures = idle_build(options.url, options.n)
    else:
        figures = idle(options.url, options.seconds)
    print(json.dumps(figures))
    return 0


def backends_of(options: argparse.Namespace, directory: Path) -> list[Backend]:
    """SQLite, and PostgreSQL when a server is given (only it with ``--quick``)."""
    found: list[Backend] = []
    if options.database_url:
        admin = make_url(options.database_url)
        if admin.drivername in {"postgresql", "postgres"}:
            admin = admin.set(drivername="postgresql+psycopg")
        admin_url = admin.render_as_string(hide_password=False)
        version = postgres_version(admin_url)
        found.append(
            Backend(
                "PostgreSQL",
                f"PostgreSQL {version}",
                lambda _label: postgres_database(admin_url),
            )
        )
    if not (options.quick and found):
        found.insert(
            0,
            Backend(
                "SQLite",
                f"SQLite {sqlite3.sqlite_version}",
                functools.partial(sqlite_database, directory),
            ),
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    if options.child:
        return child(options)
    command = shlex.join(["python", "-m", "bench.fleet", *arguments])
    with tempfile.TemporaryDirectory(prefix="ikmsync-bench-fleet-") as tmp:
        try:
            backends = backends_of(options, Path(tmp))
        except SQLAlchemyError as exc:
            print(f"error: cannot reach {options.database_url}: {exc}", file=sys.stderr)
            return 1
        for backend in backends:
            print(f"{backend.name}: N = {options.sizes}…", flush=True)
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
