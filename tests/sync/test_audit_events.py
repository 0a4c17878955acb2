"""Audit events of the sync side, against the simulators: written with the change
they describe (and dropped with it), by the actor decided for each, carrying the
run's id; ``audit verify``'s record checks find every record changed behind the
application's back, and nothing in a store left alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.audit.events import acting, bind_run, current
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import Sku
from core.domain.listings import Listing
from core.domain.orders import CancelReason, Settlement, SettlementKind
from core.domain.runs import RunItem
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import ListingState, RunOutcome, SyncKind
from core.errors import LeaseLostError, UnknownSkuError
from core.ports import Fence
from core.services.oversold import cancel_oversold, settle_oversold
from core.services.reconcile import reconcile_account
from core.services.runs import RunRecorder, RunReport
from core.services.stock import adjust_stock
from core.store.audit_state import mismatches
from core.store.db import make_session_factory
from core.store.uow import SqlUnitOfWork
from scheduler.runner import for_each_account
from tests.sync.world import SHOPEE, TOKOPEDIA, World

pytestmark = pytest.mark.db

OFFICER = "officer:ani"


@dataclass(frozen=True)
class Event:
    id: int
    actor: str
    action: str
    subject: str
    account: str | None
    run_id: int | None
    before: Any
    after: Any


def events(world: World, since: int = 0) -> list[Event]:
    with world.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, actor, action, subject, account, run_id, before, after "
                "FROM audit_events WHERE id > :since ORDER BY id"
            ),
            {"since": since},
        )
        return [
            Event(
                int(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                None if r[6] is None else json.loads(r[6]),
                None if r[7] is None else json.loads(r[7]),
            )
            for r in rows
        ]


def last_id(world: World) -> int:
    with world.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT COALESCE(MAX(id), 0) FROM audit_events")
            ).scalar_one()
        )


def findings(world: World) -> list[Any]:
    with make_session_factory(world.engine)() as session:
        return mismatches(session, limit=50)


def execute(world: World, *statements: str) -> None:
    with world.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


# ---------------------------------------------------------------- with the change


def _movement(key: str) -> NewMovement:
    return NewMovement(
        Sku("KOPI-0001"), MovementReason.ADJUSTMENT, -1, 0, key, OFFICER, note="x"
    )


def _write_movement(uow: SqlUnitOfWork, world: World) -> None:
    uow.stock.record(_movement("adjust:one"), world.clock.now())


def _write_movements(uow: SqlUnitOfWork, world: World) -> None:
    uow.stock.record_many(
        [_movement("adjust:a"), _movement("adjust:b")], world.clock.now()
    )


def _write_listing(uow: SqlUnitOfWork, world: World) -> None:
    uow.listings.save_many(
        SHOPEE,
        [Listing(SHOPEE, Sku("KOPI-0001"), ListingState.LIVE, "9", last_price=5)],
        world.clock.now(),
    )


def _write_run(uow: SqlUnitOfWork, world: World) -> None:
    now = world.clock.now()
    run_id = uow.runs.start(SyncKind.PUBLISH, SHOPEE, "manual:test", now)
    uow.runs.add_items(
        run_id, [RunItem("KOPI-0001", "stock", True, now, sent={"stock": 3})]
    )
    uow.runs.finish(run_id, RunOutcome.SUCCEEDED, {"stock": 1}, now)


WRITERS: dict[str, tuple[Callable[[SqlUnitOfWork, World], None], set[str]]] = {
    "movement": (_write_movement, {"stock.moved"}),
    "movements": (_write_movements, {"stock.moved"}),
    "listing": (_write_listing, {"listing.changed"}),
    "run": (_write_run, {"run.started", "run.items", "run.finished"}),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_each_event_is_written_with_its_change_and_dropped_with_it(
    world: World, writer: str
) -> None:
    write, written = WRITERS[writer]
    before = last_id(world)
    with world.uow() as uow:  # a failing batch: the change and its events go
        write(uow, world)
        with pytest.raises(UnknownSkuError):
            uow.stock.record_many(
                [replace_sku(_movement("adjust:z"))], world.clock.now()
            )
        uow.rollback()
    assert events(world, before) == []

    # a fenced commit refused by a lost lease keeps neither
    fence = Fence(SHOPEE, "worker:gone", 99)
    factory = make_session_factory(world.engine)
    with SqlUnitOfWork(factory, fence=fence) as uow:
        write(uow, world)
        with pytest.raises(LeaseLostError):
            uow.commit()
    assert events(world, before) == []

    with world.uow() as uow:
        write(uow, world)
        uow.commit()
    assert {e.action for e in events(world, before)} == written
    assert findings(world) == []


def replace_sku(movement: NewMovement) -> NewMovement:
    return NewMovement(
        Sku("NO-SUCH-SKU"),
        movement.reason,
        movement.on_hand_delta,
        movement.reserved_delta,
        movement.idempotency_key,
        movement.actor,
    )


def test_a_replayed_movement_writes_no_second_event(world: World) -> None:
    before = last_id(world)
    for _ in range(2):
        with world.uow() as uow:
            uow.stock.record(_movement("adjust:once"), world.clock.now())
            uow.stock.record_many([_movement("adjust:once")], world.clock.now())
            uow.commit()
    assert [e.after["key"] for e in events(world, before)] == ["adjust:once"]


# ---------------------------------------------------------------- a sync cycle


def test_a_cycle_records_who_did_what_under_which_run(world: World) -> None:
    seeded = events(world)
    # the world's receipts and its shops' authorisations
    assert {e.action for e in seeded} == {"stock.moved", "account.authorised"}
    assert all(e.run_id is None for e in seeded)

    with acting("system:scheduler"):
        world.cycle(workers=3, trigger="schedule")
        world.buy(Marketplace.SHOPEE, 3)
        world.advance(5)
        world.cycle(workers=3, trigger="schedule")
    assert current().run_id is None  # no run left bound

    found = events(world, seeded[-1].id)
    with world.engine.connect() as connection:
        runs = {
            int(i): (kind, account)
            for i, kind, account in connection.execute(
                sa.text(
                    "SELECT r.id, r.kind, a.account_key FROM sync_runs r "
                    "JOIN channel_accounts a ON a.id = r.account_id"
                )
            )
        }
    for event in found:
        if event.action == "account.authorised" and event.run_id is None:
            continue  # a token fetched before the job's run began writing
        assert event.run_id in runs, event  # every change of a cycle is a run's
        kind, account = runs[event.run_id or 0]
        if event.account is not None:  # no run id leaks into another account's job
            assert event.account == account, event
        if event.action.startswith("order.") and event.action != "order.changed":
            assert event.actor == "marketplace:shopee", event
            assert kind == "orders"
        elif event.action == "order.changed" and event.actor != "system:scheduler":
            assert event.actor == "marketplace:shopee", event
        else:
            assert event.actor == "system:scheduler", event

    by_action: dict[str, list[Event]] = {}
    for event in found:
        by_action.setdefault(event.action, []).append(event)
    started = {e.run_id for e in by_action["run.started"]}
    assert started == set(runs)
    assert {e.run_id for e in by_action["run.finished"]} == set(runs)
    created = [
        item
        for e in by_action["run.items"]
        for item in e.after["items"]
        if item["operation"] == "create"
    ]
    assert created
    assert all(
        set(item["sent"]) == {"price", "stock", "content_hash"} for item in created
    )
    pushed = [
        item
        for e in by_action["run.items"]
        for item in e.after["items"]
        if item["operation"] == "stock"
    ]
    assert pushed
    assert all(set(item["sent"]) == {"stock"} for item in pushed)
    changes = [
        (e.before and e.before["state"], e.after["state"], e.after["price"])
        for e in by_action["listing.changed"]
    ]
    assert (None, "creating", None) in changes  # the intent, before the request
    assert any(
        (before, after) == ("creating", "live") and price
        for before, after, price in changes
    )
    stored = by_action["order.stored"]
    assert len(stored) == 3
    assert all(e.subject.startswith("order:shopee:") for e in stored)
    reserved = [
        e for e in by_action["stock.moved"] if e.after["reason"] == "order_reserved"
    ]
    assert reserved
    assert {runs[e.run_id or 0][0] for e in reserved} == {"orders"}
    assert findings(world) == []

    publish = next(e.run_id for e in by_action["run.items"] if e.after["items"])
    with world.uow() as uow:  # the run, read back, shows the values sent
        run = uow.runs.get(publish or 0)
    assert run is not None
    assert any(item.sent for item in run.items)


# ---------------------------------------------------------------- record checks


@pytest.fixture
def busy(world: World) -> World:
    """Listings published, stock adjusted by hand, orders on every marketplace,
    some oversold; one cancelled on the marketplace, one marked handled, a drift
    repaired."""
    world.cycle()
    for key in world.available():
        adjust_stock(
            world.uow(),
            sku=key,
            delta=-7,
            note="jars broken in transit",
            actor=OFFICER,
            clock=world.clock,
        )
    for marketplace in world.marketplaces:
        world.buy(marketplace, 6)
    world.advance(5)
    world.cycle()
    for account in (SHOPEE, TOKOPEDIA):
        with world.uow() as uow:
            oversold = uow.orders.oversold(account, open_only=True)
        assert oversold
        cancel_oversold(
            world.uow,
            world.connector(world.account(account)),
            world.account(account),
            oversold[0].external_id,
            reason=CancelReason.OUT_OF_STOCK,
            actor=OFFICER,
            clock=world.clock,
            trigger="manual:test",
        )
        if len(oversold) > 1:
            settle_oversold(
                world.uow,
                account,
                oversold[1].external_id,
                note="called the buyer",
                actor=OFFICER,
                clock=world.clock,
            )
    world.advance(5)
    world.cycle()
    tokopedia = world.account(TOKOPEDIA)
    reconcile_account(
        world.uow,
        world.connector(tokopedia),
        tokopedia,
        world.clock,
        trigger="manual:test",
        repair=True,
    )
    return world


def test_a_store_left_alone_after_a_busy_day_has_no_mismatch(busy: World) -> None:
    actions = {e.action for e in events(busy)}
    assert {
        "stock.moved",
        "order.stored",
        "order.changed",
        "order.settled",
        "listing.changed",
        "run.started",
        "run.items",
        "run.finished",
    } <= actions
    assert findings(busy) == []


def _first(world: World, query: str) -> Any:
    with world.engine.connect() as connection:
        return connection.execute(sa.text(query)).first()


def _drop_ledger_guard(world: World) -> list[str]:
    if world.engine.dialect.name == "postgresql":
        return ["DROP TRIGGER stock_movements_no_change ON stock_movements"]
    return [
        "DROP TRIGGER stock_movements_no_update",
        "DROP TRIGGER stock_movements_no_delete",
    ]


def _run_with_items(world: World) -> int:
    row = _first(world, "SELECT MIN(run_id) FROM sync_run_items")
    return int(row[0])


TAMPERS: dict[str, Callable[[World], tuple[list[str], str, str]]] = {
    "run outcome": lambda w: (
        [
            "UPDATE sync_runs SET outcome = 'failed' "
            "WHERE id = (SELECT MIN(run_id) FROM sync_run_items)"
        ],
        f"run:{_run_with_items(w)}",
        "outcome",
    ),
    "run counts": lambda w: (
        [
            "UPDATE sync_runs SET counts = '{\"stock\": 0}' "
            "WHERE id = (SELECT MIN(run_id) FROM sync_run_items)"
        ],
        f"run:{_run_with_items(w)}",
        "counts",
    ),
    "run trigger": lambda w: (
        [
            "UPDATE sync_runs SET trigger = 'schedule' "
            "WHERE id = (SELECT MIN(run_id) FROM sync_run_items)"
        ],
        f"run:{_run_with_items(w)}",
        "trigger",
    ),
    "run item edited": lambda w: (
        [
            "UPDATE sync_run_items SET ok = NOT ok WHERE id = "
            "(SELECT MIN(id) FROM sync_run_items)"
        ],
        f"run:{_run_with_items(w)}",
        "missing or changed",
    ),
    "run item deleted": lambda w: (
        ["DELETE FROM sync_run_items WHERE id = (SELECT MAX(id) FROM sync_run_items)"],
        "run:{}".format(
            int(_first(w, "SELECT run_id FROM sync_run_items ORDER BY id DESC")[0])
        ),
        "missing or changed",
    ),
    "movement edited": lambda w: (
        [
            *_drop_ledger_guard(w),
            "UPDATE stock_movements SET on_hand_delta = on_hand_delta + 5 "
            "WHERE idempotency_key = 'receipt:KOPI-0001'",
        ],
        "movement:receipt:KOPI-0001",
        "on_hand",
    ),
    "movement deleted": lambda w: (
        [
            *_drop_ledger_guard(w),
            "DELETE FROM stock_movements WHERE idempotency_key = 'receipt:KOPI-0002'",
        ],
        "movement:receipt:KOPI-0002",
        "missing",
    ),
    "movement inserted": lambda w: (
        [
            "INSERT INTO stock_movements (product_id, location, reason, "
            "on_hand_delta, reserved_delta, reference, actor, note, at, "
            "idempotency_key) SELECT id, 'main', 'receipt', 40, 0, '', "
            "'officer:ghost', '', '2026-01-01 00:00:00', 'ghost:1' "
            "FROM products WHERE sku = 'KOPI-0003'"
        ],
        "movement:ghost:1",
        "no stock.moved event",
    ),
    "order status": lambda w: (
        [
            "UPDATE orders SET status = 'completed' WHERE id = "
            "(SELECT MIN(id) FROM orders)"
        ],
        "order:{}:{}".format(
            *_first(
                w,
                "SELECT a.marketplace, o.external_id FROM orders o JOIN "
                "channel_accounts a ON a.id = o.account_id ORDER BY o.id",
            )
        ),
        "status",
    ),
    "order deleted": lambda w: (
        [
            "DELETE FROM order_lines WHERE order_id = (SELECT MAX(id) FROM orders)",
            "DELETE FROM orders WHERE id = (SELECT MAX(id) FROM orders)",
        ],
        "order:{}:{}".format(
            *_first(
                w,
                "SELECT a.marketplace, o.external_id FROM orders o JOIN "
                "channel_accounts a ON a.id = o.account_id ORDER BY o.id DESC",
            )
        ),
        "the order its events record is missing",
    ),
    "order inserted": lambda w: (
        [
            "INSERT INTO orders (account_id, external_id, status, raw_status, "
            "total_amount, currency, oversold, stock_state, first_seen_at, "
            "updated_at) SELECT id, 'ghost-1', 'paid', 'PAID', 5000, 'IDR', "
            "false, 'none', '2026-01-01 00:00:00', '2026-01-01 00:00:00' "
            "FROM channel_accounts WHERE account_key = 'shopee-ntt'"
        ],
        "order:shopee:ghost-1",
        "no order event describes this order",
    ),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_record_changed_behind_the_application_is_found(
    busy: World, tamper: str
) -> None:
    statements, subject, problem = TAMPERS[tamper](busy)
    execute(busy, *statements)
    found = findings(busy)
    assert [f.subject for f in found] == [subject], found
    assert problem in found[0].problem


def test_a_settled_order_keeps_its_officer_and_reason(busy: World) -> None:
    settled = [e for e in events(busy) if e.action == "order.settled"]
    assert settled
    assert all(e.actor == OFFICER for e in settled)
    assert all(e.before["settlement"] is None for e in settled)
    assert all(e.after["settlement"] in {"handled", "cancelled"} for e in settled)


def test_a_settlement_is_one_event_with_the_change(world: World) -> None:
    world.cycle()
    before = last_id(world)
    with world.uow() as uow:
        assert not uow.orders.settle(
            SHOPEE,
            "no-such-order",
            Settlement(
                SettlementKind.HANDLED,
                OFFICER,
                world.clock.now() + timedelta(seconds=1),
                "",
            ),
        )
        uow.commit()
    assert events(world, before) == []


# ---------------------------------------------------------------- the run's id


def test_a_run_binds_its_id_from_its_row_until_it_ends(world: World) -> None:
    before = last_id(world)
    recorder = RunRecorder(world.uow, world.clock, SyncKind.PUBLISH, SHOPEE, "schedule")
    recorder.open()  # lazy: no row yet
    assert current().run_id is None
    with world.uow() as uow:  # the row is written with the first store write
        uow.stock.record(_movement("adjust:in-run"), world.clock.now())
        recorder.commit(uow)
    assert current().run_id == recorder.run_id
    recorder.finish()
    assert current().run_id is None  # restored: nothing after belongs to it
    moved = [e for e in events(world, before) if e.action == "stock.moved"]
    assert [e.run_id for e in moved] == [recorder.run_id]


def test_no_job_of_the_pool_sees_the_run_of_the_job_before_it(world: World) -> None:
    seen: list[int | None] = []

    def work(account: ChannelAccount) -> RunReport:
        seen.append(current().run_id)
        bind_run(len(seen))  # a job that never restores what it bound
        return RunReport(account.id, SyncKind.PUBLISH, 0, RunOutcome.SUCCEEDED, {})

    # one job per account on two threads: a thread runs several of them
    assert len(world.accounts) > 2
    for_each_account(world.accounts, work, workers=2)
    for_each_account(world.accounts, work, workers=1)
    assert seen == [None] * (2 * len(world.accounts))
    assert current().run_id is None
