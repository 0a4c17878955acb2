"""The operations port: health, readiness and Prometheus metrics of account work
run through the account-job runner against the simulators."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from core.domain.accounts import Marketplace
from core.domain.ids import AccountId
from core.domain.sync import RunOutcome, SyncKind
from core.ports import Fence
from ikm_sync.bootstrap import Runtime
from scheduler.leases import LeaseTerms, ProcessIdentity, take
from scheduler.ops import metrics
from scheduler.ops.server import OpsServer, ReadyCheck, serve_ops
from tests.sync.world import World

pytestmark = pytest.mark.db


StartOps = Callable[[Mapping[str, ReadyCheck] | None], OpsServer]


@pytest.fixture
def ops() -> Iterator[StartOps]:
    """Starts operations ports on free ports; stops them after the test."""
    servers: list[OpsServer] = []

    def start(checks: Mapping[str, ReadyCheck] | None = None) -> OpsServer:
        server = serve_ops("127.0.0.1", 0, checks or {})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def scrape(server: OpsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample ``/metrics`` serves, by name and labels."""
    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    name: str,
    **labels: str,
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_healthz_answers_and_unknown_paths_are_not_found(ops: StartOps) -> None:
    server = ops(None)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert httpx.head(f"{server.url}/healthz").status_code == 200
    assert httpx.get(f"{server.url}/admin").status_code == 404
    assert httpx.post(f"{server.url}/healthz").status_code == 501


def test_readyz_is_ready_only_when_every_check_passes(ops: StartOps) -> None:
    alive = {"scheduler": True}

    def scheduler() -> str | None:
        return None if alive["scheduler"] else "the scheduler thread has stopped"

    def broken() -> str | None:
        raise RuntimeError("boom")

    server = ops({"scheduler": scheduler})
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"ready": True, "checks": ["scheduler"], "failing": {}}

    alive["scheduler"] = False
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == {"scheduler": "the scheduler thread has stopped"}

    failing = ops({"scheduler": lambda: None, "database": broken})
    answer = httpx.get(f"{failing.url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == {"database": "check failed: RuntimeError"}


def test_readyz_database_check_sees_a_migrated_and_an_empty_database(
    ops: StartOps, engine: sa.Engine, tmp_path: Path
) -> None:
    migrated = Runtime(engine, None, None)  # type: ignore[arg-type]
    assert migrated.schema_problem() is None
    empty = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        problem = Runtime(empty, None, None).schema_problem()  # type: ignore[arg-type]
        assert problem is not None
        assert "database is empty" in problem
        assert "ikm-sync db upgrade" in problem
        server = ops({"database": Runtime(empty, None, None).schema_problem})  # type: ignore[arg-type]
        answer = httpx.get(f"{server.url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["failing"] == {"database": problem}
    finally:
        empty.dispose()


def test_metrics_count_runs_requests_and_throttles_of_a_cycle(
    ops: StartOps, world: World
) -> None:
    server = ops(None)
    before = scrape(server)
    world.sims[Marketplace.SHOPEE].faults.rate_limit_next(2, retry_after=1)

    report = world.cycle()

    after = scrape(server)
    accounts = len(world.accounts)
    assert report.ok
    for kind in ("orders", "publish"):
        runs = value(
            after, "ikm_sync_runs_total", kind=kind, outcome="succeeded"
        ) - value(before, "ikm_sync_runs_total", kind=kind, outcome="succeeded")
        assert runs == accounts
        timed = value(after, "ikm_sync_run_duration_seconds_count", kind=kind) - value(
            before, "ikm_sync_run_duration_seconds_count", kind=kind
        )
        assert timed == accounts
    for marketplace in world.marketplaces:
        sent = value(
            after, "ikm_sync_marketplace_requests_total", marketplace=marketplace.value
        ) - value(
            before, "ikm_sync_marketplace_requests_total", marketplace=marketplace.value
        )
        assert sent > 0, marketplace
    throttled = {
        m.value: value(
            after, "ikm_sync_marketplace_throttles_total", marketplace=m.value
        )
        - value(before, "ikm_sync_marketplace_throttles_total", marketplace=m.value)
        for m in world.marketplaces
    }
    # only Shopee was throttled (twice); every other marketplace never
    assert throttled == {
        m.value: 2.0 if m == "shopee" else 0.0 for m in world.marketplaces
    }


def test_requests_are_not_counted_once_the_server_stopped(world: World) -> None:
    server = serve_ops("127.0.0.1", 0, {})
    server.stop()
    samples = metrics.REGISTRY.get_sample_value
    before = (
        samples("ikm_sync_marketplace_requests_total", {"marketplace": "shopee"}) or 0.0
    )
    world.cycle()
    after = (
        samples("ikm_sync_marketplace_requests_total", {"marketplace": "shopee"}) or 0.0
    )
    assert after == before


def test_a_failed_run_is_counted_as_failed(ops: StartOps, world: World) -> None:
    server = ops(None)
    before = scrape(server)
    shopee = world.account(AccountId("shopee-ntt"))

    def crash(_context: object) -> object:
        raise RuntimeError("the job broke")

    report = world.runner().run_one(
        SyncKind.ORDERS,
        shopee,
        crash,  # type: ignore[arg-type]
    )
    assert report.outcome is RunOutcome.FAILED
    after = scrape(server)
    failed = value(
        after, "ikm_sync_runs_total", kind="orders", outcome="failed"
    ) - value(before, "ikm_sync_runs_total", kind="orders", outcome="failed")
    assert failed == 1


def test_account_gauges_follow_the_daemon_and_refuse_negative_counts(
    ops: StartOps,
) -> None:
    server = ops(None)
    metrics.set_accounts(due=7, overdue=2, backing_off=1)
    samples = scrape(server)
    assert value(samples, "ikm_sync_accounts", state="due") == 7
    assert value(samples, "ikm_sync_accounts", state="overdue") == 2
    assert value(samples, "ikm_sync_accounts", state="backing_off") == 1
    with pytest.raises(ValueError, match="accounts overdue: expected a count >= 0"):
        metrics.set_accounts(due=1, overdue=-1, backing_off=0)
    assert value(scrape(server), "ikm_sync_accounts", state="due") == 7
    metrics.set_accounts(due=0, overdue=0, backing_off=0)


class _Leases:
    """A lease store whose lease is held by a process that is gone."""

    def __init__(self, previous: str) -> None:
        self.previous = previous

    def acquire(self, account: AccountId, holder: str, duration: timedelta) -> None:
        return None

    def holder(self, account: AccountId) -> str:
        return self.previous

    def take_over(
        self, account: AccountId, previous: str, holder: str, duration: timedelta
    ) -> Fence:
        return Fence(account, holder, 2)


def test_lease_takeovers_are_counted(ops: StartOps) -> None:
    server = ops(None)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    previous = ProcessIdentity.of(gone.pid).name  # not reaped before wait()
    gone.wait()
    before = value(scrape(server), "ikm_sync_lease_takeovers_total")
    fence = take(
        _Leases(f"{previous}:abcd1234"),  # type: ignore[arg-type]
        AccountId("shopee-ntt"),
        "me:1:x",
        LeaseTerms(),
    )
    assert fence is not None
    assert value(scrape(server), "ikm_sync_lease_takeovers_total") == before + 1
