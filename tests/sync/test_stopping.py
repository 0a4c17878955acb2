"""Work asked to stop (SIGTERM, SIGINT) ends at a safe point: the marketplace call in
flight completes and is recorded, the run ends ``interrupted``, the lease is released,
and the next run carries on from what was committed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from core.domain.accounts import Marketplace
from core.domain.remote import ChangeResult, OrderWindow, RemoteOrder, StockUpdate
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import RunOutcome, SyncKind
from core.ports import MarketplaceConnector
from core.services import publish
from core.services.orders import PullOptions, pull_orders
from core.services.publish import push_account
from core.services.reconcile import reconcile_account
from core.services.stopping import StopRequest
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from scheduler.jobs import pull_job, run_cycle
from tests.sync.world import SHOPEE, World

pytestmark = pytest.mark.db


class _StopDuringStock:
    """Asks to stop while the first stock call is at the marketplace."""

    def __init__(self, inner: MarketplaceConnector, stop: StopRequest) -> None:
        self._inner, self._stop = inner, stop
        self.stock_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        self.stock_calls += 1
        self._stop.request("SIGTERM")  # the signal arrives mid-call
        return self._inner.push_stock(updates)


class _StopDuringOrders:
    """Asks to stop while the first page of orders is being read."""

    def __init__(self, inner: MarketplaceConnector, stop: StopRequest) -> None:
        self._inner, self._stop = inner, stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        for order in self._inner.fetch_orders(window):
            self._stop.request("SIGINT")
            yield order


def _receive(world: World, skus: Sequence[str], units: int) -> None:
    with world.uow() as uow:
        uow.stock.record_many(
            [
                NewMovement(
                    sku,  # type: ignore[arg-type]
                    MovementReason.RECEIPT,
                    units,
                    0,
                    f"receipt:{sku}:more",
                    "officer:test",
                )
                for sku in skus
            ],
            world.clock.now(),
        )
        uow.commit()


def test_a_push_asked_to_stop_finishes_the_chunk_in_flight_and_ends_interrupted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.cycle().ok
    shopee = world.account(SHOPEE)
    skus = [f"KOPI-{n:04d}" for n in range(1, 7)]
    _receive(world, skus, 10)
    assert world.plan(shopee).counts()["stock"] == 6
    monkeypatch.setattr(publish, "WRITE_CHUNK", 2)  # three stock chunks
    stop = StopRequest()
    connector = _StopDuringStock(world.connector(shopee), stop)

    report = push_account(
        world.uow,
        connector,  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
        stop=stop,
    )

    assert connector.stock_calls == 1  # no chunk was started after the request
    assert report.outcome is RunOutcome.INTERRUPTED
    assert report.counts == {"stock": 2}  # the call in flight completed, recorded
    with world.uow() as uow:
        run = uow.runs.get(report.run_id)
    assert run is not None
    assert run.outcome is RunOutcome.INTERRUPTED
    assert run.finished_at is not None
    assert "stopped by SIGTERM" in run.error
    assert [i.operation for i in run.items] == ["stock", "stock"]
    assert world.plan(shopee).counts()["stock"] == 4  # the rest is left

    again = push_account(
        world.uow, world.connector(shopee), shopee, world.clock, trigger="manual:test"
    )

    assert again.outcome is RunOutcome.SUCCEEDED
    assert again.counts == {"stock": 4}
    assert world.converged([shopee])


def test_an_order_pull_asked_to_stop_keeps_its_bookmark_and_the_next_reads_again(
    world: World,
) -> None:
    assert world.cycle().ok
    placed = set(world.buy(Marketplace.SHOPEE, 3))
    world.advance(5)
    shopee = world.account(SHOPEE)
    with world.uow() as uow:
        bookmark = uow.orders.bookmark(SHOPEE)
    stop = StopRequest()

    report = pull_orders(
        world.uow,
        _StopDuringOrders(world.connector(shopee), stop),  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
        options=PullOptions(batch_size=1),
        stop=stop,
    )

    assert report.outcome is RunOutcome.INTERRUPTED
    assert "stopped by SIGINT" in report.error
    with world.uow() as uow:
        assert uow.orders.bookmark(SHOPEE) == bookmark
        run = uow.runs.get(report.run_id)
    assert run is not None
    assert run.outcome is RunOutcome.INTERRUPTED

    again = pull_orders(
        world.uow, world.connector(shopee), shopee, world.clock, trigger="manual:test"
    )

    assert again.outcome is RunOutcome.SUCCEEDED
    stored = {o[1] for o in world.stored_orders() if o[0] == SHOPEE}
    assert placed <= stored
    assert len(world.movements()) == len(set(world.movements()))


def test_a_cycle_asked_to_stop_releases_its_leases_and_starts_nothing_more(
    world: World,
) -> None:
    assert world.cycle().ok
    world.buy(Marketplace.SHOPEE, 2)
    world.advance(5)
    shopee = world.account(SHOPEE)
    stop = StopRequest()

    def connector(account: Any) -> MarketplaceConnector:
        inner = world.connector(account)
        if account.id == SHOPEE:
            return _StopDuringOrders(inner, stop)  # type: ignore[return-value]
        return inner

    report = run_cycle(
        world.runner(stop=stop, connectors=connector), [shopee], trigger="manual:test"
    )

    assert [r.outcome for r in report.pulls] == [RunOutcome.INTERRUPTED]
    assert [(r.outcome, r.run_id) for r in report.pushes] == [(RunOutcome.SKIPPED, 0)]
    assert "stopping on SIGINT" in report.pushes[0].error
    assert SqlLeaseStore(make_session_factory(world.engine)).holder(SHOPEE) is None
    with world.uow() as uow:
        kinds = [(r.kind, r.outcome) for r in uow.runs.recent(10)]
    assert (SyncKind.PUBLISH, RunOutcome.RUNNING) not in kinds
    assert kinds[0] == (SyncKind.ORDERS, RunOutcome.INTERRUPTED)

    # another process can take the account at once
    after = world.runner().run(
        SyncKind.ORDERS, [shopee], pull_job("manual:test", PullOptions())
    )
    assert [r.outcome for r in after] == [RunOutcome.SUCCEEDED]


def test_a_reconcile_asked_to_stop_while_reading_the_shop_ends_interrupted(
    world: World,
) -> None:
    assert world.cycle().ok
    shopee = world.account(SHOPEE)
    stop = StopRequest()

    class _StopWhileListing:
        def __init__(self, inner: MarketplaceConnector) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def fetch_listings(self) -> Iterator[Any]:
            for listing in self._inner.fetch_listings():
                stop.request("SIGTERM")
                yield listing

    report = reconcile_account(
        world.uow,
        _StopWhileListing(world.connector(shopee)),  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
        repair=True,
        stop=stop,
    )

    assert report.run.outcome is RunOutcome.INTERRUPTED
    assert report.findings == []
    assert report.repair is None
    with world.uow() as uow:
        run = uow.runs.get(report.run.run_id)
    assert run is not None
    assert run.outcome is RunOutcome.INTERRUPTED
