"""Importing and exporting the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from core.catalogue.plan import Action, ImportPlan, plan_import
from core.catalogue.sheets import Sheet
from core.catalogue.validate import validate_sheets
from core.domain.catalogue import Producer, Product
from core.errors import InputRejectedError
from core.ports import Clock, UnitOfWork

log = structlog.get_logger(__name__)


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
) -> ImportReport:
    """Validate every row, plan against the store and, unless ``dry_run``, apply the
    plan in one transaction.

    Rows identical to the ones their products were last imported from are known
    unchanged without being parsed again; validation runs outside any transaction.

    Raises:
        InputRejectedError: any row is invalid, names an unknown producer or clashes
            with a stored SKU. Nothing is written.
    """
    with uow:
        known_rows = {
            key: entry.source_digest
            for key, entry in uow.products.index().items()
            if entry.source_digest is not None
        }
    catalogue = validate_sheets(sheets, on_progress, known_rows)
    with uow:
        index = uow.products.index()
        records = {r.product.key: r for r in catalogue.products}
        differing = [
            key
            for key, record in records.items()
            if key in index and index[key].fingerprint != record.product.fingerprint
        ]
        stocked = [
            key
            for key, record in records.items()
            if key in index and record.stock is not None
        ]
        # Whether initial stock applies depends on these levels: hold them until commit.
        uow.stock.lock(stocked)
        on_hand = {k: level.on_hand for k, level in uow.stock.levels(stocked).items()}
        plan = plan_import(
            catalogue,
            producers=uow.producers.get_all(),
            index=index,
            stored=uow.products.get_many(differing),
            on_hand=on_hand,
            actor=actor,
        )
        if plan.issues:
            log.warning(
                "catalog.import_rejected",
                issues=len(plan.issues),
                rows=catalogue.rows_read,
            )
            raise InputRejectedError(plan.issues)
        if dry_run or not plan.changes_anything:
            log.info("catalog.import_planned", dry_run=dry_run, **plan.summary())
            return ImportReport(plan=plan, applied=not dry_run)
        now = clock.now()
        digests = {key: r.digest for key, r in records.items() if r.digest is not None}
        uow.producers.add_many(_producers(plan, Action.CREATE), now)
        uow.producers.update_many(_producers(plan, Action.UPDATE), now)
        uow.products.add_many(_products(plan, Action.CREATE), now, digests)
        uow.products.update_many(_products(plan, Action.UPDATE), now, digests)
        recorded = uow.stock.record_many(plan.receipts, now)
        uow.commit()
    log.info(
        "catalog.imported", actor=actor, receipts_recorded=recorded, **plan.summary()
    )
    return ImportReport(plan=plan, applied=True, receipts_recorded=recorded)


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
