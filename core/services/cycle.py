"""One sync cycle over many accounts: pull every account's orders, then push every
account, so a sale on one marketplace reaches the others in the same cycle.

Accounts run concurrently in a bounded pool, each within its own rate budget; one
slow or failing shop never holds the others. Each account's work holds the account's
lease (one writer per account, across processes): an account another process holds is
skipped and reported, not waited for. A lease whose holder was a process of this
machine that no longer runs (killed, crashed) is taken over at once.

A cycle asked to stop (:class:`~core.services.stopping.StopRequest`) ends each
running account's run ``interrupted`` at its next safe point, releasing its lease,
and starts no other account (they are reported ``skipped``).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome, SyncKind
from core.ports import Clock, MarketplaceConnector
from core.services.orders import PullOptions, pull_orders
from core.services.publish import Progress, push_account
from core.services.runs import RunReport, UnitOfWorkFactory, error_text
from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)

ConnectorFactory = Callable[[ChannelAccount], MarketplaceConnector]

#: How long a lease lasts without renewal, and how often a running account renews it.
LEASE = timedelta(minutes=15)
RENEW_EVERY = timedelta(minutes=5)


def lease_holder() -> str:
    """A name for this process, unique across machines: ``host:pid:nonce``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` names a process of this machine that no longer runs
    (killed, crashed): its lease can be taken over at once instead of waiting for
    it to expire. Holders of other machines are never judged."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@dataclass(frozen=True, slots=True)
class CycleOptions:
    """How a cycle runs: pool size, order pull reach, this process's lease name, and
    the request that stops it."""

    workers: int = 8
    pull: PullOptions = field(default_factory=PullOptions)
    holder: str = field(default_factory=lease_holder)
    stop: StopRequest = field(default_factory=StopRequest)


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


@contextmanager
def leased(
    uow_factory: UnitOfWorkFactory,
    account: ChannelAccount,
    clock: Clock,
    holder: str,
) -> Iterator[bool]:
    """Hold ``account``'s lease as ``holder`` for the block, renewed while it runs
    and released after it; yields False (and holds nothing) when another live
    process holds it."""
    with uow_factory() as uow:
        now = clock.now()
        held = uow.leases.acquire(account.id, holder, now, now + LEASE)
        if not held:
            previous = uow.leases.holder(account.id)
            if previous is not None and holder_is_gone(previous):
                held = uow.leases.take_over(account.id, previous, holder, now + LEASE)
                if held:
                    log.warning("account.lease_taken_over", previous=previous)
    if not held:
        yield False
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew,
        args=(uow_factory, account, clock, holder, stop),
        name=f"lease-{account.id}",
        daemon=True,
    )
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        with uow_factory() as uow:
            uow.leases.release(account.id, holder)


def _renew(
    uow_factory: UnitOfWorkFactory,
    account: ChannelAccount,
    clock: Clock,
    holder: str,
    stop: threading.Event,
) -> None:
    """Keep renewing the lease while the account's work runs (a publish of a large
    catalogue under rate limits can outlast one lease)."""
    while not stop.wait(RENEW_EVERY.total_seconds()):
        try:
            with uow_factory() as uow:
                now = clock.now()
                kept = uow.leases.acquire(account.id, holder, now, now + LEASE)
        except Exception:  # the store is unreachable: try again next time
            log.exception("account.lease_renewal_failed", account=account.id)
            continue
        if not kept:
            log.error("account.lease_lost", account=account.id)
            return


def _guarded(
    kind: SyncKind,
    account: ChannelAccount,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    options: CycleOptions,
    work: Callable[[], RunReport],
) -> RunReport:
    """Run ``work`` for one account under its lease; any failure becomes the
    account's report, so the other accounts carry on. Nothing starts once the
    cycle was asked to stop."""
    holder = options.holder
    with structlog.contextvars.bound_contextvars(
        account=account.id, marketplace=account.marketplace.value, job=kind.value
    ):
        if options.stop.requested:
            return RunReport(
                account.id,
                kind,
                0,
                RunOutcome.SKIPPED,
                {},
                f"not started: stopping on {options.stop.reason}",
            )
        try:
            with leased(uow_factory, account, clock, holder) as held:
                if not held:
                    log.warning("account.skipped", reason="held by another process")
                    return RunReport(
                        account.id,
                        kind,
                        0,
                        RunOutcome.SKIPPED,
                        {},
                        "the account is held by another process",
                    )
                return work()
        except Exception as exc:
            log.exception("account.crashed")
            return RunReport(
                account.id, kind, 0, RunOutcome.FAILED, {}, error_text(exc)
            )


def for_each_account(
    accounts: Sequence[ChannelAccount],
    work: Callable[[ChannelAccount], RunReport],
    workers: int,
) -> list[RunReport]:
    """``work`` for every account in a bounded pool; reports in account order."""
    if not accounts:
        return []
    if workers <= 1 or len(accounts) == 1:
        return [work(account) for account in accounts]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(accounts)), thread_name_prefix="account"
    ) as pool:
        return list(pool.map(work, accounts))


def _with_connector(
    connectors: ConnectorFactory,
    account: ChannelAccount,
    use: Callable[[MarketplaceConnector], RunReport],
) -> RunReport:
    connector = connectors(account)
    try:
        return use(connector)
    finally:
        connector.close()


def pull_all(
    uow_factory: UnitOfWorkFactory,
    connectors: ConnectorFactory,
    accounts: Sequence[ChannelAccount],
    clock: Clock,
    *,
    trigger: str,
    options: CycleOptions,
) -> list[RunReport]:
    """Pull the orders of every account."""

    def one(account: ChannelAccount) -> RunReport:
        return _guarded(
            SyncKind.ORDERS,
            account,
            uow_factory,
            clock,
            options,
            lambda: _with_connector(
                connectors,
                account,
                lambda c: pull_orders(
                    uow_factory,
                    c,
                    account,
                    clock,
                    trigger=trigger,
                    options=options.pull,
                    stop=options.stop,
                ),
            ),
        )

    return for_each_account(accounts, one, options.workers)


def push_all(
    uow_factory: UnitOfWorkFactory,
    connectors: ConnectorFactory,
    accounts: Sequence[ChannelAccount],
    clock: Clock,
    *,
    trigger: str,
    options: CycleOptions,
    progress: Progress | None = None,
) -> list[RunReport]:
    """Push every account."""

    def one(account: ChannelAccount) -> RunReport:
        return _guarded(
            SyncKind.PUBLISH,
            account,
            uow_factory,
            clock,
            options,
            lambda: _with_connector(
                connectors,
                account,
                lambda c: push_account(
                    uow_factory,
                    c,
                    account,
                    clock,
                    trigger=trigger,
                    progress=progress,
                    stop=options.stop,
                ),
            ),
        )

    return for_each_account(accounts, one, options.workers)


def run_cycle(
    uow_factory: UnitOfWorkFactory,
    connectors: ConnectorFactory,
    accounts: Sequence[ChannelAccount],
    clock: Clock,
    *,
    trigger: str,
    options: CycleOptions,
    progress: Progress | None = None,
) -> CycleReport:
    """Orders, then push, for every enabled account in ``accounts``."""
    enabled = [a for a in accounts if a.enabled]
    pulls = pull_all(
        uow_factory, connectors, enabled, clock, trigger=trigger, options=options
    )
    pushes = push_all(
        uow_factory,
        connectors,
        enabled,
        clock,
        trigger=trigger,
        options=options,
        progress=progress,
    )
    log.info(
        "sync_cycle.finished",
        accounts=len(enabled),
        pulls_failed=sum(r.outcome is RunOutcome.FAILED for r in pulls),
        pushes_failed=sum(r.outcome is RunOutcome.FAILED for r in pushes),
    )
    return CycleReport(pulls, pushes)
