"""The Shopee simulator's partner-level endpoints: shop authorisation and tokens (§2),
shop and merchant information, push configuration and lost pushes (§6), and image
upload (§4.11).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from simulators.kit.routing import SimRequest
from simulators.shopee.state import (
    ACCESS_TOKEN_SECONDS,
    AUTHORISATION_SECONDS,
    CODE_SECONDS,
    LIVE_PUSH_STATUSES,
    LOST_PUSH_SECONDS,
    PARTNER_LEVEL_PUSHES,
    PUBLIC_OR_SHOP,
    PUSH_SHOP_AUTH,
    REFRESH_TOKEN_SECONDS,
    TOP_LEVEL,
    ApiError,
    ApiHandler,
    AuthCode,
    Ctx,
    Grant,
    Merchant,
    Shop,
    SimCore,
    to_int,
)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_BLOCKED_SHOPS = 500
LOST_PUSH_PAGE = 100
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"


def parse_multipart(
    content_type: str, body: bytes
) -> list[tuple[str, str | None, bytes]] | None:
    """(field name, file name, content) of each part; None when not form data."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    boundary = ""
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return None
    parts: list[tuple[str, str | None, bytes]] = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            return None
        name, filename = "", None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if not line.lower().startswith("content-disposition:"):
                continue
            for parameter in line.split(";")[1:]:
                key, _, value = parameter.strip().partition("=")
                if key == "name":
                    name = value.strip('"')
                elif key == "filename":
                    filename = value.strip('"')
        parts.append((name, filename, data.removesuffix(b"\r\n")))
    return parts


class PartnerApi(SimCore):
    """Authorisation, tokens, shop and merchant info, push and media endpoints."""

    def partner_routes(self) -> list[tuple[str, str, str, ApiHandler]]:
        """(method, path, signature kind, handler); kind ``token`` answers with
        top-level fields, and so does a kind ending in ``+top`` (signed as the
        kind before it): the reference's samples of ``public/get_shops_by_partner``,
        ``shop/get_shop_info``, ``merchant/get_merchant_info`` and
        ``merchant/get_shop_list_by_merchant`` carry no ``response`` object."""
        v2 = "/api/v2/"
        return [
            ("GET", v2 + "shop/auth_partner", "public", self._auth_partner),
            ("POST", v2 + "auth/token/get", "token", self._token_get),
            ("POST", v2 + "auth/access_token/get", "token", self._access_token_get),
            (
                "GET",
                v2 + "public/get_shops_by_partner",
                "public" + TOP_LEVEL,
                self._get_shops_by_partner,
            ),
            ("GET", v2 + "shop/get_shop_info", "shop" + TOP_LEVEL, self._get_shop_info),
            (
                "GET",
                v2 + "merchant/get_merchant_info",
                "merchant" + TOP_LEVEL,
                self._merchant_info,
            ),
            (
                "GET",
                v2 + "merchant/get_shop_list_by_merchant",
                "merchant" + TOP_LEVEL,
                self._merchant_shops,
            ),
            ("POST", v2 + "push/set_app_push_config", "public", self._set_push_config),
            ("GET", v2 + "push/get_app_push_config", "public", self._get_push_config),
            ("GET", v2 + "push/get_lost_push_message", "public", self._get_lost),
            (
                "POST",
                v2 + "push/confirm_consumed_lost_push_message",
                "public",
                self._confirm_lost,
            ),
            (
                "POST",
                v2 + "media_space/upload_image",
                PUBLIC_OR_SHOP,
                self._upload_image,
            ),
        ]

    # ------------------------------------------------------------------ codes

    def merchant_by_account(self, main_account_id: int) -> Merchant | None:
        """The merchant of a main account."""
        for merchant in self.merchants.values():
            if merchant.main_account_id == main_account_id:
                return merchant
        return None

    def issue_code(
        self, shop_id: int | None = None, main_account_id: int | None = None
    ) -> str:
        """The seller approves: link the shop (or main account) and return a
        one-time 10-minute ``code``, as the redirect of §2.2 step 2 carries it."""
        now = self.now()
        if main_account_id is not None:
            merchant = self.merchant_by_account(main_account_id)
            if merchant is None:
                raise KeyError(f"unknown main_account_id {main_account_id}")
            merchant.linked = True
            merchant.auth_time, merchant.expire_time = now, now + AUTHORISATION_SECONDS
            linked = [
                s for s in self.shops.values() if s.merchant_id == merchant.merchant_id
            ]
            record = AuthCode(self.hex_token(), 0, main_account_id, now + CODE_SECONDS)
        else:
            chosen = self.shops.get(
                shop_id if shop_id is not None else self.default_shop_id
            )
            if chosen is None:
                raise KeyError(f"unknown shop_id {shop_id}")
            linked = [chosen]
            record = AuthCode(self.hex_token(), chosen.shop_id, 0, now + CODE_SECONDS)
        for shop in linked:
            shop.linked = True
            shop.auth_time, shop.expire_time = now, now + AUTHORISATION_SECONDS
            self.push(
                shop.shop_id,
                PUSH_SHOP_AUTH,
                {"shop_id": shop.shop_id, "success": 1, "extra": ""},
            )
        self.codes[record.code] = record
        return record.code

    @property
    def default_shop_id(self) -> int:
        """The pre-provisioned main shop."""
        return next(iter(self.shops))

    def new_grant(self, shop_ids: list[int], merchant_ids: list[int]) -> Grant:
        """Issue an access token (4 h) and a refresh token (30 days)."""
        now = self.now()
        grant = Grant(
            access_token=self.hex_token(),
            refresh_token=self.hex_token(),
            shop_ids=list(shop_ids),
            merchant_ids=list(merchant_ids),
            created=now,
            access_expires=now + ACCESS_TOKEN_SECONDS,
            refresh_expires=now + REFRESH_TOKEN_SECONDS,
        )
        self.grants_by_access[grant.access_token] = grant
        self.grants_by_refresh[grant.refresh_token] = grant
        return grant

    # ------------------------------------------------------------------ auth

    def _auth_partner(self, ctx: Ctx, req: SimRequest) -> httpx.Response:
        query = req.query
        redirect = query.get("redirect", "")
        if not redirect:
            raise self.param_error(ctx, "redirect is a required field.")
        main_raw, shop_raw = query.get("main_account_id"), query.get("shop_id")
        try:
            if main_raw:
                main = to_int(main_raw)
                code = self.issue_code(main_account_id=main if main is not None else -1)
                extra = {"code": code, "main_account_id": main_raw}
            else:
                shop_id = to_int(shop_raw) if shop_raw else self.default_shop_id
                code = self.issue_code(shop_id=shop_id if shop_id is not None else -1)
                extra = {"code": code, "shop_id": str(shop_id)}
        except KeyError:
            raise self.param_error(ctx, "the seller account is unknown.") from None
        joiner = "&" if "?" in redirect else "?"
        return httpx.Response(
            302, headers={"Location": redirect + joiner + urlencode(extra)}
        )

    def _token_body(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = req.json()
        if not isinstance(data, dict):
            raise ApiError(
                self.common_error("error_param"), "The body must be a JSON object."
            )
        if to_int(data.get("partner_id")) != ctx.partner_id:
            raise ApiError(
                self.common_error("error_param"),
                "partner_id in the body is missing or does not match the query.",
            )
        return data

    def _token_get(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self._token_body(ctx, req)
        code = data.get("code")
        shop_id = (
            to_int(data.get("shop_id")) if data.get("shop_id") is not None else None
        )
        main = (
            to_int(data.get("main_account_id"))
            if data.get("main_account_id") is not None
            else None
        )
        if not isinstance(code, str) or not code or (shop_id is None and main is None):
            raise ApiError(
                self.common_error("error_param"),
                "code and one of shop_id, main_account_id are required.",
            )
        record = self.codes.get(code)
        if record is None or record.used:
            raise ApiError("invalid_code", "Invalid code.")
        if self.now() >= record.expires:
            raise ApiError("invalid_code", "The code is expired.")
        if (shop_id is not None and record.shop_id != shop_id) or (
            main is not None and record.main_account_id != main
        ):
            raise ApiError("invalid_code", "The code was not issued for this account.")
        record.used = True
        if record.shop_id:
            shops, merchants = [record.shop_id], []
        else:
            merchant = self.merchant_by_account(record.main_account_id)
            assert merchant is not None  # noqa: S101 - codes name known accounts
            merchants = [merchant.merchant_id]
            shops = [
                s.shop_id for s in self.shops.values() if s.merchant_id == merchants[0]
            ]
        grant = self.new_grant(shops, merchants)
        return {
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "expire_in": ACCESS_TOKEN_SECONDS,
            "shop_id_list": shops,
            "merchant_id_list": merchants,
        }

    def _access_token_get(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self._token_body(ctx, req)
        refresh = data.get("refresh_token")
        shop_id = (
            to_int(data.get("shop_id")) if data.get("shop_id") is not None else None
        )
        merchant_id = (
            to_int(data.get("merchant_id"))
            if data.get("merchant_id") is not None
            else None
        )
        if (
            not isinstance(refresh, str)
            or not refresh
            or (shop_id is None and merchant_id is None)
        ):
            raise ApiError(
                self.common_error("error_param"),
                "refresh_token and one of shop_id, merchant_id are required.",
            )
        grant = self.grants_by_refresh.get(refresh)
        if grant is None or grant.refresh_spent:
            raise ApiError(self.common_error("error_auth"), "Invalid refresh_token.")
        if self.now() >= grant.refresh_expires:
            raise ApiError("refresh_token_expired", "Refresh token is expired.")
        if shop_id is not None:
            shop = self.shops.get(shop_id)
            if shop is None or shop_id not in grant.shop_ids:
                raise ApiError(
                    self.common_error("error_auth"), "Invalid partner_id or shopid."
                )
            if not self.shop_linked(shop):
                raise ApiError(
                    self.common_error("shop_no_linked"),
                    "Partner and shop has no linked.",
                )
        else:
            merchant = self.merchants.get(merchant_id or 0)
            if merchant is None or merchant.merchant_id not in grant.merchant_ids:
                raise ApiError(
                    self.common_error("error_auth"), "Invalid partner_id or shopid."
                )
            if not (merchant.linked and self.now() < merchant.expire_time):
                raise ApiError(
                    self.common_error("shop_no_linked"),
                    "Partner and shop has no linked.",
                )
        grant.refresh_spent = True
        fresh = self.new_grant(grant.shop_ids, grant.merchant_ids)
        answer: dict[str, Any] = {
            "access_token": fresh.access_token,
            "refresh_token": fresh.refresh_token,
            "expire_in": ACCESS_TOKEN_SECONDS,
            "partner_id": ctx.partner_id,
        }
        if shop_id is not None:
            answer["shop_id"] = shop_id
        else:
            answer["merchant_id"] = merchant_id
        return answer

    # ------------------------------------------------------------------ info

    def _paging(self, ctx: Ctx, req: SimRequest, high: int) -> tuple[int, int]:
        page_no = to_int(req.query.get("page_no") or "1")
        size = to_int(req.query.get("page_size") or str(high))
        if page_no is None or page_no < 1 or size is None or not 1 <= size <= high:
            raise self.param_error(ctx, f"page_no >= 1 and page_size 1 to {high}.")
        return page_no, size

    def _get_shops_by_partner(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        page_no, size = self._paging(ctx, req, 100)
        shops = [s for s in self.shops.values() if self.shop_linked(s)]
        page = shops[(page_no - 1) * size : page_no * size]
        return {
            "authed_shop_list": [
                {
                    "shop_id": s.shop_id,
                    "region": "ID",
                    "auth_time": s.auth_time,
                    "expire_time": s.expire_time,
                    "sip_affi_shops": [],
                }
                for s in page
            ],
            "more": page_no * size < len(shops),
        }

    def _get_shop_info(self, ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        shop: Shop | None = ctx.shop
        assert shop is not None  # noqa: S101 - shop-level endpoint
        return {
            "shop_name": shop.shop_name,
            "region": "ID",
            "status": "NORMAL",
            "is_cb": False,
            "is_sip": False,
            "is_upgraded_cbsc": False,
            "merchant_id": shop.merchant_id or None,
            "shop_fulfillment_flag": "Pure - FBS Shop" if shop.fbs else "Others",
            "is_main_shop": False,
            "is_direct_shop": False,
            "auth_time": shop.auth_time,
            "expire_time": shop.expire_time,
        }

    def _merchant_info(self, ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        merchant = ctx.merchant
        assert merchant is not None  # noqa: S101 - merchant-level endpoint
        return {
            "merchant_name": merchant.merchant_name,
            "is_cnsc": True,
            "is_upgraded_cbsc": False,
            "merchant_region": "ID",
            "merchant_currency": "IDR",
            "auth_time": merchant.auth_time,
            "expire_time": merchant.expire_time,
        }

    def _merchant_shops(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        merchant = ctx.merchant
        assert merchant is not None  # noqa: S101 - merchant-level endpoint
        page_no, size = self._paging(ctx, req, 500)
        shops = [
            s for s in self.shops.values() if s.merchant_id == merchant.merchant_id
        ]
        page = shops[(page_no - 1) * size : page_no * size]
        return {
            "shop_list": [{"shop_id": s.shop_id, "sip_affi_shops": []} for s in page],
            "is_cnsc": True,
            "more": page_no * size < len(shops),
        }

    # ------------------------------------------------------------------ push

    def _codes(self, ctx: Ctx, raw: object, name: str) -> set[int]:
        if raw is None:
            return set()
        values = [to_int(v) for v in raw] if isinstance(raw, list) else [None]
        if any(v is None for v in values):
            raise self.param_error(ctx, f"{name} must be a list of integers.")
        return {v for v in values if v is not None}

    def _set_push_config(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        on = self._codes(ctx, data.get("set_push_config_on"), "set_push_config_on")
        off = self._codes(ctx, data.get("set_push_config_off"), "set_push_config_off")
        blocked_raw = data.get("blocked_shop_id_list")
        blocked = (
            self._codes(ctx, blocked_raw, "blocked_shop_id_list")
            if blocked_raw is not None
            else None
        )
        if blocked is not None and len(blocked) > MAX_BLOCKED_SHOPS:
            raise self.param_error(
                ctx, f"blocked_shop_id_list holds at most {MAX_BLOCKED_SHOPS} shops."
            )
        url = data.get("callback_url")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise self.param_error(ctx, "callback_url must be an http(s) URL.")
            if not self.check_callback(url):
                raise self.param_error(
                    ctx, "callback_url did not answer the check request with 2xx."
                )
            self.push_url = url
        self.push_codes = (self.push_codes | on) - off
        if blocked is not None:
            self.push_blocked = blocked
        return {"result": "success"}

    def check_callback(self, url: str) -> bool:
        """Send the empty-body check, signed over ``url + "|"`` (§11)."""
        delivery = self.webhooks.send(
            url,
            b"",
            {
                "Content-Type": "application/json",
                "Authorization": self.push_signature(url, b""),
            },
            "Authorization",
        )
        held = any(waiting is delivery for waiting in self.webhooks.held)
        return delivery.delivered or held

    def _get_push_config(self, _ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        known = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
        return {
            "callback_url": self.push_url,
            "live_push_status": self.live_push_status,
            "suspended_time": self.suspended_time,
            "blocked_shop_id": sorted(self.push_blocked),
            "push_config_on_list": sorted(self.push_codes),
            "push_config_off_list": sorted(known - self.push_codes),
        }

    def set_live_push_status(self, status: str) -> None:
        """Set ``live_push_status`` (``Normal`` | ``Warning`` | ``Suspended``); while
        suspended nothing is delivered and every push becomes a lost push."""
        if status not in LIVE_PUSH_STATUSES:
            raise ValueError(f"live_push_status must be one of {LIVE_PUSH_STATUSES}")
        self.live_push_status = status
        self.suspended_time = self.now() if status == "Suspended" else 0

    def _get_lost(self, _ctx: Ctx, _req: SimRequest) -> dict[str, Any]:
        cutoff = self.now() - LOST_PUSH_SECONDS
        self.lost_pushes = [
            m for m in self.lost_pushes if not m.consumed and m.timestamp >= cutoff
        ]
        page = self.lost_pushes[:LOST_PUSH_PAGE]
        rows: list[dict[str, Any]] = []
        for message in page:
            row: dict[str, Any] = {
                "code": message.code,
                "timestamp": message.timestamp,
                "data": message.data,
            }
            if message.code not in PARTNER_LEVEL_PUSHES:
                row = {"shop_id": message.shop_id, **row}
            rows.append(row)
        return {
            "push_message_list": rows,
            "has_next_page": len(self.lost_pushes) > LOST_PUSH_PAGE,
            "last_message_id": page[-1].message_id if page else 0,
        }

    def _confirm_lost(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        last = to_int(data.get("last_message_id"))
        if last is None:
            raise self.param_error(ctx, "last_message_id is a required integer.")
        for message in self.lost_pushes:
            if message.message_id <= last:
                message.consumed = True
        return {}

    # ------------------------------------------------------------------ media

    def _upload_image(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        parts = parse_multipart(req.headers.get("content-type", ""), req.body)
        if parts is None:
            raise self.param_error(
                ctx, "the body must be multipart/form-data with image files."
            )
        files = [p for p in parts if p[0] in ("image", "file") and p[1] is not None]
        fields = {p[0]: p[2].decode("utf-8", "replace") for p in parts if p[1] is None}
        if fields.get("scene", "normal") not in ("normal", "desc"):
            raise self.param_error(ctx, "scene should be normal or desc.")
        if not 1 <= len(files) < 9:
            raise self.param_error(ctx, "image number should be 1 to 8 (less than 9).")
        results: list[dict[str, Any]] = []
        for index, (_, _, content) in enumerate(files):
            problem = ""
            if len(content) > MAX_IMAGE_BYTES:
                problem = "The image is larger than 10 MB."
            elif not content.startswith((_JPEG, _PNG)):
                problem = "Image format should be JPG, JPEG or PNG."
            if problem:
                results.append(
                    {"id": index, "error": "error_param", "message": problem}
                )
                continue
            image_id = f"id-11134207-{self.hex_token(80)}"
            self.images.add(image_id)
            info = {
                "image_id": image_id,
                "image_url_list": [
                    {
                        "image_url_region": "ID",
                        "image_url": f"https://cf.shopee.co.id/file/{image_id}",
                    }
                ],
            }
            results.append(
                {"id": index, "error": "", "message": "", "image_info": info}
            )
        good = [r for r in results if not r["error"]]
        if not good:
            raise self.param_error(ctx, results[0]["message"])
        return {"image_info": good[0]["image_info"], "image_info_list": results}
