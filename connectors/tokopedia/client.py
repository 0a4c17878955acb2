"""Tokopedia Seller API calls: one typed method per endpoint, returning DTOs.

Authentication (tokopedia.md §2): a client-credentials token from the token URL
(``Authorization: Basic base64(client_id:client_secret)``), sent as ``Authorization:
Bearer …`` on every call; no request signing. Tokens live in the account's token store
through :class:`~connectors._tokens.TokenKeeper`; there is no refresh token, so
"refreshing" asks the token endpoint again (it answers the same token while it is
valid, a new one after expiry). A call answered "unauthorized" gets a new token and is
retried once; a shop no longer linked to the ``fs_id`` (``RBAC_MDLW_001``) marks the
account as needing re-authorisation.

Every call goes through :func:`connectors._http.send` with a rate budget keyed
(``fs_id``, endpoint), as Tokopedia meters it (§4, §11). Bulk endpoints spend one
budget token per row, not per request: their callers size each call with
:meth:`TokopediaClient.grant` (``RateBudget.acquire_up_to``) so the rows sent never
exceed the budget; the call itself then spends nothing more (a retry of the same rows
waits for their tokens again).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import structlog

from connectors._context import ConnectorContext
from connectors._http import send
from connectors._parsing import parse
from connectors._tokens import TokenKeeper
from connectors.tokopedia.errors import (
    ShopNotLinkedError,
    TokenRefusedError,
    make_classifier,
    make_token_classifier,
)
from connectors.tokopedia.schemas import (
    ActiveResult,
    CreateProduct,
    EditProduct,
    Envelope,
    OrderDetail,
    OrderRow,
    PriceRow,
    ProductIdsBody,
    ProductInfo,
    ProductRowsResult,
    ProductsBody,
    RowUpdateResult,
    StockRow,
    TokenAnswer,
)
from connectors.tokopedia.settings import TokopediaSettings
from core.domain.remote import Secret
from core.ports import TokenSet

log = structlog.get_logger(__name__)

#: Budget keys' endpoint parts (one bucket per ``fs_id`` and endpoint).
TOKEN = "token"  # noqa: S105 - an endpoint name
PRODUCT_INFO = "product_info"
PRODUCT_CREATE = "product_create"
PRODUCT_EDIT = "product_edit"
PRODUCT_ACTIVE = "product_active"
PRODUCT_INACTIVE = "product_inactive"
STOCK_UPDATE = "stock_update"
PRICE_UPDATE = "price_update"
ORDER_LIST = "order_list"
ORDER_DETAIL = "order_detail"
ORDER_NACK = "order_nack"

#: Credential names read from the account's credential set.
CLIENT_ID = "client_id"
CLIENT_SECRET = "client_secret"  # noqa: S105 - a credential's name

Params = Mapping[str, str | int]
_D = TypeVar("_D")


class TokopediaClient:
    """The Seller API for one shop (``account.shop_id``) of one app (``fs_id``)."""

    def __init__(self, context: ConnectorContext, settings: TokopediaSettings) -> None:
        self._ctx = context
        self._settings = settings
        self._fs_id = str(settings.fs_id)
        self._shop_id = context.account.shop_id
        self._base = context.base_url.rstrip("/")
        self.keeper = TokenKeeper(
            context.tokens,
            context.account.id,
            self._fetch_token,
            context.clock,
            context.where("token"),
            # Asking early only returns the same token (§2.2, §9): use it until it
            # expires; a refusal then fetches the new one.
            margin=timedelta(0),
        )

    # ---------------------------------------------------------------- budget

    def budget_key(self, endpoint: str) -> tuple[str, str]:
        """The rate budget key of ``endpoint``: (``fs_id``, endpoint) (§4, §11)."""
        return (self._fs_id, endpoint)

    def grant(self, endpoint: str, wanted: int) -> int:
        """Wait for the budget of a bulk ``endpoint`` and spend up to ``wanted`` row
        tokens; returns how many rows the next call may carry.

        It waits until ``wanted`` rows, or a full burst, are free rather than sending
        one row as soon as one token is back: the same rows a second, in fewer calls.
        """
        budget = self._ctx.budget
        minimum = max(1, min(wanted, budget.burst))
        return budget.acquire_up_to(self.budget_key(endpoint), wanted, minimum=minimum)

    # ---------------------------------------------------------------- tokens

    def _fetch_token(self, current: TokenSet) -> TokenSet:
        """Ask the token endpoint (§2.1); the same token comes back while valid."""
        ctx, where = self._ctx, self._ctx.where("token")
        key = self.budget_key(TOKEN)

        def build() -> httpx.Request:
            pair = f"{ctx.secret(CLIENT_ID)}:{ctx.secret(CLIENT_SECRET)}"
            basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
            return ctx.http.build_request(
                "POST",
                self._settings.token_url,
                params={"grant_type": "client_credentials"},
                headers={
                    "Authorization": f"Basic {basic}",
                    "Accept": "application/json",
                },
                timeout=ctx.timeout,
            )

        response = send(
            ctx.http,
            build,
            classify=make_token_classifier(where, ctx.budget, key),
            where=where,
            budget=ctx.budget,
            budget_key=key,
            policy=ctx.policy,
            sleep=ctx.sleep,
        )
        answer = parse(TokenAnswer, response, where, holds_secret=True)
        expires = ctx.clock.now() + timedelta(seconds=answer.expires_in)
        log.info("tokens.fetched", expires_at=expires.isoformat(), **where)
        return replace(
            current,
            access_token=Secret(answer.access_token),
            access_expires_at=expires,
            refresh_token=None,
            refresh_expires_at=None,
            needs_reauthorisation=False,
            reason="",
        )

    # ---------------------------------------------------------------- sending

    def _call(
        self,
        operation: str,
        endpoint: str,
        method: str,
        path: str,
        model: type[Envelope[_D]],
        *,
        params: Params | None = None,
        body: Any = None,
        rows: int = 0,
        idempotent: bool = True,
    ) -> _D:
        """Send one authenticated call and return its answer's ``data`` as ``model``
        says, read within the attempt (an unreadable answer to a read is asked for
        again); ``rows`` > 0 for a bulk call whose row tokens :meth:`grant` already
        spent.

        Raises:
            AuthError: refused twice in a row, or the shop is not linked (the
                account is then marked as needing re-authorisation).
            ConnectorError: whatever else the answer stands for (``errors.py``).
        """
        ctx, where = self._ctx, self._ctx.where(operation)
        key = self.budget_key(endpoint)
        url = f"{self._base}{path}"
        tokens = self.keeper.current()
        builds = 0

        def build() -> httpx.Request:
            nonlocal builds
            builds += 1
            if rows and builds > 1:
                ctx.budget.acquire(key, rows)  # the same rows count again
            access = tokens.access_token.reveal() if tokens.access_token else ""
            return ctx.http.build_request(
                method,
                url,
                params=params,
                json=body,
                headers={
                    "Authorization": f"Bearer {access}",
                    "Accept": "application/json",
                },
                timeout=ctx.timeout,
            )

        def read(response: httpx.Response) -> _D:
            data: _D = parse(model, response, where).data
            return data

        for attempt in (1, 2):
            try:
                return send(
                    ctx.http,
                    build,
                    classify=make_classifier(where, ctx.budget, key),
                    where=where,
                    budget=ctx.budget,
                    budget_key=key,
                    read=read,
                    cost=0 if rows else 1,
                    idempotent=idempotent,
                    policy=ctx.policy,
                    sleep=ctx.sleep,
                )
            except TokenRefusedError:
                if attempt == 2:
                    raise
                log.info("tokens.refused", **where)
                tokens = self.keeper.after_auth_error(tokens)
            except ShopNotLinkedError as exc:
                self.keeper.mark_unauthorised(exc.reason)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _shop(self, **extra: str | int) -> dict[str, str | int]:
        return {"shop_id": self._shop_id, **extra}

    # ---------------------------------------------------------------- products

    def product_page(
        self, page: int, per_page: int, *, operation: str = "fetch_listings"
    ) -> list[ProductInfo]:
        """``GET /inventory/v1/fs/{fs_id}/product/info?shop_id=&page=&per_page=``."""
        items = self._call(
            operation,
            PRODUCT_INFO,
            "GET",
            f"/inventory/v1/fs/{self._fs_id}/product/info",
            Envelope[list[ProductInfo] | None],
            params=self._shop(page=page, per_page=per_page),
        )
        return items or []

    def products_by_sku(
        self, sku: str, *, operation: str = "find_listings"
    ) -> list[ProductInfo]:
        """``GET /inventory/v1/fs/{fs_id}/product/info?sku=&shop_id=``."""
        items = self._call(
            operation,
            PRODUCT_INFO,
            "GET",
            f"/inventory/v1/fs/{self._fs_id}/product/info",
            Envelope[list[ProductInfo] | None],
            params=self._shop(sku=sku),
        )
        return items or []

    def create_products(self, products: Sequence[CreateProduct]) -> ProductRowsResult:
        """``POST /v3/products/fs/{fs_id}/create?shop_id=`` — not idempotent: a lost
        answer is ``OutcomeUnknownError``, never retried. Rows sized by
        :meth:`grant` (``PRODUCT_CREATE``)."""
        return self._rows_call(
            "create_listings",
            PRODUCT_CREATE,
            "POST",
            f"/v3/products/fs/{self._fs_id}/create",
            ProductsBody(products=list(products)).wire(),
            len(products),
            idempotent=False,
        )

    def edit_products(self, products: Sequence[EditProduct]) -> ProductRowsResult:
        """``PATCH /v3/products/fs/{fs_id}/edit?shop_id=``; rows sized by
        :meth:`grant` (``PRODUCT_EDIT``)."""
        return self._rows_call(
            "update_listings",
            PRODUCT_EDIT,
            "PATCH",
            f"/v3/products/fs/{self._fs_id}/edit",
            ProductsBody(products=list(products)).wire(),
            len(products),
        )

    def _rows_call(
        self,
        operation: str,
        endpoint: str,
        method: str,
        path: str,
        body: dict[str, Any],
        rows: int,
        *,
        idempotent: bool = True,
    ) -> ProductRowsResult:
        # A create's answer that cannot be read leaves it outcome-unknown (send()).
        return self._call(
            operation,
            endpoint,
            method,
            path,
            Envelope[ProductRowsResult],
            params=self._shop(),
            body=body,
            rows=rows,
            idempotent=idempotent,
        )

    def deactivate(self, product_ids: Sequence[int]) -> ActiveResult:
        """``POST /v1/products/fs/{fs_id}/inactive?shop_id=`` (≤ 25 ids); rows sized
        by :meth:`grant` (``PRODUCT_INACTIVE``)."""
        return self._set_active(product_ids, active=False)

    def activate(self, product_ids: Sequence[int]) -> ActiveResult:
        """``POST /v1/products/fs/{fs_id}/active?shop_id=`` (≤ 25 ids); rows sized
        by :meth:`grant` (``PRODUCT_ACTIVE``)."""
        return self._set_active(product_ids, active=True)

    def _set_active(self, product_ids: Sequence[int], *, active: bool) -> ActiveResult:
        operation = "reactivate_listings" if active else "deactivate_listings"
        result = self._call(
            operation,
            PRODUCT_ACTIVE if active else PRODUCT_INACTIVE,
            "POST",
            f"/v1/products/fs/{self._fs_id}/{'active' if active else 'inactive'}",
            Envelope[ActiveResult | None],
            params=self._shop(),
            body=ProductIdsBody(product_id=list(product_ids)).wire(),
            rows=len(product_ids),
        )
        return result or ActiveResult()

    def update_stock(self, rows: Sequence[StockRow]) -> RowUpdateResult:
        """``POST /inventory/v1/fs/{fs_id}/stock/update?shop_id=`` (≤ 100 rows);
        rows sized by :meth:`grant` (``STOCK_UPDATE``)."""
        params = self._shop()
        if self._settings.bypass_update_product_status:
            params["bypass_update_product_status"] = "true"
        return self._update("push_stock", STOCK_UPDATE, "stock", rows, params)

    def update_prices(self, rows: Sequence[PriceRow]) -> RowUpdateResult:
        """``POST /inventory/v1/fs/{fs_id}/price/update?shop_id=`` (≤ 100 rows);
        rows sized by :meth:`grant` (``PRICE_UPDATE``)."""
        return self._update("push_prices", PRICE_UPDATE, "price", rows, self._shop())

    def _update(
        self,
        operation: str,
        endpoint: str,
        what: str,
        rows: Sequence[StockRow] | Sequence[PriceRow],
        params: Params,
    ) -> RowUpdateResult:
        return self._call(
            operation,
            endpoint,
            "POST",
            f"/inventory/v1/fs/{self._fs_id}/{what}/update",
            Envelope[RowUpdateResult],
            params=params,
            body=[row.wire() for row in rows],
            rows=len(rows),
        )

    # ---------------------------------------------------------------- orders

    def order_page(
        self, from_date: int, to_date: int, page: int, per_page: int
    ) -> list[OrderRow]:
        """``GET /v2/order/list?fs_id=&shop_id=&from_date=&to_date=&page=&per_page=``
        (``fs_id`` in the query here, §6.1)."""
        operation = "fetch_orders"
        rows = self._call(
            operation,
            ORDER_LIST,
            "GET",
            "/v2/order/list",
            Envelope[list[OrderRow] | None],
            params={
                "fs_id": self._fs_id,
                "shop_id": self._shop_id,
                "from_date": from_date,
                "to_date": to_date,
                "page": page,
                "per_page": per_page,
            },
        )
        return rows or []

    def order(self, order_id: int) -> OrderDetail:
        """``GET /v2/fs/{fs_id}/order?order_id=`` (§6.2)."""
        operation = "fetch_order"
        return self._call(
            operation,
            ORDER_DETAIL,
            "GET",
            f"/v2/fs/{self._fs_id}/order",
            Envelope[OrderDetail],
            params={"order_id": order_id},
        )

    def reject_order(self, order_id: int, reason_code: int, reason: str) -> None:
        """``POST /v1/order/{order_id}/fs/{fs_id}/nack`` ``{reason_code, reason}``
        (§6.4): the seller rejects an order; not idempotent."""
        self._call(
            "cancel_order",
            ORDER_NACK,
            "POST",
            f"/v1/order/{order_id}/fs/{self._fs_id}/nack",
            Envelope[Any],
            body={"reason_code": reason_code, "reason": reason},
            idempotent=False,
        )


__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "PRICE_UPDATE",
    "PRODUCT_ACTIVE",
    "PRODUCT_CREATE",
    "PRODUCT_EDIT",
    "PRODUCT_INACTIVE",
    "STOCK_UPDATE",
    "TokopediaClient",
]
