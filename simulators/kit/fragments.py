"""Encoded JSON of records, kept while the records do not change.

List pages and batch reads are mostly rendering: the same listing or order is encoded
again on every page that shows it. A simulator keys each record's fragment on its id and
a signature of what the fragment shows (update time, stock, price …); an answer is then
the fragments joined (:func:`json_array`), without re-encoding anything unchanged.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVarTuple

Args = TypeVarTuple("Args")


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as the simulators send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_array(fragments: Iterable[bytes]) -> bytes:
    """A JSON array made of already encoded elements."""
    return b"[" + b",".join(fragments) + b"]"


class FragmentCache:
    """Encoded records by key, rendered again when their signature changes.

    With a ``limit``, the least recently used are evicted beyond it; without one, the
    cache holds one fragment per key for good. Signatures are kept apart from the
    fragments: flat tuples of plain values are then untracked by the garbage collector,
    so a hundred thousand kept records do not make it walk the heap again and again.
    """

    def __init__(self, limit: int | None = 200_000) -> None:
        self._limit = limit
        self._signatures: OrderedDict[Hashable, Hashable] = OrderedDict()
        self._encoded: dict[Hashable, bytes] = {}

    def find(self, key: Hashable, signature: Hashable) -> bytes | None:
        """The fragment kept for ``key`` if it was rendered for ``signature``."""
        if self._signatures.get(key) != signature or key not in self._encoded:
            return None
        if self._limit is not None:
            self._signatures.move_to_end(key)
        return self._encoded[key]

    def keep(self, key: Hashable, signature: Hashable, encoded: bytes) -> bytes:
        """Keep ``encoded`` as the fragment of ``key`` for ``signature``; returns it."""
        self._signatures[key] = signature
        self._encoded[key] = encoded
        if self._limit is not None:
            self._signatures.move_to_end(key)
            if len(self._signatures) > self._limit:
                evicted, _ = self._signatures.popitem(last=False)
                del self._encoded[evicted]
        return encoded

    def get(
        self,
        key: Hashable,
        signature: Hashable,
        render: Callable[[*Args], bytes | Any],
        *args: *Args,
    ) -> bytes:
        """The fragment of ``key``, rendered again (``render(*args)``: bytes as they
        are, anything else encoded as JSON) when ``signature`` changed."""
        found = self.find(key, signature)
        if found is not None:
            return found
        rendered = render(*args)
        return self.keep(
            key,
            signature,
            rendered if isinstance(rendered, bytes) else encode(rendered),
        )

    def discard(self, key: Hashable) -> None:
        """Forget one record (deleted, or its shown fields changed)."""
        self._signatures.pop(key, None)
        self._encoded.pop(key, None)

    def clear(self) -> None:
        """Forget everything (after a state import)."""
        self._signatures.clear()
        self._encoded.clear()

    def __len__(self) -> int:
        return len(self._encoded)
