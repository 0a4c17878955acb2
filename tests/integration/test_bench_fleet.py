"""The fleet benchmark (``bench/fleet.py``) at a tiny size: it runs on the database
under test, its counts are sane and its report renders. Nothing here is timed."""

from __future__ import annotations

import argparse
import threading
from contextlib import nullcontext

import pytest

from bench import fleet
from bench._fleetworld import SKUS


@pytest.mark.slow
def test_fleet_benchmark_counts_a_tiny_fleet(database_url: str) -> None:
    start = threading.Thread.start
    figures = fleet.cycles(
        database_url, n=3, live=1, rounds=1, latency=0.001, ticks=1, tick=0.5
    )
    assert threading.Thread.start is start  # the thread counter was taken off

    assert figures["live"] == 3  # one live account per marketplace
    assert figures["rows"]["channel_accounts"] == 9
    assert figures["rows"]["products"] == 9 * SKUS
    for label in ("0", "latency"):
        noop = figures[f"noop.{label}"][0]
        order = figures[f"order.{label}"][0]
        # a cycle reads and writes the store and asks the marketplace for orders
        assert noop["statements"] > 0
        assert 0 < noop["writes"] < noop["statements"]
        assert noop["commits"] > 0
        assert noop["requests"] >= 1
        assert noop["cpu_ms"] > 0
        # a new order costs more than nothing to do: the order, its reservation and
        # the new stock pushed
        assert order["statements"] > noop["statements"]
        assert order["rows"] > noop["rows"]
        assert order["requests"] > noop["requests"]
        assert noop["sync_runs"] <= 2  # at most one run per job
    assert figures["pool.cycles"] >= 1
    assert figures["serve.cycles"] >= 1
    assert figures["peak_rss_mb"] > 0


def test_idle_daemon_is_measured_with_nothing_due(database_url: str) -> None:
    fleet.idle_build(database_url, 12)
    idle = fleet.idle(database_url, seconds=0)
    assert idle["idle.tick_statements"] >= 1  # the claim asks the schedule
    assert idle["idle.refresh_statements"] >= 1
    assert idle["idle.rss_after_refresh_mb"] > 0


def test_report_renders_from_figures() -> None:
    noop = {key: 1.0 for _, key in fleet.COLUMNS} | {"wall_ms": 100.0}
    figures = {
        "noop.0": [noop],
        "order.0": [noop],
        "noop.latency": [noop],
        "order.latency": [noop],
        "rows": {"channel_accounts": 3, "products": 90},
        "live": 3,
        "build.cpu_s": 1.0,
        "publish.cpu_s": 1.0,
        "serve.per_s": 1.6,
        "pool.per_s": 10.0,
        "pool.cpu_ms": 30.0,
        "peak_rss_mb": 100.0,
    }
    backend = fleet.Backend("SQLite", "SQLite 3", lambda _label: nullcontext(""))
    backend.sizes[1] = figures
    options = argparse.Namespace(
        live=1, rounds=1, latency=100.0, ticks=1, idle_accounts=0
    )
    section = fleet.render_section([backend], options, "python -m bench.fleet")
    assert section.startswith(fleet.START)
    assert section.rstrip().endswith(fleet.END)
    assert "| 1 | no-op |" in section
    assert "| 480 |" in section  # 1.6 cycles/s keep 480 shops at 5 minutes
