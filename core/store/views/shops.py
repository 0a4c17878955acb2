"""The Shops pages' reads: an account's products with their available stock and
what each listing last showed, one page at a time, in the viewer's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.domain.catalogue import ProductStatus
from core.domain.sync import ListingState
from core.domain.users import NotVisibleError, Visible
from core.store.tables import (
    ChannelAccountProducerRow,
    ChannelAccountRow,
    ListingRow,
    ProductRow,
    StockMovementRow,
)

#: Rows per page.
PAGE = 50


@dataclass(frozen=True, slots=True)
class ProductStock:
    """An active product of the account's producers: its available stock, what its
    listing on the account last showed (``None``: never pushed) and its state."""

    sku: str
    name: str
    available: int
    shown_now: int | None
    listing_state: str | None


@dataclass(frozen=True, slots=True)
class ProductStockPage:
    """One page of :class:`ProductStock` rows, and how many there are in all."""

    rows: list[ProductStock]
    total: int
    offset: int


def _within(column: Any, ids: frozenset[int] | None) -> Any:
    if ids is None:
        return sa.true()
    return col(column).in_(sorted(ids)) if ids else sa.false()


def listing_counts(
    session: Session, visible: Visible, account: str | None = None
) -> dict[str, dict[ListingState, int]]:
    """Listings by state of each account in scope (or of ``account`` alone), by
    account key."""
    where = [_within(ListingRow.account_id, visible.account_ids)]
    if account is not None:
        where.append(
            col(ListingRow.account_id) == account_row_id(session, visible, account)
        )
    counts: dict[str, dict[ListingState, int]] = {}
    for key, state, count in session.execute(
        select(col(ChannelAccountRow.account_key), col(ListingRow.state), func.count())
        .join(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(ListingRow.account_id)
        )
        .where(*where)
        .group_by(col(ChannelAccountRow.account_key), col(ListingRow.state))
    ):
        counts.setdefault(str(key), {})[ListingState(state)] = int(count)
    return counts


def account_row_id(session: Session, visible: Visible, account: str) -> int:
    """The row id of ``account`` when ``visible`` sees it.

    Raises:
        NotVisibleError: no such account, or it is out of the viewer's scope.
    """
    found = session.execute(
        select(col(ChannelAccountRow.id)).where(
            col(ChannelAccountRow.account_key) == account,
            _within(ChannelAccountRow.id, visible.account_ids),
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotVisibleError(f"account {account!r}")
    return int(found)


def product_stock(
    session: Session,
    visible: Visible,
    account: str,
    *,
    offset: int = 0,
    limit: int = PAGE,
) -> ProductStockPage:
    """The active products of ``account``'s producers (in scope), by SKU, with
    their available stock and the quantity the account's listing last showed.

    Raises:
        NotVisibleError: the account is missing or out of scope.
    """
    account_id = account_row_id(session, visible, account)
    where = (
        col(ProductRow.status) == ProductStatus.ACTIVE.value,
        col(ProductRow.producer_id).in_(
            select(col(ChannelAccountProducerRow.producer_id)).where(
                col(ChannelAccountProducerRow.account_id) == account_id
            )
        ),
        _within(ProductRow.producer_id, visible.producer_ids),
    )
    total = session.execute(
        select(func.count()).select_from(ProductRow).where(*where)
    ).scalar_one()
    products = session.execute(
        select(col(ProductRow.id), col(ProductRow.sku), col(ProductRow.name))
        .where(*where)
        .order_by(col(ProductRow.sku_key))
        .offset(max(offset, 0))
        .limit(limit)
    ).all()
    ids = [int(p[0]) for p in products]
    available: dict[int, int] = {}
    listed: dict[int, tuple[int | None, str]] = {}
    if ids:
        available = {
            int(pid): int(value or 0)
            for pid, value in session.execute(
                select(
                    col(StockMovementRow.product_id),
                    func.sum(
                        col(StockMovementRow.on_hand_delta)
                        - col(StockMovementRow.reserved_delta)
                    ),
                )
                .where(col(StockMovementRow.product_id).in_(ids))
                .group_by(col(StockMovementRow.product_id))
            )
        }
        listed = {
            int(pid): (None if stock is None else int(stock), str(state))
            for pid, stock, state in session.execute(
                select(
                    col(ListingRow.product_id),
                    col(ListingRow.last_stock),
                    col(ListingRow.state),
                ).where(
                    col(ListingRow.account_id) == account_id,
                    col(ListingRow.product_id).in_(ids),
                )
            )
        }
    rows = [
        ProductStock(
            sku=str(sku),
            name=str(name),
            available=available.get(int(pid), 0),
            shown_now=listed.get(int(pid), (None, ""))[0],
            listing_state=listed[int(pid)][1] if int(pid) in listed else None,
        )
        for pid, sku, name in products
    ]
    return ProductStockPage(rows, int(total), max(offset, 0))
