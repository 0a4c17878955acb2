"""Home: what needs a person now, and a status row per shop, in the user's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from core.domain.sync import ListingState
from core.services.status import AccountStatus
from core.store.views.home import attention
from web.console import Console
from web.render import render
from web.security import CSRF, Viewer, viewer

router = APIRouter(dependencies=CSRF)

#: An authorisation ending within this is shown as "ends soon".
ENDS_SOON = timedelta(days=14)


def _shops(console: Console, who: Viewer) -> list[AccountStatus]:
    """A status row per account in scope: listings by state, the latest run, the
    schedule and the authorisation (what ``status`` shows, without its totals)."""
    watch = console.runtime.account_watch()
    with console.units() as uow:
        accounts = [
            a
            for a in uow.accounts.get_all()
            if who.visible.sees_account(a.producer_codes)
        ]
        counts = uow.accounts.listing_counts()
    runs = watch.last_runs()
    schedules = watch.schedules() or {}
    authorisations = watch.authorisations()
    return [
        AccountStatus(
            account,
            dict(counts.get(account.id, {})),
            last_run=runs.get(account.id),
            schedule=schedules.get(account.id),
            authorisation=authorisations.get(account.id),
        )
        for account in accounts
    ]


@router.get("/")
def home(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """Shops needing re-authorisation or ending soon, accounts backing off, and a
    status row per shop."""
    console = request.app.state.console
    now = console.clock.now()
    shops = _shops(console, who)
    reauth = [
        s
        for s in shops
        if s.authorisation is not None and s.authorisation.needs_reauthorisation
    ]
    ending = [
        s
        for s in shops
        if s.authorisation is not None
        and not s.authorisation.needs_reauthorisation
        and s.authorisation.expires_at is not None
        and s.authorisation.expires_at - now <= ENDS_SOON
    ]
    backing_off = [
        s
        for s in shops
        if s.schedule is not None
        and s.schedule.backoff_until is not None
        and s.schedule.backoff_until > now
    ]
    with console.runtime.session_factory() as session:
        needs = attention(session, who.visible)
    return render(
        request,
        "home.html",
        {
            "needs": needs,
            "shops": shops,
            "reauth": reauth,
            "ending": ending,
            "backing_off": backing_off,
            "live": ListingState.LIVE,
            "failed": ListingState.FAILED,
        },
    )
