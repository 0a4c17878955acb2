"""The Shopee simulator and an authorised Shopee connector for the contract suite.

The shop is authorised without a browser: the connector's signed ``auth_partner`` link
is opened through the injected client, the simulator approves at once and redirects
with a ``code``, and :meth:`ShopeeConnector.authorize` exchanges it (§2.2). Image URLs
of drafts are served by the same mock transport from a separate host.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors._context import ConnectorContext
from connectors._http import RateBudget
from connectors.shopee import ShopeeConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Condition, Dimensions
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, Secret, StockUpdate
from core.ports import MarketplaceConnector, TokenStore
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.shopee.simulator import BASE_URL, ShopeeSimulator
from tests.contract.harness import FakeTime, Harness
from tests.fakes import FakeTokenStore

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
IMAGE_HOST = "img.ikm-sync.example"
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
CATEGORY = "Makanan & Minuman > Kopi"
REDIRECT = "https://ikm-sync.example/shopee/callback"
ACCOUNT = AccountId("shopee-contract")


def options(credentials: dict[str, str]) -> dict[str, Any]:
    """Connector options for the simulator's fixtures (category 100001 "Kopi" with
    its mandatory brand attribute, one logistics channel)."""
    return {
        "partner_id": int(credentials["partner_id"]),
        "categories": {
            CATEGORY: {
                "category_id": int(credentials["category_id"]),
                "attributes": [
                    {
                        "attribute_id": 100_010,
                        "values": [{"value_id": 0, "original_value_name": "NoBrand"}],
                    }
                ],
            }
        },
        "logistics": [{"logistic_id": int(credentials["logistic_id"])}],
        "days_to_ship": 2,
    }


def transport(simulator: ShopeeSimulator) -> httpx.MockTransport:
    """The simulator, plus an image host answering every path with a JPEG."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == IMAGE_HOST:
            return httpx.Response(
                200, content=JPEG, headers={"content-type": "image/jpeg"}
            )
        return simulator.handler(request)

    return httpx.MockTransport(handle)


def authorise(connector: ShopeeConnector, http: httpx.Client) -> None:
    """The §2.2 flow without a browser: open the link, read the redirect, exchange."""
    link = connector.authorization_url(REDIRECT, "contract")
    assert link is not None
    answer = http.get(link)
    assert answer.status_code == 302, answer.text
    location = httpx.URL(answer.headers["location"])
    assert location.params["state"] == "contract"
    connector.authorize(location.params["code"], REDIRECT)


@dataclass
class ShopeeHarness:
    """The harness; attributes as :class:`tests.contract.harness.Harness` names them."""

    simulator: Simulator
    connector: MarketplaceConnector
    clock: SimClock
    tokens: TokenStore
    sim: ShopeeSimulator
    context: ConnectorContext
    create_endpoint: str = "product.add_item"
    lookup_endpoint: str = "product.search_item"
    stock_endpoint: str = "product.update_stock"
    orders_endpoint: str = "order.get_order_list"

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A coffee listing the simulator's category 100001 accepts."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Kopi Arabika Flores Bajawa {sku}",
            description="Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
            category=CATEGORY,
            price=price,
            stock=stock,
            weight_grams=270,
            condition=Condition.NEW,
            dimensions=Dimensions(18, 10, 6),
            image_urls=(f"https://{IMAGE_HOST}/{sku}/1.jpg",),
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """Above the category's price ceiling (``error_price_exceed_max_limitt``)."""
        return self.draft(sku, price=200_000_000)

    def connector_with_wrong_credentials(self) -> MarketplaceConnector:
        """The same shop and tokens, signed with a wrong partner key."""
        wrong = ConnectorContext(
            account=self.context.account,
            base_url=self.context.base_url,
            http=self.context.http,
            clock=self.context.clock,
            tokens=self.context.tokens,
            budget=self.context.budget,
            credentials={"partner_key": Secret("shpk-not-the-partner-key")},
            options=self.context.options,
            policy=self.context.policy,
            sleep=self.context.sleep,
        )
        return ShopeeConnector(wrong)

    def _item_id(self, sku: str) -> int:
        return next(
            int(x["item_id"]) for x in self.sim.inspect_listings() if x["sku"] == sku
        )

    def place_paid_orders(self, skus: list[str], count: int, spread: timedelta) -> int:
        """Buyers order one unit and pay, ``spread / count`` apart. The shop's stock
        is raised first, and the connector checks the shop after each step, as a
        running sync would: refresh tokens last 30 days and the spread may be
        longer."""
        items = {sku: self._item_id(sku) for sku in skus}
        self.connector.push_stock(
            [StockUpdate(Sku(sku), str(item), count) for sku, item in items.items()]
        )
        step = spread / count
        placed = 0
        for n in range(count):
            self.clock.advance(step.total_seconds())
            self.connector.check()
            item_id = items[skus[n % len(skus)]]
            order = self.sim.place_order(f"{item_id}:0", 1, f"buyer-{n:04d}")
            if order is not None and self.sim.buyer_event(order, BuyerEvent.PAY):
                placed += 1
        return placed

    def place_unpaid_order(self, sku: str) -> str:
        """An ``UNPAID`` order of one unit."""
        order = self.sim.place_order(f"{self._item_id(sku)}:0", 1, "buyer-unpaid")
        assert order is not None
        return order

    def expire_access_token(self) -> None:
        """Every access token of the shop is refused from now on."""
        self.sim.revoke_access_tokens()

    def revoke_authorisation(self) -> None:
        """The seller deauthorises the app (``shop_no_linked`` from now on)."""
        self.sim.deauthorise_shop()

    def fail_stock_item(self, sku: str) -> None:
        """``update_stock`` lists this SKU's model in ``failure_list``."""
        self.sim.faults.fail_items(self.stock_endpoint, [f"{self._item_id(sku)}:0"])


def build(fake_time: FakeTime) -> Harness:
    """The simulator on a frozen clock and a connector for its main shop."""
    clock = SimClock(START, frozen=True)
    simulator = ShopeeSimulator(
        clock=clock, seed=11, sleep=fake_time.sleep, rate_limits=False
    )
    credentials = simulator.credentials()
    http = httpx.Client(transport=transport(simulator))
    tokens = FakeTokenStore()
    context = ConnectorContext(
        account=ChannelAccount(
            id=ACCOUNT,
            marketplace=Marketplace.SHOPEE,
            shop_id=credentials["shop_id"],
            producer_codes=(ProducerCode("IKM-NTT-001"),),
        ),
        base_url=BASE_URL,
        http=http,
        clock=clock,
        tokens=tokens,
        budget=RateBudget(
            10.0, 10, monotonic=fake_time.monotonic, sleep=fake_time.sleep
        ),
        credentials={"partner_key": Secret(credentials["partner_key"])},
        options=options(credentials),
        sleep=fake_time.sleep,
    )
    connector = ShopeeConnector(context)
    authorise(connector, http)
    return ShopeeHarness(
        simulator=simulator,
        connector=connector,
        clock=clock,
        tokens=tokens,
        sim=simulator,
        context=context,
    )
