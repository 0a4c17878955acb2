"""Encoded JSON of records, kept while the records do not change.

List pages and batch reads are mostly rendering: the same listing or order is encoded
again on every page that shows it. A simulator keys each record's fragment on its id and
a signature of what the fragment shows (update time, stock, price …); a page is then the
fragments joined (:func:`json_array`), without re-encoding anything unchanged.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the simulators send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_array(fragments: Iterable[bytes]) -> bytes:
    """A JSON array made of already encoded elements."""
    return b"[" + b",".join(fragments) + b"]"


class FragmentCache:
    """Encoded records, rebuilt when their signature changes; the least recently used
    are evicted beyond ``limit`` entries."""

    def __init__(self, limit: int = 200_000) -> None:
        self._limit = limit
        self._items: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()

    def get(
        self, key: Hashable, signature: Hashable, build: Callable[[], Any]
    ) -> bytes:
        """The encoded record for ``key``, built (and kept) again when ``signature``
        differs from the one it was built with."""
        found = self._items.get(key)
        if found is not None and found[0] == signature:
            self._items.move_to_end(key)
            return found[1]
        encoded = encode(build())
        self._items[key] = (signature, encoded)
        self._items.move_to_end(key)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)
        return encoded

    def discard(self, key: Hashable) -> None:
        """Forget one record (when it is deleted)."""
        self._items.pop(key, None)

    def clear(self) -> None:
        """Forget everything (after a state import)."""
        self._items.clear()
