"""TikTok Shop ↔ ikm-sync: the one place the two vocabularies meet. Pure functions.

Units: money is whole rupiah, sent as a string with ``currency`` IDR; a listing price
is 100 to 100,000,000 (§6) and a stock quantity 0 to 99,999 (§5), both refused here,
before any call, outside those ranges. Weight leaves as ``package_weight`` in
kilograms. Times are Unix seconds, read as UTC.

Order statuses (§7) map to :class:`~core.domain.sync.OrderStatus`:

=======================================  ===================
TikTok Shop ``status``                   canonical
=======================================  ===================
``UNPAID``                               ``PENDING_PAYMENT``
``ON_HOLD`` (UK only),                   ``PAID``
``AWAITING_SHIPMENT``
``PARTIALLY_SHIPPING``,                  ``READY_TO_SHIP``
``AWAITING_COLLECTION``
``IN_TRANSIT``                           ``SHIPPED``
``DELIVERED``                            ``DELIVERED``
``COMPLETED``                            ``COMPLETED``
``CANCELLED``                            ``CANCELLED``
=======================================  ===================

A status outside the table is read as ``PAID`` (the stock stays held) [INF];
:func:`is_known_status` lets the caller log it. Listings: ``ACTIVATE`` is live,
every other product status is not [INF].
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from connectors.tiktok_shop.schemas import (
    CreateProductBody,
    Image,
    InventoryBody,
    NewSku,
    OrderRecord,
    PartialEditBody,
    PriceBody,
    SearchProduct,
    SearchSku,
    Weight,
)
from connectors.tiktok_shop.settings import TikTokShopSettings
from core.domain.ids import Sku
from core.domain.remote import (
    ListingDraft,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
)
from core.domain.sync import OrderStatus

PRICE_MIN = 100
PRICE_MAX = 100_000_000
QUANTITY_MAX = 99_999
#: tiktok-shop.md §10: the legacy Tokopedia placeholders [INF].
TITLE_MAX = 70
DESCRIPTION_MAX = 2_000
IMAGES_MAX = 5
LIVE_STATUS = "ACTIVATE"

ORDER_STATUSES: dict[str, OrderStatus] = {
    "UNPAID": OrderStatus.PENDING_PAYMENT,
    "ON_HOLD": OrderStatus.PAID,
    "AWAITING_SHIPMENT": OrderStatus.PAID,
    "PARTIALLY_SHIPPING": OrderStatus.READY_TO_SHIP,
    "AWAITING_COLLECTION": OrderStatus.READY_TO_SHIP,
    "IN_TRANSIT": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
}


class DraftRefusedError(ValueError):
    """A value TikTok Shop would refuse, caught before calling; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ==================================================================== values


def price_body(value: int) -> PriceBody:
    """A price TikTok Shop accepts for an Indonesian shop (§6).

    Raises:
        DraftRefusedError: not a whole number of rupiah from 100 to 100,000,000.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise DraftRefusedError("price", f"price must be whole rupiah, got {value!r}")
    if not PRICE_MIN <= value <= PRICE_MAX:
        raise DraftRefusedError(
            "price",
            f"price must be from {PRICE_MIN} to {PRICE_MAX} rupiah, got {value}",
        )
    return PriceBody(amount=str(value))


def inventory(value: int, warehouse_id: str) -> InventoryBody:
    """A stock quantity TikTok Shop accepts (§5: 0 to 99,999).

    Raises:
        DraftRefusedError: outside that range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise DraftRefusedError("stock", f"stock must be an integer, got {value!r}")
    if not 0 <= value <= QUANTITY_MAX:
        raise DraftRefusedError(
            "stock", f"stock must be from 0 to {QUANTITY_MAX}, got {value}"
        )
    return InventoryBody(quantity=value, warehouse_id=warehouse_id or None)


def _content(
    draft: ListingDraft, settings: TikTokShopSettings
) -> tuple[str, str, str, Weight, list[Image] | None]:
    title = draft.name.strip()
    if not title:
        raise DraftRefusedError("name", "name must not be empty")
    if len(title) > TITLE_MAX:
        raise DraftRefusedError(
            "name", f"name must be at most {TITLE_MAX} characters, got {len(title)}"
        )
    if len(draft.description) > DESCRIPTION_MAX:
        raise DraftRefusedError(
            "description",
            f"description must be at most {DESCRIPTION_MAX} characters, got "
            f"{len(draft.description)}",
        )
    category = settings.category_for(draft.category)
    if category is None:
        raise DraftRefusedError(
            "category",
            f"category {draft.category!r} has no TikTok Shop category_id "
            "(options.categories or options.default_category_id)",
        )
    if draft.weight_grams <= 0:
        raise DraftRefusedError("weight_grams", "weight must be positive")
    weight = Weight(value=f"{Decimal(draft.weight_grams) / 1000:f}")
    images = [Image(uri=url) for url in draft.image_urls[:IMAGES_MAX]] or None
    return title, draft.description, category, weight, images


def create_body(draft: ListingDraft, settings: TikTokShopSettings) -> CreateProductBody:
    """The create body of ``draft``: one product with one SKU.

    Raises:
        DraftRefusedError: the draft breaks a limit or has no category.
    """
    title, description, category, weight, images = _content(draft, settings)
    sku = draft.sku.strip()
    if not sku:
        raise DraftRefusedError("sku", "sku must not be empty")
    return CreateProductBody(
        title=title,
        description=description,
        category_id=category,
        package_weight=weight,
        main_images=images,
        skus=[
            NewSku(
                seller_sku=sku,
                price=price_body(draft.price),
                inventory=[inventory(draft.stock, settings.warehouse_id)],
            )
        ],
    )


def edit_body(draft: ListingDraft, settings: TikTokShopSettings) -> PartialEditBody:
    """The content of ``draft`` for a partial edit (price and stock excluded).

    Raises:
        DraftRefusedError: the draft breaks a limit or has no category.
    """
    title, description, category, weight, images = _content(draft, settings)
    return PartialEditBody(
        title=title,
        description=description,
        category_id=category,
        package_weight=weight,
        main_images=images,
    )


def _rupiah(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return int(value) if value == value.to_integral_value() else None


def _utc(stamp: int | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def sku_price(sku: SearchSku) -> int:
    """The SKU's price in whole rupiah (sale price, else tax-exclusive; 0 if none)."""
    price = sku.price
    if price is None:
        return 0
    found = _rupiah(price.sale_price)
    if found is None:
        found = _rupiah(price.tax_exclusive_price)
    return found or 0


def listings(product: SearchProduct) -> list[RemoteListing]:
    """One listing per SKU of a searched product (its stock over every warehouse)."""
    return [
        RemoteListing(
            sku=Sku(sku.seller_sku),
            external_id=product.id,
            name=product.title,
            price=sku_price(sku),
            stock=sum(entry.quantity for entry in sku.inventory),
            active=product.status == LIVE_STATUS,
            raw_status=product.status,
            external_variant_id=sku.id,
            updated_at=_utc(product.update_time),
        )
        for sku in product.skus
    ]


def is_known_status(status: str) -> bool:
    """Whether ``status`` is in the §7 table."""
    return status in ORDER_STATUSES


def order(record: OrderRecord) -> RemoteOrder:
    """An order with its lines: units of one SKU are summed into one line."""
    quantities: dict[tuple[str, str], int] = defaultdict(int)
    prices: dict[tuple[str, str], int] = {}
    for item in record.line_items:
        key = (item.seller_sku, item.sku_id)
        quantities[key] += item.quantity or 1
        prices.setdefault(key, _rupiah(item.sale_price) or 0)
    lines = tuple(
        RemoteOrderLine(
            sku=Sku(seller_sku),
            quantity=quantity,
            unit_price=prices[(seller_sku, sku_id)],
            external_item_id=sku_id or None,
        )
        for (seller_sku, sku_id), quantity in quantities.items()
    )
    placed = datetime.fromtimestamp(record.create_time, UTC)
    return RemoteOrder(
        external_id=record.id,
        status=ORDER_STATUSES.get(record.status, OrderStatus.PAID),
        raw_status=record.status,
        placed_at=placed,
        updated_at=datetime.fromtimestamp(record.update_time, UTC),
        lines=lines,
        total_amount=_rupiah(record.payment.total_amount) or 0,
        currency=record.payment.currency or "IDR",
    )
