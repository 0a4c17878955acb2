"""A "site" for end-to-end sync tests: a real ``ikm-sync simulate`` process serving all
three marketplaces on free ports, the demo settings pointed at it, the demo catalogue
imported into a database of its own, and the channel accounts applied and authorised.
Commands run as ``ikm-sync --config …`` subprocesses, as an officer would run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.test_simulate import IKM_SYNC, _read_announcement

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo"
MARKETPLACES = ("shopee", "tokopedia", "bukalapak")
DEMO_PORTS = {"shopee": 8701, "tokopedia": 8702, "bukalapak": 8703}


@dataclass
class Site:
    """One world: a simulator process, its settings and database."""

    workdir: Path
    env: dict[str, str]
    urls: dict[str, str]
    database_url: str
    process: subprocess.Popen[str]

    @property
    def config(self) -> Path:
        return self.workdir / "ikm-sync.toml"

    def run(
        self,
        *args: str,
        check: bool = True,
        config: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``ikm-sync --config … *args``; ``config`` instead of the site's
        settings, ``env`` on top of the site's environment."""
        result = subprocess.run(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(config or self.config), *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=300,
            check=False,
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def json_of(self, *args: str, code: int = 0, config: Path | None = None) -> Any:
        """Run ``ikm-sync *args --json``, check its exit code, parse its output."""
        result = self.run(*args, "--json", check=False, config=config)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(self.config), *args],
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

    def requests(self) -> dict[str, Counter[str]]:
        """Per marketplace, how many requests each route has answered so far."""
        return {
            m: Counter(httpx.get(f"{url}/_sim/requests", timeout=30).json()["requests"])
            for m, url in self.urls.items()
        }

    def buyers(self, marketplace: str, orders: int) -> list[str]:
        """``orders`` simulated buyers order (and pay) now at one marketplace."""
        answer = httpx.post(
            f"{self.urls[marketplace]}/_sim/buyers", json={"orders": orders}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return [str(i) for i in answer.json()["placed"]]


def _site(tmp: Path, database_url: str) -> Iterator[Site]:
    tmp.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "900"]
    command += ["--no-rate-limits", "--latency-ms", "2", "--pictures-port", "0"]
    for key in MARKETPLACES:  # only these, each on a free port
        command += ["-m", key, "--port", f"{key}=0"]
    with (tmp / "simulate.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        try:
            announced = _read_announcement(process)
            urls = {s["marketplace"]: s["url"] for s in announced["simulators"]}
            settings = (DEMO / "ikm-sync.toml").read_text(encoding="utf-8")
            for key, port in DEMO_PORTS.items():
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
