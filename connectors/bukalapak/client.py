"""One typed method per Bukalapak endpoint, OAuth2 included; returns DTOs.

Every call goes through :func:`connectors._http.send` (rate budget, fresh request per
attempt, :mod:`~connectors.bukalapak.errors` classification, bounded retries). API calls
carry ``Authorization: Bearer <access token>`` (page §2.3; no signing) from a
:class:`~connectors._tokens.TokenKeeper` that refreshes 30 minutes before expiry (page
§2.2) and once after a 401, after which the call is sent once more. Rate budget: page §9
meters 10 requests/s per access token; tokens rotate, so the budget key is the account
(one live access token per account), and token requests have their own key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel

from connectors._context import ConnectorContext
from connectors._http import send
from connectors._tokens import Refresher, TokenKeeper
from connectors.bukalapak import errors
from connectors.bukalapak.mapping import query_time
from connectors.bukalapak.schemas import (
    CreateProduct,
    ProductAnswer,
    ProductDto,
    ProductPage,
    SkuAnswer,
    SkuDto,
    SkuList,
    TokenAnswer,
    TokenEnvelope,
    TransactionAnswer,
    TransactionDto,
    TransactionPage,
    UpdateSku,
    parse,
)
from connectors.bukalapak.settings import Settings
from core.errors import AuthError, UnreadableAnswerError, Where
from core.ports import TokenSet

#: Refresh this long before the access token expires (page §2.2).
REFRESH_MARGIN = timedelta(minutes=30)
#: The scope a seller grants (page §2.1).
SCOPE = "public user store"
#: ``limit`` maximum of the offset lists (page §9).
PAGE_LIMIT = 50
#: Sent by one client (page §2.3); names the API version asked for.
ACCEPT = "application/vnd.bukalapak.v4+json"

_M = TypeVar("_M", bound=BaseModel)
Params = Sequence[tuple[str, str | int]]


class BukalapakClient:
    """The Bukalapak API of one account.

    Credentials (``context.secret``): ``client_id`` and ``client_secret`` of the
    registered OAuth2 application.
    """

    def __init__(
        self, ctx: ConnectorContext, settings: Settings, refresh: Refresher
    ) -> None:
        self._ctx, self._settings = ctx, settings
        self._api = ctx.base_url.rstrip("/")
        self._accounts = settings.accounts_base_url
        self._budget_key = ("bukalapak", ctx.account.id)
        self._oauth_key = ("bukalapak-oauth", ctx.account.id)
        self.keeper = TokenKeeper(
            ctx.tokens,
            ctx.account.id,
            refresh,
            ctx.clock,
            ctx.where("refresh_token"),
            margin=REFRESH_MARGIN,
        )

    # ------------------------------------------------------------------ OAuth2

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """``GET {accounts}/oauth/authorize`` with the seller scope (page §2.1)."""
        query = urlencode(
            {
                "client_id": self._ctx.secret("client_id"),
                "redirect_uri": redirect_uri,
                "scope": SCOPE,
                "response_type": "code",
                "state": state,
            },
            quote_via=quote,
        )
        return f"{self._accounts}/oauth/authorize?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenAnswer:
        """``authorization_code`` grant with ``client_id``, ``client_secret``,
        ``code``, ``redirect_uri`` (page §2.1). A code is single use: not retried
        once sent."""
        return self._token(
            "authorize",
            {
                "grant_type": "authorization_code",
                "client_id": self._ctx.secret("client_id"),
                "client_secret": self._ctx.secret("client_secret"),
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )

    def refresh_grant(self, refresh_token: str) -> TokenAnswer:
        """``refresh_token`` grant (page §2.1). The client authenticates with its id
        and secret as RFC 6749 §6 asks of confidential clients. The refresh token is
        single use (page §9): not retried once sent."""
        return self._token(
            "refresh_token",
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self._ctx.secret("client_id"),
                "client_secret": self._ctx.secret("client_secret"),
            },
        )

    def _token(self, operation: str, form: Mapping[str, str]) -> TokenAnswer:
        where = self._ctx.where(operation)
        url = f"{self._accounts}/oauth/token"

        def build() -> httpx.Request:
            return self._ctx.http.build_request(
                "POST",
                url,
                data=dict(form),
                headers={"Accept": "application/json"},
                timeout=self._ctx.timeout,
            )

        response = send(
            self._ctx.http,
            build,
            classify=lambda answer: errors.classify_oauth(answer, where),
            where=where,
            budget=self._ctx.budget,
            budget_key=self._oauth_key,
            idempotent=False,
            policy=self._ctx.policy,
            sleep=self._ctx.sleep,
        )
        body = _json(response, where)
        wrapper = parse(TokenEnvelope, body, where)
        if wrapper.access_token is None and wrapper.data is not None:
            return wrapper.data
        return parse(TokenAnswer, body, where)

    # ------------------------------------------------------------------ products

    def store_products(
        self, offset: int, limit: int = PAGE_LIMIT, keywords: str | None = None
    ) -> ProductPage:
        """``GET /stores/me/products`` (page §4.1), one offset page."""
        params: list[tuple[str, str | int]] = [("offset", offset), ("limit", limit)]
        if keywords is not None:
            params.append(("keywords", keywords))
        return self._parsed(
            ProductPage, "list_products", "GET", "/stores/me/products", params=params
        )

    def product_skus(self, product_id: str) -> list[SkuDto]:
        """``GET /products/{product_id}/skus``."""
        path = f"/products/{quote(product_id, safe='')}/skus"
        return self._parsed(SkuList, "list_skus", "GET", path).data

    def create_product(self, body: CreateProduct) -> ProductDto:
        """``POST /products`` (page §9); not idempotent: a lost answer is
        ``OutcomeUnknownError``, never retried."""
        return self._parsed(
            ProductAnswer,
            "create_product",
            "POST",
            "/products",
            body=body,
            idempotent=False,
        ).data

    def update_sku(self, product_id: str, sku_id: str, body: UpdateSku) -> None:
        """``PATCH /products/{product_id}/skus/{sku_id}``: one SKU (page §4.1)."""
        path = f"/products/{quote(product_id, safe='')}/skus/{quote(sku_id, safe='')}"
        self._parsed(SkuAnswer, "update_sku", "PATCH", path, body=body)

    # ------------------------------------------------------------------ transactions

    def transactions(
        self, start: datetime, end: datetime, offset: int, limit: int = PAGE_LIMIT
    ) -> TransactionPage:
        """``GET /transactions?context=sale`` created in ``[start, end)`` (page §9)."""
        params: list[tuple[str, str | int]] = [
            ("context", "sale"),
            ("start_time", query_time(start)),
            ("end_time", query_time(end)),
            ("offset", offset),
            ("limit", limit),
        ]
        return self._parsed(
            TransactionPage, "list_transactions", "GET", "/transactions", params=params
        )

    def transaction(self, transaction_id: str) -> TransactionDto:
        """``GET /transactions/{id}`` (numeric id)."""
        path = f"/transactions/{quote(transaction_id, safe='')}"
        return self._parsed(TransactionAnswer, "get_transaction", "GET", path).data

    # ------------------------------------------------------------------ plumbing

    def _parsed(
        self,
        model: type[_M],
        operation: str,
        method: str,
        path: str,
        *,
        params: Params = (),
        body: BaseModel | None = None,
        idempotent: bool = True,
    ) -> _M:
        """Send with a valid token and read the answer as ``model`` within the
        attempt (an unreadable answer to a read is asked for again); after a 401,
        refresh once and send once more."""
        where = self._ctx.where(operation)

        def read(response: httpx.Response) -> _M:
            return parse(model, _json(response, where), where)

        tokens = self.keeper.current()
        try:
            return self._send(
                where, method, path, tokens, params, body, idempotent, read
            )
        except AuthError:
            tokens = self.keeper.after_auth_error(tokens)
        return self._send(where, method, path, tokens, params, body, idempotent, read)

    def _send(
        self,
        where: Where,
        method: str,
        path: str,
        tokens: TokenSet,
        params: Params,
        body: BaseModel | None,
        idempotent: bool,
        read: Callable[[httpx.Response], _M],
    ) -> _M:
        if tokens.access_token is None:
            raise AuthError("no access token; authorise the shop", **where)
        token = tokens.access_token
        content = None if body is None else body.model_dump(exclude_none=True)
        url = f"{self._api}{path}"

        def build() -> httpx.Request:
            return self._ctx.http.build_request(
                method,
                url,
                params=list(params),
                json=content,
                headers={
                    "Authorization": f"Bearer {token.reveal()}",
                    "Accept": ACCEPT,
                },
                timeout=self._ctx.timeout,
            )

        def classify(answer: httpx.Response) -> None:
            errors.classify(answer, where)

        return send(
            self._ctx.http,
            build,
            classify=classify,
            where=where,
            budget=self._ctx.budget,
            budget_key=self._budget_key,
            read=read,
            idempotent=idempotent,
            policy=self._ctx.policy,
            sleep=self._ctx.sleep,
        )


def _json(response: httpx.Response, where: Where) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise UnreadableAnswerError("the answer is not JSON", **where) from None
