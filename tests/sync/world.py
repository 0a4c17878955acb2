"""A whole sync world in one process: the canonical store, three simulated
marketplaces and one shop on each, wired as production wires them.

The simulators share one frozen clock, which is also the sync engine's clock. Anything
that waits (rate budgets, retry back-off, simulated latency) advances that clock
instead of sleeping, so the marketplaces' rate limits refill as the waits say and a
test with faults switched on runs in well under a second of real time.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.bukalapak import BukalapakConnector
from connectors.shopee import ShopeeConnector
from connectors.tokopedia import TokopediaConnector
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.catalogue import Dimensions, Producer, ProducerKind, Product
from core.domain.ids import AccountId, ProducerCode, Sku, sku_key
from core.domain.remote import Secret
from core.domain.stock import MovementReason, NewMovement
from core.ports import MarketplaceConnector
from core.services.orders import PullOptions
from core.services.publish import plan_push
from core.services.stopping import StopRequest
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from core.store.uow import SqlUnitOfWork, fenced_units
from scheduler.jobs import CycleReport, run_cycle
from scheduler.runner import AccountJobRunner, ConnectorFactory, RunnerOptions
from simulators.bukalapak.simulator import (
    ACCOUNTS_BASE_URL,
    BukalapakSimulator,
)
from simulators.bukalapak.simulator import API_BASE_URL as BUKALAPAK_API
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.pictures import picture_response
from simulators.shopee.simulator import BASE_URL as SHOPEE_API
from simulators.shopee.simulator import ShopeeSimulator
from simulators.tokopedia.simulator import TokopediaSimulator
from tests.fakes import sql_token_store

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PICTURES = "https://img.ikm-sync.example"
REDIRECT = "https://ikm-sync.example/callback"

COFFEE = ProducerCode("IKM-NTT-001")
WEAVERS = ProducerCode("WBP-KALBAR-001")

SHOPEE = AccountId("shopee-ntt")
TOKOPEDIA = AccountId("tokopedia-lapas")
BUKALAPAK = AccountId("bukalapak-esmart")

#: Documented limits, as production budgets them (before headroom).
RATES = {
    Marketplace.SHOPEE: (10.0, 10),
    Marketplace.TOKOPEDIA: (5.0, 5),
    Marketplace.BUKALAPAK: (10.0, 10),
}


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
    """One shop per marketplace, with the demo's kinds of allocation policy."""
    return [
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


@dataclass
class World:
    """The store, the simulators and the accounts; see the module docstring."""

    engine: sa.Engine
    clock: SimClock
    time: SimTime
    sims: dict[Marketplace, Simulator]
    accounts: list[ChannelAccount]
    http: httpx.Client
    rate_limits: bool
    budgets: dict[Marketplace, RateBudget] = field(default_factory=dict)
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
        ``stock`` units received each, and whose marketplaces know nothing yet."""
        clock = SimClock(START, frozen=True)
        time = SimTime(clock)
        buyers = BuyerSettings(orders_per_hour=0)
        sims: dict[Marketplace, Simulator] = {
            Marketplace.SHOPEE: ShopeeSimulator(
                clock=clock,
                seed=1,
                sleep=time.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
            Marketplace.TOKOPEDIA: TokopediaSimulator(
                clock=clock,
                seed=2,
                sleep=time.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
            Marketplace.BUKALAPAK: BukalapakSimulator(
                clock=clock,
                seed=3,
                sleep=time.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
        }
        hosts: dict[str, Simulator] = {
            httpx.URL(SHOPEE_API).host: sims[Marketplace.SHOPEE],
            httpx.URL(BUKALAPAK_API).host: sims[Marketplace.BUKALAPAK],
            httpx.URL(ACCOUNTS_BASE_URL).host: sims[Marketplace.BUKALAPAK],
        }
        tokopedia = sims[Marketplace.TOKOPEDIA].credentials()
        for key in ("api_base_url", "token_url"):
            hosts[httpx.URL(tokopedia[key]).host] = sims[Marketplace.TOKOPEDIA]
        picture_host = httpx.URL(PICTURES).host

        def route(request: httpx.Request) -> httpx.Response:
            if request.url.host == picture_host:
                return picture_response(request)
            return hosts[request.url.host].handler(request)

        shops = {
            Marketplace.SHOPEE: sims[Marketplace.SHOPEE].credentials()["shop_id"],
            Marketplace.TOKOPEDIA: tokopedia["shop_id"],
            Marketplace.BUKALAPAK: sims[Marketplace.BUKALAPAK].credentials()[
                "store_id"
            ],
        }
        chosen = [
            ChannelAccount(
                a.id,
                a.marketplace,
                shops[a.marketplace],
                a.producer_codes,
                a.policy,
                a.credentials_ref,
                a.enabled,
            )
            for a in (accounts if accounts is not None else default_accounts())
        ]
        world = cls(
            engine=engine,
            clock=clock,
            time=time,
            sims=sims,
            accounts=chosen,
            http=httpx.Client(transport=httpx.MockTransport(route)),
            rate_limits=rate_limits,
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

    def _budget(self, marketplace: Marketplace) -> RateBudget:
        if marketplace not in self.budgets:
            rate, burst = RATES[marketplace]
            self.budgets[marketplace] = RateBudget(
                rate * 0.8,
                max(1, int(burst * 0.8)),
                monotonic=self.time.monotonic,
                sleep=self.time.sleep,
            )
        return self.budgets[marketplace]

    def connector(self, account: ChannelAccount) -> MarketplaceConnector:
        """A connector for ``account``, as production builds one per phase."""
        self.built[account.id] += 1
        sim = self.sims[account.marketplace]
        credentials = sim.credentials()
        options: dict[str, Any]
        secrets: dict[str, Secret]
        if account.marketplace is Marketplace.SHOPEE:
            category = {
                "category_id": int(credentials["category_id"]),
                "attributes": [
                    {
                        "attribute_id": 100_010,
                        "values": [{"value_id": 0, "original_value_name": "NoBrand"}],
                    }
                ],
            }
            options = {
                "partner_id": int(credentials["partner_id"]),
                "default_category": category,
                "logistics": [{"logistic_id": int(credentials["logistic_id"])}],
                "days_to_ship": 2,
            }
            secrets = {"partner_key": Secret(credentials["partner_key"])}
            base_url = SHOPEE_API
            build: type[MarketplaceConnector] = ShopeeConnector
        elif account.marketplace is Marketplace.TOKOPEDIA:
            options = {
                "fs_id": int(credentials["fs_id"]),
                "token_url": credentials["token_url"],
                "default_category_id": 2310,
            }
            secrets = {
                "client_id": Secret(credentials["client_id"]),
                "client_secret": Secret(credentials["client_secret"]),
            }
            base_url = credentials["api_base_url"]
            build = TokopediaConnector
        else:
            options = {
                "accounts_base_url": ACCOUNTS_BASE_URL,
                "default_category_id": 1234,
                "default_image_ids": [
                    int(i) for i in credentials["attachment_ids"].split(",")
                ][:1],
            }
            secrets = {
                "client_id": Secret(credentials["client_id"]),
                "client_secret": Secret(credentials["client_secret"]),
            }
            base_url = BUKALAPAK_API
            build = BukalapakConnector
        context = ConnectorContext(
            account=account,
            base_url=base_url,
            http=self.http,
            clock=self.clock,
            tokens=sql_token_store(make_session_factory(self.engine), self.clock),
            budget=self._budget(account.marketplace),
            credentials=secrets,
            options=options,
            policy=RetryPolicy(),
            sleep=self.time.sleep,
        )
        return build(context)  # type: ignore[call-arg]

    def authorise(self) -> None:
        """Every shop approves the app (no browser: simulators approve at once)."""
        for account in self.accounts:
            connector = self.connector(account)
            link = connector.authorization_url(REDIRECT, "world")
            if link is None:
                connector.authorize("", REDIRECT)
                continue
            answer = self.http.get(link)
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            connector.authorize(query["code"][0], REDIRECT)

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
        stock: dict[str, int] = {}
        for entry in self.shown(account.marketplace):
            if _active(account.marketplace, entry):
                stock[sku_key(entry["sku"])] = int(entry["stock"])
        return stock

    def listed_count(self, account: ChannelAccount) -> Counter[str]:
        """How many listings carry each SKU key (anything above 1 is a duplicate)."""
        return Counter(sku_key(e["sku"]) for e in self.shown(account.marketplace))

    def wanted_stock(self, account: ChannelAccount) -> dict[str, int]:
        """The allocation of the canonical available stock, per SKU key listed."""
        plan = plan_push(self.uow, account)
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
            if not plan_push(self.uow, account).empty:
                return False
        return True

    def write_calls(self) -> dict[Marketplace, int]:
        """Requests each marketplace counted on endpoints that change something."""
        return {m: write_calls(sim) for m, sim in self.sims.items()}


#: Simulator routes that change what a marketplace holds (listings, stock, orders).
WRITE_ROUTES = frozenset(
    {
        # Shopee
        "media_space.upload_image",
        "product.add_item",
        "product.add_model",
        "product.delete_item",
        "product.init_tier_variation",
        "product.update_item",
        "product.update_price",
        "product.update_stock",
        "logistics.ship_order",
        "order.cancel_order",
        # Tokopedia
        "product_create",
        "product_edit",
        "product_active",
        "product_inactive",
        "price_update",
        "stock_update",
        "order_ack",
        "order_nack",
        "order_pickup",
        "order_reject_cancel",
        # Bukalapak
        "products.create",
        "skus.update",
        "partners.logistic_bookings",
        "transactions.status",
    }
)


def write_calls(sim: Simulator) -> int:
    """Requests ``sim`` counted on routes that change something."""
    return sum(n for name, n in sim.requests.items() if name in WRITE_ROUTES)


def _active(marketplace: Marketplace, entry: dict[str, Any]) -> bool:
    status = str(entry.get("status", "")).upper()
    if marketplace is Marketplace.SHOPEE:
        return status == "NORMAL"
    if marketplace is Marketplace.TOKOPEDIA:
        return bool(entry.get("active"))
    return status == "ACTIVE"


def counts_of(reports: Sequence[Any]) -> dict[str, dict[str, int]]:
    """``{account: counts}`` of run reports."""
    return {str(r.account): dict(r.counts) for r in reports}
