"""Home: what needs a person now, and a status row per shop, in the user's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from core.domain.sync import ListingState
from core.services.status import AccountStatus, catalogue_status
from core.store.views.home import attention
from web.render import render
from web.security import CSRF, Viewer, viewer

router = APIRouter(dependencies=CSRF)

#: An authorisation ending within this is shown as "ends soon".
ENDS_SOON = timedelta(days=14)


@router.get("/")
def home(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """Shops needing re-authorisation or ending soon, accounts backing off, and a
    status row per shop."""
    console = request.app.state.console
    status = catalogue_status(console.units(), console.runtime.account_watch())
    now = console.clock.now()
    shops: list[AccountStatus] = [
        s for s in status.accounts if who.visible.sees_account(s.account.producer_codes)
    ]
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
        needs = attention(session, who.visible.account_ids)
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
