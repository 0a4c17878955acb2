"""TikTok Shop Partner API calls: one typed method per endpoint, returning DTOs.

Signing (tiktok-shop.md §3): every call carries ``app_key``, ``timestamp`` (Unix
seconds) and ``sign`` in the query, ``shop_cipher`` too when shop-scoped; ``sign`` is
the lowercase hex HMAC-SHA256, keyed with the app secret, of the secret + the path +
every other query parameter sorted by key as key + value + the raw JSON body + the
secret. The request is built afresh for each attempt, so the timestamp and signature
stay current. The access token goes in the ``x-tts-access-token`` header (§2).

Tokens (§2): an approval code is exchanged for an access and a refresh token
(``grant_type=authorized_code``), and refreshed with ``grant_type=refresh_token``;
both through :class:`~connectors._tokens.TokenKeeper`, so the new pair is saved
before anything uses it. Their ends come from the answer, never assumed. A call whose
token is refused is retried once with refreshed tokens; a refused refresh marks the
account as needing re-authorisation.

The shop's ``shop_cipher`` comes from the authorised shops (§2), looked up once per
client and again once when a call says the cipher is not the token's.

Every call goes through :func:`connectors._http.send` with a rate budget keyed
(shop, endpoint), as §10 assumes TikTok Shop meters it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import structlog
from pydantic import ValidationError

from connectors._context import ConnectorContext
from connectors._http import send
from connectors._parsing import parse
from connectors._tokens import TokenKeeper
from connectors.tiktok_shop.errors import (
    CredentialsRefusedError,
    ShopNotAuthorisedError,
    TokenRefusedError,
    classify,
    error_for,
)
from connectors.tiktok_shop.schemas import (
    CreatedProduct,
    CreateProductBody,
    Envelope,
    ErrorEnvelope,
    InventoryUpdateBody,
    ItemErrors,
    OrdersData,
    OrderSearchBody,
    PartialEditBody,
    PriceUpdateBody,
    ProductIdsBody,
    ProductSearchBody,
    ProductSearchData,
    ShopsData,
    TokenData,
)
from connectors.tiktok_shop.settings import TikTokShopSettings
from core.domain.remote import Secret
from core.errors import AuthError, ConnectorError, RejectedError, Where
from core.ports import TokenSet

log = structlog.get_logger(__name__)

#: Credential names read from the account's credential set.
APP_KEY = "app_key"
APP_SECRET = "app_secret"  # noqa: S105 - a credential's name
ACCESS_TOKEN_HEADER = "x-tts-access-token"  # noqa: S105 - a header's name
#: An ``*_expire_in`` below this is a duration in seconds, above it a Unix time.
_UNIX_TIME_FLOOR = 1_000_000_000

_D = TypeVar("_D")


def signature(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes = b""
) -> str:
    """The §3 ``sign`` of a request: ``query`` without ``sign`` and ``access_token``,
    sorted by key, each as key + value, after the path and before the raw body,
    wrapped in the secret; lowercase hex HMAC-SHA256 keyed with the secret."""
    pairs = "".join(
        f"{key}{query[key]}"
        for key in sorted(query)
        if key not in ("sign", "access_token")
    )
    message = f"{app_secret}{path}{pairs}{body.decode('utf-8')}{app_secret}"
    return hmac.new(
        app_secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def _expiry(value: int, now: datetime) -> datetime:
    """An ``*_expire_in`` of the token answer as an instant (a Unix time in the
    partner reference; a small number is read as seconds from now)."""
    if value < _UNIX_TIME_FLOOR:
        return now + timedelta(seconds=value)
    return datetime.fromtimestamp(value, UTC)


class _RefreshRefusedError(ConnectorError):
    """A refresh refused for the app's credentials, not the shop's: raised from the
    refresher so that TokenKeeper does not mark the account."""


class TikTokShopClient:
    """The Partner API for one shop (``account.shop_id``)."""

    def __init__(self, context: ConnectorContext, settings: TikTokShopSettings) -> None:
        self._ctx = context
        self._settings = settings
        self._shop_id = context.account.shop_id.strip()
        self._base = context.base_url.rstrip("/")
        self._cipher: str | None = None
        self.keeper = TokenKeeper(
            context.tokens,
            context.account.id,
            self._refresh,
            context.clock,
            context.where("refresh_token"),
        )

    # ---------------------------------------------------------------- tokens

    def _token_call(self, operation: str, params: dict[str, str]) -> TokenSet:
        ctx, where = self._ctx, self._ctx.where(operation)
        key = (self._shop_id, "token")

        def build() -> httpx.Request:
            query = {"app_key": ctx.secret(APP_KEY), **params}
            if self._settings.app_secret_in_token_call:
                query["app_secret"] = ctx.secret(APP_SECRET)
            return ctx.http.build_request(
                "GET",
                self._settings.token_url,
                params=query,
                headers={"Accept": "application/json"},
                timeout=ctx.timeout,
            )

        def read(response: httpx.Response) -> TokenData:
            envelope: Envelope[TokenData] = parse(
                Envelope[TokenData], response, where, holds_secret=True
            )
            return envelope.data

        answer = send(
            ctx.http,
            build,
            classify=lambda response: _classify_token(response, where),
            where=where,
            budget=ctx.budget,
            budget_key=key,
            read=read,
            policy=ctx.policy,
            sleep=ctx.sleep,
        )
        now = ctx.clock.now()
        return TokenSet(
            access_token=Secret(answer.access_token),
            refresh_token=Secret(answer.refresh_token),
            access_expires_at=_expiry(answer.access_token_expire_in, now),
            refresh_expires_at=_expiry(answer.refresh_token_expire_in, now),
        )

    def exchange_code(self, code: str) -> TokenSet:
        """``GET /api/v2/token/get?grant_type=authorized_code`` (§2).

        Raises:
            AuthError: the code was refused, or the app's credentials were.
        """
        return self._token_call(
            "authorize", {"auth_code": code, "grant_type": "authorized_code"}
        )

    def _refresh(self, current: TokenSet) -> TokenSet:
        """``grant_type=refresh_token``; TokenKeeper saves the answer under its hold
        before anything uses it."""
        where = self._ctx.where("refresh_token")
        if current.refresh_token is None:
            raise AuthError(
                "no refresh token is stored; the shop must be authorised", **where
            )
        try:
            fresh = self._token_call(
                "refresh_token",
                {
                    "refresh_token": current.refresh_token.reveal(),
                    "grant_type": "refresh_token",
                },
            )
        except CredentialsRefusedError as exc:
            raise _RefreshRefusedError(exc.reason, **where) from None
        return replace(
            current,
            access_token=fresh.access_token,
            refresh_token=fresh.refresh_token,
            access_expires_at=fresh.access_expires_at,
            refresh_expires_at=fresh.refresh_expires_at,
            needs_reauthorisation=False,
            reason="",
        )

    def _tokens(self, refused: TokenSet | None = None) -> TokenSet:
        where = self._ctx.where("refresh_token")
        try:
            tokens = (
                self.keeper.current()
                if refused is None
                else self.keeper.after_auth_error(refused)
            )
        except _RefreshRefusedError as exc:
            raise CredentialsRefusedError(exc.reason, **where) from None
        if tokens.access_token is None:
            raise AuthError(
                "no access token is stored; authorise the shop first", **where
            )
        return tokens

    # ---------------------------------------------------------------- sending

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        read: Callable[[httpx.Response], _D],
        *,
        params: Mapping[str, str] | None = None,
        body: dict[str, object] | None = None,
        shop_scoped: bool = True,
        idempotent: bool = True,
        reads_only: bool = False,
        per_item: bool = False,
    ) -> _D:
        """Send one signed call and return its answer as ``read`` reads it; a
        refused token is refreshed and the call retried once; a cipher refused is
        looked up again once, then the account is marked.

        Raises:
            AuthError: refused twice, the shop is not authorised, or the app's
                credentials are wrong.
            ConnectorError: whatever else the answer stands for (``errors.py``).
        """
        ctx, where = self._ctx, self._ctx.where(operation)
        key = (self._shop_id, operation)
        content = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if body is not None
            else b""
        )
        tokens = self._tokens()
        retried_token = retried_cipher = False
        while True:
            cipher = self.shop_cipher() if shop_scoped else ""
            access = tokens.access_token.reveal() if tokens.access_token else ""

            def build(cipher: str = cipher, access: str = access) -> httpx.Request:
                query = {
                    "app_key": ctx.secret(APP_KEY),
                    "timestamp": str(int(ctx.clock.now().timestamp())),
                    **(params or {}),
                }
                if cipher:
                    query["shop_cipher"] = cipher
                query["sign"] = signature(ctx.secret(APP_SECRET), path, query, content)
                headers = {ACCESS_TOKEN_HEADER: access, "Accept": "application/json"}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                return ctx.http.build_request(
                    method,
                    f"{self._base}{path}",
                    params=query,
                    content=content or None,
                    headers=headers,
                    timeout=ctx.timeout,
                )

            try:
                return send(
                    ctx.http,
                    build,
                    classify=lambda r: classify(r, where, per_item=per_item),
                    where=where,
                    budget=ctx.budget,
                    budget_key=key,
                    read=read,
                    idempotent=idempotent,
                    reads_only=reads_only,
                    policy=ctx.policy,
                    sleep=ctx.sleep,
                )
            except TokenRefusedError as exc:
                if retried_token:
                    raise AuthError(
                        f"the access token was refused again after a refresh "
                        f"({exc.reason})",
                        **where,
                    ) from None
                retried_token = True
                log.info("tokens.refused", reason=exc.reason, **where)
                tokens = self._tokens(refused=tokens)
            except ShopNotAuthorisedError as exc:
                if retried_cipher or not shop_scoped:
                    self.keeper.mark_unauthorised(exc.reason)
                    raise
                retried_cipher = True
                self._cipher = None  # the cipher may have changed: ask again

    def _reader(
        self, model: type[Envelope[_D]], operation: str
    ) -> Callable[[httpx.Response], _D]:
        where = self._ctx.where(operation)

        def read(response: httpx.Response) -> _D:
            data: _D = parse(model, response, where).data
            return data

        return read

    # ---------------------------------------------------------------- shops

    def authorised_shops(self, operation: str = "check") -> ShopsData:
        """``GET /authorization/202309/shops``."""
        return self._call(
            operation,
            "GET",
            "/authorization/202309/shops",
            self._reader(Envelope[ShopsData], operation),
            shop_scoped=False,
        )

    def shop_cipher(self) -> str:
        """The account's shop's ``shop_cipher`` (looked up once).

        Raises:
            ShopNotAuthorisedError: the token's seller has not authorised this shop.
        """
        if self._cipher is None:
            shops = self.authorised_shops("shop_cipher").shops
            found = next((s for s in shops if s.id == self._shop_id), None)
            if found is None:
                where = self._ctx.where("shop_cipher")
                reason = (
                    f"shop {self._shop_id} is not among the {len(shops)} shop(s) "
                    "this authorisation covers"
                )
                self.keeper.mark_unauthorised(reason)
                raise ShopNotAuthorisedError(reason, **where)
            self._cipher = found.cipher
        return self._cipher

    # ---------------------------------------------------------------- products

    def search_products(
        self,
        page_size: int,
        page_token: str = "",
        seller_skus: list[str] | None = None,
        *,
        operation: str = "fetch_listings",
    ) -> ProductSearchData:
        """``POST /product/202312/products/search?page_size=&page_token=``."""
        params = {"page_size": str(page_size)}
        if page_token:
            params["page_token"] = page_token
        return self._call(
            operation,
            "POST",
            "/product/202312/products/search",
            self._reader(Envelope[ProductSearchData], operation),
            params=params,
            body=ProductSearchBody(seller_skus=seller_skus).wire(),
            reads_only=True,
        )

    def create_product(self, body: CreateProductBody) -> CreatedProduct:
        """``POST /product/202309/products``: not idempotent (a lost answer is
        ``OutcomeUnknownError``, never retried)."""
        operation = "create_listings"
        return self._call(
            operation,
            "POST",
            "/product/202309/products",
            self._reader(Envelope[CreatedProduct], operation),
            body=body.wire(),
            idempotent=False,
        )

    def edit_product(self, product_id: str, body: PartialEditBody) -> CreatedProduct:
        """``POST /product/202309/products/{product_id}/partial_edit``."""
        operation = "update_listings"
        return self._call(
            operation,
            "POST",
            f"/product/202309/products/{product_id}/partial_edit",
            self._reader(Envelope[CreatedProduct], operation),
            body=body.wire(),
        )

    def set_active(self, product_ids: list[str], *, active: bool) -> ItemErrors:
        """``POST /product/202309/products/activate`` or ``…/deactivate``."""
        verb = "activate" if active else "deactivate"
        return self._item_call(
            f"{'re' if active else ''}{verb}_listings",
            f"/product/202309/products/{verb}",
            ProductIdsBody(product_ids=product_ids).wire(),
        )

    def update_inventory(
        self, product_id: str, body: InventoryUpdateBody
    ) -> ItemErrors:
        """``POST /product/202309/products/{product_id}/inventory/update``."""
        return self._item_call(
            "push_stock",
            f"/product/202309/products/{product_id}/inventory/update",
            body.wire(),
        )

    def update_prices(self, product_id: str, body: PriceUpdateBody) -> ItemErrors:
        """``POST /product/202309/products/{product_id}/prices/update``."""
        return self._item_call(
            "push_prices",
            f"/product/202309/products/{product_id}/prices/update",
            body.wire(),
        )

    def _item_call(
        self, operation: str, path: str, body: dict[str, object]
    ) -> ItemErrors:
        where = self._ctx.where(operation)

        def read(response: httpx.Response) -> ItemErrors:
            envelope = parse(Envelope[ItemErrors | None], response, where)
            return envelope.data or ItemErrors()

        return self._call(operation, "POST", path, read, body=body, per_item=True)

    # ---------------------------------------------------------------- orders

    def search_orders(
        self, page_size: int, page_token: str, filters: OrderSearchBody
    ) -> OrdersData:
        """``POST /order/202309/orders/search`` sorted by update time, oldest first."""
        operation = "fetch_orders"
        params = {
            "page_size": str(page_size),
            "sort_field": "update_time",
            "sort_order": "ASC",
        }
        if page_token:
            params["page_token"] = page_token
        return self._call(
            operation,
            "POST",
            "/order/202309/orders/search",
            self._reader(Envelope[OrdersData], operation),
            params=params,
            body=filters.wire(),
            reads_only=True,
        )

    def orders(self, ids: list[str]) -> OrdersData:
        """``GET /order/202309/orders?ids=`` (≤ 50 ids, comma-separated)."""
        operation = "fetch_order"
        return self._call(
            operation,
            "GET",
            "/order/202309/orders",
            self._reader(Envelope[OrdersData], operation),
            params={"ids": ",".join(ids)},
        )


def _classify_token(response: httpx.Response, where: Where) -> None:
    """The token call's answers: a 401 there refuses the app's credentials (not the
    shop's fault); a refused code or refresh token means the shop must be
    authorised again; the rest as any call."""
    status = response.status_code
    try:
        envelope = ErrorEnvelope.model_validate_json(response.content)
    except ValidationError:
        if 200 <= status < 300:
            return  # unreadable: the reader says so
        raise error_for(
            status, 0, f"HTTP {status} from the token call", response, where
        ) from None
    if envelope.code == 0 and 200 <= status < 300:
        return
    text = (
        f"token call refused: code {envelope.code} (HTTP {status}): {envelope.message}"
    )
    error = error_for(status, envelope.code, text, response, where)
    if isinstance(error, TokenRefusedError):
        raise CredentialsRefusedError(text, **where)
    if isinstance(error, RejectedError | ShopNotAuthorisedError):
        raise AuthError(text, **where)
    raise error


__all__ = ["APP_KEY", "APP_SECRET", "TikTokShopClient", "signature"]
