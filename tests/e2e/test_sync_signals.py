"""SIGTERM and SIGINT end ``sync cycle``, ``sync orders``, ``sync push`` and
``reconcile`` cleanly — against real processes and a real ``ikm-sync simulate``.

Each command is signalled at a point defined by its progress: a gate between it and
the simulators holds its first marketplace request (so its runs have started and a
call is in flight), the signal is sent, then the call is let through. The command must
then stop at its next safe point: runs recorded ``interrupted`` (none left
``running``), accounts not started ``skipped``, leases released (the next command
runs every account at once), ``command.interrupted`` logged, exit code 143 for
SIGTERM and 130 for SIGINT.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.gate import Gate, gated
from tests.e2e.helpers import write_csv
from tests.e2e.sites import Site, _site
from tests.e2e.test_simulate import IKM_SYNC

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

#: Longest wait for a process to reach a point or to end, in seconds.
LIMIT = 120.0


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, database_backend: Any
) -> Iterator[Site]:
    """The demo catalogue imported, accounts authorised, published."""
    tmp = tmp_path_factory.mktemp("sync-signals")
    url: str = database_backend.create(tmp)
    try:
        for built in _site(tmp / "site", url):
            built.run("sync", "push")
            yield built
    finally:
        database_backend.drop(url)


def _start(site: Site, log: Path, *args: str) -> subprocess.Popen[str]:
    with log.open("w") as errors:
        return subprocess.Popen(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(site.config), "--log-format", "json", *args],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            text=True,
            env=site.env,
        )


def _signalled_at_first_request(
    site: Site, gate: Gate, log: Path, sent: signal.Signals, *args: str
) -> int:
    """Start ``ikm-sync *args``, send ``sent`` while its first marketplace request
    is held at the gate, let the request through; the exit code."""
    gate.arm(1)
    process = _start(site, log, *args)
    try:
        deadline = time.monotonic() + LIMIT
        while not gate.reached.wait(0.05):
            if process.poll() is not None:
                pytest.fail(f"{args} ended ({process.returncode}) before any request")
            if time.monotonic() > deadline:
                pytest.fail(f"{args} made no marketplace request in {LIMIT:.0f} s")
        process.send_signal(sent)
        gate.release()  # the call in flight completes
        return process.wait(timeout=LIMIT)
    finally:
        gate.release()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=LIMIT)


def _runs(site: Site) -> list[dict[str, Any]]:
    listed = site.json_of("runs", "list", "--limit", "1000")
    return list(listed["runs"])


def _leases(site: Site) -> int:
    engine = sa.create_engine(
        sa.make_url(site.database_url).set(
            drivername="postgresql+psycopg"
            if site.database_url.startswith("postgresql")
            else "sqlite"
        )
    )
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT COUNT(*) FROM account_leases WHERE holder <> ''")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _events(log: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]


def _assert_stopped_cleanly(
    site: Site, before: int, log: Path, sent: signal.Signals, code: int
) -> list[dict[str, Any]]:
    """The new runs ended ``interrupted`` (none running), leases are free, the log
    says so; the new runs, oldest first."""
    assert code == 128 + sent.value, log.read_text(encoding="utf-8")
    new = sorted(
        (r for r in _runs(site) if r["id"] > before), key=lambda r: int(r["id"])
    )
    assert new, "the command recorded no run"
    assert {r["outcome"] for r in new} == {"interrupted"}, new
    assert _leases(site) == 0
    events = _events(log)
    (stopped,) = [e for e in events if e["event"] == "command.interrupted"]
    assert stopped["signal"] == sent.name
    assert stopped["exit_code"] == code
    interrupted = [e for e in events if e["event"] == "sync_run.interrupted"]
    assert {e["run_id"] for e in interrupted} == {r["id"] for r in new}
    return new


def _last_run_id(site: Site) -> int:
    return max((int(r["id"]) for r in _runs(site)), default=0)


def _buy(site: Site, orders: int) -> None:
    for url in site.urls.values():
        answer = httpx.post(f"{url}/_sim/buyers", json={"orders": orders}, timeout=30)
        assert answer.status_code == 200, answer.text


def test_sigterm_stops_a_cycle_in_its_order_pull(site: Site, tmp_path: Path) -> None:
    _buy(site, 2)
    before = _last_run_id(site)
    log = tmp_path / "cycle.log"

    with gated(site.config, site.urls) as gate:
        code = _signalled_at_first_request(
            site, gate, log, signal.SIGTERM, "sync", "cycle"
        )

    new = _assert_stopped_cleanly(site, before, log, signal.SIGTERM, code)
    assert {r["kind"] for r in new} == {"orders"}  # no push was started
    assert len(new) == 3  # one per account
    again = site.json_of("sync", "cycle")  # the leases are free: nothing skipped
    assert {r["outcome"] for r in again["orders"] + again["push"]} == {"succeeded"}


def test_sigint_stops_an_order_pull(site: Site, tmp_path: Path) -> None:
    _buy(site, 2)
    before = _last_run_id(site)
    log = tmp_path / "orders.log"

    with gated(site.config, site.urls) as gate:
        code = _signalled_at_first_request(
            site, gate, log, signal.SIGINT, "sync", "orders"
        )

    new = _assert_stopped_cleanly(site, before, log, signal.SIGINT, code)
    assert {r["kind"] for r in new} == {"orders"}
    again = site.json_of("sync", "orders")
    assert {r["outcome"] for r in again["runs"]} == {"succeeded"}


def test_sigterm_stops_a_push_between_prices_and_stock(
    site: Site, tmp_path: Path
) -> None:
    """A new price and a stock receipt for every product: the push sends prices,
    then stock. Stopped while the prices are out, it sends no stock."""
    with (site.workdir / "products.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["price"] = str(int(row["price"]) + 1000)
        row.pop("stock", None)
    products = write_csv(
        tmp_path / "products.csv",
        list(rows[0]),
        [list(row.values()) for row in rows],
    )
    site.run("catalog", "import", str(products))
    for row in rows[:3]:
        site.run("stock", "adjust", row["sku"], "+1", "--reason", "recount")
    planned = site.json_of("sync", "plan")["accounts"]
    assert all(a["counts"]["price"] and a["counts"]["stock"] for a in planned)
    before = _last_run_id(site)
    log = tmp_path / "push.log"

    with gated(site.config, site.urls) as gate:
        code = _signalled_at_first_request(
            site, gate, log, signal.SIGTERM, "sync", "push"
        )

    new = _assert_stopped_cleanly(site, before, log, signal.SIGTERM, code)
    assert {r["kind"] for r in new} == {"publish"}
    after = {
        a["account"]: a["counts"] for a in site.json_of("sync", "plan")["accounts"]
    }
    assert all(counts["stock"] for counts in after.values()), after  # none sent
    again = site.json_of("sync", "push")
    assert {r["outcome"] for r in again["runs"]} == {"succeeded"}


def test_sigterm_stops_a_reconcile_while_it_reads_the_shops(
    site: Site, tmp_path: Path
) -> None:
    before = _last_run_id(site)
    log = tmp_path / "reconcile.log"

    with gated(site.config, site.urls) as gate:
        code = _signalled_at_first_request(site, gate, log, signal.SIGTERM, "reconcile")

    new = _assert_stopped_cleanly(site, before, log, signal.SIGTERM, code)
    assert {r["kind"] for r in new} == {"reconcile"}


@pytest.mark.parametrize(
    ("command", "step", "sent"),
    [
        (("sync", "push"), "sync.account_plan", signal.SIGINT),  # the plans are made
        (("sync", "cycle"), "sync.chosen_accounts", signal.SIGINT),
        (("sync", "orders"), "sync.chosen_accounts", signal.SIGINT),
        (("reconcile",), "reconcile.chosen_accounts", signal.SIGINT),
    ],
)
def test_a_signal_before_any_run_starts_ends_the_command_cleanly(
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    step: str,
    sent: signal.Signals,
) -> None:
    """Signalled while it reads the store, before any run row exists: no run is
    started, the accounts are reported skipped and the log says so, with exit
    128 + the signal (not a silent exit: no report, no log line)."""
    from typer.testing import CliRunner

    from ikm_sync.cli import app
    from ikm_sync.commands import reconcile, sync

    module, name = step.split(".")
    where = {"sync": sync, "reconcile": reconcile}[module]
    real = getattr(where, name)

    calls: list[object] = []

    def signalled(*args: Any, **kwargs: Any) -> Any:
        if not calls:  # once: a second signal would end the process (pytest's)
            signal.raise_signal(sent)  # its handler runs before this returns
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(where, name, signalled)
    for variable in list(os.environ):  # the processes' environment only
        if variable.upper().startswith("IKMSYNC_"):
            monkeypatch.delenv(variable)
    before = _last_run_id(site)

    result = CliRunner().invoke(
        app,
        ["--config", str(site.config), "--log-format", "json", *command, "--json"],
        env=site.env,
        catch_exceptions=False,
    )

    assert result.exit_code == 128 + sent.value, result.output
    assert _last_run_id(site) == before  # no run was started
    assert _leases(site) == 0
    events = [json.loads(x) for x in result.stderr.splitlines() if x.startswith("{")]
    (stopped,) = [e for e in events if e["event"] == "command.interrupted"]
    assert stopped["signal"] == sent.name
    if module == "sync":
        reports = json.loads(result.stdout)
        runs = [r for part in reports.values() for r in part]
        assert len(runs) >= 3, reports  # every account, in each part
        assert {r["outcome"] for r in runs} == {"skipped"}, runs
