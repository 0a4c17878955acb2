"""The daemon's decisions, on an in-memory schedule driven by a fake clock: only due
accounts run, each once per pass; a failure backs the account off and is recorded
with its reason; an account needing re-authorisation is skipped and noted, never run;
one account's failure never stops the others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import AccountId, ProducerCode
from core.domain.sync import RunOutcome, SyncKind
from core.ports import Fence, ScheduleEntry, TokenSet
from core.services.runs import RunReport
from core.services.stopping import StopRequest
from scheduler.daemon import Daemon, DaemonOptions, outcome_of
from scheduler.runner import (
    HELD_ELSEWHERE,
    AccountJobRunner,
    Job,
    MultiJob,
    RunnerOptions,
)
from scheduler.timing import Backoff, Intervals
from tests.fakes import FakeClock, FakeTokenStore

KOPI_CO = ProducerCode("IKM-NTT-001")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
OK, BROKEN, REVOKED = (AccountId(f"shopee-{n}") for n in ("ok", "broken", "revoked"))
ACCOUNTS = [
    ChannelAccount(key, Marketplace.SHOPEE, str(n), (KOPI_CO,))
    for n, key in enumerate((OK, BROKEN, REVOKED))
]


@dataclass
class _Row:
    due: datetime
    failures: int = 0
    backoff_until: datetime | None = None
    outcome: str | None = None
    error: str | None = None


@dataclass
class ClockedSchedule:
    """``ScheduleStore``'s rules in memory, on a fake clock."""

    clock: FakeClock
    rows: dict[AccountId, _Row] = field(default_factory=dict)

    def ensure(self, job: str, first_due: Mapping[AccountId, timedelta]) -> int:
        new = {k: _Row(self.clock.now() + d) for k, d in first_due.items()}
        added = {k: r for k, r in new.items() if k not in self.rows}
        self.rows.update(added)
        return len(added)

    def claim_due(
        self,
        job: str,
        interval: Callable[[AccountId], timedelta],
        limit: int,
        exclude: Iterable[AccountId] = (),
    ) -> list[AccountId]:
        now, skip = self.clock.now(), set(exclude)
        due = sorted(
            (r.due, k)
            for k, r in self.rows.items()
            if r.due <= now
            and k not in skip
            and (r.backoff_until is None or r.backoff_until <= now)
        )[:limit]
        for _, key in due:
            self.rows[key].due = now + interval(key)
        return [k for _, k in due]

    def succeeded(self, job: str, account: AccountId, outcome: str) -> None:
        row = self.rows[account]
        row.failures, row.backoff_until, row.outcome, row.error = 0, None, outcome, None

    def failed(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        backoff: Callable[[int], timedelta],
    ) -> int:
        row = self.rows[account]
        row.failures += 1
        row.backoff_until = self.clock.now() + backoff(row.failures)
        row.outcome, row.error = outcome, error
        return row.failures

    def noted(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        due_in: timedelta | None = None,
    ) -> None:
        row = self.rows[account]
        row.outcome, row.error = outcome, error
        if due_in is not None:
            row.due = min(row.due, self.clock.now() + due_in)

    def entries(self, job: str) -> list[ScheduleEntry]:
        return []

    abandoned: list[AccountId] = field(default_factory=list)
    closed: list[Fence] = field(default_factory=list)

    def unleased_running(self) -> list[AccountId]:
        return [a for a in self.abandoned if a not in {f.account for f in self.closed}]

    def close_abandoned(self, fence: Fence) -> list[int]:
        self.closed.append(fence)
        return [len(self.closed)]


class FreeLeases:
    """A lease store in which every lease is free."""

    def __init__(self) -> None:
        self.released: list[Fence] = []

    def acquire(
        self, account: AccountId, holder: str, duration: timedelta
    ) -> Fence | None:
        return Fence(account, holder, 7)

    def release(self, fence: Fence) -> None:
        self.released.append(fence)


class ScriptedRunner:
    """The runner's surface the daemon uses; every account's run ends as scripted
    (a failure for ``BROKEN``)."""

    workers = 2

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.stop = StopRequest()
        self.ran: list[tuple[SyncKind, AccountId]] = []
        self.checked: list[AccountId] = []
        self.script: dict[AccountId, RunReport] = {}
        self.clock = clock or FakeClock()
        self.options = RunnerOptions(holder="test:1:a")
        self.leases = FreeLeases()

    def run_exclusive(
        self, account: ChannelAccount, work: Callable[[object], object]
    ) -> object:
        self.checked.append(account.id)  # the connector's check refreshes tokens
        return None

    def run(
        self, kind: SyncKind, accounts: Sequence[ChannelAccount], job: Job
    ) -> list[RunReport]:
        reports = []
        for account in accounts:
            if account.id in self.script:
                reports.append(self.script[account.id])
                continue
            self.ran.append((kind, account.id))
            failed = account.id == BROKEN
            reports.append(
                RunReport(
                    account.id,
                    kind,
                    len(self.ran),
                    RunOutcome.FAILED if failed else RunOutcome.SUCCEEDED,
                    {},
                    "marketplace answered 500" if failed else "",
                )
            )
        return reports

    def run_several(
        self, kinds: Sequence[SyncKind], account: ChannelAccount, job: MultiJob
    ) -> list[RunReport]:
        """One account's cycle (its runs under one lease hold)."""
        return [self.run(kind, [account], lambda _: job(_)[0])[0] for kind in kinds]


@pytest.fixture
def world() -> tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock]:
    clock = FakeClock()
    schedule = ClockedSchedule(clock)
    runner = ScriptedRunner(clock)
    tokens = FakeTokenStore()
    tokens.tokens[REVOKED] = TokenSet(needs_reauthorisation=True, reason="revoked")
    tokens.tokens[OK] = TokenSet(access_expires_at=clock.now() + 20 * MINUTE)
    tokens.tokens[BROKEN] = TokenSet(access_expires_at=clock.now() + 2 * HOUR)
    daemon = Daemon(
        cast(AccountJobRunner, runner),
        schedule,
        tokens,
        lambda: ACCOUNTS,
        DaemonOptions(
            cycles=Intervals(5 * MINUTE),
            backoff=Backoff(base=MINUTE, cap=4 * MINUTE),
        ),
    )
    return daemon, schedule, runner, clock


def ran_accounts(runner: ScriptedRunner) -> list[AccountId]:
    return sorted({account for _, account in runner.ran})


def test_a_pass_runs_each_due_account_once_and_records_why_each_did_not_succeed(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    daemon, schedule, runner, _ = world
    results = {r.account: r for r in daemon.run_once(StopRequest())}

    assert sorted(results) == sorted([OK, BROKEN, REVOKED])
    # orders then push for the runnable accounts; the revoked one is never run
    assert sorted(runner.ran) == sorted(
        (kind, key)
        for key in (OK, BROKEN)
        for kind in (SyncKind.ORDERS, SyncKind.PUBLISH)
    )
    assert (results[OK].outcome, results[OK].failed) == ("succeeded", False)
    assert (results[BROKEN].outcome, results[BROKEN].failed) == ("failed", True)
    assert results[REVOKED].outcome == "needs_reauthorisation"
    assert results[REVOKED].failed
    assert schedule.rows[BROKEN].error == "marketplace answered 500"
    assert schedule.rows[BROKEN].failures == 1
    assert schedule.rows[REVOKED].error == "revoked"
    assert schedule.rows[REVOKED].failures == 0
    assert schedule.rows[OK].failures == 0


def test_a_pass_also_sweeps_abandoned_runs_and_refreshes_tokens_ahead(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    """``run --once`` is the cron entrance: equivalent to a daemon's ticks."""
    daemon, schedule, runner, _ = world
    schedule.abandoned = [BROKEN]
    daemon.run_once(StopRequest())
    assert [f.account for f in schedule.closed] == [BROKEN]  # under a lease of its own
    assert [f.account for f in runner.leases.released] == [BROKEN]
    # OK's token expires within the 30-minute margin; BROKEN's later; REVOKED's
    # needs an officer
    assert runner.checked == [OK]


def test_a_claim_whose_lease_is_held_elsewhere_is_retried_soon_not_spent(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    """An account claimed while, e.g., a manual ``sync cycle`` holds its lease is
    due again shortly instead of a whole interval later."""
    daemon, schedule, runner, clock = world
    busy = RunReport(OK, SyncKind.ORDERS, 0, RunOutcome.SKIPPED, {}, HELD_ELSEWHERE)
    runner.script[OK] = busy
    daemon.run_once(StopRequest())
    assert schedule.rows[OK].outcome == "skipped"
    assert schedule.rows[OK].error == HELD_ELSEWHERE
    assert schedule.rows[OK].due == clock.now() + timedelta(seconds=30)
    assert schedule.rows[BROKEN].due == clock.now() + 5 * MINUTE  # ran: a turn

    del runner.script[OK]
    runner.ran.clear()
    clock.advance(seconds=30)
    daemon.run_once(StopRequest())
    assert ran_accounts(runner) == [OK]
    assert schedule.rows[OK].outcome == "succeeded"
    assert schedule.rows[OK].due == clock.now() + 5 * MINUTE


def test_nothing_runs_before_its_turn_and_a_failing_account_waits_out_its_backoff(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    daemon, schedule, runner, clock = world
    daemon.run_once(StopRequest())
    runner.ran.clear()

    clock.advance(minutes=4)  # nobody's turn yet
    assert daemon.run_once(StopRequest()) == []

    clock.advance(minutes=1)  # every turn is due; BROKEN backs off 1 minute (passed)
    assert ran_accounts(runner) == []
    daemon.run_once(StopRequest())
    assert ran_accounts(runner) == [BROKEN, OK]
    assert schedule.rows[BROKEN].failures == 2

    runner.ran.clear()
    clock.advance(minutes=5)  # OK's turn; BROKEN backs off 2 minutes from its turn
    daemon.run_once(StopRequest())
    assert ran_accounts(runner) == [BROKEN, OK]
    waits = []
    for _ in range(3):
        row = schedule.rows[BROKEN]
        assert row.backoff_until is not None
        waits.append(row.backoff_until - clock.now())
        clock.advance(minutes=5)
        daemon.run_once(StopRequest())
    assert waits == [4 * MINUTE, 4 * MINUTE, 4 * MINUTE]  # capped
    assert schedule.rows[BROKEN].failures == 6


def test_a_missed_stretch_is_one_catch_up_run(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    daemon, _, runner, clock = world
    daemon.run_once(StopRequest())
    runner.ran.clear()
    clock.advance(hours=10)  # 120 turns missed
    daemon.run_once(StopRequest())
    assert [k for k in runner.ran if k[1] == OK] == [
        (SyncKind.ORDERS, OK),
        (SyncKind.PUBLISH, OK),
    ]


def test_a_stopped_pass_claims_nothing(
    world: tuple[Daemon, ClockedSchedule, ScriptedRunner, FakeClock],
) -> None:
    daemon, schedule, runner, _ = world
    stop = StopRequest()
    stop.request("SIGTERM")
    assert daemon.run_once(stop) == []
    assert runner.ran == []
    assert all(row.outcome is None for row in schedule.rows.values())


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([RunOutcome.SUCCEEDED, RunOutcome.FAILED], "failed"),
        ([RunOutcome.PARTIAL, RunOutcome.SUCCEEDED], "partial"),
        ([RunOutcome.INTERRUPTED, RunOutcome.SKIPPED], "interrupted"),
        ([RunOutcome.SKIPPED, RunOutcome.SKIPPED], "skipped"),
        ([RunOutcome.SUCCEEDED, RunOutcome.SKIPPED], "succeeded"),
    ],
)
def test_an_account_outcome_is_the_worst_of_its_runs(
    outcomes: list[RunOutcome], expected: str
) -> None:
    reports = [
        RunReport(OK, SyncKind.ORDERS, n, outcome, {}, f"e{n}" if n else "")
        for n, outcome in enumerate(outcomes)
    ]
    assert outcome_of(reports)[0] == expected


class BlockingRunner(ScriptedRunner):
    """A runner whose account job runs until the runner is asked to stop (then
    ends ``interrupted``), or until ``release`` is set (then ``succeeded``)."""

    workers = 1

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()
        self.options = RunnerOptions(holder="test:1:a")

    def run(
        self, kind: SyncKind, accounts: Sequence[ChannelAccount], job: Job
    ) -> list[RunReport]:
        self.started.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # bounded: the test fails on a hang
            if self.stop.requested or self.release.is_set():
                break
            self.release.wait(0.01)
        outcome = (
            RunOutcome.INTERRUPTED if self.stop.requested else RunOutcome.SUCCEEDED
        )
        self.ran.append((kind, accounts[0].id))
        return [RunReport(accounts[0].id, kind, 1, outcome, {})]


def serving(
    runner: BlockingRunner, schedule: ClockedSchedule, deadline: timedelta
) -> tuple[Daemon, threading.Thread, StopRequest]:
    daemon = Daemon(
        cast(AccountJobRunner, runner),
        schedule,
        FakeTokenStore(),
        lambda: ACCOUNTS[:1],
        DaemonOptions(
            cycles=Intervals(5 * MINUTE),
            tick=timedelta(milliseconds=10),
            sweep_every=timedelta(hours=1),
            stop_deadline=deadline,
        ),
    )
    daemon._sweep = lambda: None  # type: ignore[method-assign]  # no lease store here
    stop = StopRequest()
    thread = threading.Thread(target=daemon.serve, args=(stop,))
    thread.start()
    assert runner.started.wait(30)
    return daemon, thread, stop


def test_a_stop_lets_the_cycle_in_hand_finish_within_the_deadline() -> None:
    runner, schedule = BlockingRunner(), ClockedSchedule(FakeClock())
    _, thread, stop = serving(runner, schedule, timedelta(seconds=30))
    stop.request("SIGTERM")
    runner.release.set()  # the cycle ends by itself within the deadline
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert not runner.stop.requested
    assert schedule.rows[OK].outcome == "succeeded"
    assert len(runner.ran) == 2  # orders, then push: no further claim


def test_a_cycle_outlasting_the_stop_deadline_is_interrupted() -> None:
    runner, schedule = BlockingRunner(), ClockedSchedule(FakeClock())
    # the job is asked to stop after three quarters of the deadline, and stops
    # within 10 ms: well before the deadline
    _, thread, stop = serving(runner, schedule, timedelta(seconds=2))
    started = time.monotonic()
    stop.request("SIGTERM")
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert time.monotonic() - started < 10
    assert runner.stop.requested
    assert schedule.rows[OK].outcome == "interrupted"


class OneWorkerRunner(ScriptedRunner):
    """A runner with a single worker; every job ends at once. ``all_ran`` is set
    once every account has run."""

    workers = 1

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.all_ran = threading.Event()

    def run(
        self, kind: SyncKind, accounts: Sequence[ChannelAccount], job: Job
    ) -> list[RunReport]:
        reports = super().run(kind, accounts, job)
        if len(ran_accounts(self)) == len(ACCOUNTS):
            self.all_ran.set()
        return reports


def test_a_freed_worker_claims_the_next_due_account_without_waiting_for_a_tick() -> (
    None
):
    """Throughput is bounded by the workers, not by the tick: with one worker and a
    tick of an hour, three due accounts all run, one after another."""
    clock = FakeClock()
    runner, schedule = OneWorkerRunner(clock), ClockedSchedule(clock)
    daemon = Daemon(
        cast(AccountJobRunner, runner),
        schedule,
        FakeTokenStore(),
        lambda: ACCOUNTS,
        DaemonOptions(
            cycles=Intervals(5 * MINUTE),
            tick=HOUR,
            sweep_every=HOUR,
        ),
    )
    daemon._sweep = lambda: None  # type: ignore[method-assign]  # no lease store here
    stop = StopRequest()
    thread = threading.Thread(target=daemon.serve, args=(stop,))
    thread.start()
    try:
        everyone = runner.all_ran.wait(30)
    finally:
        stop.request("test over")
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert everyone, ran_accounts(runner)
    assert ran_accounts(runner) == sorted(a.id for a in ACCOUNTS)


def test_an_account_in_hand_is_not_claimed_again_while_its_job_runs() -> None:
    """Due again before its job ended (an interval shorter than the job): the
    daemon does not claim it a second time for another of its workers."""

    class TwoWorkers(BlockingRunner):
        workers = 2

    runner, schedule = TwoWorkers(), ClockedSchedule(FakeClock())
    claimed: list[list[AccountId]] = []
    claim_due = schedule.claim_due

    def recorded(*args: Any, **kwargs: Any) -> list[AccountId]:
        keys = claim_due(*args, **kwargs)
        claimed.append(keys)
        return keys

    schedule.claim_due = recorded  # type: ignore[method-assign]
    daemon = Daemon(
        cast(AccountJobRunner, runner),
        schedule,
        FakeTokenStore(),
        lambda: ACCOUNTS[:1],
        DaemonOptions(cycles=Intervals(timedelta(0))),
    )
    daemon.refresh()
    daemon._claiming.set()
    with ThreadPoolExecutor(2) as pool:
        daemon._tick(pool)
        assert runner.started.wait(30)
        daemon._tick(pool)  # the account is due, and in hand
        runner.release.set()
    assert claimed == [[OK], []]
