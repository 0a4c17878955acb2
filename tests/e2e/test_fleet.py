"""Issue 10's acceptance at fleet scale, against real ``ikm-sync run`` processes and
one ``ikm-sync simulate`` serving every account's shop (see :mod:`tests.e2e.fleet`).

* Three daemons share the fleet for several intervals: every account is cycled
  every interval (and not more often), no two holdings of one account ever overlap,
  each daemon does a share.
* A daemon killed (SIGKILL) in the middle of an account's job: the account resumes on
  the others within two leases, the killed run ends ``abandoned``, no order or stock
  effect is lost or doubled while buyers order.
* A daemon stopped (SIGSTOP) in the middle of an account's job past its lease, then
  continued: none of its writes for that account is accepted, the store consistent.
* A daemon whose clock is ten minutes fast causes no overlap.

Overlap is judged from the daemons' ``account.lease_held`` log lines (every holding,
a run record or not, stamped by the machine's one clock whatever a process's clock
offset) and from the run records. Exclusive claims alone keep holdings apart in a
fleet that keeps up; with claims broken the leases still do, and the cycle count
per interval catches the extra claims. Every wait is on progress (log lines, rows)
with a deadline, never a sleep; the fleet's size is ``FLEET_ACCOUNTS`` (default
below).
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fleet import LIMIT, Fleet, build, until
from tests.e2e.sites import MARKETPLACES

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

#: Accounts in the fleet, a third per marketplace.
ACCOUNTS = int(os.environ.get("FLEET_ACCOUNTS", "45"))
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
    # an account failing on the fast daemon (Shopee refuses its signatures'
    # timestamps) is soon tried again, by any daemon
    "IKMSYNC_SCHEDULER__BACKOFF_BASE_SECONDS": "1",
    "IKMSYNC_SCHEDULER__BACKOFF_MAX_SECONDS": "2",
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

    holdings = _assert_no_overlap(fleet)
    assert holdings >= len(fleet.accounts) * (rounds + 1)  # one per cycle
    _assert_runs_do_not_overlap(fleet)
    counted = fleet.cycles()
    # once per interval (± jitter) and never more often
    most = elapsed / (INTERVAL * 0.9) + 2
    over = {a: counted[a] - base[a] for a in fleet.accounts}
    assert max(over.values()) <= most, (max(over.values()), most)
    shares = {pid: sum(fleet.cycles(iter([pid])).values()) for pid in fleet.logs}
    assert min(shares.values()) >= sum(shares.values()) / 10, shares
    assert not fleet.query("SELECT * FROM account_leases WHERE holder <> ''")
    assert placed > 0
    assert fleet.assert_consistent() > 0


def _held_by(fleet: Fleet, pid: int) -> list[tuple[str, str, int]]:
    """(account, holder, running run) of every account the daemon ``pid`` holds
    now in the middle of a run."""
    found = []
    for account, holder in fleet.query(
        "SELECT a.account_key, l.holder FROM account_leases l"
        " JOIN channel_accounts a ON a.id = l.account_id"
    ):
        if not holder or str(holder).split(":")[1] != str(pid):
            continue  # free (released), or another process's
        running = fleet.query(
            "SELECT r.id FROM sync_runs r JOIN channel_accounts a"
            " ON a.id = r.account_id WHERE a.account_key = :a"
            " AND r.outcome = 'running'",
            a=account,
        )
        if running:
            found.append((str(account), str(holder), int(running[0][0])))
    return found


def _stopped_mid_job(fleet: Fleet, pid: int) -> list[tuple[str, str, int]]:
    """SIGSTOP the daemon ``pid`` at a moment it holds an account in the middle
    of a run; what it holds (it is left stopped). Between two tries it is let run
    until it has ended one more holding (progress, not time)."""
    for _ in range(200):
        os.kill(pid, signal.SIGSTOP)
        held = _held_by(fleet, pid) if _outside_transaction(fleet, pid) else []
        if held:
            return held
        ended = len(fleet.events(pid, "account.lease_held"))
        os.kill(pid, signal.SIGCONT)
        # a quiet scheduled run leaves no row: buyers keep ordering, so the
        # daemon's next jobs have work, and a run row while they do it
        _order(fleet, 2)

        def one_more(ended: int = ended) -> bool:
            return len(fleet.events(pid, "account.lease_held")) > ended

        until(one_more, "the daemon to end one more holding")
    pytest.fail("the daemon was never caught in the middle of a run")


def _ports(pid: int) -> set[int]:
    """Local TCP ports of the process ``pid``'s sockets (its database
    connections among them)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _outside_transaction(fleet: Fleet, pid: int) -> bool:
    """True when the stopped process ``pid`` holds no database transaction open,
    so the others are not blocked by it (a process paused inside a transaction
    holds SQLite's write lock, or PostgreSQL row locks, until it goes on)."""
    if fleet.database_url.startswith("sqlite"):
        path = fleet.database_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path, timeout=1)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
        return True
    ports = _ports(pid)
    return not [
        row
        for row in fleet.query(
            "SELECT client_port, state FROM pg_stat_activity"
            " WHERE state <> 'idle' AND client_port IS NOT NULL"
        )
        if int(row[0]) in ports
    ]


def _holdings_after(
    fleet: Fleet, account: str, after: datetime, pids: set[int]
) -> list[tuple[datetime, datetime, int, bool]]:
    return [
        s for s in fleet.holdings().get(account, []) if s[0] >= after and s[2] in pids
    ]


def test_a_daemon_killed_mid_job_hands_its_accounts_on_losing_nothing(
    fleet: Fleet,
) -> None:
    victim, *others = [fleet.start(SCHEDULE) for _ in range(3)]
    until(lambda: _every_account_cycled(fleet, 1), "every account published")
    _order(fleet, 10)
    held = _stopped_mid_job(fleet, victim.pid)
    # killed at once: stopped longer, its accounts would come due while it holds
    # them, and a claim that finds an account held waits 30 s to try again
    killed_at = datetime.now(UTC)
    victim.kill()
    victim.wait(timeout=LIMIT)
    _order(fleet, 10)  # buyers go on ordering while the others take over

    survivors = {p.pid for p in others}
    for account, _, run_id in held:

        def resumed(account: str = account) -> list[Any]:
            return _holdings_after(fleet, account, killed_at, survivors)

        taken = min(s[0] for s in until(resumed, f"{account} resumed elsewhere"))
        delay = (taken - killed_at).total_seconds()
        assert delay <= 2 * LEASE, f"{account} resumed {delay:.1f} s after the kill"

        def abandoned(run_id: int = run_id) -> bool:
            return _outcome(fleet, run_id) == "abandoned"

        until(abandoned, f"run {run_id} of {account} closed abandoned")
    until(lambda: _all_stored(fleet), "the buyers' orders stored")
    fleet.stop(*others)

    _assert_no_overlap(fleet)
    _assert_runs_do_not_overlap(fleet)
    assert fleet.assert_consistent() > 0


#: What a job of one account may write (``:a`` its key): orders, stock movements of
#: its products, bookmark, listings.
_WRITTEN = {
    "orders": "SELECT a.account_key, o.external_id, o.status, o.stock_state"
    " FROM orders o JOIN channel_accounts a ON a.id = o.account_id"
    " WHERE a.account_key = :a",
    "movements": "SELECT m.id, m.on_hand_delta, m.reserved_delta"
    " FROM stock_movements m JOIN products p ON p.id = m.product_id"
    " JOIN channel_account_producers c ON c.producer_id = p.producer_id"
    " JOIN channel_accounts a ON a.id = c.account_id WHERE a.account_key = :a",
    "bookmarks": "SELECT a.account_key, b.position FROM order_bookmarks b"
    " JOIN channel_accounts a ON a.id = b.account_id WHERE a.account_key = :a",
    "listings": "SELECT a.account_key, l.product_id, l.state, l.last_stock"
    " FROM listings l JOIN channel_accounts a ON a.id = l.account_id"
    " WHERE a.account_key = :a",
}


def _account_rows(
    fleet: Fleet, accounts: list[str], runs: set[int]
) -> dict[str, set[tuple[str, ...]]]:
    """What a job of ``accounts`` may write, and the runs ``runs`` as they are."""
    found: dict[str, set[tuple[str, ...]]] = {
        name: {
            tuple(str(v) for v in row)
            for account in accounts
            for row in fleet.query(sql, a=account)
        }
        for name, sql in _WRITTEN.items()
    }
    found["runs"] = {tuple(str(v) for v in r) for r in fleet.runs() if r[0] in runs}
    return found


def _outcome(fleet: Fleet, run_id: int) -> str:
    return str(
        fleet.query("SELECT outcome FROM sync_runs WHERE id = :r", r=run_id)[0][0]
    )


def test_a_daemon_paused_past_its_lease_gets_no_write_accepted(fleet: Fleet) -> None:
    victim, *others = [fleet.start(SCHEDULE) for _ in range(3)]
    until(lambda: _every_account_cycled(fleet, 1), "every account published")
    held = _stopped_mid_job(fleet, victim.pid)
    accounts = [a for a, _, _ in held]
    stale = {h for _, h, _ in held}
    # past its lease (by the database's clock) another daemon's sweep takes each
    # account (a new epoch: the stale holder is fenced off) and closes its run
    for account, _, run_id in held:

        def abandoned(run_id: int = run_id) -> bool:
            return _outcome(fleet, run_id) == "abandoned"

        until(abandoned, f"run {run_id} of {account} closed abandoned by another")
    _order(fleet, 10)  # the others pull these, the stale holder must add nothing
    until(lambda: _all_stored(fleet), "the buyers' orders stored by the others")
    fleet.stop(*others)  # the store now changes only through the stale holder
    # the accounts' next turns are the others' (stopped): none is claimed again
    for account in accounts:
        fleet.execute(
            "UPDATE channel_accounts SET enabled = :no WHERE account_key = :a",
            no=False,
            a=account,
        )
    existing = {r[0] for r in fleet.runs() if r[1] in accounts}
    before = _account_rows(fleet, accounts, existing)

    os.kill(victim.pid, signal.SIGCONT)

    def stale_ended() -> list[dict[str, Any]]:
        found = [
            e
            for e in fleet.events(victim.pid, "account.lease_held")
            if e["holder"] in stale
        ]
        return found if len(found) == len(stale) else []

    ended = until(stale_ended, "the stale holdings to end")
    fleet.stop(victim)

    after = _account_rows(fleet, accounts, existing)
    accepted = sum(len(after[k] ^ before[k]) for k in before)
    assert accepted == 0, {k: (before[k], after[k]) for k in before}
    refused = [
        e
        for e in fleet.events(victim.pid, "lease.write_refused")
        if e.get("account") in accounts
    ]
    # it woke up past its lease: it stopped itself, and each write it still tried
    # (its run's end at least) was refused
    assert all(e["lost"] for e in ended), ended
    assert refused, "no write of the stale holder was even tried"
    _assert_no_overlap(fleet, lost_ok=True)
    assert fleet.assert_consistent() > 0


def test_a_daemon_ten_minutes_fast_causes_no_overlap(fleet: Fleet) -> None:
    daemons = [fleet.start(SCHEDULE), fleet.start(SCHEDULE)]
    fast = fleet.start({**SCHEDULE, **SKEW})
    until(lambda: _every_account_cycled(fleet, 1), "every account published")
    base = fleet.cycles()
    _order(fleet, 10)
    rounds = 2
    until(
        lambda: all(fleet.cycles()[a] >= base[a] + rounds for a in fleet.accounts),
        f"{rounds} more cycles of every account",
    )
    until(lambda: _all_stored(fleet), "the buyers' orders stored")
    fleet.stop(*daemons, fast)

    # the fast daemon did its share, and its run records carry its own clock
    assert sum(fleet.cycles(iter([fast.pid])).values()) > 0
    ahead = datetime.now(UTC).timestamp() + 300
    assert any(_at(r[4]).timestamp() > ahead for r in fleet.runs())
    assert _assert_no_overlap(fleet) >= len(fleet.accounts) * (rounds + 1)
    assert not fleet.query("SELECT * FROM account_leases WHERE holder <> ''")
    assert fleet.assert_consistent() > 0
