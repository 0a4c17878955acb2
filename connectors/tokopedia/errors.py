"""Tokopedia's answers → ikm-sync's error tree, by the body first, the status second.

The envelope's ``header.error_code`` has the form ``<DOMAIN>_<LAYER>_<NNN>``
(tokopedia.md §3.2); the layer says what the caller must do:

- ``RBAC_MDLW_001`` (HTTP 403), and its older forms ``ORD_USC_015`` and
  ``PRD_USC_001``: :class:`ShopNotLinkedError` (an ``AuthError``), the shop is not, or
  no longer, linked to the ``fs_id`` (§2.3); the client marks the account as needing
  re-authorisation.
- ``header.messages`` "unauthorized", or HTTP 401: :class:`TokenRefusedError` (an
  ``AuthError``): get a new token and retry once (§2.2, §11).
- ``ERR_TOO_MANY_REQUEST``, or HTTP 429: ``RateLimitError`` (the request was not
  applied, so even a create may be resent: ``sent`` is False) waiting
  ``X-Ratelimit-Reset-After`` (else ``Retry-After``) seconds (§4).
- ``ORD_USC_007``: ``TransientError``, an upstream error despite its layer (§3.2,
  §10.2).
- ``…_DLV_…`` and ``…_USC_…``: ``RejectedError`` with the code and, when the reason
  names it (``Invalid field [x] …``), the field.
- ``…_API_…``, ``…_GRPC_…``, ``…_DB_…``, ``…_CACHE_…``: ``TransientError`` (§11:
  answered with HTTP 500).
- anything else, by HTTP status: 401 token refused, 403 ``AuthError``, 408 and 5xx
  transient, 429 rate limit, other 4xx rejected.

Every answer also carries the four ``X-Ratelimit-*`` headers; :func:`make_classifier`
feeds them into the rate budget before classifying, so the budget follows what
Tokopedia reports for the (``fs_id``, endpoint) bucket.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable

import httpx
from pydantic import ValidationError

from connectors._http import Classifier, RateBudget
from connectors.tokopedia.schemas import ErrorEnvelope, Header, TokenErrorAnswer
from core.errors import (
    AuthError,
    ConnectorError,
    ContractError,
    RateLimitError,
    RejectedError,
    TransientError,
    Where,
)

#: The per-row (and whole-request) throttling message (§4).
THROTTLED = "ERR_TOO_MANY_REQUEST"
#: "The shop is not connected to the fs_id", today's code and its older forms (§2.3).
SHOP_NOT_LINKED = frozenset({"RBAC_MDLW_001", "ORD_USC_015", "PRD_USC_001"})
#: Use-case codes that report an upstream failure, not a refusal (§3.2, §10.2).
TRANSIENT_CODES = frozenset({"ORD_USC_007"})
#: Editing a product that is not active refuses the whole edit call (§5.2).
PRODUCT_NOT_ACTIVE = "PRD_USC_028"

_REFUSED_LAYERS = frozenset({"DLV", "USC"})
_UPSTREAM_LAYERS = frozenset({"API", "GRPC", "DB", "CACHE"})
_CODE = re.compile(r"^[A-Z]+_([A-Z]+)_\w+$")
_INVALID_FIELD = re.compile(r"Invalid field \[(\w+)\]")
_INVALID_THING = re.compile(r"^Invalid ([A-Za-z][A-Za-z ]*)\.$")
_LEADING_WORD = re.compile(r"^\s*([a-z_]+)\b")
#: Request fields a row message may start with (§5.1, §5.3, §5.4).
_FIELDS = frozenset(
    {
        "name",
        "category_id",
        "price",
        "price_currency",
        "status",
        "weight",
        "weight_unit",
        "condition",
        "min_order",
        "sku",
        "stock",
        "description",
        "dimension",
        "pictures",
        "etalase",
        "new_stock",
        "new_price",
        "product_id",
    }
)
_TOKEN_REFUSED = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_grant", "access_denied"}
)


class TokenRefusedError(AuthError):
    """Tokopedia answered "unauthorized": the access token is missing, unknown or
    expired. The client fetches a new token and retries the call once."""


class ShopNotLinkedError(AuthError):
    """The shop is not (any more) linked to the app's ``fs_id``, or was migrated to
    TikTok Shop: nothing works until Tokopedia links it again."""


# ==================================================================== rate headers


def _number(response: httpx.Response, name: str) -> float | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def retry_after(response: httpx.Response) -> float | None:
    """The wait a throttled answer asks for: ``X-Ratelimit-Reset-After`` (§4), else a
    ``Retry-After`` in seconds; ``None`` when neither is positive."""
    for name in ("X-Ratelimit-Reset-After", "Retry-After"):
        value = _number(response, name)
        if value is not None and value > 0:
            return value
    return None


def observe(response: httpx.Response, budget: RateBudget, key: Hashable) -> None:
    """Align ``key``'s bucket with ``X-Ratelimit-Remaining`` and, when nothing remains,
    ``X-Ratelimit-Reset-After`` (``-0.000000`` while quota remains)."""
    remaining = _number(response, "X-Ratelimit-Remaining")
    if remaining is None:
        return
    reset = _number(response, "X-Ratelimit-Reset-After")
    budget.observe(
        key, remaining=remaining, reset_after=reset if reset and reset > 0 else None
    )


# ==================================================================== API answers


def _header(response: httpx.Response) -> Header | None:
    try:
        return ErrorEnvelope.model_validate_json(response.content).header
    except ValidationError:
        return None


def fields_of(message: str) -> dict[str, str]:
    """``{field: message}`` when the message names a field, else ``{}``:
    ``Invalid field [shop_id] …``, ``Invalid SKU.``, ``name cannot be changed …``."""
    text = message.strip()
    if found := _INVALID_FIELD.search(text):
        return {found.group(1): message}
    if found := _INVALID_THING.match(text):
        return {"_".join(found.group(1).lower().split()): message}
    found = _LEADING_WORD.match(text)
    if found and found.group(1) in _FIELDS:
        return {found.group(1): message}
    return {}


def _throttled(text: str, response: httpx.Response, where: Where) -> RateLimitError:
    """A whole request refused for the rate limit: nothing of it was applied (§4, §11:
    with no tokens left the whole request gets 429), so even a create may be sent
    again once the wait is over (``sent`` False)."""
    return RateLimitError(text, retry_after=retry_after(response), sent=False, **where)


def _by_body(
    header: Header, text: str, response: httpx.Response, where: Where
) -> ConnectorError | None:
    code = header.error_code.strip()
    if code in SHOP_NOT_LINKED:
        return ShopNotLinkedError(text, **where)
    if header.messages.strip().lower() == "unauthorized":
        return TokenRefusedError(text, **where)
    if THROTTLED in (code, header.messages.strip()):
        return _throttled(text, response, where)
    if code in TRANSIENT_CODES:
        return TransientError(text, **where)
    match = _CODE.match(code)
    layer = match.group(1) if match else ""
    if layer in _REFUSED_LAYERS:
        return RejectedError(text, code=code, fields=fields_of(header.reason), **where)
    if layer in _UPSTREAM_LAYERS:
        return TransientError(text, **where)
    return None


def _by_status(
    status: int, text: str, code: str, response: httpx.Response, where: Where
) -> ConnectorError:
    if status == 401:
        return TokenRefusedError(text, **where)
    if status == 403:
        return AuthError(text, **where)
    if status == 429:
        return _throttled(text, response, where)
    if status == 408 or status >= 500:
        return TransientError(text, **where)
    if 400 <= status < 500:
        return RejectedError(text, code=code, **where)
    return ContractError(text, **where)


def classify(response: httpx.Response, where: Where) -> None:
    """Raise the error an ``fs.tokopedia.net`` answer stands for; return on success.

    Raises:
        ShopNotLinkedError, TokenRefusedError, AuthError, RateLimitError,
        TransientError, RejectedError, ContractError: see the module docstring.
    """
    status = response.status_code
    header = _header(response)
    code = header.error_code.strip() if header else ""
    if header is not None and (code or not 200 <= status < 300):
        reason = header.reason or header.messages or "no reason given"
        text = f"{code or 'no error_code'} (HTTP {status}): {reason}"
        found = _by_body(header, text, response, where)
        if found is not None:
            raise found
    elif 200 <= status < 300:
        return  # the body is checked against its schema by the caller
    else:
        text = f"HTTP {status} without Tokopedia's envelope"
    if not 200 <= status < 300 or code:
        raise _by_status(status, text, code, response, where)


def make_classifier(where: Where, budget: RateBudget, key: Hashable) -> Classifier:
    """A classifier for :func:`connectors._http.send` that first feeds the answer's
    ``X-Ratelimit-*`` headers into ``budget`` under ``key``, on every answer."""

    def classifier(response: httpx.Response) -> None:
        observe(response, budget, key)
        classify(response, where)

    return classifier


# ==================================================================== token answers


def classify_token(response: httpx.Response, where: Where) -> None:
    """Raise the error a token endpoint answer stands for (OAuth-style bodies).

    Raises:
        AuthError: the client credentials were refused (401/403 or an OAuth
            ``invalid_client`` …): the app's credentials are wrong.
        RateLimitError, TransientError: throttled, or the endpoint failed.
        ContractError: any other refusal (the request is this connector's own).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    try:
        body = TokenErrorAnswer.model_validate_json(response.content)
    except ValidationError:
        body = TokenErrorAnswer()
    text = f"token request refused (HTTP {status}): {body.error or 'no error'}"
    if body.error_description:
        text += f": {body.error_description}"
    if body.error in _TOKEN_REFUSED or status in (401, 403):
        # Client credentials belong to the app: fix the settings, the shop is fine.
        raise AuthError(text, reauthorise=False, **where)
    if status == 429:
        raise RateLimitError(text, retry_after=retry_after(response), **where)
    if status == 408 or status >= 500:
        raise TransientError(text, **where)
    raise ContractError(text, **where)


def make_token_classifier(
    where: Where, budget: RateBudget, key: Hashable
) -> Classifier:
    """:func:`classify_token` after observing any rate-limit headers."""

    def classifier(response: httpx.Response) -> None:
        observe(response, budget, key)
        classify_token(response, where)

    return classifier


# ==================================================================== rows


def row_error(messages: list[str], where: Where) -> ConnectorError:
    """The error of one refused row of a bulk call: ``RateLimitError`` when the row
    was throttled (``ERR_TOO_MANY_REQUEST``), else ``RejectedError`` naming the
    fields the messages mention."""
    cleaned = [m.strip() for m in messages if m and m.strip()]
    if any(m == THROTTLED for m in cleaned):
        return RateLimitError(f"row throttled ({THROTTLED})", **where)
    text = "; ".join(cleaned) or "row refused without a reason"
    fields: dict[str, str] = {}
    for message in cleaned:
        fields.update(fields_of(message))
    return RejectedError(text, fields=fields, **where)


def is_throttled(messages: list[str]) -> bool:
    """Whether a refused row only failed for the per-row rate limit (§4)."""
    return any(m.strip() == THROTTLED for m in messages)
