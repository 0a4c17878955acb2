"""Indexes of the Bukalapak simulator: products and SKUs, and transactions by time.

Lookups by id and by ``sku_name`` are dictionary hits. Transactions are kept per store
in lists sorted by ``(created_at, id)`` (one for all states and one per state), so a
``GET /transactions`` page is two bisections and a slice, never a sort.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator

from connectors.bukalapak._sim_model import Product, Sku, Transaction

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


class Catalogue:
    """Products and SKUs of every store."""

    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.skus: dict[int, Sku] = {}
        self._store_products: dict[int, list[str]] = {}
        self._by_sku_name: dict[tuple[int, str], list[int]] = {}
        self._names: dict[str, str] = {}

    def add(self, product: Product, skus: Iterable[Sku]) -> None:
        """Register a product (newest last) and its SKUs."""
        self.products[product.id] = product
        self._store_products.setdefault(product.store_id, []).append(product.id)
        self._names[product.id] = product.name.casefold()
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
        if not keywords:
            total = len(ids)
            high = max(0, total - offset)
            low = max(0, high - limit)
            return total, [self.products[i] for i in reversed(ids[low:high])]
        needle = keywords.strip().casefold()
        exact = {
            self.skus[sku_id].product_id
            for sku_id in self._by_sku_name.get((store_id, keywords.strip()), ())
        }
        matching = [
            product_id
            for product_id in reversed(ids)
            if product_id in exact or needle in self._names[product_id]
        ]
        return len(matching), [
            self.products[i] for i in matching[offset : offset + limit]
        ]

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
