"""A fleet for the benchmarks: many shops per marketplace, each on a simulator of its
own, in one canonical store, run by the scheduler daemon as ``ikm-sync run`` wires it.

Every producer has 30 products and one shop on one marketplace (its own account,
listing its own products), so an account's cycle sees only its own listings and
orders. The fleet has ``n`` accounts per marketplace in the store (producers,
products with their stock, accounts, a due time each); the first ``live`` per
marketplace also have a simulator (Shopee, Tokopedia or Bukalapak, in process),
tokens from a real authorisation, and their listings published by their first
cycle. The others are due only a day later, so the daemon never claims them while
the benchmark runs: they are there for the size of the tables and the schedule.

Requests reach each account's simulator through one ``httpx.MockTransport`` that
routes by host (every account has hosts of its own) and can wait a fixed latency
before each answer, as a network would, the GIL released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import sqlalchemy as sa

from bench._syncworld import PAYING_BUYERS, PICTURES, bench_cipher
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Dimensions, Producer, ProducerKind, Product
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.stock import MovementReason, NewMovement
from core.ports import MarketplaceConnector
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from core.store.schedule import SqlScheduleStore
from core.store.tokens import SqlTokenStore
from core.store.uow import SqlUnitOfWork
from ikm_sync.simulated import SimulatedMarkets, write_calls
from scheduler.daemon import CYCLE, Daemon, DaemonOptions
from scheduler.runner import AccountJobRunner, RunnerOptions
from scheduler.timing import Intervals
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock

MARKETS = (Marketplace.SHOPEE, Marketplace.TOKOPEDIA, Marketplace.BUKALAPAK)
PREFIX = {
    Marketplace.SHOPEE: "s",
    Marketplace.TOKOPEDIA: "t",
    Marketplace.BUKALAPAK: "b",
}
#: Products per producer, each producer one shop.
SKUS = 30
#: Units received per product.
STOCK = 50
#: Rows written per transaction while building the store.
CHUNK = 3_000
#: Accounts that are not live are first due this far ahead.
PARKED = timedelta(days=1)


def account_id(marketplace: Marketplace, index: int) -> AccountId:
    """The ``index``-th account of ``marketplace`` (0-based)."""
    return AccountId(f"{marketplace.value}-{index:05d}")


def producer_code(marketplace: Marketplace, index: int) -> ProducerCode:
    return ProducerCode(f"IKM-{PREFIX[marketplace].upper()}{index:05d}")


def products_of(marketplace: Marketplace, index: int) -> list[Product]:
    """The products of the ``index``-th shop of ``marketplace``."""
    code = producer_code(marketplace, index)
    tag = f"{PREFIX[marketplace].upper()}{index:05d}"
    return [
        Product(
            sku=Sku(f"KOPI-{tag}-{k:02d}"),
            producer_code=code,
            name=f"Kopi Arabika Flores {tag} {k:02d}",
            price=50_000 + 100 * k,
            weight_grams=300,
            description="Produk binaan e-Smart IKM; dikemas rapi dan dikirim dari NTT.",
            category="Kopi",
            dimensions=Dimensions(18, 10, 6),
            image_urls=(f"{PICTURES}/{tag}-{k:02d}/1.jpg",),
        )
        for k in range(1, SKUS + 1)
    ]


class Transport:
    """Routes each live account's requests to its own simulators, waiting
    :attr:`latency` seconds first; counts requests and the time inside the
    simulators."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.requests = 0
        self.in_sims = 0.0
        self._lock = threading.Lock()

    def client(self, markets: SimulatedMarkets) -> httpx.Client:
        """An HTTP client for one account's simulated marketplace."""
        return httpx.Client(
            transport=httpx.MockTransport(partial(self.handle, markets))
        )

    def handle(
        self, markets: SimulatedMarkets, request: httpx.Request
    ) -> httpx.Response:
        if self.latency:
            time.sleep(self.latency)  # the network's round trip, GIL released
        started = time.perf_counter()
        response = markets.handler(request)
        spent = time.perf_counter() - started
        with self._lock:
            self.requests += 1
            self.in_sims += spent
        return response


@dataclass
class Fleet:
    """The store, the live accounts' simulators, and the daemon's parts."""

    engine: sa.Engine
    clock: SimClock
    n: int
    accounts: list[ChannelAccount]
    live: list[ChannelAccount]
    sims: dict[AccountId, Simulator]
    transport: Transport
    #: Each live account's simulated marketplace and HTTP client.
    markets: dict[AccountId, SimulatedMarkets] = field(default_factory=dict)
    clients: dict[AccountId, httpx.Client] = field(default_factory=dict)
    indexes: dict[AccountId, int] = field(default_factory=dict)

    # ------------------------------------------------------------ building

    @classmethod
    def build(cls, engine: sa.Engine, *, n: int, live: int) -> Fleet:
        """A fleet of ``n`` accounts per marketplace, the first ``live`` of each
        with a simulator and tokens; nothing is published yet."""
        clock = SimClock(datetime.now(UTC), frozen=False)
        transport = Transport()
        fleet = cls(
            engine=engine,
            clock=clock,
            n=n,
            accounts=[],
            live=[],
            sims={},
            transport=transport,
        )
        fleet._simulators(min(live, n))
        fleet._store()
        fleet._authorise()
        return fleet

    def _simulators(self, live: int) -> None:
        for seed, marketplace in enumerate(MARKETS):
            for index in range(self.n):
                key = account_id(marketplace, index)
                self.indexes[key] = index
                shop = f"parked-{index}"
                if index < live:
                    markets = SimulatedMarkets(
                        [marketplace.value],
                        clock=self.clock,
                        buyers=PAYING_BUYERS,
                        seeds={marketplace.value: 1000 * seed + index},
                    )
                    self.markets[key] = markets
                    self.sims[key] = markets.sims[marketplace.value]
                    self.clients[key] = self.transport.client(markets)
                    shop = markets.access(marketplace.value).shop_id
                account = ChannelAccount(
                    key, marketplace, shop, (producer_code(marketplace, index),)
                )
                self.accounts.append(account)
                if index < live:
                    self.live.append(account)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(make_session_factory(self.engine))

    def _store(self) -> None:
        """Producers, products, receipts and accounts, in chunks; the accounts that
        are not live get a due time a day ahead."""
        now = self.clock.now()
        per_chunk = max(1, CHUNK // SKUS)
        for start in range(0, len(self.accounts), per_chunk):
            chunk = self.accounts[start : start + per_chunk]
            with self.uow() as uow:
                uow.producers.add_many(
                    [
                        Producer(
                            a.producer_codes[0],
                            f"Koperasi {a.producer_codes[0]}",
                            ProducerKind.IKM,
                            "NTT",
                            "Ngada",
                        )
                        for a in chunk
                    ],
                    now,
                )
                catalogue = [
                    p
                    for a in chunk
                    for p in products_of(a.marketplace, self.indexes[a.id])
                ]
                uow.products.add_many(catalogue, now)
                uow.stock.record_many(
                    [
                        NewMovement(
                            p.sku,
                            MovementReason.RECEIPT,
                            STOCK,
                            0,
                            f"receipt:{p.sku}",
                            "officer:bench",
                        )
                        for p in catalogue
                    ],
                    now,
                )
                for account in chunk:
                    uow.accounts.save(account, now)
                uow.commit()
        live = {a.id for a in self.live}
        self.schedule().ensure(
            CYCLE, {a.id: PARKED for a in self.accounts if a.id not in live}
        )

    # ------------------------------------------------------------ connectors

    def tokens(self) -> SqlTokenStore:
        return SqlTokenStore(
            make_session_factory(self.engine), self.clock, bench_cipher()
        )

    def connector(self, account: ChannelAccount) -> MarketplaceConnector:
        """A connector for a live ``account``, as production builds one per job."""
        return self.markets[account.id].connector(
            account, http=self.clients[account.id], tokens=self.tokens()
        )

    def _authorise(self) -> None:
        """Every live shop approves the app (simulators approve at once)."""
        for account in self.live:
            connector = self.connector(account)
            self.markets[account.id].authorise(connector, self.clients[account.id])
            connector.close()

    # ------------------------------------------------------------ the daemon

    def schedule(self) -> SqlScheduleStore:
        return SqlScheduleStore(make_session_factory(self.engine))

    def runner(self, workers: int) -> AccountJobRunner:
        """The account-job runner as ``ikm-sync run`` builds it (leases and fenced
        units of work on the store), with this fleet's connectors."""
        factory = make_session_factory(self.engine)
        return AccountJobRunner(
            SqlLeaseStore(factory),
            lambda fence: partial(SqlUnitOfWork, factory, fence),
            self.connector,
            self.clock,
            RunnerOptions(workers=workers),
        )

    def daemon(
        self,
        workers: int,
        interval: timedelta = timedelta(0),
        tick: timedelta = timedelta(seconds=5),
        sweep_every: timedelta = timedelta(minutes=1),
    ) -> Daemon:
        """The daemon as ``ikm-sync run`` builds it: cycles only (no reconcile),
        every account due again ``interval`` after it was claimed."""
        factory = make_session_factory(self.engine)

        def accounts() -> list[ChannelAccount]:
            with SqlUnitOfWork(factory) as uow:
                return [a for a in uow.accounts.get_all() if a.enabled]

        return Daemon(
            self.runner(workers),
            SqlScheduleStore(factory),
            self.tokens(),
            accounts,
            DaemonOptions(
                cycles=Intervals(interval), tick=tick, sweep_every=sweep_every
            ),
        )

    # ------------------------------------------------------------ buyers

    def order_on(self, account: ChannelAccount, number: int) -> None:
        """One buyer orders one unit of a listing with stock, and pays."""
        sim = self.sims[account.id]
        listings = sorted(ref for ref, left in sim.buyable_listings() if left > 0)
        if not listings:
            raise RuntimeError(f"{account.id}: no listing has stock left")
        ref = listings[number % len(listings)]
        order = sim.place_order(ref, 1, f"buyer-{number:05d}")
        if order is None or not sim.buyer_event(order, BuyerEvent.PAY):
            raise RuntimeError(f"{account.id}: the order on {ref} was refused")

    def write_calls(self) -> int:
        """Requests the live simulators counted on routes that change something."""
        return sum(write_calls(sim) for sim in self.sims.values())

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


# ------------------------------------------------------------------ counting


@dataclass
class Counts:
    """What the process did while counting: SQL statements (one per cursor
    execution; an ``executemany`` is one), of which writing (INSERT, UPDATE,
    DELETE), commits, threads started, CPU and wall seconds."""

    statements: int = 0
    writes: int = 0
    commits: int = 0
    threads: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    in_sims: float = 0.0
    requests: int = 0


#: ``threading.Thread.start`` as the interpreter has it.
_THREAD_START = threading.Thread.start


class Counter:
    """Counts statements and commits on an engine, and threads started (while it
    is open, every ``threading.Thread.start`` is counted)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements = self.writes = self.commits = self.threads = 0
        self._lock = threading.Lock()
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        counter = self

        def start(self: threading.Thread) -> None:
            with counter._lock:
                counter.threads += 1
            _THREAD_START(self)

        threading.Thread.start = start  # type: ignore[method-assign]

    def _statement(self, *args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        with self._lock:
            self.statements += 1
            if statement.startswith(("INSERT", "UPDATE", "DELETE")):
                self.writes += 1

    def _commit(self, *_: Any) -> None:
        with self._lock:
            self.commits += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)
        self.restore()

    @staticmethod
    def restore() -> None:
        """``threading.Thread.start`` as it was, whatever happened."""
        threading.Thread.start = _THREAD_START  # type: ignore[method-assign]

    @contextmanager
    def counting(self, transport: Transport) -> Iterator[Counts]:
        """The counts of the block (filled in when it ends)."""
        counts = Counts()
        before = (self.statements, self.writes, self.commits, self.threads)
        requests, in_sims = transport.requests, transport.in_sims
        cpu, wall = time.process_time(), time.perf_counter()
        yield counts
        counts.cpu = time.process_time() - cpu
        counts.wall = time.perf_counter() - wall
        counts.statements = self.statements - before[0]
        counts.writes = self.writes - before[1]
        counts.commits = self.commits - before[2]
        counts.threads = self.threads - before[3]
        counts.requests = transport.requests - requests
        counts.in_sims = transport.in_sims - in_sims


def table_rows(engine: sa.Engine) -> dict[str, int]:
    """Rows per table of the store."""
    tables = sa.inspect(engine).get_table_names()
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(sa.table(name))
                ).scalar_one()
            )
            for name in tables
            if name != "alembic_version"
        }
