"""The Bukalapak simulator and an authorised connector, for the shared contract suite.

The simulator answers both hosts (``api.bukalapak.com`` and ``accounts.bukalapak.com``)
behind one ``httpx.MockTransport``; the shop is authorised through the simulator's
no-browser consent (``/oauth/authorize`` redirects at once with a code) and
``connector.authorize``. The simulator has no per-SKU fault, so
:meth:`BukalapakHarness.fail_stock_item` answers that SKU's PATCH in the transport with
the 422 envelope the simulator uses for validation errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from connectors._context import ConnectorContext
from connectors._http import RateBudget
from connectors.bukalapak import BukalapakConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Condition
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, Secret
from core.ports import MarketplaceConnector, TokenSet, TokenStore
from simulators.bukalapak.model import error_envelope
from simulators.bukalapak.simulator import (
    ACCOUNTS_BASE_URL,
    API_BASE_URL,
    DEFAULT_REDIRECT_URI,
    BukalapakSimulator,
)
from simulators.kit.clock import SimClock
from tests.contract.harness import FakeTime
from tests.fakes import FakeTokenStore

#: Monday 3 June 2024, 09:00 WIB.
START = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
ACCOUNT = AccountId("bukalapak-test")
CATEGORY_ID = 1234


@dataclass
class _Transport:
    """The simulator behind a handler that can refuse chosen SKUs' PATCH calls."""

    simulator: BukalapakSimulator
    failing_sku_ids: set[str] = field(default_factory=set)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if (
            request.method == "PATCH"
            and len(parts) == 4
            and parts[0] == "products"
            and parts[2] == "skus"
            and parts[3] in self.failing_sku_ids
        ):
            self.simulator.requests["skus.update"] += 1
            return error_envelope(422, "stock must be an integer from 0 to 999999")
        return self.simulator.handler(request)


@dataclass
class BukalapakHarness:
    """What the contract suite needs of Bukalapak."""

    simulator: BukalapakSimulator
    connector: MarketplaceConnector
    clock: SimClock
    tokens: TokenStore
    fake_time: FakeTime
    http: httpx.Client
    transport: _Transport
    budget: RateBudget
    creds: dict[str, str]
    create_endpoint: str = "products.create"
    lookup_endpoint: str = "stores.products"
    stock_endpoint: str = "skus.update"
    orders_endpoint: str = "transactions.list"

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A draft Bukalapak accepts (the category and images come from options)."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Produk IKM {sku}",
            description="Buatan tangan pengrajin IKM.",
            category="Kerajinan",
            price=price,
            stock=stock,
            weight_grams=400,
            condition=Condition.NEW,
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """Stock above page §9's maximum of 999,999."""
        return self.draft(sku, stock=1_000_000)

    def connector_with_wrong_credentials(self) -> MarketplaceConnector:
        """The same shop, freshly authorised, but with a wrong app secret: its
        access token has lapsed, so the first call must refresh — and is refused."""
        tokens = FakeTokenStore()
        answer = self._authorised_pair()
        with tokens.refreshing(ACCOUNT) as held:
            held.save(
                TokenSet(
                    access_token=Secret(answer["access_token"]),
                    refresh_token=Secret(answer["refresh_token"]),
                    access_expires_at=self.clock.now() - timedelta(seconds=1),
                )
            )
        creds = {**self.creds, "client_secret": "not-the-secret"}
        return _connector(
            self.http, self.clock, self.budget, self.fake_time, tokens, creds
        )

    def _authorised_pair(self) -> dict[str, Any]:
        consent = self.http.get(
            f"{ACCOUNTS_BASE_URL}/oauth/authorize",
            params={
                "client_id": self.creds["client_id"],
                "redirect_uri": DEFAULT_REDIRECT_URI,
                "scope": "public user store",
                "response_type": "code",
            },
        )
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        answer = self.http.post(
            f"{ACCOUNTS_BASE_URL}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": self.creds["client_id"],
                "client_secret": self.creds["client_secret"],
                "code": code,
                "redirect_uri": DEFAULT_REDIRECT_URI,
            },
        )
        body: dict[str, Any] = answer.json()
        return body

    def place_paid_orders(self, skus: list[str], count: int, spread: timedelta) -> int:
        """``count`` paid transactions, one after another over ``spread``, ending
        now; the listings get enough stock first."""
        sim = self.simulator
        ids = []
        with sim.lock:
            for listing in sim.inspect_listings():
                if listing["sku"] in skus:
                    ids.append(int(listing["sku_id"]))
                    sim.catalogue.skus[int(listing["sku_id"])].stock += count
        step = spread / count
        placed = 0
        for number in range(count):
            self.clock.advance(step.total_seconds())
            sim.create_transaction(ids[number % len(ids)], 1, paid=True)
            placed += 1
        return placed

    def place_unpaid_order(self, sku: str) -> str:
        """A ``pending`` transaction of one unit."""
        sim = self.simulator
        with sim.lock:
            (sku_id,) = [
                int(x["sku_id"]) for x in sim.inspect_listings() if x["sku"] == sku
            ]
        return str(sim.create_transaction(sku_id, 1, paid=False))

    def expire_access_token(self) -> None:
        """Every live access token lapses now (the next call gets 401)."""
        self.simulator.expire_access_tokens()

    def revoke_authorisation(self) -> None:
        """The seller withdraws the app: the shop's tokens stop working, and its
        refresh token is refused (``invalid_grant``)."""
        sim = self.simulator
        with sim.lock:
            for token in sim.oauth.tokens.values():
                if token.user_id == sim.seller.user_id:
                    token.revoked = True
            for refresh in sim.oauth.refresh_tokens.values():
                if refresh.user_id == sim.seller.user_id:
                    refresh.used = True

    def fail_stock_item(self, sku: str) -> None:
        """That SKU's stock PATCH calls are refused with a 422 from now on."""
        for listing in self.simulator.inspect_listings():
            if listing["sku"] == sku:
                self.transport.failing_sku_ids.add(str(listing["sku_id"]))


def _connector(
    http: httpx.Client,
    clock: SimClock,
    budget: RateBudget,
    fake_time: FakeTime,
    tokens: TokenStore,
    creds: dict[str, str],
) -> BukalapakConnector:
    account = ChannelAccount(
        id=ACCOUNT,
        marketplace=Marketplace.BUKALAPAK,
        shop_id=creds["store_id"],
        producer_codes=(ProducerCode("IKM-NTT-001"),),
        credentials_ref="bukalapak_test",
    )
    images = [int(i) for i in creds["attachment_ids"].split(",")][:1]
    context = ConnectorContext(
        account=account,
        base_url=API_BASE_URL,
        http=http,
        clock=clock,
        tokens=tokens,
        budget=budget,
        credentials={
            "client_id": Secret(creds["client_id"]),
            "client_secret": Secret(creds["client_secret"]),
        },
        options={
            "accounts_base_url": ACCOUNTS_BASE_URL,
            "category_ids": {"Kerajinan": CATEGORY_ID},
            "default_image_ids": images,
        },
        sleep=fake_time.sleep,
    )
    return BukalapakConnector(context)


def build(fake_time: FakeTime) -> BukalapakHarness:
    """A fresh simulator on a frozen clock and a connector authorised for its shop."""
    clock = SimClock(START, frozen=True)
    simulator = BukalapakSimulator(
        clock=clock, sleep=fake_time.sleep, rate_limits=False
    )
    transport = _Transport(simulator)
    http = httpx.Client(transport=httpx.MockTransport(transport))
    budget = RateBudget(10, 10, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    tokens = FakeTokenStore()
    creds = simulator.credentials()
    connector = _connector(http, clock, budget, fake_time, tokens, creds)
    consent_url = connector.authorization_url(DEFAULT_REDIRECT_URI, "contract")
    assert consent_url is not None
    consent = http.get(consent_url)
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    assert query["state"] == ["contract"]
    connector.authorize(query["code"][0], DEFAULT_REDIRECT_URI)
    return BukalapakHarness(
        simulator=simulator,
        connector=connector,
        clock=clock,
        tokens=tokens,
        fake_time=fake_time,
        http=http,
        transport=transport,
        budget=budget,
        creds=creds,
    )
