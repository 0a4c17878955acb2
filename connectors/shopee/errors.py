"""Shopee's error names → ikm-sync's error tree; the response classifier.

The body decides first (shopee.md §3): a non-empty ``error`` is a failure whatever the
HTTP status (errors may come with HTTP 200), and names are matched without their module
prefix (``product.error_param`` → ``error_param``). Shopee's own misspellings are the
real names (``invalid_acceess_token``, ``error_price_exceed_max_limitt``); the correct
spellings are accepted too. Only when the body names no error does the HTTP status
decide (429, 408, 5xx, 401/403, other 4xx). A success whose body is not a JSON object
is an :class:`~core.errors.UnreadableAnswerError` (a read is asked for again).

Three :class:`~core.errors.AuthError` subclasses tell the client what to do:

* :class:`TokenRefusedError` — the access (or refresh) token was refused: refresh once
  and retry the call once;
* :class:`AuthorisationGoneError` — the shop's authorisation is gone for good
  (``shop_no_linked``, ``refresh_token_expired``): mark the account for
  re-authorisation;
* :class:`CredentialsRefusedError` — the app's own credentials or rights were refused
  (wrong sign, partner key expired, IP not whitelisted, no permission): neither a
  refresh nor the seller can fix that.

Rate limits: ``error_rate_limit`` is a :class:`~core.errors.RateLimitError` that waits
what a ``Retry-After`` header asks (none is documented, so usually the exponential
back-off of ``connectors._http``); ``error_limit`` (the app's daily quota, a gateway
error: bare or ``common.``) is a :class:`DailyQuotaError` whose ``resets_at`` is the
next 00:00 UTC+8. An endpoint's own ``error_limit`` (``order.error_limit``: "Can not
cancel this order") is a rejection, never a quota to wait for.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, time, timedelta, timezone
from typing import Any, Unpack

import httpx

from core.errors import (
    AuthError,
    ConnectorError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
    Where,
)

#: Shopee's daily quota resets at 00:00 in this zone (§7).
QUOTA_ZONE = timezone(timedelta(hours=8))


class TokenRefusedError(AuthError):
    """Shopee refused the access token (or, on a refresh, the refresh token)."""


class AuthorisationGoneError(AuthError):
    """The shop's authorisation for the app is gone; the seller must authorise again."""


class CredentialsRefusedError(AuthError):
    """The app's own credentials or rights were refused; fix the settings.

    The seller need not authorise again, so ``reauthorise`` defaults to False.
    """

    def __init__(
        self, message: str, *, reauthorise: bool = False, **where: Unpack[Where]
    ) -> None:
        super().__init__(message, reauthorise=reauthorise, **where)


class DailyQuotaError(RateLimitError):
    """The app used its daily call quota; calls work again at ``resets_at``."""

    def __init__(
        self,
        message: str,
        *,
        resets_at: datetime,
        retry_after: float | None = None,
        **where: Unpack[Where],
    ) -> None:
        super().__init__(message, retry_after=retry_after, **where)
        self.resets_at = resets_at


#: Names meaning the access token is invalid (both spellings of the misspelt one).
TOKEN_REFUSED = frozenset({"invalid_acceess_token", "invalid_access_token"})
#: Names meaning the shop's authorisation has ended.
AUTHORISATION_GONE = frozenset({"shop_no_linked", "refresh_token_expired"})
#: Names meaning the app's credentials are wrong or lack rights.
CREDENTIALS_REFUSED = frozenset(
    {"error_sign", "error_partner_key_expired", "source_ip_undeclared"}
)
#: Server-side failures worth retrying.
TRANSIENT = frozenset({"error_inner"})

#: Rejections and the request field they concern (§4.1, §4.5, §4.6).
FIELDS: dict[str, str] = {
    "error_item_name_empty": "item_name",
    "error_item_name_is_too_short": "item_name",
    "error_title_exceeds_max_length": "item_name",
    "error_name_length_limit": "item_name",
    "error_title_character_forbidden": "item_name",
    "error_desc_length_min_limit": "description",
    "error_invalid_category": "category_id",
    "error_category_is_block": "category_id",
    "error_price_exceed_min_limitt": "original_price",
    "error_price_exceed_max_limitt": "original_price",
    "error_price_exceed_min_limit": "original_price",
    "error_price_exceed_max_limit": "original_price",
    "error_invalid_price": "original_price",
    "error_cannot_update_price_in_promotion": "original_price",
    "error_busi_price_lower_then_wholesale_price": "original_price",
    "error_price_should_be_same_for_wholesales": "original_price",
    "error_whole_sale_price_setting_incorrect": "wholesale",
    "error_param_dts_exceeds_max_limit": "pre_order.days_to_ship",
    "error_reach_shop_item_limit": "item",
    "error_item_not_found": "item_id",
    "error_item_not_belong_shop": "item_id",
    "error_holiday_mode_change_stock": "seller_stock",
    "error_cannt_edit_stock_in_promotion": "seller_stock",
    "error_busi_update_stock_failed": "stock_list",
}
#: ``error_param`` messages (§4.1, §4.5) and the field they concern.
PARAM_MESSAGES: tuple[tuple[str, str], ...] = (
    ("image not exist", "image"),
    ("invalid weight", "weight"),
    ("dimension is required", "dimension"),
    ("lack of location_id", "location_id"),
    ("repeat model_id", "model_id"),
    ("timestamp", "timestamp"),
)

_ROW_CODE = re.compile(r"^\s*(?:[a-z]+\.)?(error_[a-z_]+)")


#: Modules whose endpoints prefix their own errors (``order.error_limit``); gateway
#: errors are bare or ``common.``.
ENDPOINT_MODULES = frozenset({"product", "order", "logistics"})


def _module(raw: str) -> str:
    module, dot, _ = raw.strip().partition(".")
    return module.lower() if dot else ""


def error_name(raw: str) -> str:
    """The error name without its module prefix, lower case (§3.2)."""
    name = raw.strip()
    module, dot, rest = name.partition(".")
    while dot and rest and module.isidentifier():
        name = rest
        module, dot, rest = name.partition(".")
    return name.lower()


def next_quota_reset(now: datetime) -> datetime:
    """The next 00:00 UTC+8 after ``now`` (the daily quota reset), in UTC."""
    local = now.astimezone(QUOTA_ZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), QUOTA_ZONE)
    return midnight.astimezone(now.tzinfo)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a ``Retry-After`` header asks for (not documented by Shopee, obeyed
    when sent)."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _field_of(code: str, message: str) -> dict[str, str]:
    if code in FIELDS:
        return {FIELDS[code]: message or code}
    if code == "error_param":
        lowered = message.lower()
        for needle, field in PARAM_MESSAGES:
            if needle in lowered:
                return {field: message}
    return {}


def error_for(
    code: str,
    message: str,
    where: Where,
    *,
    now: datetime,
    wait: float | None = None,
) -> ConnectorError:
    """The error for a Shopee error name (already without its prefix)."""
    text = f"{code}: {message}" if message else code
    lowered = message.lower()
    if code in TOKEN_REFUSED:
        return TokenRefusedError(text, **where)
    if code == "error_auth":
        if "partner_id" in lowered or "permission" in lowered:
            return CredentialsRefusedError(text, **where)
        return TokenRefusedError(text, **where)
    if code in AUTHORISATION_GONE:
        return AuthorisationGoneError(text, **where)
    if code in CREDENTIALS_REFUSED:
        return CredentialsRefusedError(text, **where)
    if code == "invalid_code":
        return AuthError(text, **where)
    if code == "error_rate_limit":
        return RateLimitError(text, retry_after=wait, **where)
    if code == "error_limit":
        return DailyQuotaError(text, resets_at=next_quota_reset(now), **where)
    if code in TRANSIENT:
        return TransientError(text, **where)
    return RejectedError(text, code=code, fields=_field_of(code, message), **where)


def row_error(reason: str, where: Where, *, now: datetime) -> ConnectorError:
    """The error of one ``failure_list`` row, from its ``failed_reason``: a leading
    error name decides (``error_cannt_edit_stock_in_promotion: …``); a bare reason
    (``Wrong model_id.``) is a rejection."""
    found = _ROW_CODE.match(reason)
    if found is None:
        return RejectedError(reason or "failed", code="failed", **where)
    error = error_for(found.group(1), reason, where, now=now)
    if isinstance(error, AuthError):  # not a per-row outcome; refuse the row
        return RejectedError(reason, code=found.group(1), **where)
    return error


def _body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def classify(
    response: httpx.Response,
    where: Where,
    *,
    now: datetime,
    passthrough: Collection[str] = (),
) -> None:
    """Raise the error a Shopee answer means; return for a success.

    ``passthrough`` names errors the caller reads itself (an all-rows-failed batch
    answer that still lists each row's reason).
    """
    body = _body(response)
    raw = body.get("error") if body is not None else None
    if raw:
        code = error_name(str(raw))
        if code in passthrough:
            return
        request_id = str(body.get("request_id") or "") if body else ""
        located: Where = {**where, "request_id": request_id} if request_id else where
        message = str(body.get("message") or "") if body else ""
        if code == "error_limit" and _module(str(raw)) in ENDPOINT_MODULES:
            raise RejectedError(
                f"{code}: {message}" if message else code, code=code, **located
            )
        raise error_for(code, message, located, now=now, wait=retry_after(response))
    status = response.status_code
    if status == 429:
        raise RateLimitError(
            "HTTP 429 (throttled)", retry_after=retry_after(response), **where
        )
    if status == 408 or status >= 500:
        raise TransientError(f"HTTP {status}", **where)
    if status in (401, 403):
        raise AuthError(f"HTTP {status}", **where)
    if status >= 400:
        raise RejectedError(f"HTTP {status}", code=f"http_{status}", **where)
    if body is None:
        raise UnreadableAnswerError(
            f"HTTP {status} with a body that is not a JSON object", **where
        )
