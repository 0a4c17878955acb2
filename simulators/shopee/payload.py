"""JSON writing for the Shopee simulator's large answers.

Batch reads (``get_item_base_info``, ``get_order_detail``) and list pages are mostly
encoding. Their entries are written here as JSON text directly, in the same bytes
:func:`simulators.kit.fragments.encode` gives for the same data, and kept in a
:class:`~simulators.kit.fragments.FragmentCache` while the record does not change; an
answer is the kept entries joined (:func:`object_with_list`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any, TypeVarTuple

from simulators.kit.fragments import json_array

Args = TypeVarTuple("Args")

#: Compact UTF-8 JSON, as :func:`simulators.kit.fragments.encode` writes it (one
#: encoder for every answer instead of one per call).
JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


#: ``text`` as a JSON string, as :data:`JSON` writes strings.
json_string: Callable[[str], str] = encode_basestring


def json_number(value: float) -> str:
    """A number as :data:`JSON` writes it (``Infinity`` and ``NaN`` included)."""
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return repr(value)
    return JSON.encode(value)


def json_bool(value: bool) -> str:
    """``true`` or ``false``."""
    return "true" if value else "false"


def object_with_list(
    before: dict[str, Any], name: str, fragments: list[bytes], after: dict[str, Any]
) -> bytes:
    """The JSON object ``{**before, name: [...], **after}`` whose list is made of
    already encoded elements (``before`` and ``after`` are encoded here)."""
    parts = [b"{"]
    if before:
        parts += [JSON.encode(before)[1:-1].encode(), b","]
    parts += [json_string(name).encode(), b":", json_array(fragments)]
    if after:
        parts += [b",", JSON.encode(after)[1:-1].encode()]
    parts.append(b"}")
    return b"".join(parts)


_EMPTY: dict[type, str] = {type(None): "null", list: "[]", dict: "{}"}


class NestedJson:
    """The JSON of nested values (attribute, logistics and pre-order lists and
    dicts), kept by identity: the simulator replaces such values and never changes
    them in place, and listings seeded from the same fixtures share them."""

    def __init__(self, limit: int = 4_096) -> None:
        self._limit = limit
        self._texts: dict[int, tuple[object, str]] = {}

    def text(self, value: object) -> str:
        """``value`` as JSON text."""
        if not value and type(value) in _EMPTY:  # often a fresh empty list
            return _EMPTY[type(value)]
        found = self._texts.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        text = JSON.encode(value)
        if len(self._texts) >= self._limit:
            self._texts.clear()
        # The entry holds the value, so its id is not reused while it is kept.
        self._texts[id(value)] = (value, text)
        return text
