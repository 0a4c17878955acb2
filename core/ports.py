"""The ports the core owns: the clock, the repositories and the unit of work.

Adapters implement these Protocols structurally (``core.store`` for the database,
``tests.fakes`` for the in-memory fakes). Services receive them as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Producer, ProducerKind, Product, ProductStatus
from core.domain.ids import AccountId
from core.domain.stock import Movement, NewMovement, RecordedMovement, StockLevel
from core.domain.sync import ListingState


class Clock(Protocol):
    """Source of the current time; always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        ...


@dataclass(frozen=True, slots=True)
class ProductIndexEntry:
    """What an import needs to know of a stored product without loading it.

    ``source_digest`` identifies the spreadsheet row the product was last imported
    from, or is ``None`` when it changed in another way since.
    """

    sku: str
    fingerprint: str
    source_digest: str | None = None


@dataclass(frozen=True, slots=True)
class StockTotals:
    """Stock summed over the whole catalogue."""

    skus_with_stock: int
    skus_out_of_stock: int
    skus_oversold: int
    on_hand: int
    reserved: int
    available: int


class ProducerRepository(Protocol):
    """Producers by code."""

    def get_all(self) -> dict[str, Producer]:
        """Every producer, keyed by code."""
        ...

    def add_many(self, producers: Sequence[Producer], at: datetime) -> None:
        """Insert new producers; a code that exists already is an integrity error."""
        ...

    def update_many(self, producers: Sequence[Producer], at: datetime) -> None:
        """Overwrite existing producers by code."""
        ...

    def count_by_kind(self) -> dict[ProducerKind, int]:
        """How many producers of each kind."""
        ...


class ProductRepository(Protocol):
    """Products by SKU. Lookups by SKU use the SKU key (case and spaces ignored)."""

    def get(self, sku: str) -> Product | None:
        """The product whose SKU key equals that of ``sku``."""
        ...

    def index(self) -> dict[str, ProductIndexEntry]:
        """SKU key → stored SKU and fingerprint, for every product (cheap to load)."""
        ...

    def get_many(self, keys: Iterable[str]) -> dict[str, Product]:
        """Products by SKU key; missing keys are absent from the result."""
        ...

    def add_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        """Insert new products; their producers must exist.

        ``source_digests`` (by SKU key) record the spreadsheet rows they came from.
        """
        ...

    def update_many(
        self,
        products: Sequence[Product],
        at: datetime,
        source_digests: Mapping[str, str] | None = None,
    ) -> None:
        """Overwrite existing products, matched by SKU key; a product without a
        source digest has its stored one cleared."""
        ...

    def iter_all(self) -> Iterator[Product]:
        """Every product, ordered by SKU, streamed."""
        ...

    def count_by_status(self) -> dict[ProductStatus, int]:
        """How many products in each status."""
        ...


class StockLedger(Protocol):
    """The append-only ledger. Movements are never updated or deleted."""

    def record(self, movement: NewMovement, at: datetime) -> RecordedMovement:
        """Record one movement exactly once.

        A movement whose idempotency key is already recorded with the same effect
        returns the recorded one with ``created=False`` and moves nothing; with a
        different effect it raises ``IdempotencyConflictError``. A movement that would
        take on-hand below zero raises ``InsufficientStockError``; an unknown SKU raises
        ``UnknownSkuError``. Concurrent callers on one SKU are serialised.
        """
        ...

    def record_many(self, movements: Sequence[NewMovement], at: datetime) -> int:
        """Record increases in bulk, skipping keys already recorded; returns how many
        were new. Only movements that cannot take stock below zero are accepted."""
        ...

    def lock(self, keys: Iterable[str]) -> None:
        """Hold the ledgers of these SKU keys until the transaction ends.

        ``record`` takes the same lock, so a decision made from their levels in this
        transaction cannot be overtaken by another writer before it commits.
        """
        ...

    def level(self, sku: str) -> StockLevel:
        """Balances of one SKU (zero when it has no movements)."""
        ...

    def levels(self, keys: Iterable[str] | None = None) -> dict[str, StockLevel]:
        """Balances by SKU key, for the given keys or for every SKU with movements."""
        ...

    def history(self, sku: str, limit: int) -> list[Movement]:
        """The latest ``limit`` movements of a SKU, newest first."""
        ...

    def totals(self) -> StockTotals:
        """Stock summed over every product."""
        ...


class AccountRepository(Protocol):
    """Channel accounts and the listings bound to them."""

    def get_all(self) -> list[ChannelAccount]:
        """Every account, ordered by id."""
        ...

    def save(self, account: ChannelAccount, at: datetime) -> None:
        """Insert or overwrite an account by id; its producers must exist."""
        ...

    def listing_counts(self) -> Mapping[AccountId, Mapping[ListingState, int]]:
        """Listings per account and state."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; anything not committed is rolled back."""

    @property
    def producers(self) -> ProducerRepository:
        """Producers in this transaction."""
        ...

    @property
    def products(self) -> ProductRepository:
        """Products in this transaction."""
        ...

    @property
    def stock(self) -> StockLedger:
        """The stock ledger in this transaction."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """Channel accounts in this transaction."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make everything done so far durable."""
        ...

    def rollback(self) -> None:
        """Discard everything not yet committed."""
        ...
