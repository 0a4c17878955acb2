"""One account's sync cycle: its order pull, then its push, then one mark.

A cycle with nothing to do — no order new or changed, nothing to publish or push —
records no run (:class:`~core.services.runs.RunRecorder` writes a run's row only once
the run does something). What it leaves instead is one row written: the account's
order bookmark moved to the pull's start, together with the mark of when the account
was last checked and found in step (``in_step_at``, shown by ``ikm-sync status``). A
pull that stored something moves its own bookmark as before; a cycle that did
anything leaves its runs and no in-step mark.
"""

from __future__ import annotations

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome, SyncKind
from core.ports import Clock, MarketplaceConnector
from core.services.orders import PullOptions, pull_orders
from core.services.publish import Progress, push_account
from core.services.runs import RunReport, UnitOfWorkFactory
from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)


def quiet(report: RunReport) -> bool:
    """True when the run succeeded having done nothing (it left no run row)."""
    return report.outcome is RunOutcome.SUCCEEDED and not report.run_id


def close_cycle(
    uow_factory: UnitOfWorkFactory,
    account: ChannelAccount,
    clock: Clock,
    pulled: RunReport,
    pushed: RunReport | None,
    stop: StopRequest | None = None,
) -> None:
    """Move the bookmark a quiet pull left to its cycle (``defer_bookmark``),
    marking the account in step when its push was quiet too. Nothing is written
    once ``stop`` is requested: the next pull reads the window again."""
    if not quiet(pulled) or pulled.window is None:
        return  # the pull moved its bookmark itself, or failed and keeps it
    if stop is not None and stop.requested:
        return
    in_step = pushed is not None and quiet(pushed)
    with uow_factory() as uow:
        uow.orders.set_bookmark(
            account.id, pulled.window.until, clock.now(), in_step=in_step
        )
        uow.commit()
    if in_step:
        log.info("sync_cycle.in_step", account=account.id)


def cycle_account(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    clock: Clock,
    *,
    trigger: str,
    pull: PullOptions | None = None,
    progress: Progress | None = None,
    stop: StopRequest | None = None,
) -> tuple[RunReport, RunReport]:
    """``account``'s order pull, then its push (so its own sales reach its stock
    in the same cycle), then :func:`close_cycle`; the two runs' reports. Once
    ``stop`` is requested the push does not start (reported ``skipped``)."""
    pulled = pull_orders(
        uow_factory,
        connector,
        account,
        clock,
        trigger=trigger,
        options=pull or PullOptions(),
        stop=stop,
        defer_bookmark=True,
    )
    if stop is not None and stop.requested:
        why = f"not started: stopping on {stop.reason}"
        skipped = RunReport(
            account.id, SyncKind.PUBLISH, 0, RunOutcome.SKIPPED, {}, why
        )
        return pulled, skipped
    pushed = push_account(
        uow_factory,
        connector,
        account,
        clock,
        trigger=trigger,
        progress=progress,
        stop=stop,
    )
    close_cycle(uow_factory, account, clock, pulled, pushed, stop)
    return pulled, pushed
