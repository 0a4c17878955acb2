"""The account jobs: each runs exactly one ``core.services`` function for one
account, given the :class:`~scheduler.runner.JobContext` the runner built (lease
held, connector, fenced units of work). A sync cycle is the orders job for every
account, then the push job for every account, so a sale on one marketplace reaches
the others in the same cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.orders import CancelReason
from core.domain.sync import RunOutcome, SyncKind
from core.services.orders import PullOptions, pull_orders
from core.services.oversold import CancelOutcome, cancel_oversold
from core.services.publish import Progress, push_account
from core.services.reconcile import ReconcileReport, reconcile_account
from core.services.runs import RunReport
from scheduler.runner import AccountJobRunner, Job, JobContext

log = structlog.get_logger(__name__)


def pull_job(trigger: str, options: PullOptions | None = None) -> Job:
    """Pull the account's orders since its bookmark and move their stock."""

    def job(context: JobContext) -> RunReport:
        return pull_orders(
            context.uow_factory,
            context.connector,
            context.account,
            context.clock,
            trigger=trigger,
            options=options or PullOptions(),
            stop=context.stop,
        )

    return job


def push_job(trigger: str, progress: Progress | None = None) -> Job:
    """Publish listings and push content, price and stock to the account."""

    def job(context: JobContext) -> RunReport:
        return push_account(
            context.uow_factory,
            context.connector,
            context.account,
            context.clock,
            trigger=trigger,
            progress=progress,
            stop=context.stop,
        )

    return job


def reconcile_job(
    trigger: str, *, repair: bool, found: dict[str, ReconcileReport]
) -> Job:
    """Compare the shop with the store (and repair it on request); the account's
    findings go into ``found``."""

    def job(context: JobContext) -> RunReport:
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
        lambda context: cancel_oversold(
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
    """Orders, then push, for every enabled account in ``accounts``."""
    enabled = [a for a in accounts if a.enabled]
    pulls = runner.run(SyncKind.ORDERS, enabled, pull_job(trigger, pull))
    pushes = runner.run(SyncKind.PUBLISH, enabled, push_job(trigger, progress))
    log.info(
        "sync_cycle.finished",
        accounts=len(enabled),
        pulls_failed=sum(r.outcome is RunOutcome.FAILED for r in pulls),
        pushes_failed=sum(r.outcome is RunOutcome.FAILED for r in pushes),
    )
    return CycleReport(pulls, pushes)
