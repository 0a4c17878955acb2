"""Indexes of the Bukalapak simulator: products and SKUs, and transactions by time.

Lookups by id and by ``sku_name`` are dictionary hits; a keyword search reads only the
names that hold the keyword's rarest trigram (:class:`_NameIndex`), not every name of
the store. Transactions are kept per store in lists sorted by ``(created_at, id)``
(one for all states and one per state), so a ``GET /transactions`` page is two
bisections and a slice, never a sort.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator

from simulators.bukalapak.model import Product, Sku, Transaction

_Key = tuple[int, int]


def _insert(keys: list[_Key], key: _Key) -> None:
    if not keys or keys[-1] < key:
        keys.append(key)
    else:
        insort(keys, key)


def _remove(keys: list[_Key], key: _Key) -> None:
    index = bisect_left(keys, key)
    if index < len(keys) and keys[index] == key:
        del keys[index]


class _NameIndex:
    """The case-folded names of one store's products, in the store's order, and for
    each trigram (three characters in a row) the positions of the names holding it.

    A name holding a keyword holds each of its trigrams, so a search checks only the
    names listed under the keyword's rarest trigram. Names never change; those added
    since the last search are indexed at the next one."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._positions: dict[str, array[int]] = {}
        self._indexed = 0

    def add(self, folded_name: str) -> None:
        """A new product's case-folded name (it goes last)."""
        self.names.append(folded_name)

    def holding(self, needle: str) -> list[int]:
        """Positions, in order, of the names that contain ``needle`` (case-folded)."""
        names = self.names
        if len(needle) < 3:
            return [i for i, name in enumerate(names) if needle in name]
        self._catch_up()
        lists = []
        for start in range(len(needle) - 2):
            positions = self._positions.get(needle[start : start + 3])
            if positions is None:
                return []
            lists.append(positions)
        return [i for i in min(lists, key=len) if needle in names[i]]

    def _catch_up(self) -> None:
        index = self._positions
        for position in range(self._indexed, len(self.names)):
            name = self.names[position]
            for gram in {name[i : i + 3] for i in range(len(name) - 2)}:
                found = index.get(gram)
                if found is None:
                    index[gram] = found = array("I")
                found.append(position)
        self._indexed = len(self.names)


class Catalogue:
    """Products and SKUs of every store."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.skus: dict[int, Sku] = {}
        self._store_products: dict[int, list[str]] = {}
        self._store_names: dict[int, _NameIndex] = {}
        self._position: dict[str, int] = {}  # product id → place in its store's list
        self._by_sku_name: dict[tuple[int, str], list[int]] = {}

    def add(self, product: Product, skus: Iterable[Sku]) -> None:
        """Register a product (newest last) and its SKUs."""
        self.products[product.id] = product
        ids = self._store_products.setdefault(product.store_id, [])
        self._position[product.id] = len(ids)
        ids.append(product.id)
        names = self._store_names.get(product.store_id)
        if names is None:
            self._store_names[product.store_id] = names = _NameIndex()
        names.add(product.name.casefold())
        for sku in skus:
            self.skus[sku.id] = sku
            self._by_sku_name.setdefault((sku.store_id, sku.sku_name), []).append(
                sku.id
            )
            if sku.id not in product.sku_ids:
                product.sku_ids.append(sku.id)

    def skus_of(self, product: Product) -> list[Sku]:
        """The product's SKUs in creation order."""
        return [self.skus[sku_id] for sku_id in product.sku_ids]

    def by_sku_name(self, store_id: int, sku_name: str) -> list[Sku]:
        """SKUs of a store with exactly this ``sku_name`` (creates may duplicate)."""
        return [self.skus[i] for i in self._by_sku_name.get((store_id, sku_name), ())]

    def store_page(
        self, store_id: int, keywords: str, offset: int, limit: int
    ) -> tuple[int, list[Product]]:
        """One page of a store's products, newest first, and the total matching.

        ``keywords`` matches a product whose name contains it (case-insensitive) or
        one of whose SKUs has exactly that ``sku_name``."""
        ids = self._store_products.get(store_id, [])
        if keywords:
            ids = [ids[i] for i in self._matching(store_id, keywords)]
        total = len(ids)
        high = max(0, total - offset)
        low = max(0, high - limit)
        return total, [self.products[i] for i in reversed(ids[low:high])]

    def _matching(self, store_id: int, keywords: str) -> list[int]:
        """Places in the store's list, in order, of the products ``keywords``
        matches."""
        names = self._store_names.get(store_id)
        found = names.holding(keywords.strip().casefold()) if names else []
        exact: set[int] = set()
        for sku_id in self._by_sku_name.get((store_id, keywords.strip()), ()):
            product = self.products[self.skus[sku_id].product_id]
            if product.store_id == store_id:
                exact.add(self._position[product.id])
        if exact:
            return sorted(exact.union(found))
        return found

    def ordered_products(self) -> Iterator[Product]:
        """Every product, store by store, oldest first (the state file's order)."""
        for ids in self._store_products.values():
            for product_id in ids:
                yield self.products[product_id]


class TransactionBook:
    """Transactions by id, and per store sorted by ``(created_at, id)``."""

    def __init__(self) -> None:
        self.by_id: dict[int, Transaction] = {}
        self.by_code: dict[str, Transaction] = {}
        self._all: dict[int, list[_Key]] = {}
        self._by_state: dict[tuple[int, str], list[_Key]] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def add(self, txn: Transaction) -> None:
        """Index a new transaction."""
        self.by_id[txn.id] = txn
        self.by_code[txn.transaction_id] = txn
        _insert(self._all.setdefault(txn.store_id, []), txn.key())
        _insert(self._by_state.setdefault((txn.store_id, txn.state), []), txn.key())

    def move(self, txn: Transaction, state: str) -> None:
        """Change a transaction's state and its place in the state index."""
        _remove(self._by_state.get((txn.store_id, txn.state), []), txn.key())
        txn.state = state
        _insert(self._by_state.setdefault((txn.store_id, state), []), txn.key())

    def query(
        self,
        store_id: int,
        start: int | None,
        end: int | None,
        states: frozenset[str] | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[Transaction]]:
        """Transactions created in ``[start, end)``, newest first; ``(total, page)``."""
        if states is None:
            lists = [self._all.get(store_id, [])]
        else:
            lists = [self._by_state.get((store_id, s), []) for s in sorted(states)]
        ranges = []
        for keys in lists:
            low = 0 if start is None else bisect_left(keys, (start, -1))
            high = len(keys) if end is None else bisect_left(keys, (end, -1))
            if high > low:
                ranges.append((keys, low, high))
        total = sum(high - low for _keys, low, high in ranges)
        if offset >= total:
            return total, []
        if len(ranges) == 1:
            keys, low, high = ranges[0]
            top = high - offset
            picked: Iterable[_Key] = reversed(
                keys[max(low, top - limit) : max(low, top)]
            )
        else:
            first = self._kth_newest(ranges, offset)
            merged = heapq.merge(
                *(
                    self._descending(keys, low, bisect_right(keys, first, low, high))
                    for keys, low, high in ranges
                ),
                reverse=True,
            )
            picked = itertools.islice(merged, limit)
        return total, [self.by_id[txn_id] for _created, txn_id in picked]

    @staticmethod
    def _kth_newest(ranges: list[tuple[list[_Key], int, int]], rank: int) -> _Key:
        """The key at ``rank`` (0: newest) of the union of sorted ranges, found by
        bisecting on time rather than by walking ``rank`` keys."""

        def newer_or_at(moment: int) -> int:
            return sum(
                high - bisect_left(keys, (moment, -1), low, high)
                for keys, low, high in ranges
            )

        oldest = min(keys[low][0] for keys, low, _high in ranges)
        newest = max(keys[high - 1][0] for keys, _low, high in ranges)
        while oldest < newest:  # the newest moment with more than ``rank`` keys
            middle = (oldest + newest + 1) // 2
            if newer_or_at(middle) > rank:
                oldest = middle
            else:
                newest = middle - 1
        above = newer_or_at(oldest + 1)
        tied = sorted(
            (
                key
                for keys, low, high in ranges
                for key in keys[
                    bisect_left(keys, (oldest, -1), low, high) : bisect_left(
                        keys, (oldest + 1, -1), low, high
                    )
                ]
            ),
            reverse=True,
        )
        return tied[rank - above]

    @staticmethod
    def _descending(keys: list[_Key], low: int, high: int) -> Iterator[_Key]:
        for index in range(high - 1, low - 1, -1):
            yield keys[index]
