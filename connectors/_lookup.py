"""Looking listings up one SKU at a time, for connectors whose search takes one SKU:
a SKU whose look-up fails (after the retries of :func:`connectors._http.send`) fails
alone, and the others are still found."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from core.domain.remote import RemoteListing
from core.errors import AuthError, ConnectorError

log = structlog.get_logger(__name__)

#: Finds one SKU (its key and the spelling given) on the marketplace.
FindKey = Callable[[str, str], RemoteListing | None]


def look_up_each(
    wanted: Mapping[str, str], find_key: FindKey, where: Mapping[str, Any]
) -> tuple[dict[str, RemoteListing], dict[str, ConnectorError]]:
    """The listings found for ``wanted`` (SKU key → SKU as given), and the error of
    each SKU whose look-up failed; ``AuthError`` is raised, as it concerns them all.
    ``where`` names the marketplace and account in the log line of a failure."""
    found: dict[str, RemoteListing] = {}
    failed: dict[str, ConnectorError] = {}
    with bound_contextvars(operation="find_listings"):
        for key, sku in wanted.items():
            try:
                hit = find_key(key, sku)
            except AuthError:
                raise
            except ConnectorError as exc:
                failed[key] = exc
                log.warning(
                    "listing.lookup_failed",
                    sku=sku,
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                continue
            if hit is not None:
                found[key] = hit
    return found, failed
