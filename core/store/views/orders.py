"""Orders as the console lists them: filtered by shop, status, placing date and
producer, newest first, 50 a page, only orders of accounts in the viewer's scope;
and the oversold queue. (The store keeps no buyer names: the ingest stores none.)"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.users import NotVisibleError, Visible
from core.store.tables import (
    ChannelAccountRow,
    OrderLineRow,
    OrderRow,
    ProducerRow,
    ProductRow,
)
from core.store.views.scope import account_visible

#: Orders on a page.
PAGE = 50


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What the orders list is narrowed to (``None``: any); ``since``/``until``
    bound ``placed_at`` (until excluded); ``producer`` is a producer's code, whose
    products one of the order's lines must be."""

    account: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    producer: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLineView:
    """One line: the SKU (the marketplace's when unknown here) and quantity."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as listed."""

    account: str
    external_id: str
    status: str
    raw_status: str
    placed_at: datetime | None
    total_amount: int
    oversold: bool
    settlement: str | None
    settled_by: str | None
    settled_at: datetime | None
    settle_note: str | None
    lines: tuple[OrderLineView, ...]


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders; ``more`` when a next page exists."""

    orders: list[OrderView]
    offset: int
    more: bool


_COLUMNS = (
    col(OrderRow.id),
    col(ChannelAccountRow.account_key),
    col(OrderRow.external_id),
    col(OrderRow.status),
    col(OrderRow.raw_status),
    col(OrderRow.placed_at),
    col(OrderRow.total_amount),
    col(OrderRow.oversold),
    col(OrderRow.settlement),
    col(OrderRow.settled_by),
    col(OrderRow.settled_at),
    col(OrderRow.settle_note),
)


def _select(visible: Visible) -> Any:
    return (
        sa.select(*_COLUMNS)
        .join(ChannelAccountRow, col(ChannelAccountRow.id) == col(OrderRow.account_id))
        .where(account_visible(col(OrderRow.account_id), visible))
    )


def producer_id(sessions: sessionmaker[Session], visible: Visible, code: str) -> int:
    """The row id of producer ``code``.

    Raises:
        NotVisibleError: no such producer, or not one ``visible`` sees.
    """
    with sessions() as session:
        found = session.execute(
            sa.select(col(ProducerRow.id)).where(col(ProducerRow.code) == code)
        ).scalar_one_or_none()
    if found is None or not visible.sees_producer(int(found)):
        raise NotVisibleError(f"producer {code!r}: not found")
    return int(found)


def _page(
    sessions: sessionmaker[Session], statement: Any, offset: int, limit: int
) -> OrderPage:
    statement = statement.offset(offset).limit(limit + 1)
    with sessions() as session:
        rows = session.execute(statement).all()[: limit + 1]
        more = len(rows) > limit
        rows = rows[:limit]
        lines: dict[int, list[OrderLineView]] = defaultdict(list)
        ids = [int(row[0]) for row in rows]
        if ids:
            for order_id, external_sku, sku, quantity in session.execute(
                sa.select(
                    col(OrderLineRow.order_id),
                    col(OrderLineRow.external_sku),
                    col(ProductRow.sku),
                    col(OrderLineRow.quantity),
                )
                .outerjoin(
                    ProductRow, col(ProductRow.id) == col(OrderLineRow.product_id)
                )
                .where(col(OrderLineRow.order_id).in_(ids))
                .order_by(col(OrderLineRow.order_id), col(OrderLineRow.line_no))
            ):
                lines[int(order_id)].append(
                    OrderLineView(sku or external_sku, int(quantity))
                )
    orders = [
        OrderView(
            account=account,
            external_id=external_id,
            status=status,
            raw_status=raw_status,
            placed_at=placed_at,
            total_amount=int(total),
            oversold=bool(oversold),
            settlement=settlement,
            settled_by=settled_by,
            settled_at=settled_at,
            settle_note=note,
            lines=tuple(lines.get(int(order_id), ())),
        )
        for (
            order_id,
            account,
            external_id,
            status,
            raw_status,
            placed_at,
            total,
            oversold,
            settlement,
            settled_by,
            settled_at,
            note,
        ) in rows
    ]
    return OrderPage(orders, offset, more)


def orders_page(
    sessions: sessionmaker[Session],
    visible: Visible,
    where: OrderFilter,
    offset: int = 0,
    limit: int = PAGE,
) -> OrderPage:
    """The orders ``where`` selects that ``visible`` sees, latest placed first.

    Raises:
        NotVisibleError: ``where.producer`` is unknown or out of scope.
    """
    statement = _select(visible)
    if where.account is not None:
        statement = statement.where(col(ChannelAccountRow.account_key) == where.account)
    if where.status is not None:
        statement = statement.where(col(OrderRow.status) == where.status)
    if where.since is not None:
        statement = statement.where(col(OrderRow.placed_at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(OrderRow.placed_at) < where.until)
    if where.producer is not None:
        producer = producer_id(sessions, visible, where.producer)
        statement = statement.where(
            sa.exists()
            .where(col(OrderLineRow.order_id) == col(OrderRow.id))
            .where(col(ProductRow.id) == col(OrderLineRow.product_id))
            .where(col(ProductRow.producer_id) == producer)
        )
    statement = statement.order_by(
        col(OrderRow.placed_at).desc(), col(OrderRow.id).desc()
    )
    return _page(sessions, statement, offset, limit)


def oversold_page(
    sessions: sessionmaker[Session],
    visible: Visible,
    *,
    open_only: bool = True,
    offset: int = 0,
    limit: int = PAGE,
) -> OrderPage:
    """The oversold orders ``visible`` sees (only those no officer settled yet,
    unless ``open_only`` is false), oldest first: the queue to work through."""
    statement = _select(visible).where(col(OrderRow.oversold).is_(True))
    if open_only:
        statement = statement.where(col(OrderRow.settlement).is_(None))
    statement = statement.order_by(col(OrderRow.id))
    return _page(sessions, statement, offset, limit)


def order_of(
    sessions: sessionmaker[Session], visible: Visible, account: str, external_id: str
) -> OrderView:
    """Order ``external_id`` of ``account``.

    Raises:
        NotVisibleError: no such order, or not one ``visible`` sees.
    """
    statement = _select(visible).where(
        col(ChannelAccountRow.account_key) == account,
        col(OrderRow.external_id) == external_id,
    )
    found = _page(sessions, statement, 0, 1).orders
    if not found:
        raise NotVisibleError(f"order {external_id!r} of {account!r}: not found")
    return found[0]


def producers_in_scope(sessions: sessionmaker[Session], visible: Visible) -> list[str]:
    """The codes of the producers ``visible`` sees, sorted."""
    statement = sa.select(col(ProducerRow.code)).order_by(col(ProducerRow.code))
    if visible.producer_ids is not None:
        statement = statement.where(
            col(ProducerRow.id).in_(sorted(visible.producer_ids))
        )
    with sessions() as session:
        return [str(code) for code in session.scalars(statement)]
