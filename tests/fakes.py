"""In-memory implementations of the core ports, for unit tests.

They keep the same promises as the SQL adapters (SKU keys, idempotency, non-negative
on-hand, rollback on exit); the shared service tests run against both, which keeps the
fakes honest.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.audit.events import AuditEvent
from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Producer, ProducerKind, Product, ProductStatus
from core.domain.ids import AccountId, Sku, sku_key
from core.domain.stock import Movement, NewMovement, RecordedMovement, StockLevel
from core.domain.sync import ListingState
from core.errors import (
    DomainError,
    IdempotencyConflictError,
    InsufficientStockError,
    StoreError,
    UnknownSkuError,
)
from core.ports import Clock, ProductIndexEntry, StockTotals, TokenSet
from core.store.crypto import TokenCipher
from core.store.tokens import SqlTokenStore


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


@dataclass
class _State:
    producers: dict[str, Producer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)
    accounts: dict[str, ChannelAccount] = field(default_factory=dict)
    listings: dict[str, Counter[ListingState]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    events: list[AuditEvent] = field(default_factory=list)

    def copy(self) -> _State:
        """Containers copied; the domain values in them are immutable."""
        return _State(
            dict(self.producers),
            dict(self.products),
            list(self.movements),
            dict(self.accounts),
            {k: Counter(v) for k, v in self.listings.items()},
            dict(self.digests),
            list(self.events),
        )


class FakeAuditLog:
    def __init__(self, state: _State) -> None:
        self._state = state

    def record(self, *events: AuditEvent) -> None:
        self._state.events.extend(events)


class FakeProducers:
    def __init__(self, state: _State) -> None:
        self._state = state

    def get_all(self) -> dict[str, Producer]:
        return dict(sorted(self._state.producers.items()))

    def add_many(self, producers: Sequence[Producer], at: datetime) -> None:
        for producer in producers:
            if producer.code in self._state.producers:
                raise DomainError(f"duplicate producer {producer.code}")
            self._state.producers[producer.code] = producer

    def update_many(self, producers: Sequence[Producer], at: datetime) -> None:
        for producer in producers:
            self._state.producers[producer.code] = producer

    def count_by_kind(self) -> dict[ProducerKind, int]:
        return dict(Counter(p.kind for p in self._state.producers.values()))


class FakeProducts:
    def __init__(self, state: _State) -> None:
        self._state = state

    def get(self, sku: str) -> Product | None:
        return self._state.products.get(sku_key(sku))

    def hold_for_import(self) -> None:
        """One fake store has one writer at a time already."""

    def index(self, keys: Iterable[str] | None = None) -> dict[str, ProductIndexEntry]:
        wanted = None if keys is None else set(keys)
        return {
            key: ProductIndexEntry(p.sku, p.fingerprint, self._state.digests.get(key))
            for key, p in self._state.products.items()
            if wanted is None or key in wanted
        }

    def source_digests(self) -> dict[str, str]:
        return dict(self._state.digests)

    def get_many(self, keys: Iterable[str]) -> dict[str, Product]:
        return {k: self._state.products[k] for k in keys if k in self._state.products}

    def _check_producers(self, products: Sequence[Product]) -> None:
        missing = {p.producer_code for p in products} - self._state.producers.keys()
        if missing:
            raise DomainError(f"unknown producer code(s): {', '.join(sorted(missing))}")

    def add_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        self._check_producers(products)
        for product in products:
            if product.key in self._state.products:
                raise DomainError(f"duplicate SKU {product.sku}")
        self.update_many(products, at, source_digests)

    def update_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        self._check_producers(products)
        for product in products:
            self._state.products[product.key] = product
            digest = (source_digests or {}).get(product.key)
            if digest is None:
                self._state.digests.pop(product.key, None)
            else:
                self._state.digests[product.key] = digest

    def iter_all(self) -> Iterator[Product]:
        for key in sorted(self._state.products):
            yield self._state.products[key]

    def for_producers(self, codes: Iterable[str]) -> dict[str, Product]:
        wanted = set(codes)
        return {
            key: p
            for key, p in self._state.products.items()
            if p.producer_code in wanted
        }

    def count_by_status(self) -> dict[ProductStatus, int]:
        return dict(Counter(p.status for p in self._state.products.values()))


class FakeLedger:
    _ids = itertools.count(1)

    def __init__(self, state: _State) -> None:
        self._state = state

    def _product(self, sku: str) -> Product:
        product = self._state.products.get(sku_key(sku))
        if product is None:
            raise UnknownSkuError(sku)
        return product

    def _level(self, product: Product) -> StockLevel:
        mine = [m for m in self._state.movements if sku_key(m.sku) == product.key]
        return StockLevel(
            product.sku,
            sum(m.on_hand_delta for m in mine),
            sum(m.reserved_delta for m in mine),
        )

    def _store(self, movement: NewMovement, product: Product, at: datetime) -> Movement:
        stored = movement.recorded(next(self._ids), product.sku, at)
        self._state.movements.append(stored)
        return stored

    def record(self, movement: NewMovement, at: datetime) -> RecordedMovement:
        for existing in self._state.movements:
            if existing.idempotency_key == movement.idempotency_key:
                if not movement.same_effect_as(existing):
                    raise IdempotencyConflictError(movement.idempotency_key)
                level = self._level(self._product(existing.sku))
                return RecordedMovement(existing, created=False, level=level)
        product = self._product(movement.sku)
        level = self._level(product)
        if movement.on_hand_delta < 0 and level.on_hand + movement.on_hand_delta < 0:
            raise InsufficientStockError(
                product.sku, level.on_hand, movement.on_hand_delta
            )
        stored = self._store(movement, product, at)
        return RecordedMovement(stored, created=True, level=self._level(product))

    def record_many(self, movements: Sequence[NewMovement], at: datetime) -> int:
        keys = {m.idempotency_key for m in self._state.movements}
        on_hand: dict[str, int] = {}
        todo: list[tuple[NewMovement, Product]] = []
        for movement in movements:
            product = self._product(movement.sku)
            if movement.idempotency_key in keys:
                continue
            keys.add(movement.idempotency_key)
            before = on_hand.get(product.key, self._level(product).on_hand)
            if movement.on_hand_delta < 0 and before + movement.on_hand_delta < 0:
                raise InsufficientStockError(
                    product.sku, before, movement.on_hand_delta
                )
            on_hand[product.key] = before + movement.on_hand_delta
            todo.append((movement, product))
        for movement, product in todo:
            self._store(movement, product, at)
        return len(todo)

    def recorded(self, keys: Iterable[str]) -> dict[str, Movement]:
        wanted = set(keys)
        return {
            m.idempotency_key: m
            for m in self._state.movements
            if m.idempotency_key in wanted
        }

    def lock(self, keys: Iterable[str]) -> None:
        """One in-memory writer at a time: nothing to lock."""

    def level(self, sku: str) -> StockLevel:
        return self._level(self._product(sku))

    def levels(self, keys: Iterable[str] | None = None) -> dict[str, StockLevel]:
        with_movements = {sku_key(m.sku) for m in self._state.movements}
        wanted = with_movements if keys is None else with_movements & set(keys)
        return {k: self._level(self._state.products[k]) for k in wanted}

    def history(self, sku: str, limit: int) -> list[Movement]:
        key = sku_key(sku)
        mine = [m for m in self._state.movements if sku_key(m.sku) == key]
        return sorted(mine, key=lambda m: m.id, reverse=True)[:limit]

    def totals(self) -> StockTotals:
        levels = [self._level(p) for p in self._state.products.values()]
        on_hand = sum(x.on_hand for x in levels)
        reserved = sum(x.reserved for x in levels)
        with_stock = sum(1 for x in levels if x.available > 0)
        return StockTotals(
            skus_with_stock=with_stock,
            skus_out_of_stock=len(levels) - with_stock,
            skus_oversold=sum(1 for x in levels if x.available < 0),
            on_hand=on_hand,
            reserved=reserved,
            available=on_hand - reserved,
        )


class FakeAccounts:
    def __init__(self, state: _State) -> None:
        self._state = state

    def get_all(self) -> list[ChannelAccount]:
        return [self._state.accounts[k] for k in sorted(self._state.accounts)]

    def save(self, account: ChannelAccount, at: datetime) -> None:
        missing = [c for c in account.producer_codes if c not in self._state.producers]
        if missing:
            raise DomainError(f"account {account.id!r}: unknown producer(s) {missing}")
        self._state.accounts[account.id] = account

    def listing_counts(self) -> Mapping[AccountId, Mapping[ListingState, int]]:
        return {AccountId(k): dict(v) for k, v in self._state.listings.items()}


class FakeUnitOfWork:
    """An in-memory unit of work: changes become visible to others only on commit."""

    def __init__(self) -> None:
        self.committed = _State()
        self.commits = 0
        self._working: _State | None = None

    def __enter__(self) -> Self:
        self._working = self.committed.copy()
        self.producers = FakeProducers(self._working)
        self.products = FakeProducts(self._working)
        self.stock = FakeLedger(self._working)
        self.accounts = FakeAccounts(self._working)
        self.audit = FakeAuditLog(self._working)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None

    def commit(self) -> None:
        assert self._working is not None
        self.committed = self._working.copy()
        self.commits += 1

    def rollback(self) -> None:
        self.__enter__()


def product(
    sku: str = "KOPI-FLR-001", producer: str = "IKM-NTT-001", **changes: object
) -> Product:
    """A valid product for tests; keyword arguments override fields."""
    base = Product(
        sku=Sku(sku),
        producer_code=producer,  # type: ignore[arg-type]
        name="Kopi Arabika Flores Bajawa 250 g",
        price=85_000,
        weight_grams=300,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class FakeTokenStore:
    """Tokens in memory; one holder per account at a time (a lock per account)."""

    def __init__(self) -> None:
        self.tokens: dict[str, TokenSet] = {}
        #: How many of the next saves the store refuses (as a database may).
        self.refuse_saves = 0
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def load(self, account: AccountId) -> TokenSet:
        return self.tokens.get(account, TokenSet())

    def record_authorisation_expiry(
        self, account: AccountId, expires_at: datetime
    ) -> None:
        self.tokens[account] = replace(  # UTC, as the database gives it back
            self.load(account), authorisation_expires_at=expires_at.astimezone(UTC)
        )

    @contextmanager
    def refreshing(self, account: AccountId) -> Iterator[_FakeHold]:
        with self._locks[account]:
            yield _FakeHold(self, account)


class _FakeHold:
    def __init__(self, store: FakeTokenStore, account: AccountId) -> None:
        self._store, self._account = store, account

    @property
    def current(self) -> TokenSet:
        return self._store.tokens.get(self._account, TokenSet())

    def save(self, tokens: TokenSet) -> TokenSet:
        if self._store.refuse_saves > 0:
            self._store.refuse_saves -= 1
            raise StoreError(f"cannot save the tokens of account {self._account!r}")
        current = self.current  # a save keeps the authorisation end, as SQL does
        saved = replace(
            tokens,
            version=current.version + 1,
            authorisation_expires_at=current.authorisation_expires_at,
        )
        self._store.tokens[self._account] = saved
        return saved


#: The token key of the tests (the ``cli`` fixture sets ``IKMSYNC_TOKEN_KEYS`` to it).
TEST_TOKEN_KEY = "HpH1Q-xQWLtw5rsDCfsCasRujjaYytrP6LjESLWkPgM="


def sql_token_store(
    session_factory: sessionmaker[Session], clock: Clock
) -> SqlTokenStore:
    """The database token store as production builds it, with the tests' key."""
    return SqlTokenStore(session_factory, clock, TokenCipher([TEST_TOKEN_KEY]))
