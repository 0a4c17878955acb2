"""The stock ledger in the database.

Exactly-once rests on the UNIQUE index on ``idempotency_key`` (an insert that meets an
existing key does nothing), not on a check in Python. The non-negative on-hand rule
needs the current balance, so ``record`` first locks the product row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite transactions already queue behind ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.audit import actions
from core.audit.events import AuditEvent
from core.domain.ids import Sku, sku_key
from core.domain.stock import (
    Movement,
    MovementReason,
    NewMovement,
    RecordedMovement,
    StockLevel,
)
from core.errors import (
    DomainError,
    IdempotencyConflictError,
    InsufficientStockError,
    UnknownSkuError,
)
from core.ports import StockTotals
from core.store._sql import CHUNK, chunks, insert_ignoring_conflicts
from core.store.audit import record as record_events
from core.store.tables import ProductRow, StockMovementRow, table_of

_MOVEMENT_COLUMNS = (
    col(StockMovementRow.id),
    col(ProductRow.sku),
    col(StockMovementRow.reason),
    col(StockMovementRow.on_hand_delta),
    col(StockMovementRow.reserved_delta),
    col(StockMovementRow.idempotency_key),
    col(StockMovementRow.actor),
    col(StockMovementRow.reference),
    col(StockMovementRow.note),
    col(StockMovementRow.location),
    col(StockMovementRow.at),
)


def _movement(row: Any) -> Movement:
    (id_, sku, reason, on_hand, reserved, key, actor, reference, note, location, at) = (
        row
    )
    return Movement(
        id=int(id_),
        sku=Sku(sku),
        reason=MovementReason(reason),
        on_hand_delta=int(on_hand),
        reserved_delta=int(reserved),
        idempotency_key=key,
        actor=actor,
        reference=reference,
        note=note,
        location=location,
        at=at,
    )


def _row_values(movement: NewMovement, product_id: int) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "location": movement.location,
        "reason": movement.reason.value,
        "on_hand_delta": movement.on_hand_delta,
        "reserved_delta": movement.reserved_delta,
        "reference": movement.reference,
        "actor": movement.actor,
        "note": movement.note,
        "idempotency_key": movement.idempotency_key,
    }


def moved_event(movement: NewMovement, sku: str, at: datetime) -> AuditEvent:
    """The ``stock.moved`` event of a movement just inserted (at its own time).

    The actor is whoever acts (the acting context); the movement's own ``actor``
    column is in ``after``. :mod:`core.store.audit_state` compares the two.
    """
    return AuditEvent(
        actions.STOCK_MOVED,
        actions.sku(sku),
        after={
            "key": movement.idempotency_key,
            "reason": movement.reason.value,
            "on_hand": movement.on_hand_delta,
            "reserved": movement.reserved_delta,
            "reference": movement.reference,
            "actor": movement.actor,
            "note": movement.note,
            "location": movement.location,
        },
        at=at,
    )


class SqlStockLedger:
    """``core.ports.StockLedger`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table = table_of(StockMovementRow)

    def _by_key(self, idempotency_key: str) -> Movement | None:
        row = self._session.execute(
            select(*_MOVEMENT_COLUMNS)
            .join(ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id))
            .where(col(StockMovementRow.idempotency_key) == idempotency_key)
        ).first()
        return None if row is None else _movement(row)

    def _replay(self, movement: NewMovement, existing: Movement) -> RecordedMovement:
        if not movement.same_effect_as(existing):
            raise IdempotencyConflictError(movement.idempotency_key)
        return RecordedMovement(existing, created=False, level=self.level(existing.sku))

    def _lock_product(self, sku: str) -> tuple[int, str]:
        row = self._session.execute(
            select(col(ProductRow.id), col(ProductRow.sku))
            .where(col(ProductRow.sku_key) == sku_key(sku))
            .with_for_update()
        ).first()
        if row is None:
            raise UnknownSkuError(sku)
        return int(row[0]), str(row[1])

    def _sums(self, product_id: int) -> tuple[int, int]:
        on_hand, reserved = self._session.execute(
            select(
                func.coalesce(func.sum(col(StockMovementRow.on_hand_delta)), 0),
                func.coalesce(func.sum(col(StockMovementRow.reserved_delta)), 0),
            ).where(col(StockMovementRow.product_id) == product_id)
        ).one()
        return int(on_hand), int(reserved)

    def record(self, movement: NewMovement, at: datetime) -> RecordedMovement:
        existing = self._by_key(movement.idempotency_key)
        if existing is not None:
            return self._replay(movement, existing)
        product_id, stored_sku = self._lock_product(movement.sku)
        on_hand, reserved = self._sums(product_id)
        if movement.on_hand_delta < 0 and on_hand + movement.on_hand_delta < 0:
            raise InsufficientStockError(stored_sku, on_hand, movement.on_hand_delta)
        inserted = self._session.execute(
            insert_ignoring_conflicts(self._session, self._table, ["idempotency_key"])
            .values({**_row_values(movement, product_id), "at": at})
            .returning(self._table.c.id)
        ).first()
        if inserted is None:  # the same key landed between our read and our insert
            existing = self._by_key(movement.idempotency_key)
            if existing is None:
                raise DomainError(
                    f"movement {movement.idempotency_key!r} was neither written "
                    "nor found"
                )
            return self._replay(movement, existing)
        record_events(self._session, moved_event(movement, stored_sku, at))
        recorded = movement.recorded(int(inserted[0]), Sku(stored_sku), at)
        level = StockLevel(
            Sku(stored_sku),
            on_hand + movement.on_hand_delta,
            reserved + movement.reserved_delta,
        )
        return RecordedMovement(recorded, created=True, level=level)

    def record_many(self, movements: Sequence[NewMovement], at: datetime) -> int:
        if not movements:
            return 0
        products = self._products({sku_key(m.sku) for m in movements})
        unknown = sorted({m.sku for m in movements if sku_key(m.sku) not in products})
        if unknown:
            raise UnknownSkuError(unknown[0])
        lowering = {sku_key(m.sku) for m in movements if m.on_hand_delta < 0}
        if lowering:
            self._check_on_hand(movements, lowering, products)
        created = 0
        statement = insert_ignoring_conflicts(
            self._session, self._table, ["idempotency_key"]
        ).returning(self._table.c.idempotency_key)
        for batch in chunks(movements, 5000):
            # RETURNING names the rows actually inserted (not the replays), so
            # exactly those get their event, even when another writer's copy of
            # a key landed first.
            inserted = set(
                self._session.execute(
                    statement,
                    [
                        {**_row_values(m, products[sku_key(m.sku)][0]), "at": at}
                        for m in batch
                    ],
                ).scalars()
            )
            events = []
            for movement in batch:
                if movement.idempotency_key in inserted:
                    inserted.discard(movement.idempotency_key)  # a key once
                    sku = products[sku_key(movement.sku)][1]
                    events.append(moved_event(movement, sku, at))
            record_events(self._session, *events)
            created += len(events)
        return created

    def _check_on_hand(
        self,
        movements: Sequence[NewMovement],
        lowering: set[str],
        products: dict[str, tuple[int, str]],
    ) -> None:
        """Raise ``InsufficientStockError`` for the first movement that would take
        on-hand below zero after those before it (keys already recorded move
        nothing), holding the SKUs whose on-hand goes down as :meth:`lock` does."""
        self.lock(lowering)
        on_hand = {key: level.on_hand for key, level in self.levels(lowering).items()}
        done = set(self.recorded(m.idempotency_key for m in movements))
        for movement in movements:
            key = sku_key(movement.sku)
            if key not in lowering or movement.idempotency_key in done:
                continue
            done.add(movement.idempotency_key)
            before = on_hand.get(key, 0)
            if before + movement.on_hand_delta < 0 and movement.on_hand_delta < 0:
                raise InsufficientStockError(
                    products[key][1], before, movement.on_hand_delta
                )
            on_hand[key] = before + movement.on_hand_delta

    def _products(self, keys: set[str]) -> dict[str, tuple[int, str]]:
        """(surrogate key, stored SKU) by SKU key."""
        statement = select(
            col(ProductRow.sku_key), col(ProductRow.id), col(ProductRow.sku)
        )
        if len(keys) > 4 * CHUNK:  # one scan beats many IN lists
            rows = self._session.execute(statement)
            return {key: (int(id_), sku) for key, id_, sku in rows if key in keys}
        found: dict[str, tuple[int, str]] = {}
        for batch in chunks(keys):
            rows = self._session.execute(
                statement.where(col(ProductRow.sku_key).in_(batch))
            )
            found.update({key: (int(id_), sku) for key, id_, sku in rows})
        return found

    def recorded(self, keys: Iterable[str]) -> dict[str, Movement]:
        found: dict[str, Movement] = {}
        for batch in chunks(set(keys)):
            rows = self._session.execute(
                select(*_MOVEMENT_COLUMNS)
                .join(
                    ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id)
                )
                .where(col(StockMovementRow.idempotency_key).in_(batch))
            )
            for row in rows:
                movement = _movement(row)
                found[movement.idempotency_key] = movement
        return found

    def lock(self, keys: Iterable[str]) -> None:
        # Sorted, so two transactions locking overlapping sets cannot deadlock.
        for batch in chunks(sorted(set(keys))):
            self._session.execute(
                select(col(ProductRow.id))
                .where(col(ProductRow.sku_key).in_(batch))
                .order_by(col(ProductRow.sku_key))
                .with_for_update()
            ).all()

    def level(self, sku: str) -> StockLevel:
        row = self._session.execute(
            select(col(ProductRow.id), col(ProductRow.sku)).where(
                col(ProductRow.sku_key) == sku_key(sku)
            )
        ).first()
        if row is None:
            raise UnknownSkuError(sku)
        on_hand, reserved = self._sums(int(row[0]))
        return StockLevel(Sku(str(row[1])), on_hand, reserved)

    def _levels_query(self) -> Any:
        return (
            select(
                col(ProductRow.sku_key),
                col(ProductRow.sku),
                func.sum(col(StockMovementRow.on_hand_delta)),
                func.sum(col(StockMovementRow.reserved_delta)),
            )
            .join(ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id))
            .group_by(col(ProductRow.sku_key), col(ProductRow.sku))
        )

    def _all_levels_query(self) -> Any:
        """Every SKU with movements: sums grouped by product id, then named."""
        sums = (
            select(
                col(StockMovementRow.product_id).label("product_id"),
                func.sum(col(StockMovementRow.on_hand_delta)).label("on_hand"),
                func.sum(col(StockMovementRow.reserved_delta)).label("reserved"),
            )
            .group_by(col(StockMovementRow.product_id))
            .subquery()
        )
        return select(
            col(ProductRow.sku_key),
            col(ProductRow.sku),
            sums.c.on_hand,
            sums.c.reserved,
        ).join(sums, sums.c.product_id == col(ProductRow.id))

    def levels(self, keys: Iterable[str] | None = None) -> dict[str, StockLevel]:
        connection = self._session.connection()  # Core rows: no ORM processing

        def collect(statement: Any) -> dict[str, StockLevel]:
            return {
                key: StockLevel(sku, int(on_hand), int(reserved))
                for key, sku, on_hand, reserved in connection.execute(statement).all()
            }

        if keys is None:
            return collect(self._all_levels_query())
        wanted = set(keys)
        if len(wanted) > 4 * CHUNK:  # one grouped scan beats many IN lists
            return {
                k: v
                for k, v in collect(self._all_levels_query()).items()
                if k in wanted
            }
        found: dict[str, StockLevel] = {}
        for batch in chunks(wanted):
            found.update(
                collect(self._levels_query().where(col(ProductRow.sku_key).in_(batch)))
            )
        return found

    def history(self, sku: str, limit: int) -> list[Movement]:
        rows = self._session.execute(
            select(*_MOVEMENT_COLUMNS)
            .join(ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id))
            .where(col(ProductRow.sku_key) == sku_key(sku))
            .order_by(col(StockMovementRow.id).desc())
            .limit(limit)
        )
        return [_movement(row) for row in rows]

    def totals(self) -> StockTotals:
        per_product = (
            select(
                col(StockMovementRow.product_id).label("product_id"),
                func.sum(col(StockMovementRow.on_hand_delta)).label("on_hand"),
                func.sum(col(StockMovementRow.reserved_delta)).label("reserved"),
            )
            .group_by(col(StockMovementRow.product_id))
            .subquery()
        )
        on_hand = func.coalesce(per_product.c.on_hand, 0)
        reserved = func.coalesce(per_product.c.reserved, 0)
        available = on_hand - reserved
        row = self._session.execute(
            select(
                func.count(col(ProductRow.id)),
                func.coalesce(func.sum(sa.case((available > 0, 1), else_=0)), 0),
                func.coalesce(func.sum(sa.case((available < 0, 1), else_=0)), 0),
                func.coalesce(func.sum(on_hand), 0),
                func.coalesce(func.sum(reserved), 0),
            )
            .select_from(ProductRow)
            .outerjoin(per_product, per_product.c.product_id == col(ProductRow.id))
        ).one()
        products, with_stock, oversold, total_on_hand, total_reserved = (
            int(v) for v in row
        )
        return StockTotals(
            skus_with_stock=with_stock,
            skus_out_of_stock=products - with_stock,
            skus_oversold=oversold,
            on_hand=total_on_hand,
            reserved=total_reserved,
            available=total_on_hand - total_reserved,
        )
