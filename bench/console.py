"""Console pages: server time per page at 10,000 products, 100,000 orders and
1,000,000 audit events (issue 13: p95 at most 200 ms).

    python -m bench.console                      # full size, 30 requests a page
    python -m bench.console --products 500 --orders 2000 --events 5000 --requests 5

The world is built by :mod:`bench._consoleworld` (cached as a SQLite file under
``var/bench-cache``, so a second run starts in seconds). Users are added (an admin,
an auditor and an officer of one province), each signs in, and every page is asked
for ``--requests`` times after two warm-up requests, in process through Starlette's
test client: the time is the application's (routing, database, rendering), without
a network. Each page's p50, p95 and worst, the answer's status and size, and the
process's peak RSS go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench._consoleworld import ConsoleWorld, build_console_world
from bench._report import BENCHMARKS, ROOT, machine, positive, write_section
from config import load_settings
from core.audit.events import acting
from core.domain.users import Role, Scope
from core.services.users import add_user
from ikm_sync.bootstrap import build_runtime
from tests.fakes import TEST_TOKEN_KEY
from tests.web.kit import csrf_of
from web.app import create_app
from web.console import Console

if TYPE_CHECKING:
    from starlette.testclient import TestClient

NAME = "console"
GOAL_MS = 200.0
PASSWORD = "bench-console-2026"  # noqa: S105  (a throwaway bench user)
CACHE = ROOT / "var" / "bench-cache"


@dataclass(frozen=True, slots=True)
class Timing:
    """One page's figures."""

    user: str
    path: str
    status: int
    size: int
    p50: float
    p95: float
    worst: float


def pages(world: ConsoleWorld) -> list[tuple[str, str]]:
    """(user, path) of every page asked for: lists, filters, details, searches."""
    sku = world.skus[0]
    return [
        ("officer", "/"),
        ("admin", "/"),
        ("officer", "/catalogue"),
        ("admin", "/catalogue"),
        ("admin", "/catalogue?q=kopi"),
        ("officer", f"/catalogue/products/{sku}"),
        ("officer", "/shops"),
        ("officer", f"/shops/{world.account}"),
        ("officer", "/sync"),
        ("officer", f"/sync/{world.account}"),
        ("admin", "/sync/runs"),
        ("admin", f"/sync/runs/{world.run_id}"),
        ("officer", "/orders"),
        ("admin", "/orders"),
        ("admin", "/orders?status=paid"),
        ("officer", "/orders/oversold"),
        ("auditor", "/audit"),
        ("auditor", f"/audit?subject=sku:{sku}"),
        ("auditor", "/audit?kind=stock"),
        ("auditor", f"/audit/trace?sku={sku}"),
        ("auditor", "/audit/verify"),
        ("officer", "/reports"),
        ("admin", "/reports?by=month"),
        ("officer", "/reports?by=month&since=2026-06-01&until=2026-11-30"),
        ("admin", "/reports?by=month&since=2025-12-01&until=2026-11-30"),
        ("admin", "/users"),
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(world: ConsoleWorld, requests: int) -> list[Timing]:
    """Sign the three users in and time every page."""
    loaded = load_settings(
        None,
        environ={
            "IKMSYNC_DATABASE_URL": world.database_url,
            "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
        },
    )
    console = Console(loaded, build_runtime(loaded))
    with console.units() as uow:
        taken = {u.username for u in uow.users.get_all()}
    with acting("bench:console"):
        for name, role, scope in (
            ("admin", Role.ADMIN, Scope()),
            ("auditor", Role.AUDITOR, Scope()),
            ("officer", Role.OFFICER, Scope(provinces=frozenset({world.province}))),
        ):
            if name not in taken:
                add_user(
                    console.units,
                    console.clock,
                    username=name,
                    role=role,
                    password=PASSWORD,
                    scope=scope,
                )
    with warnings.catch_warnings():  # Starlette asks for httpx2; httpx is fine here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    app = create_app(console, seal_every=None)
    clients: dict[str, TestClient] = {}
    timings: list[Timing] = []
    try:
        for name in ("admin", "auditor", "officer"):
            client = TestClient(app)
            token = csrf_of(client.get("/login").text)
            client.post(
                "/login",
                data={"username": name, "password": PASSWORD, "csrf_token": token},
            )
            clients[name] = client
        for user, path in pages(world):
            client = clients[user]
            for _ in range(2):
                client.get(path)
            spent: list[float] = []
            status = size = 0
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get(path)
                spent.append((time.perf_counter() - started) * 1000)
                status, size = answer.status_code, len(answer.content)
            timings.append(
                Timing(
                    user,
                    path,
                    status,
                    size,
                    statistics.median(spent),
                    _percentile(spent, 0.95),
                    max(spent),
                )
            )
            print(
                f"{user:8} {path:45} {status} p50 {timings[-1].p50:7.1f} ms "
                f"p95 {timings[-1].p95:7.1f} ms"
            )
    finally:
        for client in clients.values():
            client.close()
        console.close()
    return timings


def report(
    world: ConsoleWorld, timings: list[Timing], requests: int, command: str
) -> str:
    """The BENCHMARKS.md section."""
    import fastapi

    info = machine({"FastAPI": fastapi.__version__})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = sum(t.p95 <= GOAL_MS and t.status == 200 for t in timings)
    lines = [
        f"<!-- bench:{NAME}:start -->",
        "## Console pages (`bench/console.py`)",
        "",
        f"Command: `{command}`",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"World: {world.counts.get('products', 0):,} products, "
        f"{world.counts.get('orders', 0):,} orders, "
        f"{world.counts.get('audit_events', 0):,} audit events (SQLite). "
        f"{requests} requests a page after 2 warm-ups, in process (no network). "
        f"Peak RSS {peak:,.0f} MB. Goal: p95 ≤ {GOAL_MS:.0f} ms; "
        f"{met} of {len(timings)} pages meet it.",
        "",
        "| user | page | status | bytes | p50 ms | p95 ms | worst ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {t.user} | `{t.path}` | {t.status} | {t.size:,} | {t.p50:.1f} | "
        f"{t.p95:.1f} | {t.worst:.1f} |"
        for t in timings
    ]
    lines.append(f"<!-- bench:{NAME}:end -->")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build (or reuse) the world, time the pages, write BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=positive, default=10_000)
    parser.add_argument("--orders", type=positive, default=100_000)
    parser.add_argument("--events", type=positive, default=1_000_000)
    parser.add_argument("--requests", type=positive, default=30)
    parser.add_argument("--output", type=Path, default=BENCHMARKS)
    parser.add_argument("--no-write", action="store_true", help="Print only.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ikm-bench-console-") as folder:
        url = f"sqlite:///{Path(folder) / 'console.db'}"
        CACHE.mkdir(parents=True, exist_ok=True)
        world = build_console_world(
            url,
            products=options.products,
            orders=options.orders,
            audit_events=options.events,
            cache_dir=CACHE,
        )
        timings = measure(world, options.requests)
    command = (
        f"python -m bench.console --products {options.products} --orders "
        f"{options.orders} --events {options.events} --requests {options.requests}"
    )
    section = report(world, timings, options.requests, command)
    print(section)
    if not options.no_write:
        write_section(options.output, NAME, section)


if __name__ == "__main__":
    main()
