"""Audit: the event log (filtered, paged by keyset), verification of the chain,
the trace of a SKU, and streamed exports of events and runs. For auditors and
admins only: every route depends on ``auditing`` (officers: 403, before anything
is read).

The log, trace and exports read through the same services and store queries as
``ikm-sync audit log``, ``audit trace`` and ``runs export``, so a download is the
file the command line writes for the same filters. Each export is recorded as an
``audit.exported`` event (actor the user, the filters and the rows written): taking
the trail out of the system is something an auditor must be able to see later.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from core.audit.query import EventFilter, Period, parse_instant, stored_subject
from core.domain.ids import AccountId
from core.domain.sync import SyncKind
from core.errors import StoreError, UnknownSkuError
from core.services.audit_read import (
    EVENT_COLUMNS,
    RUN_ITEM_COLUMNS,
    audit_log,
    event_record,
    event_row,
    export_runs,
    record_export,
    run_item_rows,
    run_record,
)
from core.services.trace import trace_findings, trace_record, trace_stock
from core.store.views.audit import Cursor, event_page
from web.console import Console
from web.exports import Counted, csv_chunks, json_line_chunks
from web.render import render
from web.security import CSRF, Viewer, auditing
from web.verifying import Verifier

router = APIRouter(dependencies=CSRF)
log = structlog.get_logger(__name__)

#: The filters of the log and its export, in the form's order.
EVENT_FILTERS = ("since", "until", "actor", "subject", "account", "kind")
#: The filters of the runs export.
RUN_FILTERS = ("since", "until", "account", "kind")
#: A before/after longer than this is folded (shown whole on opening).
FOLD_AT = 120
_EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_FILENAME_UNSAFE = re.compile(r"[^0-9A-Za-z.-]+")
_VERIFIER_LOCK = threading.Lock()


class FieldError(ValueError):
    """Bad input in one field of the request."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _given(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The filters given (non-blank), trimmed."""
    found = {}
    for name in names:
        value = request.query_params.get(name, "").strip()
        if value:
            found[name] = value
    return found


def _period(given: Mapping[str, str]) -> Period:
    bounds: dict[str, datetime | None] = {"since": None, "until": None}
    for name in ("since", "until"):
        if name in given:
            try:
                bounds[name] = parse_instant(given[name], end=name == "until")
            except ValueError as exc:
                raise FieldError(name, str(exc)) from None
    try:
        return Period(bounds["since"], bounds["until"])
    except ValueError as exc:
        raise FieldError("until", str(exc)) from None


def event_filter(given: Mapping[str, str]) -> EventFilter:
    """The :class:`EventFilter` of the form's values, as ``audit log`` builds it.

    Raises:
        FieldError: a value is not what the field expects.
    """
    period = _period(given)
    subject = given.get("subject")
    try:
        return EventFilter(
            period=period,
            actor=given.get("actor"),
            subject=None if subject is None else stored_subject(subject),
            account=given.get("account"),
            kind=given.get("kind"),
        )
    except ValueError as exc:
        field = "subject" if "--subject" in str(exc) else "kind"
        raise FieldError(field, str(exc).replace(f"--{field} ", "")) from None


def _cursor(text: str, field: str) -> Cursor:
    refused = FieldError(
        field, f"{text!r} is not a place in the log; expected <time>,<id>"
    )
    at, comma, id_ = text.rpartition(",")
    if not comma:
        raise refused
    try:
        when = datetime.fromisoformat(at)
        number = int(id_)
    except ValueError:
        raise refused from None
    if when.tzinfo is None:
        raise refused
    return Cursor(when, number)


def _cursor_text(cursor: Cursor) -> str:
    return f"{cursor.at.isoformat()},{cursor.id}"


@dataclass(frozen=True, slots=True)
class Folded:
    """A before/after value: its text, and its head when folded."""

    text: str
    head: str | None


def folded(value: str | None) -> Folded | None:
    """``value`` with a head of :data:`FOLD_AT` characters when longer."""
    if value is None:
        return None
    return Folded(value, value[:FOLD_AT] + "…" if len(value) > FOLD_AT else None)


def _link(path: str, params: Mapping[str, str]) -> str:
    return path + ("?" + urlencode(params) if params else "")


@router.get("/audit")
def audit_log_page(
    request: Request, _auditor: Annotated[Viewer, Depends(auditing)]
) -> Response:
    """The events the filters select, newest first, :data:`PAGE` at a time."""
    console: Console = request.app.state.console
    given = _given(request, EVENT_FILTERS)
    context: dict[str, Any] = {
        "given": given,
        "events": (),
        "older": None,
        "newer": None,
        "error": None,
        "folded": folded,
    }
    try:
        selection = event_filter(given)
        older_text = request.query_params.get("older", "").strip()
        newer_text = request.query_params.get("newer", "").strip()
        cursor = None
        if older_text:
            cursor = _cursor(older_text, "older")
        elif newer_text:
            cursor = _cursor(newer_text, "newer")
    except FieldError as exc:
        context["error"] = exc
        return render(request, "audit/log.html", context, status_code=400)
    page = event_page(
        console.runtime.session_factory,
        selection,
        cursor,
        older=not (newer_text and not older_text),
    )
    context["events"] = page.events
    if page.older is not None:
        context["older"] = _link("/audit", {**given, "older": _cursor_text(page.older)})
    if page.newer is not None:
        context["newer"] = _link("/audit", {**given, "newer": _cursor_text(page.newer)})
    context["exports"] = {
        fmt: _link("/audit/export", {**given, "what": "events", "format": fmt})
        for fmt in _EXPORT_FORMATS
    }
    return render(request, "audit/log.html", context)


def verifier(request: Request) -> Verifier:
    """The process's verifier (one per application)."""
    state = request.app.state
    with _VERIFIER_LOCK:
        found: Verifier | None = getattr(state, "audit_verifier", None)
        if found is None:
            found = Verifier(state.console)
            state.audit_verifier = found
        return found


@router.get("/audit/verify")
def verify_page(
    request: Request, _auditor: Annotated[Viewer, Depends(auditing)]
) -> Response:
    """The last verification's outcome, and a button to verify now."""
    found = verifier(request)
    return render(
        request,
        "audit/verify.html",
        {"report": found.last, "running_by": found.running_by},
    )


@router.post("/audit/verify")
def verify_now(request: Request, who: Annotated[Viewer, Depends(auditing)]) -> Response:
    """Start verifying in the background (once at a time), then show the page."""
    verifier(request).start(who.user.username)
    return RedirectResponse("/audit/verify", status_code=303)


@router.get("/audit/trace")
def trace_page(
    request: Request, _auditor: Annotated[Viewer, Depends(auditing)]
) -> Response:
    """Why a SKU's stock is what it is; ``format=json``: ``audit trace --json``."""
    console: Console = request.app.state.console
    sku = request.query_params.get("sku", "").strip()
    at_text = request.query_params.get("at", "").strip()
    as_json = request.query_params.get("format") == "json"
    context: dict[str, Any] = {"sku": sku, "at": at_text, "trace": None, "error": None}
    if not sku:
        return render(request, "audit/trace.html", context)
    try:
        at = parse_instant(at_text) if at_text else None
    except ValueError as exc:
        context["error"] = FieldError("at", str(exc))
        return _trace_refused(request, context, as_json, 400)
    try:
        trace = trace_stock(console.runtime.audit_reader(), sku, at)
    except UnknownSkuError:
        context["error"] = FieldError("sku", f"no product has the SKU {sku!r}")
        return _trace_refused(request, context, as_json, 404)
    if as_json:
        return JSONResponse(trace_record(trace))
    context["trace"] = trace
    context["findings"] = trace_findings(trace)
    return render(request, "audit/trace.html", context)


def _trace_refused(
    request: Request, context: dict[str, Any], as_json: bool, status: int
) -> Response:
    if as_json:
        return JSONResponse({"error": str(context["error"])}, status_code=status)
    return render(request, "audit/trace.html", context, status_code=status)


def _filename(what: str, given: Mapping[str, str], fmt: str) -> str:
    since = _FILENAME_UNSAFE.sub("-", given.get("since", "start"))
    until = _FILENAME_UNSAFE.sub("-", given.get("until", "now"))
    return f"ikm-sync-{what}-{since}-to-{until}.{fmt}"


@router.get("/audit/export")
def export(request: Request, who: Annotated[Viewer, Depends(auditing)]) -> Response:
    """Events (``what=events``, the log's filters) or runs (``what=runs``: period,
    account, kind) as CSV or JSON Lines, streamed; recorded when it ends."""
    console: Console = request.app.state.console
    what = request.query_params.get("what", "events")
    fmt = request.query_params.get("format", "csv")
    try:
        _check_export(what, fmt)
        given = _given(request, EVENT_FILTERS if what == "events" else RUN_FILTERS)
        counted = Counted()
        chunks = (
            _events_export(console, given, fmt, counted)
            if what == "events"
            else _runs_export(console, given, fmt, counted)
        )
    except FieldError as exc:
        return render(
            request,
            "error.html",
            {"heading": "Cannot export", "message": str(exc)},
            status_code=400,
        )
    recorded = recorded_export(
        console, who.user.actor, what, fmt, given, chunks, counted
    )
    return StreamingResponse(
        recorded,
        media_type=_EXPORT_FORMATS[fmt],
        headers={
            "Content-Disposition": (
                f'attachment; filename="{_filename(what, given, fmt)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


def _check_export(what: str, fmt: str) -> None:
    if what not in ("events", "runs"):
        raise FieldError("what", f"{what!r}; expected events or runs")
    if fmt not in _EXPORT_FORMATS:
        raise FieldError("format", f"{fmt!r}; expected csv or jsonl")


def _events_export(
    console: Console, given: Mapping[str, str], fmt: str, counted: Counted
) -> Iterator[bytes]:
    events = audit_log(console.runtime.audit_reader(), event_filter(given))
    if fmt == "csv":
        return csv_chunks(EVENT_COLUMNS, (event_row(e) for e in events), counted)
    return json_line_chunks((event_record(e) for e in events), counted)


def _runs_export(
    console: Console, given: Mapping[str, str], fmt: str, counted: Counted
) -> Iterator[bytes]:
    period = _period(given)
    kind = None
    if "kind" in given:
        try:
            kind = SyncKind(given["kind"])
        except ValueError:
            expected = ", ".join(k.value for k in SyncKind)
            raise FieldError(
                "kind", f"{given['kind']!r}; expected {expected}"
            ) from None
    account = given.get("account")
    try:
        runs = export_runs(
            console.runtime.run_archive(),
            period,
            account=None if account is None else AccountId(account),
            kind=kind,
        )
    except StoreError:
        raise FieldError("account", f"no account {account!r}") from None
    if fmt == "csv":
        return csv_chunks(
            RUN_ITEM_COLUMNS, (row for r in runs for row in run_item_rows(r)), counted
        )
    return json_line_chunks((run_record(r) for r in runs), counted)


def recorded_export(
    console: Console,
    actor: str,
    what: str,
    fmt: str,
    given: Mapping[str, str],
    chunks: Iterator[bytes],
    counted: Counted,
) -> Generator[bytes, None, None]:
    """``chunks``, then the export's audit event (also when the download stops
    part way: ``complete`` False)."""
    complete = False
    try:
        yield from chunks
        complete = True
    finally:
        try:
            record_export(
                console.units,
                actor=actor,
                what=what,
                fmt=fmt,
                filters=given,
                rows=counted.rows,
                complete=complete,
            )
        except Exception as exc:  # noqa: BLE001  (the download itself stands)
            log.warning("audit.export_not_recorded", error=type(exc).__name__)
