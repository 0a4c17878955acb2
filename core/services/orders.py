"""Pulling an account's orders and moving stock for them exactly once.

:func:`pull_orders` reads the window from the account's bookmark minus an overlap up to
the moment the run started (frozen), page by page, and ingests the orders in batches:
each batch is one transaction that upserts the orders by (account, external id) and
records the stock movements their statuses imply (:mod:`core.domain.orders`), each
with an idempotency key of its own — an order seen twice, or a stale page seen after a
newer one, moves nothing twice. The bookmark moves to the run's start in the last
transaction, after every order of the window is stored; it never passes it.

When a marketplace lists orders by creation time only, the status changes of older
orders are read by fetching the account's open orders one by one. An order that
reserves more than is available is stored and flagged as oversold, never dropped; a
shipment that finds too little stock on hand waits (flagged) and is tried again at
every pull until stock arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.ids import Sku, sku_key
from core.domain.marketplaces import Capability
from core.domain.orders import (
    OrderLine,
    StockState,
    StockStep,
    StoredOrder,
    after,
    is_newer,
    line_movement,
    steps,
    target_state,
)
from core.domain.remote import OrderWindow, RemoteOrder
from core.domain.runs import RunItem
from core.domain.stock import Movement, NewMovement
from core.domain.sync import RunOutcome, SyncKind
from core.errors import (
    ConnectorError,
    DomainError,
    IdempotencyConflictError,
    InsufficientStockError,
    RejectedError,
    RunInterruptedError,
)
from core.ports import Clock, MarketplaceConnector, SyncUnitOfWork
from core.services.runs import RunRecorder, RunReport, UnitOfWorkFactory, error_text
from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PullOptions:
    """How far an order pull reaches.

    Attributes:
        overlap: read this far before the bookmark (late-indexed orders, clock skew).
        first_lookback: where an account's first pull starts, before now.
        batch_size: orders per transaction.
        reread_limit: open orders re-read one by one when the marketplace lists by
            creation time only (the most recently updated first).
    """

    overlap: timedelta = timedelta(minutes=10)
    first_lookback: timedelta = timedelta(days=3)
    batch_size: int = 500
    reread_limit: int = 1000


def _latest(orders: Iterable[RemoteOrder]) -> list[RemoteOrder]:
    """One view per order: the newest (update time, then status rank)."""
    newest: dict[str, RemoteOrder] = {}
    for order in orders:
        seen = newest.get(order.external_id)
        if seen is None or is_newer(
            order.status, order.updated_at, seen.status, seen.updated_at
        ):
            newest[order.external_id] = order
    return list(newest.values())


#: Steps the ordering marketplace applies to its own listings' stock as well.
_SHOWN_STEPS = frozenset({StockStep.RESERVE, StockStep.RELEASE})


class OrderIngester:
    """Stores batches of orders of one account and moves their stock."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        account: ChannelAccount,
        clock: Clock,
        recorder: RunRecorder,
    ) -> None:
        self.uow_factory, self.account = uow_factory, account
        self.clock, self.recorder = clock, recorder
        self.actor = f"marketplace:{account.marketplace.value}"
        #: True once an order this ingester stored is flagged oversold.
        self.flagged = False

    def ingest(self, remote: Sequence[RemoteOrder]) -> None:
        """Upsert ``remote`` orders and record their stock effects, in one
        transaction. Of a shop handed over between two accounts, each keeps only
        the orders on its side of the handover (:class:`Handover`)."""
        handover = self.account.handover
        if handover is not None:
            kept = [o for o in remote if handover.keeps(self.account.id, o.placed_at)]
            if len(kept) != len(remote):
                self.recorder.counts["orders_other_side_of_handover"] += len(
                    remote
                ) - len(kept)
            remote = kept
        orders = _latest(remote)
        with self.uow_factory() as uow:
            stored = uow.orders.get_many(
                self.account.id, [o.external_id for o in orders]
            )
            keys = {sku_key(line.sku) for o in orders for line in o.lines}
            known = {
                key: product.sku for key, product in uow.products.get_many(keys).items()
            }
            changed: list[StoredOrder] = []
            items: list[RunItem] = []
            for order in orders:
                old = stored.get(order.external_id)
                if old is not None and not is_newer(
                    order.status, order.updated_at, old.status, old.remote_updated_at
                ):
                    self.recorder.counts["orders_unchanged"] += 1
                    continue
                changed.append(self._merged(order, old, known))
            if not changed:  # every order as stored already: nothing to write
                return
            self._move_stock(uow, changed, items)
            uow.orders.save_many(changed, self.clock.now())
            self.recorder.commit(uow, items)

    def _merged(
        self, order: RemoteOrder, old: StoredOrder | None, known: dict[str, Sku]
    ) -> StoredOrder:
        lines = (
            old.lines
            if old is not None and old.lines
            else tuple(
                OrderLine(
                    line_no=number,
                    external_sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    sku=known.get(sku_key(line.sku)),
                )
                for number, line in enumerate(order.lines, start=1)
            )
        )
        if old is None:
            for line in lines:
                if line.sku is None:
                    log.warning(
                        "orders.line_unmatched",
                        order=order.external_id,
                        external_sku=line.external_sku,
                        account=self.account.id,
                    )
        return StoredOrder(
            account=self.account.id,
            external_id=order.external_id,
            status=order.status,
            raw_status=order.raw_status,
            total_amount=order.total_amount,
            stock_state=StockState.NONE if old is None else old.stock_state,
            oversold=False if old is None else old.oversold,
            placed_at=order.placed_at,
            remote_updated_at=order.updated_at,
            lines=lines,
        )

    def settle(self, orders: Sequence[StoredOrder]) -> None:
        """Try again the stock effects of stored orders that lag their status."""
        if not orders:
            return
        with self.uow_factory() as uow:
            items: list[RunItem] = []
            changed = list(orders)
            self._move_stock(uow, changed, items)
            uow.orders.save_many(changed, self.clock.now())
            self.recorder.commit(uow, items)

    def _move_stock(
        self, uow: SyncUnitOfWork, orders: list[StoredOrder], items: list[RunItem]
    ) -> None:
        """Record the movements each order's status implies; updates ``orders`` in
        place with the stock state reached and the oversold flag.

        Set-based, with the effect of recording each line's movement in turn: the
        SKUs are locked, their balances and the movements already recorded under the
        planned keys are read once, each movement is decided against the balances
        the ones before it leave (a key recorded already moves nothing; a shipment
        that would take on-hand below zero stops its order's steps there), and the
        new movements are written in that order with one bulk statement.
        """
        plans = [
            (index, steps(o.stock_state, target_state(o.status, o.stock_state)))
            for index, o in enumerate(orders)
        ]
        plans = [(index, todo) for index, todo in plans if todo]
        keys = sorted(
            {
                sku_key(line.sku)
                for index, _ in plans
                for line in orders[index].lines
                if line.sku is not None
            }
        )
        if keys:
            uow.stock.lock(keys)  # sorted: concurrent accounts cannot deadlock
        now = self.clock.now()
        marketplace = self.account.marketplace.value
        planned = {
            (index, step): [
                line_movement(
                    orders[index], line, step, actor=self.actor, marketplace=marketplace
                )
                for line in orders[index].lines
                if line.sku is not None
            ]
            for index, todo in plans
            for step in todo
        }
        recorded: dict[str, NewMovement | Movement] = dict(
            uow.stock.recorded(
                m.idempotency_key for movements in planned.values() for m in movements
            )
        )
        balances = {
            key: (level.on_hand, level.reserved)
            for key, level in uow.stock.levels(keys).items()
        }
        new: list[NewMovement] = []
        shown_changed: set[str] = set()
        for index, todo in plans:
            order = orders[index]
            state, oversold = order.stock_state, order.oversold
            for step in todo:
                waiting: InsufficientStockError | None = None
                for movement in planned[(index, step)]:
                    key = sku_key(movement.sku)
                    on_hand, reserved = balances.get(key, (0, 0))
                    existing = recorded.get(movement.idempotency_key)
                    if existing is not None:
                        if not movement.same_effect_as(existing):
                            raise IdempotencyConflictError(movement.idempotency_key)
                    elif (
                        movement.on_hand_delta < 0
                        and on_hand + movement.on_hand_delta < 0
                    ):
                        waiting = InsufficientStockError(
                            movement.sku, on_hand, movement.on_hand_delta
                        )
                        break
                    else:
                        new.append(movement)
                        recorded[movement.idempotency_key] = movement
                        on_hand += movement.on_hand_delta
                        reserved += movement.reserved_delta
                        balances[key] = (on_hand, reserved)
                        self.recorder.counts[f"movement_{step.value}"] += 1
                    if step is StockStep.RESERVE and on_hand - reserved < 0:
                        oversold = True
                if waiting is not None:
                    oversold = True
                    items.append(
                        self.recorder.item(
                            order.external_id, f"order_{step.value}", waiting
                        )
                    )
                    log.warning(
                        "orders.shipment_waiting",
                        order=order.external_id,
                        account=self.account.id,
                        reason=str(waiting),
                    )
                    break
                state = after(state, step)
                if step in _SHOWN_STEPS:
                    shown_changed.update(
                        sku_key(line.sku) for line in order.lines if line.sku
                    )
            if oversold and not order.oversold:
                log.warning(
                    "orders.oversold", order=order.external_id, account=self.account.id
                )
                self.recorder.counts["oversold"] += 1
            orders[index] = replace(order, stock_state=state, oversold=oversold)
            self.flagged = self.flagged or oversold
            items.append(self.recorder.item(order.external_id, "order"))
        created = uow.stock.record_many(new, now)
        if created != len(new):  # the locks above make this impossible
            raise DomainError(
                f"{len(new) - created} of {len(new)} order movements were recorded "
                "by another writer meanwhile"
            )
        if shown_changed:
            # The marketplace took (or gave back) these units on its own listings:
            # what was last pushed there is no longer what it shows.
            uow.listings.forget_stock(self.account.id, shown_changed)


def pull_orders(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    clock: Clock,
    *,
    trigger: str,
    options: PullOptions = PullOptions(),
    stop: StopRequest | None = None,
    defer_bookmark: bool = False,
) -> RunReport:
    """Pull ``account``'s orders since its bookmark, recording the run once it
    stores something, fails or is interrupted; a pull that finds nothing new leaves
    no run row (``run_id`` 0), only its bookmark moved.

    The marketplace's failures end the run ``failed`` (the bookmark stays, so the
    next pull reads the window again); nothing is raised for them. When ``stop`` is
    requested the run ends ``interrupted`` between orders (the bookmark stays too).
    ``defer_bookmark``: a pull that stored nothing leaves its bookmark to the caller
    (the report's ``window.until``), which moves it with its own last write
    (:func:`core.services.cycle.cycle_account`).
    """
    stop = stop or StopRequest()
    until = clock.now()
    with uow_factory() as uow:
        start = uow.orders.pull_start(account.id)
    since = (start.bookmark or until - options.first_lookback) - options.overlap
    window = OrderWindow(since, until)
    recorder = RunRecorder(uow_factory, clock, SyncKind.ORDERS, account.id, trigger)
    recorder.open(window)
    ingester = OrderIngester(uow_factory, account, clock, recorder)
    # run_id is bound once the run has its row (RunRecorder), until the run ends
    with structlog.contextvars.bound_contextvars(
        run_id=None, account=account.id, marketplace=account.marketplace.value
    ):
        try:
            seen = _pull_window(connector, window, ingester, options, stop)
            # orders still open before this pull (those it stored it has seen)
            if (
                Capability.ORDERS_BY_UPDATE_TIME not in connector.capabilities
                and start.any_open
            ):
                _reread_open(
                    uow_factory, connector, account, seen, ingester, options, stop
                )
            stop.check()
            if start.any_oversold or ingester.flagged:
                with uow_factory() as uow:
                    lagging = [
                        o
                        for o in uow.orders.oversold(account.id)
                        if steps(o.stock_state, target_state(o.status, o.stock_state))
                    ]
                ingester.settle(lagging)
            stop.check()
            if recorder.run_id or not defer_bookmark:
                with uow_factory() as uow:
                    uow.orders.set_bookmark(account.id, until, clock.now())
                    uow.commit()
        except RunInterruptedError as exc:
            return recorder.report(recorder.interrupted(exc), str(exc), window)
        except ConnectorError as exc:
            reason = error_text(exc)
            log.error("sync_run.account_failed", reason=reason)  # noqa: TRY400
            outcome = recorder.finish(RunOutcome.FAILED, reason)
            return recorder.report(outcome, reason, window)
        except Exception as exc:
            recorder.finish(RunOutcome.FAILED, error_text(exc))
            raise
        return recorder.report(recorder.finish(), window=window)


def _pull_window(
    connector: MarketplaceConnector,
    window: OrderWindow,
    ingester: OrderIngester,
    options: PullOptions,
    stop: StopRequest,
) -> set[str]:
    seen: set[str] = set()
    batch: list[RemoteOrder] = []
    for order in connector.fetch_orders(window):
        stop.check()  # orders not yet stored are read again by the next pull
        seen.add(order.external_id)
        batch.append(order)
        if len(batch) >= options.batch_size:
            ingester.ingest(batch)
            batch = []
    if batch:
        ingester.ingest(batch)
    ingester.recorder.counts["orders_seen"] += len(seen)
    return seen


def _reread_open(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    seen: set[str],
    ingester: OrderIngester,
    options: PullOptions,
    stop: StopRequest,
) -> None:
    """Fetch open orders the window did not show, one by one."""
    with uow_factory() as uow:
        open_ids = [
            i
            for i in uow.orders.open_ids(account.id, options.reread_limit)
            if i not in seen
        ]
    batch: list[RemoteOrder] = []
    for external_id in open_ids:
        stop.check()
        try:
            batch.append(connector.fetch_order(external_id))
        except RejectedError as exc:  # gone from the marketplace: keep what we know
            ingester.recorder.counts["reread_failed"] += 1
            log.warning("orders.reread_failed", order=external_id, reason=str(exc))
            continue
        if len(batch) >= options.batch_size:
            ingester.ingest(batch)
            batch = []
    if batch:
        ingester.ingest(batch)
    ingester.recorder.counts["orders_reread"] += len(open_ids)
