"""``ikm-sync run``: the scheduler daemon, on the account-job runner.

Every enabled account's cycle (orders, then push) is due at its interval, its
reconcile report daily; due times live in the database (:class:`ScheduleStore`), so
several daemons on several machines share the accounts without knowing of each
other: a due account is claimed by exactly one, whose claim moves its next due time
forward in the same transaction (a missed turn is one catch-up run, never a backlog),
and its cycle then runs through :class:`~scheduler.runner.AccountJobRunner`, which
takes the account's lease and records the runs.

A failing account backs off exponentially (capped), keeps its schedule and shows why
(``last_error``); an account that needs re-authorisation is skipped, logged and
noted until an officer authorises it. Beside the claims, APScheduler runs a sweep
that closes runs left ``running`` by dead processes as ``abandoned`` and a token
refresh ahead of expiry, and the audit keeper: the sealer every ``seal_every``
(several daemons may seal at once: the chain's head lock makes them take turns) and
a signed checkpoint every ``checkpoint_every``; ``--once``
(:meth:`Daemon.run_once`, for cron) does the first three once.

Stopping (:meth:`Daemon.serve` returns once ``stop`` is requested): no more claims;
the whole stop takes at most ``stop_deadline``. The cycles in hand get the first
:data:`FINISH_SHARE` of it to finish, then are asked to stop at their next safe point
(runs end ``interrupted``; leases are released as each job ends); at the deadline
:meth:`Daemon.serve` returns whatever is still running (e.g. a job stuck in a
marketplace call), counting it, so that the front door can end the process within
the deadline (its leases then expire and the sweep closes its runs ``abandoned``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

import structlog

from core.audit.events import acting
from core.domain.accounts import ChannelAccount
from core.domain.authorisation import (
    AuthorisationState,
    AuthorisationStatus,
    authorisation_status,
)
from core.domain.ids import AccountId
from core.domain.sync import RunOutcome, SyncKind
from core.domain.triggers import SCHEDULE, actor_of
from core.ports import AccountWatch, ScheduleStore, TokenStore
from core.services.authorisation import DEFAULT_WARNING, check_authorisation
from core.services.orders import PullOptions
from core.services.reconcile import ReconcileReport
from core.services.runs import RunReport, error_text
from core.services.stopping import StopRequest
from scheduler.jobs import reconcile_job, run_cycle
from scheduler.runner import AccountJobRunner, JobContext
from scheduler.sweep import sweep_abandoned
from scheduler.timing import Backoff, Intervals

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger(__name__)

#: The scheduled jobs (``account_schedules.job``).
CYCLE = "cycle"
RECONCILE = "reconcile"
#: The trigger of every run the daemon starts.
TRIGGER = SCHEDULE
#: Who acts in everything the daemon does (:func:`actor_of` of its trigger).
ACTOR = actor_of(TRIGGER)
#: ``last_outcome`` of an account skipped until it is authorised again.
NEEDS_REAUTHORISATION = "needs_reauthorisation"
#: Of the stop deadline, the share the cycles in hand get to finish by themselves
#: before they are asked to stop at their next safe point.
FINISH_SHARE = 0.75
#: Outcomes that make ``ikm-sync run --once`` exit non-zero.
FAILING = frozenset({"failed", "partial", NEEDS_REAUTHORISATION})


class AuditKeeper(Protocol):
    """Keeps the audit chain: seals new events, writes signed checkpoints."""

    def seal(self) -> int:
        """Seal the events written since the last seal; how many."""
        ...

    def checkpoint(self) -> str | None:
        """Write a signed checkpoint of the chain's head; where, or None when no
        place is configured."""
        ...


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """What the daemon schedules and how (from ``[scheduler]``)."""

    cycles: Intervals
    reconcile: Intervals | None = None
    repair: bool = False
    backoff: Backoff = field(default_factory=Backoff)
    tick: timedelta = timedelta(seconds=5)
    sweep_every: timedelta = timedelta(minutes=1)
    token_every: timedelta = timedelta(minutes=10)
    token_margin: timedelta = timedelta(minutes=30)
    #: How far ahead of its end an authorisation is warned about.
    authorisation_warning: timedelta = DEFAULT_WARNING
    stop_deadline: timedelta = timedelta(minutes=1)
    pull: PullOptions | None = None
    #: A claimed job that could not run (its lease held elsewhere, e.g. by a
    #: manual ``sync cycle``, or a stop) is due again this soon, not a turn later.
    retry_unrun: timedelta = timedelta(seconds=30)
    #: How often the audit keeper seals, and writes a checkpoint.
    seal_every: timedelta = timedelta(seconds=30)
    checkpoint_every: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AccountResult:
    """How one claimed account's job went."""

    account: AccountId
    job: str
    outcome: str
    error: str = ""
    reports: tuple[RunReport, ...] = ()

    @property
    def failed(self) -> bool:
        """True when the account failed, partly failed or needs re-authorisation."""
        return self.outcome in FAILING


def outcome_of(reports: Sequence[RunReport]) -> tuple[str, str]:
    """The account's outcome over its runs (the worst of them) and the first
    error among them."""
    outcomes = {r.outcome for r in reports}
    error = next((r.error for r in reports if r.error), "")
    for worst in (
        RunOutcome.FAILED,
        RunOutcome.INTERRUPTED,
        RunOutcome.PARTIAL,
        RunOutcome.SUCCEEDED,
    ):
        if worst in outcomes:
            return worst.value, error
    return RunOutcome.SKIPPED.value, error


class Daemon:
    """Claims due accounts from the shared schedule and runs their jobs."""

    def __init__(
        self,
        runner: AccountJobRunner,
        schedule: ScheduleStore,
        tokens: TokenStore,
        accounts: Callable[[], Sequence[ChannelAccount]],
        options: DaemonOptions,
        *,
        watch: AccountWatch | None = None,
        audit: AuditKeeper | None = None,
    ) -> None:
        self.runner = runner
        self.audit = audit
        self.schedule = schedule
        self.tokens = tokens
        self.watch = watch
        self._load_accounts = accounts
        self.options = options
        self._accounts: dict[AccountId, ChannelAccount] = {}
        self._lock = threading.Lock()
        #: The jobs in hand and the account each works on.
        self._in_flight: dict[Future[AccountResult], AccountId] = {}
        self._claiming = threading.Event()
        #: Set when a worker frees up: the serving loop claims again at once
        #: instead of at the next tick (a tick bounds claims only while nothing
        #: finishes, e.g. while no account is due).
        self._freed = threading.Event()
        #: One claim at a time (the tick's thread and the serving loop).
        self._claim_lock = threading.Lock()

    # ------------------------------------------------------------ the schedule

    def jobs(self) -> list[tuple[str, Intervals]]:
        """The scheduled jobs and their intervals."""
        found = [(CYCLE, self.options.cycles)]
        if self.options.reconcile is not None:
            found.append((RECONCILE, self.options.reconcile))
        return found

    def refresh(self) -> None:
        """Reload the enabled accounts and give new ones a due time: a cycle at
        once (claims are bounded by the workers and every next turn is jittered,
        so a fleet spreads out by itself), a reconcile at a random point of its
        first interval."""
        enabled = {a.id: a for a in self._load_accounts() if a.enabled}
        with self._lock:
            self._accounts = enabled
        for job, intervals in self.jobs():
            first = {
                key: timedelta(0)
                if job == CYCLE
                else intervals.base(key) * intervals.draw()
                for key in enabled
            }
            added = self.schedule.ensure(job, first)
            if added:
                log.info("schedule.accounts_added", job=job, accounts=added)

    def claim(
        self, job: str, limit: int, exclude: Iterable[AccountId] = ()
    ) -> list[ChannelAccount]:
        """Up to ``limit`` due accounts for ``job``, claimed for this daemon."""
        intervals = dict(self.jobs())[job]
        keys = self.schedule.claim_due(job, intervals, limit, exclude)
        with self._lock:
            missing = [k for k in keys if k not in self._accounts]
        if missing:  # enabled since the last refresh (another machine's settings)
            self.refresh()
        with self._lock:
            return [self._accounts[k] for k in keys if k in self._accounts]

    def run_account(self, job: str, account: ChannelAccount) -> AccountResult:
        """One claimed account's job through the runner; the outcome goes into the
        schedule (success, back-off, or a note), as :data:`ACTOR`. Never raises."""
        with (
            acting(ACTOR),
            structlog.contextvars.bound_contextvars(
                account=account.id, marketplace=account.marketplace.value, schedule=job
            ),
        ):
            try:
                return self._run_account(job, account)
            except Exception as exc:  # the store failed around the job
                log.exception("schedule.account_crashed")
                return AccountResult(account.id, job, "failed", error_text(exc))

    def _run_account(self, job: str, account: ChannelAccount) -> AccountResult:
        tokens = self.tokens.load(account.id)
        if tokens.needs_reauthorisation:
            reason = tokens.reason or "the marketplace refused its authorisation"
            log.warning("schedule.account_needs_reauthorisation", reason=reason)
            self.schedule.noted(job, account.id, NEEDS_REAUTHORISATION, reason)
            return AccountResult(account.id, job, NEEDS_REAUTHORISATION, reason)
        reports = self._reports(job, account)
        outcome, error = outcome_of(reports)
        if outcome == RunOutcome.FAILED.value:
            failures = self.schedule.failed(
                job, account.id, outcome, error, self.options.backoff
            )
            log.error(
                "schedule.account_failed",
                failures=failures,
                backoff_seconds=self.options.backoff(failures).total_seconds(),
                error=error,
            )
        elif outcome in (RunOutcome.SUCCEEDED.value, RunOutcome.PARTIAL.value):
            self.schedule.succeeded(job, account.id, outcome)
        else:  # interrupted by a stop, or held by another process: not spent
            self.schedule.noted(
                job, account.id, outcome, error, due_in=self.options.retry_unrun
            )
        log.info("schedule.account_ran", outcome=outcome)
        return AccountResult(account.id, job, outcome, error, tuple(reports))

    def _reports(self, job: str, account: ChannelAccount) -> list[RunReport]:
        if job == CYCLE:
            cycle = run_cycle(
                self.runner, [account], trigger=TRIGGER, pull=self.options.pull
            )
            return [*cycle.pulls, *cycle.pushes]
        found: dict[str, ReconcileReport] = {}
        return self.runner.run(
            SyncKind.RECONCILE,
            [account],
            reconcile_job(TRIGGER, repair=self.options.repair, found=found),
        )

    # ------------------------------------------------------------ once (cron)

    def run_once(self, stop: StopRequest) -> list[AccountResult]:
        """What a daemon's ticks do, once, then return (``--once``, the cron
        entrance): close abandoned runs, refresh tokens expiring within the margin,
        and run every job due now, once per account."""
        self.refresh()
        self.sweep()
        self.refresh_tokens(lambda: not stop.requested)
        results: list[AccountResult] = []
        workers = self.runner.workers
        with ThreadPoolExecutor(workers, thread_name_prefix="cycle") as pool:
            for job, _ in self.jobs():
                seen: set[AccountId] = set()
                while not stop.requested:
                    claimed = self.claim(job, workers, seen)
                    if not claimed:
                        break
                    seen.update(a.id for a in claimed)
                    results += pool.map(
                        lambda a, j=job: self.run_account(j, a),
                        claimed,
                    )
        return results

    # ------------------------------------------------------------ the daemon

    def serve(self, stop: StopRequest) -> int:
        """Run until ``stop`` is requested, then stop as the module describes,
        within the stop deadline; returns how many jobs were still running at it
        (their threads are left behind: the caller ends the process)."""
        from apscheduler.schedulers.background import BackgroundScheduler

        options = self.options
        self.refresh()
        pool = ThreadPoolExecutor(self.runner.workers, thread_name_prefix="cycle")
        scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        now = datetime.now(UTC)
        scheduler.add_job(
            self._tick,
            "interval",
            args=(pool,),
            seconds=options.tick.total_seconds(),
            next_run_time=now,
            id="claim",
        )
        scheduler.add_job(
            self._sweep,
            "interval",
            seconds=options.sweep_every.total_seconds(),
            next_run_time=now,
            id="sweep",
        )
        scheduler.add_job(
            self._refresh_tokens,
            "interval",
            seconds=options.token_every.total_seconds(),
            id="tokens",
        )
        if self.audit is not None:
            scheduler.add_job(
                self.seal,
                "interval",
                seconds=options.seal_every.total_seconds(),
                next_run_time=now,
                id="seal",
            )
            scheduler.add_job(
                self.checkpoint,
                "interval",
                seconds=options.checkpoint_every.total_seconds(),
                next_run_time=now,
                id="checkpoint",
            )
        self._claiming.set()
        scheduler.start()
        log.info("daemon.started", holder=self.runner.options.holder)
        try:
            while not stop.requested:
                # a bounded wait, so a stop is seen within 0.2 s
                if self._freed.wait(0.2):
                    self._freed.clear()
                    self._tick(pool)
        finally:
            unfinished = self._stop(scheduler, pool, stop.reason or "stopped")
        return unfinished

    def _stop(
        self, scheduler: BackgroundScheduler, pool: ThreadPoolExecutor, reason: str
    ) -> int:
        """Stop within one ``stop_deadline`` from now; the jobs left running."""
        began = time.monotonic()
        deadline = self.options.stop_deadline.total_seconds()
        self._claiming.clear()  # the scheduler's own jobs end at their next check
        log.info("daemon.stopping", reason=reason)
        scheduler.shutdown(wait=False)
        with self._lock:
            in_hand = set(self._in_flight)
        _, pending = wait(in_hand, timeout=_left(began, deadline * FINISH_SHARE))
        if pending:
            log.warning("daemon.stop_deadline_near", accounts=len(pending))
            self.runner.stop.request(f"{reason}: stop deadline near")
            _, pending = wait(pending, timeout=_left(began, deadline))
        pool.shutdown(wait=False, cancel_futures=True)
        if pending:
            log.error("daemon.stop_deadline_passed", accounts=len(pending))
        else:
            self.sweep()
        log.info("daemon.stopped", unfinished=len(pending))
        return len(pending)

    def _tick(self, pool: ThreadPoolExecutor) -> None:
        """Claim due accounts for the workers that are free and start them."""
        with self._claim_lock:
            self._claim_into(pool)

    def _claim_into(self, pool: ThreadPoolExecutor) -> None:
        try:
            for job, _ in self.jobs():
                if not self._claiming.is_set():
                    return
                with self._lock:
                    free = self.runner.workers - len(self._in_flight)
                    busy = set(self._in_flight.values())
                if free <= 0:
                    return
                # never an account this daemon is already working on (due again
                # before its job ended: an interval shorter than the job)
                for account in self.claim(job, free, busy):
                    future = pool.submit(self.run_account, job, account)
                    with self._lock:
                        self._in_flight[future] = account.id
                    future.add_done_callback(self._done)
        except Exception:
            log.exception("daemon.claim_failed")

    def alive_problem(self) -> str | None:
        """``None`` while the daemon claims due accounts, otherwise why not (the
        operations port's readiness check)."""
        if not self._claiming.is_set():
            return "the scheduler is not claiming accounts (starting or stopping)"
        return None

    def _publish_counts(self) -> None:
        """Accounts due now, overdue (due for more than two ticks) and backing
        off, for the operations port's gauges."""
        from scheduler.ops import metrics

        now = self.runner.clock.now()
        late = now - 2 * self.options.tick
        due = overdue = backing_off = 0
        for entry in self.schedule.entries(CYCLE):
            if entry.backoff_until is not None and entry.backoff_until > now:
                backing_off += 1
            elif entry.next_due_at <= now:
                due += 1
                overdue += entry.next_due_at <= late
        metrics.set_accounts(due=due, overdue=overdue, backing_off=backing_off)
        if self.watch is None:
            return
        with self._lock:
            enabled = set(self._accounts)
        states = [
            authorisation_status(
                view.expires_at, now, self.options.authorisation_warning
            ).state
            for account, view in self.watch.authorisations().items()
            if account in enabled
        ]
        metrics.set_authorisations(
            expires_soon=states.count(AuthorisationState.EXPIRES_SOON),
            expired=states.count(AuthorisationState.EXPIRED),
        )

    def _done(self, future: Future[AccountResult]) -> None:
        with self._lock:
            self._in_flight.pop(future, None)
        self._freed.set()

    def sweep(self) -> list[int]:
        """Close the runs left ``running`` by dead processes as ``abandoned``
        (:mod:`scheduler.sweep`), as :data:`ACTOR`; returns their ids. Never
        raises."""
        try:
            with acting(ACTOR):
                return sweep_abandoned(
                    self.schedule,
                    self.runner.leases,
                    self.runner.options.holder,
                    self.runner.options.lease,
                )
        except Exception:
            log.exception("daemon.sweep_failed")
            return []

    def _sweep(self) -> None:
        self.sweep()
        try:
            if self._claiming.is_set():
                self.refresh()
            self._publish_counts()
        except Exception:
            log.exception("daemon.sweep_failed")

    def seal(self) -> int:
        """Seal the audit events written since the last seal; how many. Never
        raises (the next turn seals what this one could not)."""
        if self.audit is None:
            return 0
        try:
            sealed = self.audit.seal()
        except Exception as exc:  # noqa: BLE001  (the next turn tries again)
            log.warning("audit.seal_failed", error=error_text(exc))
            return 0
        if sealed:
            log.debug("audit.sealed", events=sealed)
        return sealed

    def checkpoint(self) -> str | None:
        """Write a signed checkpoint of the chain (see :class:`AuditKeeper`);
        where, or None. Never raises."""
        if self.audit is None:
            return None
        try:
            path = self.audit.checkpoint()
        except Exception as exc:  # noqa: BLE001  (the next turn tries again)
            log.error(  # noqa: TRY400  (the error text, never a trace with values)
                "audit.checkpoint_failed", error=error_text(exc)
            )
            return None
        if path is not None:
            log.info("audit.checkpoint_written", path=path)
        return path

    def _refresh_tokens(self) -> None:
        self.refresh_tokens(self._claiming.is_set)

    def refresh_tokens(self, going: Callable[[], bool]) -> None:
        """Refresh access tokens expiring within the margin, under each account's
        lease (the connector's own check refreshes them), and read, record and judge
        the authorisation's end in the same check
        (:func:`~core.services.authorisation.check_authorisation`), while
        ``going()``; an account another process holds is left to it. Never
        raises. What it saves is done by :data:`ACTOR`."""
        with acting(ACTOR):
            self._refresh_tokens_ahead(going)

    def _refresh_tokens_ahead(self, going: Callable[[], bool]) -> None:
        horizon = self.runner.clock.now() + self.options.token_margin
        with self._lock:
            accounts = list(self._accounts.values())
        for account in accounts:
            if not going():
                return
            try:
                tokens = self.tokens.load(account.id)
                expires = tokens.access_expires_at
                if tokens.needs_reauthorisation or expires is None or expires > horizon:
                    continue
                self.runner.run_exclusive(
                    account,
                    partial(
                        _check_authorisation,
                        tokens=self.tokens,
                        warning=self.options.authorisation_warning,
                    ),
                )
                log.info("tokens.refreshed_ahead", account=account.id)
            except Exception as exc:  # noqa: BLE001  (the next check tries again)
                log.warning(
                    "tokens.refresh_ahead_failed",
                    account=account.id,
                    error=error_text(exc),
                )


def _left(began: float, seconds: float) -> float:
    """What is left of ``seconds`` since ``began`` (monotonic), never negative."""
    return max(0.0, began + seconds - time.monotonic())


def _check_authorisation(
    context: JobContext, *, tokens: TokenStore, warning: timedelta
) -> AuthorisationStatus:
    return check_authorisation(
        context.connector,
        tokens,
        context.account.id,
        clock=context.clock,
        warning=warning,
    )
