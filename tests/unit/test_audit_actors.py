"""Who acts: a job's actor follows from its trigger, in the worker thread that runs
it, and nothing a job binds outlives it on that thread; the daemon acts as
``system:scheduler`` in everything it does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from core.audit.events import Acting, acting, bind_run, current
from core.domain.accounts import ChannelAccount
from core.domain.sync import SyncKind
from core.domain.triggers import SCHEDULE, UNKNOWN_ACTOR, actor_of, manual, webhook
from core.ports import Fence
from core.services.runs import RunReport
from core.services.stopping import StopRequest
from scheduler.daemon import Daemon, DaemonOptions
from scheduler.jobs import as_triggered
from scheduler.runner import AccountJobRunner, Job, MultiJob
from scheduler.timing import Intervals
from tests.fakes import FakeClock, FakeTokenStore
from tests.unit.test_daemon import (
    ACCOUNTS,
    MINUTE,
    OK,
    ClockedSchedule,
    ScriptedRunner,
)


@pytest.mark.parametrize(
    ("trigger", "actor"),
    [
        (SCHEDULE, "system:scheduler"),
        (manual("officer:ani"), "officer:ani"),
        (manual("cli:budi"), "cli:budi"),
        (webhook("shopee"), "webhook:shopee"),
        ("something-else", UNKNOWN_ACTOR),
    ],
)
def test_the_actor_of_a_job_follows_from_its_trigger(trigger: str, actor: str) -> None:
    assert actor_of(trigger) == actor


def test_a_job_acts_as_its_trigger_in_its_worker_thread_and_leaves_nothing_behind() -> (
    None
):
    def scheduled_work() -> Acting:
        bind_run(41)  # the run the job records binds itself
        return current()

    with (
        acting("officer:ani"),  # the caller's binding does not reach the worker
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        first = pool.submit(as_triggered, SCHEDULE, scheduled_work).result()
        manual_run = pool.submit(as_triggered, manual("officer:budi"), current).result()
        after = pool.submit(current).result()  # the same worker thread
    assert (first.actor, first.run_id) == ("system:scheduler", 41)
    assert (manual_run.actor, manual_run.run_id) == ("officer:budi", None)
    assert after == Acting()


class ActorRunner(ScriptedRunner):
    """Notes who acts when the daemon runs a job, refreshes tokens or sweeps."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.actors: list[tuple[str, str]] = []

    def run(
        self, kind: SyncKind, accounts: Sequence[ChannelAccount], job: Job
    ) -> list[RunReport]:
        self.actors.append((kind.value, current().actor))
        return super().run(kind, accounts, job)

    def run_exclusive(
        self, account: ChannelAccount, work: Callable[[object], object]
    ) -> object:
        self.actors.append(("refresh", current().actor))
        return super().run_exclusive(account, work)

    def run_several(
        self, kinds: Sequence[SyncKind], account: ChannelAccount, job: MultiJob
    ) -> list[RunReport]:
        return super().run_several(kinds, account, job)


class ActorSchedule(ClockedSchedule):
    def __init__(self, clock: FakeClock, actors: list[tuple[str, str]]) -> None:
        super().__init__(clock)
        self.actors = actors

    def close_abandoned(self, fence: Fence) -> list[int]:
        self.actors.append(("sweep", current().actor))
        return super().close_abandoned(fence)


def test_the_daemon_acts_as_the_scheduler_in_its_jobs_sweeps_and_refreshes() -> None:
    from datetime import timedelta

    from core.ports import TokenSet

    clock = FakeClock()
    runner = ActorRunner(clock)
    schedule = ActorSchedule(clock, runner.actors)
    schedule.abandoned = [OK]
    tokens = FakeTokenStore()
    for account in ACCOUNTS:
        tokens.tokens[account.id] = TokenSet(
            access_expires_at=clock.now() + timedelta(minutes=5)
        )
    daemon = Daemon(
        cast(AccountJobRunner, runner),
        schedule,
        tokens,
        lambda: ACCOUNTS,
        DaemonOptions(cycles=Intervals(5 * MINUTE)),
    )
    with acting("officer:ani"):  # whoever started the process
        daemon.run_once(StopRequest())
    kinds = {kind for kind, _ in runner.actors}
    assert {"sweep", "refresh", "orders", "publish"} <= kinds
    assert {actor for _, actor in runner.actors} == {"system:scheduler"}
