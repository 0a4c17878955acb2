"""TikTok Shop's answers → ikm-sync's error tree.

Every answer carries ``code`` (0 is success) and ``message`` (§4). The page documents
no code table (§10: classify by ``code != 0`` and the HTTP status), so the status
decides, with a few codes of the partner reference read first [INF]:

- 105001 (access token invalid), 105002 (expired), or HTTP 401 otherwise:
  :class:`TokenRefusedError`: refresh the tokens and retry the call once.
- 106001 / 106002 (signature or app key refused): :class:`CredentialsRefusedError`,
  an ``AuthError`` that is the app's own (``reauthorise`` False): fix the settings.
- 105005, or HTTP 403: :class:`ShopNotAuthorisedError`: the ``shop_cipher`` is not a
  shop of the token's seller; the client looks the cipher up again once, then marks
  the account as needing re-authorisation.
- HTTP 429: ``RateLimitError`` (nothing was applied: ``sent`` False), waiting what
  ``Retry-After`` asks for.
- HTTP 408 and 5xx: ``TransientError``.
- any other non-zero code or 4xx: ``RejectedError`` with the code.

A per-item update (inventory, prices, deactivation) lists its failures in
``data.errors``; such an answer is read item by item even when the envelope's code is
not 0 (:func:`classify` with ``per_item``).
"""

from __future__ import annotations

import json
import math
from typing import Unpack

import httpx
from pydantic import ValidationError

from connectors.tiktok_shop.schemas import ErrorEnvelope
from core.errors import (
    AuthError,
    ConnectorError,
    ContractError,
    RateLimitError,
    RejectedError,
    TransientError,
    Where,
)

#: Codes of the partner reference the connector reads before the status [INF].
TOKEN_CODES = frozenset({105001, 105002})
CREDENTIAL_CODES = frozenset({106001, 106002})
SHOP_CODES = frozenset({105005})


class TokenRefusedError(AuthError):
    """The access token is missing, unknown or expired: refresh and retry once."""


class CredentialsRefusedError(AuthError):
    """The app's own credentials (key, secret, signature) were refused."""

    def __init__(self, message: str, **where: Unpack[Where]) -> None:
        super().__init__(message, reauthorise=False, **where)


class ShopNotAuthorisedError(AuthError):
    """The shop is not (any more) one the seller authorised the app for."""


def retry_after(response: httpx.Response) -> float | None:
    """The positive ``Retry-After`` (seconds) of an answer, if any."""
    raw = response.headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value > 0 else None


def _envelope(response: httpx.Response) -> ErrorEnvelope | None:
    try:
        return ErrorEnvelope.model_validate_json(response.content)
    except ValidationError:
        return None


def _has_item_errors(response: httpx.Response) -> bool:
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    data = body.get("data") if isinstance(body, dict) else None
    return isinstance(data, dict) and bool(data.get("errors"))


def error_for(
    status: int, code: int, text: str, response: httpx.Response, where: Where
) -> ConnectorError:
    """The error an answer with ``status`` and ``code`` stands for."""
    if code in CREDENTIAL_CODES:
        return CredentialsRefusedError(text, **where)
    if code in TOKEN_CODES or status == 401:
        return TokenRefusedError(text, **where)
    if code in SHOP_CODES or status == 403:
        return ShopNotAuthorisedError(text, **where)
    if status == 429:
        return RateLimitError(
            text, retry_after=retry_after(response), sent=False, **where
        )
    if status == 408 or status >= 500:
        return TransientError(text, **where)
    if 200 <= status < 300 or 400 <= status < 500:
        return RejectedError(text, code=str(code) if code else "", **where)
    return ContractError(text, **where)


def classify(response: httpx.Response, where: Where, *, per_item: bool = False) -> None:
    """Raise the error an answer stands for; return on success (the body is then
    checked against its schema by the caller).

    Raises:
        TokenRefusedError, CredentialsRefusedError, ShopNotAuthorisedError,
        RateLimitError, TransientError, RejectedError, ContractError: see the
        module docstring.
    """
    status = response.status_code
    envelope = _envelope(response)
    if envelope is None:
        if 200 <= status < 300:
            return  # unreadable: the reader says so
        text = f"HTTP {status} without TikTok Shop's envelope"
        raise error_for(status, 0, text, response, where)
    if envelope.code == 0 and 200 <= status < 300:
        return
    if per_item and 200 <= status < 300 and _has_item_errors(response):
        return  # every item failed: read one by one
    text = f"code {envelope.code} (HTTP {status}): {envelope.message or 'no message'}"
    if envelope.request_id:
        text += f" [request {envelope.request_id}]"
    raise error_for(status, envelope.code, text, response, where)


def item_error(code: int, message: str, where: Where) -> ConnectorError:
    """The error of one item a per-item update refused."""
    text = f"code {code}: {message or 'refused without a message'}"
    return RejectedError(text, code=str(code), **where)
