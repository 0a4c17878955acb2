"""What connectors and the sync engine exchange: listings as a marketplace shows them,
changes to make, per-item results, order windows and orders — all in ikm-sync's own
vocabulary (whole rupiah, grams, canonical statuses, UTC)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.catalogue import Condition, Dimensions, Product
from core.domain.ids import Sku
from core.domain.sync import OrderStatus


class Secret:
    """A secret value that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        # Constant time: how much of a secret matches is never measurable.
        return isinstance(other, Secret) and hmac.compare_digest(
            other._value.encode("utf-8"), self._value.encode("utf-8")
        )

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """What one call of a marketplace may carry, as its connector declares it."""

    create_per_call: int
    stock_per_call: int
    price_per_call: int
    find_per_call: int
    order_window: timedelta
    order_page_size: int
    order_details_per_call: int


@dataclass(frozen=True, slots=True)
class RemoteListing:
    """A listing as the marketplace shows it now."""

    sku: Sku
    external_id: str
    name: str
    price: int
    stock: int
    active: bool
    raw_status: str
    external_variant_id: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """The content a listing should carry: the product plus the stock to show."""

    sku: Sku
    name: str
    description: str
    category: str
    price: int
    stock: int
    weight_grams: int
    condition: Condition
    dimensions: Dimensions | None = None
    image_urls: tuple[str, ...] = ()

    @classmethod
    def from_product(cls, product: Product, stock: int) -> ListingDraft:
        """The draft of ``product`` showing ``stock`` units."""
        return cls(
            sku=product.sku,
            name=product.name,
            description=product.description,
            category=product.category,
            price=product.price,
            stock=stock,
            weight_grams=product.weight_grams,
            condition=product.condition,
            dimensions=product.dimensions,
            image_urls=product.image_urls,
        )


class ChangeKind(StrEnum):
    """What to do to one listing."""

    CREATE = "create"
    UPDATE = (
        "update"  # content (name, description, weight, images …), not price or stock
    )
    DEACTIVATE = "deactivate"
    #: List a delisted listing again, its content as it is (where the marketplace
    #: can unlist; elsewhere an UPDATE lists it again).
    REACTIVATE = "reactivate"


@dataclass(frozen=True, slots=True)
class ListingChange:
    """One listing change; updates and deactivations name the listing's ids."""

    kind: ChangeKind
    draft: ListingDraft
    external_id: str | None = None
    external_variant_id: str | None = None


@dataclass(frozen=True, slots=True)
class StockUpdate:
    """Set a listing's stock to ``quantity``."""

    sku: Sku
    external_id: str
    quantity: int
    external_variant_id: str | None = None


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """Set a listing's price to ``price`` whole rupiah."""

    sku: Sku
    external_id: str
    price: int
    external_variant_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """The outcome of one item of a batch: partial success is normal.

    ``error`` is a :class:`~core.errors.ConnectorError`: ``RejectedError`` (do not retry
    as is), ``TransientError``/``RateLimitError`` (retry later) or
    ``OutcomeUnknownError`` (look the SKU up before anything else). ``bound`` is True
    for a create that found a listing with the SKU already there and took it over
    instead of creating one: its price, stock and content are the marketplace's.
    """

    sku: Sku
    ok: bool
    external_id: str | None = None
    external_variant_id: str | None = None
    error: Exception | None = None
    bound: bool = False


@dataclass(frozen=True, slots=True)
class OrderWindow:
    """Orders changed at or after ``since`` and before ``until`` (frozen at start)."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("order windows are UTC instants")
        if self.since >= self.until:
            raise ValueError("an order window needs since < until")

    def split(self, longest: timedelta) -> list[OrderWindow]:
        """Consecutive windows no longer than ``longest`` covering this one."""
        parts, start = [], self.since
        while start < self.until:
            end = min(start + longest, self.until)
            parts.append(OrderWindow(start, end))
            start = end
        return parts


@dataclass(frozen=True, slots=True)
class RemoteOrderLine:
    """One line of an order: the seller SKU, quantity and unit price."""

    sku: Sku
    quantity: int
    unit_price: int
    external_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteOrder:
    """An order as the marketplace shows it, mapped to the canonical status."""

    external_id: str
    status: OrderStatus
    raw_status: str
    placed_at: datetime
    updated_at: datetime
    lines: tuple[RemoteOrderLine, ...]
    total_amount: int
    currency: str = "IDR"
