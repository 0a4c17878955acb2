"""Any installed marketplace, ready for the shared contract suite.

:func:`build` puts the marketplace's simulator (in process, frozen clock) behind the
one simulated wiring (:class:`ikm_sync.simulated.SimulatedMarkets`) and authorises a
connector for its main shop; the marketplace-specific moves the suite needs (a valid
draft, token expiry, a revoked shop, one failing stock row) come from the
marketplace's test kit. Nothing here names a marketplace.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import httpx

from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, StockUpdate
from core.ports import MarketplaceConnector, TokenStore
from ikm_sync.simulated import SimulatedMarkets
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.kit.testkit import MarketplaceKit
from tests.fakes import FakeTokenStore

S = TypeVar("S", bound=Simulator)

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
PRODUCER = ProducerCode("IKM-NTT-001")


class FakeTime(Protocol):
    """Monotonic time that moves when something sleeps (retries, rate budgets)."""

    slept: list[float]

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass
class Harness:
    """One marketplace's simulator and an authorised connector for its shop."""

    key: str
    kit: MarketplaceKit
    markets: SimulatedMarkets
    simulator: Simulator
    connector: MarketplaceConnector
    clock: SimClock
    tokens: TokenStore
    http: httpx.Client
    account: ChannelAccount
    built: list[MarketplaceConnector] = field(default_factory=list)

    @property
    def account_id(self) -> AccountId:
        """The id of the account the connector serves."""
        return self.account.id

    def sim(self, kind: type[S]) -> S:
        """The simulator as its own class (for moves only it knows)."""
        assert isinstance(self.simulator, kind)
        return self.simulator

    @property
    def create_endpoint(self) -> str:
        """The simulator's route of a create."""
        return self.kit.create_endpoint

    @property
    def lookup_endpoint(self) -> str:
        """The look-up by SKU that runs before a create (``find_listings``)."""
        return self.kit.lookup_endpoint

    @property
    def scan_endpoint(self) -> str | None:
        """The first request of a read of the whole shop before creates, where the
        connector makes one (``connectors._lookup.ShopIndex``)."""
        return self.kit.scan_endpoint

    @property
    def stock_endpoint(self) -> str:
        """The simulator's route of a stock push."""
        return self.kit.stock_endpoint

    @property
    def orders_endpoint(self) -> str:
        """The simulator's route of the order list."""
        return self.kit.orders_endpoint

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A draft this marketplace accepts as is."""
        return self.kit.draft(sku, stock=stock, price=price)

    def invalid_draft(self, sku: str) -> ListingDraft:
        """A draft this marketplace refuses."""
        return self.kit.invalid_draft(sku)

    def connector_with_wrong_credentials(self) -> MarketplaceConnector:
        """A connector for the same shop whose app secret (or key) is wrong, with
        tokens of its own that must be renewed first (so the wrong secret shows)."""
        tokens = FakeTokenStore()
        current = self.tokens.load(self.account_id)
        with tokens.refreshing(self.account_id) as held:
            held.save(
                replace(
                    current, access_expires_at=self.clock.now() - timedelta(seconds=1)
                )
            )
        wrong = self.markets.connector(
            self.account, http=self.http, tokens=tokens, wrong_secrets=True
        )
        self.built.append(wrong)
        return wrong

    def place_paid_orders(self, skus: list[str], count: int, spread: timedelta) -> int:
        """Buyers order one unit and pay, ``spread / count`` apart. The listings'
        stock is raised first, and the connector checks the shop after each step,
        as a running sync would (refresh tokens may lapse over a long spread)."""
        found = self.connector.find_listings(skus)
        self.connector.push_stock(
            [StockUpdate(Sku(sku), found[sku].external_id, count) for sku in skus]
        )
        handles = [self.kit.listing_handle(self.simulator, sku) for sku in skus]
        step = spread / count
        placed = 0
        for n in range(count):
            self.clock.advance(step.total_seconds())
            self.connector.check()
            order = self.simulator.place_order(
                handles[n % len(handles)], 1, f"buyer-{n:04d}"
            )
            if order is not None and self.simulator.buyer_event(order, BuyerEvent.PAY):
                placed += 1
        return placed

    def place_unpaid_order(self, sku: str) -> str:
        """An order of one unit, not paid yet; its id as the connector reports it."""
        handle = self.kit.listing_handle(self.simulator, sku)
        order = self.simulator.place_order(handle, 1, "buyer-unpaid")
        assert order is not None
        return order

    def expire_access_token(self) -> None:
        """The marketplace forgets the shop's current access token."""
        self.kit.expire_access_token(self.simulator)

    def revoke_authorisation(self) -> None:
        """The seller withdraws the app's authorisation for the shop."""
        self.kit.revoke_authorisation(self.simulator)

    def fail_stock_item(self, sku: str) -> None:
        """The next stock pushes fail for this SKU only."""
        self.kit.fail_stock_item(self.simulator, sku)


def build(key: str, fake_time: FakeTime) -> Harness:
    """``key``'s simulator on a frozen clock and a connector authorised for its
    main shop, paced by production's budget on fake time."""
    clock = SimClock(START, frozen=True)
    markets = SimulatedMarkets(
        [key],
        clock=clock,
        sleep=fake_time.sleep,
        monotonic=fake_time.monotonic,
        budgets=True,
        seeds={key: 11},
    )
    http = markets.client()
    tokens = FakeTokenStore()
    account = markets.account(key, f"{key}-contract", [PRODUCER])
    connector = markets.connector(account, http=http, tokens=tokens)
    markets.authorise(connector, http)
    return Harness(
        key=key,
        kit=markets.kits[key],
        markets=markets,
        simulator=markets.sims[key],
        connector=connector,
        clock=clock,
        tokens=tokens,
        http=http,
        account=account,
    )
