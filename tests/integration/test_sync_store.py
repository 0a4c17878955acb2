"""The sync engine's store on a real database: listings, orders and runs (leases:
test_leases.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.listings import Listing
from core.domain.orders import (
    OrderLine,
    Settlement,
    SettlementKind,
    StockState,
    StoredOrder,
)
from core.domain.remote import OrderWindow
from core.domain.runs import RunItem
from core.domain.sync import ListingState, OrderStatus, RunOutcome, SyncKind
from core.errors import StoreError, TransientError, UnknownSkuError
from core.services.runs import RunRecorder
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock, product

pytestmark = pytest.mark.db

Factory = Callable[[], SqlUnitOfWork]

KOPI_CO = ProducerCode("IKM-NTT-001")
TENUN_CO = ProducerCode("IKM-NTT-002")
SHOPEE = AccountId("shopee-ntt")
TOKOPEDIA = AccountId("tokopedia-ntt")


def producer(code: ProducerCode) -> Producer:
    return Producer(code, f"Koperasi {code}", ProducerKind.IKM, "NTT", "Ngada")


@pytest.fixture
def seeded(sql_uow: Factory, clock: FakeClock) -> Factory:
    """Two producers, three products, a Shopee account of the first producer and a
    Tokopedia account of both."""
    with sql_uow() as uow:
        uow.producers.add_many([producer(KOPI_CO), producer(TENUN_CO)], clock.now())
        uow.products.add_many(
            [
                product("KOPI-1", KOPI_CO),
                product("KOPI-2", KOPI_CO),
                product("TENUN-1", TENUN_CO),
            ],
            clock.now(),
        )
        uow.accounts.save(
            ChannelAccount(SHOPEE, Marketplace.SHOPEE, "220011", (KOPI_CO,)),
            clock.now(),
        )
        uow.accounts.save(
            ChannelAccount(
                TOKOPEDIA, Marketplace.TOKOPEDIA, "880022", (KOPI_CO, TENUN_CO)
            ),
            clock.now(),
        )
        uow.commit()
    return sql_uow


def test_products_for_producers(seeded: Factory) -> None:
    with seeded() as uow:
        assert sorted(uow.products.for_producers([KOPI_CO])) == ["KOPI-1", "KOPI-2"]
        both = uow.products.for_producers([KOPI_CO, TENUN_CO])
        assert sorted(both) == ["KOPI-1", "KOPI-2", "TENUN-1"]
        assert both["TENUN-1"] == product("TENUN-1", TENUN_CO)
        assert uow.products.for_producers(["NOBODY"]) == {}


# ------------------------------------------------------------------ listings


def live(sku: str, **changes: object) -> Listing:
    values: dict[str, object] = {
        "external_id": f"ext-{sku}",
        "external_variant_id": None,
        "last_price": 85_000,
        "last_stock": 7,
        "last_content_hash": "a" * 32,
        "last_error": None,
    }
    values.update(changes)
    return Listing(SHOPEE, Sku(sku), ListingState.LIVE, **values)  # type: ignore[arg-type]


def save_listings(
    factory: Factory, at: datetime, *listings: Listing, account: AccountId = SHOPEE
) -> None:
    with factory() as uow:
        uow.listings.save_many(account, listings, at)
        uow.commit()


def test_an_account_without_listings_has_none(seeded: Factory) -> None:
    with seeded() as uow:
        assert uow.listings.for_account(SHOPEE) == {}


def test_saved_listings_are_read_back_by_sku_key(
    seeded: Factory, clock: FakeClock
) -> None:
    first = live("KOPI-1", external_variant_id="v-1", last_error=None)
    pending = Listing(SHOPEE, Sku("KOPI-2"), ListingState.PENDING)
    save_listings(seeded, clock.now(), first, pending)
    with seeded() as uow:
        assert uow.listings.for_account(SHOPEE) == {"KOPI-1": first, "KOPI-2": pending}


def test_a_listing_saved_under_another_spelling_of_the_sku_is_the_product_s(
    seeded: Factory, clock: FakeClock
) -> None:
    save_listings(seeded, clock.now(), live("kopi-1"))
    with seeded() as uow:
        stored = uow.listings.for_account(SHOPEE)
    assert list(stored) == ["KOPI-1"]
    assert stored["KOPI-1"].sku == "KOPI-1"


def test_saving_again_overwrites_the_listing(seeded: Factory, clock: FakeClock) -> None:
    save_listings(
        seeded,
        clock.now(),
        Listing(SHOPEE, Sku("KOPI-1"), ListingState.CREATING, last_price=85_000),
    )
    clock.advance(minutes=5)
    failed = Listing(
        SHOPEE,
        Sku("KOPI-1"),
        ListingState.FAILED,
        last_price=90_000,
        last_stock=3,
        last_content_hash="b" * 32,
        last_error="category not allowed",
    )
    save_listings(seeded, clock.now(), failed)
    clock.advance(minutes=5)
    bound = live("KOPI-1", external_variant_id="v-9")
    save_listings(seeded, clock.now(), bound)
    with seeded() as uow:
        assert uow.listings.for_account(SHOPEE) == {"KOPI-1": bound}


def test_a_long_error_is_cut_to_two_thousand_characters(
    seeded: Factory, clock: FakeClock
) -> None:
    failed = Listing(SHOPEE, Sku("KOPI-1"), ListingState.FAILED, last_error="x" * 5000)
    save_listings(seeded, clock.now(), failed)
    with seeded() as uow:
        assert uow.listings.for_account(SHOPEE)["KOPI-1"].last_error == "x" * 2000


def test_listings_belong_to_their_account(seeded: Factory, clock: FakeClock) -> None:
    save_listings(seeded, clock.now(), live("KOPI-1"))
    on_tokopedia = Listing(TOKOPEDIA, Sku("KOPI-1"), ListingState.PENDING)
    save_listings(seeded, clock.now(), on_tokopedia, account=TOKOPEDIA)
    with seeded() as uow:
        assert uow.listings.for_account(SHOPEE) == {"KOPI-1": live("KOPI-1")}
        assert uow.listings.for_account(TOKOPEDIA) == {"KOPI-1": on_tokopedia}


def test_an_unknown_sku_is_refused_and_nothing_is_saved(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        with pytest.raises(UnknownSkuError, match="NOPE"):
            uow.listings.save_many(SHOPEE, [live("KOPI-1"), live("NOPE")], clock.now())
        assert uow.listings.for_account(SHOPEE) == {}


def test_listings_of_an_unknown_account_are_a_store_error(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        with pytest.raises(StoreError, match="not in the store"):
            uow.listings.for_account(AccountId("lazada-ntt"))
        with pytest.raises(StoreError, match="not in the store"):
            uow.listings.save_many(
                AccountId("lazada-ntt"), [live("KOPI-1")], clock.now()
            )


def test_saving_no_listings_does_nothing(seeded: Factory, clock: FakeClock) -> None:
    with seeded() as uow:
        uow.listings.save_many(AccountId("not-even-checked"), [], clock.now())
        assert uow.listings.for_account(SHOPEE) == {}


def test_accounts_listing_names_only_live_listings(
    seeded: Factory, clock: FakeClock
) -> None:
    save_listings(
        seeded,
        clock.now(),
        live("KOPI-1"),
        Listing(SHOPEE, Sku("KOPI-2"), ListingState.DELISTED, external_id="x-2"),
    )
    save_listings(
        seeded,
        clock.now(),
        Listing(TOKOPEDIA, Sku("KOPI-1"), ListingState.LIVE, external_id="t-1"),
        Listing(TOKOPEDIA, Sku("KOPI-2"), ListingState.LIVE, external_id="t-2"),
        Listing(TOKOPEDIA, Sku("TENUN-1"), ListingState.FAILED),
        account=TOKOPEDIA,
    )
    with seeded() as uow:
        found = uow.listings.accounts_listing(["KOPI-1", "KOPI-2", "TENUN-1", "NOPE"])
        assert found == {"KOPI-1": [SHOPEE, TOKOPEDIA], "KOPI-2": [TOKOPEDIA]}
        assert uow.listings.accounts_listing([]) == {}


# ------------------------------------------------------------------ orders

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def stored_order(
    external_id: str,
    status: OrderStatus = OrderStatus.PAID,
    *,
    account: AccountId = SHOPEE,
    updated: datetime = T0,
    lines: tuple[OrderLine, ...] = (),
    state: StockState = StockState.RESERVED,
    oversold: bool = False,
) -> StoredOrder:
    return StoredOrder(
        account=account,
        external_id=external_id,
        status=status,
        raw_status=status.value.upper(),
        total_amount=170_000,
        stock_state=state,
        oversold=oversold,
        placed_at=updated - timedelta(hours=1),
        remote_updated_at=updated,
        lines=lines,
    )


def save_orders(factory: Factory, at: datetime, *orders: StoredOrder) -> None:
    with factory() as uow:
        uow.orders.save_many(orders, at)
        uow.commit()


def test_an_order_is_saved_with_its_lines(seeded: Factory, clock: FakeClock) -> None:
    order = stored_order(
        "O-1",
        lines=(
            OrderLine(1, "KOPI-1", 2, 85_000, Sku("KOPI-1")),
            OrderLine(2, "tenun-1", 1, 350_000, Sku("TENUN-1")),
        ),
    )
    save_orders(seeded, clock.now(), order)
    with seeded() as uow:
        assert uow.orders.get_many(SHOPEE, ["O-1"]) == {"O-1": order}


def test_a_line_of_an_unknown_product_comes_back_without_a_sku(
    seeded: Factory, clock: FakeClock
) -> None:
    order = stored_order(
        "O-1",
        lines=(
            OrderLine(1, "GONE-1", 1, 10_000, Sku("GONE-1")),
            OrderLine(2, "???", 1, 10_000, None),
            OrderLine(3, "kopi-1", 1, 85_000, Sku("kopi-1")),
        ),
    )
    save_orders(seeded, clock.now(), order)
    with seeded() as uow:
        lines = uow.orders.get_many(SHOPEE, ["O-1"])["O-1"].lines
    assert [(x.line_no, x.external_sku, x.sku) for x in lines] == [
        (1, "GONE-1", None),
        (2, "???", None),
        (3, "kopi-1", "KOPI-1"),
    ]


def test_saving_a_known_order_overwrites_its_state_and_keeps_its_lines(
    seeded: Factory, clock: FakeClock
) -> None:
    line = OrderLine(1, "KOPI-1", 2, 85_000, Sku("KOPI-1"))
    save_orders(seeded, clock.now(), stored_order("O-1", lines=(line,)))
    clock.advance(hours=1)
    shipped = stored_order(
        "O-1",
        OrderStatus.SHIPPED,
        updated=T0 + timedelta(hours=1),
        state=StockState.SHIPPED,
        oversold=True,
        lines=(OrderLine(1, "OTHER", 9, 1, None),),
    )
    save_orders(seeded, clock.now(), shipped)
    with seeded() as uow:
        got = uow.orders.get_many(SHOPEE, ["O-1"])["O-1"]
        assert uow.orders.count_by_status(SHOPEE) == {OrderStatus.SHIPPED: 1}
    assert (got.status, got.raw_status, got.stock_state, got.oversold) == (
        OrderStatus.SHIPPED,
        "SHIPPED",
        StockState.SHIPPED,
        True,
    )
    assert got.remote_updated_at == T0 + timedelta(hours=1)
    assert got.lines == (line,)


def test_one_save_inserts_new_and_overwrites_known_orders(
    seeded: Factory, clock: FakeClock
) -> None:
    save_orders(seeded, clock.now(), stored_order("O-1"))
    save_orders(
        seeded,
        clock.now(),
        stored_order("O-1", OrderStatus.CANCELLED, state=StockState.RELEASED),
        stored_order("O-2"),
        stored_order("O-1", account=TOKOPEDIA),
    )
    with seeded() as uow:
        shopee = uow.orders.get_many(SHOPEE, ["O-1", "O-2"])
        tokopedia = uow.orders.get_many(TOKOPEDIA, ["O-1", "O-2"])
    assert {k: v.status for k, v in shopee.items()} == {
        "O-1": OrderStatus.CANCELLED,
        "O-2": OrderStatus.PAID,
    }
    assert shopee["O-1"].stock_state is StockState.RELEASED
    assert list(tokopedia) == ["O-1"]
    assert tokopedia["O-1"].account == TOKOPEDIA


def test_get_many_leaves_out_unknown_orders(seeded: Factory, clock: FakeClock) -> None:
    save_orders(seeded, clock.now(), stored_order("O-1"))
    with seeded() as uow:
        assert list(uow.orders.get_many(SHOPEE, ["O-1", "O-404"])) == ["O-1"]
        assert uow.orders.get_many(SHOPEE, []) == {}
        assert uow.orders.get_many(TOKOPEDIA, ["O-1"]) == {}


def test_stored_times_come_back_as_utc_instants(
    seeded: Factory, clock: FakeClock
) -> None:
    wib = timezone(timedelta(hours=7))
    order = stored_order("O-1", updated=datetime(2026, 11, 22, 10, 0, tzinfo=wib))
    save_orders(seeded, clock.now(), order)
    with seeded() as uow:
        got = uow.orders.get_many(SHOPEE, ["O-1"])["O-1"]
    assert got.remote_updated_at == T0
    assert got.remote_updated_at is not None
    assert got.remote_updated_at.utcoffset() == timedelta(0)


def test_open_ids_leave_out_final_orders_newest_first(
    seeded: Factory, clock: FakeClock
) -> None:
    statuses = list(OrderStatus)
    save_orders(
        seeded,
        clock.now(),
        *(
            stored_order(f"O-{i}", status, updated=T0 + timedelta(minutes=i))
            for i, status in enumerate(statuses)
        ),
        stored_order("T-1", account=TOKOPEDIA, updated=T0 + timedelta(days=1)),
    )
    open_ = [
        f"O-{i}"
        for i, s in enumerate(statuses)
        if s not in {OrderStatus.CANCELLED, OrderStatus.RETURNED, OrderStatus.COMPLETED}
    ]
    with seeded() as uow:
        assert uow.orders.open_ids(SHOPEE, limit=100) == open_[::-1]
        assert uow.orders.open_ids(SHOPEE, limit=2) == open_[::-1][:2]
        assert uow.orders.open_ids(TOKOPEDIA, limit=100) == ["T-1"]
    assert len(open_) == 5


def test_oversold_orders_of_one_account_or_all(
    seeded: Factory, clock: FakeClock
) -> None:
    line = OrderLine(1, "KOPI-1", 5, 85_000, Sku("KOPI-1"))
    save_orders(
        seeded,
        clock.now(),
        stored_order("O-2", oversold=True, updated=T0 + timedelta(hours=2)),
        stored_order("O-1", oversold=True, lines=(line,)),
        stored_order("O-3"),
        stored_order("T-1", account=TOKOPEDIA, oversold=True, updated=T0),
    )
    with seeded() as uow:
        mine = uow.orders.oversold(SHOPEE)
        everyone = uow.orders.oversold()
        assert uow.orders.oversold(TOKOPEDIA)[0].external_id == "T-1"
    assert [o.external_id for o in mine] == ["O-1", "O-2"]
    assert mine[0].lines == (line,)
    assert sorted(o.external_id for o in everyone) == ["O-1", "O-2", "T-1"]
    assert {o.account for o in everyone} == {SHOPEE, TOKOPEDIA}


def test_a_settled_oversold_order_leaves_the_open_list_and_outlives_later_saves(
    seeded: Factory, clock: FakeClock
) -> None:
    save_orders(
        seeded,
        clock.now(),
        stored_order("O-1", oversold=True),
        stored_order("O-2", oversold=True),
        stored_order("O-3"),
    )
    done = Settlement(SettlementKind.HANDLED, "officer:ani", T0, "stock found")

    with seeded() as uow:
        assert uow.orders.settle(SHOPEE, "O-1", done)
        assert not uow.orders.settle(SHOPEE, "O-1", done)  # once only
        assert not uow.orders.settle(SHOPEE, "O-3", done)  # not oversold
        assert not uow.orders.settle(SHOPEE, "O-9", done)  # unknown
        assert not uow.orders.settle(TOKOPEDIA, "O-2", done)  # another account's
        uow.commit()
    # an ingest saves the order again (a new status): the settlement stays
    save_orders(
        seeded,
        clock.now(),
        stored_order(
            "O-1", OrderStatus.CANCELLED, oversold=True, updated=T0 + timedelta(hours=1)
        ),
    )

    with seeded() as uow:
        assert [o.external_id for o in uow.orders.oversold(SHOPEE, open_only=True)] == [
            "O-2"
        ]
        every = {o.external_id: o for o in uow.orders.oversold(SHOPEE)}
        unsettled = uow.orders.get_many(SHOPEE, ["O-3"])["O-3"]
    assert sorted(every) == ["O-1", "O-2"]
    assert every["O-1"].settlement == done
    assert every["O-1"].status is OrderStatus.CANCELLED
    assert every["O-2"].settlement is None
    assert unsettled.settlement is None


def test_count_by_status(seeded: Factory, clock: FakeClock) -> None:
    save_orders(
        seeded,
        clock.now(),
        stored_order("O-1"),
        stored_order("O-2"),
        stored_order("O-3", OrderStatus.SHIPPED),
        stored_order("T-1", account=TOKOPEDIA),
    )
    with seeded() as uow:
        assert uow.orders.count_by_status(SHOPEE) == {
            OrderStatus.PAID: 2,
            OrderStatus.SHIPPED: 1,
        }
        assert uow.orders.count_by_status(TOKOPEDIA) == {OrderStatus.PAID: 1}


def test_the_bookmark_starts_empty_and_moves(seeded: Factory, clock: FakeClock) -> None:
    with seeded() as uow:
        assert uow.orders.bookmark(SHOPEE) is None
        uow.orders.set_bookmark(SHOPEE, T0, clock.now())
        uow.commit()
    with seeded() as uow:
        assert uow.orders.bookmark(SHOPEE) == T0
        assert uow.orders.bookmark(TOKOPEDIA) is None
        uow.orders.set_bookmark(SHOPEE, T0 + timedelta(hours=1), clock.now())
        uow.commit()
    with seeded() as uow:
        assert uow.orders.bookmark(SHOPEE) == T0 + timedelta(hours=1)


def test_an_uncommitted_bookmark_is_rolled_back_with_its_orders(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        uow.orders.save_many([stored_order("O-1")], clock.now())
        uow.orders.set_bookmark(SHOPEE, T0, clock.now())
    with seeded() as uow:
        assert uow.orders.bookmark(SHOPEE) is None
        assert uow.orders.get_many(SHOPEE, ["O-1"]) == {}


# ------------------------------------------------------------------ runs


def window(start_hours: int = 0, length_hours: int = 1) -> OrderWindow:
    since = T0 + timedelta(hours=start_hours)
    return OrderWindow(since, since + timedelta(hours=length_hours))


def test_a_run_is_started_given_items_and_finished(
    seeded: Factory, clock: FakeClock
) -> None:
    started = clock.now()
    with seeded() as uow:
        run_id = uow.runs.start(SyncKind.ORDERS, SHOPEE, "schedule", started, window())
        uow.commit()
    with seeded() as uow:
        running = uow.runs.get(run_id)
    assert running is not None
    assert (running.kind, running.account, running.trigger) == (
        SyncKind.ORDERS,
        SHOPEE,
        "schedule",
    )
    assert (running.outcome, running.started_at, running.finished_at) == (
        RunOutcome.RUNNING,
        started,
        None,
    )
    assert (running.window_start, running.window_end) == (
        window().since,
        window().until,
    )
    assert (running.counts, running.items) == ({}, ())

    clock.advance(minutes=2)
    items = (
        RunItem("O-1", "reserve", ok=True, at=clock.now()),
        RunItem("O-2", "reserve", False, clock.now(), "unknown_sku", "GONE-1"),
    )
    with seeded() as uow:
        uow.runs.add_items(run_id, items)
        uow.runs.finish(run_id, RunOutcome.PARTIAL, {"ok": 1, "failed": 1}, clock.now())
        uow.commit()
    with seeded() as uow:
        done = uow.runs.get(run_id)
    assert done is not None
    assert (done.outcome, done.finished_at) == (RunOutcome.PARTIAL, clock.now())
    assert done.counts == {"ok": 1, "failed": 1}
    assert done.items == items


def test_an_unknown_run_is_none(seeded: Factory) -> None:
    with seeded() as uow:
        assert uow.runs.get(404) is None


def test_recent_runs_newest_first_without_items(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        first = uow.runs.start(SyncKind.PUBLISH, SHOPEE, "cli", clock.now())
        uow.runs.add_items(first, [RunItem("KOPI-1", "create", True, clock.now())])
        second = uow.runs.start(SyncKind.STOCK, SHOPEE, "cli", clock.now())
        third = uow.runs.start(SyncKind.PUBLISH, TOKOPEDIA, "cli", clock.now())
        everywhere = uow.runs.start(SyncKind.RECONCILE, None, "cli", clock.now())
        uow.commit()
    with seeded() as uow:
        assert [r.id for r in uow.runs.recent(10)] == [
            everywhere,
            third,
            second,
            first,
        ]
        assert [r.id for r in uow.runs.recent(2)] == [everywhere, third]
        assert [r.id for r in uow.runs.recent(10, account=SHOPEE)] == [second, first]
        assert [r.id for r in uow.runs.recent(10, kind=SyncKind.PUBLISH)] == [
            third,
            first,
        ]
        assert [
            r.id for r in uow.runs.recent(10, account=SHOPEE, kind=SyncKind.PUBLISH)
        ] == [first]
        recent = uow.runs.recent(10)
    assert all(r.items == () for r in recent)
    assert recent[0].account is None


def test_starting_the_same_window_again_records_a_new_run_and_keeps_the_cut_short_one(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        cut_short = uow.runs.start(
            SyncKind.ORDERS, SHOPEE, "schedule", clock.now(), window(0, 1)
        )
        uow.runs.add_items(
            cut_short, [RunItem("order:1", "ingest", True, at=clock.now())]
        )
        uow.commit()
    started = clock.now()
    clock.advance(minutes=30)
    with seeded() as uow:
        again = uow.runs.start(
            SyncKind.ORDERS, SHOPEE, "retry", clock.now(), window(0, 2)
        )
        uow.commit()
    with seeded() as uow:
        runs = {r.id: r for r in uow.runs.recent(10)}
        first = uow.runs.get(cut_short)
    assert again != cut_short
    assert set(runs) == {cut_short, again}
    assert first is not None
    assert (first.trigger, first.started_at, first.outcome, first.window_end) == (
        "schedule",
        started,
        RunOutcome.RUNNING,
        window(0, 1).until,
    )
    assert [i.subject for i in first.items] == ["order:1"]
    second = runs[again]
    assert (second.trigger, second.outcome) == ("retry", RunOutcome.RUNNING)
    assert (second.window_start, second.window_end) == (
        window().since,
        window(0, 2).until,
    )


def test_runs_without_an_account_over_the_same_window_are_separate_runs(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        first = uow.runs.start(SyncKind.ORDERS, None, "s", clock.now(), window())
        again = uow.runs.start(SyncKind.ORDERS, None, "s", clock.now(), window())
        assert again != first
        assert len(uow.runs.recent(10)) == 2


@pytest.mark.parametrize(
    ("kind", "account", "start_hours"),
    [
        pytest.param(SyncKind.RECONCILE, SHOPEE, 0, id="other-kind"),
        pytest.param(SyncKind.ORDERS, TOKOPEDIA, 0, id="other-account"),
        pytest.param(SyncKind.ORDERS, None, 0, id="no-account"),
        pytest.param(SyncKind.ORDERS, SHOPEE, 1, id="other-window-start"),
    ],
)
def test_a_run_differing_in_kind_account_or_window_start_is_a_new_run(
    seeded: Factory,
    clock: FakeClock,
    kind: SyncKind,
    account: AccountId | None,
    start_hours: int,
) -> None:
    with seeded() as uow:
        first = uow.runs.start(SyncKind.ORDERS, SHOPEE, "s", clock.now(), window())
        other = uow.runs.start(kind, account, "s", clock.now(), window(start_hours))
        assert other != first
        assert len(uow.runs.recent(10)) == 2


def test_runs_without_a_window_are_separate_runs(
    seeded: Factory, clock: FakeClock
) -> None:
    with seeded() as uow:
        ids = [
            uow.runs.start(SyncKind.STOCK, SHOPEE, "s", clock.now()) for _ in range(3)
        ]
        uow.commit()
    with seeded() as uow:
        assert len(set(ids)) == 3
        assert [r.id for r in uow.runs.recent(10)] == ids[::-1]


def test_an_uncommitted_run_is_rolled_back(seeded: Factory, clock: FakeClock) -> None:
    with seeded() as uow:
        uow.runs.start(SyncKind.STOCK, SHOPEE, "s", clock.now())
    with seeded() as uow:
        assert uow.runs.recent(10) == []


@pytest.mark.parametrize(
    ("ok", "failed", "outcome"),
    [
        (0, 0, RunOutcome.SUCCEEDED),
        (2, 0, RunOutcome.SUCCEEDED),
        (1, 1, RunOutcome.PARTIAL),
        (0, 2, RunOutcome.FAILED),
    ],
)
def test_a_run_ends_as_its_items_did(
    seeded: Factory, clock: FakeClock, ok: int, failed: int, outcome: RunOutcome
) -> None:
    recorder = RunRecorder(seeded, clock, SyncKind.PUBLISH, SHOPEE, "manual:test")
    run_id = recorder.start()
    items = [recorder.item(f"KOPI-{n}", "stock") for n in range(ok)]
    items += [
        recorder.item(f"TENUN-{n}", "stock", TransientError("no answer"))
        for n in range(failed)
    ]
    with seeded() as uow:
        recorder.add(uow, items)
        uow.commit()

    assert recorder.finish() is outcome
    with seeded() as uow:
        run = uow.runs.get(run_id)
    assert run is not None
    assert run.outcome is outcome
    assert len(run.items) == ok + failed
