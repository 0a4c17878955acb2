"""Tokopedia ↔ ikm-sync: the one place the two vocabularies meet. Pure functions.

Units (tokopedia.md §8): money is whole rupiah, a listing price 100 to 100,000,000
(refused here, before any call, when outside or not an integer); weight is sent in
grams with ``weight_unit`` ``GR``; dimensions in whole centimetres; the order list's
times are Unix seconds; a time without a zone is read as WIB (UTC+7), Tokopedia's
business time zone (§8 [INF]); everything leaves as UTC.

Order statuses (§6.3, the SDK table being authoritative per §11) map to
:class:`~core.domain.sync.OrderStatus` like this:

=========================================  ===================
Tokopedia ``order_status``                 canonical
=========================================  ===================
0 seller cancelled, 3 rejected (empty      ``CANCELLED``
stock), 5 fraud, 6 auto-cancel (out of
stock), 10 rejected by seller, 15 buyer
instant cancel
100 created, 103 waiting for third-party   ``PENDING_PAYMENT``
payment confirmation
220 payment verified, 221 waiting for      ``PAID``
partner approval
400 seller accepted, 450 waiting for       ``READY_TO_SHIP``
pickup
500 shipped, 501 waiting for AWB input,    ``SHIPPED``
520 invalid AWB, 530 buyer asked to
correct the AWB, 540 at the pickup point
550 returned to seller                     ``RETURNED``
600 delivered, 601 complaint opened,       ``DELIVERED``
690 fraud review
700 finished                               ``COMPLETED``
=========================================  ===================

A code outside the table (a status Tokopedia added later) falls back to the group its
hundreds suggest (below 100 cancelled, 1xx pending payment, 2xx and 3xx paid, 4xx
ready to ship, 500 to 549 shipped, 550 to 599 returned, 6xx delivered, 7xx and above
completed) [INF]; :func:`is_known_status` lets the caller log it.

Listings (§5.7): ``basic.status`` 1 (active) and 2 (featured) are live; others
(inactive, banned, pending, deleted) are not [INF: the page lists the field, not its
values]. The stock a listing shows is ``main_stock`` when present — the stock a
stock update sets, campaign reservations (``reserve_stock``) excluded — else
``stock.value``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from connectors.tokopedia.schemas import (
    CreateProduct,
    Dimension,
    EditProduct,
    OrderDetail,
    OrderRow,
    Picture,
    PriceRow,
    ProductInfo,
    StockRow,
)
from connectors.tokopedia.settings import TokopediaSettings
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

#: Tokopedia's business time zone (§8).
WIB = timezone(timedelta(hours=7), "WIB")

PRICE_MIN = 100
PRICE_MAX = 100_000_000
NAME_MAX = 70
SKU_MAX = 50
PICTURES_MAX = 5
#: ``basic.status`` values of a live listing [INF].
LIVE_PRODUCT_STATUSES = frozenset({1, 2})
#: ``basic.status`` of a product set inactive by the seller, or EMPTY at stock 0.
INACTIVE_PRODUCT_STATUS = 3

ORDER_STATUSES: dict[int, OrderStatus] = {
    0: OrderStatus.CANCELLED,
    3: OrderStatus.CANCELLED,
    5: OrderStatus.CANCELLED,
    6: OrderStatus.CANCELLED,
    10: OrderStatus.CANCELLED,
    15: OrderStatus.CANCELLED,
    100: OrderStatus.PENDING_PAYMENT,
    103: OrderStatus.PENDING_PAYMENT,
    220: OrderStatus.PAID,
    221: OrderStatus.PAID,
    400: OrderStatus.READY_TO_SHIP,
    450: OrderStatus.READY_TO_SHIP,
    500: OrderStatus.SHIPPED,
    501: OrderStatus.SHIPPED,
    520: OrderStatus.SHIPPED,
    530: OrderStatus.SHIPPED,
    540: OrderStatus.SHIPPED,
    550: OrderStatus.RETURNED,
    600: OrderStatus.DELIVERED,
    601: OrderStatus.DELIVERED,
    690: OrderStatus.DELIVERED,
    700: OrderStatus.COMPLETED,
}

#: ``nack`` ``reason_code`` and ``reason`` per reason (§6.4: 1 out of stock, 8 buyer
#: request).
NACK_REASONS: dict[CancelReason, tuple[int, str]] = {
    CancelReason.OUT_OF_STOCK: (1, "Out of stock"),
    CancelReason.BUYER_REQUEST: (8, "Buyer request"),
}

_CONDITIONS = {Condition.NEW: "NEW", Condition.USED: "USED"}


class DraftRefusedError(ValueError):
    """A value Tokopedia would refuse, caught before calling; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ==================================================================== values


def rupiah(value: object, field: str = "price") -> int:
    """A listing price Tokopedia accepts: an integer from 100 to 100,000,000.

    Raises:
        DraftRefusedError: a fraction, a non-number or a value outside the range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise DraftRefusedError(
            field, f"{field} must be whole rupiah (an integer), got {value!r}"
        )
    if not PRICE_MIN <= value <= PRICE_MAX:
        raise DraftRefusedError(
            field,
            f"{field} must be between {PRICE_MIN:,} and {PRICE_MAX:,} rupiah, "
            f"got {value:,}",
        )
    return value


def quantity(value: object) -> int:
    """A stock quantity: a whole number, 0 or more.

    Raises:
        DraftRefusedError: anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DraftRefusedError("stock", f"stock must be 0 or more, got {value!r}")
    return value


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a time without a zone is read as WIB."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return value.astimezone(UTC)


def order_list_bounds(since: datetime, until: datetime) -> tuple[int, int]:
    """``from_date`` and ``to_date`` (Unix seconds) of an order list call covering
    ``[since, until)``: widened to whole seconds, ``to_date`` rounded up, so nothing
    is missed whether Tokopedia reads ``to_date`` as inclusive or not (an order on
    the boundary may be listed twice; callers upsert)."""
    return math.floor(since.timestamp()), math.ceil(until.timestamp())


# ==================================================================== listings


def _checked_sku(sku: str) -> str:
    if not sku.strip():
        raise DraftRefusedError("sku", "sku must not be empty")
    if len(sku) > SKU_MAX:
        raise DraftRefusedError(
            "sku", f"sku must be at most {SKU_MAX} characters, got {len(sku)}"
        )
    return sku


def _checked_name(name: str) -> str:
    if not name.strip():
        raise DraftRefusedError("name", "name must not be empty")
    if len(name) > NAME_MAX:
        raise DraftRefusedError(
            "name", f"name must be at most {NAME_MAX} characters, got {len(name)}"
        )
    return name


def _category(draft: ListingDraft, settings: TokopediaSettings) -> int:
    found = settings.category_for(draft.category)
    if found is None:
        raise DraftRefusedError(
            "category",
            f"no Tokopedia category for {draft.category!r}; map it in the "
            f"tokopedia options 'categories' or set 'default_category_id'",
        )
    return found


def _content(draft: ListingDraft) -> tuple[Dimension | None, list[Picture] | None]:
    dimensions = draft.dimensions
    dimension = (
        None
        if dimensions is None
        else Dimension(
            height=dimensions.height_cm,
            width=dimensions.width_cm,
            length=dimensions.length_cm,
        )
    )
    urls = [url for url in draft.image_urls if url][:PICTURES_MAX]
    pictures = [Picture(file_path=url) for url in urls] or None
    return dimension, pictures


def _weight(draft: ListingDraft) -> int:
    if draft.weight_grams <= 0:
        raise DraftRefusedError(
            "weight", f"weight must be positive grams, got {draft.weight_grams}"
        )
    return draft.weight_grams


def create_row(draft: ListingDraft, settings: TokopediaSettings) -> CreateProduct:
    """The v3 create row of ``draft`` (§5.1).

    Raises:
        DraftRefusedError: the draft breaks a documented limit or has no category.
    """
    dimension, pictures = _content(draft)
    return CreateProduct(
        name=_checked_name(draft.name),
        category_id=_category(draft, settings),
        price=rupiah(draft.price),
        price_currency="IDR",
        status=settings.product_status,
        weight=_weight(draft),
        weight_unit="GR",
        condition=_CONDITIONS[draft.condition],
        min_order=settings.min_order,
        sku=_checked_sku(draft.sku),
        stock=quantity(draft.stock),
        description=draft.description or None,
        dimension=dimension,
        pictures=pictures,
    )


def edit_row(
    draft: ListingDraft, product_id: int, settings: TokopediaSettings
) -> EditProduct:
    """The v3 edit row setting ``draft``'s content — not its price or stock (§5.2).

    Raises:
        DraftRefusedError: the draft breaks a documented limit or has no category.
    """
    dimension, pictures = _content(draft)
    return EditProduct(
        id=product_id,
        sku=_checked_sku(draft.sku),
        name=_checked_name(draft.name),
        category_id=_category(draft, settings),
        description=draft.description or None,
        weight=_weight(draft),
        weight_unit="GR",
        condition=_CONDITIONS[draft.condition],
        dimension=dimension,
        pictures=pictures,
    )


def stock_row(sku: str, value: int) -> StockRow:
    """A stock update row keyed by SKU (§5.3: a SKU wins over a product id)."""
    return StockRow(sku=_checked_sku(sku), new_stock=quantity(value))


def price_row(sku: str, value: int) -> PriceRow:
    """A price update row keyed by SKU (§5.4)."""
    return PriceRow(sku=_checked_sku(sku), new_price=rupiah(value))


def listing(item: ProductInfo) -> RemoteListing:
    """A product info item (§5.7) as a :class:`RemoteListing`."""
    stock = item.main_stock if item.main_stock is not None else item.stock.value
    return RemoteListing(
        sku=Sku(item.other.sku),
        external_id=str(item.basic.product_id),
        name=item.basic.name,
        price=item.price.value,
        stock=stock,
        # Stock 0 turns a product EMPTY, shown as status 3 like a seller's
        # deactivation (§5.3): at stock 0 the status cannot tell the two apart, and
        # the stock already says why nobody can buy it.
        active=item.basic.status in LIVE_PRODUCT_STATUSES
        or (item.basic.status == INACTIVE_PRODUCT_STATUS and stock == 0),
        raw_status=str(item.basic.status),
    )


# ==================================================================== orders


def is_known_status(code: int) -> bool:
    """Whether ``code`` is in the §6.3 table."""
    return code in ORDER_STATUSES


def order_status(code: int) -> OrderStatus:
    """The canonical status of Tokopedia's ``order_status`` (table in the module
    docstring; unknown codes by their hundreds)."""
    known = ORDER_STATUSES.get(code)
    if known is not None:
        return known
    bounds = (
        (100, OrderStatus.CANCELLED),
        (200, OrderStatus.PENDING_PAYMENT),
        (400, OrderStatus.PAID),
        (500, OrderStatus.READY_TO_SHIP),
        (550, OrderStatus.SHIPPED),
        (600, OrderStatus.RETURNED),
        (700, OrderStatus.DELIVERED),
    )
    for below, status in bounds:
        if code < below:
            return status
    return OrderStatus.COMPLETED


def order_from_row(row: OrderRow, created_after: datetime) -> RemoteOrder:
    """An order list row (§6.1) as a :class:`RemoteOrder`.

    The list carries no update time: ``updated_at`` is the creation time (the list
    filters by creation time; a later status change is seen through the single
    order). ``created_after`` (the start of the window asked for) stands in for a
    missing ``create_time``.
    """
    placed = utc(row.create_time) if row.create_time else created_after
    lines = tuple(
        RemoteOrderLine(
            sku=Sku(product.sku),
            quantity=product.quantity,
            unit_price=product.price,
            external_item_id=None if product.id is None else str(product.id),
        )
        for product in row.products
    )
    return RemoteOrder(
        external_id=str(row.order_id),
        status=order_status(row.order_status),
        raw_status=str(row.order_status),
        placed_at=placed,
        updated_at=placed,
        lines=lines,
        total_amount=_total(
            row.amt.ttl_product_price if row.amt else None,
            [(line.unit_price, line.quantity) for line in lines],
        ),
    )


def order_from_detail(detail: OrderDetail, fetched_at: datetime) -> RemoteOrder:
    """A single order (§6.2) as a :class:`RemoteOrder`; times missing from the
    answer fall back to the payment date, then to ``fetched_at``."""
    created = detail.create_time or detail.payment_date
    placed = utc(created) if created else fetched_at
    updated = utc(detail.update_time) if detail.update_time else placed
    lines = tuple(
        RemoteOrderLine(
            sku=Sku(line.sku),
            quantity=line.quantity,
            unit_price=line.product_price,
            external_item_id=None if line.product_id is None else str(line.product_id),
        )
        for line in detail.order_info.order_detail
    )
    return RemoteOrder(
        external_id=str(detail.order_id),
        status=order_status(detail.order_status),
        raw_status=str(detail.order_status),
        placed_at=placed,
        updated_at=max(updated, placed),
        lines=lines,
        total_amount=_total(
            detail.item_price, [(line.unit_price, line.quantity) for line in lines]
        ),
    )


def _total(given: int | None, lines: Sequence[tuple[int, int]]) -> int:
    """The goods total in whole rupiah: as given, else the sum of the lines."""
    if given is not None:
        return given
    return sum(price * count for price, count in lines)
