"""A sync killed with SIGKILL twenty times, then run again, ends where an uninterrupted
run ends — against real ``ikm-sync simulate`` processes.

Two worlds are built from the demo settings and catalogue, each with its own simulator
process and database: one is published by a single ``ikm-sync sync push``; in the other
``sync push`` and then ``sync cycle`` (with simulated buyers ordering in between) are
killed twenty times in a row before a last run completes. Both must show the same
listings on every marketplace (SKU, price, stock, status; one listing per SKU), and
the killed world must hold every buyer's order once, with the ledger equal to receipts
minus active orders and every marketplace showing the allocation of what is available.

Kills land at points defined by progress, not by time (a loaded machine changes
neither): a gate between the killed world's processes and its simulator holds the Nth
marketplace request of a run (N drawn from a seeded generator, up to a share of the
requests an uninterrupted run makes), the process is killed while that request is in
flight, and the request is then either forwarded (the marketplace applies it; its
answer is lost with the process) or dropped (it never arrived). A process that ends
before its Nth request is not counted; the attempts and the time are both bounded.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.gate import Gate, gated
from tests.e2e.sites import Site, _site

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

KILLS = 20
#: Processes started to land the kills, at most (a run that ends first is not a kill).
ATTEMPTS = 3 * KILLS
#: Seconds the kill loops may take in all, and one process may take to get anywhere.
DEADLINE = 900.0
LIMIT = 120.0


@pytest.fixture
def killed(tmp_path: Path, database_url: str) -> Iterator[Site]:
    yield from _site(tmp_path / "killed", database_url)


@pytest.fixture
def calm(tmp_path: Path, database_backend: Any) -> Iterator[Site]:
    url = database_backend.create(tmp_path)
    try:
        yield from _site(tmp_path / "calm", url)
    finally:
        database_backend.drop(url)


def _marketplace_requests(site: Site) -> int:
    """Requests the site's simulators have answered so far (their own pages aside)."""
    return sum(
        n
        for counts in site.requests().values()
        for route, n in counts.items()
        if not route.startswith("_sim.")
    )


def _counted(site: Site, *args: str) -> int:
    """Run ``ikm-sync *args`` to its end; the marketplace requests it made."""
    before = _marketplace_requests(site)
    site.run(*args)
    return _marketplace_requests(site) - before


def _writes(request: tuple[str, str] | None) -> bool:
    """True when a held request changes what the marketplace holds (any method but
    GET, tokens aside)."""
    if request is None:
        return False
    method, target = request
    path = target.partition("?")[0]  # Shopee signs requests with a token in the query
    return method != "GET" and "token" not in path


class _Killer:
    """Starts processes and kills them at their Nth marketplace request, within
    :data:`ATTEMPTS` processes and :data:`DEADLINE` seconds in all."""

    def __init__(self, site: Site, gate: Gate, rng: random.Random) -> None:
        self.site, self.gate, self.rng = site, gate, rng
        self.kills = self.attempts = 0
        #: Kills that landed while a marketplace write was in flight.
        self.writing = 0
        self.deadline = time.monotonic() + DEADLINE

    def attempt(self, most: int, *args: str) -> bool:
        """Start ``ikm-sync *args`` and SIGKILL it while its Nth request (N from 1
        to ``most``) is held; True when killed, False when it ended first."""
        self.attempts += 1
        if self.attempts > ATTEMPTS or time.monotonic() > self.deadline:
            pytest.fail(
                f"{self.kills} of {KILLS} kills landed in {self.attempts - 1} "
                f"processes and {DEADLINE:.0f} s; runs end before their Nth request"
            )
        nth = self.rng.randint(1, max(most, 1))
        forward = self.rng.random() < 0.5
        running = _running(self.site)
        self.gate.arm(nth)
        process = self.site.start(*args)
        limit = min(self.deadline, time.monotonic() + LIMIT)
        try:
            while not self.gate.reached.wait(0.05):
                if process.poll() is not None:
                    return False  # it ended before its Nth request
                if time.monotonic() > limit:
                    pytest.fail(f"{args} neither ended nor reached request {nth}")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=LIMIT)
            self.kills += 1
            # A run records itself before its first write (to the store or the
            # marketplace), not before reads: one killed while sending a
            # marketplace write is left "running"; one killed while still only
            # reading (a pull whose order list is in flight) may have left no row,
            # having done nothing.
            if _writes(self.gate.held):
                self.writing += 1
                assert _running(self.site) > running, (args, nth, self.gate.held)
            else:
                assert _running(self.site) >= running, (args, nth)
            return True
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=LIMIT)
            self.gate.release(forward=forward)


def _engine(site: Site) -> sa.Engine:
    return sa.create_engine(
        sa.make_url(site.database_url).set(
            drivername="postgresql+psycopg"
            if site.database_url.startswith("postgresql")
            else "sqlite"
        )
    )


def _running(site: Site) -> int:
    """Runs recorded ``running``: those of killed processes."""
    engine = _engine(site)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT COUNT(*) FROM sync_runs WHERE outcome = 'running'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _ledger(site: Site) -> tuple[dict[str, int], Counter[str], Counter[str]]:
    """Available per SKU, units held by stored orders per SKU, receipts per SKU."""
    engine = _engine(site)
    try:
        with engine.connect() as connection:
            available = {
                str(k): int(on_hand) - int(reserved)
                for k, on_hand, reserved in connection.execute(
                    sa.text(
                        "SELECT p.sku_key, SUM(m.on_hand_delta), SUM(m.reserved_delta) "
                        "FROM stock_movements m JOIN products p ON p.id = m.product_id "
                        "GROUP BY p.sku_key"
                    )
                )
            }
            held = Counter(
                {
                    str(k): int(n)
                    for k, n in connection.execute(
                        sa.text(
                            "SELECT p.sku_key, SUM(l.quantity) FROM order_lines l "
                            "JOIN orders o ON o.id = l.order_id "
                            "JOIN products p ON p.id = l.product_id "
                            "WHERE o.stock_state IN ('reserved', 'shipped') "
                            "GROUP BY p.sku_key"
                        )
                    )
                }
            )
            receipts = Counter(
                {
                    str(k): int(n)
                    for k, n in connection.execute(
                        sa.text(
                            "SELECT p.sku_key, SUM(m.on_hand_delta) "
                            "FROM stock_movements m "
                            "JOIN products p ON p.id = m.product_id "
                            "WHERE m.reason NOT LIKE 'order_%' GROUP BY p.sku_key"
                        )
                    )
                }
            )
            orders = [
                (str(a), str(e))
                for a, e in connection.execute(
                    sa.text(
                        "SELECT a.account_key, o.external_id FROM orders o "
                        "JOIN channel_accounts a ON a.id = o.account_id"
                    )
                )
            ]
    finally:
        engine.dispose()
    assert len(orders) == len(set(orders))
    return available, held, receipts


def test_twenty_kills_then_a_run_end_where_an_uninterrupted_run_ends(
    killed: Site, calm: Site
) -> None:
    rng = random.Random(20)  # noqa: S311  (reproducible kill points)
    publishing = _counted(calm, "sync", "push")
    published = calm.shown()
    for url in calm.urls.values():
        httpx.post(f"{url}/_sim/buyers", json={"orders": 2}, timeout=30)
    cycling = _counted(calm, "sync", "cycle")
    # Each killed run gets at most a share of the work done, so kills keep landing.
    publish_reach = max(publishing // KILLS, 1)
    cycle_reach = max(cycling // 2, 1)

    with gated(killed.config, killed.urls) as gate:
        killer = _Killer(killed, gate, rng)
        while killer.kills < KILLS // 2:  # killed while publishing
            killer.attempt(publish_reach, "sync", "push")
    killed.run("sync", "push", check=False)

    assert killed.shown() == published
    for listings in killed.shown().values():
        skus = Counter(x[0] for x in listings)
        assert set(skus.values()) == {1}
    plan = json.loads(killed.run("sync", "plan", "--json").stdout)
    assert all(sum(a["counts"].values()) == 0 for a in plan["accounts"]), plan

    with gated(killed.config, killed.urls) as gate:
        killer.gate = gate
        while killer.kills < KILLS:  # buyers order; the cycles that pull them die
            for url in killed.urls.values():  # what `ikm-sync buyers` asks for
                httpx.post(f"{url}/_sim/buyers", json={"orders": 2}, timeout=30)
            killer.attempt(cycle_reach, "sync", "cycle")
    last = killed.run("sync", "cycle", check=False)
    assert last.returncode == 0, last.stderr
    assert killer.kills == KILLS

    runs = json.loads(killed.run("runs", "list", "--json", "--limit", "1000").stdout)
    # every kill during a marketplace write landed inside a run (checked at each
    # kill): runs cut short stay "running" for the auditor
    running = [r for r in runs["runs"] if r["outcome"] == "running"]
    assert len(running) >= killer.writing, runs
    available, held, receipts = _ledger(killed)
    for key, units in available.items():
        assert units == receipts[key] - held[key], key
    stored = json.loads(killed.run("orders", "--json").stdout)["accounts"]
    by_account = Counter({a: sum(s.values()) for a, s in stored.items()})
    placed = killed.buyer_orders()
    assert sum(len(ids) for ids in placed.values()) == sum(by_account.values())
    assert sum(by_account.values()) >= 10
    plan = json.loads(killed.run("sync", "plan", "--json").stdout)
    assert all(sum(a["counts"].values()) == 0 for a in plan["accounts"]), plan
