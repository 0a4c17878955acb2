"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) of what events hold.

Events hold no floats (money is integer rupiah, marketplace ids are strings), so
the canonical form of a value is exact and the same on every machine; datetimes
are written as UTC ISO 8601 with microseconds (``2026-12-07T15:01:53.000000Z``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785


def timestamp(at: datetime) -> str:
    """``at`` as events write it: UTC, microseconds, ``Z``."""
    if at.tzinfo is None:
        raise ValueError("refusing a naive datetime: audit events keep UTC instants")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain(value: Any) -> Any:
    """``value`` with datetimes as :func:`timestamp` strings, tuples and sets as
    lists (sets sorted) and mappings as dicts with string keys.

    Raises:
        TypeError: a float or any other value JSON does not hold exactly.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    raise TypeError(
        f"an audit event cannot hold {type(value).__name__} {value!r}; "
        "expected text, an integer, a boolean, a list or a mapping"
    )


def dumps(value: Any) -> str:
    """The canonical JSON text of ``value`` (see :func:`plain`)."""
    return rfc8785.dumps(plain(value)).decode("utf-8")
