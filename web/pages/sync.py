"""Sync: per shop in scope, what a push would send (the plan) and its details; "sync
now" (the cycle of ``ikm-sync sync cycle`` for one shop, in the background); the
runs, filtered, and each run with its items."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome, SyncKind
from core.domain.users import NotVisibleError
from core.store.views.sync import RunFilter, run_detail, runs_page
from scheduler.plans import account_plan, plan_payload
from web import filters
from web.console import Console
from web.render import render
from web.security import CSRF, Viewer, changer, viewer
from web.sync_jobs import SyncJob, SyncJobs

router = APIRouter(dependencies=CSRF)

#: The plan's change kinds, in the order the pages show them.
CHANGES = ("resolve", "create", "update", "deactivate", "price", "stock")
#: Changes of a plan on a page.
CHANGES_PAGE = 200
#: Seconds between two looks of the page following a running sync.
POLL_SECONDS = 2

_JOBS_LOCK = threading.Lock()


def sync_jobs(request: Request) -> SyncJobs:
    """The application's "sync now" jobs (made on first use)."""
    state = request.app.state
    with _JOBS_LOCK:
        found: SyncJobs | None = getattr(state, "sync_jobs", None)
        if found is None:
            found = SyncJobs(state.console)
            state.sync_jobs = found
        return found


def _console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def visible_accounts(console: Console, who: Viewer) -> list[ChannelAccount]:
    """The accounts ``who`` sees, in the store's order."""
    with console.units() as uow:
        accounts = uow.accounts.get_all()
    return [a for a in accounts if who.visible.sees_account(a.producer_codes)]


def visible_account(console: Console, who: Viewer, key: str) -> ChannelAccount:
    """Account ``key`` if ``who`` sees it.

    Raises:
        NotVisibleError: unknown, or out of scope.
    """
    for account in visible_accounts(console, who):
        if account.id == key:
            return account
    raise NotVisibleError(f"account {key!r}: not found")


@router.get("/sync")
def plans(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """The shops in scope; each row's plan counts load on their own
    (:func:`plan_counts`: a plan reads the shop's catalogue, and a page of many
    shops must not wait for all of them)."""
    return render(
        request,
        "sync/plans.html",
        {
            "accounts": visible_accounts(_console(request), who),
            "changes": CHANGES,
            "may_change": who.visible.may_change,
        },
    )


@router.get("/sync/{account}/counts")
def plan_counts(
    request: Request, account: str, who: Annotated[Viewer, Depends(viewer)]
) -> Response:
    """One shop's row of the plan: how many changes a push would send and how many
    are kept back (the marketplace cannot make them); nothing is sent."""
    console = _console(request)
    chosen = visible_account(console, who, account)
    plan = account_plan(console.runtime.uow_factory(), chosen)
    return render(
        request,
        "sync/plan_row.html",
        {
            "account": chosen,
            "counts": plan.counts(),
            "kept": len(plan.unsupported),
            "changes": CHANGES,
            "may_change": who.visible.may_change,
        },
    )


def _runs_filter(request: Request, who: Viewer) -> tuple[RunFilter, int]:
    query = request.query_params
    accounts = [a.id for a in visible_accounts(_console(request), who)]
    where = RunFilter(
        account=filters.visible_choice("shop", query.get("shop"), accounts),
        kind=filters.choice("kind", query.get("kind"), [k.value for k in SyncKind]),
        outcome=filters.choice(
            "outcome", query.get("outcome"), [o.value for o in RunOutcome]
        ),
        trigger=filters.text(query.get("trigger")),
        since=filters.day("from", query.get("from")),
        until=filters.day("to", query.get("to"), end=True),
    )
    return where, filters.offset(query.get("offset"))


@router.get("/sync/runs")
def runs(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """The runs of the shops in scope, newest first, filtered, 50 a page."""
    console = _console(request)
    context: dict[str, Any] = {
        "accounts": [a.id for a in visible_accounts(console, who)],
        "kinds": [k.value for k in SyncKind],
        "outcomes": [o.value for o in RunOutcome],
        "query": dict(request.query_params),
        "page": None,
        "error": "",
    }
    try:
        where, offset = _runs_filter(request, who)
    except filters.FilterError as exc:
        context["error"] = str(exc)
        return render(request, "sync/runs.html", context, status_code=400)
    context["page"] = runs_page(
        console.runtime.session_factory, who.visible, where, offset
    )
    return render(request, "sync/runs.html", context)


@router.get("/sync/runs/{run_id}")
def run(
    request: Request, run_id: int, who: Annotated[Viewer, Depends(viewer)]
) -> Response:
    """One run and its items (200 a page)."""
    try:
        offset = filters.offset(request.query_params.get("offset"))
    except filters.FilterError as exc:
        return render(
            request,
            "error.html",
            {"heading": "Not allowed", "message": str(exc)},
            status_code=400,
        )
    detail = run_detail(
        _console(request).runtime.session_factory, who.visible, run_id, offset
    )
    return render(request, "sync/run.html", {"detail": detail})


def _job(request: Request, who: Viewer, key: str) -> SyncJob:
    job = sync_jobs(request).get(key)
    if job is None or not who.visible.sees_account(job.account.producer_codes):
        raise NotVisibleError(f"sync {key!r}: not found")
    return job


@router.get("/sync/jobs/{id}")
def job_page(
    request: Request, id: str, who: Annotated[Viewer, Depends(viewer)]
) -> Response:
    """A "sync now": running (the page looks again every 2 s), busy, or finished
    with its runs."""
    job = _job(request, who, id)
    partial = request.headers.get("hx-request") == "true"
    return render(
        request,
        "sync/job_part.html" if partial else "sync/job.html",
        {"job": job, "poll": POLL_SECONDS},
    )


@router.get("/sync/{account}")
def plan_details(
    request: Request, account: str, who: Annotated[Viewer, Depends(viewer)]
) -> Response:
    """Every change a push would send to the shop, with its SKU and value (200
    a page)."""
    console = _console(request)
    chosen = visible_account(console, who, account)
    try:
        offset = filters.offset(request.query_params.get("offset"))
    except filters.FilterError as exc:
        return render(
            request,
            "error.html",
            {"heading": "Not allowed", "message": str(exc)},
            status_code=400,
        )
    payload = plan_payload(account_plan(console.runtime.uow_factory(), chosen))
    changes: list[tuple[str, str, str]] = [
        ("resolve", sku, "") for sku in payload["resolve"]
    ]
    for kind in CHANGES[1:]:
        changes += [(kind, item["sku"], _value(item)) for item in payload[kind]]
    kept = [(item["sku"], item["change"]) for item in payload["unsupported"]]
    return render(
        request,
        "sync/plan.html",
        {
            "account": chosen,
            "counts": payload["counts"],
            "changes": changes[offset : offset + CHANGES_PAGE],
            "offset": offset,
            "more": len(changes) > offset + CHANGES_PAGE,
            "page_size": CHANGES_PAGE,
            "kept": kept,
            "names": CHANGES,
            "may_change": who.visible.may_change,
        },
    )


def _value(item: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v}" for k, v in item.items() if k != "sku" and v is not None
    )


@router.post("/sync/{account}/now")
def sync_now(
    request: Request, account: str, who: Annotated[Viewer, Depends(changer)]
) -> Response:
    """Start the shop's cycle (orders, then push) in the background, as the signed-in
    user; the page that follows shows it."""
    console = _console(request)
    chosen = visible_account(console, who, account)
    who.visible.require_change()
    if not chosen.enabled:
        return render(
            request,
            "error.html",
            {
                "heading": "Not allowed",
                "message": f"{chosen.id}: the shop is disabled; enable it first.",
            },
            status_code=409,
        )
    job = sync_jobs(request).start(chosen, who.user.actor)
    return RedirectResponse(f"/sync/jobs/{job.key}", status_code=303)
