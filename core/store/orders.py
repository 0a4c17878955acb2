"""Orders, their lines and each account's order bookmark in the database.

Orders are unique on (account, external id): :meth:`SqlOrderRepository.save_many`
inserts the new ones with their lines in bulk and overwrites the changing fields of
the others in one ``executemany``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.audit import actions
from core.audit.events import AuditEvent, JsonValue
from core.domain.ids import AccountId, Sku, sku_key
from core.domain.orders import (
    OrderLine,
    Settlement,
    SettlementKind,
    StockState,
    StoredOrder,
)
from core.domain.sync import OrderStatus
from core.ports import PullStart
from core.store._sql import bulk_insert, chunks, update_many_by
from core.store.accounts import ROW_IDS, account_row_id, not_in_store
from core.store.audit import record
from core.store.products import SqlProductRepository
from core.store.tables import (
    ChannelAccountRow,
    OrderBookmarkRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    table_of,
)

#: Statuses after which an order no longer changes what ikm-sync does.
FINAL = (
    OrderStatus.CANCELLED.value,
    OrderStatus.RETURNED.value,
    OrderStatus.COMPLETED.value,
)

_ORDER_COLUMNS = (
    col(OrderRow.id),
    col(ChannelAccountRow.account_key),
    col(OrderRow.external_id),
    col(OrderRow.status),
    col(OrderRow.raw_status),
    col(OrderRow.total_amount),
    col(OrderRow.stock_state),
    col(OrderRow.oversold),
    col(OrderRow.placed_at),
    col(OrderRow.remote_updated_at),
    col(OrderRow.settlement),
    col(OrderRow.settled_by),
    col(OrderRow.settled_at),
    col(OrderRow.settle_note),
)


def _settlement(
    kind: str | None, actor: str | None, at: datetime | None, note: str | None
) -> Settlement | None:
    if kind is None or at is None:
        return None
    return Settlement(SettlementKind(kind), actor or "", at, note or "")


def _changing(order: StoredOrder, at: datetime) -> dict[str, Any]:
    return {
        "status": order.status.value,
        "raw_status": order.raw_status[:64],
        "total_amount": order.total_amount,
        "stock_state": order.stock_state.value,
        "oversold": order.oversold,
        "placed_at": order.placed_at,
        "remote_updated_at": order.remote_updated_at,
        "updated_at": at,
    }


#: Per session: each account row's marketplace, for its orders' subjects.
_MARKETPLACES = "audit.marketplaces"

#: The order columns its events hold, in :func:`order_state`'s order.
_STATE_COLUMNS = (
    col(OrderRow.status),
    col(OrderRow.stock_state),
    col(OrderRow.oversold),
    col(OrderRow.settlement),
    col(OrderRow.total_amount),
)


def order_state(
    status: str, stock_state: str, oversold: bool, settlement: str | None, total: int
) -> dict[str, JsonValue]:
    """An order's state as its events hold it (``before`` and ``after``)."""
    return {
        "status": status,
        "stock_state": stock_state,
        "oversold": bool(oversold),
        "settlement": settlement,
        "total": int(total),
    }


def _state_of(order: StoredOrder, settlement: str | None) -> dict[str, JsonValue]:
    return order_state(
        order.status.value,
        order.stock_state.value,
        order.oversold,
        settlement,
        order.total_amount,
    )


class SqlOrderRepository:
    """``core.ports.OrderRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # ------------------------------------------------------------------ reads

    def _select(self) -> Any:
        return select(*_ORDER_COLUMNS).join(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(OrderRow.account_id)
        )

    def _with_lines(self, rows: Sequence[Any]) -> list[StoredOrder]:
        lines: dict[int, list[OrderLine]] = defaultdict(list)
        for batch in chunks([int(row[0]) for row in rows]):
            for (
                order_id,
                line_no,
                external_sku,
                quantity,
                price,
                sku,
            ) in self._session.execute(
                select(
                    col(OrderLineRow.order_id),
                    col(OrderLineRow.line_no),
                    col(OrderLineRow.external_sku),
                    col(OrderLineRow.quantity),
                    col(OrderLineRow.unit_price),
                    col(ProductRow.sku),
                )
                .outerjoin(
                    ProductRow, col(ProductRow.id) == col(OrderLineRow.product_id)
                )
                .where(col(OrderLineRow.order_id).in_(batch))
                .order_by(col(OrderLineRow.order_id), col(OrderLineRow.line_no))
            ):
                lines[int(order_id)].append(
                    OrderLine(
                        line_no=int(line_no),
                        external_sku=external_sku,
                        quantity=int(quantity),
                        unit_price=int(price),
                        sku=None if sku is None else Sku(sku),
                    )
                )
        return [
            StoredOrder(
                account=AccountId(account),
                external_id=external_id,
                status=OrderStatus(status),
                raw_status=raw_status,
                total_amount=int(total),
                stock_state=StockState(stock_state),
                oversold=bool(oversold),
                placed_at=placed_at,
                remote_updated_at=updated_at,
                lines=tuple(lines.get(int(order_id), ())),
                settlement=_settlement(kind, actor, settled_at, note),
            )
            for (
                order_id,
                account,
                external_id,
                status,
                raw_status,
                total,
                stock_state,
                oversold,
                placed_at,
                updated_at,
                kind,
                actor,
                settled_at,
                note,
            ) in rows
        ]

    def get_many(
        self, account: AccountId, external_ids: Iterable[str]
    ) -> dict[str, StoredOrder]:
        account_id = account_row_id(self._session, account)
        found: dict[str, StoredOrder] = {}
        for batch in chunks(set(external_ids)):
            rows = self._session.execute(
                self._select().where(
                    col(OrderRow.account_id) == account_id,
                    col(OrderRow.external_id).in_(batch),
                )
            ).all()
            found.update((o.external_id, o) for o in self._with_lines(rows))
        return found

    def open_ids(self, account: AccountId, limit: int) -> list[str]:
        account_id = account_row_id(self._session, account)
        return list(
            self._session.execute(
                select(col(OrderRow.external_id))
                .where(
                    col(OrderRow.account_id) == account_id,
                    col(OrderRow.status).not_in(FINAL),
                )
                .order_by(col(OrderRow.remote_updated_at).desc(), col(OrderRow.id))
                .limit(limit)
            ).scalars()
        )

    def oversold(
        self, account: AccountId | None = None, *, open_only: bool = False
    ) -> list[StoredOrder]:
        statement = self._select().where(col(OrderRow.oversold).is_(True))
        if open_only:
            statement = statement.where(col(OrderRow.settled_at).is_(None))
        if account is not None:
            statement = statement.where(
                col(OrderRow.account_id) == account_row_id(self._session, account)
            )
        rows = self._session.execute(
            statement.order_by(col(OrderRow.placed_at), col(OrderRow.id))
        ).all()
        return self._with_lines(rows)

    def count_by_status(self, account: AccountId) -> dict[OrderStatus, int]:
        account_id = account_row_id(self._session, account)
        return {
            OrderStatus(status): int(count)
            for status, count in self._session.execute(
                select(col(OrderRow.status), func.count())
                .where(col(OrderRow.account_id) == account_id)
                .group_by(col(OrderRow.status))
            )
        }

    def units_held(self, account: AccountId) -> int:
        account_id = account_row_id(self._session, account)
        total = self._session.execute(
            select(func.coalesce(func.sum(col(OrderLineRow.quantity)), 0))
            .join(OrderRow, col(OrderRow.id) == col(OrderLineRow.order_id))
            .where(
                col(OrderRow.account_id) == account_id,
                col(OrderRow.stock_state).in_(
                    [StockState.RESERVED.value, StockState.SHIPPED.value]
                ),
                col(OrderLineRow.product_id).is_not(None),
            )
        ).scalar_one()
        return int(total)

    # ------------------------------------------------------------------ writes

    def settle(
        self, account: AccountId, external_id: str, settlement: Settlement
    ) -> bool:
        account_id = account_row_id(self._session, account)
        settled = self._session.execute(
            sa.update(OrderRow)
            .where(
                col(OrderRow.account_id) == account_id,
                col(OrderRow.external_id) == external_id,
                col(OrderRow.oversold).is_(True),
                col(OrderRow.settled_at).is_(None),
            )
            .values(
                settlement=settlement.kind.value,
                settled_by=settlement.actor,
                settled_at=settlement.at,
                settle_note=settlement.note,
                updated_at=settlement.at,
            )
            .returning(*_STATE_COLUMNS)
        ).first()
        if settled is None:
            return False
        after = order_state(*settled)
        record(
            self._session,
            AuditEvent(
                actions.ORDER_SETTLED,
                actions.order(self._marketplace(account_id), external_id),
                before={**after, "settlement": None},
                after=after,
                account=account,
                actor=settlement.actor,
                reason=settlement.note,
                at=settlement.at,
            ),
        )
        return True

    def _marketplace(self, account_id: int) -> str:
        cache: dict[int, str] = self._session.info.setdefault(_MARKETPLACES, {})
        if account_id not in cache:
            cache[account_id] = self._session.execute(
                select(col(ChannelAccountRow.marketplace)).where(
                    col(ChannelAccountRow.id) == account_id
                )
            ).scalar_one()
        return cache[account_id]

    def save_many(self, orders: Sequence[StoredOrder], at: datetime) -> None:
        by_account: dict[AccountId, list[StoredOrder]] = defaultdict(list)
        for order in orders:
            by_account[order.account].append(order)
        for account, batch in by_account.items():
            self._save_account(
                account, account_row_id(self._session, account), batch, at
            )

    def _ids(self, account_id: int, external_ids: Iterable[str]) -> dict[str, int]:
        return {k: v[0] for k, v in self._stored(account_id, external_ids).items()}

    def _stored(
        self, account_id: int, external_ids: Iterable[str]
    ) -> dict[str, tuple[int, dict[str, JsonValue]]]:
        """Row id and state (:func:`order_state`) of the orders stored, by id."""
        found: dict[str, tuple[int, dict[str, JsonValue]]] = {}
        for batch in chunks(set(external_ids)):
            found.update(
                (external_id, (int(order_id), order_state(*state)))
                for external_id, order_id, *state in self._session.execute(
                    select(
                        col(OrderRow.external_id), col(OrderRow.id), *_STATE_COLUMNS
                    ).where(
                        col(OrderRow.account_id) == account_id,
                        col(OrderRow.external_id).in_(batch),
                    )
                )
            )
        return found

    def _save_account(
        self,
        account: AccountId,
        account_id: int,
        orders: Sequence[StoredOrder],
        at: datetime,
    ) -> None:
        stored = self._stored(account_id, (o.external_id for o in orders))
        updates = [
            {"id": stored[o.external_id][0], **_changing(o, at)}
            for o in orders
            if o.external_id in stored
        ]
        new = [o for o in orders if o.external_id not in stored]
        update_many_by(self._session, table_of(OrderRow), "id", updates)
        self._record_saved(account, account_id, orders, stored, at)
        if not new:
            return
        bulk_insert(
            self._session,
            table_of(OrderRow),
            [
                {
                    "external_id": o.external_id,
                    "currency": "IDR",
                    **_changing(o, at),
                }
                for o in new
            ],
            constants={"account_id": account_id, "first_seen_at": at},
        )
        ids = self._ids(account_id, (o.external_id for o in new))
        keys = {sku_key(line.sku) for o in new for line in o.lines if line.sku}
        products = SqlProductRepository(self._session).ids_by_key(keys)
        bulk_insert(
            self._session,
            table_of(OrderLineRow),
            [
                {
                    "order_id": ids[o.external_id],
                    "line_no": line.line_no,
                    "product_id": None
                    if line.sku is None
                    else products.get(sku_key(line.sku)),
                    "external_sku": line.external_sku[:64],
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
                for o in new
                for line in o.lines
            ],
        )

    def _record_saved(
        self,
        account: AccountId,
        account_id: int,
        orders: Sequence[StoredOrder],
        stored: dict[str, tuple[int, dict[str, JsonValue]]],
        at: datetime,
    ) -> None:
        """``order.stored`` for new orders, ``order.changed`` for orders whose
        state changed. The actor is the marketplace when what it reported (status,
        total) is new or changed; a change of stock state or oversold flag alone is
        ikm-sync's own step, by whoever acts (the acting context)."""
        marketplace = self._marketplace(account_id)
        reporter = f"marketplace:{marketplace}"
        events = []
        for order in orders:
            subject = actions.order(marketplace, order.external_id)
            previous = stored.get(order.external_id)
            if previous is None:
                after = {
                    **_state_of(order, None),
                    "lines": [
                        {
                            "line_no": line.line_no,
                            "sku": line.sku,
                            "external_sku": line.external_sku[:64],
                            "quantity": line.quantity,
                            "unit_price": line.unit_price,
                        }
                        for line in order.lines
                    ],
                }
                events.append(
                    AuditEvent(
                        actions.ORDER_STORED,
                        subject,
                        after=after,
                        account=account,
                        actor=reporter,
                        at=at,
                    )
                )
                continue
            before = previous[1]
            after = _state_of(order, before["settlement"])  # type: ignore[arg-type]
            if after == before:
                continue
            reported = (
                after["status"] != before["status"] or after["total"] != before["total"]
            )
            events.append(
                AuditEvent(
                    actions.ORDER_CHANGED,
                    subject,
                    before=before,
                    after=after,
                    account=account,
                    actor=reporter if reported else None,
                    at=at,
                )
            )
        record(self._session, *events)

    # ------------------------------------------------------------------ bookmarks

    def bookmark(self, account: AccountId) -> datetime | None:
        account_id = account_row_id(self._session, account)
        row = self._session.get(OrderBookmarkRow, account_id)
        return None if row is None else row.position

    def pull_start(self, account: AccountId) -> PullStart:
        orders = sa.select(sa.literal(1)).where(
            col(OrderRow.account_id) == col(ChannelAccountRow.id)
        )
        row = self._session.execute(
            sa.select(
                col(ChannelAccountRow.id),
                col(OrderBookmarkRow.position),
                orders.where(col(OrderRow.oversold).is_(True)).exists(),
                orders.where(col(OrderRow.status).not_in(FINAL)).exists(),
            )
            .outerjoin(
                OrderBookmarkRow,
                col(OrderBookmarkRow.account_id) == col(ChannelAccountRow.id),
            )
            .where(col(ChannelAccountRow.account_key) == account)
        ).first()
        if row is None:
            raise not_in_store(account)
        row_id, position, oversold, open_ = row
        cache: dict[AccountId, int] | None = self._session.info.get(ROW_IDS)
        if cache is not None:
            cache[account] = int(row_id)
        return PullStart(position, bool(oversold), bool(open_))

    def set_bookmark(
        self,
        account: AccountId,
        position: datetime,
        at: datetime,
        *,
        in_step: bool = False,
    ) -> None:
        account_id = account_row_id(self._session, account)
        values: dict[str, datetime] = {"position": position, "updated_at": at}
        if in_step:
            values["in_step_at"] = at
        moved = self._session.execute(
            sa.update(OrderBookmarkRow)
            .where(col(OrderBookmarkRow.account_id) == account_id)
            .values(values)
            .returning(col(OrderBookmarkRow.account_id))
        )
        if moved.first() is None:
            self._session.execute(
                sa.insert(OrderBookmarkRow).values(account_id=account_id, **values)
            )

    def in_step_at(self, account: AccountId) -> datetime | None:
        account_id = account_row_id(self._session, account)
        return self._session.execute(
            sa.select(col(OrderBookmarkRow.in_step_at)).where(
                col(OrderBookmarkRow.account_id) == account_id
            )
        ).scalar_one_or_none()
