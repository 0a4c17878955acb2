"""Holding an account's lease while its job runs: take it, renew it, give it back.

The lease itself lives in the database (:class:`core.ports.LeaseStore`, whose expiry
follows the database's clock and whose epoch fences off earlier holders). Here a job
takes it under a holder name unique to the job (``host:pid:nonce``), renews it from a
thread while the work runs, and releases it when the work ends. A lease whose holder
was a process of this machine that no longer runs (killed, crashed) is taken over at
once instead of waiting for it to expire.

A renewal that fails (the lease passed to another holder, or the database did not
answer) asks the job to stop at its next safe point: it may no longer be the only
writer, and its writes are refused anyway once the lease has passed on.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog

from core.domain.ids import AccountId
from core.ports import Fence, LeaseStore
from core.services.stopping import StopRequest
from scheduler.ops import metrics

log = structlog.get_logger(__name__)

#: How long a lease lasts without renewal (``[sync] lease_seconds``).
LEASE = timedelta(minutes=15)
#: What a job's stop request gives as its reason when its lease was lost.
LEASE_LOST = "lease lost"


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
class LeaseTerms:
    """How long a lease lasts and how often a running job renews it (a third of
    the lease by default: two renewals may fail before it runs out)."""

    duration: timedelta = LEASE
    renew_every: timedelta | None = None

    @property
    def renewal(self) -> timedelta:
        """The time between two renewals."""
        return self.renew_every or self.duration / 3

    @property
    def trusted(self) -> float:
        """Seconds after a take or renewal was asked for during which this process
        may count on still holding the lease by its own monotonic clock: the
        lease's duration less a tenth for the clocks' drift."""
        return self.duration.total_seconds() * 0.9


def take(
    leases: LeaseStore, account: AccountId, holder: str, terms: LeaseTerms
) -> Fence | None:
    """``account``'s lease for ``holder``, or ``None`` while another holder has it;
    a holder of this machine whose process is gone loses it at once."""
    fence = leases.acquire(account, holder, terms.duration)
    if fence is None:
        previous = leases.holder(account)
        if previous is not None and holder_is_gone(previous):
            fence = leases.take_over(account, previous, holder, terms.duration)
            if fence is not None:
                log.warning("account.lease_taken_over", previous=previous)
                metrics.record_takeover()
    return fence


@contextmanager
def renewing(
    leases: LeaseStore, fence: Fence, terms: LeaseTerms, stop: StopRequest
) -> Iterator[None]:
    """Renew ``fence``'s lease while the block runs (a publish of a large catalogue
    under rate limits can outlast one lease), then release it. A failed renewal
    requests ``stop`` (reason :data:`LEASE_LOST`)."""
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew,
        args=(leases, fence, terms, stop, done),
        name=f"lease-{fence.account}",
        daemon=True,
    )
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
        leases.release(fence)


def _renew(
    leases: LeaseStore,
    fence: Fence,
    terms: LeaseTerms,
    stop: StopRequest,
    done: threading.Event,
) -> None:
    while not done.wait(terms.renewal.total_seconds()):
        asked = time.monotonic()
        try:
            kept = leases.renew(fence, terms.duration)
        except Exception:  # the store did not answer: the lease may run out
            log.exception("account.lease_renewal_failed", account=fence.account)
            kept = False
        if not kept:
            log.error("account.lease_lost", account=fence.account, epoch=fence.epoch)
            stop.request(LEASE_LOST)
            return
        stop.stop_at(asked + terms.trusted, LEASE_LOST)
