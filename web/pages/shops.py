"""Shops: the accounts in the viewer's scope, one account's detail, its allocation
policy edited with a preview, the marketplace's approval flow and the account
check.

Every account page first finds the account in the viewer's scope (all of its
producers in scope; else 404). Changes (policy, check, authorisation) take
:meth:`Visible.require_change` and the scope again at the service.

The approval flow: ``POST /shops/{account}/authorise`` sends the browser to the
marketplace's consent link with a ``state`` bound to the signed-in session (an
HMAC of the account, a nonce and the time under the session's token);
``GET /shops/{account}/authorised`` takes the marketplace's redirect, refuses a
state that is not this session's, this account's or fresh, and exchanges the code
for tokens exactly as ``ikm-sync accounts authorize`` does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.domain.accounts import AllocationPolicy, ChannelAccount
from core.domain.authorisation import AuthorisationState, AuthorisationStatus
from core.domain.ids import AccountId
from core.domain.users import NotVisibleError
from core.errors import ConfigError, ConnectorError, StoreError
from core.services.accounts import set_allocation
from core.services.authorisation import (
    AccountCheck,
    check_account,
    check_authorisation,
)
from core.store.views.shops import (
    PAGE,
    ProductStockPage,
    listing_counts,
    product_stock,
)
from web.console import Console
from web.policy_form import FieldError, PolicyForm
from web.render import render
from web.security import CSRF, Viewer, changer, viewer

log = structlog.get_logger(__name__)
router = APIRouter(dependencies=CSRF)

#: How long an approval may take between leaving for the marketplace and coming back.
STATE_LIFETIME = timedelta(minutes=30)

Who = Annotated[Viewer, Depends(viewer)]
#: A user who may change things (auditors refused before the form is read).
Changer = Annotated[Viewer, Depends(changer)]


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One SKU under the edited policy: available, shown now, would show (``None``:
    excluded, not listed)."""

    sku: str
    name: str
    available: int
    shown_now: int | None
    listing_state: str | None
    would_show: int | None


def _console(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def _warning(console: Console) -> timedelta:
    return timedelta(days=console.loaded.settings.scheduler.authorisation_warning_days)


def _accounts_in_scope(console: Console, who: Viewer) -> list[ChannelAccount]:
    with console.units() as uow:
        accounts = uow.accounts.get_all()
    return [a for a in accounts if who.visible.sees_account(a.producer_codes)]


def _account(console: Console, who: Viewer, account: str) -> ChannelAccount:
    """The stored account ``account`` when the viewer sees it.

    Raises:
        NotVisibleError: missing or out of scope.
    """
    found = next((a for a in _accounts_in_scope(console, who) if a.id == account), None)
    if found is None:
        raise NotVisibleError(f"account {account!r}")
    return found


@router.get("/shops")
def shops(request: Request, who: Who) -> Response:
    """The accounts in scope: marketplace, shop, producers, enabled, listings by
    state, authorisation and last run."""
    console = _console(request)
    accounts = _accounts_in_scope(console, who)
    watch = console.runtime.account_watch()
    with console.runtime.session_factory() as session:
        counts = listing_counts(session, who.visible)
    return render(
        request,
        "shops/list.html",
        {
            "accounts": accounts,
            "counts": counts,
            "runs": watch.last_runs(),
            "authorisations": watch.authorisations(),
        },
    )


def _preview(
    console: Console,
    who: Viewer,
    account: ChannelAccount,
    policy: AllocationPolicy,
    offset: int,
) -> tuple[list[PreviewRow], ProductStockPage]:
    """The page of the account's products at ``offset``, each with what
    ``policy`` would show: the planner's own :meth:`AllocationPolicy.allocate`."""
    with console.runtime.session_factory() as session:
        page = product_stock(session, who.visible, account.id, offset=offset)
    rows = [
        PreviewRow(
            r.sku,
            r.name,
            r.available,
            r.shown_now,
            r.listing_state,
            policy.allocate(r.sku, r.available),
        )
        for r in page.rows
    ]
    return rows, page


def _detail(
    request: Request,
    who: Viewer,
    account: ChannelAccount,
    *,
    form: PolicyForm | None = None,
    policy: AllocationPolicy | None = None,
    errors: list[FieldError] | None = None,
    offset: int = 0,
    checked: AccountCheck | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Response:
    console = _console(request)
    watch = console.runtime.account_watch()
    with console.runtime.session_factory() as session:
        counts = listing_counts(session, who.visible, account.id).get(account.id, {})
    rows, page = _preview(console, who, account, policy or account.policy, offset)
    return render(
        request,
        "shops/detail.html",
        {
            "account": account,
            "counts": counts,
            "run": watch.last_runs().get(account.id),
            "authorisation": watch.authorisations().get(account.id),
            "form": form or PolicyForm.of(account.policy),
            "errors": errors or [],
            "error_fields": {e.name for e in errors or []},
            "rows": rows,
            "page": page,
            "page_size": PAGE,
            "previewing": policy is not None,
            "checked": checked,
            "notice": notice,
            "may_change": who.visible.may_change,
        },
        status_code=status_code,
    )


_NOTICES = {
    "saved": "The allocation policy is saved.",
    "unchanged": "Nothing changed: the policy is the one stored.",
    "authorised": "The shop is authorised; its tokens are stored.",
    "linked": "The marketplace links shops outside its API; the link works and "
    "any re-authorisation mark is cleared.",
}


@router.get("/shops/{account}")
def shop(
    request: Request,
    who: Who,
    account: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    done: str = "",
) -> Response:
    """One account, its allocation policy (editable by officers in scope and admins)
    and the units each SKU shows under it."""
    found = _account(_console(request), who, account)
    return _detail(request, who, found, offset=offset, notice=_NOTICES.get(done, ""))


def _posted(form: dict[str, Any]) -> PolicyForm:
    return PolicyForm.posted(form)


async def _form(request: Request) -> dict[str, Any]:
    return dict(await request.form())


@router.post("/shops/{account}/allocation/preview")
def preview(
    request: Request,
    who: Who,
    account: str,
    values: Annotated[dict[str, Any], Depends(_form)],
) -> Response:
    """The preview of the posted (not saved) policy; the preview table alone for
    htmx, else the whole page."""
    found = _account(_console(request), who, account)
    form = _posted(values)
    policy, errors = form.policy()
    offset = _whole(values.get("offset"))
    if request.headers.get("hx-request") == "true":
        rows: list[PreviewRow] = []
        page = ProductStockPage([], 0, 0)
        if policy is not None:
            rows, page = _preview(_console(request), who, found, policy, offset)
        return render(
            request,
            "shops/_preview.html",
            {
                "account": found,
                "rows": rows,
                "page": page,
                "page_size": PAGE,
                "previewing": True,
                "errors": errors,
                "fragment": True,
            },
        )  # 200 even with errors: htmx swaps only successful answers in
    return _detail(
        request,
        who,
        found,
        form=form,
        policy=policy,
        errors=errors,
        offset=offset,
        status_code=200 if policy is not None else 422,
    )


def _whole(value: Any) -> int:
    text = str(value or "0")
    return int(text) if text.isdigit() and len(text) < 10 else 0


@router.post("/shops/{account}/allocation")
def save_allocation(
    request: Request,
    who: Changer,
    account: str,
    values: Annotated[dict[str, Any], Depends(_form)],
) -> Response:
    """Store the posted policy (``account.allocation`` event, before → after); a
    field that is wrong re-shows the form with its error and changes nothing."""
    console = _console(request)
    found = _account(console, who, account)
    who.visible.require_change()
    form = _posted(values)
    policy, errors = form.policy()
    if policy is None:
        return _detail(request, who, found, form=form, errors=errors, status_code=422)
    changed = set_allocation(
        console.units(),
        found.id,
        policy,
        clock=console.clock,
        actor=who.user.actor,
        visible=who.visible,
    )
    done = "saved" if changed else "unchanged"
    return RedirectResponse(f"/shops/{found.id}?done={done}", status_code=303)


@router.post("/shops/{account}/check")
def check(request: Request, who: Changer, account: str) -> Response:
    """Check the account against its marketplace, as ``ikm-sync accounts check``
    does (what it records is recorded as done by the user), and show the result."""
    console = _console(request)
    found = _account(console, who, account)
    who.visible.require_change()
    connections = console.connections()
    checked = check_account(
        partial(connections.connector, found),
        console.runtime.token_store(),
        found.id,
        clock=console.clock,
        warning=_warning(console),
    )
    return _detail(request, who, found, checked=checked)


def _state_mac(who: Viewer, account: str, nonce: str, issued: str) -> str:
    message = f"{account}|{nonce}|{issued}".encode()
    return hmac.new(who.token.encode(), message, hashlib.sha256).hexdigest()


def _state(console: Console, who: Viewer, account: str) -> str:
    nonce = secrets.token_urlsafe(16)
    issued = str(int(console.clock.now().timestamp()))
    return f"{nonce}.{issued}.{_state_mac(who, account, nonce, issued)}"


def _state_ok(console: Console, who: Viewer, account: str, state: str) -> bool:
    nonce, _, rest = state.partition(".")
    issued, _, mac = rest.partition(".")
    if not (nonce and issued.isdigit() and mac):
        return False
    if not hmac.compare_digest(mac, _state_mac(who, account, nonce, issued)):
        return False
    age = console.clock.now().timestamp() - int(issued)
    return 0 <= age <= STATE_LIFETIME.total_seconds()


def _callback(request: Request, account: str) -> str:
    return str(request.url_for("shop_authorised", account=account))


@router.post("/shops/{account}/authorise")
def authorise(request: Request, who: Changer, account: str) -> Response:
    """Start the marketplace's approval: off to its consent link, with a state
    bound to this session (a marketplace that links shops outside its API: the
    link is proved and any re-authorisation mark cleared, as the CLI does)."""
    console = _console(request)
    found = _account(console, who, account)
    who.visible.require_change()
    redirect_uri = _callback(request, found.id)
    try:
        connector = console.connections().connector(found)
        try:
            link = connector.authorization_url(
                redirect_uri, _state(console, who, found.id)
            )
            if link is None:
                connector.authorize("", redirect_uri)
                connector.check()
                log.info("account.authorised", account=found.id)
                return RedirectResponse(
                    f"/shops/{found.id}?done=linked", status_code=303
                )
        finally:
            connector.close()
    except (ConnectorError, ConfigError, StoreError) as exc:
        return _failed(request, who, found, exc)
    return RedirectResponse(link, status_code=303)


def _failed(
    request: Request, who: Viewer, account: ChannelAccount, exc: Exception
) -> Response:
    """The account's page with why the approval failed (the marketplace's words)."""
    reason = exc.reason if isinstance(exc, ConnectorError) else str(exc)
    log.warning("account.authorisation_failed", account=account.id)
    checked = AccountCheck(
        AccountId(account.id),
        "authorisation failed",
        reason,
        AuthorisationStatus(None, AuthorisationState.UNKNOWN),
    )
    return _detail(request, who, account, checked=checked, status_code=502)


@router.get("/shops/{account}/authorised", name="shop_authorised")
def authorised(
    request: Request,
    who: Changer,
    account: str,
    code: str = "",
    state: str = "",
) -> Response:
    """The marketplace's redirect after the seller approved: the state must be this
    session's for this account, then the code is exchanged for tokens (stored as
    ``ikm-sync accounts authorize`` stores them) and the authorisation's end read."""
    console = _console(request)
    found = _account(console, who, account)
    who.visible.require_change()
    if not _state_ok(console, who, found.id, state) or not code:
        log.warning("account.authorisation_refused", account=found.id)
        return render(
            request,
            "error.html",
            {
                "heading": "Not allowed",
                "message": "This approval was not started from this session for "
                "this shop, or it is too old: start it again from the shop's page.",
            },
            status_code=400,
        )
    redirect_uri = _callback(request, found.id)
    try:
        connector = console.connections().connector(found)
        try:
            connector.authorize(code, redirect_uri)
            check_authorisation(
                connector,
                console.runtime.token_store(),
                found.id,
                clock=console.clock,
                warning=_warning(console),
            )
        finally:
            connector.close()
    except (ConnectorError, ConfigError, StoreError) as exc:
        return _failed(request, who, found, exc)
    log.info("account.authorised", account=found.id)
    return RedirectResponse(f"/shops/{found.id}?done=authorised", status_code=303)
