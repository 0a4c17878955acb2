"""Webhook deliveries as the marketplaces send them: how each is signed, what it
names (kind, shop, delivery key) and what it asks of us.

Per the contract pages: Shopee push (shopee.md §6: ``Authorization`` = hex
HMAC-SHA256(partner_key, callback URL + ``|`` + body); codes 2 deauthorisation, 3
order status, 4 tracking number, 8 reserved stock change, 12 authorisation expiry),
Tokopedia (tokopedia.md §7: ``Authorization-Hmac`` = hex HMAC-SHA256(webhook secret,
body); order notification and status), TikTok Shop (tiktok-shop.md §8:
``Authorization`` = hex HMAC-SHA256(app_secret, app_key + body); type 1 order status).

The body is never trusted for state: a delivery only says *which account to read*.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Largest body accepted (bytes); a larger one is refused before it is read whole.
MAX_BODY = 64 * 1024


class Action(StrEnum):
    """What a delivery asks of the processing."""

    PULL = "pull"  # read the account's orders (the marketplace is the truth)
    PUSH = "push"  # propagate stock to the account's shop
    REAUTHORISE = "reauthorise"  # mark the account for re-authorisation
    NONE = "none"  # nothing to do (a check, an event we do not use)


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a verified body names."""

    kind: str
    shop_id: str | None
    delivery_key: str
    action: Action


class WebhookBodyError(ValueError):
    """A verified body that is not the JSON object the contract page describes."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The secrets a marketplace's deliveries may be signed with (one per credential
    set; the app key too, for TikTok Shop). Never logged."""

    secrets: tuple[tuple[str, str], ...]  # (secret, app_key or "")


SHOPEE_CODES: Mapping[int, tuple[str, Action]] = {
    1: ("shop_authorisation", Action.NONE),
    2: ("shop_deauthorisation", Action.REAUTHORISE),
    3: ("order_status", Action.PULL),
    4: ("tracking_number", Action.PULL),
    8: ("reserved_stock_change", Action.PUSH),
    12: ("authorisation_expiry", Action.REAUTHORISE),
}

SIGNATURE_HEADERS: Mapping[str, str] = {
    "shopee": "authorization",
    "tokopedia": "authorization-hmac",
    "tiktok_shop": "authorization",
}

SUPPORTED = tuple(SIGNATURE_HEADERS)


def _hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_valid(
    marketplace: str,
    keys: Keys,
    headers: Mapping[str, str],
    body: bytes,
    url: str,
) -> bool:
    """Whether ``body`` carries a signature made with one of ``keys``, compared in
    constant time (every key is tried, so timing does not say which matched)."""
    given = headers.get(SIGNATURE_HEADERS[marketplace], "").strip().lower()
    if not given:
        return False
    matched = False
    for secret, app_key in keys.secrets:
        if marketplace == "shopee":
            expected = _hex(secret, url.encode("utf-8") + b"|" + body)
        elif marketplace == "tokopedia":
            expected = _hex(secret, body)
        else:
            expected = _hex(secret, app_key.encode("utf-8") + body)
        matched |= hmac.compare_digest(expected.encode(), given.encode())
    return matched


def _object(marketplace: str, body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookBodyError(
            f"{marketplace} webhook: the body is not JSON ({exc})"
        ) from None
    if not isinstance(found, dict):
        raise WebhookBodyError(f"{marketplace} webhook: expected a JSON object")
    return found


def _shop(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, int | str):
        return str(value)
    return None


def body_key(body: bytes) -> str:
    """The delivery key of a body that carries no id of its own."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def parse(marketplace: str, body: bytes) -> Parsed:
    """What a verified delivery of ``marketplace`` names.

    Raises:
        WebhookBodyError: the body is not the page's JSON object (names what).
    """
    if marketplace == "shopee":
        if not body.strip():
            # the check request Shopee sends when the callback URL is saved
            return Parsed("url_check", None, body_key(body), Action.NONE)
        found = _object(marketplace, body)
        code = found.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            raise WebhookBodyError("shopee webhook: field 'code' must be an integer")
        kind, action = SHOPEE_CODES.get(code, (f"code_{code}", Action.NONE))
        return Parsed(kind, _shop(found.get("shop_id")), body_key(body), action)
    if marketplace == "tokopedia":
        found = _object(marketplace, body)
        if "order_id" not in found:
            raise WebhookBodyError("tokopedia webhook: field 'order_id' is missing")
        kind = (
            "order_notification"
            if "invoice_ref_num" in found or "customer" in found
            else "order_status"
        )
        return Parsed(kind, _shop(found.get("shop_id")), body_key(body), Action.PULL)
    if marketplace == "tiktok_shop":
        found = _object(marketplace, body)
        notification = found.get("tts_notification_id")
        key = (
            f"id:{notification}"
            if isinstance(notification, str | int) and str(notification)
            else body_key(body)
        )
        kind_code = found.get("type")
        action = Action.PULL if kind_code == 1 else Action.NONE
        kind = "order_status" if kind_code == 1 else f"type_{kind_code}"
        return Parsed(kind, _shop(found.get("shop_id")), key[:128], action)
    raise WebhookBodyError(f"no webhooks for marketplace {marketplace!r}")


def distinct_keys(pairs: Iterable[tuple[str, str]]) -> Keys:
    """The distinct (secret, app key) pairs, in a stable order."""
    return Keys(tuple(sorted(set(pairs))))


_KIND_ACTIONS: Mapping[str, Action] = {
    **dict(SHOPEE_CODES.values()),
    "order_notification": Action.PULL,
    "order_status": Action.PULL,
}


def action_of(kind: str) -> Action:
    """What a stored delivery of ``kind`` asks for."""
    return _KIND_ACTIONS.get(kind, Action.NONE)
