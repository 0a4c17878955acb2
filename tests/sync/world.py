"""A whole sync world in one process: the canonical store, every installed
marketplace's simulator and one shop on each, wired as production wires them
(:class:`ikm_sync.simulated.SimulatedMarkets`).

The simulators share one frozen clock, which is also the sync engine's clock. Anything
that waits (rate budgets, retry back-off, simulated latency) advances that clock
instead of sleeping, so the marketplaces' rate limits refill as the waits say and a
test with faults switched on runs in well under a second of real time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpx
import sqlalchemy as sa

from connectors import available, descriptor
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.catalogue import Dimensions, Producer, ProducerKind, Product
from core.domain.ids import AccountId, ProducerCode, Sku, sku_key
from core.domain.stock import MovementReason, NewMovement
from core.ports import MarketplaceConnector
from core.reconcile import AccountPlan
from core.services.orders import PullOptions
from core.services.publish import plan_push
from core.services.stopping import StopRequest
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from core.store.uow import SqlUnitOfWork, fenced_units
from ikm_sync.simulated import SimulatedMarkets
from scheduler.jobs import CycleReport, run_cycle
from scheduler.runner import AccountJobRunner, ConnectorFactory, RunnerOptions
from simulators.kit.base import Simulator
from simulators.kit.clock import SimClock
from simulators.kit.testkit import PICTURE_HOST
from tests.fakes import sql_token_store

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PICTURES = f"https://{PICTURE_HOST}"

COFFEE = ProducerCode("IKM-NTT-001")
WEAVERS = ProducerCode("WBP-KALBAR-001")

SHOPEE = AccountId("shopee-ntt")
TOKOPEDIA = AccountId("tokopedia-lapas")
BUKALAPAK = AccountId("bukalapak-esmart")

#: Each simulator's seed (a marketplace added later gets its own).
SEEDS = {"shopee": 1, "tokopedia": 2, "bukalapak": 3}


class SimTime:
    """Monotonic time and sleep on the shared simulated clock."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.slept = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            # The clock moves in whole microseconds: a shorter wait (a rate budget
            # a rounding error short of a token) must still move it, or the waiter
            # would wait again forever.
            seconds = max(seconds, 1e-6)
            with self._lock:
                self.slept += seconds
            self.clock.advance(seconds)


def product_of(n: int, producer: ProducerCode) -> Product:
    """A valid product every simulated marketplace accepts."""
    kind = "KOPI" if producer == COFFEE else "TENUN"
    sku = Sku(f"{kind}-{n:04d}")
    return Product(
        sku=sku,
        producer_code=producer,
        name=f"{'Kopi Arabika Flores' if kind == 'KOPI' else 'Tenun Ikat'} {n:04d}",
        price=50_000 + 1_000 * n,
        weight_grams=300,
        description="Produk binaan e-Smart IKM; dikemas rapi dan dikirim dari NTT.",
        category="Kopi" if kind == "KOPI" else "Kain Tenun",
        dimensions=Dimensions(18, 10, 6),
        image_urls=(f"{PICTURES}/{sku}/1.jpg",),
    )


def default_accounts() -> list[ChannelAccount]:
    """One shop on every installed marketplace: the demo's kinds of allocation
    policy on the three shipped with ikm-sync, every product at 100 % elsewhere."""
    shipped = [
        ChannelAccount(
            SHOPEE,
            Marketplace.SHOPEE,
            "",
            (COFFEE,),
            policy=AllocationPolicy(
                default=AllocationRule(share_percent=60, safety_buffer=1, min_to_list=1)
            ),
        ),
        ChannelAccount(
            TOKOPEDIA,
            Marketplace.TOKOPEDIA,
            "",
            (COFFEE, WEAVERS),
            policy=AllocationPolicy(default=AllocationRule(share_percent=50, cap=10)),
        ),
        ChannelAccount(
            BUKALAPAK,
            Marketplace.BUKALAPAK,
            "",
            (COFFEE, WEAVERS),
            policy=AllocationPolicy(
                default=AllocationRule(share_percent=100, min_to_list=2),
                overrides=MappingProxyType(
                    {"KOPI-0001": AllocationRule(share_percent=100, cap=3)}
                ),
                excluded=frozenset({"TENUN-0002"}),
            ),
        ),
    ]
    known = {a.marketplace for a in shipped}
    return shipped + [
        ChannelAccount(
            AccountId(f"{key}-shop"), Marketplace(key), "", (COFFEE, WEAVERS)
        )
        for key in available()
        if key not in known
    ]


@dataclass
class World:
    """The store, the simulators and the accounts; see the module docstring."""

    engine: sa.Engine
    clock: SimClock
    time: SimTime
    markets: SimulatedMarkets
    sims: dict[Marketplace, Simulator]
    accounts: list[ChannelAccount]
    http: httpx.Client
    rate_limits: bool
    #: Connectors built, per account (the engine asks for one per phase).
    built: Counter[str] = field(default_factory=Counter)

    # ------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        engine: sa.Engine,
        *,
        products: int = 6,
        stock: int = 8,
        rate_limits: bool = False,
        accounts: list[ChannelAccount] | None = None,
    ) -> World:
        """A world whose store holds ``products`` products of each producer with
        ``stock`` units received each, and whose marketplaces know nothing yet. The
        marketplaces are those of ``accounts`` (default: :func:`default_accounts`,
        one shop on every installed marketplace)."""
        clock = SimClock(START, frozen=True)
        time = SimTime(clock)
        wanted = accounts if accounts is not None else default_accounts()
        keys = sorted({a.marketplace.value for a in wanted})
        markets = SimulatedMarkets(
            keys,
            clock=clock,
            sleep=time.sleep,
            monotonic=time.monotonic,
            rate_limits=rate_limits,
            seeds={key: SEEDS.get(key, 10 + n) for n, key in enumerate(keys)},
        )
        chosen = [
            replace(a, shop_id=markets.access(a.marketplace.value).shop_id)
            for a in wanted
        ]
        world = cls(
            engine=engine,
            clock=clock,
            time=time,
            markets=markets,
            sims={Marketplace(k): sim for k, sim in markets.sims.items()},
            accounts=chosen,
            http=markets.client(),
            rate_limits=rate_limits,
        )
        world.seed(products, stock)
        world.authorise()
        return world

    @property
    def marketplaces(self) -> list[Marketplace]:
        """The world's marketplaces, by key."""
        return sorted(self.sims)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work on the world's database."""
        return SqlUnitOfWork(make_session_factory(self.engine))

    def seed(self, products: int, stock: int) -> None:
        """Producers, products, one receipt per product and the accounts."""
        now = self.clock.now()
        catalogue = [
            product_of(n, producer)
            for producer in (COFFEE, WEAVERS)
            for n in range(1, products + 1)
        ]
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
                        "officer:test",
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
        self.built[account.id] += 1
        return self.markets.connector(
            account,
            http=self.http,
            tokens=sql_token_store(make_session_factory(self.engine), self.clock),
        )

    def authorise(self) -> None:
        """Every shop approves the app (no browser: simulators approve at once)."""
        for account in self.accounts:
            self.markets.authorise(self.connector(account), self.http)

    def plan(self, account: ChannelAccount) -> AccountPlan:
        """``account``'s plan now, within what its marketplace can do."""
        capabilities = descriptor(account.marketplace.value).capabilities
        return plan_push(self.uow, account, capabilities=capabilities)

    def account(self, account_id: AccountId) -> ChannelAccount:
        return next(a for a in self.accounts if a.id == account_id)

    # ------------------------------------------------------------ running

    def runner(
        self,
        *,
        workers: int = 1,
        stop: StopRequest | None = None,
        connectors: ConnectorFactory | None = None,
    ) -> AccountJobRunner:
        """The account-job runner on the world's database, as the command line
        builds it."""
        factory = make_session_factory(self.engine)
        return AccountJobRunner(
            SqlLeaseStore(factory),
            lambda fence: fenced_units(factory, fence),
            connectors or self.connector,
            self.clock,
            RunnerOptions(workers=workers, stop=stop or StopRequest()),
        )

    def cycle(
        self,
        *,
        workers: int = 1,
        pull: PullOptions | None = None,
        trigger: str = "manual:test",
    ) -> CycleReport:
        """One sync cycle over every account, as ``ikm-sync sync cycle`` runs it
        (``trigger="schedule"``: as the daemon runs it)."""
        return run_cycle(
            self.runner(workers=workers),
            self.accounts,
            trigger=trigger,
            pull=pull or PullOptions(),
        )

    def buy(self, marketplace: Marketplace, orders: int) -> list[str]:
        """Simulated buyers order now (and pay at once, unless they never will)."""
        sim = self.sims[marketplace]
        placed = sim.buyers.rush(orders)
        sim.tick()
        return placed

    def advance(self, seconds: float) -> None:
        """Let simulated time pass and the marketplaces act on it."""
        self.clock.advance(seconds)
        for sim in self.sims.values():
            sim.tick()

    # ------------------------------------------------------------ observing

    def shown(self, marketplace: Marketplace) -> list[dict[str, Any]]:
        """Every listing the marketplace holds, as its ``/_sim/listings`` shows it."""
        return self.sims[marketplace].inspect_listings()

    def shown_stock(self, account: ChannelAccount) -> dict[str, int]:
        """What buyers can order now, per SKU key, on the account's active listings."""
        kit = self.markets.kits[account.marketplace.value]
        stock: dict[str, int] = {}
        for entry in self.shown(account.marketplace):
            if kit.listing_active(entry):
                stock[sku_key(entry["sku"])] = int(entry["stock"])
        return stock

    def active(self, marketplace: Marketplace, entry: dict[str, Any]) -> bool:
        """Whether a ``/_sim/listings`` entry of ``marketplace`` is on sale."""
        return self.markets.kits[marketplace.value].listing_active(entry)

    def listed_count(self, account: ChannelAccount) -> Counter[str]:
        """How many listings carry each SKU key (anything above 1 is a duplicate)."""
        return Counter(sku_key(e["sku"]) for e in self.shown(account.marketplace))

    def wanted_stock(self, account: ChannelAccount) -> dict[str, int]:
        """The allocation of the canonical available stock, per SKU key listed."""
        plan = self.plan(account)
        return {key: want.draft.stock for key, want in plan.desired.items()}

    def stored_orders(self) -> list[tuple[str, str, str, str, bool]]:
        """(account, external id, status, stock state, oversold) of every stored
        order."""
        query = sa.text(
            "SELECT a.account_key, o.external_id, o.status, o.stock_state, o.oversold "
            "FROM orders o JOIN channel_accounts a ON a.id = o.account_id "
            "ORDER BY a.account_key, o.external_id"
        )
        with self.engine.connect() as connection:
            return [
                (str(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4]))
                for r in connection.execute(query)
            ]

    def movements(self) -> list[tuple[str, str, int, int]]:
        """(idempotency key, reason, on-hand delta, reserved delta) of every stock
        movement, oldest first."""
        query = sa.text(
            "SELECT idempotency_key, reason, on_hand_delta, reserved_delta "
            "FROM stock_movements ORDER BY id"
        )
        with self.engine.connect() as connection:
            return [
                (str(r[0]), str(r[1]), int(r[2]), int(r[3]))
                for r in connection.execute(query)
            ]

    def available(self) -> dict[str, int]:
        """Canonical available stock per SKU key."""
        with self.uow() as uow:
            return {k: v.available for k, v in uow.stock.levels().items()}

    def converged(self, accounts: Sequence[ChannelAccount] | None = None) -> bool:
        """Every account (or those given) shows exactly its allocation, once per SKU,
        and has nothing left to send."""
        for account in self.accounts if accounts is None else accounts:
            if self.shown_stock(account) != self.wanted_stock(account):
                return False
            if any(n > 1 for n in self.listed_count(account).values()):
                return False
            if not self.plan(account).empty:
                return False
        return True

    def write_calls(self) -> dict[Marketplace, int]:
        """Requests each marketplace counted on endpoints that change something."""
        return {m: self.markets.write_calls(m.value) for m in self.sims}


def counts_of(reports: Sequence[Any]) -> dict[str, dict[str, int]]:
    """``{account: counts}`` of run reports."""
    return {str(r.account): dict(r.counts) for r in reports}
