"""Settling oversold orders through the ports: handled, or cancelled on the
marketplace and read back; every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, ClassVar, cast

import pytest
import sqlalchemy as sa

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason, SettlementKind, StoredOrder
from core.domain.remote import RemoteOrder, RemoteOrderLine
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import OrderStatus, RunOutcome, SyncKind
from core.errors import OutcomeUnknownError, RejectedError, TransientError
from core.ports import MarketplaceConnector
from core.services import oversold as oversold_service
from core.services.orders import OrderIngester
from core.services.oversold import (
    SettlementRefusedError,
    cancel_oversold,
    settle_oversold,
)
from core.services.runs import RunRecorder
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]

MAKER = ProducerCode("IKM-NTT-001")
SHOPEE = ChannelAccount(AccountId("shopee-ntt"), Marketplace.SHOPEE, "77", (MAKER,))


@dataclass
class FakeMarketplace:
    """A connector that cancels (or refuses) and reads orders back as told."""

    shown: dict[str, RemoteOrder]
    cancels: bool = True
    refuse: RejectedError | None = None
    read_fails: bool = False
    cancelled: list[tuple[str, CancelReason]] = field(default_factory=list)
    key: ClassVar[str] = "fake"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.CANCEL_ORDERS} if self.cancels else ())

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.cancelled.append((external_id, reason))
        order = self.shown[external_id]
        self.shown[external_id] = replace(
            order,
            status=OrderStatus.CANCELLED,
            raw_status="CANCELLED",
            updated_at=order.updated_at + timedelta(minutes=1),
        )

    def fetch_order(self, external_id: str) -> RemoteOrder:
        if self.read_fails:
            raise TransientError("HTTP 503")
        return self.shown[external_id]


def remote(external_id: str, clock: FakeClock, quantity: int = 2) -> RemoteOrder:
    return RemoteOrder(
        external_id=external_id,
        status=OrderStatus.PAID,
        raw_status="READY_TO_SHIP",
        placed_at=clock.now(),
        updated_at=clock.now(),
        lines=(RemoteOrderLine(Sku("KOPI-1"), quantity, 10_000),),
        total_amount=10_000 * quantity,
    )


@pytest.fixture
def seeded(sql_uow: Factory, clock: FakeClock) -> Factory:
    """KOPI-1 with 3 units; order A (2, fits) and order B (2, oversold) paid."""
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(MAKER, "Koperasi Kopi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1")], clock.now())
        uow.stock.record_many(
            [NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 3, 0, "r1", "test")],
            clock.now(),
        )
        uow.accounts.save(SHOPEE, clock.now())
        uow.commit()
    recorder = RunRecorder(sql_uow, clock, SyncKind.ORDERS, SHOPEE.id, "test")
    recorder.start()
    OrderIngester(sql_uow, SHOPEE, clock, recorder).ingest(
        [remote("A", clock), remote("B", clock)]
    )
    recorder.finish()
    clock.advance(seconds=60)
    return sql_uow


def connector_for(
    _factory: Factory, clock: FakeClock, **kwargs: Any
) -> FakeMarketplace:
    return FakeMarketplace({i: remote(i, clock) for i in ("A", "B")}, **kwargs)


def as_port(fake: FakeMarketplace) -> MarketplaceConnector:
    return cast(MarketplaceConnector, fake)


def order(factory: Factory, external_id: str) -> StoredOrder:
    with factory() as uow:
        return uow.orders.get_many(SHOPEE.id, [external_id])[external_id]


def open_ids(factory: Factory) -> list[str]:
    with factory() as uow:
        return [o.external_id for o in uow.orders.oversold(SHOPEE.id, open_only=True)]


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("orders", "stock_movements", "sync_runs")
    with engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {t}"))]  # noqa: S608
            for t in tables
        }


def reserved(factory: Factory) -> int:
    with factory() as uow:
        return uow.stock.level("KOPI-1").reserved


def test_an_order_marked_handled_leaves_the_open_list_with_who_when_and_note(
    seeded: Factory, clock: FakeClock
) -> None:
    assert open_ids(seeded) == ["B"]

    done = settle_oversold(
        seeded,
        SHOPEE.id,
        "B",
        note="  three jars found in the store room  ",
        actor="officer:ani",
        clock=clock,
    )

    assert done.settlement is not None
    assert done.settlement.kind is SettlementKind.HANDLED
    assert done.settlement.actor == "officer:ani"
    assert done.settlement.at == clock.now()
    assert done.settlement.note == "three jars found in the store room"
    assert open_ids(seeded) == []
    with seeded() as uow:  # still flagged (history), still listed with --all
        assert [o.external_id for o in uow.orders.oversold(SHOPEE.id)] == ["B"]
    assert (done.status, done.stock_state.value) == (OrderStatus.PAID, "reserved")


@pytest.mark.parametrize(
    ("external_id", "expected"),
    [
        pytest.param("Z", "no such order", id="unknown"),
        pytest.param("A", "is not oversold", id="not-oversold"),
    ],
)
def test_settling_an_order_that_is_not_an_open_oversold_one_is_refused(
    seeded: Factory,
    clock: FakeClock,
    engine: sa.Engine,
    external_id: str,
    expected: str,
) -> None:
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match=expected):
        settle_oversold(
            seeded, SHOPEE.id, external_id, note="n", actor="officer:ani", clock=clock
        )

    assert snapshot(engine) == before


def test_settling_twice_is_refused_naming_who_settled_it(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    settle_oversold(seeded, SHOPEE.id, "B", note="n", actor="officer:ani", clock=clock)
    before = snapshot(engine)
    clock.advance(seconds=60)

    with pytest.raises(SettlementRefusedError, match=r"already settled.*officer:ani"):
        settle_oversold(
            seeded, SHOPEE.id, "B", note="again", actor="officer:budi", clock=clock
        )
    fake = connector_for(seeded, clock)
    with pytest.raises(SettlementRefusedError, match="already settled"):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:budi",
            clock=clock,
            trigger="test",
        )

    assert fake.cancelled == []
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("note", "actor", "expected"),
    [
        pytest.param("  ", "officer:ani", "note: expected a non-empty", id="no-note"),
        pytest.param("x" * 501, "officer:ani", "note: expected at most 500", id="long"),
        pytest.param("n", " ", "actor: expected a non-empty", id="no-actor"),
        pytest.param(
            "jar\x00s",
            "officer:ani",
            r"note: control character \\x00 at position 4",
            id="nul-in-note",
        ),
        pytest.param(
            "\x1b[2Jok",
            "officer:ani",
            r"note: control character \\x1b at position 1",
            id="escape-in-note",
        ),
        pytest.param(
            "n",
            "officer:\x1b]0;pwned\x07ani",
            r"actor: control character \\x1b at position 9",
            id="escape-in-actor",
        ),
        pytest.param(
            "n", "officer:\nani", r"actor: control character \\x0a", id="newline-actor"
        ),
    ],
)
def test_a_settlement_without_a_note_or_actor_is_refused(
    seeded: Factory,
    clock: FakeClock,
    engine: sa.Engine,
    note: str,
    actor: str,
    expected: str,
) -> None:
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match=expected):
        settle_oversold(seeded, SHOPEE.id, "B", note=note, actor=actor, clock=clock)

    assert snapshot(engine) == before


def test_a_cancel_goes_to_the_marketplace_and_the_status_comes_back_from_it(
    seeded: Factory, clock: FakeClock
) -> None:
    fake = connector_for(seeded, clock)
    assert reserved(seeded) == 4

    outcome = cancel_oversold(
        seeded,
        as_port(fake),
        SHOPEE,
        "B",
        reason=CancelReason.OUT_OF_STOCK,
        actor="officer:ani",
        clock=clock,
        trigger="test",
    )

    assert fake.cancelled == [("B", CancelReason.OUT_OF_STOCK)]
    assert outcome.read_back_error == ""
    assert (outcome.order.status, outcome.order.stock_state.value) == (
        OrderStatus.CANCELLED,
        "released",
    )
    settlement = outcome.order.settlement
    assert settlement is not None
    assert (settlement.kind, settlement.actor, settlement.note) == (
        SettlementKind.CANCELLED,
        "officer:ani",
        "cancelled on shopee: out_of_stock",
    )
    assert reserved(seeded) == 2
    assert open_ids(seeded) == []
    with seeded() as uow:
        run = uow.runs.get(outcome.run_id)
    assert run is not None
    assert (run.kind, run.outcome) == (SyncKind.ORDERS, RunOutcome.SUCCEEDED)


def test_a_cancel_whose_read_back_fails_leaves_the_status_to_the_next_pull(
    seeded: Factory, clock: FakeClock
) -> None:
    fake = connector_for(seeded, clock, read_fails=True)

    outcome = cancel_oversold(
        seeded,
        as_port(fake),
        SHOPEE,
        "B",
        reason=CancelReason.OUT_OF_STOCK,
        actor="officer:ani",
        clock=clock,
        trigger="test",
        note="buyer told by chat",
    )

    # cancelled on the marketplace, not assumed here: still paid and reserved
    assert "HTTP 503" in outcome.read_back_error
    assert (outcome.order.status, outcome.order.stock_state.value) == (
        OrderStatus.PAID,
        "reserved",
    )
    assert outcome.order.settlement is not None
    assert outcome.order.settlement.note == "buyer told by chat"
    assert reserved(seeded) == 4
    with seeded() as uow:
        run = uow.runs.get(outcome.run_id)
    assert run is not None
    assert run.outcome is RunOutcome.FAILED
    # the next read (a pull) brings the cancellation; the release happens once
    recorder = RunRecorder(seeded, clock, SyncKind.ORDERS, SHOPEE.id, "test")
    recorder.start()
    ingester = OrderIngester(seeded, SHOPEE, clock, recorder)
    ingester.ingest([fake.shown["B"]])
    ingester.ingest([fake.shown["B"]])
    assert order(seeded, "B").stock_state.value == "released"
    assert reserved(seeded) == 2


def test_a_marketplace_without_cancellation_is_refused_before_any_call(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    fake = connector_for(seeded, clock, cancels=False)
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match="documents no cancellation"):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
        )

    assert fake.cancelled == []
    assert snapshot(engine) == before


def test_a_refused_cancellation_records_nothing(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    fake = connector_for(
        seeded, clock, refuse=RejectedError("error_param: cannot be cancelled")
    )
    before = snapshot(engine)

    with pytest.raises(RejectedError, match="cannot be cancelled"):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
        )

    assert snapshot(engine) == before
    assert open_ids(seeded) == ["B"]


@pytest.mark.parametrize(
    ("external_id", "expected"),
    [
        pytest.param("Z", "no such order", id="unknown"),
        pytest.param("A", "is not oversold", id="not-oversold"),
    ],
)
def test_cancelling_an_order_that_is_not_an_open_oversold_one_is_refused(
    seeded: Factory,
    clock: FakeClock,
    engine: sa.Engine,
    external_id: str,
    expected: str,
) -> None:
    fake = connector_for(seeded, clock)
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match=expected):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            external_id,
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
        )

    assert fake.cancelled == []
    assert snapshot(engine) == before


def test_a_shipped_order_is_not_sent_for_cancellation(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    recorder = RunRecorder(seeded, clock, SyncKind.ORDERS, SHOPEE.id, "test")
    recorder.start()
    shipped = replace(
        remote("B", clock),
        status=OrderStatus.SHIPPED,
        raw_status="SHIPPED",
        updated_at=clock.now() + timedelta(minutes=5),
    )
    OrderIngester(seeded, SHOPEE, clock, recorder).ingest([shipped])
    fake = connector_for(seeded, clock)
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match="is shipped; only an order not"):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
        )

    assert fake.cancelled == []
    assert snapshot(engine) == before


@dataclass
class UnansweredMarketplace(FakeMarketplace):
    """Its cancel answer is lost; ``applied`` says whether the cancel took effect."""

    applied: bool = False

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        if self.applied:
            super().cancel_order(external_id, reason)
        raise OutcomeUnknownError("no usable answer (ReadTimeout)")


@pytest.mark.parametrize("read_fails", [False, True], ids=["shown-paid", "read-fails"])
def test_an_unanswered_cancellation_not_applied_records_nothing_and_says_so(
    seeded: Factory, clock: FakeClock, engine: sa.Engine, read_fails: bool
) -> None:
    fake = UnansweredMarketplace(
        {i: remote(i, clock) for i in ("A", "B")}, read_fails=read_fails
    )
    before = snapshot(engine)

    with pytest.raises(OutcomeUnknownError) as raised:
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
        )

    assert ("may be sent again" in str(raised.value)) is not read_fails
    assert snapshot(engine) == before
    assert open_ids(seeded) == ["B"]


def test_an_unanswered_cancellation_that_was_applied_settles_the_order(
    seeded: Factory, clock: FakeClock
) -> None:
    fake = UnansweredMarketplace(
        {i: remote(i, clock) for i in ("A", "B")}, applied=True
    )

    outcome = cancel_oversold(
        seeded,
        as_port(fake),
        SHOPEE,
        "B",
        reason=CancelReason.OUT_OF_STOCK,
        actor="officer:ani",
        clock=clock,
        trigger="test",
    )

    assert outcome.order.status is OrderStatus.CANCELLED
    assert outcome.order.settlement is not None
    assert outcome.order.settlement.kind is SettlementKind.CANCELLED
    assert outcome.order.settlement.note == (
        "already cancelled on shopee (the cancellation, out_of_stock, was not answered)"
    )
    assert open_ids(seeded) == []
    assert reserved(seeded) == 2


def test_a_cancel_with_a_control_character_in_its_note_is_refused_before_any_call(
    seeded: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    fake = connector_for(seeded, clock)
    before = snapshot(engine)

    with pytest.raises(SettlementRefusedError, match=r"note: control character"):
        cancel_oversold(
            seeded,
            as_port(fake),
            SHOPEE,
            "B",
            reason=CancelReason.OUT_OF_STOCK,
            actor="officer:ani",
            clock=clock,
            trigger="test",
            note="buyer told\x00",
        )

    assert fake.cancelled == []
    assert snapshot(engine) == before


def test_two_officers_settling_at_once_one_wins_and_the_other_changes_nothing(
    seeded: Factory,
    clock: FakeClock,
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second officer read the order as open; the first settles it before the
    second writes: the second is refused and the first's settlement stays."""
    read_open = oversold_service.open_oversold

    def first_settles_meanwhile(
        factory: Factory, account: AccountId, external_id: str
    ) -> StoredOrder:
        found = read_open(factory, account, external_id)
        monkeypatch.setattr(oversold_service, "open_oversold", read_open)
        settle_oversold(
            factory,
            account,
            external_id,
            note="first",
            actor="officer:ani",
            clock=clock,
        )
        return found

    monkeypatch.setattr(oversold_service, "open_oversold", first_settles_meanwhile)
    with pytest.raises(SettlementRefusedError, match="settled by someone else"):
        settle_oversold(
            seeded, SHOPEE.id, "B", note="second", actor="officer:budi", clock=clock
        )

    done = order(seeded, "B").settlement
    assert done is not None
    assert (done.actor, done.note) == ("officer:ani", "first")
