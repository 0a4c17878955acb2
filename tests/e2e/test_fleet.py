"""Issue 10's acceptance at fleet scale, against real ``ikm-sync run`` processes and
one ``ikm-sync simulate`` serving every account's shop (see :mod:`tests.e2e.fleet`).

* Three daemons share the fleet for several intervals: every account is cycled
  every interval (and not more often), no two holdings of one account ever overlap,
  each daemon does a share.
* A daemon killed (SIGKILL) in the middle of an account's job: the account resumes on
  the others, the killed run ends ``abandoned``, no order or stock effect is lost or
  doubled while buyers order.
* A daemon stopped (SIGSTOP) in the middle of an account's job past its lease, then
  continued: none of its writes for that account is accepted, the store consistent.
* A daemon whose clock is ten minutes fast causes no overlap.

Overlap is judged from the daemons' ``account.lease_held`` log lines (every holding,
a run record or not, stamped by the machine's one clock whatever a process's clock
offset) and from the run records. Every wait is on progress (log lines, rows) with a
deadline, never a sleep; the fleet's size is ``FLEET_ACCOUNTS`` (default below).
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fleet import Fleet, build, until
from tests.e2e.sites import MARKETPLACES

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

#: Accounts in the fleet, a third per marketplace.
ACCOUNTS = int(os.environ.get("FLEET_ACCOUNTS", "300"))
SKUS = 1
INTERVAL = 6
LEASE = 10
SCHEDULE = {
    "IKMSYNC_SCHEDULER__CYCLE_SECONDS": str(INTERVAL),
    "IKMSYNC_SCHEDULER__TICK_SECONDS": "0.2",
    "IKMSYNC_SCHEDULER__JITTER": "0.1",
    "IKMSYNC_SCHEDULER__SWEEP_SECONDS": "2",
    "IKMSYNC_SCHEDULER__RECONCILE_HOURS": "0",
    "IKMSYNC_SCHEDULER__STOP_DEADLINE_SECONDS": "30",
    "IKMSYNC_SYNC__WORKERS": "2",
    "IKMSYNC_SYNC__LEASE_SECONDS": str(LEASE),
    "IKMSYNC_LOGGING__FORMAT": "json",
    "IKMSYNC_LOGGING__LEVEL": "INFO",
}
#: Ten minutes fast.
SKEW = {"IKMSYNC_TEST_CLOCK_OFFSET_SECONDS": "600"}


@pytest.fixture
def fleet(tmp_path: Path, database_url: str) -> Iterator[Fleet]:
    yield from build(tmp_path / "fleet", database_url, ACCOUNTS // 3, SKUS)


def _order(fleet: Fleet, each: int) -> int:
    """``each`` buyers order at every marketplace; the orders placed."""
    return sum(len(fleet.buyers(m, each)) for m in MARKETPLACES)


def _all_stored(fleet: Fleet) -> bool:
    return set(fleet.stored()) >= fleet.placed()


def _assert_no_overlap(fleet: Fleet, *, lost_ok: bool = False) -> int:
    """No two holdings of one account overlapped (a holding that ended with its
    lease lost is left out when ``lost_ok``); the holdings checked."""
    checked = 0
    for account, spans in fleet.holdings().items():
        kept = sorted(s for s in spans if not (lost_ok and s[3]))
        checked += len(kept)
        for first, second in itertools.pairwise(kept):
            assert first[1] <= second[0], f"{account}: overlapping holdings {kept}"
    return checked


def _assert_runs_do_not_overlap(fleet: Fleet) -> int:
    """No two closed runs of one account overlap (an abandoned run's end is the
    sweep's, so it is left out); the runs checked."""
    spans: dict[str, list[tuple[Any, Any]]] = {}
    for _, account, _, outcome, started, finished in fleet.runs():
        assert outcome != "running"
        if outcome != "abandoned":
            spans.setdefault(account, []).append((_at(started), _at(finished)))
    for account, found in spans.items():
        found.sort()
        for (_, end), (start, _) in itertools.pairwise(found):
            assert end <= start, f"{account}: overlapping runs"
    return sum(len(s) for s in spans.values())


def _at(value: Any) -> datetime:
    found = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _every_account_cycled(fleet: Fleet, times: int) -> bool:
    counted = fleet.cycles()
    return all(counted[a] >= times for a in fleet.accounts)


def test_three_daemons_cycle_every_account_every_interval_without_overlap(
    fleet: Fleet,
) -> None:
    daemons = [fleet.start(SCHEDULE) for _ in range(3)]
    until(lambda: _every_account_cycled(fleet, 1), "every account published")
    started = time.monotonic()
    base = fleet.cycles()
    placed = _order(fleet, 10)
    rounds = 3
    until(
        lambda: all(fleet.cycles()[a] >= base[a] + rounds for a in fleet.accounts),
        f"{rounds} more cycles of every account",
    )
    until(lambda: _all_stored(fleet), "the buyers' orders stored")
    elapsed = time.monotonic() - started
    fleet.stop(*daemons)

    counted = fleet.cycles()
    # once per interval (± jitter) and never more often
    most = elapsed / (INTERVAL * 0.9) + 2
    over = {a: counted[a] - base[a] for a in fleet.accounts}
    assert max(over.values()) <= most, (max(over.values()), most)
    holdings = _assert_no_overlap(fleet)
    assert holdings >= 2 * len(fleet.accounts) * (rounds + 1)
    _assert_runs_do_not_overlap(fleet)
    shares = {pid: sum(fleet.cycles(iter([pid])).values()) for pid in fleet.logs}
    assert min(shares.values()) >= sum(shares.values()) / 10, shares
    assert not fleet.query("SELECT * FROM account_leases")
    assert fleet.assert_consistent() >= placed > 0
