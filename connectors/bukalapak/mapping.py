"""Bukalapak ↔ ikm-sync: the only place the two vocabularies meet. Pure functions.

Transaction states (page §5.3; meanings [INF] there) → :class:`OrderStatus`:

=============  ==================  ==================================================
``state``      ``OrderStatus``     why
=============  ==================  ==================================================
pending        PENDING_PAYMENT     created, awaiting payment
paid           PAID                paid, awaiting the seller
accepted       READY_TO_SHIP       the seller accepted it and must ship
delivered      SHIPPED             shipped by the seller (Bukalapak's word)
received       DELIVERED           the buyer confirmed receipt
remitted       COMPLETED           funds released to the seller
rejected       CANCELLED           the seller refused it
expired        CANCELLED           lapsed, not paid or not processed in time
cancelled      CANCELLED           cancelled
refunded       CANCELLED           money back after ``cancelled``/``rejected`` (page
                                   §8.1 item 8): the goods never left, so it is not a
                                   return of goods
=============  ==================  ==================================================

Units: money is integer rupiah (page §6) — fractions are refused before any call and
fail parsing in answers; weight is grams both ways; times are ISO 8601 and become UTC,
a time without an offset being read as WIB (UTC+7, page §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal

from connectors.bukalapak.schemas import (
    CreateProduct,
    ProductDto,
    SkuDto,
    TokenAnswer,
    TransactionDto,
)
from core.domain.ids import Sku, sku_key
from core.domain.remote import (
    ListingDraft,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
    Secret,
)
from core.domain.sync import OrderStatus
from core.ports import TokenSet

#: Bukalapak's business time zone (page §6).
WIB: Final = timezone(timedelta(hours=7))

#: Refresh-token lifetime: page §9 (30 days); the token JSON does not carry it.
REFRESH_LIFETIME: Final = timedelta(days=30)

#: Value limits of page §9.
STOCK_MAX: Final = 999_999

ORDER_STATUS: Final[dict[str, OrderStatus]] = {
    "pending": OrderStatus.PENDING_PAYMENT,
    "paid": OrderStatus.PAID,
    "accepted": OrderStatus.READY_TO_SHIP,
    "delivered": OrderStatus.SHIPPED,
    "received": OrderStatus.DELIVERED,
    "remitted": OrderStatus.COMPLETED,
    "rejected": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.CANCELLED,
}

#: SKU state of an active listing (page §9: ``active``, ``inactive``).
ACTIVE: Final = "active"
INACTIVE: Final = "inactive"


class MappingError(ValueError):
    """An answer holds a value this mapping does not know (the caller reports it as
    a contract problem)."""


# ---------------------------------------------------------------- time and money


def to_utc(moment: datetime) -> datetime:
    """An answer's time in UTC; without an offset it is WIB."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return moment.astimezone(UTC)


def query_time(moment: datetime) -> str:
    """A ``start_time``/``end_time`` value: ISO 8601 in UTC (any offset is read)."""
    return moment.astimezone(UTC).isoformat()


def whole_rupiah(value: object) -> int | None:
    """``value`` as whole rupiah, or None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def price_problem(price: object) -> str | None:
    """Why a price cannot be sent (page §9: integer rupiah > 0), or None."""
    whole = whole_rupiah(price)
    if whole is None:
        return f"price {price!r} is not whole rupiah"
    if whole <= 0:
        return f"price {whole} must be greater than 0"
    return None


def stock_problem(stock: object) -> str | None:
    """Why a stock level cannot be sent (page §9: integer 0 to 999,999), or None."""
    whole = whole_rupiah(stock)
    if whole is None or not 0 <= whole <= STOCK_MAX:
        return f"stock {stock!r} must be a whole number from 0 to {STOCK_MAX:,}"
    return None


# ---------------------------------------------------------------- tokens


def token_set(answer: TokenAnswer, now: datetime, previous: TokenSet) -> TokenSet:
    """The tokens to store from a token answer (page §2.2): the access token expires
    at ``created_at + expires_in``; a missing refresh token keeps the previous one."""
    issued = (
        datetime.fromtimestamp(answer.created_at, UTC)
        if answer.created_at is not None
        else now
    )
    refresh = (
        Secret(answer.refresh_token) if answer.refresh_token else previous.refresh_token
    )
    return TokenSet(
        access_token=Secret(answer.access_token),
        refresh_token=refresh,
        access_expires_at=issued + timedelta(seconds=answer.expires_in),
        refresh_expires_at=(
            issued + REFRESH_LIFETIME
            if answer.refresh_token
            else previous.refresh_expires_at
        ),
        version=previous.version,
    )


# ---------------------------------------------------------------- listings


def sku_id(sku: SkuDto) -> str:
    """The SKU id as ikm-sync stores it (``external_variant_id``)."""
    return str(sku.id)


def matching_sku(skus: Iterable[SkuDto], sku: str) -> SkuDto | None:
    """The first SKU whose ``sku_name`` has the same SKU key as ``sku``."""
    wanted = sku_key(sku)
    for candidate in skus:
        if candidate.sku_name and sku_key(candidate.sku_name) == wanted:
            return candidate
    return None


def is_complete(sku: SkuDto) -> bool:
    """Whether a SKU shows price, stock and state (else read ``/skus``)."""
    return sku.price is not None and sku.stock is not None and sku.state is not None


def listing(product: ProductDto, sku: SkuDto) -> RemoteListing | None:
    """One SKU of a product as a listing; None when it has no seller SKU or lacks
    price, stock or state."""
    if not sku.sku_name.strip() or sku.price is None or sku.stock is None:
        return None
    state = sku.state or ""
    name = product.name
    if sku.variant_name.strip():
        name = f"{name} ({sku.variant_name.strip()})"
    updated = sku.updated_at or product.updated_at
    return RemoteListing(
        sku=Sku(sku.sku_name),
        external_id=str(product.id),
        name=name,
        price=sku.price,
        stock=sku.stock,
        active=state == ACTIVE,
        raw_status=state,
        external_variant_id=sku_id(sku),
        updated_at=to_utc(updated) if updated is not None else None,
    )


@dataclass(frozen=True, slots=True)
class CreatePlan:
    """A create request, or why none can be sent."""

    request: CreateProduct | None
    problem: str = ""


def create_request(
    draft: ListingDraft, category_id: int | None, images: list[int]
) -> CreatePlan:
    """The ``POST /products`` body of page §9 for ``draft``, checked against the
    page's value limits before anything is sent."""
    problems = [
        problem
        for problem in (price_problem(draft.price), stock_problem(draft.stock))
        if problem
    ]
    if draft.weight_grams <= 0:
        problems.append(f"weight {draft.weight_grams} g must be positive")
    if category_id is None:
        problems.append(
            f"category {draft.category!r} has no Bukalapak category_id "
            "(options.category_ids / default_category_id)"
        )
    if not images:
        problems.append(
            "no image attachment id (options.image_attachment_ids / default_image_ids)"
        )
    if not draft.name.strip():
        problems.append("the name is empty")
    if problems or category_id is None:
        return CreatePlan(None, "; ".join(problems))
    condition: Literal["new", "used"] = (
        "used" if draft.condition.value == "used" else "new"
    )
    return CreatePlan(
        CreateProduct(
            name=draft.name.strip(),
            category_id=category_id,
            price=int(draft.price),
            weight=draft.weight_grams,
            stock=int(draft.stock),
            description=draft.description,
            condition=condition,
            images=images,
            sku_name=draft.sku,
        )
    )


# ---------------------------------------------------------------- orders


def order_status(state: str) -> OrderStatus:
    """The canonical status of a transaction state (table in the module docstring).

    Raises:
        MappingError: a state page §5.3 does not list.
    """
    try:
        return ORDER_STATUS[state]
    except KeyError:
        raise MappingError(f"unknown transaction state {state!r}") from None


def is_complete_order(txn: TransactionDto) -> bool:
    """Whether a list row carries what an order needs (else read the detail)."""
    return txn.amount is not None and bool(txn.items)


def order(txn: TransactionDto) -> RemoteOrder:
    """A transaction as a :class:`RemoteOrder` keyed by its numeric ``id`` (the one
    API paths take). ``updated_at`` is the answer's ``updated_at`` (or
    ``state_changed_at``) when present — page §5.2 lists neither — else
    ``created_at``.

    Raises:
        MappingError: an unknown state, or no amount or items.
    """
    if txn.amount is None or not txn.items:
        raise MappingError(f"transaction {txn.id} has no amount or no items")
    placed = to_utc(txn.created_at)
    changed = txn.updated_at or txn.state_changed_at
    lines = tuple(
        RemoteOrderLine(
            sku=Sku(item.stuff.sku_name),
            quantity=item.quantity,
            unit_price=item.price,
            external_item_id=None if item.stuff.id is None else str(item.stuff.id),
        )
        for item in txn.items
    )
    return RemoteOrder(
        external_id=str(txn.id),
        status=order_status(txn.state),
        raw_status=txn.state,
        placed_at=placed,
        updated_at=to_utc(changed) if changed is not None else placed,
        lines=lines,
        total_amount=txn.amount.seller.total,
        currency="IDR",
    )
