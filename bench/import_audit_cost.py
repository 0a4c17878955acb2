"""Benchmark: what audit events cost a catalogue import, audited vs unaudited.

Generates the catalogue of :mod:`bench.import_catalogue` (deterministic), then, per
backend and round, imports it into a fresh migrated database twice in one process:
once as shipped (one audit event per producer and product, written in the import's
transaction) and once with the audit log switched off (``AuditLog.record`` a no-op,
so no event is even built). The two imports of a round run back to back, in
alternating order, so a busy machine slows both alike; the cost is the loss of
throughput, ``1 - audited rows/s ÷ unaudited rows/s``, of the median times. CPU
time of this process is shown beside wall time (on SQLite it is the whole import;
on PostgreSQL the server's share is not in it).

    python -m bench.import_audit_cost                          # 100,000 rows, 3 rounds
    python -m bench.import_audit_cost --rows 20000 --rounds 1 --no-postgres
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import sqlalchemy as sa

from bench._report import BENCHMARKS, markers, positive, write_section
from bench.import_catalogue import (
    DEFAULT_POSTGRES_URL,
    DatabaseFactory,
    generate_catalogue,
    postgres_databases,
    sqlite_databases,
)
from core.audit.events import AuditEvent
from core.catalogue.sheets import read_catalogue_file
from core.clock import SystemClock
from core.services.catalogue import import_catalogue
from core.store.audit import SqlAuditLog
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.uow import SqlUnitOfWork

NAME = "import_audit_cost"
#: The goal from the issue: audit costs at most 15 % of import throughput.
GOAL_COST = 0.15


def _record_nothing(_log: SqlAuditLog, *_events: AuditEvent) -> None:
    """``AuditLog.record`` switched off: the events are not even built."""


@contextmanager
def _unaudited() -> Iterator[None]:
    recording = SqlAuditLog.record
    SqlAuditLog.record = _record_nothing  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SqlAuditLog.record = recording  # type: ignore[method-assign]


def _import_once(
    url: str, files: tuple[Path, Path], audited: bool
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and events written of one import into ``url``."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        sheets = []
        for path in files:
            found, issues = read_catalogue_file(path)
            if issues:
                raise SystemExit(f"{path}: {issues[0].describe()}")
            sheets += found
        uow = SqlUnitOfWork(make_session_factory(engine))
        switch: AbstractContextManager[None] = (
            nullcontext() if audited else _unaudited()
        )
        with switch:
            wall, cpu = time.perf_counter(), time.process_time()
            import_catalogue(uow, sheets, actor="officer:bench", clock=SystemClock())
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM audit_events"))
            return wall, cpu, int(events.scalar_one())
    finally:
        engine.dispose()


def _bench(
    name: str,
    fresh: DatabaseFactory,
    files: tuple[Path, Path],
    rows: int,
    rounds: int,
) -> list[str]:
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    written = 0
    for number in range(rounds):
        order = (False, True) if number % 2 == 0 else (True, False)
        for audited in order:
            with fresh(number) as url:
                wall, cpu, events = _import_once(url, files, audited)
            times[audited].append((wall, cpu))
            written = max(written, events) if audited else written
            label = "audited" if audited else "unaudited"
            print(
                f"  {name} round {number + 1}/{rounds} {label}: {wall:.2f} s wall, "
                f"{cpu:.2f} s CPU, {events:,} events",
                flush=True,
            )
    walls = {a: statistics.median(w for w, _ in t) for a, t in times.items()}
    cpus = {a: statistics.median(c for _, c in t) for a, t in times.items()}
    cost_wall = 1 - walls[False] / walls[True]
    cost_cpu = 1 - cpus[False] / cpus[True]
    verdict = "met" if cost_wall <= GOAL_COST else "**not met**"
    return [
        f"| {name} | {rows / walls[False]:,.0f} | {rows / walls[True]:,.0f} | "
        f"{cost_wall:.1%} ({verdict}) | {cpus[False]:.2f} / {cpus[True]:.2f} s "
        f"({cost_cpu:.1%}) | {written:,} |"
    ]


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ikmsync-auditcost-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its section of BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=positive, default=100_000)
    parser.add_argument("--producers", type=positive, default=200)
    parser.add_argument("--rounds", type=positive, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    arguments = sys.argv[1:] if argv is None else argv
    options = parser.parse_args(arguments)
    lines = [
        "| backend | unaudited rows/s | audited rows/s | cost (goal ≤ 15 %) "
        "| CPU here, unaudited / audited | events |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with _workdir() as workdir:
        print(f"generating {options.rows:,} products…", flush=True)
        files = generate_catalogue(workdir, options.rows, options.producers)
        backends: list[tuple[str, DatabaseFactory]] = [
            ("SQLite", sqlite_databases(workdir))
        ]
        if not options.no_postgres:
            backends.append(("PostgreSQL", postgres_databases(options.postgres_url)))
        for name, fresh in backends:
            lines += _bench(name, fresh, files, options.rows, options.rounds)
    start, end = markers(NAME)
    command = " ".join(["python -m bench.import_audit_cost", *arguments])
    section = "\n".join(
        [
            start,
            "## Catalogue import: audited vs unaudited (`bench/import_audit_cost.py`)",
            "",
            f"`{command}`: {options.rows:,} products, {options.rounds} round(s), "
            "medians; both imports of a round back to back in one process.",
            "",
            *lines,
            end,
        ]
    )
    write_section(options.output, NAME, section)
    print()
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
