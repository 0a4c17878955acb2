"""The account-job runner: the one way account work runs, whoever starts it.

Per account a job is thin: bind the log context → take the account's lease (one
writer per channel account, across processes and machines) → build the connector
through the factory the front door passes in → run exactly one service, which
records its run → release the lease. The command line, and later the daemon, webhooks
and console, all run account work through :class:`AccountJobRunner`, so none can skip
the lease or the run record.

Every unit of work a job opens is *fenced* with the job's lease (see
:mod:`core.store.leases`): once the lease has expired and passed to another holder,
the job's writes are refused (:class:`~core.errors.LeaseLostError`) and the job ends
``failed`` without overwriting anything, its run included. A job whose lease renewal
fails is asked to stop at its next safe point.

Accounts run concurrently in a bounded pool; one account's failure never stops the
others (an exception in a job becomes that account's ``failed`` report). An account
another holder has is skipped and reported, not waited for. Once the command is asked
to stop (:class:`~core.services.stopping.StopRequest`) each running job ends
``interrupted`` at its next safe point, releasing its lease, and no other job starts
(they are reported ``skipped``).

Each holding ends with one ``account.lease_held`` log line: holder, epoch, and when
it was taken and released by the machine's clock (who worked on an account, when).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import Context, copy_context
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome, SyncKind
from core.errors import AccountBusyError
from core.ports import Clock, Fence, LeaseStore, MarketplaceConnector
from core.services.runs import RunReport, UnitOfWorkFactory, error_text
from core.services.stopping import StopRequest
from scheduler.leases import LEASE_LOST, LeaseTerms, lease_holder, renewing, take
from scheduler.ops import metrics

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Builds an account's connector (the front door's wiring; closed after the job).
ConnectorFactory = Callable[[ChannelAccount], MarketplaceConnector]
#: Units of work whose commits check ``fence`` (see :mod:`core.store.uow`).
FencedUnits = Callable[[Fence], UnitOfWorkFactory]
#: What a job runs for one account.
Job = Callable[["JobContext"], RunReport]
#: A job of several runs under one lease hold (a cycle: orders, then push); one
#: report per kind it was run for, in that order.
MultiJob = Callable[["JobContext"], Sequence[RunReport]]

HELD_ELSEWHERE = "the account is held by another process"


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """Pool size, this process's lease name, lease terms, and the request that
    stops every job."""

    workers: int = 8
    holder: str = field(default_factory=lease_holder)
    lease: LeaseTerms = field(default_factory=LeaseTerms)
    stop: StopRequest = field(default_factory=StopRequest)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job gets: its account, connector, fenced units of work, clock, and a
    stop request of its own (requested on a signal or a lost lease)."""

    account: ChannelAccount
    connector: MarketplaceConnector
    uow_factory: UnitOfWorkFactory
    clock: Clock
    stop: StopRequest
    fence: Fence


class AccountJobRunner:
    """Runs account jobs under their leases, in a bounded pool."""

    def __init__(
        self,
        leases: LeaseStore,
        units: FencedUnits,
        connectors: ConnectorFactory,
        clock: Clock,
        options: RunnerOptions | None = None,
    ) -> None:
        self.leases = leases
        self.units = units
        self.connectors = connectors
        self.clock = clock
        self.options = options or RunnerOptions()

    @property
    def stop(self) -> StopRequest:
        """The request that stops every job of this runner."""
        return self.options.stop

    def run(
        self, kind: SyncKind, accounts: Sequence[ChannelAccount], job: Job
    ) -> list[RunReport]:
        """``job`` for every account in the pool; reports in account order."""
        return for_each_account(
            accounts, lambda account: self.run_one(kind, account, job), self.workers
        )

    @property
    def workers(self) -> int:
        """Accounts worked on at once."""
        return self.options.workers

    def run_one(self, kind: SyncKind, account: ChannelAccount, job: Job) -> RunReport:
        """``job`` for one account under its lease; any failure becomes the
        account's report. Nothing starts once the runner was asked to stop. Every
        report is counted in the metrics (:mod:`scheduler.ops.metrics`)."""
        return self.run_several((kind,), account, lambda context: [job(context)])[0]

    def run_several(
        self, kinds: Sequence[SyncKind], account: ChannelAccount, job: MultiJob
    ) -> list[RunReport]:
        """``job``'s runs (one per kind in ``kinds``) for one account under ONE
        lease hold, as :meth:`run_one` runs one; a failure outside the runs is
        every kind's report. The runs are timed together in the metrics."""
        started = time.monotonic()
        reports = self._run_several(kinds, account, job)
        seconds = time.monotonic() - started
        for kind, report in zip(kinds, reports, strict=True):
            metrics.record_run(kind, report, seconds)
        return reports

    def _run_several(
        self, kinds: Sequence[SyncKind], account: ChannelAccount, job: MultiJob
    ) -> list[RunReport]:
        with structlog.contextvars.bound_contextvars(
            account=account.id,
            marketplace=account.marketplace.value,
            job="+".join(kind.value for kind in kinds),
        ):
            if self.stop.requested:
                why = f"not started: stopping on {self.stop.reason}"
                return [_skipped(account, kind, why) for kind in kinds]
            try:
                with self.holding(account) as context:
                    if context is None:
                        log.warning("account.skipped", reason=HELD_ELSEWHERE)
                        return [_skipped(account, k, HELD_ELSEWHERE) for k in kinds]
                    reports = list(job(context))
            except Exception as exc:
                log.exception("account.crashed")
                return [
                    RunReport(account.id, k, 0, RunOutcome.FAILED, {}, error_text(exc))
                    for k in kinds
                ]
            if len(reports) != len(kinds):
                raise RuntimeError(f"{len(reports)} reports for {len(kinds)} runs")
            return reports

    def run_exclusive(
        self, account: ChannelAccount, work: Callable[[JobContext], T]
    ) -> T:
        """``work`` for one account under its lease, its errors raised to the caller
        (an officer's single action, e.g. cancelling an order).

        Raises:
            AccountBusyError: another holder has the account's lease.
        """
        with structlog.contextvars.bound_contextvars(
            account=account.id, marketplace=account.marketplace.value
        ):
            self.stop.check()
            with self.holding(account) as context:
                if context is None:
                    raise AccountBusyError(
                        f"account {account.id!r} is being worked on by another "
                        "process; try again when its run has finished"
                    )
                return work(context)

    @contextmanager
    def holding(self, account: ChannelAccount) -> Iterator[JobContext | None]:
        """The account's lease, renewed, and its connector for the block; ``None``
        while another holder has it. The lease is released and the connector
        closed after."""
        terms = self.options.lease
        holder = f"{self.options.holder}:{lease_holder().rpartition(':')[2]}"
        asked = time.monotonic()
        fence = take(self.leases, account.id, holder, terms)
        if fence is None:
            yield None
            return
        stop = StopRequest(parent=self.stop)
        # past this, unrenewed (a process paused, a database unanswering), the job
        # stops at its next safe point, before any further marketplace write
        stop.stop_at(asked + terms.trusted, LEASE_LOST)
        taken = time.time()  # the machine's clock, as log lines are stamped
        with renewing(self.leases, fence, terms, stop):
            connector = self.connectors(account)
            try:
                yield JobContext(
                    account, connector, self.units(fence), self.clock, stop, fence
                )
            finally:
                connector.close()
                # between taking and releasing: who held the account, and when
                log.info(
                    "account.lease_held",
                    holder=fence.holder,
                    epoch=fence.epoch,
                    taken_at=_stamp(taken),
                    released_at=_stamp(time.time()),
                    lost=stop.requested and stop.reason == LEASE_LOST,
                )


def _stamp(seconds: float) -> str:
    """``seconds`` since the epoch as an ISO 8601 UTC time, as log lines are
    stamped."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _skipped(account: ChannelAccount, kind: SyncKind, why: str) -> RunReport:
    return RunReport(account.id, kind, 0, RunOutcome.SKIPPED, {}, why)


def for_each_account(
    accounts: Sequence[ChannelAccount],
    work: Callable[[ChannelAccount], RunReport],
    workers: int,
) -> list[RunReport]:
    """``work`` for every account in a bounded pool; reports in account order.

    Each account's work runs in a copy of the caller's context (who acts, the
    log context): a worker thread starts from what the caller bound, and what one
    job binds (its run's id) never reaches the next job on that thread."""
    if not accounts:
        return []

    # one copy per account, taken here in the caller's thread
    jobs = [(copy_context(), account) for account in accounts]

    def isolated(job: tuple[Context, ChannelAccount]) -> RunReport:
        context, account = job
        return context.run(work, account)

    if workers <= 1 or len(accounts) == 1:
        return [isolated(job) for job in jobs]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(accounts)), thread_name_prefix="account"
    ) as pool:
        return list(pool.map(isolated, jobs))
