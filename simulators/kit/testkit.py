"""What a marketplace's simulator tells the wiring that puts a connector on it.

Each marketplace package ships a :class:`MarketplaceKit` (its ``testkit`` module, the
``ikm_sync.testkits`` entry point under the marketplace's key): how to build its
simulator, which hosts it answers, what an operator would put in the settings to
reach its shop (:class:`ShopAccess`), and the few simulator-side moves the contract
suite needs (a valid draft, a buyer's order, an expired token, a revoked shop, one
failing stock row). The kit knows the simulator only; the connector comes from the
marketplace registry, and one wiring (``ikm_sync.simulated``) builds "a simulator plus
an authorised connector" for the contract suite, the sync world, the benchmarks and
the plugin checks alike.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from core.domain.remote import ListingDraft
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock

S = TypeVar("S", bound=Simulator)

#: The host every kit's drafts take their pictures from; the wiring serves it.
PICTURE_HOST = "img.ikm-sync.example"


@dataclass(frozen=True, slots=True)
class ShopAccess:
    """What a connector needs to reach the simulator's main shop, as an operator's
    settings would give it: the API's base URL, the shop's id, the credential set's
    values (secrets) and the marketplace's ``options``."""

    base_url: str
    shop_id: str
    secrets: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)


class MarketplaceKit(ABC):
    """One marketplace's simulator, as the wiring and the contract suite use it."""

    #: The marketplace key (the entry-point name).
    key: ClassVar[str]
    #: Simulator route names of the moves the contract suite plans faults on: the
    #: create, the look-up by SKU before a create, the stock push, the order list.
    create_endpoint: ClassVar[str]
    lookup_endpoint: ClassVar[str]
    stock_endpoint: ClassVar[str]
    orders_endpoint: ClassVar[str]
    #: The route of the listing page that a read of the whole shop starts with,
    #: where the connector reads the shop before creates instead of looking each
    #: SKU up (``None``: it looks each SKU up).
    scan_endpoint: ClassVar[str | None] = None
    #: Simulator route names that change what the marketplace holds.
    write_routes: ClassVar[frozenset[str]]
    #: Where the shop's consent redirects (a simulator may insist on one).
    redirect_uri: ClassVar[str] = "https://ikm-sync.example/callback"

    # ------------------------------------------------------------ building

    @abstractmethod
    def simulator_class(self) -> type[Simulator]:
        """The marketplace's simulator class."""

    def simulator(
        self,
        *,
        clock: SimClock,
        seed: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = False,
        buyers: BuyerSettings | None = None,
    ) -> Simulator:
        """A fresh simulator with its fixtures (one shop, its app)."""
        return self.simulator_class()(
            clock=clock,
            seed=seed,
            sleep=sleep,
            rate_limits=rate_limits,
            buyers=buyers or BuyerSettings(orders_per_hour=0),
        )

    def make_room(self, sim: Simulator, listings: int) -> None:  # noqa: B027
        """Let the shop hold ``listings`` listings (default: nothing to do)."""

    @abstractmethod
    def hosts(self, sim: Simulator) -> frozenset[str]:
        """Every host the simulator answers for (API, tokens, consent)."""

    @abstractmethod
    def access(self, sim: Simulator) -> ShopAccess:
        """Settings that reach the simulator's main shop; its options map the
        drafts' categories (:meth:`draft`) and a default for any other."""

    # ------------------------------------------------------------ observing

    @abstractmethod
    def listing_active(self, entry: Mapping[str, Any]) -> bool:
        """Whether a ``/_sim/listings`` entry is on sale."""

    @abstractmethod
    def seller_order_ids(self, sim: Simulator) -> set[str]:
        """Every order the seller can see now, by the id the connector reports."""

    @staticmethod
    def shown(sim: Simulator, sku: str) -> Mapping[str, Any]:
        """The ``/_sim/listings`` entry of the listing with this SKU."""
        return next(x for x in sim.inspect_listings() if x["sku"] == sku)

    @staticmethod
    def own(sim: Simulator, kind: type[S]) -> S:
        """``sim`` as the kit's own simulator class (a kit serves its own only)."""
        if not isinstance(sim, kind):
            raise TypeError(f"expected a {kind.__name__}, got {type(sim).__name__}")
        return sim

    @abstractmethod
    def listing_handle(self, sim: Simulator, sku: str) -> str:
        """The simulator's handle of the listing with this SKU, as
        :meth:`Simulator.place_order` takes it."""

    # ------------------------------------------------------------ contract moves

    @abstractmethod
    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A draft this marketplace accepts as is."""

    @abstractmethod
    def invalid_draft(self, sku: str) -> ListingDraft:
        """A draft this marketplace refuses (e.g. a price above its ceiling)."""

    @abstractmethod
    def expire_access_token(self, sim: Simulator) -> None:
        """The marketplace forgets the shop's current access token."""

    @abstractmethod
    def revoke_authorisation(self, sim: Simulator) -> None:
        """The seller withdraws the app's authorisation for the shop."""

    @abstractmethod
    def fail_stock_item(self, sim: Simulator, sku: str) -> None:
        """The next stock pushes fail for this SKU only (others succeed)."""
