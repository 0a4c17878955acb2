"""A sync killed with SIGKILL at random points, twenty times, then run again, ends
where an uninterrupted one ends — against real ``ikm-sync simulate`` processes.

Two worlds are built from the demo settings and catalogue, each with its own simulator
process and database: one is published by a single ``ikm-sync sync push``; in the other
``sync push`` and then ``sync cycle`` (with simulated buyers ordering in between) are
killed twenty times in a row at random moments before a last run completes. Both must
show the same listings on every marketplace (SKU, price, stock, status; one listing per
SKU), and the killed world must hold every buyer's order once, with the ledger equal to
receipts minus active orders and every marketplace showing the allocation of what is
available.
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

from tests.e2e.sites import Site, _site

pytestmark = [pytest.mark.e2e, pytest.mark.db]

KILLS = 20


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


def _timed(site: Site, *args: str) -> float:
    """Run ``ikm-sync *args`` to its end; its wall seconds."""
    start = time.monotonic()
    site.run(*args)
    return time.monotonic() - start


def _kill_at_random(site: Site, rng: random.Random, within: float, *args: str) -> bool:
    """Start ``ikm-sync *args`` and SIGKILL it at a random moment of the ``within``
    seconds an uninterrupted run takes; True when it was still running (killed),
    False when it had already finished."""
    process = site.start(*args)
    time.sleep(rng.uniform(0.2, max(within, 0.5)))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return True


def _ledger(site: Site) -> tuple[dict[str, int], Counter[str], Counter[str]]:
    """Available per SKU, units held by stored orders per SKU, receipts per SKU."""
    engine = sa.create_engine(
        sa.make_url(site.database_url).set(
            drivername="postgresql+psycopg"
            if site.database_url.startswith("postgresql")
            else "sqlite"
        )
    )
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
    rng = random.Random(20)  # noqa: S311  (reproducible kill times)
    publishing = _timed(calm, "sync", "push")
    published = calm.shown()
    for url in calm.urls.values():
        httpx.post(f"{url}/_sim/buyers", json={"orders": 2}, timeout=30)
    cycling = _timed(calm, "sync", "cycle")

    kills = 0
    while kills < KILLS // 2:  # killed while publishing
        kills += _kill_at_random(killed, rng, publishing, "sync", "push")
    killed.run("sync", "push", check=False)

    assert killed.shown() == published
    for listings in killed.shown().values():
        skus = Counter(x[0] for x in listings)
        assert set(skus.values()) == {1}
    plan = json.loads(killed.run("sync", "plan", "--json").stdout)
    assert all(sum(a["counts"].values()) == 0 for a in plan["accounts"]), plan

    while kills < KILLS:  # buyers order, and the cycles that pull them are killed
        for url in killed.urls.values():  # what `ikm-sync buyers` asks for
            httpx.post(f"{url}/_sim/buyers", json={"orders": 2}, timeout=30)
        kills += _kill_at_random(killed, rng, cycling, "sync", "cycle")
    last = killed.run("sync", "cycle", check=False)
    assert last.returncode == 0, last.stderr
    assert kills == KILLS

    runs = json.loads(killed.run("runs", "list", "--json", "--limit", "1000").stdout)
    # kills landed inside runs: publish runs cut short stay "running" for the auditor
    assert any(r["outcome"] == "running" for r in runs["runs"]), runs
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
