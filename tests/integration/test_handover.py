"""A shop handed over from one account to another (a Tokopedia shop bound to TikTok
Shop): stored on both accounts, orders split by when they were placed, so an order
seen through both APIs moves stock once; the account taken over plans and repairs
nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from config.settings import Settings
from core.domain.accounts import ChannelAccount, Handover, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.listings import Listing
from core.domain.marketplaces import Capability
from core.domain.remote import RemoteOrder, RemoteOrderLine
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import ListingState, OrderStatus, SyncKind
from core.errors import DomainError
from core.services.orders import OrderIngester
from core.services.publish import plan_push
from core.services.runs import RunRecorder
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

Factory = Callable[[], SqlUnitOfWork]

MAKER = ProducerCode("IKM-NTT-001")
LEGACY = ChannelAccount(
    AccountId("tokopedia-lapas"), Marketplace.TOKOPEDIA, "880022", (MAKER,)
)
BOUND = ChannelAccount(AccountId("tts-lapas"), Marketplace("warung"), "7001", (MAKER,))
EVERYTHING = frozenset(Capability)


def handed_over(clock: FakeClock) -> tuple[ChannelAccount, ChannelAccount]:
    handover = Handover(LEGACY.id, BOUND.id, clock.now())
    return replace(LEGACY, handover=handover), replace(BOUND, handover=handover)


@pytest.fixture
def seeded(sql_uow: Factory, clock: FakeClock) -> Factory:
    """KOPI-1 with 10 units received, listed live on the legacy account."""
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(MAKER, "Koperasi Kopi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        uow.products.add_many([product("KOPI-1")], clock.now())
        uow.stock.record_many(
            [NewMovement(Sku("KOPI-1"), MovementReason.RECEIPT, 10, 0, "r1", "test")],
            clock.now(),
        )
        uow.accounts.save(LEGACY, clock.now())
        uow.listings.save_many(
            LEGACY.id,
            [Listing(LEGACY.id, Sku("KOPI-1"), ListingState.LIVE, "1", last_stock=10)],
            clock.now(),
        )
        uow.commit()
    return sql_uow


def order(external_id: str, placed: FakeClock, units: int) -> RemoteOrder:
    return RemoteOrder(
        external_id=external_id,
        status=OrderStatus.PAID,
        raw_status="PAID",
        placed_at=placed.now(),
        updated_at=placed.now(),
        lines=(RemoteOrderLine(Sku("KOPI-1"), units, 10_000),),
        total_amount=10_000 * units,
    )


def ingest(
    factory: Factory, clock: FakeClock, account: ChannelAccount, *orders: RemoteOrder
) -> dict[str, int]:
    recorder = RunRecorder(factory, clock, SyncKind.ORDERS, account.id, "test")
    recorder.start()
    OrderIngester(factory, account, clock, recorder).ingest(list(orders))
    return dict(recorder.counts)


def stored_ids(factory: Factory, account: ChannelAccount, *ids: str) -> list[str]:
    with factory() as uow:
        return sorted(uow.orders.get_many(account.id, list(ids)))


def reserved(factory: Factory) -> int:
    with factory() as uow:
        return uow.stock.levels()["KOPI-1"].reserved


def test_a_handover_is_stored_on_both_accounts(
    seeded: Factory, clock: FakeClock
) -> None:
    legacy, bound = handed_over(clock)
    with seeded() as uow:
        uow.accounts.save(legacy, clock.now())
        uow.accounts.save(bound, clock.now())
        uow.commit()
    with seeded() as uow:
        found = {a.id: a for a in uow.accounts.get_all()}
    assert found[LEGACY.id] == legacy
    assert found[BOUND.id] == bound
    assert found[BOUND.id].handover == Handover(LEGACY.id, BOUND.id, clock.now())


def test_taking_over_an_account_not_stored_yet_is_refused_naming_it(
    sql_uow: Factory, clock: FakeClock, engine: sa.Engine
) -> None:
    _, bound = handed_over(clock)
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(MAKER, "Koperasi Kopi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        with pytest.raises(DomainError, match="takes over 'tokopedia-lapas', which"):
            uow.accounts.save(bound, clock.now())
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM channel_accounts")
            ).scalar_one()
            == 0
        )


def test_an_order_seen_through_both_apis_moves_stock_once(
    seeded: Factory, clock: FakeClock
) -> None:
    """Before the handover the legacy API's ids, after it the new API's: each
    account keeps its side, so the two views of one order never both count."""
    before = FakeClock(clock.now() - timedelta(hours=2))
    after = FakeClock(clock.now() + timedelta(minutes=5))
    legacy, bound = handed_over(clock)
    with seeded() as uow:
        uow.accounts.save(legacy, clock.now())
        uow.accounts.save(bound, clock.now())
        uow.commit()

    legacy_counts = ingest(
        seeded, clock, legacy, order("L-1", before, 2), order("L-2", after, 3)
    )
    bound_counts = ingest(
        seeded, clock, bound, order("S-1", before, 2), order("S-2", after, 3)
    )

    assert stored_ids(seeded, legacy, "L-1", "L-2") == ["L-1"]
    assert stored_ids(seeded, bound, "S-1", "S-2") == ["S-2"]
    assert reserved(seeded) == 2 + 3  # not 10: each order reserved once
    assert legacy_counts["orders_other_side_of_handover"] == 1
    assert bound_counts["orders_other_side_of_handover"] == 1
    # without the handover, both views would have been counted
    ingest(seeded, clock, BOUND, order("S-1", before, 2))
    assert reserved(seeded) == 2 + 3 + 2


def test_the_account_taken_over_plans_nothing_and_the_successor_binds(
    seeded: Factory, clock: FakeClock
) -> None:
    legacy, bound = handed_over(clock)
    with seeded() as uow:
        uow.accounts.save(legacy, clock.now())
        uow.accounts.save(bound, clock.now())
        uow.commit()

    # the live listing of the legacy account is neither deactivated nor updated,
    # though without the handover it would be sent its price
    assert plan_push(seeded, legacy, capabilities=EVERYTHING).empty
    assert not plan_push(seeded, LEGACY, capabilities=EVERYTHING).empty
    successor = plan_push(seeded, bound, capabilities=EVERYTHING)
    # a create, which connectors precede with a look-up by SKU (bound, not listed
    # twice)
    assert successor.counts()["create"] == 1


def test_handover_settings_are_checked_naming_the_field() -> None:
    def accounts(*extra: dict[str, object]) -> dict[str, object]:
        base = {"shop_id": "1", "producers": ["IKM-NTT-001"]}
        return {
            "accounts": [
                {"id": "old", "marketplace": "tokopedia", **base},
                *({"marketplace": "shopee", **base, **e} for e in extra),
            ]
        }

    at = "2026-12-08T00:00:00+07:00"
    good = Settings.model_validate(
        accounts({"id": "new", "takes_over": "old", "handover_at": at})
    )
    assert good.accounts[1].handover_at is not None
    cases: dict[str, dict[str, object]] = {
        "give both": {"id": "new", "takes_over": "old"},
        "no account 'gone'": {"id": "new", "takes_over": "gone", "handover_at": at},
        "cannot take over itself": {
            "id": "new",
            "takes_over": "new",
            "handover_at": at,
        },
        "timezone": {"id": "new", "takes_over": "old", "handover_at": at[:19]},
    }
    for expected, entry in cases.items():
        with pytest.raises(ValueError, match=expected):
            Settings.model_validate(accounts(entry))
    with pytest.raises(ValueError, match=r"accounts\[2\].takes_over: 'old' is already"):
        Settings.model_validate(
            accounts(
                {"id": "new", "takes_over": "old", "handover_at": at},
                {"id": "newer", "shop_id": "2", "takes_over": "old", "handover_at": at},
            )
        )
