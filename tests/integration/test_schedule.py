"""The shared schedule on a real database: a due account is claimed by exactly one
claimer and its next turn moves forward in the same transaction, missed turns
coalesce, failing accounts back off (capped) and stay scheduled, and the sweep
closes only runs no live lease covers, fencing off their holders."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.domain.sync import RunOutcome, SyncKind
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore, db_now
from core.store.schedule import ABANDONED_ERROR, SqlScheduleStore
from core.store.tables import AccountScheduleRow, SyncRunRow
from core.store.uow import SqlUnitOfWork
from scheduler.leases import LeaseTerms
from scheduler.sweep import sweep_abandoned
from scheduler.timing import Backoff
from tests.fakes import FakeClock

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]

KOPI_CO = ProducerCode("IKM-NTT-001")
CYCLE = "cycle"
HOUR = timedelta(hours=1)


def every_hour(_: AccountId) -> timedelta:
    return HOUR


def keys(count: int) -> list[AccountId]:
    return [AccountId(f"shopee-{n:03d}") for n in range(count)]


def add_accounts(
    sql_uow: Factory, clock: FakeClock, count: int, *, disabled: int = 0
) -> list[AccountId]:
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(KOPI_CO, "Koperasi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        for n, key in enumerate(keys(count)):
            uow.accounts.save(
                ChannelAccount(
                    key,
                    Marketplace.SHOPEE,
                    f"{220000 + n}",
                    (KOPI_CO,),
                    enabled=n >= disabled,
                ),
                clock.now(),
            )
        uow.commit()
    return keys(count)


@pytest.fixture
def schedule(engine: sa.Engine) -> SqlScheduleStore:
    return SqlScheduleStore(make_session_factory(engine))


def due_now(schedule: SqlScheduleStore, accounts: list[AccountId]) -> None:
    assert schedule.ensure(CYCLE, dict.fromkeys(accounts, timedelta(0))) == len(
        accounts
    )


def overdue(engine: sa.Engine, by: timedelta) -> None:
    """Every due time lies ``by`` in the past (by the database's clock)."""
    with Session(engine) as session:
        session.execute(
            sa.update(AccountScheduleRow).values(next_due_at=db_now(session, -by))
        )
        session.commit()


def test_a_due_account_is_claimed_once_and_its_next_turn_moves_by_its_interval(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore
) -> None:
    accounts = add_accounts(sql_uow, clock, 3)
    due_now(schedule, accounts)
    before = datetime.now(UTC)

    assert sorted(schedule.claim_due(CYCLE, every_hour, 10)) == accounts
    assert schedule.claim_due(CYCLE, every_hour, 10) == []

    for entry in schedule.entries(CYCLE):
        assert before + HOUR - timedelta(minutes=1) < entry.next_due_at
        assert entry.next_due_at < datetime.now(UTC) + HOUR + timedelta(minutes=1)
    # ensuring again keeps the due times already there
    assert schedule.ensure(CYCLE, dict.fromkeys(accounts, timedelta(0))) == 0
    assert schedule.claim_due(CYCLE, every_hour, 10) == []


class Statements:
    """Counts the SQL statements an engine sends while the block runs."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sent: list[str] = []
        self.parameters: list[Any] = []

    def _count(self, *args: Any) -> None:
        self.sent.append(str(args[2]))
        self.parameters.append(args[3])

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def work(self) -> list[str]:
        """The statements other than transaction control."""
        return [
            s
            for s in self.sent
            if s.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")
        ]


def test_ensuring_due_times_is_set_based(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    """Every daemon ensures every account's row each minute: with every row there
    it is one statement, whatever the number of accounts; new accounts add one
    INSERT per hundred."""
    accounts = add_accounts(sql_uow, clock, 250)
    with Statements(engine) as first:
        added = schedule.ensure(CYCLE, dict.fromkeys(accounts[:120], timedelta(0)))
    assert added == 120
    assert len(first.work) == 1 + 2  # the look-up, two INSERTs

    with Statements(engine) as steady:
        assert schedule.ensure(CYCLE, dict.fromkeys(accounts[:120], HOUR)) == 0
    assert len(steady.work) == 1

    with Statements(engine) as grown:
        assert schedule.ensure(CYCLE, dict.fromkeys(accounts, timedelta(0))) == 130
    assert len(grown.work) == 1 + 2
    assert sorted(e.account for e in schedule.entries(CYCLE)) == accounts
    # the first due times stay as first set
    assert sorted(schedule.claim_due(CYCLE, every_hour, 1000)) == accounts


def test_missed_turns_coalesce_into_one_catch_up_run(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    accounts = add_accounts(sql_uow, clock, 1)
    due_now(schedule, accounts)
    overdue(engine, timedelta(days=10))  # 240 turns missed

    assert schedule.claim_due(CYCLE, every_hour, 10) == accounts
    assert schedule.claim_due(CYCLE, every_hour, 10) == []
    (entry,) = schedule.entries(CYCLE)
    assert entry.next_due_at > datetime.now(UTC) + HOUR - timedelta(minutes=1)


def test_claims_take_the_oldest_first_up_to_the_limit_and_skip_the_excluded(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore
) -> None:
    accounts = add_accounts(sql_uow, clock, 4)
    schedule.ensure(
        CYCLE,
        {key: -timedelta(minutes=10 - n) for n, key in enumerate(accounts)},
    )
    assert schedule.claim_due(CYCLE, every_hour, 2, exclude=[accounts[0]]) == [
        accounts[1],
        accounts[2],
    ]
    assert schedule.claim_due(CYCLE, every_hour, 5) == [accounts[0], accounts[3]]
    assert schedule.claim_due(CYCLE, every_hour, 0) == []


def test_disabled_accounts_and_other_jobs_are_not_claimed(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore
) -> None:
    accounts = add_accounts(sql_uow, clock, 3, disabled=1)
    due_now(schedule, accounts)
    assert schedule.claim_due("reconcile", every_hour, 10) == []
    assert sorted(schedule.claim_due(CYCLE, every_hour, 10)) == accounts[1:]


def test_a_failing_account_backs_off_exponentially_up_to_the_cap_and_stays_scheduled(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    (account,) = add_accounts(sql_uow, clock, 1)
    due_now(schedule, [account])
    backoff = Backoff(base=timedelta(minutes=1), cap=timedelta(minutes=5))
    waits = []
    for expected in range(1, 6):
        assert schedule.claim_due(CYCLE, every_hour, 1) == [account]
        assert (
            schedule.failed(CYCLE, account, "failed", f"boom {expected}", backoff)
            == expected
        )
        (entry,) = schedule.entries(CYCLE)
        assert entry.failures == expected
        assert entry.last_outcome == "failed"
        assert entry.last_error == f"boom {expected}"
        assert entry.backoff_until is not None
        waits.append(entry.backoff_until - datetime.now(UTC))
        overdue(engine, timedelta(minutes=1))  # due again, but backing off
        assert schedule.claim_due(CYCLE, every_hour, 1) == []
        with Session(engine) as session:  # the back-off ran out
            session.execute(
                sa.update(AccountScheduleRow).values(
                    backoff_until=db_now(session, -timedelta(seconds=1))
                )
            )
            session.commit()
    minutes = [round(w.total_seconds() / 60) for w in waits]
    assert minutes == [1, 2, 4, 5, 5]

    assert schedule.claim_due(CYCLE, every_hour, 1) == [account]
    schedule.succeeded(CYCLE, account, "succeeded")
    (entry,) = schedule.entries(CYCLE)
    assert (entry.failures, entry.backoff_until, entry.last_error) == (0, None, None)
    assert entry.last_outcome == "succeeded"


def test_a_note_records_why_without_counting_a_failure(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore
) -> None:
    (account,) = add_accounts(sql_uow, clock, 1)
    due_now(schedule, [account])
    schedule.failed(CYCLE, account, "failed", "boom", Backoff())
    schedule.noted(CYCLE, account, "needs_reauthorisation", "token revoked")
    (entry,) = schedule.entries(CYCLE)
    assert (entry.failures, entry.last_outcome, entry.last_error) == (
        1,
        "needs_reauthorisation",
        "token revoked",
    )


def test_a_claim_that_could_not_run_is_due_again_soon_never_later(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore
) -> None:
    busy, other = add_accounts(sql_uow, clock, 2)
    due_now(schedule, [busy, other])
    assert sorted(schedule.claim_due(CYCLE, every_hour, 10)) == [busy, other]
    before = datetime.now(UTC)
    schedule.noted(CYCLE, busy, "skipped", "held", due_in=timedelta(seconds=30))
    schedule.noted(CYCLE, other, "skipped", "held", due_in=2 * HOUR)  # not later
    due = {e.account: e for e in schedule.entries(CYCLE)}
    slack = timedelta(seconds=20)
    assert before < due[busy].next_due_at < before + timedelta(seconds=30) + slack
    assert due[busy].last_outcome == "skipped"
    assert due[busy].failures == 0
    assert before + HOUR - slack < due[other].next_due_at < before + HOUR + slack


def test_concurrent_claimers_never_claim_one_account_twice(
    sql_uow: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    accounts = add_accounts(sql_uow, clock, 120)
    SqlScheduleStore(make_session_factory(engine)).ensure(
        CYCLE, dict.fromkeys(accounts, timedelta(0))
    )
    claims: Counter[AccountId] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def claimer() -> None:
        store = SqlScheduleStore(make_session_factory(engine))
        try:
            start.wait(timeout=30)
            for _ in range(200):  # bounded; ends when nothing is due
                got = store.claim_due(CYCLE, every_hour, 3)
                if not got:
                    return
                with lock:
                    claims.update(got)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    assert sorted(claims) == accounts
    assert set(claims.values()) == {1}


def _running_run(sql_uow: Factory, clock: FakeClock, account: AccountId) -> int:
    with sql_uow() as uow:
        run_id = uow.runs.start(SyncKind.ORDERS, account, "schedule", clock.now())
        uow.commit()
    return run_id


def _outcomes(engine: sa.Engine) -> dict[int, tuple[str, str | None]]:
    with Session(engine) as session:
        return {
            int(i): (o, e)
            for i, o, e in session.execute(
                sa.select(
                    col(SyncRunRow.id), col(SyncRunRow.outcome), col(SyncRunRow.error)
                )
            )
        }


def test_the_sweep_closes_only_runs_no_live_lease_covers_and_fences_their_holders(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    dead, live, expired, finished = add_accounts(sql_uow, clock, 4)
    leases = SqlLeaseStore(make_session_factory(engine))
    live_fence = leases.acquire(live, "otherhost:1:a", HOUR)
    paused = leases.acquire(expired, "otherhost:2:b", -timedelta(seconds=1))
    assert live_fence is not None
    assert paused is not None
    runs = {key: _running_run(sql_uow, clock, key) for key in (dead, live, expired)}
    done = _running_run(sql_uow, clock, finished)
    with sql_uow() as uow:
        uow.runs.finish(done, RunOutcome.SUCCEEDED, {}, clock.now())
        uow.commit()
    assert schedule.unleased_running() == sorted([dead, expired])

    closed = sweep_abandoned(schedule, leases, "sweeper:1:c", LeaseTerms(HOUR))

    assert closed == sorted([runs[dead], runs[expired]])
    outcomes = _outcomes(engine)
    assert outcomes[runs[dead]] == ("abandoned", ABANDONED_ERROR)
    assert outcomes[runs[expired]] == ("abandoned", ABANDONED_ERROR)
    assert outcomes[runs[live]] == ("running", None)
    assert outcomes[done][0] == "succeeded"
    # the paused holder is fenced off for good; the sweep's leases are released
    assert not leases.renew(paused, HOUR)
    assert leases.holder(dead) is None
    assert leases.holder(expired) is None
    assert leases.holder(live) == "otherhost:1:a"
    assert sweep_abandoned(schedule, leases, "sweeper:1:c", LeaseTerms(HOUR)) == []


def test_the_sweeps_look_up_of_running_runs_is_indexed(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    """The run log grows without bound; the sweep (every minute, every daemon)
    looks up only the few runs left ``running``, through an index."""
    add_accounts(sql_uow, clock, 1)
    indexes = {
        i["name"]: i["column_names"]
        for i in sa.inspect(engine).get_indexes("sync_runs")
    }
    assert indexes.get("ix_sync_runs_outcome_account_id") == ["outcome", "account_id"]
    with Statements(engine) as sent:
        schedule.unleased_running()
    (look_up,) = sent.work
    parameters = sent.parameters[sent.sent.index(look_up)]
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # a tiny table
            plan = connection.exec_driver_sql("EXPLAIN " + look_up, parameters)
        else:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + look_up, parameters
            )
        assert "ix_sync_runs_outcome_account_id" in str(plan.all())


def test_closing_abandoned_runs_needs_a_fence_that_still_holds(
    sql_uow: Factory, clock: FakeClock, schedule: SqlScheduleStore, engine: sa.Engine
) -> None:
    (account,) = add_accounts(sql_uow, clock, 1)
    leases = SqlLeaseStore(make_session_factory(engine))
    run_id = _running_run(sql_uow, clock, account)
    stale = leases.acquire(account, "sweeper:1:a", -timedelta(seconds=1))
    assert stale is not None
    assert schedule.close_abandoned(stale) == []
    assert _outcomes(engine)[run_id] == ("running", None)
