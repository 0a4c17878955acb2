"""A sync world for the benchmarks: the canonical store, three in-process simulators
and one shop on each, wired as production wires them.

The marketplaces are wired by :class:`ikm_sync.simulated.SimulatedMarkets`, as the
tests' world wires them; this world adds what a benchmark needs to choose:
the size of the catalogue and its stock, a frozen clock whose waits advance it or the
real clock with real waits, the connectors' rate budgets off or as production sets
them (``ikm_sync.bootstrap.default_rate``), and a meter on the transport that counts
every request per marketplace and route and can watch listings as writes land.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from connectors import descriptor
from connectors._http import RateBudget
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Dimensions, Producer, ProducerKind, Product
from core.domain.ids import AccountId, ProducerCode, Sku, sku_key
from core.domain.stock import MovementReason, NewMovement
from core.ports import MarketplaceConnector, TokenStore
from core.reconcile import AccountPlan
from core.services.publish import plan_push
from core.store.crypto import TokenCipher
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from core.store.uow import SqlUnitOfWork
from ikm_sync.simulated import SimulatedMarkets
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.testkit import PICTURE_HOST

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PICTURES = f"https://{PICTURE_HOST}"

COFFEE = ProducerCode("IKM-NTT-001")
WEAVERS = ProducerCode("WBP-KALBAR-001")
PRODUCERS = (COFFEE, WEAVERS)

ACCOUNTS = {
    Marketplace.SHOPEE: AccountId("shopee-ntt"),
    Marketplace.TOKOPEDIA: AccountId("tokopedia-lapas"),
    Marketplace.BUKALAPAK: AccountId("bukalapak-esmart"),
}
SEEDS = {Marketplace.SHOPEE: 1, Marketplace.TOKOPEDIA: 2, Marketplace.BUKALAPAK: 3}

#: Buyers who all pay and never cancel or return: every order placed reserves stock.
PAYING_BUYERS = BuyerSettings(
    orders_per_hour=0, cancel_share=0.0, return_share=0.0, unpaid_share=0.0
)

#: The token key of the benchmarks' throwaway databases.
BENCH_TOKEN_KEY = "bLXHlqh6c1y4_-G988eIHGqkXvEQKntcaQ42CENpB1k="  # noqa: S105  (throwaway)


def bench_cipher() -> TokenCipher:
    """The cipher of the benchmarks' stored tokens."""
    return TokenCipher([BENCH_TOKEN_KEY])


class Waits:
    """Time and waiting on the world's clock, for the connectors' budgets and retries.

    ``monotonic`` is the simulated clock, which the simulators' rate limits follow
    too. ``sleep`` either advances that clock (``real=False``: a wait costs no real
    time, on a frozen or a running clock alike) or really sleeps (``real=True``, on a
    running clock only); :attr:`real` may be switched between phases.
    """

    def __init__(self, clock: SimClock, *, real: bool = False) -> None:
        self.clock = clock
        self.real = real
        self.waited = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        # The clock moves in whole microseconds: a shorter wait (a rate budget a
        # rounding error short of a token) must still move it, as in
        # tests/sync/world.py, or the waiter would wait again forever.
        seconds = max(seconds, 1e-6)
        with self._lock:
            self.waited += seconds
        if self.real:
            time.sleep(seconds)
        else:
            self.clock.advance(max(seconds, 1e-6))  # the clock moves in microseconds


def product_of(n: int) -> Product:
    """Product ``n`` of the generated catalogue: every simulator accepts it."""
    producer = PRODUCERS[n % 2]
    kind = "KOPI" if producer == COFFEE else "TENUN"
    sku = Sku(f"{kind}-{n:05d}")
    return Product(
        sku=sku,
        producer_code=producer,
        name=f"{'Kopi Arabika Flores' if kind == 'KOPI' else 'Tenun Ikat'} {n:05d}",
        price=50_000 + 100 * n,
        weight_grams=300,
        description="Produk binaan e-Smart IKM; dikemas rapi dan dikirim dari NTT.",
        category="Kopi" if kind == "KOPI" else "Kain Tenun",
        dimensions=Dimensions(18, 10, 6),
        image_urls=(f"{PICTURES}/{sku}/1.jpg",),
    )


class Meter:
    """The transport: routes each request to its simulator, adds up the time spent
    inside the simulators, counts throttling answers (HTTP 429, and Tokopedia's
    ``ERR_TOO_MANY_REQUEST`` rows) and calls ``after_write`` after every request a
    simulator counted on a write route."""

    def __init__(self, markets: SimulatedMarkets) -> None:
        self.markets = markets
        self.in_sims = 0.0
        self.throttled: Counter[Marketplace] = Counter()
        self.after_write: Callable[[Marketplace], None] | None = None
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = self.markets.owner(request)
        if key is None:
            return self.markets.handler(request)
        watch = self.after_write
        before = self.markets.write_calls(key) if watch is not None else 0
        started = time.perf_counter()
        response = self.markets.handler(request)
        spent = time.perf_counter() - started
        throttled = (
            response.status_code == 429 or b"ERR_TOO_MANY_REQUEST" in response.content
        )
        with self._lock:
            self.in_sims += spent
            if throttled:
                self.throttled[Marketplace(key)] += 1
        if watch is not None and self.markets.write_calls(key) != before:
            watch(Marketplace(key))
        return response


def requests_made(sim: Simulator) -> int:
    """Requests ``sim`` counted on its marketplace routes (not its own ``/_sim/``)."""
    return sum(n for name, n in sim.requests.items() if not name.startswith("_sim."))


@dataclass
class SyncWorld:
    """The store, the simulators and the accounts; see the module docstring."""

    engine: sa.Engine
    clock: SimClock
    waits: Waits
    markets: SimulatedMarkets
    sims: dict[Marketplace, Simulator]
    accounts: list[ChannelAccount]
    meter: Meter
    http: httpx.Client
    #: Where connectors keep tokens; ``None``: in the store (``SqlTokenStore``).
    tokens: TokenStore | None = None

    @classmethod
    def build(
        cls,
        engine: sa.Engine,
        *,
        products: int,
        stock: int,
        running: bool = False,
        rate_limits: bool = False,
        buyers: BuyerSettings = PAYING_BUYERS,
    ) -> SyncWorld:
        """A world whose store holds ``products`` products (two producers) with
        ``stock`` units received each, one account per marketplace listing all of
        them at 100 % of the available stock; the marketplaces hold nothing yet.

        ``running``: the clock runs from :data:`START` (waits advance it until
        ``waits.real`` is set); otherwise it is frozen at :data:`START` and moves only
        when advanced or waited on. ``rate_limits``: the simulators meter requests as
        documented and the connectors' budgets are production's
        (:func:`ikm_sync.bootstrap.default_rate`); otherwise both are off.
        """
        clock = SimClock(START, frozen=not running)
        waits = Waits(clock)
        keys = [m.value for m in ACCOUNTS]
        markets = SimulatedMarkets(
            keys,
            clock=clock,
            sleep=waits.sleep,
            monotonic=waits.monotonic,
            rate_limits=rate_limits,
            buyers=buyers,
            seeds={m.value: seed for m, seed in SEEDS.items()},
        )
        for key in keys:  # the simulated shop takes the whole catalogue
            markets.kits[key].make_room(markets.sims[key], products)
        accounts = [markets.account(m.value, ACCOUNTS[m], PRODUCERS) for m in ACCOUNTS]
        meter = Meter(markets)
        world = cls(
            engine=engine,
            clock=clock,
            waits=waits,
            markets=markets,
            sims={Marketplace(k): sim for k, sim in markets.sims.items()},
            accounts=accounts,
            meter=meter,
            http=httpx.Client(transport=httpx.MockTransport(meter.handler)),
        )
        world.seed(products, stock)
        world.authorise()
        return world

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work on the world's database."""
        return SqlUnitOfWork(make_session_factory(self.engine))

    def seed(self, products: int, stock: int) -> None:
        """Producers, products, one receipt per product and the accounts."""
        now = self.clock.now()
        catalogue = [product_of(n) for n in range(1, products + 1)]
        with self.uow() as uow:
            uow.producers.add_many(
                [
                    Producer(
                        COFFEE, "Koperasi Kopi Bajawa", ProducerKind.IKM, "NTT", "Ngada"
                    ),
                    Producer(
                        WEAVERS,
                        "Bengkel Kerja Lapas Pontianak",
                        ProducerKind.WBP,
                        "Kalimantan Barat",
                        "Pontianak",
                        institution="Lapas Kelas IIA Pontianak",
                    ),
                ],
                now,
            )
            uow.products.add_many(catalogue, now)
            uow.stock.record_many(
                [
                    NewMovement(
                        p.sku,
                        MovementReason.RECEIPT,
                        stock,
                        0,
                        f"receipt:{p.sku}",
                        "officer:bench",
                    )
                    for p in catalogue
                ],
                now,
            )
            for account in self.accounts:
                uow.accounts.save(account, now)
            uow.commit()

    # ------------------------------------------------------------ connectors

    def connector(self, account: ChannelAccount) -> MarketplaceConnector:
        """A connector for ``account``, as production builds one per phase."""
        return self.markets.connector(
            account,
            http=self.http,
            tokens=self.tokens
            or SqlTokenStore(
                make_session_factory(self.engine), self.clock, bench_cipher()
            ),
        )

    def authorise(self) -> None:
        """Every shop approves the app (no browser: simulators approve at once)."""
        for account in self.accounts:
            connector = self.connector(account)
            self.markets.authorise(connector, self.http)
            connector.close()

    @property
    def budgets(self) -> dict[Marketplace, RateBudget]:
        """The connectors' rate budgets, per marketplace."""
        return {Marketplace(k): b for k, b in self.markets.budgets.items()}

    def plan(self, account: ChannelAccount) -> AccountPlan:
        """``account``'s plan now, within what its marketplace can do."""
        capabilities = descriptor(account.marketplace.value).capabilities
        return plan_push(self.uow, account, capabilities=capabilities)

    def account(self, marketplace: Marketplace) -> ChannelAccount:
        return next(a for a in self.accounts if a.marketplace is marketplace)

    # ------------------------------------------------------------ observing

    def shown_stock(self, marketplace: Marketplace) -> dict[str, int]:
        """What buyers can order now, per SKU key, on the marketplace's active
        listings."""
        return {
            sku_key(entry["sku"]): int(entry["stock"])
            for entry in self.sims[marketplace].inspect_listings()
            if self.markets.kits[marketplace.value].listing_active(entry)
        }

    def wanted_stock(self, account: ChannelAccount) -> dict[str, int]:
        """The allocation of the canonical available stock, per SKU key listed."""
        plan = self.plan(account)
        return {key: want.draft.stock for key, want in plan.desired.items()}

    def write_calls(self) -> dict[Marketplace, int]:
        return {m: self.markets.write_calls(m.value) for m in self.sims}

    def requests(self) -> dict[Marketplace, int]:
        return {m: requests_made(sim) for m, sim in self.sims.items()}

    def close(self) -> None:
        self.http.close()
