"""Holding an account's lease while its job runs: take it, renew it, give it back.

The lease itself lives in the database (:class:`core.ports.LeaseStore`, whose expiry
follows the database's clock and whose epoch fences off earlier holders). Here a job
takes it under a holder name unique to the job (the process's identity and a nonce:
``host:pid:start-machine:nonce``), renews it from a thread while the work runs, and
releases it when the work ends. A lease whose holder was a process of this machine,
boot and PID namespace that no longer runs (killed, crashed; judged by its start
time, so a reused PID does not pass for it) is taken over at once instead of waiting
for it to expire; in any doubt the lease is waited out.

A renewal the store refuses (the lease passed to another holder) asks the job to stop
at its next safe point: it may no longer be the only writer, and its writes are
refused anyway once the lease has passed on. A renewal the store fails to answer (the
database briefly unreachable) is logged and tried again for as long as the lease is
still trusted to hold (:attr:`LeaseTerms.trusted` after the last take or renewal);
only then is the job asked to stop.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import structlog

from core.domain.ids import AccountId
from core.ports import Fence, LeaseStore
from core.services.stopping import StopRequest, guarding_writes
from scheduler.ops import metrics

log = structlog.get_logger(__name__)

#: How long a lease lasts without renewal (``[sync] lease_seconds``).
LEASE = timedelta(minutes=15)
#: What a job's stop request gives as its reason when its lease was lost.
LEASE_LOST = "lease lost"


#: Where the kernel shows processes (a test points it elsewhere).
PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """Who a process is, closely enough to tell it from any other: its host and
    PID, when it started (``/proc/<pid>/stat`` field 22, clock ticks since boot, so
    a reused PID is a different process) and a digest of the machine's boot id and
    the process's PID namespace (so a PID of another boot, container or namespace
    under the same host name is never mistaken for one of ours). ``start`` and
    ``machine`` are ``None`` where ``/proc`` cannot tell them."""

    host: str
    pid: int
    start: int | None
    machine: str | None

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity:
        """The identity of process ``pid`` (of this machine, alive or a zombie)."""
        start = _start_time(pid)
        machine = _machine(_namespace(pid)) if start is not None else None
        return cls(socket.gethostname(), pid, start, machine)

    @property
    def name(self) -> str:
        """``host:pid:start-machine`` (``host:pid:-`` when not known)."""
        if self.start is None or self.machine is None:
            return f"{self.host}:{self.pid}:-"
        return f"{self.host}:{self.pid}:{self.start}-{self.machine}"

    @classmethod
    def parse(cls, holder: str) -> ProcessIdentity | None:
        """The identity a holder name begins with; ``None`` for a name of another
        form (e.g. of an older version)."""
        host, pid_text, known, *_ = [*holder.split(":"), "", ""]
        start_text, dash, machine = known.partition("-")
        if not pid_text.isdigit() or not dash:
            return None
        if not start_text and not machine:
            return cls(host, int(pid_text), None, None)
        if not start_text.isdigit() or not machine:
            return None
        return cls(host, int(pid_text), int(start_text), machine)


def lease_holder() -> str:
    """A name for this process, unique across machines:
    ``host:pid:start-machine:nonce`` (see :class:`ProcessIdentity`)."""
    return f"{ProcessIdentity.of(os.getpid()).name}:{uuid.uuid4().hex[:8]}"


def holder_is_gone(holder: str) -> bool:
    """True when ``holder`` names a process of this machine, boot and PID
    namespace that no longer runs (killed, crashed; its PID free or reused by a
    later process): its lease can be taken over at once instead of waiting for it
    to expire. Any doubt (another host, boot or namespace, a name without the
    process's start time, no ``/proc``, a process of another user hidden from us)
    answers False: the lease is then waited out."""
    named = ProcessIdentity.parse(holder)
    if named is None or named.start is None or named.machine is None:
        return False
    me = ProcessIdentity.of(os.getpid())
    if me.machine is None or (named.host, named.machine) != (me.host, me.machine):
        return False
    running = _start_time(named.pid)
    if running is not None:
        # the PID runs a later process (reused), or the holder is a zombie
        return running != named.start or _state(named.pid) in ("Z", "X")
    try:  # no /proc entry: gone, unless it is only hidden (hidepid)
        os.kill(named.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from field 3 (the state) on."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # field 2, the command, is in parentheses and may hold spaces or parentheses
    return text.rpartition(")")[2].split()


def _start_time(pid: int) -> int | None:
    fields = _stat(pid)
    if fields is None or len(fields) < 20 or not fields[19].isdigit():
        return None
    return int(fields[19])  # field 22


def _state(pid: int) -> str:
    fields = _stat(pid)
    return fields[0] if fields else ""


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(PROC / str(pid) / "ns" / "pid")
    except OSError:
        return None


def _machine(namespace: str | None) -> str | None:
    """A digest of this boot and ``namespace``; ``None`` when either is unknown."""
    if namespace is None:
        return None
    try:
        boot = (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return None
    digest = hashlib.sha256(f"{boot}|{namespace}".encode()).hexdigest()
    return digest[:12]


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
    def retry(self) -> timedelta:
        """The time before a renewal the store failed to answer is tried again
        (a quarter of the time between renewals)."""
        return self.renewal / 4

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
    under rate limits can outlast one lease), then release it. A lost lease, or
    one that could not be renewed while it was trusted to hold, requests ``stop``
    (reason :data:`LEASE_LOST`)."""
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew,
        args=(leases, fence, terms, stop, done),
        name=f"lease-{fence.account}",
        daemon=True,
    )
    renewer.start()
    try:
        with guarding_writes(partial(_lease_lost, stop)):
            yield
    finally:
        done.set()
        renewer.join()
        leases.release(fence)


def _lease_lost(stop: StopRequest) -> str | None:
    """:data:`LEASE_LOST` once ``stop`` says the lease can no longer be known to
    hold (its deadline passed or a renewal was refused); a stop for another reason
    (a signal) lets the write in hand go."""
    return LEASE_LOST if stop.requested and stop.reason == LEASE_LOST else None


def _renew(
    leases: LeaseStore,
    fence: Fence,
    terms: LeaseTerms,
    stop: StopRequest,
    done: threading.Event,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Renew every :attr:`LeaseTerms.renewal` until ``done``. A renewal the store
    refuses (the lease passed on) stops the job at once; one the store fails to
    answer is logged and tried again sooner, for as long as the last renewal is
    trusted to hold (the job's ``stop_at`` deadline): only past that is the job
    asked to stop."""
    trusted_until = monotonic() + terms.trusted  # the take, just before
    wait = terms.renewal
    while not done.wait(wait.total_seconds()):
        asked = monotonic()
        if asked >= trusted_until:
            log.error("account.lease_lost", account=fence.account, epoch=fence.epoch)
            stop.request(LEASE_LOST)
            return
        try:
            kept = leases.renew(fence, terms.duration)
        except Exception:  # the store did not answer: try again while trusted
            wait = min(terms.renewal, terms.retry)
            log.exception(
                "account.lease_renewal_failed",
                account=fence.account,
                retry_in_seconds=wait.total_seconds(),
                trusted_for_seconds=round(trusted_until - asked, 3),
            )
            continue
        if not kept:
            log.error("account.lease_lost", account=fence.account, epoch=fence.epoch)
            stop.request(LEASE_LOST)
            return
        trusted_until = asked + terms.trusted
        stop.stop_at(trusted_until, LEASE_LOST)
        wait = terms.renewal
