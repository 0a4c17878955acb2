"""Account leases on a real database: the database's clock decides expiry, a new
holder gets a new epoch, and a fenced unit of work refuses every write once its
lease has passed to another holder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.listings import Listing
from core.domain.orders import StockState, StoredOrder
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import ListingState, OrderStatus, RunOutcome, SyncKind
from core.errors import LeaseLostError, StoreError
from core.ports import Fence
from core.services.runs import RunRecorder
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore, db_now, fence_holds
from core.store.tables import AccountLeaseRow
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]

KOPI_CO = ProducerCode("IKM-NTT-001")
SHOPEE = AccountId("shopee-ntt")
TOKOPEDIA = AccountId("tokopedia-ntt")
LEASE = timedelta(minutes=5)


@pytest.fixture
def leases(sql_uow: Factory, engine: sa.Engine, clock: FakeClock) -> SqlLeaseStore:
    """A producer, a product with stock, a Shopee and a Tokopedia account."""
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(KOPI_CO, "Koperasi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1", KOPI_CO)], clock.now())
        for account, marketplace in (
            (SHOPEE, Marketplace.SHOPEE),
            (TOKOPEDIA, Marketplace.TOKOPEDIA),
        ):
            uow.accounts.save(
                ChannelAccount(account, marketplace, "220011", (KOPI_CO,)),
                clock.now(),
            )
        uow.stock.record(
            NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 10, 0, "r-1", "t"),
            clock.now(),
        )
        uow.commit()
    return SqlLeaseStore(make_session_factory(engine))


def expire(engine: sa.Engine, account: AccountId = SHOPEE) -> None:
    """The account's lease ran out (by the database's clock) a minute ago."""
    with Session(engine) as session:
        session.execute(
            sa.update(AccountLeaseRow).values(
                expires_at=db_now(session, -timedelta(minutes=1))
            )
        )
        session.commit()


def expiry(engine: sa.Engine) -> datetime:
    with Session(engine) as session:
        found = session.execute(sa.select(col(AccountLeaseRow.expires_at))).scalar()
    assert isinstance(found, datetime)
    return found


# ------------------------------------------------------------------ taking leases


def test_the_first_holder_wins_and_a_second_waits_for_expiry(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    first = leases.acquire(SHOPEE, "worker-a", LEASE)
    assert first == Fence(SHOPEE, "worker-a", 1)
    assert leases.acquire(SHOPEE, "worker-b", LEASE) is None
    expire(engine)
    second = leases.acquire(SHOPEE, "worker-b", LEASE)
    assert second == Fence(SHOPEE, "worker-b", 2)
    assert leases.acquire(SHOPEE, "worker-a", LEASE) is None


def test_the_expiry_follows_the_database_clock(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    before = datetime.now(UTC)
    assert leases.acquire(SHOPEE, "worker-a", LEASE) is not None
    after = datetime.now(UTC)
    # the database and this test share the machine's clock
    slack = timedelta(seconds=2)
    assert before + LEASE - slack <= expiry(engine) <= after + LEASE + slack


def test_a_renewal_keeps_the_epoch_and_moves_the_expiry(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    fence = leases.acquire(SHOPEE, "worker-a", timedelta(seconds=30))
    assert fence is not None
    first = expiry(engine)
    assert leases.renew(fence, LEASE)
    assert expiry(engine) > first
    assert leases.acquire(SHOPEE, "worker-a", LEASE) == fence  # same holder, same epoch
    assert leases.acquire(SHOPEE, "worker-b", LEASE) is None


def test_a_renewal_after_a_takeover_fails_and_changes_nothing(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    stale = leases.acquire(SHOPEE, "worker-a", LEASE)
    assert stale is not None
    expire(engine)
    fresh = leases.acquire(SHOPEE, "worker-b", LEASE)
    assert fresh is not None
    assert fresh.epoch == stale.epoch + 1
    before = expiry(engine)
    assert not leases.renew(stale, LEASE)
    leases.release(stale)  # the stale holder's release leaves the new lease alone
    assert leases.holder(SHOPEE) == "worker-b"
    assert expiry(engine) == before


def test_release_lets_another_holder_take_the_lease(leases: SqlLeaseStore) -> None:
    fence = leases.acquire(SHOPEE, "worker-a", LEASE)
    assert fence is not None
    leases.release(fence)
    assert leases.holder(SHOPEE) is None
    assert leases.acquire(SHOPEE, "worker-b", LEASE) is not None


def test_a_released_lease_keeps_its_epoch_growing(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    """A holder paused with epoch 1 must never meet a later lease of epoch 1,
    however often the lease was released in between."""
    paused = leases.acquire(SHOPEE, "worker-a", LEASE)
    assert paused is not None
    expire(engine)
    second = leases.acquire(SHOPEE, "worker-b", LEASE)
    assert second is not None
    leases.release(second)
    third = leases.acquire(SHOPEE, "worker-c", LEASE)
    assert third is not None
    assert [paused.epoch, second.epoch, third.epoch] == [1, 2, 3]
    leases.release(third)
    again = leases.acquire(SHOPEE, "worker-c", LEASE)  # its own name, a new holding
    assert again is not None
    assert again.epoch == 4
    assert not leases.renew(third, LEASE)  # a released holding stays released
    with Session(engine) as session:
        assert not fence_holds(session, paused)
        assert not fence_holds(session, third)
        assert fence_holds(session, again)


def test_release_by_another_holder_does_nothing(leases: SqlLeaseStore) -> None:
    assert leases.acquire(SHOPEE, "worker-a", LEASE) is not None
    leases.release(Fence(SHOPEE, "worker-b", 1))
    assert leases.holder(SHOPEE) == "worker-a"
    assert leases.acquire(SHOPEE, "worker-b", LEASE) is None


def test_leases_are_per_account(leases: SqlLeaseStore) -> None:
    assert leases.acquire(SHOPEE, "worker-a", LEASE) is not None
    assert leases.acquire(TOKOPEDIA, "worker-b", LEASE) is not None


def test_a_lease_of_an_unknown_account_is_a_store_error(leases: SqlLeaseStore) -> None:
    with pytest.raises(StoreError, match="not in the store"):
        leases.acquire(AccountId("nope"), "worker-a", LEASE)


def test_a_holder_with_a_long_name_renews_its_own_lease(leases: SqlLeaseStore) -> None:
    holder = "worker-" + "x" * 200
    fence = leases.acquire(SHOPEE, holder, LEASE)
    assert fence is not None
    assert leases.acquire(SHOPEE, holder, LEASE) == fence
    assert leases.renew(fence, LEASE)


@pytest.mark.parametrize("expired", [False, True], ids=["new", "expired"])
def test_contending_holders_never_both_win(
    leases: SqlLeaseStore, engine: sa.Engine, expired: bool
) -> None:
    if expired:
        assert leases.acquire(SHOPEE, "old", LEASE) is not None
        expire(engine)
    won: list[Fence] = []
    errors: list[BaseException] = []

    def contend(index: int) -> None:
        try:
            if fence := leases.acquire(SHOPEE, f"worker-{index}", LEASE):
                won.append(fence)
        except BaseException as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(won) == 1
    assert won[0].epoch == (2 if expired else 1)
    assert leases.acquire(SHOPEE, "late", LEASE) is None


def test_a_lease_whose_holder_is_gone_is_taken_over_once(
    leases: SqlLeaseStore,
) -> None:
    assert leases.acquire(SHOPEE, "host:1:dead", LEASE) is not None
    assert leases.holder(SHOPEE) == "host:1:dead"
    taken = leases.take_over(SHOPEE, "host:1:dead", "host:2:new", LEASE)
    assert taken == Fence(SHOPEE, "host:2:new", 2)
    # a second process judging the same dead holder loses the race
    assert leases.take_over(SHOPEE, "host:1:dead", "host:3:late", LEASE) is None
    assert leases.holder(SHOPEE) == "host:2:new"
    assert leases.holder(TOKOPEDIA) is None


# ------------------------------------------------------------------ fencing


def order(external_id: str) -> StoredOrder:
    at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    return StoredOrder(
        account=SHOPEE,
        external_id=external_id,
        status=OrderStatus.PAID,
        raw_status="PAID",
        total_amount=170_000,
        stock_state=StockState.NONE,
        oversold=False,
        placed_at=at,
        remote_updated_at=at,
        lines=(),
    )


def movement(key: str) -> NewMovement:
    return NewMovement(Sku("KOPI-1"), MovementReason.ADJUSTMENT, -1, 0, key, "t")


def test_a_stale_holder_gets_no_write_accepted(
    leases: SqlLeaseStore, engine: sa.Engine, clock: FakeClock
) -> None:
    factory = make_session_factory(engine)
    stale = leases.acquire(SHOPEE, "host:1:paused", LEASE)
    assert stale is not None
    units = partial(SqlUnitOfWork, factory, stale)
    recorder = RunRecorder(units, clock, SyncKind.ORDERS, SHOPEE, "manual:test")
    run_id = recorder.start()  # accepted while the lease holds
    with units() as uow:
        uow.stock.record(movement("before"), clock.now())
        uow.commit()

    # the holder is paused past its lease; another one takes the account
    expire(engine)
    fresh = leases.acquire(SHOPEE, "host:2:fresh", LEASE)
    assert fresh is not None

    def order_upsert(uow: SqlUnitOfWork) -> None:
        uow.orders.save_many([order("O-1")], clock.now())

    def ledger_movement(uow: SqlUnitOfWork) -> None:
        uow.stock.record(movement("after"), clock.now())

    def listing_state(uow: SqlUnitOfWork) -> None:
        uow.listings.save_many(
            SHOPEE, [Listing(SHOPEE, Sku("KOPI-1"), ListingState.LIVE)], clock.now()
        )

    def bookmark(uow: SqlUnitOfWork) -> None:
        uow.orders.set_bookmark(SHOPEE, clock.now(), clock.now())

    refused = 0
    for write in (order_upsert, ledger_movement, listing_state, bookmark):
        with units() as uow:
            write(uow)
            try:
                uow.commit()
            except LeaseLostError:
                refused += 1
    with pytest.raises(LeaseLostError, match="host:1:paused"):
        recorder.finish(RunOutcome.SUCCEEDED)
    refused += 1

    assert refused == 5
    with SqlUnitOfWork(factory) as uow:
        assert uow.orders.get_many(SHOPEE, ["O-1"]) == {}
        assert [m.idempotency_key for m in uow.stock.history(Sku("KOPI-1"), 10)] == [
            "before",
            "r-1",
        ]
        assert uow.listings.for_account(SHOPEE) == {}
        assert uow.orders.bookmark(SHOPEE) is None
        run = uow.runs.get(run_id)
    assert run is not None
    assert run.outcome is RunOutcome.RUNNING  # not overwritten by the stale holder

    # the new holder's writes go through
    with partial(SqlUnitOfWork, factory, fresh)() as uow:
        order_upsert(uow)
        uow.commit()
    with SqlUnitOfWork(factory) as uow:
        assert set(uow.orders.get_many(SHOPEE, ["O-1"])) == {"O-1"}


def test_a_fenced_write_after_release_or_expiry_is_refused(
    leases: SqlLeaseStore, engine: sa.Engine, clock: FakeClock
) -> None:
    factory = make_session_factory(engine)
    fence = leases.acquire(SHOPEE, "worker-a", LEASE)
    assert fence is not None
    expire(engine)  # expired, not yet taken: the holder may not write either
    with SqlUnitOfWork(factory, fence) as uow:
        uow.stock.record(movement("late"), clock.now())
        with pytest.raises(LeaseLostError):
            uow.commit()
    assert leases.renew(fence, LEASE)  # nobody took it: renewing is safe
    leases.release(fence)
    with SqlUnitOfWork(factory, fence) as uow:
        uow.stock.record(movement("released"), clock.now())
        with pytest.raises(LeaseLostError):
            uow.commit()
    with SqlUnitOfWork(factory) as uow:
        assert len(uow.stock.history(Sku("KOPI-1"), 10)) == 1
