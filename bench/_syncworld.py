"""A sync world for the benchmarks: the canonical store, three in-process simulators
and one shop on each, wired as production wires them.

A bench-local copy of what ``tests/sync/world.py`` builds (the same simulators, the
same connector options, the same token store), with what a benchmark needs to choose:
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.bukalapak import BukalapakConnector
from connectors.shopee import ShopeeConnector
from connectors.tokopedia import TokopediaConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Dimensions, Producer, ProducerKind, Product
from core.domain.ids import AccountId, ProducerCode, Sku, sku_key
from core.domain.remote import Secret
from core.domain.stock import MovementReason, NewMovement
from core.ports import MarketplaceConnector, TokenStore
from core.services.publish import plan_push
from core.store.crypto import TokenCipher
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from core.store.uow import SqlUnitOfWork
from ikm_sync.bootstrap import default_rate
from simulators.bukalapak.simulator import ACCOUNTS_BASE_URL, BukalapakSimulator
from simulators.bukalapak.simulator import API_BASE_URL as BUKALAPAK_API
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.pictures import picture_response
from simulators.shopee.simulator import BASE_URL as SHOPEE_API
from simulators.shopee.simulator import ShopeeSimulator
from simulators.tokopedia.simulator import TokopediaSimulator

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
PICTURES = "https://img.ikm-sync.example"
REDIRECT = "https://ikm-sync.example/callback"

COFFEE = ProducerCode("IKM-NTT-001")
WEAVERS = ProducerCode("WBP-KALBAR-001")
PRODUCERS = (COFFEE, WEAVERS)

ACCOUNTS = {
    Marketplace.SHOPEE: AccountId("shopee-ntt"),
    Marketplace.TOKOPEDIA: AccountId("tokopedia-lapas"),
    Marketplace.BUKALAPAK: AccountId("bukalapak-esmart"),
}
SEEDS = {Marketplace.SHOPEE: 1, Marketplace.TOKOPEDIA: 2, Marketplace.BUKALAPAK: 3}

#: Simulator routes that change what a marketplace holds (listings, stock, orders);
#: the same list as ``tests/sync/world.py``'s ``WRITE_ROUTES``.
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


def _active(marketplace: Marketplace, entry: dict[str, Any]) -> bool:
    status = str(entry.get("status", "")).upper()
    if marketplace is Marketplace.SHOPEE:
        return status == "NORMAL"
    if marketplace is Marketplace.TOKOPEDIA:
        return bool(entry.get("active"))
    return status == "ACTIVE"


class Meter:
    """The transport: routes each request to its simulator, adds up the time spent
    inside the simulators, counts throttling answers (HTTP 429, and Tokopedia's
    ``ERR_TOO_MANY_REQUEST`` rows) and calls ``after_write`` after every request a
    simulator counted on a write route."""

    def __init__(self, sims: dict[Marketplace, Simulator]) -> None:
        self.sims = sims
        self.hosts: dict[str, Marketplace] = {
            httpx.URL(SHOPEE_API).host: Marketplace.SHOPEE,
            httpx.URL(BUKALAPAK_API).host: Marketplace.BUKALAPAK,
            httpx.URL(ACCOUNTS_BASE_URL).host: Marketplace.BUKALAPAK,
        }
        tokopedia = sims[Marketplace.TOKOPEDIA].credentials()
        for key in ("api_base_url", "token_url"):
            self.hosts[httpx.URL(tokopedia[key]).host] = Marketplace.TOKOPEDIA
        self.picture_host = httpx.URL(PICTURES).host
        self.in_sims = 0.0
        self.throttled: Counter[Marketplace] = Counter()
        self.after_write: Callable[[Marketplace], None] | None = None
        self._lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.picture_host:
            return picture_response(request)
        marketplace = self.hosts[request.url.host]
        sim = self.sims[marketplace]
        watch = self.after_write
        before = write_calls(sim) if watch is not None else 0
        started = time.perf_counter()
        response = sim.handler(request)
        spent = time.perf_counter() - started
        throttled = (
            response.status_code == 429 or b"ERR_TOO_MANY_REQUEST" in response.content
        )
        with self._lock:
            self.in_sims += spent
            if throttled:
                self.throttled[marketplace] += 1
        if watch is not None and write_calls(sim) != before:
            watch(marketplace)
        return response


def write_calls(sim: Simulator) -> int:
    """Requests ``sim`` counted on routes that change something."""
    return sum(n for name, n in sim.requests.items() if name in WRITE_ROUTES)


def requests_made(sim: Simulator) -> int:
    """Requests ``sim`` counted on its marketplace routes (not its own ``/_sim/``)."""
    return sum(n for name, n in sim.requests.items() if not name.startswith("_sim."))


@dataclass
class SyncWorld:
    """The store, the simulators and the accounts; see the module docstring."""

    engine: sa.Engine
    clock: SimClock
    waits: Waits
    sims: dict[Marketplace, Simulator]
    accounts: list[ChannelAccount]
    meter: Meter
    http: httpx.Client
    budgets: dict[Marketplace, RateBudget] = field(default_factory=dict)
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
        sims: dict[Marketplace, Simulator] = {
            Marketplace.SHOPEE: ShopeeSimulator(
                clock=clock,
                seed=SEEDS[Marketplace.SHOPEE],
                sleep=waits.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
            Marketplace.TOKOPEDIA: TokopediaSimulator(
                clock=clock,
                seed=SEEDS[Marketplace.TOKOPEDIA],
                sleep=waits.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
            Marketplace.BUKALAPAK: BukalapakSimulator(
                clock=clock,
                seed=SEEDS[Marketplace.BUKALAPAK],
                sleep=waits.sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            ),
        }
        # The simulated shop takes the whole catalogue (Shopee's default item count
        # limit is 1,000 items per shop).
        limits = sims[Marketplace.SHOPEE].item_limits  # type: ignore[attr-defined]
        limits["item_count_limit"]["max_limit"] = max(products, 1000)
        shops = {
            Marketplace.SHOPEE: sims[Marketplace.SHOPEE].credentials()["shop_id"],
            Marketplace.TOKOPEDIA: sims[Marketplace.TOKOPEDIA].credentials()["shop_id"],
            Marketplace.BUKALAPAK: sims[Marketplace.BUKALAPAK].credentials()[
                "store_id"
            ],
        }
        accounts = [
            ChannelAccount(ACCOUNTS[m], m, shops[m], PRODUCERS) for m in ACCOUNTS
        ]
        meter = Meter(sims)
        budgets = {}
        for marketplace in sims:
            rate, burst = default_rate(marketplace.value)
            budgets[marketplace] = RateBudget(
                rate,
                burst,
                monotonic=waits.monotonic,
                sleep=waits.sleep,
                enabled=rate_limits,
            )
        world = cls(
            engine=engine,
            clock=clock,
            waits=waits,
            sims=sims,
            accounts=accounts,
            meter=meter,
            http=httpx.Client(transport=httpx.MockTransport(meter.handler)),
            budgets=budgets,
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
        sim = self.sims[account.marketplace]
        credentials = sim.credentials()
        options: dict[str, Any]
        secrets: dict[str, Secret]
        build: type[MarketplaceConnector]
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
            build = ShopeeConnector
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
            tokens=self.tokens
            or SqlTokenStore(
                make_session_factory(self.engine), self.clock, bench_cipher()
            ),
            budget=self.budgets[account.marketplace],
            credentials=secrets,
            options=options,
            policy=RetryPolicy(),
            sleep=self.waits.sleep,
        )
        return build(context)

    def authorise(self) -> None:
        """Every shop approves the app (no browser: simulators approve at once)."""
        for account in self.accounts:
            connector = self.connector(account)
            link = connector.authorization_url(REDIRECT, "bench")
            if link is None:
                connector.authorize("", REDIRECT)
                continue
            answer = self.http.get(link)
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            connector.authorize(query["code"][0], REDIRECT)
            connector.close()

    def account(self, marketplace: Marketplace) -> ChannelAccount:
        return next(a for a in self.accounts if a.marketplace is marketplace)

    # ------------------------------------------------------------ observing

    def shown_stock(self, marketplace: Marketplace) -> dict[str, int]:
        """What buyers can order now, per SKU key, on the marketplace's active
        listings."""
        return {
            sku_key(entry["sku"]): int(entry["stock"])
            for entry in self.sims[marketplace].inspect_listings()
            if _active(marketplace, entry)
        }

    def wanted_stock(self, account: ChannelAccount) -> dict[str, int]:
        """The allocation of the canonical available stock, per SKU key listed."""
        plan = plan_push(self.uow, account)
        return {key: want.draft.stock for key, want in plan.desired.items()}

    def write_calls(self) -> dict[Marketplace, int]:
        return {m: write_calls(sim) for m, sim in self.sims.items()}

    def requests(self) -> dict[Marketplace, int]:
        return {m: requests_made(sim) for m, sim in self.sims.items()}

    def close(self) -> None:
        self.http.close()
