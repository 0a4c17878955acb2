"""Tokopedia for the shared contract suite: the simulator in process, a connector for
its pre-provisioned shop.

No browser is involved, as in the real flow: the app's ``fs_id``, ``client_id`` and
``client_secret`` come from :meth:`TokopediaSimulator.credentials`, the shop is linked
to the ``fs_id`` by the simulator (out of band), and ``connector.authorize`` is a
no-op — the first call fetches a client-credentials token into the token store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.tokopedia import TokopediaConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Condition
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, Secret
from core.ports import MarketplaceConnector, TokenStore
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.tokopedia.simulator import TokopediaSimulator
from tests.contract.harness import FakeTime
from tests.fakes import FakeTokenStore

START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
ACCOUNT = AccountId("tokopedia-contract")
KOPI_CATEGORY = 2310  # "Kopi", a leaf of the simulator's category fixture
TENUN_CATEGORY = 1791  # "Kemeja Batik"


@dataclass
class TokopediaHarness:
    """The :class:`~tests.contract.harness.Harness` for Tokopedia."""

    simulator: Simulator
    connector: MarketplaceConnector
    clock: SimClock
    tokens: TokenStore
    sim: TokopediaSimulator
    fake_time: FakeTime
    http: httpx.Client
    credentials: dict[str, str]
    create_endpoint: str = "product_create"
    lookup_endpoint: str = "product_info"
    stock_endpoint: str = "stock_update"
    orders_endpoint: str = "order_list"

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A coffee listing Tokopedia accepts as is."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Kopi Arabika Flores {sku}",
            description="Kopi arabika dari Bajawa, sangrai sedang.",
            category="Kopi",
            price=price,
            stock=stock,
            weight_grams=250,
            condition=Condition.NEW,
            image_urls=("https://images.example.com/kopi.jpg",),
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """A price above Tokopedia's ceiling of 100,000,000 rupiah."""
        return self.draft(sku, price=100_000_001)

    def connector_with_wrong_credentials(self) -> MarketplaceConnector:
        """Same shop, wrong client secret, its own token store."""
        return make_connector(
            self.sim,
            self.credentials,
            self.http,
            FakeTokenStore(),
            self.fake_time,
            client_secret="not-the-secret",
        )

    def place_paid_orders(self, skus: list[str], count: int, spread: timedelta) -> int:
        """One order of one unit every ``spread / count``, paid at once; stock is
        topped up first so every order can be placed."""
        shop_id = int(self.credentials["shop_id"])
        store = self.sim.store
        with self.sim.lock:
            ids = [store.skus[(shop_id, sku)] for sku in skus]
            for product_id in ids:
                product = store.products[product_id]
                store.apply_stock(product, product.main_stock + count, bypass=False)
        step = spread.total_seconds() / count
        placed = 0
        for number in range(count):
            self.clock.advance(step)
            order = self.sim.place_order(
                str(ids[number % len(ids)]), 1, f"Pembeli {number}"
            )
            if order is not None and self.sim.buyer_event(order, BuyerEvent.PAY):
                placed += 1
        return placed

    def place_unpaid_order(self, sku: str) -> str:
        """An order of one unit, status 100 (not listed until paid)."""
        shop_id = int(self.credentials["shop_id"])
        with self.sim.lock:
            product_id = self.sim.store.skus[(shop_id, sku)]
        order = self.sim.place_order(str(product_id), 1, "Pembeli")
        assert order is not None
        return order

    def expire_access_token(self) -> None:
        """Every current token of the app expires now."""
        self.sim.expire_tokens()

    def revoke_authorisation(self) -> None:
        """Tokopedia unlinks the shop from the ``fs_id`` (403 ``RBAC_MDLW_001``)."""
        self.sim.link_shop(int(self.credentials["shop_id"]), None)

    def fail_stock_item(self, sku: str) -> None:
        """Stock rows of this SKU fail with ``Invalid SKU.``."""
        self.sim.faults.fail_items(self.stock_endpoint, [sku], "Invalid SKU.")


def make_connector(
    sim: TokopediaSimulator,
    credentials: dict[str, str],
    http: httpx.Client,
    tokens: TokenStore,
    fake_time: FakeTime,
    *,
    client_secret: str | None = None,
) -> TokopediaConnector:
    """A connector for the simulator's shop, on a fake-time budget and retries."""
    account = ChannelAccount(
        id=ACCOUNT,
        marketplace=Marketplace.TOKOPEDIA,
        shop_id=credentials["shop_id"],
        producer_codes=(ProducerCode("IKM-NTT-001"),),
    )
    context = ConnectorContext(
        account=account,
        base_url=credentials["api_base_url"],
        http=http,
        clock=sim.clock,
        tokens=tokens,
        budget=RateBudget(5.0, 5, monotonic=fake_time.monotonic, sleep=fake_time.sleep),
        credentials={
            "client_id": Secret(credentials["client_id"]),
            "client_secret": Secret(client_secret or credentials["client_secret"]),
        },
        options={
            "fs_id": int(credentials["fs_id"]),
            "token_url": credentials["token_url"],
            "categories": {"Kopi": KOPI_CATEGORY, "Kain Tenun": TENUN_CATEGORY},
            "default_category_id": KOPI_CATEGORY,
        },
        policy=RetryPolicy(),
        sleep=fake_time.sleep,
    )
    return TokopediaConnector(context)


def build(fake_time: FakeTime) -> TokopediaHarness:
    """The simulator on a frozen clock and an authorised connector for its shop."""
    clock = SimClock(START, frozen=True)
    sim = TokopediaSimulator(clock=clock, rate_limits=False, sleep=fake_time.sleep)
    credentials = sim.credentials()
    http = httpx.Client(transport=httpx.MockTransport(sim.handler))
    tokens = FakeTokenStore()
    connector = make_connector(sim, credentials, http, tokens, fake_time)
    connector.authorize("", "")  # shops are linked out of band: nothing to exchange
    return TokopediaHarness(
        simulator=sim,
        connector=connector,
        clock=clock,
        tokens=tokens,
        sim=sim,
        fake_time=fake_time,
        http=http,
        credentials=credentials,
    )
