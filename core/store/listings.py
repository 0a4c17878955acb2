"""Listings in the database: one row per account and product, handled in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import Session, col

from core.audit import actions
from core.audit.events import AuditEvent, JsonValue
from core.domain.ids import AccountId, Sku, sku_key
from core.domain.listings import Listing
from core.domain.sync import ListingState
from core.errors import UnknownSkuError
from core.store._sql import bulk_insert, chunks, update_many_by
from core.store.accounts import account_row_id
from core.store.audit import record
from core.store.products import SqlProductRepository
from core.store.tables import ChannelAccountRow, ListingRow, ProductRow, table_of

_COLUMNS = (
    col(ProductRow.sku_key),
    col(ProductRow.sku),
    col(ListingRow.state),
    col(ListingRow.external_id),
    col(ListingRow.external_variant_id),
    col(ListingRow.last_price),
    col(ListingRow.last_stock),
    col(ListingRow.last_content_hash),
    col(ListingRow.last_error),
)


#: Stored text to state by plain lookup (cheaper than calling the enum).
_STATES = {state.value: state for state in ListingState}


def _values(listing: Listing, at: datetime) -> dict[str, Any]:
    return {
        "external_id": listing.external_id,
        "external_variant_id": listing.external_variant_id,
        "state": listing.state.value,
        "last_price": listing.last_price,
        "last_stock": listing.last_stock,
        "last_content_hash": listing.last_content_hash,
        "last_error": None if listing.last_error is None else listing.last_error[:2000],
        "last_pushed_at": at,
        "updated_at": at,
    }


#: The listing columns its events hold, in :func:`listing_state`'s order.
_STATE_COLUMNS = (
    col(ListingRow.state),
    col(ListingRow.last_price),
    col(ListingRow.last_stock),
    col(ListingRow.last_content_hash),
    col(ListingRow.external_id),
    col(ListingRow.last_error),
)


def listing_state(
    state: str,
    price: int | None,
    stock: int | None,
    content_hash: str | None,
    external_id: str | None,
    error: str | None,
) -> dict[str, JsonValue]:
    """A listing as its ``listing.changed`` events hold it: its state and the
    values last pushed (``price``, ``stock``, ``content_hash``)."""
    return {
        "state": state,
        "price": None if price is None else int(price),
        "stock": None if stock is None else int(stock),
        "content_hash": content_hash,
        "external_id": external_id,
        "error": error,
    }


class SqlListingRepository:
    """``core.ports.ListingRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = table_of(ListingRow)

    def for_account(self, account: AccountId) -> dict[str, Listing]:
        account_id = account_row_id(self._session, account)
        # Core rows (no ORM result processing): planning reads every listing of an
        # account every cycle.
        rows = (
            self._session.connection()
            .execute(
                select(*_COLUMNS)
                .join(ProductRow, col(ProductRow.id) == col(ListingRow.product_id))
                .where(col(ListingRow.account_id) == account_id)
            )
            .all()
        )
        states = _STATES
        return {
            key: Listing(
                account=account,
                sku=Sku(sku),
                state=states[state],
                external_id=external_id,
                external_variant_id=variant,
                last_price=None if price is None else int(price),
                last_stock=None if stock is None else int(stock),
                last_content_hash=digest,
                last_error=error,
            )
            for (
                key,
                sku,
                state,
                external_id,
                variant,
                price,
                stock,
                digest,
                error,
            ) in (rows)
        }

    def save_many(
        self, account: AccountId, listings: Sequence[Listing], at: datetime
    ) -> None:
        if not listings:
            return
        account_id = account_row_id(self._session, account)
        by_key = {sku_key(listing.sku): listing for listing in listings}
        product_ids = SqlProductRepository(self._session).ids_by_key(by_key)
        unknown = sorted(k for k in by_key if k not in product_ids)
        if unknown:
            raise UnknownSkuError(unknown[0])
        existing: dict[int, int] = {}
        known: dict[int, dict[str, JsonValue]] = {}
        for batch in chunks(product_ids.values()):
            for product_id, listing_id, *state in self._session.execute(
                select(
                    col(ListingRow.product_id), col(ListingRow.id), *_STATE_COLUMNS
                ).where(
                    col(ListingRow.account_id) == account_id,
                    col(ListingRow.product_id).in_(batch),
                )
            ):
                existing[int(product_id)] = int(listing_id)
                known[int(product_id)] = listing_state(*state)
        updates, inserts, events = [], [], []
        for key, listing in by_key.items():
            product_id = product_ids[key]
            values = _values(listing, at)
            before = known.get(product_id)
            after = listing_state(
                values["state"],
                values["last_price"],
                values["last_stock"],
                values["last_content_hash"],
                values["external_id"],
                values["last_error"],
            )
            if after != before:
                events.append(
                    AuditEvent(
                        actions.LISTING_CHANGED,
                        actions.listing(account, key),
                        before=before,
                        after=after,
                        account=account,
                        at=at,
                    )
                )
            if product_id in existing:
                updates.append({"id": existing[product_id], **values})
            else:
                inserts.append(
                    {
                        "account_id": account_id,
                        "product_id": product_id,
                        "created_at": at,
                        **values,
                    }
                )
        update_many_by(self._session, self._table, "id", updates)
        bulk_insert(self._session, self._table, inserts)
        record(self._session, *events)

    def forget_stock(self, account: AccountId, keys: Iterable[str]) -> None:
        # no audit event: nothing was sent or decided, a cached value is dropped
        # so the next push sends the stock again (that push is recorded)
        account_id = account_row_id(self._session, account)
        for batch in chunks(set(keys)):
            self._session.execute(
                sa.update(ListingRow)
                .where(
                    col(ListingRow.account_id) == account_id,
                    col(ListingRow.product_id).in_(
                        select(col(ProductRow.id)).where(
                            col(ProductRow.sku_key).in_(batch)
                        )
                    ),
                )
                .values(last_stock=None)
            )

    def accounts_listing(self, keys: Iterable[str]) -> dict[str, list[AccountId]]:
        found: dict[str, list[AccountId]] = defaultdict(list)
        for batch in chunks(set(keys)):
            rows = self._session.execute(
                select(col(ProductRow.sku_key), col(ChannelAccountRow.account_key))
                .join(ListingRow, col(ListingRow.product_id) == col(ProductRow.id))
                .join(
                    ChannelAccountRow,
                    col(ChannelAccountRow.id) == col(ListingRow.account_id),
                )
                .where(
                    col(ProductRow.sku_key).in_(batch),
                    col(ListingRow.state) == ListingState.LIVE.value,
                )
                .order_by(col(ChannelAccountRow.account_key))
            )
            for key, account in rows:
                found[key].append(AccountId(account))
        return dict(found)
