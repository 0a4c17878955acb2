"""Catalogue: producers and products in scope, a product's stock traced to its
movements and its listings, stock adjustments, and spreadsheet imports previewed
before they are applied."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from core.catalogue.plan import ImportPlan
from core.catalogue.scope import out_of_scope
from core.catalogue.sheets import Sheet, read_catalogue_file
from core.domain.catalogue import ProducerKind, ProductStatus
from core.domain.stock import MovementReason
from core.errors import DomainError, InputIssue, InputRejectedError
from core.services.catalogue import import_catalogue
from core.services.stock import MANUAL_REASONS, adjust_stock
from core.store.views.catalogue import (
    ProducerFilter,
    ProductFilter,
    choices,
    producers_page,
    product_detail,
    products_page,
)
from web.render import render
from web.security import CSRF, Viewer, changer, viewer
from web.uploads import (
    MAX_FILE_BYTES,
    MAX_UNPACKED_BYTES,
    Upload,
    UploadGoneError,
    UploadStore,
    UploadTooLargeError,
    UploadUnpacksTooLargeError,
    check_unpacked,
)

router = APIRouter(dependencies=CSRF)

#: The form fields of an import, and the sheet each holds.
IMPORT_FIELDS = ("producers", "products")
#: Planned rows listed on a preview (all are counted).
PREVIEW_ROWS = 200
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DONE = re.compile(r"^\d{1,9}\.\d{1,9}\.\d{1,9}\.\d{1,9}$")
_Text = Annotated[str, Query(max_length=100)]
_PageNumber = Annotated[int, Query(ge=1, le=100_000)]


def _sessions(request: Request) -> Any:
    return request.app.state.console.runtime.session_factory


def _choice(value: str, allowed: set[str]) -> str:
    return value if value in allowed else ""


@router.get("/catalogue")
def catalogue(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    q: _Text = "",
    producer: _Text = "",
    kind: _Text = "",
    province: _Text = "",
    status: _Text = "",
    page: _PageNumber = 1,
    pq: _Text = "",
    pkind: _Text = "",
    pprovince: _Text = "",
    pinstitution: _Text = "",
    ppage: _PageNumber = 1,
    imported: _Text = "",
) -> Response:
    """Producers and products in scope, each list filtered and paginated."""
    query = dict(request.query_params)
    query.pop("imported", None)

    def link(**changes: object) -> str:
        return "/catalogue?" + urlencode({**query, **changes})

    done = [int(n) for n in imported.split(".")] if _DONE.match(imported) else None
    kinds = {k.value for k in ProducerKind}
    products_wanted = ProductFilter(
        text=q.strip(),
        producer=producer,
        kind=_choice(kind, kinds),
        province=province,
        status=_choice(status, {s.value for s in ProductStatus}),
    )
    producers_wanted = ProducerFilter(
        text=pq.strip(),
        kind=_choice(pkind, kinds),
        province=pprovince,
        institution=pinstitution,
    )
    sessions = _sessions(request)
    return render(
        request,
        "catalogue/index.html",
        {
            "products": products_page(sessions, who.visible, products_wanted, page),
            "producers": producers_page(sessions, who.visible, producers_wanted, ppage),
            "choices": choices(sessions, who.visible),
            "pf": products_wanted,
            "rf": producers_wanted,
            "link": link,
            "imported": done,
            "kinds": sorted(kinds),
            "statuses": [s.value for s in ProductStatus],
            "may_change": who.visible.may_change,
        },
    )


def _product_page(
    request: Request,
    who: Viewer,
    sku: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = product_detail(_sessions(request), who.visible, sku)
    return render(
        request,
        "catalogue/product.html",
        {
            "p": detail,
            "may_change": who.visible.may_change,
            "form_key": secrets.token_urlsafe(24),
            "reasons": [r.value for r in MANUAL_REASONS],
            "error": error,
            "form": form or {},
            "moved": request.query_params.get("moved"),
            "sku_path": quote(detail.sku, safe=""),
        },
        status_code=status_code,
    )


@router.get("/catalogue/products/{sku:path}")
def product(
    request: Request, who: Annotated[Viewer, Depends(viewer)], sku: str
) -> Response:
    """A product in scope: fields, stock and its movements, listings, and the
    stock adjustment form for those who may change it."""
    return _product_page(request, who, sku)


@router.post("/catalogue/products/{sku:path}/stock")
def adjust(
    request: Request,
    who: Annotated[Viewer, Depends(changer)],
    sku: str,
    delta: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record a manual stock movement once per form (its key), then show the
    product again."""
    detail = product_detail(_sessions(request), who.visible, sku)  # 404 out of scope
    form = {"delta": delta, "reason": reason, "note": note}

    def refuse(message: str, status_code: int = 422) -> Response:
        return _product_page(
            request, who, sku, error=message, form=form, status_code=status_code
        )

    try:
        amount = int(delta.strip())
    except ValueError:
        return refuse(
            f"Change: got {delta!r}; expected a whole number other than 0, "
            "such as -2 or 5"
        )
    allowed = {r.value for r in MANUAL_REASONS}
    if reason not in allowed:
        return refuse(
            f"Kind: got {reason!r}; expected one of {', '.join(sorted(allowed))}"
        )
    if not note.strip():
        return refuse("Reason: expected a text saying why the stock changes")
    if not _FORM_KEY.match(key):
        return refuse("The form has expired; reload the page and try again.")
    console = request.app.state.console
    try:
        adjust_stock(
            console.units(),
            sku=detail.sku,
            delta=amount,
            note=note,
            actor=who.user.actor,
            clock=console.clock,
            reason=MovementReason(reason),
            idempotency_key=f"console:{who.user.username}:{key}",
        )
    except DomainError as exc:
        return refuse(str(exc), 409)
    return RedirectResponse(
        f"/catalogue/products/{quote(detail.sku, safe='')}?moved=1", status_code=303
    )


# ------------------------------------------------------------------------ import


def _store(request: Request) -> UploadStore:
    root = getattr(request.app.state, "catalogue_uploads", None)
    if root is None:
        root = Path(tempfile.gettempdir()) / f"ikm-sync-uploads-{os.getuid()}"
    return UploadStore(Path(root))


@dataclass
class Preview:
    """What an import would do, or why it cannot."""

    issues: list[InputIssue] = field(default_factory=list)
    plan: ImportPlan | None = None


def plan_digest(plan: ImportPlan) -> str:
    """A digest of everything ``plan`` changes (to apply only what was previewed)."""
    shown = {
        "summary": plan.summary(),
        "producers": [
            [p.action.value, str(p.producer.code), list(p.changed)]
            for p in plan.producers
        ],
        "products": [
            [p.action.value, str(p.product.sku), list(p.changed), p.initial_stock]
            for p in plan.products
        ],
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


class PlanChangedError(Exception):
    """The import would now change something other than what was previewed."""


def _sheets(upload: Upload) -> tuple[list[Sheet], list[InputIssue]]:
    sheets: list[Sheet] = []
    issues: list[InputIssue] = []
    for kept in upload.files:
        found, problems = read_catalogue_file(kept.path)
        sheets.extend(found)
        issues.extend(problems)
    return sheets, issues


def _scope_issues(request: Request, who: Viewer, upload: Upload) -> list[InputIssue]:
    if who.visible.everything:
        return []
    sheets, issues = _sheets(upload)  # read afresh: a workbook's rows read once
    if issues:
        return issues
    with request.app.state.console.units() as uow:

        def owners(keys: list[str]) -> dict[str, str]:
            found = uow.products.get_many(keys)
            return {key: str(p.producer_code) for key, p in found.items()}

        return out_of_scope(sheets, who.visible, uow.producers.get_all(), owners=owners)


def _preview(request: Request, who: Viewer, upload: Upload) -> Preview:
    sheets, issues = _sheets(upload)
    if issues:
        return Preview(issues)
    issues = _scope_issues(request, who, upload)
    console = request.app.state.console
    sheets, _ = _sheets(upload)
    try:
        report = import_catalogue(
            console.units(),
            sheets,
            actor=who.user.actor,
            clock=console.clock,
            dry_run=True,
        )
    except InputRejectedError as exc:
        return Preview(issues + list(exc.issues))
    if issues:
        return Preview(issues)
    return Preview(plan=report.plan)


def _import_page(
    request: Request,
    *,
    preview: Preview | None = None,
    token: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "catalogue/import.html",
        {
            "preview": preview,
            "summary": preview.plan.summary() if preview and preview.plan else None,
            "token": token,
            "error": error,
            "shown": PREVIEW_ROWS,
            "limit_mb": MAX_FILE_BYTES // (1024 * 1024),
        },
        status_code=status_code,
    )


@router.get("/catalogue/import")
def import_form(
    request: Request, _who: Annotated[Viewer, Depends(changer)]
) -> Response:
    """The upload form."""
    return _import_page(request)


async def _uploaded(form: FormData) -> list[tuple[str, str, bytes]]:
    files: list[tuple[str, str, bytes]] = []
    for name in IMPORT_FIELDS:
        item = form.get(name)
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        content = await item.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise UploadTooLargeError(item.filename)
        check_unpacked(item.filename, content)
        if content:
            files.append((name, item.filename, content))
    return files


@router.post("/catalogue/import")
async def import_preview(
    request: Request, who: Annotated[Viewer, Depends(viewer)]
) -> Response:
    """Keep the uploaded files and show what importing them would change; nothing
    is written."""
    form = await request.form()  # read already by the CSRF check: closed here
    try:
        who.visible.require_change()
        return await _import_preview(request, who, form)
    finally:
        await form.close()


async def _import_preview(request: Request, who: Viewer, form: FormData) -> Response:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    try:
        files = await _uploaded(form)
    except UploadUnpacksTooLargeError as exc:
        unpacked = MAX_UNPACKED_BYTES // (1024 * 1024)
        return _import_page(
            request,
            error=f"{exc}: the workbook unpacks to more than {unpacked} MB; expected "
            "a workbook of the catalogue's sheets only (save it again, or import "
            "the sheets as CSV files)",
            status_code=413,
        )
    except UploadTooLargeError as exc:
        return _import_page(
            request,
            error=f"{exc}: the file is larger than {limit} MB; expected at most "
            f"{limit} MB per file (split it, or import producers and products "
            "separately)",
            status_code=413,
        )
    if not files:
        return _import_page(
            request,
            error="Expected a producers or products file (CSV or XLSX).",
            status_code=422,
        )
    store = _store(request)

    def work() -> tuple[Preview, str]:
        upload = store.keep(who.user.username, files)
        preview = _preview(request, who, upload)
        if preview.plan is None:
            store.discard(upload.token)
            return preview, ""
        store.seal(upload, plan_digest(preview.plan))
        return preview, upload.token

    preview, token = await run_in_threadpool(work)
    return _import_page(
        request,
        preview=preview,
        token=token,
        status_code=422 if preview.issues else 200,
    )


@router.post("/catalogue/import/apply")
def import_apply(
    request: Request,
    who: Annotated[Viewer, Depends(changer)],
    token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Apply exactly the previewed import of the files kept under ``token``."""
    store = _store(request)
    try:
        upload = store.claim(token, who.user.username)
    except UploadGoneError:
        return _import_page(
            request,
            error="This preview is no longer available (expired, already applied "
            "or its files changed); upload the files again.",
            status_code=409,
        )
    issues = _scope_issues(request, who, upload)
    if issues:
        store.discard(token)
        return _import_page(request, preview=Preview(issues), status_code=422)
    console = request.app.state.console

    def confirm(plan: ImportPlan) -> None:
        if plan_digest(plan) != upload.preview:
            raise PlanChangedError

    sheets, _ = _sheets(upload)
    try:
        report = import_catalogue(
            console.units(),
            sheets,
            actor=who.user.actor,
            clock=console.clock,
            confirm=confirm,
        )
    except InputRejectedError as exc:
        store.discard(token)
        return _import_page(request, preview=Preview(list(exc.issues)), status_code=422)
    except PlanChangedError:
        store.discard(token)
        return _import_page(
            request,
            error="The catalogue changed since the preview, so the import would now "
            "do something else; nothing was imported. Upload the files again to see "
            "a new preview.",
            status_code=409,
        )
    store.discard(token)
    summary = report.plan.summary()
    return RedirectResponse(
        "/catalogue?imported="
        + quote(
            f"{summary['producers_created']}.{summary['producers_updated']}."
            f"{summary['products_created']}.{summary['products_updated']}"
        ),
        status_code=303,
    )
