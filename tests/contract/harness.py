"""What each marketplace provides to the shared contract suite.

A harness module ``tests/contract/harness_<key>.py`` defines ``build(fake_time)``
returning a :class:`Harness`: the marketplace's simulator (in process, frozen clock) and
a connector for one of its shops, authorised and ready, plus the few
marketplace-specific moves the suite needs (a valid draft, buyer orders, token expiry,
one-item failures).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from core.domain.remote import ListingDraft
from core.ports import MarketplaceConnector, TokenStore
from simulators.kit.base import Simulator
from simulators.kit.clock import SimClock


class FakeTime(Protocol):
    """Monotonic time that moves when something sleeps (retries, rate budgets)."""

    slept: list[float]

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class Harness(Protocol):
    """One marketplace, ready for the contract suite."""

    simulator: Simulator
    connector: MarketplaceConnector
    clock: SimClock
    tokens: TokenStore
    #: Simulator endpoint names (route names) for planned faults.
    create_endpoint: str
    #: The look-up by SKU that runs before a create (``find_listings``).
    lookup_endpoint: str
    stock_endpoint: str
    orders_endpoint: str

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A draft this marketplace accepts as is."""
        ...

    def invalid_draft(self, sku: str) -> ListingDraft:
        """A draft this marketplace refuses (e.g. a price above its ceiling)."""
        ...

    def connector_with_wrong_credentials(self) -> MarketplaceConnector:
        """A connector for the same shop whose app secret is wrong."""
        ...

    def place_paid_orders(self, skus: list[str], count: int, spread: timedelta) -> int:
        """Buyers place and pay ``count`` orders of these listings, one after another
        over ``spread`` of simulated time ending now; returns how many were placed."""
        ...

    def place_unpaid_order(self, sku: str) -> str:
        """A buyer orders one unit of this listing and has not paid yet; returns the
        order's id as the connector reports it (pay with ``simulator.buyer_event``)."""
        ...

    def expire_access_token(self) -> None:
        """The marketplace forgets the shop's current access token."""
        ...

    def revoke_authorisation(self) -> None:
        """The seller withdraws the app's authorisation for the shop."""
        ...

    def fail_stock_item(self, sku: str) -> None:
        """The next stock pushes fail for this SKU only (others succeed)."""
        ...
