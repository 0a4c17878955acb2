"""Audit trails for the auditor's readers: events written straight into the store,
and a stock story told through the real ledger (which records each movement's
``stock.moved`` event), for the integration and CLI tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from core.audit import actions
from core.audit.events import AuditEvent, acting
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.orders import StockStep, movement_key
from core.domain.runs import RunItem
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import RunOutcome, SyncKind
from core.store.tables import AuditEventRow
from core.store.uow import SqlUnitOfWork
from tests.fakes import product

Factory = Callable[[], SqlUnitOfWork]

DAY1 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example","klik")'


def at(days: float = 0, hours: float = 0) -> datetime:
    """A time ``days`` and ``hours`` after :data:`DAY1`."""
    return DAY1 + timedelta(days=days, hours=hours)


#: Events spread over four days, chosen so each filter has near misses: a
#: lower-case SKU (SQLite's LIKE ignores case), ``_`` in a subject (a LIKE
#: wildcard), an action whose kind starts like another (``stocktake``).
EVENTS = (
    AuditEvent(
        actions.STOCK_MOVED,
        "sku:KOPI-1",
        after={"key": "k1"},
        actor="officer:ani",
        at=at(0),
    ),
    AuditEvent(
        actions.PRODUCT_CREATED,
        "sku:KOPI-2",
        after={"name": "Kopi"},
        actor="officer:ani",
        at=at(0, 12),
    ),
    AuditEvent(
        actions.STOCK_MOVED,
        "sku:KOPI_9",
        after={"key": "k2"},
        actor="marketplace:shopee",
        account="shopee-main",
        run_id=7,
        at=at(1),
    ),
    AuditEvent(
        actions.ORDER_STORED,
        "order:shopee:1001",
        after={"status": "paid"},
        actor="marketplace:shopee",
        account="shopee-main",
        run_id=7,
        at=at(1, 1),
    ),
    AuditEvent(
        "stocktake.done",
        "sku:kopi-3",
        actor="officer:budi",
        at=at(2),
    ),
    AuditEvent(
        actions.RUN_STARTED,
        "run:7",
        after={"kind": "orders"},
        actor="system:scheduler",
        account="tokopedia-main",
        run_id=7,
        at=at(2, 23),
    ),
    AuditEvent(
        actions.STOCK_MOVED,
        "sku:TENUN-1",
        before={"note": HOSTILE},
        after={"key": "k3"},
        actor="officer:budi",
        reason=HOSTILE,
        at=at(3),
    ),
    AuditEvent(
        actions.STOCK_MOVED,
        "sku:KOPIA",
        after={"key": "k4"},
        actor="-officer:eve",
        account="tokopedia-main",
        at=at(3, 5),
    ),
    AuditEvent(
        actions.PRODUCT_UPDATED,
        "+" + HOSTILE,
        before={"name": "Kopi"},
        after={"name": HOSTILE},
        actor="officer:ani",
        reason="@import",
        at=at(3, 6),
    ),
)


def seed_events(factory: Factory) -> list[int]:
    """Write :data:`EVENTS` (one transaction); their ids in order."""
    with factory() as uow:
        uow.audit.record(*EVENTS)
        uow.commit()
    with factory() as uow:
        rows = uow.stock._session.execute(  # the test reads its own rows back
            sa.select(col(AuditEventRow.id)).order_by(col(AuditEventRow.id))
        )
        return [int(row[0]) for row in rows]


SKU = "KOPI-FLR-001"
SHOPEE = AccountId("shopee-main")
TOKOPEDIA = AccountId("tokopedia-main")
PRODUCER = Producer(
    ProducerCode("IKM-NTT-001"),
    "Koperasi Kopi Bajawa",
    ProducerKind.IKM,
    "NTT",
    "Ngada",
)


@dataclass(frozen=True)
class Story:
    """What :func:`stock_story` did: its runs and the figure at each step."""

    order_run: int
    cancel_run: int
    #: (time just after the step, on hand, reserved) after each step, in order.
    figures: tuple[tuple[datetime, int, int], ...]
    #: The key of the adjustment (its event is the one a test may delete).
    adjustment_key: str


def _movement(
    reason: MovementReason,
    on_hand: int,
    reserved: int,
    key: str,
    *,
    actor: str,
    reference: str = "",
    note: str = "",
) -> NewMovement:
    return NewMovement(
        Sku(SKU), reason, on_hand, reserved, key, actor, reference=reference, note=note
    )


def _order_movement(
    step: StockStep, order: str, quantity: int, account: AccountId, marketplace: str
) -> NewMovement:
    deltas = {
        StockStep.RESERVE: (MovementReason.ORDER_RESERVED, 0, quantity),
        StockStep.RELEASE: (MovementReason.ORDER_RELEASED, 0, -quantity),
        StockStep.SHIP: (MovementReason.ORDER_SHIPPED, -quantity, -quantity),
    }
    reason, on_hand, reserved = deltas[step]
    return _movement(
        reason,
        on_hand,
        reserved,
        movement_key(account, order, 1, step),
        actor=f"marketplace:{marketplace}",
        reference=f"{marketplace} order {order}",
        note="paid (READY_TO_SHIP)",
    )


def stock_story(factory: Factory) -> Story:
    """Receipts (an import's initial stock, a delivery), a Shopee order reserved
    then shipped, a Tokopedia order reserved then cancelled (released), and a
    manual adjustment, each through the ledger, the orders' in runs."""
    with factory() as uow:
        uow.producers.add_many([PRODUCER], at(0))
        uow.products.add_many([product(SKU, str(PRODUCER.code))], at(0))
        for key, marketplace, shop in (
            (SHOPEE, Marketplace.SHOPEE, "220011"),
            (TOKOPEDIA, Marketplace.TOKOPEDIA, "880022"),
        ):
            uow.accounts.save(
                ChannelAccount(key, marketplace, shop, (PRODUCER.code,)), at(0)
            )
        order_run = uow.runs.start(SyncKind.ORDERS, SHOPEE, "schedule", at(1))
        cancel_run = uow.runs.start(SyncKind.ORDERS, TOKOPEDIA, "schedule", at(2))
        uow.commit()
    adjustment = "manual:count-2026-11-04"
    steps: list[tuple[datetime, str, int | None, NewMovement]] = [
        (
            at(0, 1),
            "officer:ani",
            None,
            _movement(
                MovementReason.RECEIPT,
                40,
                0,
                "catalog-initial:KOPI-FLR-001",
                actor="officer:ani",
                reference="products.csv, row 2",
                note="initial stock from catalogue import",
            ),
        ),
        (
            at(0, 2),
            "officer:ani",
            None,
            _movement(
                MovementReason.RECEIPT,
                10,
                0,
                "manual:delivery-1",
                actor="officer:ani",
                reference="DO-17",
                note="delivery from Bajawa",
            ),
        ),
        (
            at(1, 1),
            "marketplace:shopee",
            order_run,
            _order_movement(StockStep.RESERVE, "2412A", 3, SHOPEE, "shopee"),
        ),
        (
            at(1, 2),
            "marketplace:shopee",
            order_run,
            _order_movement(StockStep.SHIP, "2412A", 3, SHOPEE, "shopee"),
        ),
        (
            at(2, 1),
            "marketplace:tokopedia",
            cancel_run,
            _order_movement(StockStep.RESERVE, "TP-9", 2, TOKOPEDIA, "tokopedia"),
        ),
        (
            at(2, 2),
            "marketplace:tokopedia",
            cancel_run,
            _order_movement(StockStep.RELEASE, "TP-9", 2, TOKOPEDIA, "tokopedia"),
        ),
        (
            at(3),
            "officer:budi",
            None,
            _movement(
                MovementReason.ADJUSTMENT,
                -1,
                0,
                adjustment,
                actor="officer:budi",
                note=HOSTILE,
            ),
        ),
    ]
    figures = []
    on_hand = reserved = 0
    for when, actor, run_id, movement in steps:
        with acting(actor, run_id=run_id), factory() as uow:
            uow.stock.record(movement, when)
            uow.commit()
        on_hand += movement.on_hand_delta
        reserved += movement.reserved_delta
        figures.append((when, on_hand, reserved))
    return Story(order_run, cancel_run, tuple(figures), adjustment)


def drop_event_of(factory: Factory, key: str) -> None:
    """Delete the ``stock.moved`` event of movement ``key`` (a gap to find)."""
    with factory() as uow:
        session = uow.stock._session
        ids = [
            id_
            for id_, after in session.execute(
                sa.select(col(AuditEventRow.id), col(AuditEventRow.after)).where(
                    col(AuditEventRow.action) == actions.STOCK_MOVED
                )
            )
            if json.loads(after or "{}").get("key") == key
        ]
        assert ids, f"no event of {key} to drop"
        session.execute(sa.delete(AuditEventRow).where(col(AuditEventRow.id).in_(ids)))
        session.commit()


def seed_runs(factory: Factory) -> tuple[int, int, int]:
    """Three runs on three days: a Shopee stock push with two items and the
    values sent (one failed, with a hostile message), a Tokopedia publish with a
    hostile subject, and a Shopee orders run without items."""
    with factory() as uow:
        uow.producers.add_many([PRODUCER], at(0))
        for key, marketplace, shop in (
            (SHOPEE, Marketplace.SHOPEE, "220011"),
            (TOKOPEDIA, Marketplace.TOKOPEDIA, "880022"),
        ):
            uow.accounts.save(
                ChannelAccount(key, marketplace, shop, (PRODUCER.code,)), at(0)
            )
        push = uow.runs.start(SyncKind.STOCK, SHOPEE, "schedule", at(1))
        uow.runs.add_items(
            push,
            [
                RunItem("KOPI-1", "push_stock", True, at(1, 1), sent={"stock": 12}),
                RunItem(
                    "KOPI-2",
                    "push_stock",
                    False,
                    at(1, 1),
                    error_code="E42",
                    error_message=HOSTILE,
                    sent={"stock": 0, "external_id": "998877665544"},
                ),
            ],
        )
        uow.runs.finish(push, RunOutcome.PARTIAL, {"pushed": 1, "failed": 1}, at(1, 2))
        publish = uow.runs.start(
            SyncKind.PUBLISH, TOKOPEDIA, "manual:officer:ani", at(2)
        )
        uow.runs.add_items(
            publish,
            [
                RunItem(
                    "@KOPI-3",
                    "create",
                    True,
                    at(2, 1),
                    sent={"price": 90000, "content_hash": "ab12"},
                )
            ],
        )
        uow.runs.finish(publish, RunOutcome.SUCCEEDED, {"created": 1}, at(2, 2))
        orders = uow.runs.start(SyncKind.ORDERS, SHOPEE, "schedule", at(3))
        uow.runs.finish(orders, RunOutcome.SUCCEEDED, {}, at(3, 1))
        uow.commit()
    return push, publish, orders
