"""``ikm-sync run`` against real processes and a real ``ikm-sync simulate``: several
daemons share the demo accounts through the database (every account cycled in every
interval, never two runs of one account at once, the work spread over the daemons),
a daemon killed with SIGKILL mid-cycle hands its accounts on and its run ends
``abandoned``, SIGTERM mid-cycle ends a daemon with exit 0, its run closed and its
lease released; ``run --once`` runs what is due and says when an account failed.

Daemons run with short intervals from their settings (environment). Every wait is
on a condition in the database with a deadline; a daemon mid-cycle is found by the
lease it holds (the holder names its process), never by timing.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.gate import gated
from tests.e2e.sites import Site, _site
from tests.e2e.test_buyers import closed_port
from tests.e2e.test_simulate import IKM_SYNC

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

ACCOUNTS = ("bukalapak-esmart-ikm", "shopee-ntt-flores", "tokopedia-karya-lapas")
#: Longest wait for any condition, in seconds.
LIMIT = 120.0
INTERVAL = 4
SCHEDULE = {
    "IKMSYNC_SCHEDULER__CYCLE_SECONDS": str(INTERVAL),
    "IKMSYNC_SCHEDULER__TICK_SECONDS": "0.2",
    "IKMSYNC_SCHEDULER__JITTER": "0.1",
    "IKMSYNC_SCHEDULER__SWEEP_SECONDS": "0.5",
    "IKMSYNC_SCHEDULER__RECONCILE_HOURS": "0",
    "IKMSYNC_SCHEDULER__STOP_DEADLINE_SECONDS": "30",
    "IKMSYNC_SYNC__WORKERS": "1",
    "IKMSYNC_LOGGING__FORMAT": "json",
    "IKMSYNC_LOGGING__LEVEL": "INFO",
}


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    yield from _site(tmp_path / "site", database_url)


class Daemons:
    """``ikm-sync run`` processes of one site, each logging to its own file."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.processes: dict[int, subprocess.Popen[str]] = {}
        self.logs: dict[int, Path] = {}

    def start(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        log = self.site.workdir / f"daemon-{len(self.logs)}.log"
        with log.open("w") as errors:
            process = subprocess.Popen(  # noqa: S603  (our own console script)
                [IKM_SYNC, "--config", str(self.site.config), "run"],
                stdout=subprocess.DEVNULL,
                stderr=errors,
                text=True,
                env={**self.site.env, **SCHEDULE, **(env or {})},
            )
        self.processes[process.pid] = process
        self.logs[process.pid] = log
        return process

    def ran(self, pid: int) -> int:
        """Accounts the daemon ``pid`` ran, from its log."""
        return sum(self.cycled([pid]).values())

    def cycled(
        self, pids: Iterable[int] | None = None, outcome: str | None = None
    ) -> Counter[str]:
        """Cycles per account the daemons ``pids`` (all by default) ran, from their
        logs, of one ``outcome`` or any. The logs, not the run records: a cycle
        with nothing to do records no run."""
        found: Counter[str] = Counter()
        for pid in self.logs if pids is None else pids:
            for line in self.logs[pid].read_text().splitlines():
                if not line.startswith("{"):
                    continue
                event = json.loads(line)
                if event.get("event") == "schedule.account_ran" and (
                    outcome is None or event.get("outcome") == outcome
                ):
                    found[str(event.get("account"))] += 1
        return found

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def daemons(site: Site) -> Iterator[Daemons]:
    found = Daemons(site)
    try:
        yield found
    finally:
        found.stop_all()


def query(site: Site, sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(site.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def runs(site: Site) -> list[Any]:
    """Every account run: id, account, kind, trigger, outcome, started, finished."""
    return query(
        site,
        "SELECT r.id, a.account_key, r.kind, r.trigger, r.outcome, r.started_at,"
        " r.finished_at FROM sync_runs r JOIN channel_accounts a"
        " ON a.id = r.account_id ORDER BY r.id",
    )


def until(condition: Callable[[], Any], what: str, limit: float = LIMIT) -> Any:
    """``condition()`` once it is truthy; fails after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)  # polls a condition, with a deadline: noqa: sleep-ok
    pytest.fail(f"timed out waiting for {what}")


def as_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def assert_no_overlap(site: Site) -> None:
    """No two runs of one account were ever running at once."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for _, account, _, _, _, started, finished in runs(site):
        assert finished is not None
        spans[account].append((as_time(started), as_time(finished)))
    for account, found in spans.items():
        found.sort()
        for (_, end), (start, _) in itertools.pairwise(found):
            assert end <= start, f"{account}: overlapping runs"


def holder_pid(site: Site, among: set[int]) -> tuple[int, str] | None:
    """A daemon of ``among`` holding an account's lease now, and the account."""
    for holder, account in query(
        site,
        "SELECT l.holder, a.account_key FROM account_leases l"
        " JOIN channel_accounts a ON a.id = l.account_id WHERE l.holder <> ''",
    ):
        pid = int(str(holder).split(":")[1])
        if pid in among:
            return pid, str(account)
    return None


def mid_run(site: Site, pid: int) -> tuple[str, int] | None:
    """The account and run the daemon ``pid`` is in the middle of: it holds the
    account's lease and the account has a run ``running`` (only the holder starts
    runs)."""
    held = holder_pid(site, {pid})
    if held is None:
        return None
    running = [r[0] for r in runs(site) if r[1] == held[1] and r[4] == "running"]
    return (held[1], running[0]) if running else None


def test_once_runs_what_is_due_then_nothing_until_the_next_turn(site: Site) -> None:
    env = {**SCHEDULE, "IKMSYNC_SCHEDULER__CYCLE_SECONDS": "3600"}
    first = site.run("run", "--once", "--json", env=env)
    done = json.loads(first.stdout)["accounts"]
    assert sorted(a["account"] for a in done) == list(ACCOUNTS)
    assert {a["outcome"] for a in done} == {"succeeded"}
    assert {r["kind"] for a in done for r in a["runs"]} == {"orders", "publish"}
    assert {t for _, _, _, t, _, _, _ in runs(site)} >= {"schedule"}

    again = site.run("run", "--once", "--json", env=env)
    assert json.loads(again.stdout)["accounts"] == []


def test_once_exits_non_zero_and_backs_the_failing_account_off(site: Site) -> None:
    env = {
        **SCHEDULE,
        "IKMSYNC_SCHEDULER__CYCLE_SECONDS": "3600",
        "IKMSYNC_MARKETPLACES__TOKOPEDIA__BASE_URL": "http://127.0.0.1:9",
        "IKMSYNC_MARKETPLACES__TOKOPEDIA__RETRY_ATTEMPTS": "1",
    }
    result = site.run("run", "--once", "--json", env=env, check=False)
    assert result.returncode == 1, result.stderr
    outcomes = {a["account"]: a for a in json.loads(result.stdout)["accounts"]}
    assert outcomes["tokopedia-karya-lapas"]["outcome"] == "failed"
    assert outcomes["tokopedia-karya-lapas"]["error"]
    assert outcomes["shopee-ntt-flores"]["outcome"] == "succeeded"
    (row,) = query(
        site,
        "SELECT s.failures, s.last_outcome, s.last_error, s.backoff_until"
        " FROM account_schedules s JOIN channel_accounts a ON a.id = s.account_id"
        " WHERE a.account_key = 'tokopedia-karya-lapas' AND s.job = 'cycle'",
    )
    assert (row[0], row[1]) == (1, "failed")
    assert row[2]
    assert row[3] is not None


def test_daemons_share_the_accounts_each_cycled_every_interval_never_overlapping(
    site: Site, daemons: Daemons
) -> None:
    for _ in range(3):
        daemons.start()
    started = time.monotonic()

    def cycles() -> Counter[str]:
        return daemons.cycled(outcome="succeeded")

    until(lambda: min(cycles()[a] for a in ACCOUNTS) >= 4, "four cycles each")
    elapsed = time.monotonic() - started
    for process in daemons.processes.values():
        process.send_signal(signal.SIGTERM)
    for process in daemons.processes.values():
        assert process.wait(timeout=60) == 0

    counts = cycles()
    # once per interval (± jitter): no account cycled far more often than that
    for account in ACCOUNTS:
        assert counts[account] <= elapsed / (INTERVAL * 0.9) + 2, counts
    assert_no_overlap(site)
    assert not [r for r in runs(site) if r[4] == "running"]
    assert sum(daemons.ran(pid) > 0 for pid in daemons.processes) >= 2
    assert (  # every lease released (its row kept, its epoch with it)
        query(site, "SELECT count(*) FROM account_leases WHERE holder <> ''")[0][0] == 0
    )


def test_a_daemon_killed_mid_cycle_hands_on_and_its_run_ends_abandoned(
    site: Site, daemons: Daemons
) -> None:
    victim = daemons.start()
    others = [daemons.start(), daemons.start()]
    found = until(lambda: holder_pid(site, {victim.pid}), "the victim mid-cycle")
    before = {r[0] for r in runs(site)}
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    killed_at = max(before) if before else 0
    mid_run = [
        r for r in runs(site) if r[1] == found[1] and r[4] in ("running", "abandoned")
    ]

    # the account is cycled again by the others (a cycle with nothing left to do
    # records no run: their logs say so)
    until(
        lambda: daemons.cycled([p.pid for p in others], "succeeded")[found[1]],
        "the account cycled by another daemon",
    )
    # whatever the victim left running is closed as abandoned by a sweep
    until(
        lambda: not [r for r in runs(site) if r[4] == "running" and r[0] <= killed_at],
        "the sweep",
    )
    for run in mid_run:
        (outcome,) = query(
            site, "SELECT outcome FROM sync_runs WHERE id = :i", i=run[0]
        )
        assert outcome[0] == "abandoned"
    for process in others:
        process.send_signal(signal.SIGTERM)
    for process in others:
        assert process.wait(timeout=60) == 0
    assert_no_overlap_except_abandoned(site)


def assert_no_overlap_except_abandoned(site: Site) -> None:
    """No two closed runs of one account overlap; an abandoned run's end is the
    sweep's, so it is left out."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for _, account, _, _, outcome, started, finished in runs(site):
        if outcome != "abandoned":
            spans[account].append((as_time(started), as_time(finished)))
    for account, found in spans.items():
        found.sort()
        for (_, end), (start, _) in itertools.pairwise(found):
            assert end <= start, f"{account}: overlapping runs"


def test_sigterm_mid_cycle_exits_zero_closes_the_run_and_releases_the_lease(
    site: Site, daemons: Daemons
) -> None:
    daemon = daemons.start()
    _, run_id = until(lambda: mid_run(site, daemon.pid), "the daemon mid-run")
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0
    assert not [r for r in runs(site) if r[4] == "running"]
    (outcome,) = query(site, "SELECT outcome FROM sync_runs WHERE id = :i", i=run_id)
    assert outcome[0] in ("succeeded", "interrupted")
    assert holder_pid(site, {daemon.pid}) is None
    events = [
        json.loads(line)["event"]
        for line in daemons.logs[daemon.pid].read_text().splitlines()
        if line.startswith("{")
    ]
    assert "daemon.stopping" in events
    assert "daemon.stopped" in events


def test_sigterm_ends_a_daemon_within_one_stop_deadline_even_with_a_call_stuck(
    site: Site, daemons: Daemons
) -> None:
    """The whole stop is bounded by one stop deadline (systemd's TimeoutStopSec
    counts on it), even when the cycle in hand is stuck in a marketplace call that
    outlasts it: the process ends anyway; its lease, held by a process now gone, is
    taken over at once by the next daemon of this machine, which cycles the account
    and closes any run it had left running ``abandoned``."""
    deadline = 4.0
    with gated(site.config, site.urls) as gate:
        gate.arm(1)  # the first marketplace call is held until the test ends
        daemon = daemons.start(
            {
                "IKMSYNC_SCHEDULER__STOP_DEADLINE_SECONDS": str(deadline),
                "IKMSYNC_SCHEDULER__SWEEP_SECONDS": "3600",
            }
        )
        until(
            lambda: gate.reached.is_set() or daemon.poll() is not None,
            "a marketplace call in flight",
        )
        assert daemon.poll() is None
        _, account = until(
            lambda: holder_pid(site, {daemon.pid}), "the daemon holding an account"
        )
        # the held call is its first, a read: a run writes its row with its first
        # write, so any run of the account left running is one it had begun writing
        stuck = [r[0] for r in runs(site) if r[1] == account and r[4] == "running"]
        signalled = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=4 * deadline)
        except subprocess.TimeoutExpired:
            pytest.fail("the daemon did not end within the stop deadline")
        took = time.monotonic() - signalled
        gate.release(forward=False)
    assert code == 0
    # one deadline (not two, nor until the call ends), with room for a slow start
    assert took < 2 * deadline, took
    events = [
        json.loads(line)["event"]
        for line in daemons.logs[daemon.pid].read_text().splitlines()
        if line.startswith("{")
    ]
    assert "daemon.stop_deadline_passed" in events
    assert "daemon.stopped" in events

    following = daemons.start()  # the next daemon of this machine: the holder is gone
    until(
        lambda: daemons.cycled([following.pid], "succeeded")[account],
        "the account taken over at once and cycled",
    )

    def closed(run_id: int) -> bool:
        found = query(site, "SELECT outcome FROM sync_runs WHERE id = :i", i=run_id)
        return bool(found[0][0] == "abandoned")

    for run_id in stuck:
        until(functools.partial(closed, run_id), "the stuck run closed abandoned")


def test_once_skips_an_account_needing_reauthorisation_and_says_so(
    site: Site,
) -> None:
    engine = sa.create_engine(site.database_url)
    try:
        with engine.begin() as connection:
            changed = connection.execute(
                sa.text(
                    "UPDATE account_tokens SET needs_reauthorisation = :yes,"
                    " reason = 'shop unlinked' WHERE account_id ="
                    " (SELECT id FROM channel_accounts"
                    "  WHERE account_key = 'shopee-ntt-flores')"
                ),
                {"yes": True},
            )
            assert changed.rowcount == 1
    finally:
        engine.dispose()
    env = {**SCHEDULE, "IKMSYNC_SCHEDULER__CYCLE_SECONDS": "3600"}
    result = site.run("run", "--once", "--json", env=env, check=False)
    assert result.returncode == 1, result.stderr
    outcomes = {a["account"]: a for a in json.loads(result.stdout)["accounts"]}
    assert outcomes["shopee-ntt-flores"]["outcome"] == "needs_reauthorisation"
    assert outcomes["shopee-ntt-flores"]["error"] == "shop unlinked"
    assert outcomes["shopee-ntt-flores"]["runs"] == []
    assert outcomes["bukalapak-esmart-ikm"]["outcome"] == "succeeded"
    assert not [r for r in runs(site) if r[1] == "shopee-ntt-flores"]
    assert "schedule.account_needs_reauthorisation" in result.stderr


def test_the_operations_port_reports_health_readiness_and_runs(
    site: Site, daemons: Daemons
) -> None:
    port = closed_port()
    daemon = daemons.start({"IKMSYNC_SCHEDULER__OPS_PORT": str(port)})
    base = f"http://127.0.0.1:{port}"

    def answered(path: str) -> httpx.Response | None:
        try:
            return httpx.get(base + path, timeout=5)
        except httpx.TransportError:
            return None  # not listening yet

    ready = until(
        lambda: (r := answered("/readyz")) is not None and r.status_code == 200 and r,
        "the daemon ready",
    )
    assert ready.json()["ready"] is True
    health = answered("/healthz")
    assert health is not None
    assert health.status_code == 200
    until(lambda: daemons.cycled(outcome="succeeded"), "a scheduled cycle")
    metrics = until(
        lambda: (
            (r := answered("/metrics")) is not None
            and 'outcome="succeeded"' in r.text
            and r.text
        ),
        "a finished run counted",
    )
    assert "ikm_sync_runs_total" in metrics
    assert "ikm_sync_accounts{" in metrics
    assert "ikm_sync_marketplace_requests_total" in metrics
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0
    assert answered("/healthz") is None  # the port closes with the daemon
