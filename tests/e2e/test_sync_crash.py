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
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.test_simulate import IKM_SYNC, _read_announcement

pytestmark = [pytest.mark.e2e, pytest.mark.db]

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo"
KILLS = 20


@dataclass
class Site:
    """One world: a simulator process, its settings and database."""

    workdir: Path
    env: dict[str, str]
    urls: dict[str, str]
    database_url: str
    process: subprocess.Popen[str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(self.workdir / "ikm-sync.toml"), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=300,
            check=False,
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(self.workdir / "ikm-sync.toml"), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )

    def shown(self) -> dict[str, list[tuple[str, int, int, str]]]:
        """Per marketplace, sorted (SKU, price, stock, status) of every listing."""
        result = {}
        for key, url in self.urls.items():
            listings = httpx.get(f"{url}/_sim/listings", timeout=30).json()["listings"]
            result[key] = sorted(
                (str(x["sku"]), int(x["price"]), int(x["stock"]), str(x["status"]))
                for x in listings
            )
        return result

    def buyer_orders(self) -> dict[str, set[str]]:
        """Per marketplace, the ids of the buyers' orders a seller can see."""
        key = {"shopee": "order_sn", "tokopedia": "order_id", "bukalapak": "id"}
        return {
            m: {
                str(o[key[m]])
                for o in httpx.get(f"{url}/_sim/orders", timeout=30).json()["orders"]
                if o.get("listed", True)  # Tokopedia shows a seller paid orders only
            }
            for m, url in self.urls.items()
        }


def _site(tmp: Path, database_url: str) -> Iterator[Site]:
    tmp.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "900"]
    command += ["--no-rate-limits", "--latency-ms", "2", "--pictures-port", "0"]
    for key in ("shopee", "tokopedia", "bukalapak"):
        command += ["--port", f"{key}=0"]
    with (tmp / "simulate.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        try:
            announced = _read_announcement(process)
            urls = {s["marketplace"]: s["url"] for s in announced["simulators"]}
            settings = (DEMO / "ikm-sync.toml").read_text(encoding="utf-8")
            for key, port in (
                ("shopee", 8701),
                ("tokopedia", 8702),
                ("bukalapak", 8703),
            ):
                settings = settings.replace(f"http://127.0.0.1:{port}", urls[key])
            settings = settings.replace('"secrets"', json.dumps(str(DEMO / "secrets")))
            (tmp / "ikm-sync.toml").write_text(settings, encoding="utf-8")
            products = (DEMO / "products.csv").read_text(encoding="utf-8")
            (tmp / "products.csv").write_text(
                products.replace("http://127.0.0.1:8700", announced["pictures"]),
                encoding="utf-8",
            )
            shutil.copy(DEMO / "producers.csv", tmp / "producers.csv")
            site = Site(
                tmp,
                {**environment, "IKMSYNC_DATABASE_URL": database_url},
                urls,
                database_url,
                process,
            )
            site.run(
                "catalog",
                "import",
                str(tmp / "producers.csv"),
                str(tmp / "products.csv"),
            )
            site.run("accounts", "apply")
            for account in ("shopee-ntt-flores", "bukalapak-esmart-ikm"):
                site.run("accounts", "authorize", account, "--follow")
            yield site
        finally:
            process.kill()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


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


def _kill_at_random(site: Site, rng: random.Random, *args: str) -> bool:
    """Start ``ikm-sync *args`` and SIGKILL it after a random delay; True when it was
    still running (killed), False when it had already finished."""
    process = site.start(*args)
    time.sleep(rng.uniform(0.4, 2.5))
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
    calm.run("sync", "push")

    kills = 0
    while kills < KILLS // 2:  # killed while publishing
        kills += _kill_at_random(killed, rng, "sync", "push")
    killed.run("sync", "push", check=False)

    assert killed.shown() == calm.shown()
    for listings in killed.shown().values():
        skus = Counter(x[0] for x in listings)
        assert set(skus.values()) == {1}
    plan = json.loads(killed.run("sync", "plan", "--json").stdout)
    assert all(sum(a["counts"].values()) == 0 for a in plan["accounts"]), plan

    while kills < KILLS:  # buyers order, and the cycles that pull them are killed
        for url in killed.urls.values():  # what `ikm-sync buyers` asks for
            httpx.post(f"{url}/_sim/buyers", json={"orders": 2}, timeout=30)
        kills += _kill_at_random(killed, rng, "sync", "cycle")
    last = killed.run("sync", "cycle", check=False)
    assert last.returncode == 0, last.stderr
    assert kills == KILLS

    runs = json.loads(killed.run("runs", "list", "--json", "--limit", "1000").stdout)
    assert len(runs["runs"]) > KILLS  # the killed runs are recorded too
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
