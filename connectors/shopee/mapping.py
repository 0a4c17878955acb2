"""Pure translation between Shopee's wire DTOs and ikm-sync's domain values.

The only place Shopee's vocabulary meets ours: order statuses, units (grams ↔ kg),
money (whole rupiah; Shopee's float-typed prices must hold integers for Indonesia,
§4.3) and times (Unix seconds ↔ UTC datetimes). No I/O.

Order statuses (shopee.md §5.3) → :class:`~core.domain.sync.OrderStatus`:

* ``UNPAID`` → PENDING_PAYMENT: created, not paid.
* ``PENDING`` → PENDING_PAYMENT: shown only with ``request_order_status_pending``
  (never requested); not yet shippable.
* ``READY_TO_SHIP`` → PAID: paid, shipment not arranged yet.
* ``INVOICE_PENDING`` → PAID: paid, waiting for an invoice.
* ``PROCESSED`` → READY_TO_SHIP: shipment arranged, tracking number obtained.
* ``RETRY_SHIP`` → READY_TO_SHIP: the 3PL pickup failed; to be arranged again.
* ``SHIPPED`` → SHIPPED: handed to the 3PL.
* ``TO_CONFIRM_RECEIVE`` → DELIVERED: received by the buyer.
* ``COMPLETED`` → COMPLETED.
* ``IN_CANCEL`` → PAID when the order has a ``pay_time``, else PENDING_PAYMENT: the
  cancellation is requested, not done; the order still holds its units and the
  seller may still refuse it.
* ``CANCELLED`` → CANCELLED: units released.
* ``TO_RETURN`` → RETURNED: return in progress.

Any other status is a :class:`~core.errors.ContractError` (a status Shopee added that
this table must learn), not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from connectors.shopee import schemas
from connectors.shopee.settings import CategoryChoice, ShopeeSettings
from core.domain.catalogue import Condition
from core.domain.ids import Sku
from core.domain.orders import CancelReason
from core.domain.remote import (
    ListingDraft,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
)
from core.domain.sync import OrderStatus
from core.errors import ContractError, RejectedError, Where

ORDER_STATUSES: Mapping[str, OrderStatus] = {
    "UNPAID": OrderStatus.PENDING_PAYMENT,
    "PENDING": OrderStatus.PENDING_PAYMENT,
    "READY_TO_SHIP": OrderStatus.PAID,
    "INVOICE_PENDING": OrderStatus.PAID,
    "PROCESSED": OrderStatus.READY_TO_SHIP,
    "RETRY_SHIP": OrderStatus.READY_TO_SHIP,
    "SHIPPED": OrderStatus.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
    "TO_RETURN": OrderStatus.RETURNED,
}
#: ``cancel_order`` ``cancel_reason`` per reason (§5.5).
CANCEL_REASONS: Mapping[CancelReason, str] = {
    CancelReason.OUT_OF_STOCK: "OUT_OF_STOCK",
    CancelReason.BUYER_REQUEST: "CUSTOMER_REQUEST",
}
#: Item statuses a listing is shown in (deleted items are not listings any more).
LISTED_STATUSES = ("NORMAL", "UNLIST", "BANNED", "REVIEWING")
DELETED_STATUSES = frozenset({"SELLER_DELETE", "SHOPEE_DELETE"})
#: A model id of 0 is an item without variants (§4.5).
NO_MODEL = 0

_CONDITIONS: Mapping[Condition, Literal["NEW", "USED"]] = {
    Condition.NEW: "NEW",
    Condition.USED: "USED",
}


# ------------------------------------------------------------------ units and money


def from_unix(seconds: int) -> datetime:
    """A Shopee timestamp (Unix seconds) as a UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def grams_to_kg(grams: int) -> float:
    """Catalogue grams → Shopee's ``weight`` in kg."""
    return grams / 1000


def whole_rupiah(amount: object, what: str, where: Where) -> int:
    """An amount we send, refused before calling unless it is whole rupiah."""
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise RejectedError(
            f"{what} must be whole rupiah, got {amount!r}",
            code="price_not_whole_rupiah",
            fields={what: "whole rupiah expected"},
            **where,
        )
    if isinstance(amount, float) and not amount.is_integer():
        raise RejectedError(
            f"{what} {amount} has a fraction; Indonesian shops take whole rupiah only",
            code="price_not_whole_rupiah",
            fields={what: "whole rupiah expected"},
            **where,
        )
    return int(amount)


def rupiah_from_wire(amount: float, what: str, where: Where) -> int:
    """An amount Shopee sent; a fraction breaks the documented contract (§4.3)."""
    if not float(amount).is_integer():
        raise ContractError(
            f"{what} {amount} is not whole rupiah, as Indonesian amounts must be",
            **where,
        )
    return int(amount)


def model_id_of(external_variant_id: str | None, where: Where) -> int:
    """The Shopee ``model_id`` named by a domain variant id (None: no variants)."""
    if external_variant_id in (None, ""):
        return NO_MODEL
    return _int_id(str(external_variant_id), "model_id", where)


def item_id_of(external_id: str | None, where: Where) -> int:
    """The Shopee ``item_id`` named by a domain external id."""
    if external_id is None or external_id == "":
        raise RejectedError(
            "the listing's Shopee item_id is missing",
            code="item_id_missing",
            fields={"item_id": "required"},
            **where,
        )
    return _int_id(external_id, "item_id", where)


def _int_id(raw: str, what: str, where: Where) -> int:
    text = raw.strip()
    if not text.isdigit():
        raise RejectedError(
            f"{what} {raw!r} is not a Shopee id (digits expected)",
            code=f"{what}_invalid",
            fields={what: "digits expected"},
            **where,
        )
    return int(text)


def variant_id(model_id: int) -> str | None:
    """The domain variant id of a Shopee model (None for an item without variants)."""
    return None if model_id == NO_MODEL else str(model_id)


# ------------------------------------------------------------------ requests


def _attributes(choice: CategoryChoice) -> list[schemas.AttributeBody]:
    return [
        schemas.AttributeBody(
            attribute_id=attribute.attribute_id,
            attribute_value_list=[
                schemas.AttributeValueBody(
                    value_id=value.value_id,
                    original_value_name=value.original_value_name or None,
                    value_unit=value.value_unit or None,
                )
                for value in attribute.values
            ],
        )
        for attribute in choice.attributes
    ]


def _dimension(draft: ListingDraft) -> schemas.DimensionBody | None:
    if draft.dimensions is None:
        return None
    return schemas.DimensionBody(
        package_length=draft.dimensions.length_cm,
        package_width=draft.dimensions.width_cm,
        package_height=draft.dimensions.height_cm,
    )


def seller_stock(
    quantity: int, settings: ShopeeSettings
) -> list[schemas.SellerStockBody]:
    """The ``seller_stock`` list for one quantity at the configured location."""
    return [schemas.SellerStockBody(stock=quantity, location_id=settings.location_id)]


def to_add_item(
    draft: ListingDraft,
    category: CategoryChoice,
    settings: ShopeeSettings,
    image_ids: list[str],
    where: Where,
) -> schemas.AddItemRequest:
    """The ``add_item`` body of a draft (weight in kg, price in whole rupiah)."""
    return schemas.AddItemRequest(
        item_name=draft.name,
        description=draft.description,
        category_id=category.category_id,
        original_price=whole_rupiah(draft.price, "original_price", where),
        weight=grams_to_kg(draft.weight_grams),
        image=schemas.ImageBody(image_id_list=image_ids),
        logistic_info=[
            schemas.LogisticBody(
                logistic_id=channel.logistic_id,
                enabled=channel.enabled,
                shipping_fee=channel.shipping_fee,
                size_id=channel.size_id,
                is_free=channel.is_free,
            )
            for channel in settings.logistics
        ],
        attribute_list=_attributes(category),
        item_sku=draft.sku,
        condition=_CONDITIONS[draft.condition],
        seller_stock=seller_stock(draft.stock, settings),
        dimension=_dimension(draft),
        brand=(
            schemas.BrandBody(
                brand_id=settings.brand.brand_id,
                original_brand_name=settings.brand.original_brand_name,
            )
            if settings.brand is not None
            else None
        ),
        pre_order=(
            schemas.PreOrderBody(is_pre_order=False, days_to_ship=settings.days_to_ship)
            if settings.days_to_ship is not None
            else None
        ),
    )


def to_update_item(
    item_id: int,
    draft: ListingDraft,
    category: CategoryChoice,
    image_ids: list[str],
) -> schemas.UpdateItemRequest:
    """The ``update_item`` body of a content change (never price or stock)."""
    return schemas.UpdateItemRequest(
        item_id=item_id,
        item_name=draft.name,
        description=draft.description,
        item_sku=draft.sku,
        category_id=category.category_id,
        attribute_list=_attributes(category),
        weight=grams_to_kg(draft.weight_grams),
        dimension=_dimension(draft),
        image=schemas.ImageBody(image_id_list=image_ids) if image_ids else None,
        condition=_CONDITIONS[draft.condition],
    )


def to_listing_status(item_id: int, active: bool) -> schemas.UnlistItemRequest:
    """The ``unlist_item`` body that puts an item back on sale (``active``) or
    takes it off sale (§4.10a)."""
    return schemas.UnlistItemRequest(
        item_list=[schemas.UnlistRow(item_id=item_id, unlist=not active)]
    )


# ------------------------------------------------------------------ listings


def _price(prices: list[schemas.PriceInfo], where: Where) -> int:
    if not prices:
        raise ContractError("a listing came without price_info", **where)
    return rupiah_from_wire(prices[0].original_price, "original_price", where)


def reserved_stock(info: schemas.StockInfo | None) -> int:
    """Units held by open orders and promotions, part of the seller stock."""
    if info is None or info.summary_info is None:
        return 0
    return max(info.summary_info.total_reserved_stock, 0)


def _stock(info: schemas.StockInfo | None) -> int:
    """What buyers can still order: the seller stock over every location (what
    ``update_stock`` sets, reserved units included) less the reserved units."""
    if info is None:
        return 0
    return max(
        sum(entry.stock for entry in info.seller_stock) - reserved_stock(info), 0
    )


def _updated(item: schemas.ItemBaseInfo) -> datetime | None:
    return from_unix(item.update_time) if item.update_time is not None else None


def item_listing(item: schemas.ItemBaseInfo, where: Where) -> RemoteListing:
    """The listing of an item without variants (its model 0)."""
    return RemoteListing(
        sku=Sku(item.item_sku),
        external_id=str(item.item_id),
        name=item.item_name,
        price=_price(item.price_info, where),
        stock=_stock(item.stock_info_v2),
        active=item.item_status == "NORMAL",
        raw_status=item.item_status,
        external_variant_id=None,
        updated_at=_updated(item),
    )


def model_listings(
    item: schemas.ItemBaseInfo, models: list[schemas.ModelInfo], where: Where
) -> list[RemoteListing]:
    """One listing per model of an item with variants, each by its ``model_sku``."""
    return [
        RemoteListing(
            sku=Sku(model.model_sku or item.item_sku),
            external_id=str(item.item_id),
            name=item.item_name,
            price=_price(model.price_info, where),
            stock=_stock(model.stock_info_v2),
            active=item.item_status == "NORMAL"
            and model.model_status in ("", "MODEL_NORMAL"),
            raw_status=item.item_status,
            external_variant_id=variant_id(model.model_id),
            updated_at=_updated(item),
        )
        for model in models
    ]


# ------------------------------------------------------------------ orders


def order_status(raw: str, paid: bool, where: Where) -> OrderStatus:
    """Shopee's order status in the canonical vocabulary (table above)."""
    if raw == "IN_CANCEL":
        return OrderStatus.PAID if paid else OrderStatus.PENDING_PAYMENT
    found = ORDER_STATUSES.get(raw)
    if found is None:
        raise ContractError(f"unknown Shopee order status {raw!r}", **where)
    return found


def _line(item: schemas.OrderItem, where: Where) -> RemoteOrderLine:
    discounted = item.model_discounted_price
    price = discounted if discounted else item.model_original_price
    return RemoteOrderLine(
        sku=Sku(item.model_sku or item.item_sku),
        quantity=item.model_quantity_purchased,
        unit_price=rupiah_from_wire(price, "unit price", where),
        external_item_id=str(item.item_id),
    )


def to_remote_order(detail: schemas.OrderDetail, where: Where) -> RemoteOrder:
    """An order detail (requested with ``item_list``, ``total_amount``,
    ``pay_time``) as a :class:`RemoteOrder`; the unit price is what the buyer paid
    (``model_discounted_price``, else ``model_original_price``)."""
    lines = tuple(_line(item, where) for item in detail.item_list)
    total = (
        rupiah_from_wire(detail.total_amount, "total_amount", where)
        if detail.total_amount is not None
        else sum(line.unit_price * line.quantity for line in lines)
    )
    return RemoteOrder(
        external_id=detail.order_sn,
        status=order_status(detail.order_status, bool(detail.pay_time), where),
        raw_status=detail.order_status,
        placed_at=from_unix(detail.create_time),
        updated_at=from_unix(detail.update_time),
        lines=lines,
        total_amount=total,
        currency=detail.currency or "IDR",
    )
