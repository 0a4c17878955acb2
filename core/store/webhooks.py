"""Webhook deliveries in the database: stored before they are acknowledged (a
duplicate recognised by the unique marketplace + delivery key), taken for
processing oldest first, and marked processed with their outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.store._sql import insert_ignoring_conflicts
from core.store.tables import WebhookDeliveryRow, table_of


@dataclass(frozen=True, slots=True)
class StoredDelivery:
    """A delivery waiting to be processed (the body is not read back)."""

    id: int
    marketplace: str
    account_key: str | None
    kind: str
    received_at: datetime


class SqlWebhookStore:
    """The ``webhook_deliveries`` table; every call runs in a session of its own."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def record(
        self,
        *,
        marketplace: str,
        delivery_key: str,
        account_key: str | None,
        shop_id: str | None,
        kind: str,
        body: bytes,
        received_at: datetime,
    ) -> bool:
        """Store one verified delivery; ``False`` when it was stored before (a
        duplicate, recognised by its key)."""
        values = {
            "marketplace": marketplace,
            "delivery_key": delivery_key,
            "account_key": account_key,
            "shop_id": shop_id,
            "kind": kind,
            "body": body,
            "received_at": received_at,
            "verified": True,
        }
        with self._session_factory() as session:
            # one statement: a duplicate is recognised without an error round trip
            statement = insert_ignoring_conflicts(
                session, table_of(WebhookDeliveryRow), ["marketplace", "delivery_key"]
            ).returning(table_of(WebhookDeliveryRow).c.id)
            stored = session.execute(statement.values(**values)).first()
            session.commit()
        return stored is not None

    def pending(self, limit: int = 500) -> list[StoredDelivery]:
        """Unprocessed deliveries, oldest first."""
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    col(WebhookDeliveryRow.id),
                    col(WebhookDeliveryRow.marketplace),
                    col(WebhookDeliveryRow.account_key),
                    col(WebhookDeliveryRow.kind),
                    col(WebhookDeliveryRow.received_at),
                )
                .where(col(WebhookDeliveryRow.processed_at).is_(None))
                .order_by(col(WebhookDeliveryRow.id))
                .limit(limit)
            ).all()
        return [StoredDelivery(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def mark_processed(
        self, ids: Sequence[int], outcome: str, processed_at: datetime
    ) -> int:
        """Mark ``ids`` processed with ``outcome`` (only those not marked yet);
        how many were marked."""
        if not ids:
            return 0
        with self._session_factory() as session:
            result = session.execute(
                sa.update(WebhookDeliveryRow)
                .where(
                    col(WebhookDeliveryRow.id).in_(list(ids)),
                    col(WebhookDeliveryRow.processed_at).is_(None),
                )
                .values(processed_at=processed_at, outcome=outcome[:64])
            )
            session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def counts(self) -> dict[str, int]:
        """Deliveries per outcome (``pending`` for the unprocessed)."""
        with self._session_factory() as session:
            rows = session.execute(
                sa.select(
                    sa.func.coalesce(WebhookDeliveryRow.outcome, "pending"),
                    sa.func.count(),
                ).group_by(sa.func.coalesce(WebhookDeliveryRow.outcome, "pending"))
            ).all()
        return {str(r[0]): int(r[1]) for r in rows}
