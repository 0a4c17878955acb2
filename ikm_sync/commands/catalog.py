"""``ikm-sync catalog``: import and export the catalogue spreadsheets."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from core.catalogue.export import (
    PRODUCER_COLUMNS,
    PRODUCT_COLUMNS,
    producer_row,
    product_row,
    write_csv,
    write_xlsx,
)
from core.catalogue.plan import ImportPlan
from core.catalogue.sheets import Sheet, read_catalogue_file
from core.errors import InputIssue, InputRejectedError
from core.services.catalogue import export_catalogue, import_catalogue
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._gc import cyclic_gc_paused
from ikm_sync._output import (
    ISSUE_COLUMNS,
    console,
    emit_json,
    issue_json,
    issue_rows,
    table,
)


class SheetKind(StrEnum):
    """The two sheets of a catalogue."""

    PRODUCTS = "products"
    PRODUCERS = "producers"


app = typer.Typer(
    help="Import and export the catalogue spreadsheets.", no_args_is_help=True
)


def _read(files: list[Path]) -> list[Sheet]:
    sheets: list[Sheet] = []
    issues: list[InputIssue] = []
    for path in files:
        found, problems = read_catalogue_file(path)
        sheets.extend(found)
        issues.extend(problems)
    if issues:
        raise InputRejectedError(issues)
    return sheets


def _progress_bar(total: int) -> tuple[Progress, Callable[[int], None]]:
    progress = Progress(
        TextColumn("validating rows"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
        disable=not console(stderr=True).is_terminal or total < 5000,
    )
    task = progress.add_task("validate", total=total)
    return progress, lambda done: progress.update(task, completed=done)


def _plan_payload(plan: ImportPlan, applied: bool) -> dict[str, Any]:
    return {
        "applied": applied,
        "summary": plan.summary(),
        "producers": [
            {
                "action": p.action.value,
                "code": p.producer.code,
                "row": str(p.ref),
                "changed": list(p.changed),
            }
            for p in plan.producers
        ],
        "products": [
            {
                "action": p.action.value,
                "sku": p.product.sku,
                "row": str(p.ref),
                "changed": list(p.changed),
                "initial_stock": p.initial_stock,
            }
            for p in plan.products
        ],
        "notices": [issue_json(n) for n in plan.notices],
    }


@app.command("import")
def import_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV or XLSX files: producers and/or products sheets (see README).",
            dir_okay=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    actor: ActorOption = None,
    show: Annotated[int, typer.Option(min=0, help="Changed rows to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate every row, then create or update producers and products atomically.

    If any row is bad nothing is written, and a table names the file, row, column,
    value and what was expected (exit code 1). Re-importing the same file changes
    nothing. The stock column is initial stock: it becomes a ledger receipt for SKUs
    that have no stock movements yet.
    """
    app_state = state(ctx)
    app_state.json_errors = as_json
    who = who_acts(app_state, actor, notice=not dry_run)
    runtime = app_state.runtime()
    sheets = _read(files)
    progress, advance = _progress_bar(sum(len(s) for s in sheets))
    with cyclic_gc_paused(), progress:
        report = import_catalogue(
            runtime.uow(),
            sheets,
            actor=who.name,
            clock=runtime.clock,
            dry_run=dry_run,
            on_progress=advance,
            hold=None if as_json else show,  # JSON lists every change
        )
    plan = report.plan
    if as_json:
        emit_json(_plan_payload(plan, report.applied and not dry_run))
        return
    out = console()
    summary = plan.summary()
    heading = "Import plan (dry run, nothing written)" if dry_run else "Imported"
    out.print(
        table(
            heading,
            ("", "created", "updated", "unchanged"),
            [
                (
                    "producers",
                    summary["producers_created"],
                    summary["producers_updated"],
                    summary["producers_unchanged"],
                ),
                (
                    "products",
                    summary["products_created"],
                    summary["products_updated"],
                    summary["products_unchanged"],
                ),
            ],
        )
    )
    if summary["stock_receipts"]:
        out.print(
            f"initial stock: {summary['stock_receipts']} receipt(s), "
            f"{summary['stock_received']} unit(s)"
        )
    changed = [p for p in plan.products if p.changed or p.action.value == "create"]
    changes = summary["products_created"] + summary["products_updated"]
    if changed and show:
        out.print(
            table(
                f"Product changes (first {min(show, len(changed))} of {changes})",
                ("action", "sku", "name", "row", "changed fields", "initial stock"),
                [
                    (
                        p.action.value,
                        p.product.sku,
                        p.product.name,
                        str(p.ref),
                        ", ".join(p.changed),
                        p.initial_stock or "",
                    )
                    for p in changed[:show]
                ],
            )
        )
    if plan.notices:
        out.print(table("Notices", ISSUE_COLUMNS, issue_rows(plan.notices)))
    if not plan.changes_anything:
        out.print("nothing to change: the store already matches the file(s)")


@app.command("export")
def export_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A .csv or .xlsx file to write.", dir_okay=False)
    ],
    kind: Annotated[
        SheetKind, typer.Option(help="For CSV: which sheet to write (XLSX holds both).")
    ] = SheetKind.PRODUCTS,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing file.")
    ] = False,
) -> None:
    """Write the catalogue in the shape `catalog import` reads (stock = on hand)."""
    app_state = state(ctx)
    suffix = file.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise InputRejectedError(
            [
                InputIssue(
                    str(file), None, None, None, "a file name ending in .csv or .xlsx"
                )
            ]
        )
    if file.exists() and not force:
        raise InputRejectedError(
            [
                InputIssue(
                    str(file),
                    None,
                    None,
                    None,
                    "a new file; it exists already (add --force to overwrite)",
                )
            ]
        )
    producers, products = export_catalogue(app_state.runtime().uow())
    producer_rows = [producer_row(p) for p in producers]
    product_rows = [product_row(p, on_hand) for p, on_hand in products]
    try:
        if suffix == ".xlsx":
            write_xlsx(
                file,
                {
                    "producers": (PRODUCER_COLUMNS, producer_rows),
                    "products": (PRODUCT_COLUMNS, product_rows),
                },
            )
            written = (
                f"{len(producer_rows)} producer(s) and {len(product_rows)} product(s)"
            )
        elif kind is SheetKind.PRODUCERS:
            write_csv(file, PRODUCER_COLUMNS, producer_rows)
            written = f"{len(producer_rows)} producer(s)"
        else:
            write_csv(file, PRODUCT_COLUMNS, product_rows)
            written = f"{len(product_rows)} product(s)"
    except OSError as exc:
        raise InputRejectedError(
            [
                InputIssue(
                    str(file),
                    None,
                    None,
                    None,
                    f"a path that can be written: {exc.strerror or exc}",
                )
            ]
        ) from None
    console().print(f"wrote {written} to {file}", markup=False)
