"""The ports the core owns: the clock, the repositories and the unit of work.

Adapters implement these Protocols structurally (``core.store`` for the database,
``tests.fakes`` for the in-memory fakes). Services receive them as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import ClassVar, Protocol, Self

from core.audit.events import AuditEvent
from core.audit.query import EventFilter, Period, StoredEvent
from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Producer, ProducerKind, Product, ProductStatus
from core.domain.ids import AccountId, Sku
from core.domain.listings import Listing
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason, Settlement, StoredOrder
from core.domain.programme import (
    Dimension,
    FigureRow,
    Figures,
    ProductFigure,
    Ranking,
    Selection,
)
from core.domain.remote import (
    BatchLimits,
    ChangeResult,
    ListingChange,
    OrderWindow,
    PriceUpdate,
    RemoteListing,
    RemoteOrder,
    Secret,
    StockUpdate,
)
from core.domain.runs import RunItem, SyncRun
from core.domain.stock import Movement, NewMovement, RecordedMovement, StockLevel
from core.domain.sync import ListingState, OrderStatus, RunOutcome, SyncKind
from core.domain.users import Credentials, Scope, SignedIn, User


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

    def hold_for_import(self) -> None:
        """Queue this transaction behind any other catalogue import until it ends, so
        two imports never lock the same products in different orders."""
        ...

    def index(self, keys: Iterable[str] | None = None) -> dict[str, ProductIndexEntry]:
        """SKU key → stored SKU and fingerprint, for every product (cheap to load), or
        for those of ``keys`` that are stored."""
        ...

    def source_digests(self) -> dict[str, str]:
        """SKU key → digest of the spreadsheet row each product was last imported
        from, for the products that have one."""
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

    def for_producers(self, codes: Iterable[str]) -> dict[str, Product]:
        """Every product of these producers (any status), by SKU key."""
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
        """Record movements in bulk, in order, skipping keys already recorded (with no
        check of their effect); returns how many were new.

        If a movement would take on-hand below zero after the ones before it, nothing
        is recorded and ``InsufficientStockError`` is raised; the SKUs whose on-hand
        goes down are held as by :meth:`lock`. An unknown SKU raises
        ``UnknownSkuError``.
        """
        ...

    def recorded(self, keys: Iterable[str]) -> dict[str, Movement]:
        """The movements already recorded under these idempotency keys, by key."""
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


class AuditLog(Protocol):
    """Audit events written with the transaction they describe (DESIGN §6)."""

    def record(self, *events: AuditEvent) -> None:
        """Write ``events`` with this transaction's commit; a rollback drops them."""
        ...


class UserRepository(Protocol):
    """Console users, their scope and their signed-in sessions."""

    def get(self, username: str) -> User | None:
        """The user of this name, if any."""
        ...

    def get_all(self) -> list[User]:
        """Every user, by name."""
        ...

    def count(self) -> int:
        """How many users there are."""
        ...

    def credentials(self, username: str) -> Credentials | None:
        """What a login checks, if the user exists."""
        ...

    def add(self, user: User, password_hash: str, at: datetime) -> None:
        """Add a user; refuses a name taken."""
        ...

    def save(self, user: User, at: datetime) -> None:
        """Overwrite an existing user's role, scope, name, language, disabled."""
        ...

    def set_password_hash(
        self, username: str, password_hash: str, at: datetime
    ) -> None:
        """Replace the hash and clear the throttle."""
        ...

    def note_login(
        self, username: str, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        """Store the throttle's state after a login attempt."""
        ...

    def note_failed_login(
        self, username: str, *, lock_after: int, lock_until: datetime
    ) -> tuple[int, datetime | None]:
        """Count one more failed login (in the database, so failures at once all
        count), locking the user until ``lock_until`` at ``lock_after`` failures;
        the count and lock now."""
        ...

    def producers_in(self, scope: Scope) -> dict[int, str]:
        """Code by id of the producers ``scope`` admits."""
        ...

    def account_ids_within(
        self, producer_ids: frozenset[int] | None
    ) -> frozenset[int] | None:
        """Row ids of accounts all of whose producers are in ``producer_ids``."""
        ...

    def open_session(
        self,
        user_id: int,
        *,
        token_hash: str,
        csrf_token: str,
        at: datetime,
        expires_at: datetime,
    ) -> None:
        """Store a new signed-in session."""
        ...

    def signed_in(self, token_hash: str, at: datetime) -> SignedIn | None:
        """The live session with this token hash, if any."""
        ...

    def touch_session(
        self, token_hash: str, at: datetime, expires_at: datetime
    ) -> None:
        """Extend a live session."""
        ...

    def close_session(self, token_hash: str) -> None:
        """End one session."""
        ...

    def close_sessions_of(self, username: str) -> int:
        """End every session of a user; how many."""
        ...

    def close_expired_sessions(self, at: datetime) -> int:
        """Forget sessions that have ended; how many."""
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

    @property
    def audit(self) -> AuditLog:
        """Audit events of this transaction."""
        ...

    @property
    def users(self) -> UserRepository:
        """Console users in this transaction."""
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


# ------------------------------------------------------------------- sync engine


class ListingRepository(Protocol):
    """Listings (a SKU bound to an account) and what was last pushed to them."""

    def for_account(self, account: AccountId) -> dict[str, Listing]:
        """Every listing of ``account``, by SKU key."""
        ...

    def save_many(
        self, account: AccountId, listings: Sequence[Listing], at: datetime
    ) -> None:
        """Insert or overwrite listings of ``account``, matched by SKU key; their
        products must exist."""
        ...

    def accounts_listing(self, keys: Iterable[str]) -> dict[str, list[AccountId]]:
        """For each SKU key, the accounts with a live listing of it."""
        ...

    def forget_stock(self, account: AccountId, keys: Iterable[str]) -> None:
        """Forget the stock last pushed to these listings of ``account`` (the
        marketplace changed it itself), so the next push sends it again."""
        ...


@dataclass(frozen=True, slots=True)
class PullStart:
    """What an order pull reads first about its account, in one look-up: the
    bookmark, and whether any order is flagged oversold or still open (when none
    is, the pull need not look for lagging or open orders to re-read)."""

    bookmark: datetime | None
    any_oversold: bool
    any_open: bool


class OrderRepository(Protocol):
    """Orders by (account, external id), their lines and each account's bookmark."""

    def get_many(
        self, account: AccountId, external_ids: Iterable[str]
    ) -> dict[str, StoredOrder]:
        """Stored orders of ``account`` by external id (missing ones are absent)."""
        ...

    def save_many(self, orders: Sequence[StoredOrder], at: datetime) -> None:
        """Insert new orders with their lines; overwrite the status, amounts, times,
        stock state and oversold flag of existing ones (their lines stay)."""
        ...

    def open_ids(self, account: AccountId, limit: int) -> list[str]:
        """External ids of ``account``'s orders not yet in a final status, the most
        recently updated first (at most ``limit``)."""
        ...

    def oversold(
        self, account: AccountId | None = None, *, open_only: bool = False
    ) -> list[StoredOrder]:
        """Orders flagged as oversold (of one account, or of all); with
        ``open_only``, only those no officer has settled yet."""
        ...

    def settle(
        self, account: AccountId, external_id: str, settlement: Settlement
    ) -> bool:
        """Record how an oversold order was settled; False (nothing written) when
        the order is not an unsettled oversold order of ``account``."""
        ...

    def count_by_status(self, account: AccountId) -> dict[OrderStatus, int]:
        """How many orders of ``account`` in each status."""
        ...

    def units_held(self, account: AccountId) -> int:
        """Units of ``account``'s orders whose stock is held (reserved or shipped):
        what it has sold, less cancellations and returns."""
        ...

    def bookmark(self, account: AccountId) -> datetime | None:
        """Where the next order pull of ``account`` starts (before the overlap)."""
        ...

    def pull_start(self, account: AccountId) -> PullStart:
        """The bookmark and flags an order pull of ``account`` starts from.

        Raises:
            StoreError: the account is not in the store.
        """
        ...

    def set_bookmark(
        self,
        account: AccountId,
        position: datetime,
        at: datetime,
        *,
        in_step: bool = False,
    ) -> None:
        """Move the bookmark; commit it with the orders it covers. ``in_step``: the
        account's cycle found nothing to do, so ``at`` is also when it was last
        checked and found in step (:meth:`in_step_at`)."""
        ...

    def in_step_at(self, account: AccountId) -> datetime | None:
        """When a cycle of ``account`` last found nothing to do (``None``: never)."""
        ...


class RunRepository(Protocol):
    """Sync runs and their per-item results."""

    def start(
        self,
        kind: SyncKind,
        account: AccountId | None,
        trigger: str,
        at: datetime,
        window: OrderWindow | None = None,
    ) -> int:
        """Record a new run as running; returns its id. Every run has its own record:
        one that starts over the window of a run cut short leaves that run as it
        ended."""
        ...

    def add_items(self, run_id: int, items: Sequence[RunItem]) -> None:
        """Append item results to a run."""
        ...

    def finish(
        self,
        run_id: int,
        outcome: RunOutcome,
        counts: Mapping[str, int],
        at: datetime,
        error: str = "",
    ) -> None:
        """Record how a run ended, and the error that ended it ``failed``."""
        ...

    def recent(
        self,
        limit: int,
        account: AccountId | None = None,
        kind: SyncKind | None = None,
        period: Period | None = None,
    ) -> list[SyncRun]:
        """The latest runs (started in ``period`` when given), newest first,
        without their items."""
        ...

    def get(self, run_id: int) -> SyncRun | None:
        """One run with its items."""
        ...


@dataclass(frozen=True, slots=True)
class Fence:
    """An account's lease as one holder took it: every write made under it checks,
    in its own transaction, that ``holder`` still holds the lease at ``epoch`` and
    that it has not expired by the database's clock."""

    account: AccountId
    holder: str
    epoch: int


class LeaseStore(Protocol):
    """Who writes for an account: one holder at a time, across processes and
    machines. Expiry is judged by the database's clock, never the caller's; every
    call commits at once, outside any unit of work."""

    def acquire(
        self, account: AccountId, holder: str, duration: timedelta
    ) -> Fence | None:
        """Take ``account``'s lease for ``holder`` for ``duration``; ``None`` when
        another holder's lease has not expired. A new holder gets a higher epoch."""
        ...

    def renew(self, fence: Fence, duration: timedelta) -> bool:
        """Extend ``fence``'s lease by ``duration`` from now; False when the lease
        has passed to another holder (or was released)."""
        ...

    def release(self, fence: Fence) -> None:
        """Give the lease back (only while ``fence`` still holds it). Its epoch is
        kept, so whoever takes it next gets a higher one."""
        ...

    def holder(self, account: AccountId) -> str | None:
        """Who holds ``account``'s lease now (expired or not), if anyone; ``None``
        once it was released."""
        ...

    def take_over(
        self, account: AccountId, previous: str, holder: str, duration: timedelta
    ) -> Fence | None:
        """Hand ``previous``'s lease to ``holder`` (its process is known to be
        gone); ``None`` when ``previous`` no longer holds it."""
        ...


@dataclass(frozen=True, slots=True)
class LeaseView:
    """An account's lease as ``status`` shows it: who holds it until when, and
    whether it is still live by the database's clock."""

    holder: str
    expires_at: datetime
    live: bool


@dataclass(frozen=True, slots=True)
class AccountSchedule:
    """When the daemon next runs an account, and the backoff it is waiting out
    (``backoff_until`` ``None`` when it is not backing off)."""

    next_due: datetime | None
    backoff_until: datetime | None = None
    failures: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AuthorisationView:
    """An account's authorisation as ``status`` shows it: when the seller's
    authorisation ends (``None`` while not known), and whether the account is
    marked for re-authorisation and why."""

    expires_at: datetime | None
    needs_reauthorisation: bool = False
    reason: str = ""


class AccountWatch(Protocol):
    """What ``ikm-sync status`` shows per account, read in a few queries whatever
    the number of accounts."""

    def last_runs(self) -> dict[AccountId, SyncRun]:
        """Each account's latest run (without items); accounts never run are
        absent."""
        ...

    def leases(self) -> dict[AccountId, LeaseView]:
        """Each account's lease row, expired or not; accounts never leased (or
        released) are absent."""
        ...

    def schedules(self) -> dict[AccountId, AccountSchedule] | None:
        """Each account's due time and backoff; ``None`` while the store keeps no
        schedule (no daemon has scheduled anything)."""
        ...

    def in_step(self) -> dict[AccountId, datetime]:
        """When each account was last checked by a cycle and found in step (a
        cycle with nothing to do records no run); accounts never found so are
        absent."""
        ...

    def authorisations(self) -> dict[AccountId, AuthorisationView]:
        """Each account's authorisation end and re-authorisation mark; accounts
        without stored tokens are absent."""
        ...


@dataclass(frozen=True, slots=True)
class StockTrail:
    """A SKU's stored name and its movements up to a time, in ledger order."""

    sku: Sku
    name: str
    movements: tuple[Movement, ...]


class AuditReader(Protocol):
    """The auditor's reading of the trail: events by filter, a SKU's movements.
    Every method reads in a few set-based queries, never one per row."""

    def events(self, selection: EventFilter) -> Iterator[StoredEvent]:
        """The events ``selection`` selects, oldest first (by time, then as
        written), at most ``selection.limit``; streamed, so millions of events
        take constant memory."""
        ...

    def events_of(self, subject: str, action: str) -> list[StoredEvent]:
        """Every event of ``action`` on ``subject``, as written."""
        ...

    def stock_trail(self, sku: str, until: datetime | None) -> StockTrail | None:
        """The SKU's movements recorded at or before ``until`` (all when None),
        in ledger order; None when no product has the SKU."""
        ...


class RunArchive(Protocol):
    """Runs of a period with every item, for the auditor's export."""

    def runs(
        self,
        period: Period,
        account: AccountId | None = None,
        kind: SyncKind | None = None,
    ) -> Iterator[SyncRun]:
        """Every run started in ``period`` (of ``account``, of ``kind``), oldest
        first, each with its items and the values sent; streamed."""
        ...


class ProgrammeReader(Protocol):
    """Programme figures read from the orders (rules: :mod:`core.domain.programme`).
    Each method reads in one or two set-based queries, never one per order."""

    def figures(
        self, selection: Selection, by: Dimension
    ) -> tuple[list[FigureRow], Figures, Figures]:
        """The groups by ``by`` (ordered by value, ``None`` last), the total of
        every counted line, and the part of it no product matched."""
        ...

    def top_products(
        self, selection: Selection, ranking: Ranking, limit: int
    ) -> list[ProductFigure]:
        """At most ``limit`` products with counted lines, best first by
        ``ranking``, then by the other measure, then by SKU."""
        ...


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """When an account's scheduled job is next due and how it last went."""

    account: AccountId
    job: str
    next_due_at: datetime
    failures: int = 0
    backoff_until: datetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    last_finished_at: datetime | None = None


class ScheduleStore(Protocol):
    """Due times of the scheduler's jobs per account (``job`` is ``cycle`` or
    ``reconcile``), shared by every daemon. Times follow the database's clock;
    every call commits at once."""

    def ensure(self, job: str, first_due: Mapping[AccountId, timedelta]) -> int:
        """Give each account in ``first_due`` without a due time for ``job`` one,
        that long from now; returns how many were added. Set-based: accounts that
        have one cost nothing (every daemon calls this each minute)."""
        ...

    def claim_due(
        self,
        job: str,
        interval: Callable[[AccountId], timedelta],
        limit: int,
        exclude: Iterable[AccountId] = (),
    ) -> list[AccountId]:
        """Up to ``limit`` enabled accounts whose ``job`` is due now and not backing
        off, oldest due first; each one's next due time moves to now +
        ``interval(account)`` in the same transaction, so no other claimer gets it
        (missed turns coalesce into this one)."""
        ...

    def succeeded(self, job: str, account: AccountId, outcome: str) -> None:
        """The job ran: failures and back-off are cleared."""
        ...

    def failed(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        backoff: Callable[[int], timedelta],
    ) -> int:
        """The job failed: one more failure in a row, backing off for
        ``backoff(failures)`` from now; returns the failures in a row."""
        ...

    def noted(
        self,
        job: str,
        account: AccountId,
        outcome: str,
        error: str,
        due_in: timedelta | None = None,
    ) -> None:
        """The job did not run for a reason that is no failure of its own (the
        account needs re-authorisation, or another process holds its lease):
        recorded, failures unchanged. With ``due_in`` the job is due again that
        long from now, when that is sooner than the turn its claim set (a claim
        that could not run is not spent)."""
        ...

    def entries(self, job: str) -> list[ScheduleEntry]:
        """Every account's due time for ``job``, by account."""
        ...

    def unleased_running(self) -> list[AccountId]:
        """Accounts with a run left ``running`` and no live lease: whoever started
        the run died or lost the lease (or is paused past it)."""
        ...

    def close_abandoned(self, fence: Fence) -> list[int]:
        """Close as ``abandoned`` the account's runs left ``running``, under
        ``fence`` (a lease just taken, so the old holder is fenced off for good and
        nobody else starts a run); nothing when the fence no longer holds. Returns
        the runs' ids."""
        ...


class SyncUnitOfWork(UnitOfWork, Protocol):
    """A unit of work with the sync engine's repositories too.

    One opened for account work is fenced by the job's lease (:class:`Fence`): its
    ``commit`` raises :class:`~core.errors.LeaseLostError` and keeps nothing once the
    lease has expired or passed to another holder."""

    @property
    def listings(self) -> ListingRepository:
        """Listings in this transaction."""
        ...

    @property
    def orders(self) -> OrderRepository:
        """Orders in this transaction."""
        ...

    @property
    def runs(self) -> RunRepository:
        """Sync runs in this transaction."""
        ...


# ------------------------------------------------------------------------ tokens


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An account's marketplace tokens as last stored.

    ``version`` grows with every save; ``needs_reauthorisation`` is set when the
    marketplace refused the account's authorisation for good (an officer must act).
    ``authorisation_expires_at`` is when the seller's authorisation of the app ends,
    as last read from the marketplace: kept by
    :meth:`TokenStore.record_authorisation_expiry` only, never by a save.
    """

    access_token: Secret | None = None
    refresh_token: Secret | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    version: int = 0
    needs_reauthorisation: bool = False
    reason: str = ""
    authorisation_expires_at: datetime | None = None


class TokenRefresh(Protocol):
    """An account's tokens held for one refresh (see :meth:`TokenStore.refreshing`)."""

    @property
    def current(self) -> TokenSet:
        """The tokens as stored now, read after the hold was taken."""
        ...

    def save(self, tokens: TokenSet) -> TokenSet:
        """Store new tokens durably now, before anything uses them; returns them with
        their new version."""
        ...


class TokenStore(Protocol):
    """Where accounts' tokens live (the database; never settings or logs)."""

    def load(self, account: AccountId) -> TokenSet:
        """The stored tokens of ``account`` (an empty set when there are none)."""
        ...

    def record_authorisation_expiry(
        self, account: AccountId, expires_at: datetime
    ) -> None:
        """Remember when the seller's authorisation of ``account`` ends, as just
        read from the marketplace (durable on return; the tokens and their version
        are left as they are).

        Raises:
            StoreError: the account is not in the store, or the write is refused.
        """
        ...

    def refreshing(self, account: AccountId) -> AbstractContextManager[TokenRefresh]:
        """Hold ``account``'s tokens for a refresh, across threads and processes.

        Another holder waits until this one ends, then reads what this one saved: so
        a single-use refresh token is spent by one holder only, and no new pair is
        lost. Saved tokens are durable when :meth:`TokenRefresh.save` returns.

        Raises:
            StoreError: the hold cannot be taken, or (from ``save``) the tokens
                cannot be saved; the message names the account, never a token.
        """
        ...


# -------------------------------------------------------------------- connectors


class MarketplaceConnector(Protocol):
    """One shop on one marketplace, in ikm-sync's vocabulary.

    Every method raises only :class:`~core.errors.ConnectorError` subclasses. Transient
    failures and rate limits of idempotent calls are retried inside (bounded); what
    still fails surfaces as ``TransientError`` or ``RateLimitError``. Batch methods
    return one :class:`ChangeResult` per item, in the order given: partial success is
    normal, not an exception. Reads and stock/price updates are idempotent; creates are
    not, and a create whose answer was lost is reported as ``OutcomeUnknownError`` in
    its result, never retried blindly.
    """

    key: ClassVar[str]
    limits: ClassVar[BatchLimits]
    #: What the marketplace's API lets the connector do; the planner and the
    #: services never ask for anything else.
    capabilities: ClassVar[frozenset[Capability]]

    def authorization_url(self, redirect_uri: str, state: str) -> str | None:
        """Where the seller approves this app for the shop (``None`` when the
        marketplace links shops another way); the approval redirects to
        ``redirect_uri`` with a code for :meth:`authorize`."""
        ...

    def authorize(self, code: str, redirect_uri: str) -> None:
        """Exchange an approval code for tokens and store them.

        Raises:
            AuthError: the code was refused (used, expired or for another shop).
        """
        ...

    def check(self) -> None:
        """Verify the credentials and access to the shop.

        Raises:
            AuthError: the account needs re-authorisation.
            TransientError: the marketplace could not be reached.
        """
        ...

    def authorisation_expiry(self) -> datetime | None:
        """When the seller's authorisation of this app for the shop ends, as the
        marketplace reports it now (one call), or ``None`` at once where the
        marketplace documents no such end. After it the shop must be authorised
        again (:meth:`authorization_url`).

        Raises:
            AuthError: the account needs re-authorisation.
            ContractError: the marketplace's answer carries no usable end; the
                message names the field.
            TransientError: the marketplace could not be reached.
        """
        ...

    def find_listings(self, skus: Sequence[str]) -> dict[str, RemoteListing]:
        """The marketplace's listings carrying these seller SKUs, by SKU key; SKUs
        not found are absent. Used to resolve a create whose outcome is unknown."""
        ...

    def fetch_listings(self) -> Iterator[RemoteListing]:
        """Every listing of the shop, across all pages, as the marketplace shows it."""
        ...

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        """Create, update or deactivate listings; one result per change, in order.
        Creates return the new external ids."""
        ...

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        """Set stock, in the largest batches the marketplace allows; idempotent."""
        ...

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ChangeResult]:
        """Set prices (whole rupiah) in the largest batches allowed; idempotent."""
        ...

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        """Every order updated in ``window`` (``since`` inclusive, ``until`` exclusive),
        across pages and split into the marketplace's longest window, with details.
        An order may appear more than once; callers upsert by external id."""
        ...

    def fetch_order(self, external_id: str) -> RemoteOrder:
        """One order with its lines.

        Raises:
            RejectedError: no such order.
        """
        ...

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        """Ask the marketplace to cancel one order as the seller; not idempotent
        (a lost answer is ``OutcomeUnknownError``). The new status is read back with
        :meth:`fetch_order`, never assumed.

        Raises:
            RejectedError: no such order, the order can no longer be cancelled, or
                the marketplace documents no cancellation (no
                ``Capability.CANCEL_ORDERS``).
        """
        ...

    def close(self) -> None:
        """Release what the connector opened itself (not an injected HTTP client)."""
        ...
