"""``ikm-sync audit verify`` of a million events, and what a million events weigh.

    python -m bench.audit_verify                         # 1,000,000 events, 3 runs
    python -m bench.audit_verify --events 20000 --runs 1 --no-postgres   # smoke run
    python -m bench.audit_verify --orders 100000        # with 100,000 order rows

For each backend: a freshly migrated database is filled with a realistic mix of
events (stock movements, listing pushes, order changes, product edits, runs; about
a fifth carry a before and an after, Indonesian text with non-ASCII letters among
them), all but the last ``--sealer-events`` written already chained (the hashes the
sealer gives, computed here to save time), the rest written unsealed and chained by
the sealer itself (its rate is reported). Then ``ikm-sync audit verify --json`` (the
chain, then the record checks, which here report the events' missing records) runs
``--runs`` times as its own process: wall time including start-up, median of the
runs. Size: the database's bytes for ``audit_events`` with its indexes (SQLite: the
file after a WAL checkpoint, less the file before filling; PostgreSQL:
``pg_total_relation_size``) divided by the events.

With ``--orders N``, N order rows of one Tokopedia shop are stored too, the first
of them the orders the ``order.changed`` events name (the rest named by none), so
the orders' record check joins a store's worth of orders with their events both
ways (its findings, too, are expected: the events carry only status and stock
state).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bench._report import BENCHMARKS, machine, positive, write_section
from core.audit.chain import GENESIS, Link, next_hash
from core.store._sql import bulk_insert
from core.store.audit_chain import EVENTS, HEAD, seal
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.tables import ChannelAccountRow, OrderRow, table_of

NAME = "audit_verify"
#: Findings of the record checks (not of the chain), expected here.
RECORD_SUBJECTS = ("movement:", "order:", "run:")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)
#: Order events name ``order:tokopedia:{ORDER_BASE + n}`` (see ``_event``).
ORDER_BASE = 2_412_000_000
GOAL_SECONDS = 30.0


def _json(value: Any) -> str:
    """Canonical JSON of the bench's values (ASCII keys, no floats: the same text
    RFC 8785 gives, without its cost)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _event(n: int) -> dict[str, Any]:
    """The ``n``-th event of the mix."""
    kind = n % 10
    sku = f"KRS-{n % 5000:05d}"
    account = ("shopee-ikm-", "tokopedia-ikm-", "bukalapak-ikm-")[n % 3] + str(n % 300)
    at = START + timedelta(milliseconds=n * 37)
    common = {"at": at, "actor": "system:scheduler", "account": account, "reason": ""}
    if kind < 5:
        return {
            **common,
            "action": "stock.moved",
            "subject": f"sku:{sku}",
            "run_id": 1000 + n // 500,
            "before": None,
            "after": _json(
                {
                    "key": f"order:shopee:24120{n}:reserve",
                    "reason": "reserve",
                    "on_hand": 0,
                    "reserved": 1,
                    "reference": f"order:shopee:24120{n}",
                    "actor": "marketplace:shopee",
                    "note": "",
                    "location": "gudang utama",
                }
            ),
        }
    if kind < 8:
        return {
            **common,
            "action": "listing.changed",
            "subject": f"listing:{account}:{sku}",
            "run_id": 1000 + n // 500,
            "before": _json({"price": 150_000, "stock": 7}),
            "after": _json(
                {
                    "price": 155_000,
                    "stock": 6,
                    "state": "active",
                    "content_hash": f"{n:064x}",
                    "external_id": str(9_000_000_000 + n),
                }
            ),
        }
    if kind == 8:
        return {
            **common,
            "action": "order.changed",
            "subject": f"order:tokopedia:{ORDER_BASE + n}",
            "run_id": None,
            "before": _json({"status": "paid", "stock_state": "reserved"}),
            "after": _json({"status": "cancelled", "stock_state": "released"}),
        }
    return {
        **common,
        "actor": "officer:ani",
        "account": None,
        "action": "product.updated",
        "subject": f"sku:{sku}",
        "run_id": None,
        "reason": "impor katalog Desember",
        "before": _json({"name": "Kursi Rotan", "price": 450_000}),
        "after": _json({"name": "Kursi Rotan Sintetis «Teras»", "price": 475_000}),
    }


def _chunks(total: int, sealed: int) -> Iterator[list[dict[str, Any]]]:
    """Rows ``1..total``; the first ``sealed`` chained as the sealer would."""
    previous = GENESIS
    for first in range(1, total + 1, CHUNK):
        rows = []
        for n in range(first, min(total, first + CHUNK - 1) + 1):
            row = {"id": n, **_event(n), "seq": None, "hash": None}
            if n <= sealed:
                previous = next_hash(
                    previous,
                    Link(
                        n,
                        n,
                        row["at"],
                        row["actor"],
                        row["action"],
                        row["subject"],
                        row["account"],
                        row["run_id"],
                        row["reason"],
                        row["before"],
                        row["after"],
                    ),
                )
                row["seq"], row["hash"] = n, previous
            rows.append(row)
        yield rows


@dataclass
class Backend:
    name: str
    url: str
    version: str = ""
    fill_seconds: float = 0.0
    sealer_rate: float = 0.0
    bytes_per_event: float = 0.0
    runs: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    verified: bool = False


def _orders(session: Session, total: int) -> None:
    """``total`` orders of one Tokopedia shop: those the ``order.changed`` events
    name first (event ``n`` for ``n % 10 == 8``), then orders no event names."""
    accounts = table_of(ChannelAccountRow)
    account = session.execute(
        sa.insert(accounts)
        .values(
            account_key="tokopedia-ikm-1",
            marketplace="tokopedia",
            shop_id="1",
            allocation={},
            created_at=START,
            updated_at=START,
        )
        .returning(accounts.c.id)
    ).scalar_one()
    orders = table_of(OrderRow)
    for first in range(0, total, CHUNK):
        session.execute(
            sa.insert(orders),
            [
                {
                    "account_id": account,
                    "external_id": str(ORDER_BASE + 10 * k + 8),
                    "status": "cancelled",
                    "raw_status": "CANCELLED",
                    "total_amount": 150_000,
                    "oversold": False,
                    "stock_state": "released",
                    "first_seen_at": START,
                    "updated_at": START,
                }
                for k in range(first, min(total, first + CHUNK))
            ],
        )


def fill(backend: Backend, events: int, sealer_events: int, orders: int = 0) -> None:
    engine = make_engine(backend.url)
    try:
        upgrade(engine)
        before = _size(engine, backend)
        sessions = make_session_factory(engine)
        began = time.monotonic()
        sealed = events - sealer_events
        last_hash = GENESIS
        for rows in _chunks(events, sealed):
            with sessions() as session:
                bulk_insert(session, EVENTS, rows)
                session.commit()
            last_hash = next(
                (r["hash"] for r in reversed(rows) if r["hash"]), last_hash
            )
        with sessions() as session:
            session.execute(
                sa.update(HEAD).where(HEAD.c.id == 1).values(seq=sealed, hash=last_hash)
            )
            if engine.dialect.name == "postgresql":
                session.execute(
                    sa.text("SELECT setval('audit_events_id_seq', :n)"), {"n": events}
                )
            session.commit()
        backend.fill_seconds = time.monotonic() - began
        began = time.monotonic()
        done = seal(sessions)
        if done.events != sealer_events:
            raise SystemExit(f"{backend.name}: sealed {done.events} events")
        backend.sealer_rate = sealer_events / (time.monotonic() - began)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE audit_events")
        backend.bytes_per_event = (_size(engine, backend) - before) / events
        if orders:
            with sessions() as session:
                _orders(session, orders)
                session.commit()
    finally:
        engine.dispose()


def _size(engine: sa.Engine, backend: Backend) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            backend.version = str(
                connection.exec_driver_sql("SHOW server_version").scalar()
            )
            return int(
                connection.exec_driver_sql(
                    "SELECT pg_total_relation_size('audit_events')"
                ).scalar_one()
            )
        backend.version = str(
            connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        )
    path = Path(str(engine.url.database))
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return path.stat().st_size


def verify_runs(backend: Backend, runs: int, workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IKMSYNC_")}
    env |= {"IKMSYNC_DATABASE_URL": backend.url, "IKMSYNC_ENVIRONMENT": "development"}
    for _ in range(runs):
        began = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "ikm_sync",
                "--log-level",
                "ERROR",
                "audit",
                "verify",
                "--json",
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        backend.runs.append(time.monotonic() - began)
        report = json.loads(result.stdout)
        # the synthetic events have no business records behind them: the record
        # checks run in full and report them (expected); the chain must hold
        broken = [
            f
            for f in report["findings"]
            if not str(f["subject"]).startswith(RECORD_SUBJECTS)
        ]
        backend.verified = result.returncode in (0, 1) and not broken
        if not backend.verified:
            raise SystemExit(f"{backend.name}: verify failed: {result.stdout[:2000]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    backend.rss_mb = peak / 1024


def section(
    backends: Sequence[Backend], events: int, runs: int, command: str, orders: int = 0
) -> str:
    software = {f"{b.name}": b.version for b in backends}
    info = machine(software)
    lines = [
        f"<!-- bench:{NAME}:start -->",
        "## Audit verify (`bench/audit_verify.py`)",
        "",
        f"`{command}`, run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"{events:,} events of a realistic mix (half stock movements, a third listing "
        "pushes with before and after, order changes, product edits with Indonesian "
        "text) in a freshly migrated database; `ikm-sync audit verify --json` walks "
        "and checks every link, then runs the record checks (the synthetic events "
        "have no records behind them, so each check reads every event of its kind "
        "and reports them; those findings are expected)"
        + (
            f", against {orders:,} order rows (the first of them the orders the "
            "order events name, the others named by none). "
            if orders
            else ". "
        )
        + "Seconds are wall time of "
        f"the command as its own process, start-up included; {runs} run(s). "
        "Bytes per event: the table with "
        "all its indexes (primary key, unique seq, the six reading indexes, the "
        "unsealed partial index), divided by the events.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
        "| backend | verify median s | min | max | peak RSS MB | sealer events/s "
        "| bytes per event | verdict (≤ 30 s) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for b in backends:
        median = statistics.median(b.runs)
        lines.append(
            f"| {b.name} {b.version} | {median:.1f} | {min(b.runs):.1f} | "
            f"{max(b.runs):.1f} | {b.rss_mb:.0f} | {b.sealer_rate:,.0f} | "
            f"{b.bytes_per_event:,.0f} | {_verdict(median)} |"
        )
    lines.append(f"<!-- bench:{NAME}:end -->")
    return "\n".join(lines) + "\n"


def _verdict(median: float) -> str:
    return "met" if median <= GOAL_SECONDS else "**not met**"


def _count(value: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("expected a whole number, 0 or more")
    return number


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_verify")
    parser.add_argument("--events", type=positive, default=1_000_000)
    parser.add_argument("--runs", type=positive, default=3)
    parser.add_argument(
        "--sealer-events",
        type=positive,
        default=50_000,
        help="events chained by the sealer itself (its rate is reported)",
    )
    parser.add_argument(
        "--orders",
        type=_count,
        default=0,
        help="order rows stored too (those the order events name first)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    options = parse_args(given)
    sealer_events = min(options.sealer_events, options.events)
    backends: list[Backend] = []
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as raw:
        workdir = Path(raw)
        sqlite = Backend("SQLite", f"sqlite:///{workdir / 'audit.db'}")
        backends.append(sqlite)
        admin = None
        if not options.no_postgres:
            name = f"bench_audit_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(options.postgres_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = sa.make_url(options.postgres_url).set(database=name)
            backends.append(
                Backend("PostgreSQL", url.render_as_string(hide_password=False))
            )
        try:
            for backend in backends:
                fill(backend, options.events, sealer_events, options.orders)
                sys.stderr.write(
                    f"{backend.name}: filled in {backend.fill_seconds:.0f} s, sealer "
                    f"{backend.sealer_rate:,.0f} events/s, "
                    f"{backend.bytes_per_event:,.0f} bytes/event\n"
                )
                verify_runs(backend, options.runs, workdir)
                sys.stderr.write(f"{backend.name}: verify {backend.runs}\n")
        finally:
            if admin is not None:
                with admin.connect() as connection:
                    for backend in backends[1:]:
                        database = sa.make_url(backend.url).database
                        connection.exec_driver_sql(
                            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                        )
                admin.dispose()
    command = " ".join(["python -m bench.audit_verify", *given])
    text = section(backends, options.events, options.runs, command, options.orders)
    write_section(options.output, NAME, text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
