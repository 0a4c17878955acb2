"""Importing and exporting the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from core.audit.changes import producer_event, product_event
from core.catalogue.plan import Action, ImportPlan, plan_import
from core.catalogue.sheets import Sheet
from core.catalogue.validate import ProductRecord, ValidatedCatalogue, validate_sheets
from core.domain.catalogue import Producer, Product
from core.errors import InputRejectedError
from core.ports import Clock, UnitOfWork

log = structlog.get_logger(__name__)


#: Product rows per chunk: planned against the store and written together. Kept to a
#: few thousand so that the store looks a chunk's SKUs up by key: above that, it
#: reads whole tables instead, and reading a growing table once per chunk would make
#: a large import quadratic.
CHUNK_ROWS = 3_000
#: Up to this many product rows, the records validated first are the ones written
#: (about 2 KB each). A larger import keeps only a few hundred bytes per row while it
#: is checked, then validates its rows again chunk by chunk as it writes them, so its
#: memory does not grow with the file.
HELD_ROWS = 100_000


@dataclass(frozen=True)
class ImportReport:
    """What an import planned and whether it was written."""

    plan: ImportPlan
    applied: bool
    receipts_recorded: int = 0


def import_catalogue(
    uow: UnitOfWork,
    sheets: Sequence[Sheet],
    *,
    actor: str,
    clock: Clock,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
    hold: int | None = None,
    confirm: Callable[[ImportPlan], None] | None = None,
) -> ImportReport:
    """Validate every row, plan against the store and, unless ``dry_run``, apply the
    plan in one transaction.

    Every row is validated (outside any transaction) before anything is written; then
    the products are planned against the store and written chunk by chunk in one
    transaction, committed only when no row of any chunk has an issue. Rows identical
    to the ones their products were last imported from are known unchanged without
    being parsed again. The report's plan holds at most ``hold`` planned products and
    receipts (``None``: all); its counts cover every row. ``confirm``, when given, is
    shown the whole plan before anything is committed; raising refuses it (nothing
    is written), so a caller can apply only the plan a person saw.

    Raises:
        InputRejectedError: any row is invalid, names an unknown producer or clashes
            with a stored SKU. Nothing is written.
    """
    with uow:
        known_rows = uow.products.source_digests()
    held: list[list[ProductRecord]] | None = []
    rows_held = 0
    # A sheet that can be read only once is held whole.
    limit = None if any(isinstance(s.rows, Iterator) for s in sheets) else HELD_ROWS

    def keep(records: list[ProductRecord]) -> None:
        nonlocal held, rows_held
        rows_held += len(records)
        if held is not None and (limit is None or rows_held <= limit):
            held.append(records)
        else:
            held = None  # validated again while written

    catalogue = validate_sheets(sheets, on_progress, known_rows, keep, CHUNK_ROWS)
    with uow:
        uow.products.hold_for_import()
        stored_producers = uow.producers.get_all()
        plan = plan_import(
            catalogue,
            producers=stored_producers,
            index={},
            stored={},
            on_hand={},
            actor=actor,
        )
        producers = {**stored_producers}
        producers.update((r.producer.code, r.producer) for r in catalogue.producers)
        writing = not dry_run and not plan.issues
        now = clock.now()
        if writing:
            uow.producers.add_many(_producers(plan, Action.CREATE), now)
            uow.producers.update_many(_producers(plan, Action.UPDATE), now)
            uow.audit.record(
                *(
                    producer_event(p.producer, p.before, p.changed, actor=actor)
                    for p in plan.producers
                )
            )
        recorded = 0

        def apply(records: list[ProductRecord]) -> None:
            nonlocal recorded
            part = _plan_products(uow, records, producers, actor)
            plan.absorb(part, hold)
            if writing and not plan.issues:
                recorded += _write_products(uow, part, records, now, actor)

        if held is None:
            validate_sheets(sheets, None, known_rows, apply, CHUNK_ROWS)
        else:
            while held:
                apply(held.pop(0))
        if plan.issues:
            log.warning(
                "catalog.import_rejected",
                issues=len(plan.issues),
                rows=catalogue.rows_read,
            )
            raise InputRejectedError(plan.issues)
        if confirm is not None and not dry_run:
            confirm(plan)
        if dry_run or not plan.changes_anything:
            log.info("catalog.import_planned", dry_run=dry_run, **plan.summary())
            return ImportReport(plan=plan, applied=not dry_run)
        uow.commit()
    log.info(
        "catalog.imported", actor=actor, receipts_recorded=recorded, **plan.summary()
    )
    return ImportReport(plan=plan, applied=True, receipts_recorded=recorded)


def _plan_products(
    uow: UnitOfWork,
    records: list[ProductRecord],
    producers: Mapping[str, Producer],
    actor: str,
) -> ImportPlan:
    """The plan of one chunk of product records, against the stored products of
    their SKUs only."""
    index = uow.products.index(r.product.key for r in records)
    differing = [
        r.product.key
        for r in records
        if r.product.key in index
        and index[r.product.key].fingerprint != r.product.fingerprint
    ]
    stocked = [
        r.product.key for r in records if r.product.key in index and r.stock is not None
    ]
    # Whether initial stock applies depends on these levels: hold them until commit.
    uow.stock.lock(stocked)
    on_hand = {k: level.on_hand for k, level in uow.stock.levels(stocked).items()}
    return plan_import(
        ValidatedCatalogue(products=records),
        producers=producers,
        index=index,
        stored=uow.products.get_many(differing),
        on_hand=on_hand,
        actor=actor,
    )


def _write_products(
    uow: UnitOfWork,
    part: ImportPlan,
    records: list[ProductRecord],
    at: datetime,
    actor: str,
) -> int:
    """Write one chunk's products, their audit events and receipts; returns the
    receipts recorded."""
    digests = {r.product.key: r.digest for r in records if r.digest is not None}
    uow.products.add_many(_products(part, Action.CREATE), at, digests)
    uow.products.update_many(_products(part, Action.UPDATE), at, digests)
    uow.audit.record(
        *(
            product_event(p.product, p.before, p.changed, actor=actor)
            for p in part.products
        )
    )
    return uow.stock.record_many(part.receipts, at)


def _producers(plan: ImportPlan, action: Action) -> list[Producer]:
    return [p.producer for p in plan.producers if p.action is action]


def _products(plan: ImportPlan, action: Action) -> list[Product]:
    return [p.product for p in plan.products if p.action is action]


def export_catalogue(
    uow: UnitOfWork,
) -> tuple[list[Producer], list[tuple[Product, int]]]:
    """Every producer, and every product with its on-hand stock, ordered for export."""
    with uow:
        producers = list(uow.producers.get_all().values())
        levels = uow.stock.levels()
        products = [
            (product, levels[product.key].on_hand if product.key in levels else 0)
            for product in uow.products.iter_all()
        ]
    log.info("catalog.exported", producers=len(producers), products=len(products))
    return producers, products
