"""A fleet for end-to-end scheduler tests: one ``ikm-sync simulate`` process whose
three simulators each serve a third of the accounts, every account a shop of its own
(Shopee and Tokopedia shops and Bukalapak sellers added through the simulators'
``/_sim`` pages) with one producer and few SKUs of its own, so no two accounts share a
listing, an order or a stock movement. Accounts are applied with ``ikm-sync accounts
apply`` and authorised in process (the simulators approve at once), then ``ikm-sync
run`` daemons share them; each daemon logs JSON to a file of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.catalogue.columns import PRODUCER_COLUMNS, PRODUCT_COLUMNS
from tests.e2e.helpers import write_csv
from tests.e2e.sites import DEMO, MARKETPLACES
from tests.e2e.test_simulate import IKM_SYNC, _read_announcement

#: Longest wait for any condition, in seconds.
LIMIT = 240.0
REDIRECT = "https://ikm-sync.example/oauth/callback"


def until(condition: Callable[[], Any], what: str, limit: float = LIMIT) -> Any:
    """``condition()`` once it is truthy; fails after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)  # polls a condition, with a deadline: noqa: sleep-ok
    pytest.fail(f"not within {limit:.0f} s: {what}")


@dataclass
class Fleet:
    """The simulators, settings, database and accounts of one fleet."""

    workdir: Path
    env: dict[str, str]
    urls: dict[str, str]
    database_url: str
    accounts: dict[str, str]  # account id -> marketplace
    processes: dict[int, subprocess.Popen[str]] = field(default_factory=dict)
    logs: dict[int, Path] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.workdir / "ikm-sync.toml"

    # ------------------------------------------------------------ commands

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``ikm-sync --config … *args`` to its end; fails on a non-zero exit."""
        result = subprocess.run(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=LIMIT,
            check=False,
        )
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def start(self, env: dict[str, str]) -> subprocess.Popen[str]:
        """An ``ikm-sync run`` daemon with ``env`` on top of the fleet's."""
        log = self.workdir / f"daemon-{len(self.logs)}.log"
        with log.open("w") as errors:
            process = subprocess.Popen(  # noqa: S603  (our own console script)
                [IKM_SYNC, "--config", str(self.config), "run"],
                stdout=subprocess.DEVNULL,
                stderr=errors,
                text=True,
                env={**self.env, **env},
            )
        self.processes[process.pid] = process
        self.logs[process.pid] = log
        return process

    def stop(self, *processes: subprocess.Popen[str]) -> None:
        """SIGTERM ``processes``; each exits 0."""
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=LIMIT) == 0, self.logs[process.pid].read_text()

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait(timeout=30)

    # ------------------------------------------------------------ logs

    def events(self, pid: int, name: str | None = None) -> list[dict[str, Any]]:
        """The daemon ``pid``'s JSON log lines (of event ``name``)."""
        found = []
        for line in self.logs[pid].read_text(encoding="utf-8").splitlines():
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:  # a line being written
                continue
            if name is None or event.get("event") == name:
                found.append(event)
        return found

    def cycles(self, pids: Iterator[int] | None = None) -> Counter[str]:
        """Scheduled cycles that ran, per account, over the daemons' logs."""
        counted: Counter[str] = Counter()
        for pid in pids if pids is not None else list(self.logs):
            for event in self.events(pid, "schedule.account_ran"):
                if event.get("schedule") == "cycle":
                    counted[str(event["account"])] += 1
        return counted

    def holdings(self) -> dict[str, list[tuple[datetime, datetime, int, bool]]]:
        """Per account, every lease holding the daemons logged: taken, released,
        pid, and whether it ended with the lease lost."""
        spans: dict[str, list[tuple[datetime, datetime, int, bool]]] = defaultdict(list)
        for pid in self.logs:
            for event in self.events(pid, "account.lease_held"):
                spans[str(event["account"])].append(
                    (
                        datetime.fromisoformat(event["taken_at"]),
                        datetime.fromisoformat(event["released_at"]),
                        pid,
                        bool(event.get("lost")),
                    )
                )
        return spans

    # ------------------------------------------------------------ the store

    def query(self, sql: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(sql), params))
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: Any) -> None:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def runs(self) -> list[Any]:
        """Every account run: id, account, kind, outcome, started, finished."""
        return self.query(
            "SELECT r.id, a.account_key, r.kind, r.outcome, r.started_at,"
            " r.finished_at FROM sync_runs r JOIN channel_accounts a"
            " ON a.id = r.account_id ORDER BY r.id"
        )

    def buyers(self, marketplace: str, orders: int) -> list[str]:
        """``orders`` simulated buyers order (and pay) now at one marketplace."""
        answer = httpx.post(
            f"{self.urls[marketplace]}/_sim/buyers", json={"orders": orders}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return [str(i) for i in answer.json()["placed"]]

    def placed(self) -> set[tuple[str, str]]:
        """(marketplace, order id) of every buyer's order a seller can see."""
        key = {"shopee": "order_sn", "tokopedia": "order_id", "bukalapak": "id"}
        return {
            (m, str(o[key[m]]))
            for m, url in self.urls.items()
            for o in httpx.get(f"{url}/_sim/orders", timeout=30).json()["orders"]
            if o.get("listed", True)  # Tokopedia shows a seller paid orders only
        }

    def stored(self) -> Counter[tuple[str, str]]:
        """(marketplace, order id) of every stored order, counted."""
        return Counter(
            (str(m), str(e))
            for m, e in self.query(
                "SELECT a.marketplace, o.external_id FROM orders o"
                " JOIN channel_accounts a ON a.id = o.account_id"
            )
        )

    def assert_consistent(self) -> int:
        """Every buyer's order stored once, and per SKU what is available equals
        the receipts less the units held by active orders; the orders checked."""
        placed = self.placed()
        stored = self.stored()
        assert set(stored.values()) <= {1}, [k for k, n in stored.items() if n > 1]
        assert set(stored) == placed, (placed - set(stored), set(stored) - placed)
        available = {
            str(k): int(on_hand) - int(reserved)
            for k, on_hand, reserved in self.query(
                "SELECT p.sku_key, SUM(m.on_hand_delta), SUM(m.reserved_delta)"
                " FROM stock_movements m JOIN products p ON p.id = m.product_id"
                " GROUP BY p.sku_key"
            )
        }
        held = Counter(
            {
                str(k): int(n)
                for k, n in self.query(
                    "SELECT p.sku_key, SUM(l.quantity) FROM order_lines l"
                    " JOIN orders o ON o.id = l.order_id"
                    " JOIN products p ON p.id = l.product_id"
                    " WHERE o.stock_state IN ('reserved', 'shipped')"
                    " GROUP BY p.sku_key"
                )
            }
        )
        receipts = Counter(
            {
                str(k): int(n)
                for k, n in self.query(
                    "SELECT p.sku_key, SUM(m.on_hand_delta) FROM stock_movements m"
                    " JOIN products p ON p.id = m.product_id"
                    " WHERE m.reason NOT LIKE 'order_%' GROUP BY p.sku_key"
                )
            }
        )
        for key, units in available.items():
            assert units == receipts[key] - held[key], key
        return len(placed)


# ---------------------------------------------------------------- building one


def _shops(
    urls: dict[str, str], per_marketplace: int
) -> dict[str, list[dict[str, Any]]]:
    """``per_marketplace`` new shops (Bukalapak: sellers) at each simulator."""
    made: dict[str, list[dict[str, Any]]] = {m: [] for m in MARKETPLACES}
    with httpx.Client(timeout=30) as http:
        for n in range(per_marketplace):
            answer = http.post(f"{urls['shopee']}/_sim/shops", json={})
            assert answer.status_code == 200, answer.text
            made["shopee"].append({"shop_id": str(answer.json()["shop_id"])})
            answer = http.post(f"{urls['tokopedia']}/_sim/shops", json={})
            assert answer.status_code == 200, answer.text
            made["tokopedia"].append({"shop_id": str(answer.json()["shop_id"])})
            username = f"fleet-seller-{n:04d}"
            answer = http.post(
                f"{urls['bukalapak']}/_sim/sellers", json={"username": username}
            )
            assert answer.status_code == 201, answer.text
            seller = answer.json()["data"]
            made["bukalapak"].append(
                {
                    "shop_id": str(seller["store_id"]),
                    "username": username,
                    "attachments": seller["attachment_ids"],
                }
            )
    return made


def _settings(
    urls: dict[str, str],
    database_url: str,
    shops: dict[str, list[dict[str, Any]]],
    images: dict[str, int],
) -> str:
    lines = [
        'environment = "development"',
        f"secrets_dir = {json.dumps(str(DEMO / 'secrets'))}",
        'actor = "officer:fleet"',
        "",
        "[database]",
        f"url = {json.dumps(database_url)}",
        "",
        "[marketplaces.shopee]",
        f"base_url = {json.dumps(urls['shopee'])}",
        "[marketplaces.shopee.options]",
        "partner_id = 2885440",
        "logistics = [{ logistic_id = 8003 }]",
        "days_to_ship = 2",
        "default_category = { category_id = 100001, attributes = [{ attribute_id ="
        ' 100010, values = [{ value_id = 0, original_value_name = "NoBrand" }] }] }',
        "",
        "[marketplaces.tokopedia]",
        f"base_url = {json.dumps(urls['tokopedia'])}",
        "options = { fs_id = 65125, default_category_id = 2310, token_url = "
        + json.dumps(urls["tokopedia"] + "/token")
        + " }",
        "",
        "[marketplaces.bukalapak]",
        f"base_url = {json.dumps(urls['bukalapak'])}",
        "[marketplaces.bukalapak.options]",
        f"accounts_base_url = {json.dumps(urls['bukalapak'])}",
        "default_category_id = 1234",
        "[marketplaces.bukalapak.options.image_attachment_ids]",
        *(f"{json.dumps(url)} = {i}" for url, i in images.items()),
    ]
    for marketplace, made in shops.items():
        for n, shop in enumerate(made):
            lines += [
                "",
                "[[accounts]]",
                f'id = "{marketplace}-{n:04d}"',
                f'marketplace = "{marketplace}"',
                f'shop_id = "{shop["shop_id"]}"',
                f'producers = ["{_producer(marketplace, n)}"]',
                f'credentials = "{marketplace}_demo"',
                "[accounts.allocation]",
                "share_percent = 100",
            ]
    return "\n".join(lines) + "\n"


def _producer(marketplace: str, n: int) -> str:
    return f"FLT-{marketplace[:2].upper()}-{n:04d}"


def build(
    workdir: Path, database_url: str, per_marketplace: int, skus: int
) -> Iterator[Fleet]:
    """A fleet of ``per_marketplace`` accounts at each of the three simulators,
    ``skus`` products each (a generator: the simulator stops after it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "1800"]
    command += ["--no-rate-limits", "--pictures-port", "0"]
    for key in MARKETPLACES:  # only these, each on a free port
        command += ["-m", key, "--port", f"{key}=0"]
    with (workdir / "simulate.log").open("w") as errors:
        simulator = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
    fleet: Fleet | None = None
    try:
        announced = _read_announcement(simulator)
        urls = {s["marketplace"]: s["url"] for s in announced["simulators"]}
        pictures = announced["pictures"]
        shops = _shops(urls, per_marketplace)
        producers, products, images = [], [], {}
        for marketplace, made in shops.items():
            for n, shop in enumerate(made):
                code = _producer(marketplace, n)
                producers.append(
                    [
                        code,
                        f"Produsen {code}",
                        "ikm",
                        "Jawa Barat",
                        "Kota Bandung",
                        "",
                        "",
                        "",
                    ]
                )
                for k in range(skus):
                    sku = f"{code}-{k}"
                    image = f"{pictures}/{sku}/1.jpg"
                    if marketplace == "bukalapak":
                        images[image] = int(shop["attachments"][k % 10])
                    products.append(
                        [
                            sku,
                            code,
                            f"Kopi Bandung {sku}",
                            50000 + 1000 * k,
                            270,
                            "Kopi arabika dari Bandung.",
                            "Makanan & Minuman > Kopi",
                            18,
                            10,
                            6,
                            image,
                            "new",
                            "active",
                            "",
                            40,
                        ]
                    )
        (workdir / "ikm-sync.toml").write_text(
            _settings(urls, database_url, shops, images), encoding="utf-8"
        )
        fleet = Fleet(
            workdir,
            {**environment, "IKMSYNC_DATABASE_URL": database_url},
            urls,
            database_url,
            {f"{m}-{n:04d}": m for m, made in shops.items() for n in range(len(made))},
        )
        fleet.run(
            "catalog",
            "import",
            str(
                write_csv(workdir / "producers.csv", list(PRODUCER_COLUMNS), producers)
            ),
            str(write_csv(workdir / "products.csv", list(PRODUCT_COLUMNS), products)),
        )
        fleet.run("accounts", "apply")
        _authorise(fleet, shops)
        yield fleet
    finally:
        if fleet is not None:
            fleet.kill_all()
        simulator.kill()
        simulator.wait(timeout=10)
        assert simulator.stdout is not None
        simulator.stdout.close()


def _authorise(fleet: Fleet, shops: dict[str, list[dict[str, Any]]]) -> None:
    """Shopee shops and Bukalapak sellers approve ikm-sync (in process: two hundred
    ``accounts authorize --follow`` processes would take minutes)."""
    from config.settings import load_settings
    from ikm_sync.bootstrap import Connections, account_from_settings, build_runtime

    loaded = load_settings(fleet.config, environ={})
    runtime = build_runtime(loaded)
    connections = Connections(loaded, runtime)
    sellers = {s["shop_id"]: s["username"] for s in shops["bukalapak"]}
    try:
        with httpx.Client(timeout=30, follow_redirects=False) as http:
            for settings in loaded.settings.accounts:
                account = account_from_settings(settings)
                if settings.marketplace == "tokopedia":
                    continue  # shops are linked to the app outside the API
                connector = connections.connector(account)
                try:
                    if settings.marketplace == "shopee":
                        code = http.get(
                            f"{fleet.urls['shopee']}/_sim/auth_code",
                            params={"shop_id": settings.shop_id},
                        ).json()["code"]
                    else:
                        link = connector.authorization_url(REDIRECT, state=account.id)
                        assert link is not None
                        seller = sellers[settings.shop_id]
                        answer = http.get(f"{link}&sim_seller={seller}")
                        assert "location" in answer.headers, (link, answer.text)
                        code = httpx.URL(answer.headers["location"]).params["code"]
                    connector.authorize(str(code), REDIRECT)
                finally:
                    connector.close()
    finally:
        connections.close()
        runtime.close()
