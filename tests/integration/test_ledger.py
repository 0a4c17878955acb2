"""The stock ledger on a real database: exactly once, never below zero, append-only."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime

import pytest
import sqlalchemy as sa

from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import ProducerCode, Sku
from core.domain.stock import MovementReason, NewMovement
from core.errors import (
    IdempotencyConflictError,
    InsufficientStockError,
    UnknownSkuError,
)
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

PRODUCER = Producer(
    ProducerCode("IKM-NTT-001"),
    "Koperasi Kopi Bajawa",
    ProducerKind.IKM,
    "Nusa Tenggara Timur",
    "Ngada",
)


@pytest.fixture
def seeded(
    sql_uow: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> Callable[[], SqlUnitOfWork]:
    with sql_uow() as uow:
        uow.producers.add_many([PRODUCER], clock.now())
        uow.products.add_many([product("KOPI-1"), product("KOPI-2")], clock.now())
        uow.commit()
    return sql_uow


def adjust(sku: str, delta: int, key: str) -> NewMovement:
    return NewMovement(Sku(sku), MovementReason.ADJUSTMENT, delta, 0, key, actor="test")


def receipt(sku: str, quantity: int, key: str) -> NewMovement:
    return NewMovement(Sku(sku), MovementReason.RECEIPT, quantity, 0, key, actor="test")


def record(factory: Callable[[], SqlUnitOfWork], movement: NewMovement, at: datetime):  # type: ignore[no-untyped-def]
    with factory() as uow:
        result = uow.stock.record(movement, at)
        uow.commit()
        return result


def test_levels_are_sums_of_movements(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    record(seeded, receipt("KOPI-1", 10, "r1"), clock.now())
    record(
        seeded,
        NewMovement(Sku("KOPI-1"), MovementReason.ORDER_RESERVED, 0, 3, "o1", "t"),
        clock.now(),
    )
    recorded = record(
        seeded,
        NewMovement(Sku("kopi-1"), MovementReason.ORDER_SHIPPED, -2, -2, "o2", "t"),
        clock.now(),
    )
    assert (
        recorded.level.on_hand,
        recorded.level.reserved,
        recorded.level.available,
    ) == (8, 1, 7)
    with seeded() as uow:
        level = uow.stock.level("KOPI-1")
        assert (level.on_hand, level.reserved, level.available) == (8, 1, 7)
        assert uow.stock.levels()["KOPI-1"] == level
        totals = uow.stock.totals()
        assert (totals.on_hand, totals.reserved, totals.available) == (8, 1, 7)
        assert (totals.skus_with_stock, totals.skus_out_of_stock) == (1, 1)
        history = uow.stock.history("KOPI-1", limit=2)
        assert [m.idempotency_key for m in history] == ["o2", "o1"]
        assert history[0].at == clock.now()


def test_a_reused_key_moves_nothing_twice(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    first = record(seeded, receipt("KOPI-1", 10, "same"), clock.now())
    again = record(seeded, receipt("kopi-1", 10, "same"), clock.now())
    assert first.created
    assert not again.created
    assert again.movement.id == first.movement.id
    assert again.level.on_hand == 10
    with pytest.raises(IdempotencyConflictError):
        record(seeded, receipt("KOPI-1", 11, "same"), clock.now())
    with pytest.raises(IdempotencyConflictError):
        record(seeded, receipt("KOPI-2", 10, "same"), clock.now())
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 10
        assert uow.stock.level("KOPI-2").on_hand == 0


def test_a_replayed_decrement_is_recognised_not_refused(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    record(seeded, receipt("KOPI-1", 1, "r"), clock.now())
    record(seeded, adjust("KOPI-1", -1, "d"), clock.now())
    again = record(seeded, adjust("KOPI-1", -1, "d"), clock.now())
    assert not again.created
    assert again.level.on_hand == 0


def test_on_hand_never_goes_below_zero(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    record(seeded, receipt("KOPI-1", 2, "r"), clock.now())
    with pytest.raises(InsufficientStockError, match="on hand is 2"):
        record(seeded, adjust("KOPI-1", -3, "d"), clock.now())
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 2
        assert len(uow.stock.history("KOPI-1", 10)) == 1


def test_unknown_sku(seeded: Callable[[], SqlUnitOfWork], clock: FakeClock) -> None:
    with pytest.raises(UnknownSkuError):
        record(seeded, receipt("NOPE", 1, "r"), clock.now())


def test_record_many_skips_known_keys(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    with seeded() as uow:
        assert (
            uow.stock.record_many(
                [receipt("KOPI-1", 5, "a"), receipt("KOPI-2", 3, "b")], clock.now()
            )
            == 2
        )
        uow.commit()
    with seeded() as uow:
        assert (
            uow.stock.record_many(
                [receipt("KOPI-1", 5, "a"), receipt("KOPI-1", 1, "c")], clock.now()
            )
            == 1
        )
        uow.commit()
    with seeded() as uow:
        assert {k: v.on_hand for k, v in uow.stock.levels().items()} == {
            "KOPI-1": 6,
            "KOPI-2": 3,
        }


def test_record_many_takes_stock_down_in_order_and_never_below_zero(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    reserve = NewMovement(Sku("KOPI-1"), MovementReason.ORDER_RESERVED, 0, 4, "o", "t")
    ship = NewMovement(Sku("KOPI-1"), MovementReason.ORDER_SHIPPED, -4, -4, "s", "t")
    with seeded() as uow:
        assert (
            uow.stock.record_many(
                [receipt("KOPI-1", 4, "r"), reserve, ship], clock.now()
            )
            == 3
        )
        uow.commit()
    with seeded() as uow:
        # a replayed decrement moves nothing, so it does not count against on-hand
        assert (
            uow.stock.record_many([ship, receipt("KOPI-1", 1, "r2")], clock.now()) == 1
        )
        uow.commit()
    with seeded() as uow, pytest.raises(InsufficientStockError, match="on hand is 1"):
        uow.stock.record_many(
            [adjust("KOPI-2", 2, "a"), adjust("KOPI-1", -2, "d")], clock.now()
        )
    with seeded() as uow:
        assert {k: (v.on_hand, v.reserved) for k, v in uow.stock.levels().items()} == {
            "KOPI-1": (1, 0)
        }


def test_recorded_finds_movements_by_key(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    record(seeded, receipt("KOPI-1", 5, "a"), clock.now())
    record(seeded, receipt("kopi-2", 3, "b"), clock.now())
    with seeded() as uow:
        found = uow.stock.recorded(["a", "b", "missing"])
    assert sorted(found) == ["a", "b"]
    assert (found["b"].sku, found["b"].on_hand_delta, found["b"].reason) == (
        "KOPI-2",
        3,
        MovementReason.RECEIPT,
    )


def test_uncommitted_movements_are_rolled_back(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    with seeded() as uow:
        uow.stock.record(receipt("KOPI-1", 5, "lost"), clock.now())
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE stock_movements SET on_hand_delta = 100", "DELETE FROM stock_movements"],
)
def test_the_database_refuses_to_edit_or_delete_movements(
    seeded: Callable[[], SqlUnitOfWork],
    clock: FakeClock,
    engine: sa.Engine,
    statement: str,
) -> None:
    record(seeded, receipt("KOPI-1", 5, "r"), clock.now())
    with (
        pytest.raises(sa.exc.DatabaseError, match="append-only"),
        engine.begin() as connection,
    ):
        connection.execute(sa.text(statement))
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 5


def _run_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # noqa: BLE001  (collected and re-raised below)
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.slow
def test_eight_threads_adjusting_one_sku_end_with_the_exact_sum(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    """8 threads x 500 adjustments of +2/-1 on one SKU: no lost update, no negative."""
    threads, per_thread = 8, 500

    def work(index: int) -> None:
        for step in range(per_thread):
            delta = 2 if step % 2 == 0 else -1
            record(seeded, adjust("KOPI-1", delta, f"t{index}-{step}"), clock.now())

    _run_threads(threads, work)
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == threads * (per_thread // 2) * (
            2 - 1
        )
        assert len(uow.stock.history("KOPI-1", 10_000)) == threads * per_thread


@pytest.mark.slow
def test_concurrent_decrements_stop_exactly_at_zero(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    record(seeded, receipt("KOPI-1", 100, "r"), clock.now())
    refused = []

    def work(index: int) -> None:
        for step in range(25):
            try:
                record(seeded, adjust("KOPI-1", -1, f"t{index}-{step}"), clock.now())
            except InsufficientStockError:
                refused.append(1)

    _run_threads(8, work)
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 0
    assert len(refused) == 8 * 25 - 100


def test_one_key_from_many_threads_is_recorded_once(
    seeded: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    created = []

    def work(index: int) -> None:
        for _ in range(20):
            created.append(
                record(seeded, receipt("KOPI-1", 7, "shared"), clock.now()).created
            )

    _run_threads(8, work)
    assert created.count(True) == 1
    with seeded() as uow:
        assert uow.stock.level("KOPI-1").on_hand == 7


def test_lock_holds_other_writers_of_those_skus_until_commit(
    seeded: Callable[[], SqlUnitOfWork], engine: sa.Engine, database_url: str
) -> None:
    """While one transaction holds a SKU's ledger, another writer cannot start on it."""
    with seeded() as uow:
        uow.stock.lock(["KOPI-1"])
        if engine.dialect.name == "postgresql":
            other = sa.create_engine(sa.make_url(database_url))
            with (
                pytest.raises(sa.exc.OperationalError, match="could not obtain lock"),
                other.begin() as connection,
            ):
                connection.execute(
                    sa.text(
                        "SELECT id FROM products WHERE sku_key = 'KOPI-1' "
                        "FOR UPDATE NOWAIT"
                    )
                )
            other.dispose()
        else:
            other_file = sqlite3.connect(
                str(sa.make_url(database_url).database), timeout=0
            )
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other_file.execute("BEGIN IMMEDIATE")
            other_file.close()
