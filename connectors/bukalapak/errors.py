"""Bukalapak answers → the core error tree.

Page §3 and §9: every answer is a ``{data, meta{http_status}, errors[{code, message}]}``
envelope; ``errors[].code`` values are undocumented, so answers are classified by the
body's ``meta.http_status`` and ``errors[]`` first and by the HTTP status only when the
body has no envelope — never by a code value. An HTTP 200 whose body says 4xx/5xx is an
error. The accounts host adds RFC 6749 ``error`` strings (``invalid_grant`` …), which
decide the class of token answers.

==========================  ===================================================
``meta.http_status``        class
==========================  ===================================================
401                         AuthError (the caller refreshes once, then gives up)
408                         TransientError
429                         RateLimitError (no ``Retry-After`` is documented: the
                            retry backs off; one sent anyway is honoured)
5xx                         TransientError
405                         ContractError (the call does not match the API)
other 4xx (400, 403, 404,   RejectedError, ``code`` = the status (``"403"`` …)
409, 422 …)
2xx with ``errors[]``       ContractError (success and failure at once)
2xx, no JSON envelope       UnreadableAnswerError (a read is asked for again)
==========================  ===================================================

No rate-limit headers are documented (page §9), so nothing feeds ``budget.observe``.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

import httpx
from pydantic import ValidationError

from connectors.bukalapak.schemas import Envelope, ErrorEntry
from core.errors import (
    AuthError,
    ContractError,
    RateLimitError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
    Where,
)

#: RFC 6749 errors of ``/oauth/token`` that are temporary.
TRANSIENT_OAUTH_ERRORS = frozenset({"server_error", "temporarily_unavailable"})

_MESSAGE_LIMIT = 300


def _envelope(response: httpx.Response) -> Envelope | None:
    try:
        return Envelope.model_validate(json.loads(response.content))
    except (ValueError, ValidationError):
        return None


def _message(errors: list[ErrorEntry]) -> str:
    """``errors[0].message`` (the one integrators read), shortened; the count of
    further entries when there are some."""
    if not errors:
        return ""
    text = " ".join(errors[0].message.split())[:_MESSAGE_LIMIT]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{text}{more}"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if sent."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    if date is None:
        return None
    try:
        return max(0.0, (moment - parsedate_to_datetime(date)).total_seconds())
    except (TypeError, ValueError):
        return None


def status_of(
    response: httpx.Response,
) -> tuple[int, list[ErrorEntry], Envelope | None]:
    """The status the body states (``meta.http_status``), else the HTTP status; the
    ``errors[]`` entries; the envelope when the body is one."""
    body = _envelope(response)
    errors = list(body.errors or []) if body is not None else []
    stated = body.meta.http_status if body is not None and body.meta else None
    return (stated if stated is not None else response.status_code), errors, body


def raise_for_status(
    status: int, errors: list[ErrorEntry], response: httpx.Response, where: Where
) -> None:
    """Raise the class the table in the module docstring gives ``status``."""
    message = (
        _message(errors)
        or (httpx.codes.get_reason_phrase(status) or "no message").lower()
    )
    text = f"HTTP {status}: {message}"
    if status == 401:
        raise AuthError(text, **where)
    if status == 429:
        raise RateLimitError(text, retry_after=retry_after(response), **where)
    if status == 408 or status >= 500:
        raise TransientError(text, **where)
    if status == 405:
        raise ContractError(text, **where)
    if 400 <= status < 500:
        raise RejectedError(text, code=str(status), **where)
    if errors:
        raise ContractError(f"{text}, yet the answer holds errors[]", **where)
    if not 200 <= status < 300:
        raise ContractError(f"unexpected HTTP {status}", **where)


def classify(response: httpx.Response, where: Where) -> None:
    """Raise for an API answer that is not a success (body first, then HTTP)."""
    status, errors, body = status_of(response)
    if body is None and 200 <= response.status_code < 300:
        raise UnreadableAnswerError(
            f"HTTP {response.status_code} without a JSON envelope", **where
        )
    raise_for_status(status, errors, response, where)


def classify_oauth(response: httpx.Response, where: Where) -> None:
    """Raise for an ``/oauth/token`` answer that is not a success.

    Any RFC 6749 ``error`` is an ``AuthError`` — ``invalid_grant`` (a used, expired or
    revoked code or refresh token) and ``invalid_client`` (wrong app credentials)
    among them — except ``server_error`` and ``temporarily_unavailable``."""
    status, errors, body = status_of(response)
    error = body.error if body is not None else None
    if error:
        detail = _message(errors)
        text = f"token request refused: {error}" + (f" ({detail})" if detail else "")
        if error in TRANSIENT_OAUTH_ERRORS:
            raise TransientError(text, **where)
        # A wrong app secret is fixed in the settings; the seller need not act.
        raise AuthError(text, reauthorise=error != "invalid_client", **where)
    if body is None and 200 <= response.status_code < 300:
        raise ContractError(f"HTTP {response.status_code} without a JSON body", **where)
    if status in (400, 403):
        raise AuthError(f"token request refused: HTTP {status}", **where)
    raise_for_status(status, errors, response, where)
