"""Orders: the orders of the shops in scope, filtered; the oversold queue and its
settling (marked handled with a note, or cancelled on the marketplace where it can),
through the same services as ``ikm-sync orders settle|cancel``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

import connectors
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.sync import OrderStatus
from core.domain.triggers import manual
from core.errors import AccountBusyError, ConnectorError
from core.services.oversold import (
    CANCELLABLE,
    NOTE_MAX,
    SettlementRefusedError,
    settle_oversold,
)
from core.store.views.orders import (
    OrderFilter,
    OrderView,
    order_of,
    orders_page,
    oversold_page,
    producers_in_scope,
)
from web import filters
from web.console import Console
from web.pages.sync import visible_account, visible_accounts
from web.render import render
from web.security import CSRF, Viewer, changer, viewer

router = APIRouter(dependencies=CSRF)


def _console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


@router.get("/orders")
def orders(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """The orders of the shops in scope, latest placed first, filtered by shop,
    status, placing date and producer, 50 a page."""
    console = _console(request)
    sessions = console.runtime.session_factory
    query = request.query_params
    accounts = [a.id for a in visible_accounts(console, who)]
    producers = producers_in_scope(sessions, who.visible)
    context: dict[str, Any] = {
        "accounts": accounts,
        "statuses": [s.value for s in OrderStatus],
        "producers": producers,
        "query": dict(query),
        "page": None,
        "error": "",
    }
    try:
        where = OrderFilter(
            account=filters.visible_choice("shop", query.get("shop"), accounts),
            status=filters.choice(
                "status", query.get("status"), [s.value for s in OrderStatus]
            ),
            since=filters.day("from", query.get("from")),
            until=filters.day("to", query.get("to"), end=True),
            producer=filters.visible_choice(
                "producer", query.get("producer"), producers
            ),
        )
        offset = filters.offset(query.get("offset"))
    except filters.FilterError as exc:
        context["error"] = str(exc)
        return render(request, "orders/list.html", context, status_code=400)
    context["page"] = orders_page(sessions, who.visible, where, offset)
    return render(request, "orders/list.html", context)


def _cancellable(marketplaces: dict[str, str], order: OrderView) -> bool:
    marketplace = marketplaces.get(order.account)
    if marketplace is None or order.status not in {s.value for s in CANCELLABLE}:
        return False
    return Capability.CANCEL_ORDERS in connectors.descriptor(marketplace).capabilities


def _queue(
    request: Request,
    who: Viewer,
    *,
    error: str = "",
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    console = _console(request)
    query = request.query_params
    every = query.get("all") == "1"
    try:
        offset = filters.offset(query.get("offset"))
    except filters.FilterError as exc:
        error, status_code, offset = str(exc), 400, 0
    page = oversold_page(
        console.runtime.session_factory, who.visible, open_only=not every, offset=offset
    )
    marketplaces = {
        str(a.id): a.marketplace.value for a in visible_accounts(console, who)
    }
    return render(
        request,
        "orders/oversold.html",
        {
            "page": page,
            "every": every,
            "error": error,
            "form": form or {},
            "done": query.get("done", ""),
            "cancellable": {
                (o.account, o.external_id)
                for o in page.orders
                if o.settlement is None and _cancellable(marketplaces, o)
            },
            "reasons": [r.value for r in CancelReason],
            "may_change": who.visible.may_change,
            "note_max": NOTE_MAX,
        },
        status_code=status_code,
    )


@router.get("/orders/oversold")
def oversold(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    """The oversold orders of the shops in scope no officer has settled yet (with
    ``all=1``, settled ones too: how, by whom, when)."""
    return _queue(request, who)


def _refused(request: Request, who: Viewer, order: OrderView) -> int:
    """409 when the order is settled now (before or meanwhile), else 400 (the
    input was refused)."""
    now = order_of(
        _console(request).runtime.session_factory,
        who.visible,
        order.account,
        order.external_id,
    )
    return 409 if now.settlement is not None else 400


@router.post("/orders/oversold/settle")
def settle(
    request: Request,
    who: Annotated[Viewer, Depends(changer)],
    account: Annotated[str, Form(max_length=64)],
    order: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=4 * NOTE_MAX)] = "",
) -> Response:
    """Mark an oversold order handled, with a note, as the signed-in user."""
    console = _console(request)
    found = order_of(console.runtime.session_factory, who.visible, account, order)
    chosen = visible_account(console, who, found.account)
    who.visible.require_change()
    form = {"account": account, "order": order, "note": note}
    try:
        settle_oversold(
            console.runtime.uow_factory(),
            chosen.id,
            found.external_id,
            note=note,
            actor=who.user.actor,
            clock=console.clock,
        )
    except SettlementRefusedError as exc:
        return _queue(
            request,
            who,
            error=str(exc),
            status_code=_refused(request, who, found),
            form=form,
        )
    return RedirectResponse(
        f"/orders/oversold?done={found.external_id}", status_code=303
    )


@router.post("/orders/oversold/cancel")
def cancel(
    request: Request,
    who: Annotated[Viewer, Depends(changer)],
    account: Annotated[str, Form(max_length=64)],
    order: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=32)] = CancelReason.OUT_OF_STOCK.value,
    note: Annotated[str, Form(max_length=4 * NOTE_MAX)] = "",
) -> Response:
    """Cancel an oversold order on its marketplace, as the signed-in user, under the
    shop's lease (refused while another process works on the shop)."""
    from scheduler.jobs import cancel_order

    console = _console(request)
    found = order_of(console.runtime.session_factory, who.visible, account, order)
    chosen = visible_account(console, who, found.account)
    who.visible.require_change()
    form = {"account": account, "order": order, "note": note}
    try:
        why = CancelReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in CancelReason)
        return _queue(
            request,
            who,
            error=f"reason: expected one of {known}",
            status_code=400,
            form=form,
        )
    try:
        cancel_order(
            console.runner(),
            chosen,
            found.external_id,
            reason=why,
            actor=who.user.actor,
            trigger=manual(who.user.actor),
            note=note,
        )
    except SettlementRefusedError as exc:
        return _queue(
            request,
            who,
            error=str(exc),
            status_code=_refused(request, who, found),
            form=form,
        )
    except AccountBusyError as exc:
        return _queue(request, who, error=str(exc), status_code=409, form=form)
    except ConnectorError as exc:
        return _queue(request, who, error=str(exc), status_code=502, form=form)
    return RedirectResponse(
        f"/orders/oversold?done={found.external_id}", status_code=303
    )
