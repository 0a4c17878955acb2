"""Canonical JSON: the fast path writes exactly what RFC 8785 writes, and every
value outside its bounds goes through RFC 8785 itself."""

from __future__ import annotations

import random
from typing import Any

import pytest
import rfc8785

from core.audit.canonical import dumps

#: Characters that exercise escaping: controls, quotes, DEL, line separators,
#: Indonesian and other BMP text, emoji (astral), the last BMP characters.
ALPHABET = (
    [chr(c) for c in range(0x80)]
    + list("éñüßÆ中文ṭ\u2028\u2029\ufeff\ufffd\uffff\ue000")
    + ["\U0001f600", "\U00010000", "\U0010ffff"]
)


def _text(rng: random.Random, *, ascii_only: bool = False) -> str:
    chars = ALPHABET[:0x80] if ascii_only else ALPHABET
    return "".join(rng.choice(chars) for _ in range(rng.randrange(0, 12)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return _text(rng)
    if kind == 1:
        return rng.choice(
            [0, -1, 1, 2**53 - 1, -(2**53 - 1), rng.randrange(-(10**9), 10**9)]
        )
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return None
    if kind == 4:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = rng.random() < 0.8  # mostly ASCII keys, as events have: the fast path
    return {
        _text(rng, ascii_only=keys): _value(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def test_the_fast_path_writes_what_rfc8785_writes() -> None:
    rng = random.Random(8785)  # noqa: S311  (test data, not secrets)
    for _ in range(5_000):
        value = _value(rng)
        assert dumps(value) == rfc8785.dumps(value).decode("utf-8"), repr(value)


def test_keys_ordered_by_utf16_code_units_as_rfc8785_orders_them() -> None:
    value = {
        "\U0001f600": 1,
        "\uffff": 2,
        "a": 3,
    }  # code points would swap the first two
    assert dumps(value) == '{"a":3,"\U0001f600":1,"\uffff":2}'


@pytest.mark.parametrize("bad", [2**53, -(2**60), "\ud800", {"k": ["\udfff"]}])
def test_what_json_cannot_hold_exactly_is_refused(bad: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        dumps(bad)
