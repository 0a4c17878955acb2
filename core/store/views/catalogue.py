"""The catalogue as the console shows it: producers, products with their stock, one
product with its movements and listings, all within the viewer's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import false, func, select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.ids import sku_key
from core.domain.users import NotVisibleError, Visible
from core.store.tables import (
    ChannelAccountRow,
    ListingRow,
    ProducerRow,
    ProductRow,
    StockMovementRow,
)
from core.store.views.scope import account_visible

#: Rows per page of every list.
PAGE_SIZE = 50
#: Movements shown on a product's page.
MOVEMENTS_SHOWN = 20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, the page number (from 1) and the total."""

    items: list[T]
    number: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1)."""
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.number < self.pages


@dataclass(frozen=True, slots=True)
class ProducerFilter:
    """What the producers list is narrowed to (empty: no narrowing)."""

    text: str = ""
    kind: str = ""
    province: str = ""
    institution: str = ""


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """What the products list is narrowed to (empty: no narrowing)."""

    text: str = ""
    producer: str = ""
    kind: str = ""
    province: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class ProducerItem:
    """A producer row of the list."""

    code: str
    name: str
    kind: str
    institution: str | None
    province: str
    products: int


@dataclass(frozen=True, slots=True)
class ProductItem:
    """A product row of the list, with its available stock."""

    sku: str
    name: str
    producer_code: str
    producer_name: str
    price: int
    status: str
    available: int


@dataclass(frozen=True, slots=True)
class Choices:
    """The values the filters offer, within scope."""

    producers: list[tuple[str, str]]
    provinces: list[str]
    institutions: list[str]


@dataclass(frozen=True, slots=True)
class MovementItem:
    """One stock movement of a product."""

    id: int
    reason: str
    on_hand_delta: int
    reserved_delta: int
    reference: str
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ListingItem:
    """A product's listing on one shop: the values last pushed there."""

    account: str
    marketplace: str
    state: str
    external_id: str | None
    price: int | None
    stock: int | None
    pushed_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ProductDetail:
    """A product, its producer, stock, latest movements and listings."""

    sku: str
    name: str
    producer_code: str
    producer_name: str
    producer_kind: str
    province: str
    price: int
    status: str
    condition: str
    category: str
    weight_grams: int
    description: str
    provenance: str
    updated_at: datetime
    on_hand: int
    reserved: int
    movements: list[MovementItem] = field(default_factory=list)
    listings: list[ListingItem] = field(default_factory=list)

    @property
    def available(self) -> int:
        """On hand less reserved."""
        return self.on_hand - self.reserved


Sessions = sessionmaker[Session]


def _in_scope(column: Any, visible: Visible) -> Any:
    """``column IN (producer ids in scope)``; true for everything, false for none."""
    if visible.producer_ids is None:
        return sa.true()
    if not visible.producer_ids:
        return false()
    return col(column).in_(sorted(visible.producer_ids))


def _contains(column: Any, text: str) -> Any:
    return func.lower(column).contains(text.lower(), autoescape=True)


def _offset(number: int) -> int:
    return (max(number, 1) - 1) * PAGE_SIZE


def producers_page(
    sessions: Sessions, visible: Visible, wanted: ProducerFilter, number: int = 1
) -> Page[ProducerItem]:
    """A page of the producers in scope, by code, with their product counts."""
    where = [_in_scope(ProducerRow.id, visible)]
    if wanted.text:
        where.append(
            sa.or_(
                _contains(ProducerRow.code, wanted.text),
                _contains(ProducerRow.name, wanted.text),
            )
        )
    if wanted.kind:
        where.append(col(ProducerRow.kind) == wanted.kind)
    if wanted.province:
        where.append(col(ProducerRow.province) == wanted.province)
    if wanted.institution:
        where.append(col(ProducerRow.institution) == wanted.institution)
    with sessions() as session:
        total = session.execute(
            select(func.count()).select_from(ProducerRow).where(*where)
        ).scalar_one()
        rows = session.execute(
            select(
                col(ProducerRow.id),
                col(ProducerRow.code),
                col(ProducerRow.name),
                col(ProducerRow.kind),
                col(ProducerRow.institution),
                col(ProducerRow.province),
            )
            .where(*where)
            .order_by(col(ProducerRow.code))
            .limit(PAGE_SIZE)
            .offset(_offset(number))
        ).all()
        ids = [int(r[0]) for r in rows]
        counts: dict[int, int] = {}
        if ids:
            counts = {
                int(pid): int(n)
                for pid, n in session.execute(
                    select(col(ProductRow.producer_id), func.count())
                    .where(col(ProductRow.producer_id).in_(ids))
                    .group_by(col(ProductRow.producer_id))
                )
            }
    items = [
        ProducerItem(code, name, kind, institution, province, counts.get(pid, 0))
        for pid, code, name, kind, institution, province in rows
    ]
    return Page(items, max(number, 1), int(total))


def products_page(
    sessions: Sessions, visible: Visible, wanted: ProductFilter, number: int = 1
) -> Page[ProductItem]:
    """A page of the products in scope, by SKU, with their available stock (summed
    from the ledger for the page's products only)."""
    where = [_in_scope(ProductRow.producer_id, visible)]
    if wanted.text:
        where.append(
            sa.or_(
                col(ProductRow.sku_key).contains(sku_key(wanted.text), autoescape=True),
                _contains(ProductRow.name, wanted.text),
            )
        )
    if wanted.producer:
        where.append(col(ProducerRow.code) == wanted.producer)
    if wanted.kind:
        where.append(col(ProducerRow.kind) == wanted.kind)
    if wanted.province:
        where.append(col(ProducerRow.province) == wanted.province)
    if wanted.status:
        where.append(col(ProductRow.status) == wanted.status)
    joined = sa.join(
        ProductRow,
        ProducerRow,
        col(ProducerRow.id) == col(ProductRow.producer_id),
    )
    with sessions() as session:
        total = session.execute(
            select(func.count()).select_from(joined).where(*where)
        ).scalar_one()
        rows = session.execute(
            select(
                col(ProductRow.id),
                col(ProductRow.sku),
                col(ProductRow.name),
                col(ProducerRow.code),
                col(ProducerRow.name),
                col(ProductRow.price),
                col(ProductRow.status),
            )
            .select_from(joined)
            .where(*where)
            .order_by(col(ProductRow.sku_key))
            .limit(PAGE_SIZE)
            .offset(_offset(number))
        ).all()
        available = _available(session, [int(r[0]) for r in rows])
    items = [
        ProductItem(
            sku, name, code, producer, int(price), status, available.get(pid, 0)
        )
        for pid, sku, name, code, producer, price, status in rows
    ]
    return Page(items, max(number, 1), int(total))


def _available(session: Session, product_ids: Sequence[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    movement = StockMovementRow
    return {
        int(pid): int(on_hand or 0) - int(reserved or 0)
        for pid, on_hand, reserved in session.execute(
            select(
                col(movement.product_id),
                func.sum(col(movement.on_hand_delta)),
                func.sum(col(movement.reserved_delta)),
            )
            .where(col(movement.product_id).in_(list(product_ids)))
            .group_by(col(movement.product_id))
        )
    }


def choices(sessions: Sessions, visible: Visible) -> Choices:
    """Producers (code, name), provinces and institutions in scope, for filters."""
    scoped = _in_scope(ProducerRow.id, visible)
    with sessions() as session:
        producers = [
            (str(code), str(name))
            for code, name in session.execute(
                select(col(ProducerRow.code), col(ProducerRow.name))
                .where(scoped)
                .order_by(col(ProducerRow.code))
            )
        ]
        provinces = list(
            session.execute(
                select(col(ProducerRow.province))
                .where(scoped)
                .distinct()
                .order_by(col(ProducerRow.province))
            ).scalars()
        )
        institutions = list(
            session.execute(
                select(col(ProducerRow.institution))
                .where(scoped, col(ProducerRow.institution).is_not(None))
                .distinct()
                .order_by(col(ProducerRow.institution))
            ).scalars()
        )
    return Choices(producers, provinces, [str(i) for i in institutions])


def product_detail(sessions: Sessions, visible: Visible, sku: str) -> ProductDetail:
    """One product in scope with its stock, latest movements and listings.

    Raises:
        NotVisibleError: no product has the SKU, or it is out of scope.
    """
    with sessions() as session:
        row = session.execute(
            select(
                col(ProductRow.id),
                col(ProductRow.sku),
                col(ProductRow.name),
                col(ProducerRow.code),
                col(ProducerRow.name),
                col(ProducerRow.kind),
                col(ProducerRow.province),
                col(ProductRow.price),
                col(ProductRow.status),
                col(ProductRow.condition),
                col(ProductRow.category),
                col(ProductRow.weight_grams),
                col(ProductRow.description),
                col(ProductRow.provenance),
                col(ProductRow.updated_at),
            )
            .join(ProducerRow, col(ProducerRow.id) == col(ProductRow.producer_id))
            .where(
                col(ProductRow.sku_key) == sku_key(sku),
                _in_scope(ProductRow.producer_id, visible),
            )
        ).first()
        if row is None:
            raise NotVisibleError(f"product {sku!r}")
        product_id = int(row[0])
        movement = StockMovementRow
        on_hand, reserved = session.execute(
            select(
                func.coalesce(func.sum(col(movement.on_hand_delta)), 0),
                func.coalesce(func.sum(col(movement.reserved_delta)), 0),
            ).where(col(movement.product_id) == product_id)
        ).one()
        movements = [
            MovementItem(int(m[0]), *m[1:])
            for m in session.execute(
                select(
                    col(movement.id),
                    col(movement.reason),
                    col(movement.on_hand_delta),
                    col(movement.reserved_delta),
                    col(movement.reference),
                    col(movement.actor),
                    col(movement.note),
                    col(movement.at),
                )
                .where(col(movement.product_id) == product_id)
                .order_by(col(movement.id).desc())
                .limit(MOVEMENTS_SHOWN)
            )
        ]
        listings = [
            ListingItem(*l_)
            for l_ in session.execute(
                select(
                    col(ChannelAccountRow.account_key),
                    col(ChannelAccountRow.marketplace),
                    col(ListingRow.state),
                    col(ListingRow.external_id),
                    col(ListingRow.last_price),
                    col(ListingRow.last_stock),
                    col(ListingRow.last_pushed_at),
                    col(ListingRow.last_error),
                )
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(ListingRow.account_id),
                )
                .where(
                    col(ListingRow.product_id) == product_id,
                    account_visible(col(ListingRow.account_id), visible),
                )
                .order_by(col(ChannelAccountRow.account_key))
            )
        ]
    (_, sku_, name, code, producer, kind, province, price, status) = row[:9]
    (condition, category, weight, description, provenance, updated) = row[9:]
    return ProductDetail(
        sku=sku_,
        name=name,
        producer_code=code,
        producer_name=producer,
        producer_kind=kind,
        province=province,
        price=int(price),
        status=status,
        condition=condition,
        category=category,
        weight_grams=int(weight),
        description=description,
        provenance=provenance,
        updated_at=updated,
        on_hand=int(on_hand),
        reserved=int(reserved),
        movements=movements,
        listings=listings,
    )
