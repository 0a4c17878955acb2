"""The account jobs: each runs exactly one ``core.services`` function for one
account, given the :class:`~scheduler.runner.JobContext` the runner built (lease
held, connector, fenced units of work). A sync cycle of several accounts is the
orders job for every account, then the push job for every account, so a sale on one
marketplace reaches the others in the same cycle; a cycle of one account (the
daemon's, per claimed account) runs both under one lease hold
(:func:`core.services.cycle.cycle_account`). Either way a cycle with nothing to do
records no run, only the account's in-step mark.

Who acts in a job's audit events follows from its trigger
(:func:`core.domain.triggers.actor_of`: ``system:scheduler``, the officer of a
manual run, ``webhook:<name>``), bound inside the job, in the worker thread that
runs it, and in a copy of that thread's context, so nothing a job binds outlives
it on the thread.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog

from core.audit.events import acting
from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.domain.orders import CancelReason
from core.domain.sync import RunOutcome, SyncKind
from core.domain.triggers import actor_of
from core.services.cycle import close_cycle, cycle_account
from core.services.orders import PullOptions, pull_orders
from core.services.oversold import CancelOutcome, cancel_oversold
from core.services.publish import Progress, push_account
from core.services.reconcile import ReconcileReport, reconcile_account
from core.services.runs import RunReport
from scheduler.runner import AccountJobRunner, Job, JobContext, MultiJob

log = structlog.get_logger(__name__)

T = TypeVar("T")


def as_triggered(trigger: str, work: Callable[[], T]) -> T:
    """``work`` with its trigger's actor bound (:func:`actor_of`), in a copy of
    this thread's context: the actor, and the run it binds, end with it."""

    def bound() -> T:
        with acting(actor_of(trigger)):
            return work()

    return contextvars.copy_context().run(bound)


def pull_job(
    trigger: str, options: PullOptions | None = None, *, defer_bookmark: bool = False
) -> Job:
    """Pull the account's orders since its bookmark and move their stock
    (``defer_bookmark``: a quiet pull leaves its bookmark to the cycle's push job,
    see :func:`core.services.cycle.close_cycle`)."""

    def job(context: JobContext) -> RunReport:
        return as_triggered(
            trigger,
            lambda: pull_orders(
                context.uow_factory,
                context.connector,
                context.account,
                context.clock,
                trigger=trigger,
                options=options or PullOptions(),
                stop=context.stop,
                defer_bookmark=defer_bookmark,
            ),
        )

    return job


def push_job(
    trigger: str,
    progress: Progress | None = None,
    *,
    pulled: Mapping[AccountId, RunReport] | None = None,
) -> Job:
    """Publish listings and push content, price and stock to the account; with
    ``pulled`` (this cycle's pulls), close the account's cycle after."""

    def job(context: JobContext) -> RunReport:
        return as_triggered(trigger, lambda: push(context))

    def push(context: JobContext) -> RunReport:
        pushed = push_account(
            context.uow_factory,
            context.connector,
            context.account,
            context.clock,
            trigger=trigger,
            progress=progress,
            stop=context.stop,
        )
        pull = None if pulled is None else pulled.get(context.account.id)
        if pull is not None:
            close_cycle(
                context.uow_factory,
                context.account,
                context.clock,
                pull,
                pushed,
                context.stop,
            )
        return pushed

    return job


def cycle_job(
    trigger: str, pull: PullOptions | None = None, progress: Progress | None = None
) -> MultiJob:
    """The account's order pull, then its push, under one lease hold."""

    def job(context: JobContext) -> Sequence[RunReport]:
        return as_triggered(
            trigger,
            lambda: cycle_account(
                context.uow_factory,
                context.connector,
                context.account,
                context.clock,
                trigger=trigger,
                pull=pull,
                progress=progress,
                stop=context.stop,
            ),
        )

    return job


def reconcile_job(
    trigger: str, *, repair: bool, found: dict[str, ReconcileReport]
) -> Job:
    """Compare the shop with the store (and repair it on request); the account's
    findings go into ``found``."""

    def job(context: JobContext) -> RunReport:
        return as_triggered(trigger, lambda: reconcile(context))

    def reconcile(context: JobContext) -> RunReport:
        report = reconcile_account(
            context.uow_factory,
            context.connector,
            context.account,
            context.clock,
            trigger=trigger,
            repair=repair,
            stop=context.stop,
        )
        found[context.account.id] = report
        return report.run

    return job


def cancel_order(
    runner: AccountJobRunner,
    account: ChannelAccount,
    external_id: str,
    *,
    reason: CancelReason,
    actor: str,
    trigger: str,
    note: str = "",
) -> CancelOutcome:
    """Cancel an oversold order on its marketplace under the account's lease
    (:func:`core.services.oversold.cancel_oversold`; its refusals are raised)."""
    return runner.run_exclusive(
        account,
        lambda context: as_triggered(
            trigger,
            lambda: cancel_oversold(
                context.uow_factory,
                context.connector,
                account,
                external_id,
                reason=reason,
                actor=actor,
                clock=context.clock,
                trigger=trigger,
                note=note,
            ),
        ),
    )


@dataclass(frozen=True, slots=True)
class CycleReport:
    """Every account's order pull and push, in account order."""

    pulls: list[RunReport]
    pushes: list[RunReport]

    @property
    def ok(self) -> bool:
        """True when every run that ran succeeded."""
        return all(
            r.outcome in (RunOutcome.SUCCEEDED, RunOutcome.SKIPPED)
            for r in [*self.pulls, *self.pushes]
        )


def run_cycle(
    runner: AccountJobRunner,
    accounts: Sequence[ChannelAccount],
    *,
    trigger: str,
    pull: PullOptions | None = None,
    progress: Progress | None = None,
) -> CycleReport:
    """Orders, then push, for every enabled account in ``accounts``: every pull
    before any push when there are several (a sale anywhere reaches every shop in
    the same cycle), under one lease hold when there is one."""
    enabled = [a for a in accounts if a.enabled]
    if len(enabled) == 1:
        pulled, pushed = runner.run_several(
            (SyncKind.ORDERS, SyncKind.PUBLISH),
            enabled[0],
            cycle_job(trigger, pull, progress),
        )
        pulls, pushes = [pulled], [pushed]
    else:
        pulls = runner.run(
            SyncKind.ORDERS, enabled, pull_job(trigger, pull, defer_bookmark=True)
        )
        by_account = {r.account: r for r in pulls}
        pushes = runner.run(
            SyncKind.PUBLISH, enabled, push_job(trigger, progress, pulled=by_account)
        )
    log.info(
        "sync_cycle.finished",
        accounts=len(enabled),
        pulls_failed=sum(r.outcome is RunOutcome.FAILED for r in pulls),
        pushes_failed=sum(r.outcome is RunOutcome.FAILED for r in pushes),
    )
    return CycleReport(pulls, pushes)
