"""Order ingestion on a real database: each line's movement decided in turn, written
in bulk — exactly once, oversold flagged, a short shipment waiting for stock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.listings import Listing
from core.domain.remote import RemoteOrder, RemoteOrderLine
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import ListingState, OrderStatus, SyncKind
from core.services.orders import OrderIngester
from core.services.runs import RunRecorder
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]

MAKER = ProducerCode("IKM-NTT-001")
ACCOUNT = ChannelAccount(
    AccountId("tokopedia-ntt"), Marketplace.TOKOPEDIA, "880022", (MAKER,)
)


@pytest.fixture
def seeded(sql_uow: Factory, clock: FakeClock) -> Factory:
    """KOPI-1 with 5 units received, KOPI-2 with 1, a live listing of each."""
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(MAKER, "Koperasi Kopi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1"), product("KOPI-2")], clock.now())
        uow.stock.record_many(
            [receipt("KOPI-1", 5, "r1"), receipt("KOPI-2", 1, "r2")], clock.now()
        )
        uow.accounts.save(ACCOUNT, clock.now())
        uow.listings.save_many(
            ACCOUNT.id,
            [
                Listing(ACCOUNT.id, Sku(s), ListingState.LIVE, s, last_stock=3)
                for s in ("KOPI-1", "KOPI-2")
            ],
            clock.now(),
        )
        uow.commit()
    return sql_uow


def receipt(sku: str, quantity: int, key: str) -> NewMovement:
    return NewMovement(Sku(sku), MovementReason.RECEIPT, quantity, 0, key, "test")


def order(
    external_id: str,
    status: OrderStatus,
    clock: FakeClock,
    *lines: tuple[str, int],
) -> RemoteOrder:
    return RemoteOrder(
        external_id=external_id,
        status=status,
        raw_status=status.value,
        placed_at=clock.now(),
        updated_at=clock.now(),
        lines=tuple(RemoteOrderLine(Sku(s), q, 10_000) for s, q in lines),
        total_amount=10_000 * sum(q for _, q in lines),
    )


def ingester(factory: Factory, clock: FakeClock) -> OrderIngester:
    recorder = RunRecorder(factory, clock, SyncKind.ORDERS, ACCOUNT.id, "test")
    recorder.start()
    return OrderIngester(factory, ACCOUNT, clock, recorder)


def movements(engine: sa.Engine) -> list[tuple[str, str, int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT idempotency_key, reason, on_hand_delta, reserved_delta "
                "FROM stock_movements ORDER BY id"
            )
        )
        return [(str(k), str(r), int(o), int(d)) for k, r, o, d in rows]


def stored(factory: Factory, external_id: str) -> tuple[str, bool]:
    with factory() as uow:
        found = uow.orders.get_many(ACCOUNT.id, [external_id])[external_id]
        return found.stock_state.value, found.oversold


def levels(factory: Factory) -> dict[str, tuple[int, int]]:
    with factory() as uow:
        return {k: (v.on_hand, v.reserved) for k, v in uow.stock.levels().items()}


def last_stock(factory: Factory) -> dict[str, int | None]:
    with factory() as uow:
        return {
            k: v.last_stock for k, v in uow.listings.for_account(ACCOUNT.id).items()
        }


def test_a_batch_reserves_each_line_once_in_order(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    ingest = ingester(seeded, clock)
    batch = [
        order("A", OrderStatus.PAID, clock, ("KOPI-1", 2), ("kopi-2", 1)),
        order("B", OrderStatus.PAID, clock, ("KOPI-1", 1)),
        order("C", OrderStatus.PENDING_PAYMENT, clock, ("KOPI-1", 1)),
    ]

    ingest.ingest(batch)
    ingest.ingest(batch)  # seen again: nothing moves twice

    assert movements(engine)[2:] == [
        ("order:tokopedia-ntt:A:1:reserve", "order_reserved", 0, 2),
        ("order:tokopedia-ntt:A:2:reserve", "order_reserved", 0, 1),
        ("order:tokopedia-ntt:B:1:reserve", "order_reserved", 0, 1),
    ]
    assert levels(seeded) == {"KOPI-1": (5, 3), "KOPI-2": (1, 1)}
    assert [stored(seeded, i) for i in "ABC"] == [
        ("reserved", False),
        ("reserved", False),
        ("none", False),
    ]
    assert ingest.recorder.counts["movement_reserve"] == 3
    assert ingest.recorder.counts["orders_unchanged"] == 3
    # the marketplace took these units itself: their stock is pushed again
    assert last_stock(seeded) == {"KOPI-1": None, "KOPI-2": None}


def test_a_reservation_beyond_what_is_available_is_kept_and_flagged(
    seeded: Factory, clock: FakeClock
) -> None:
    ingest = ingester(seeded, clock)

    ingest.ingest(
        [
            order("A", OrderStatus.PAID, clock, ("KOPI-2", 1)),
            order("B", OrderStatus.PAID, clock, ("KOPI-2", 1)),
        ]
    )

    assert levels(seeded)["KOPI-2"] == (1, 2)
    assert stored(seeded, "A") == ("reserved", False)
    assert stored(seeded, "B") == ("reserved", True)
    assert ingest.recorder.counts["oversold"] == 1
    with seeded() as uow:
        assert [o.external_id for o in uow.orders.oversold(ACCOUNT.id)] == ["B"]


def test_a_shipment_short_of_stock_waits_then_ships_each_line_once(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    ingest = ingester(seeded, clock)
    ingest.ingest(
        [
            order("A", OrderStatus.PAID, clock, ("KOPI-2", 1)),
            order("B", OrderStatus.PAID, clock, ("KOPI-1", 2), ("KOPI-2", 1)),
        ]
    )
    clock.advance(hours=1)

    # both ship: A takes KOPI-2's only unit, so B's second line must wait
    ingest.ingest(
        [
            order("A", OrderStatus.SHIPPED, clock, ("KOPI-2", 1)),
            order("B", OrderStatus.SHIPPED, clock, ("KOPI-1", 2), ("KOPI-2", 1)),
        ]
    )

    assert stored(seeded, "A") == ("shipped", False)
    assert stored(seeded, "B") == ("reserved", True)
    assert levels(seeded) == {"KOPI-1": (3, 0), "KOPI-2": (0, 1)}
    shipped = [m[0] for m in movements(engine) if m[1] == "order_shipped"]
    assert shipped == [
        "order:tokopedia-ntt:A:1:ship",
        "order:tokopedia-ntt:B:1:ship",  # the line with stock went
    ]
    assert ingest.recorder.counts["order_ship_failed"] == 1

    # stock arrives; the waiting order is tried again
    with seeded() as uow:
        uow.stock.record_many([receipt("KOPI-2", 4, "r3")], clock.now())
        uow.commit()
    with seeded() as uow:
        waiting = uow.orders.oversold(ACCOUNT.id)
    ingest.settle(waiting)

    assert stored(seeded, "B") == ("shipped", True)
    assert levels(seeded) == {"KOPI-1": (3, 0), "KOPI-2": (3, 0)}
    shipped = [m[0] for m in movements(engine) if m[1] == "order_shipped"]
    assert shipped == [
        "order:tokopedia-ntt:A:1:ship",
        "order:tokopedia-ntt:B:1:ship",
        "order:tokopedia-ntt:B:2:ship",
    ]


def test_a_cancelled_paid_order_releases_and_a_returned_one_comes_back(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    ingest = ingester(seeded, clock)
    ingest.ingest(
        [
            order("A", OrderStatus.PAID, clock, ("KOPI-1", 2)),
            order("B", OrderStatus.SHIPPED, clock, ("KOPI-1", 1)),
        ]
    )
    clock.advance(hours=1)

    ingest.ingest(
        [
            order("A", OrderStatus.CANCELLED, clock, ("KOPI-1", 2)),
            order("B", OrderStatus.RETURNED, clock, ("KOPI-1", 1)),
        ]
    )

    assert [m[1] for m in movements(engine)[2:]] == [
        "order_reserved",
        "order_reserved",
        "order_shipped",
        "order_released",
        "return",
    ]
    assert levels(seeded)["KOPI-1"] == (5, 0)
    assert stored(seeded, "A") == ("released", False)
    assert stored(seeded, "B") == ("returned", False)
