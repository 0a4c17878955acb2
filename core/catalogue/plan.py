"""The pure import planner: validated rows + what the store holds → what to change.

No I/O: the service loads the stored state it needs and hands it in, so the planner is
tested with plain data. Products absent from the file are left alone; an import never
deletes. Optional columns absent from a sheet leave those fields as stored (a price-only
sheet does not wipe descriptions); an empty cell in a present column clears the field.
Initial stock applies only to SKUs with no stock movements yet; after that, stock
changes go through the ledger (``ikm-sync stock adjust``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from core.catalogue.validate import RowRef, ValidatedCatalogue
from core.domain.catalogue import Producer, Product, changed_fields
from core.domain.ids import sku_key
from core.domain.stock import MovementReason, NewMovement
from core.errors import InputIssue
from core.ports import ProductIndexEntry

INITIAL_STOCK_KEY = "catalog-initial:{key}"


class Action(StrEnum):
    """What an import does to one record."""

    CREATE = "create"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class PlannedProducer:
    """A producer to create or update."""

    action: Action
    producer: Producer
    ref: RowRef
    changed: tuple[str, ...] = ()
    #: The stored producer an update changes (``None`` when created).
    before: Producer | None = None


@dataclass(frozen=True, slots=True)
class PlannedProduct:
    """A product to create or update, and the initial stock it receives."""

    action: Action
    product: Product
    ref: RowRef
    changed: tuple[str, ...] = ()
    initial_stock: int | None = None
    #: The stored product an update changes (``None`` when created or not read).
    before: Product | None = None


@dataclass
class ImportPlan:
    """Everything an import would change, plus notices that do not block it.

    A plan put together chunk by chunk (:meth:`absorb`) may hold only the first of
    its products and receipts; the ones it let go are still counted.
    """

    producers: list[PlannedProducer] = field(default_factory=list)
    products: list[PlannedProduct] = field(default_factory=list)
    receipts: list[NewMovement] = field(default_factory=list)
    unchanged_producers: int = 0
    unchanged_products: int = 0
    notices: list[InputIssue] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    #: Planned products counted but not held in ``products``, by action.
    products_not_held: dict[Action, int] = field(default_factory=dict)
    #: Receipts counted but not held in ``receipts``, and the units they receive.
    receipts_not_held: int = 0
    units_not_held: int = 0

    def count(self, kind: str, action: Action) -> int:
        """How many ``kind`` ("producers" or "products") records get ``action``."""
        if kind == "producers":
            return sum(1 for item in self.producers if item.action is action)
        held = sum(1 for item in self.products if item.action is action)
        return held + self.products_not_held.get(action, 0)

    @property
    def changes_anything(self) -> bool:
        """False when applying the plan would write nothing."""
        return bool(
            self.producers
            or self.products
            or self.receipts
            or any(self.products_not_held.values())
            or self.receipts_not_held
        )

    def absorb(self, part: ImportPlan, hold: int | None = None) -> None:
        """Add ``part`` (the plan of more rows) to this plan, holding at most
        ``hold`` planned products and receipts in all (``None``: every one)."""
        self.producers.extend(part.producers)
        self.unchanged_producers += part.unchanged_producers
        self.unchanged_products += part.unchanged_products
        self.notices.extend(part.notices)
        self.issues.extend(part.issues)
        room = len(part.products) if hold is None else hold - len(self.products)
        self.products.extend(part.products[: max(room, 0)])
        for item in part.products[max(room, 0) :]:
            counted = self.products_not_held.get(item.action, 0)
            self.products_not_held[item.action] = counted + 1
        for action, count in part.products_not_held.items():
            counted = self.products_not_held.get(action, 0)
            self.products_not_held[action] = counted + count
        room = len(part.receipts) if hold is None else hold - len(self.receipts)
        self.receipts.extend(part.receipts[: max(room, 0)])
        for receipt in part.receipts[max(room, 0) :]:
            self.receipts_not_held += 1
            self.units_not_held += receipt.on_hand_delta
        self.receipts_not_held += part.receipts_not_held
        self.units_not_held += part.units_not_held

    def summary(self) -> dict[str, int]:
        """Counts by kind and action, for tables and JSON."""
        return {
            "producers_created": self.count("producers", Action.CREATE),
            "producers_updated": self.count("producers", Action.UPDATE),
            "producers_unchanged": self.unchanged_producers,
            "products_created": self.count("products", Action.CREATE),
            "products_updated": self.count("products", Action.UPDATE),
            "products_unchanged": self.unchanged_products,
            "stock_receipts": len(self.receipts) + self.receipts_not_held,
            "stock_received": sum(m.on_hand_delta for m in self.receipts)
            + self.units_not_held,
            "notices": len(self.notices),
        }


_PRODUCER_FIELDS = (
    "name",
    "kind",
    "province",
    "regency",
    "sentra",
    "institution",
    "business_id",
)


def plan_import(
    catalogue: ValidatedCatalogue,
    producers: Mapping[str, Producer],
    index: Mapping[str, ProductIndexEntry],
    stored: Mapping[str, Product],
    on_hand: Mapping[str, int],
    actor: str,
) -> ImportPlan:
    """Plan an import.

    Args:
        catalogue: validated rows (its issues and notices are carried into the plan).
        producers: stored producers by code.
        index: stored SKU key → (SKU, fingerprint), for every product.
        stored: stored products whose fingerprint differs from the file's row.
        on_hand: on-hand stock by SKU key, for SKUs that have movements.
        actor: who imports, recorded on the stock receipts.
    """
    plan = ImportPlan(
        issues=list(catalogue.issues),
        notices=list(catalogue.notices),
        unchanged_products=catalogue.rows_known_unchanged,
    )
    for row in catalogue.producers:
        existing = producers.get(row.producer.code)
        if existing is None:
            plan.producers.append(PlannedProducer(Action.CREATE, row.producer, row.ref))
        elif existing == row.producer:
            plan.unchanged_producers += 1
        else:
            changed = tuple(
                f
                for f in _PRODUCER_FIELDS
                if getattr(existing, f) != getattr(row.producer, f)
            )
            plan.producers.append(
                PlannedProducer(
                    Action.UPDATE, row.producer, row.ref, changed, before=existing
                )
            )
    known_producers = set(producers) | {r.producer.code for r in catalogue.producers}

    for record in catalogue.products:
        product = record.product
        key = sku_key(product.sku)
        if product.producer_code not in known_producers:
            plan.issues.append(
                InputIssue(
                    record.ref.source,
                    record.ref.row,
                    "producer_code",
                    product.producer_code,
                    "a producer code from a producers sheet or one already "
                    "imported (see `ikm-sync status`)",
                )
            )
            continue
        entry = index.get(key)
        if entry is not None and entry.sku != product.sku:
            plan.issues.append(
                InputIssue(
                    record.ref.source,
                    record.ref.row,
                    "sku",
                    product.sku,
                    f"the SKU exactly as stored, {entry.sku!r}: SKUs that differ "
                    f"only by case or spaces name the same product",
                )
            )
            continue
        initial = _initial_stock(
            record.stock, key, entry is None, on_hand, record.ref, plan
        )
        if initial:
            plan.receipts.append(
                NewMovement(
                    sku=product.sku,
                    reason=MovementReason.RECEIPT,
                    on_hand_delta=initial,
                    reserved_delta=0,
                    idempotency_key=INITIAL_STOCK_KEY.format(key=key),
                    actor=actor,
                    reference=str(record.ref)[-255:],  # the row number survives
                    note="initial stock from catalogue import",
                )
            )
        if entry is None:
            plan.products.append(
                PlannedProduct(
                    Action.CREATE, product, record.ref, initial_stock=initial
                )
            )
        elif entry.fingerprint == product.fingerprint:
            plan.unchanged_products += 1
        else:
            before = stored.get(key)
            if before is None:
                plan.products.append(
                    PlannedProduct(Action.UPDATE, product, record.ref, ("unknown",))
                )
                continue
            product = keep_absent_fields(product, before, record.columns)
            changed = tuple(changed_fields(before, product))
            if changed:
                plan.products.append(
                    PlannedProduct(
                        Action.UPDATE, product, record.ref, changed, before=before
                    )
                )
            else:
                plan.unchanged_products += 1
    return plan


#: Product fields filled from optional columns, and the columns that carry them.
_FIELD_COLUMNS: dict[str, frozenset[str]] = {
    "description": frozenset({"description"}),
    "category": frozenset({"category"}),
    "dimensions": frozenset({"length_cm", "width_cm", "height_cm"}),
    "image_urls": frozenset({"image_urls"}),
    "condition": frozenset({"condition"}),
    "status": frozenset({"status"}),
    "provenance": frozenset({"provenance"}),
}


def keep_absent_fields(
    product: Product, stored: Product, columns: frozenset[str]
) -> Product:
    """``product`` with the stored value of every field whose column the sheet lacks."""
    kept = {
        name: getattr(stored, name)
        for name, carriers in _FIELD_COLUMNS.items()
        if not carriers & columns
    }
    return replace(product, **kept) if kept else product


def _initial_stock(
    stock: int | None,
    key: str,
    is_new: bool,
    on_hand: Mapping[str, int],
    ref: RowRef,
    plan: ImportPlan,
) -> int | None:
    if stock is None:
        return None
    if is_new or key not in on_hand:
        return stock or None
    if on_hand[key] != stock:
        plan.notices.append(
            InputIssue(
                ref.source,
                ref.row,
                "stock",
                str(stock),
                f"initial stock only; this SKU already has stock movements "
                f"(on hand {on_hand[key]}), so the column is ignored: use "
                f"`ikm-sync stock adjust` to change it",
            )
        )
    return None
