"""Closing runs left ``running`` by a process that died (SIGKILL, a crash, a lost
machine) or lost its account's lease.

An account with such a run and no live lease is taken under a lease of the sweep's
own: taking it gives the lease a new epoch, so the old holder, should it only be
paused, can never write again (its run record included); then the account's
``running`` runs are closed ``abandoned`` under that lease, and the lease released.
An account whose lease is live is never touched; one another process takes first is
left to it.
"""

from __future__ import annotations

import structlog

from core.ports import LeaseStore, ScheduleStore
from scheduler.leases import LeaseTerms, lease_holder, take

log = structlog.get_logger(__name__)


def sweep_abandoned(
    schedule: ScheduleStore, leases: LeaseStore, holder: str, terms: LeaseTerms
) -> list[int]:
    """Close every abandoned run (see the module); returns their ids."""
    closed: list[int] = []
    for account in schedule.unleased_running():
        fence = take(
            leases, account, f"{holder}:{lease_holder().rpartition(':')[2]}", terms
        )
        if fence is None:  # another process has it now: its runs are its own
            continue
        try:
            ids = schedule.close_abandoned(fence)
        finally:
            leases.release(fence)
        if ids:
            log.warning("runs.abandoned", account=account, runs=ids)
        closed += ids
    return closed
