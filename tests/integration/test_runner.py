"""The account-job runner on a real database: one writer per account whatever the
workers' clocks say, one account's failure never stops the others, and a job that
lost its lease gets nothing written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import RunOutcome, SyncKind
from core.errors import AccountBusyError
from core.services.runs import RunRecorder, RunReport
from core.services.stopping import StopRequest
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore, db_now
from core.store.tables import AccountLeaseRow
from core.store.uow import SqlUnitOfWork, fenced_units
from scheduler.leases import LeaseTerms
from scheduler.runner import AccountJobRunner, JobContext, RunnerOptions
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

KOPI_CO = ProducerCode("IKM-NTT-001")
ACCOUNTS = [
    ChannelAccount(AccountId("shopee-ntt"), Marketplace.SHOPEE, "1", (KOPI_CO,)),
    ChannelAccount(AccountId("tokopedia-ntt"), Marketplace.TOKOPEDIA, "2", (KOPI_CO,)),
    ChannelAccount(AccountId("bukalapak-ntt"), Marketplace.BUKALAPAK, "3", (KOPI_CO,)),
]
SHOPEE = ACCOUNTS[0]
#: Shorter than the workers' clock skew: a worker judging expiry by its own clock
#: would take a live lease.
TERMS = LeaseTerms(timedelta(minutes=5))


class _Connector:
    """A connector stand-in: the jobs here only write to the store."""

    closed = 0

    def close(self) -> None:
        _Connector.closed += 1


@pytest.fixture
def engine_seeded(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> sa.Engine:
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(KOPI_CO, "Koperasi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1", KOPI_CO)], clock.now())
        for account in ACCOUNTS:
            uow.accounts.save(account, clock.now())
        uow.commit()
    return engine


def runner(
    engine: sa.Engine,
    clock: FakeClock,
    *,
    workers: int = 1,
    stop: StopRequest | None = None,
) -> AccountJobRunner:
    factory = make_session_factory(engine)
    return AccountJobRunner(
        SqlLeaseStore(factory),
        lambda fence: fenced_units(factory, fence),
        lambda _account: _Connector(),  # type: ignore[arg-type,return-value]
        clock,
        RunnerOptions(workers=workers, lease=TERMS, stop=stop or StopRequest()),
    )


def receipt(context: JobContext, key: str) -> RunReport:
    """A job writing one run and one movement, as a service does."""
    recorder = RunRecorder(
        context.uow_factory, context.clock, SyncKind.STOCK, context.account.id, "t"
    )
    recorder.start()
    with context.uow_factory() as uow:
        uow.stock.record(
            NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 1, 0, key, "t"),
            context.clock.now(),
        )
        uow.commit()
    return recorder.report(recorder.finish())


def movements(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            str(r[0])
            for r in connection.execute(
                sa.text("SELECT idempotency_key FROM stock_movements ORDER BY id")
            )
        ]


def runs(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            (str(r[0]), str(r[1]))
            for r in connection.execute(
                sa.text("SELECT kind, outcome FROM sync_runs ORDER BY id")
            )
        ]


@pytest.mark.parametrize(
    ("first", "second"), [(-10, 10), (10, -10)], ids=["behind-ahead", "ahead-behind"]
)
def test_workers_with_clocks_ten_minutes_off_never_overlap(
    engine_seeded: sa.Engine, first: int, second: int
) -> None:
    now = datetime.now(UTC)
    holder = runner(engine_seeded, FakeClock(now + timedelta(minutes=first)))
    other = runner(engine_seeded, FakeClock(now + timedelta(minutes=second)))
    inside: list[RunReport] = []

    def job(context: JobContext) -> RunReport:
        # while this worker holds the account, the other one is refused it
        inside.append(other.run_one(SyncKind.STOCK, SHOPEE, lambda c: receipt(c, "b")))
        return receipt(context, "a")

    (report,) = holder.run(SyncKind.STOCK, [SHOPEE], job)

    assert report.outcome is RunOutcome.SUCCEEDED
    assert [(r.outcome, r.error) for r in inside] == [
        (RunOutcome.SKIPPED, "the account is held by another process")
    ]
    assert movements(engine_seeded) == ["a"]
    # released: the other worker takes it at once, whatever its clock says
    (after,) = other.run(SyncKind.STOCK, [SHOPEE], lambda c: receipt(c, "b"))
    assert after.outcome is RunOutcome.SUCCEEDED
    assert movements(engine_seeded) == ["a", "b"]


def test_one_accounts_failure_never_stops_the_others(
    engine_seeded: sa.Engine, clock: FakeClock
) -> None:
    closed = _Connector.closed

    def job(context: JobContext) -> RunReport:
        if context.account.id == "tokopedia-ntt":
            raise RuntimeError("the job broke")
        return receipt(context, context.account.id)

    reports = runner(engine_seeded, clock, workers=3).run(SyncKind.STOCK, ACCOUNTS, job)

    assert [(r.account, r.outcome) for r in reports] == [
        ("shopee-ntt", RunOutcome.SUCCEEDED),
        ("tokopedia-ntt", RunOutcome.FAILED),
        ("bukalapak-ntt", RunOutcome.SUCCEEDED),
    ]
    assert reports[1].error == "RuntimeError: the job broke"
    assert sorted(movements(engine_seeded)) == ["bukalapak-ntt", "shopee-ntt"]
    assert _Connector.closed == closed + 3  # every connector closed
    leases = SqlLeaseStore(make_session_factory(engine_seeded))
    assert [leases.holder(a.id) for a in ACCOUNTS] == [None] * 3  # all released


def test_a_job_that_lost_its_lease_writes_nothing_more_and_fails(
    engine_seeded: sa.Engine, clock: FakeClock
) -> None:
    factory = make_session_factory(engine_seeded)
    leases = SqlLeaseStore(factory)
    taken: list[Any] = []

    def job(context: JobContext) -> RunReport:
        recorder = RunRecorder(
            context.uow_factory, clock, SyncKind.STOCK, context.account.id, "t"
        )
        recorder.start()
        # paused past the lease: it runs out, and another worker takes the account
        with Session(engine_seeded) as session:
            session.execute(
                sa.update(AccountLeaseRow).values(
                    expires_at=db_now(session, -timedelta(seconds=1))
                )
            )
            session.commit()
        taken.append(leases.acquire(SHOPEE.id, "host:2:new", TERMS.duration))
        try:
            with context.uow_factory() as uow:
                uow.stock.record(
                    NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 1, 0, "x", "t"),
                    clock.now(),
                )
                uow.commit()
        except Exception:
            recorder.finish(RunOutcome.FAILED, "refused")  # refused as well
            raise
        return recorder.report(recorder.finish())

    (report,) = runner(engine_seeded, clock).run(SyncKind.STOCK, [SHOPEE], job)

    assert taken[0] is not None
    assert report.outcome is RunOutcome.FAILED
    assert "LeaseLostError" in report.error
    assert movements(engine_seeded) == []
    assert runs(engine_seeded) == [("stock", "running")]  # never overwritten
    assert leases.holder(SHOPEE.id) == "host:2:new"  # the new holder keeps it


def test_nothing_starts_once_stopping_and_an_exclusive_job_waits_for_nobody(
    engine_seeded: sa.Engine, clock: FakeClock
) -> None:
    stop = StopRequest()
    stop.request("SIGTERM")
    (report,) = runner(engine_seeded, clock, stop=stop).run(
        SyncKind.STOCK, [SHOPEE], lambda c: receipt(c, "never")
    )
    assert (report.outcome, report.error) == (
        RunOutcome.SKIPPED,
        "not started: stopping on SIGTERM",
    )

    busy = threading.Event()

    def job(context: JobContext) -> RunReport:
        with pytest.raises(AccountBusyError, match="shopee-ntt"):
            runner(engine_seeded, clock).run_exclusive(SHOPEE, lambda c: busy.set())
        return receipt(context, "a")

    (held,) = runner(engine_seeded, clock).run(SyncKind.STOCK, [SHOPEE], job)
    assert held.outcome is RunOutcome.SUCCEEDED
    assert not busy.is_set()
    assert movements(engine_seeded) == ["a"]
