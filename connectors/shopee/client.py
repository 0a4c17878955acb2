"""Shopee Open Platform v2 calls: one typed method per endpoint, signing, tokens.

Every call goes through :func:`connectors._http.send` with a request built afresh per
attempt (new ``timestamp``, new ``sign``), this package's :func:`classify`, the rate
budget keyed as Shopee meters it (shop and endpoint; partner and endpoint for public
calls), and the context's retry policy.

Signing (shopee.md §2.1): ``sign = lowercase hex HMAC-SHA256(partner_key, base)`` with
``base = partner_id + api_path + timestamp`` for public, auth and ``push/*`` partner
APIs (and ``media_space/upload_image``, a public API), and
``partner_id + api_path + timestamp + access_token + shop_id`` for shop APIs. The
common parameters ``partner_id``, ``timestamp``, ``sign`` (and ``access_token``,
``shop_id``) travel in the query string, so a request URL is never logged.

Tokens go through :class:`~connectors._tokens.TokenKeeper`: refreshed shortly before
they expire and once after Shopee refuses the access token (the call is then retried
once), always under the token store's hold, so the single-use refresh token is spent
by one holder and the new pair is saved before it is used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from connectors._context import ConnectorContext
from connectors._http import send
from connectors._tokens import TokenKeeper
from connectors.shopee import schemas
from connectors.shopee.errors import (
    AuthorisationGoneError,
    CredentialsRefusedError,
    DailyQuotaError,
    TokenRefusedError,
    classify,
    error_name,
)
from connectors.shopee.settings import ShopeeSettings
from core.domain.remote import Secret
from core.errors import AuthError, ConnectorError, ContractError, RejectedError, Where
from core.ports import TokenSet

log = structlog.get_logger(__name__)

API = "/api/v2/"
#: Shopee's refresh tokens last 30 days (§2.3); the token APIs do not say so.
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
#: ``upload_image`` takes fewer than 9 images per call (§4.11).
IMAGES_PER_UPLOAD = 8
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Detail fields that are returned only when named (§5.2).
ORDER_FIELDS = "item_list,total_amount,pay_time"
#: ``update_stock`` answers this when every row failed, still listing each reason.
ALL_ROWS_FAILED = frozenset({"error_busi_update_stock_failed"})
#: ``unlist_item`` answers this when every item failed, still listing each reason.
ALL_UNLISTS_FAILED = frozenset({"error_unlist_item_all_failed"})

_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"

ResponseModel = TypeVar("ResponseModel", bound=BaseModel)
T = TypeVar("T")
#: One query parameter (repeated keys are repeated items).
QueryItem = tuple[str, str | int | float | bool | None]


def signature(
    partner_key: str,
    partner_id: int,
    api_path: str,
    timestamp: int,
    access_token: str = "",
    shop_id: int | None = None,
) -> str:
    """§2.1: lowercase hex HMAC-SHA256 of the concatenated base string."""
    base = f"{partner_id}{api_path}{timestamp}{access_token}"
    if shop_id is not None:
        base += str(shop_id)
    return hmac.new(
        partner_key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def _problems(exc: ValidationError) -> str:
    """A validation failure without the values it saw (they may be tokens)."""
    found = exc.errors(include_input=False, include_url=False)
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
        for error in found[:3]
    ]
    more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(parts) + more


def _ignore(_response: httpx.Response) -> None:
    """For calls whose successful answer carries nothing to read."""


class _RefreshRefusedError(ConnectorError):
    """A refresh refused for the app's credentials, not the shop's: raised from the
    refresher so that TokenKeeper does not mark the account for re-authorisation."""


class ShopeeClient:
    """One shop's Shopee calls; built by :class:`ShopeeConnector`."""

    def __init__(
        self,
        ctx: ConnectorContext,
        settings: ShopeeSettings,
        partner_key: Secret,
        shop_id: int,
    ) -> None:
        self._ctx = ctx
        self._partner_id = settings.partner_id
        self._key = partner_key
        self._shop_id = shop_id
        self._base = ctx.base_url.rstrip("/")
        self._keeper = TokenKeeper(
            ctx.tokens,
            ctx.account.id,
            self._refresh,
            ctx.clock,
            ctx.where("refresh_token"),
        )
        self._quota_resets_at: datetime | None = None

    def forget_tokens(self) -> None:
        """Read the stored tokens again at the next call (new ones were saved)."""
        self._keeper.forget()

    @property
    def shop_id(self) -> int:
        """The shop this client calls for."""
        return self._shop_id

    # ------------------------------------------------------------------ plumbing

    def _timestamp(self) -> int:
        return int(self._ctx.clock.now().timestamp())

    def _quota_error(self, where: Where, resets_at: datetime) -> DailyQuotaError:
        wait = max((resets_at - self._ctx.clock.now()).total_seconds(), 0.0)
        return DailyQuotaError(
            "the app's daily API call quota is used up; calls work again after "
            "00:00 UTC+8",
            resets_at=resets_at,
            retry_after=wait,
            **where,
        )

    def _send(
        self,
        op: str,
        build: Callable[[], httpx.Request],
        *,
        read: Callable[[httpx.Response], T],
        budget_key: Hashable,
        idempotent: bool = True,
        passthrough: Collection[str] = (),
    ) -> T:
        where = self._ctx.where(op)
        resets_at = self._quota_resets_at
        if resets_at is not None:
            if self._ctx.clock.now() < resets_at:
                raise self._quota_error(where, resets_at)
            self._quota_resets_at = None
        try:
            return send(
                self._ctx.http,
                build,
                classify=lambda response: classify(
                    response,
                    where,
                    now=self._ctx.clock.now(),
                    passthrough=passthrough,
                ),
                where=where,
                budget=self._ctx.budget,
                budget_key=budget_key,
                read=read,
                idempotent=idempotent,
                policy=self._ctx.policy,
                sleep=self._ctx.sleep,
            )
        except DailyQuotaError as exc:
            # Waited out only briefly inside send(); the real wait is hours, so fail
            # fast from now until the reset instead of sleeping a worker.
            self._quota_resets_at = exc.resets_at
            log.warning(
                "shopee.daily_quota_exhausted",
                resets_at=exc.resets_at.isoformat(),
                **where,
            )
            raise self._quota_error(where, exc.resets_at) from None

    def _public(
        self,
        op: str,
        method: str,
        path: str,
        *,
        read: Callable[[httpx.Response], T],
        params: Sequence[QueryItem] = (),
        json: Any = None,
        files: Any = None,
        data: dict[str, str] | None = None,
    ) -> T:
        """A public / auth / partner call: base ``partner_id + path + timestamp``."""
        url = self._base + path

        def build() -> httpx.Request:
            ts = self._timestamp()
            sign = signature(self._key.reveal(), self._partner_id, path, ts)
            query: list[QueryItem] = [
                ("partner_id", self._partner_id),
                ("timestamp", ts),
                ("sign", sign),
                *params,
            ]
            return self._ctx.http.build_request(
                method,
                url,
                params=query,
                json=json,
                files=files,
                data=data,
                timeout=self._ctx.timeout,
            )

        return self._send(
            op, build, read=read, budget_key=("partner", self._partner_id, op)
        )

    def _shop_build(
        self,
        method: str,
        path: str,
        params: Sequence[QueryItem],
        json: Any,
        tokens: TokenSet,
    ) -> Callable[[], httpx.Request]:
        url = self._base + path
        secret = tokens.access_token

        def build() -> httpx.Request:
            if secret is None:  # checked by _tokens(); kept for the type checker
                raise AuthError("no access token", **self._ctx.where())
            token = secret.reveal()
            ts = self._timestamp()
            sign = signature(
                self._key.reveal(), self._partner_id, path, ts, token, self._shop_id
            )
            query: list[QueryItem] = [
                ("partner_id", self._partner_id),
                ("timestamp", ts),
                ("access_token", token),
                ("shop_id", self._shop_id),
                ("sign", sign),
                *params,
            ]
            return self._ctx.http.build_request(
                method, url, params=query, json=json, timeout=self._ctx.timeout
            )

        return build

    def _shop(
        self,
        op: str,
        method: str,
        path: str,
        *,
        read: Callable[[httpx.Response], T],
        params: Sequence[QueryItem] = (),
        json: Any = None,
        idempotent: bool = True,
        passthrough: Collection[str] = (),
    ) -> T:
        """A shop-level call whose answer ``read`` reads within the attempt (an
        unreadable answer to a read is asked for again); a refused access token is
        refreshed once and the call retried once; a shop no longer linked marks the
        account."""
        where = self._ctx.where(op)
        key = ("shop", self._shop_id, op)
        tokens = self._tokens()
        try:
            try:
                return self._send(
                    op,
                    self._shop_build(method, path, params, json, tokens),
                    read=read,
                    budget_key=key,
                    idempotent=idempotent,
                    passthrough=passthrough,
                )
            except TokenRefusedError as refused:
                log.info("tokens.refused", reason=refused.reason, **where)
                tokens = self._tokens(refused=tokens)
                try:
                    return self._send(
                        op,
                        self._shop_build(method, path, params, json, tokens),
                        read=read,
                        budget_key=key,
                        idempotent=idempotent,
                        passthrough=passthrough,
                    )
                except TokenRefusedError as again:
                    raise AuthError(
                        f"the access token was refused again after a refresh "
                        f"({again.reason})",
                        **where,
                    ) from None
        except AuthorisationGoneError as gone:
            self._keeper.mark_unauthorised(gone.reason)
            raise

    def _tokens(self, refused: TokenSet | None = None) -> TokenSet:
        where = self._ctx.where("refresh_token")
        try:
            tokens = (
                self._keeper.current()
                if refused is None
                else self._keeper.after_auth_error(refused)
            )
        except _RefreshRefusedError as exc:
            raise CredentialsRefusedError(exc.reason, **where) from None
        except AuthorisationGoneError as exc:  # the keeper has marked the account
            raise AuthError(exc.reason, **where) from None
        if tokens.access_token is None:
            raise AuthError(
                "no access token is stored; authorise the shop first", **where
            )
        return tokens

    def _reader(
        self, model: type[ResponseModel], op: str
    ) -> Callable[[httpx.Response], ResponseModel]:
        """Reads an answer's ``response`` as ``model``; ``ContractError`` otherwise."""
        where = self._ctx.where(op)

        def read(response: httpx.Response) -> ResponseModel:
            try:
                envelope = schemas.Envelope.model_validate_json(response.content)
                return model.model_validate(envelope.response or {})
            except ValidationError as exc:
                raise ContractError(
                    f"the answer did not match the contract: {_problems(exc)}",
                    **where,
                ) from exc

        return read

    def _fields_reader(
        self, model: type[ResponseModel], op: str
    ) -> Callable[[httpx.Response], ResponseModel]:
        """Reads an answer's top-level fields as ``model`` (the APIs whose reference
        sample has no ``response`` object, §3.1); ``ContractError`` otherwise."""
        where = self._ctx.where(op)

        def read(response: httpx.Response) -> ResponseModel:
            try:
                return model.model_validate_json(response.content)
            except ValidationError as exc:
                raise ContractError(
                    f"the answer did not match the contract: {_problems(exc)}",
                    **where,
                ) from exc

        return read

    def _token_answer(self, response: httpx.Response, op: str) -> schemas.TokenAnswer:
        try:
            return schemas.TokenAnswer.model_validate_json(response.content)
        except ValidationError as exc:  # not chained: the input holds tokens
            raise ContractError(
                f"the token answer did not match the contract: {_problems(exc)}",
                **self._ctx.where(op),
            ) from None

    def _token_set(self, answer: schemas.TokenAnswer) -> TokenSet:
        now = self._ctx.clock.now()
        return TokenSet(
            access_token=Secret(answer.access_token),
            refresh_token=Secret(answer.refresh_token),
            access_expires_at=now + timedelta(seconds=answer.expire_in),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
        )

    # ------------------------------------------------------------------ auth

    def authorization_url(self, redirect: str) -> str:
        """``shop/auth_partner``, signed as a public API (valid about 5 minutes)."""
        path = API + "shop/auth_partner"
        ts = self._timestamp()
        query = urlencode(
            {
                "partner_id": self._partner_id,
                "timestamp": ts,
                "sign": signature(self._key.reveal(), self._partner_id, path, ts),
                "redirect": redirect,
            }
        )
        return f"{self._base}{path}?{query}"

    def exchange_code(self, code: str) -> TokenSet:
        """``auth/token/get``: the tokens for an approval code.

        Raises:
            AuthError: the code was refused or was issued for another shop.
        """
        op = "auth.token.get"
        body = schemas.TokenRequest(
            code=code, partner_id=self._partner_id, shop_id=self._shop_id
        )
        answer = self._public(
            op,
            "POST",
            API + "auth/token/get",
            read=lambda response: self._token_answer(response, op),
            json=body.model_dump(),
        )
        if answer.shop_id_list and self._shop_id not in answer.shop_id_list:
            raise AuthError(
                "the approval code was issued for another shop", **self._ctx.where(op)
            )
        return self._token_set(answer)

    def _refresh(self, tokens: TokenSet) -> TokenSet:
        """``auth/access_token/get``: a new access token and a new refresh token (the
        old one is spent). TokenKeeper calls this under the store's hold and saves
        the answer before anything uses it."""
        op = "auth.access_token.get"
        where = self._ctx.where(op)
        if tokens.refresh_token is None:
            raise AuthError(
                "no refresh token is stored; the shop must be authorised", **where
            )
        body = schemas.RefreshRequest(
            refresh_token=tokens.refresh_token.reveal(),
            partner_id=self._partner_id,
            shop_id=self._shop_id,
        )
        try:
            answer = self._public(
                op,
                "POST",
                API + "auth/access_token/get",
                read=lambda response: self._token_answer(response, op),
                json=body.model_dump(),
            )
        except CredentialsRefusedError as exc:
            raise _RefreshRefusedError(exc.reason, **where) from None
        return self._token_set(answer)

    # ------------------------------------------------------------------ shop

    def get_shop_info(self) -> schemas.ShopInfo:
        """``shop/get_shop_info``: a cheap authenticated call; its fields are at
        the answer's top level."""
        op = "shop.get_shop_info"
        return self._shop(
            op,
            "GET",
            API + "shop/get_shop_info",
            read=self._fields_reader(schemas.ShopInfo, op),
        )

    # ------------------------------------------------------------------ products

    def add_item(self, body: schemas.AddItemRequest) -> schemas.AddedItem:
        """``product/add_item``: one item; not idempotent (a lost answer is
        :class:`~core.errors.OutcomeUnknownError`)."""
        op = "product.add_item"
        return self._shop(
            op,
            "POST",
            API + "product/add_item",
            read=self._reader(schemas.AddedItem, op),
            json=body.model_dump(exclude_none=True),
            idempotent=False,
        )

    def update_item(self, body: schemas.UpdateItemRequest) -> None:
        """``product/update_item``: the listing's content, never price or stock."""
        op = "product.update_item"
        self._shop(
            op,
            "POST",
            API + "product/update_item",
            read=_ignore,
            json=body.model_dump(exclude_none=True),
        )

    def unlist_item(self, body: schemas.UnlistItemRequest) -> schemas.UnlistAnswer:
        """``product/unlist_item``: take 1-50 items off sale or back on sale (§4.10a);
        per-item outcomes, also when every item failed."""
        op = "product.unlist_item"
        where = self._ctx.where(op)

        def read(response: httpx.Response) -> schemas.UnlistAnswer:
            try:
                envelope = schemas.Envelope.model_validate_json(response.content)
                result = schemas.UnlistResult.model_validate(envelope.response or {})
            except ValidationError as exc:
                raise ContractError(
                    f"the answer did not match the contract: {_problems(exc)}",
                    **where,
                ) from exc
            return schemas.UnlistAnswer(
                error=error_name(envelope.error) if envelope.error else "",
                message=envelope.message,
                result=result,
            )

        return self._shop(
            op,
            "POST",
            API + "product/unlist_item",
            read=read,
            json=body.model_dump(),
            passthrough=ALL_UNLISTS_FAILED,
        )

    def _batch(
        self, op: str, path: str, body: BaseModel, passthrough: Collection[str]
    ) -> schemas.BatchAnswer:
        where = self._ctx.where(op)

        def read(response: httpx.Response) -> schemas.BatchAnswer:
            try:
                envelope = schemas.Envelope.model_validate_json(response.content)
                result = schemas.BatchResult.model_validate(envelope.response or {})
            except ValidationError as exc:
                raise ContractError(
                    f"the answer did not match the contract: {_problems(exc)}",
                    **where,
                ) from exc
            return schemas.BatchAnswer(
                error=error_name(envelope.error) if envelope.error else "",
                message=envelope.message,
                result=result,
            )

        return self._shop(
            op,
            "POST",
            API + path,
            read=read,
            json=body.model_dump(exclude_none=True),
            passthrough=passthrough,
        )

    def update_stock(self, body: schemas.UpdateStockRequest) -> schemas.BatchAnswer:
        """``product/update_stock``: one item, 1-50 models, per-model outcomes."""
        return self._batch(
            "product.update_stock", "product/update_stock", body, ALL_ROWS_FAILED
        )

    def update_price(self, body: schemas.UpdatePriceRequest) -> schemas.BatchAnswer:
        """``product/update_price``: one item, 1-50 models, per-model outcomes."""
        return self._batch("product.update_price", "product/update_price", body, ())

    def get_item_list(
        self,
        statuses: Iterable[str],
        offset: int,
        page_size: int,
        update_time_from: int | None = None,
        update_time_to: int | None = None,
    ) -> schemas.ItemListPage:
        """``product/get_item_list``: ``item_status`` repeated, offset paging."""
        op = "product.get_item_list"
        params: list[QueryItem] = [
            ("offset", offset),
            ("page_size", page_size),
            *(("item_status", status) for status in statuses),
        ]
        if update_time_from is not None:
            params.append(("update_time_from", update_time_from))
        if update_time_to is not None:
            params.append(("update_time_to", update_time_to))
        return self._shop(
            op,
            "GET",
            API + "product/get_item_list",
            read=self._reader(schemas.ItemListPage, op),
            params=params,
        )

    def get_item_base_info(self, item_ids: Sequence[int]) -> schemas.ItemBaseInfoList:
        """``product/get_item_base_info``: up to 50 ids, comma-joined."""
        op = "product.get_item_base_info"
        params: list[QueryItem] = [("item_id_list", ",".join(str(i) for i in item_ids))]
        return self._shop(
            op,
            "GET",
            API + "product/get_item_base_info",
            read=self._reader(schemas.ItemBaseInfoList, op),
            params=params,
        )

    def get_model_list(self, item_id: int) -> schemas.ModelList:
        """``product/get_model_list``: the models of an item with variants."""
        op = "product.get_model_list"
        return self._shop(
            op,
            "GET",
            API + "product/get_model_list",
            read=self._reader(schemas.ModelList, op),
            params=[("item_id", item_id)],
        )

    def search_item(self, sku: str, offset: int, page_size: int) -> schemas.SearchPage:
        """``product/search_item`` by ``item_sku``."""
        op = "product.search_item"
        params: list[QueryItem] = [
            ("item_sku", sku),
            ("offset", offset),
            ("page_size", page_size),
        ]
        return self._shop(
            op,
            "GET",
            API + "product/search_item",
            read=self._reader(schemas.SearchPage, op),
            params=params,
        )

    # ------------------------------------------------------------------ images

    def fetch_image(self, url: str, position: int) -> tuple[bytes, str]:
        """Download one of a draft's images (not a Shopee call: no signature, no
        retries); its bytes and content type.

        Raises:
            RejectedError: it could not be fetched, is not JPG/PNG or is over 10 MB.
        """
        where = self._ctx.where("media_space.fetch_image")
        try:
            host = (
                httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
            )
        except httpx.InvalidURL:
            host = ""
        label = f"image {position}" + (f" ({host})" if host else "")

        def refuse(reason: str) -> RejectedError:
            return RejectedError(
                f"{label} {reason}",
                code="image_unavailable",
                fields={"image": reason},
                **where,
            )

        if not host:
            raise refuse("is not an http(s) URL")
        try:
            response = self._ctx.http.get(
                url, timeout=self._ctx.timeout, follow_redirects=True
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise refuse(f"could not be fetched ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise refuse(f"could not be fetched (HTTP {response.status_code})")
        content = response.content
        if len(content) > MAX_IMAGE_BYTES:
            raise refuse("is larger than 10 MB")
        if content.startswith(_JPEG):
            return content, "image/jpeg"
        if content.startswith(_PNG):
            return content, "image/png"
        raise refuse("is not a JPG or PNG image")

    def upload_images(
        self, images: Sequence[tuple[bytes, str]]
    ) -> list[schemas.ImageResult]:
        """``media_space/upload_image`` (multipart, public API): fewer than 9 images
        per call; one result per image, in order."""
        op = "media_space.upload_image"
        files = [
            ("image", (f"image-{n}.{kind.rsplit('/', 1)[-1]}", content, kind))
            for n, (content, kind) in enumerate(images, start=1)
        ]
        answer = self._public(
            op,
            "POST",
            API + "media_space/upload_image",
            read=self._reader(schemas.UploadedImages, op),
            files=files,
            data={"scene": "normal"},
        )
        if answer.image_info_list:
            return sorted(answer.image_info_list, key=lambda result: result.id)
        if answer.image_info is not None and len(images) == 1:
            return [schemas.ImageResult(id=0, image_info=answer.image_info)]
        raise ContractError(
            "upload_image answered without image ids", **self._ctx.where(op)
        )

    # ------------------------------------------------------------------ orders

    def get_order_list(
        self, time_from: int, time_to: int, cursor: str, page_size: int
    ) -> schemas.OrderListPage:
        """``order/get_order_list`` by update time (≤ 15 days), cursor paging."""
        op = "order.get_order_list"
        params: list[QueryItem] = [
            ("time_range_field", "update_time"),
            ("time_from", time_from),
            ("time_to", time_to),
            ("page_size", page_size),
        ]
        if cursor:
            params.append(("cursor", cursor))
        return self._shop(
            op,
            "GET",
            API + "order/get_order_list",
            read=self._reader(schemas.OrderListPage, op),
            params=params,
        )

    def get_order_detail(self, order_sns: Sequence[str]) -> schemas.OrderDetailList:
        """``order/get_order_detail``: 1-50 ``order_sn`` with the line items, total
        and payment time."""
        op = "order.get_order_detail"
        params: list[QueryItem] = [
            ("order_sn_list", ",".join(order_sns)),
            ("response_optional_fields", ORDER_FIELDS),
        ]
        return self._shop(
            op,
            "GET",
            API + "order/get_order_detail",
            read=self._reader(schemas.OrderDetailList, op),
            params=params,
        )

    def cancel_order(self, body: schemas.CancelOrderRequest) -> schemas.CancelAnswer:
        """``order/cancel_order``: the seller cancels one order before it ships; not
        idempotent (a lost answer is :class:`~core.errors.OutcomeUnknownError`)."""
        op = "order.cancel_order"
        return self._shop(
            op,
            "POST",
            API + "order/cancel_order",
            read=self._reader(schemas.CancelAnswer, op),
            json=body.model_dump(exclude_none=True),
            idempotent=False,
        )
