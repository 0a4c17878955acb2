"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) of what events hold.

Events hold no floats (money is integer rupiah, marketplace ids are strings), so
the canonical form of a value is exact and the same on every machine; datetimes
are written as UTC ISO 8601 with microseconds (``2026-12-07T15:01:53.000000Z``).

For such values RFC 8785 is what the standard library's encoder writes with sorted
keys, no spaces and no ASCII escaping (the same escapes: backspace, form feed,
newline, return and tab as two characters, the quote and backslash escaped, other
controls as a lowercase six-character escape), as long as every key
is ASCII (RFC 8785 orders keys by UTF-16 code units, Python by code points), no
text holds a lone surrogate and every integer is within ±(2**53 - 1). Values
within those bounds take that fast path (a bulk import writes one event a row);
any other goes through :mod:`rfc8785` itself, which also refuses what JSON
cannot hold exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

#: The largest integer a JSON number holds exactly (RFC 8785 §3.2.2.3).
_SAFE_INTEGER = 2**53 - 1
_SCALARS = frozenset({str, int, bool, type(None)})
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, check_circular=False
)


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
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, bool | int | str):
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


def _text_fits(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")  # refuses a lone surrogate
    except UnicodeEncodeError:
        return False
    return True


def _fits(value: Any) -> bool:
    """True when ``value`` is plain (text, integers, booleans, None, lists or
    tuples, dicts) and the standard encoder writes it as RFC 8785 does (see the
    module docstring). Scalars inside containers are checked in line: an event
    holds many of them."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if not _scalar_fits(item) and not _fits(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_scalar_fits(item) or _fits(item) for item in value)
    return _scalar_fits(value)


def _scalar_fits(value: Any) -> bool:
    """True for text, an integer, a boolean or None the fast path writes exactly;
    False for anything else (containers included)."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _text_fits(value)
    if kind is int:
        return bool(-_SAFE_INTEGER <= value <= _SAFE_INTEGER)
    return value is None or kind is bool


def dumps(value: Any) -> str:
    """The canonical JSON text of ``value`` (see :func:`plain`)."""
    if _fits(value):  # plain already, as events mostly are
        return _ENCODER.encode(value)
    simple = plain(value)
    if _fits(simple):
        return _ENCODER.encode(simple)
    return rfc8785.dumps(simple).decode("utf-8")
