"""Publishing an account: plan, then apply in the largest batches, recording each item.

:func:`push_account` keeps promise 1 (no duplicate listing, ever):

1. listings whose create outcome is unknown (``creating``) are looked up by SKU first:
   found ones are bound, the others become ``pending`` and are created in this run;
2. each chunk of creates is recorded as ``creating`` and committed *before* the
   request, so a crash mid-request leaves an intent the next run resolves by lookup;
3. results land with their run items in one transaction per chunk: ``live`` with the
   marketplace's ids, ``creating`` again when the outcome is unknown (looked up at the
   end of the phase; not found, they are created in the next run), ``failed`` when
   refused (not tried again until the product changes), ``pending`` when the failure
   was transient;
4. the account is planned again, so listings just bound or resolved get their content,
   price and stock in the same run; then content updates, deactivations, prices and
   stock (decreases first) are sent.

Nothing here holds a transaction open across a marketplace call.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.ids import Sku, sku_key
from core.domain.listings import Listing
from core.domain.marketplaces import Capability
from core.domain.remote import (
    ChangeKind,
    ChangeResult,
    ListingChange,
    PriceUpdate,
    StockUpdate,
)
from core.domain.runs import RunItem
from core.domain.sync import ListingState, RunOutcome, SyncKind
from core.errors import (
    AuthError,
    ConnectorError,
    OutcomeUnknownError,
    RejectedError,
    RunInterruptedError,
)
from core.ports import Clock, MarketplaceConnector, SyncUnitOfWork
from core.reconcile import AccountPlan, Desired, plan_account
from core.services.runs import RunRecorder, RunReport, UnitOfWorkFactory, error_text
from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Called after each chunk with the phase and how many items it finished.
Progress = Callable[[str, int], None]

#: Creates recorded as intents and sent per chunk.
CREATE_CHUNK = 100
#: Updates, prices and stock sent per chunk (the connector batches within).
WRITE_CHUNK = 500


class _CollectorPause:
    """No garbage collection while plans are read and built.

    A plan is some ten objects per SKU (listings, levels, drafts …) that all live
    until it is applied, so collecting while it is built only walks them again and
    again: about a third of the time of planning a large catalogue. Pauses nest and
    overlap across threads; the collector runs again when the last one ends (if it
    ran before the first).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pauses = 0
        self._resume = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._pauses == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._pauses += 1
        try:
            yield
        finally:
            with self._lock:
                self._pauses -= 1
                if self._pauses == 0 and self._resume:
                    gc.enable()


collector_paused = _CollectorPause()


def load_plan(
    uow: SyncUnitOfWork,
    account: ChannelAccount,
    listings: dict[str, Listing] | None = None,
    *,
    capabilities: frozenset[Capability],
) -> AccountPlan:
    """Read what the planner needs for ``account`` and plan it (no writes) within
    the marketplace's ``capabilities``; ``listings``, when given, are the account's
    listings read in ``uow`` already."""
    with collector_paused():
        products = uow.products.for_producers(account.producer_codes)
        if listings is None:
            listings = uow.listings.for_account(account.id)
        retired = listings.keys() - products.keys()
        if retired:
            products.update(uow.products.get_many(retired))
        levels = uow.stock.levels(products.keys())
        return plan_account(
            account, products, levels, listings, capabilities=capabilities
        )


def plan_push(
    uow_factory: UnitOfWorkFactory,
    account: ChannelAccount,
    *,
    capabilities: frozenset[Capability],
) -> AccountPlan:
    """The plan of one account within its marketplace's ``capabilities``, read in a
    transaction of its own; changes nothing."""
    with uow_factory() as uow:
        return load_plan(uow, account, capabilities=capabilities)


def _sent_create(price: int, stock: int, want: Desired) -> dict[str, int | str]:
    """What a create sends, as its run item keeps it."""
    return {"price": price, "stock": stock, "content_hash": want.content_hash}


def _sent_change(change: ListingChange, plan: AccountPlan) -> dict[str, str] | None:
    """What a content update sends (its content's hash); a deactivation or a
    reactivation sends no value."""
    if change.kind in (ChangeKind.DEACTIVATE, ChangeKind.REACTIVATE):
        return None
    return {"content_hash": plan.desired[sku_key(change.draft.sku)].content_hash}


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Applier:
    """Applies one account's plan, chunk by chunk."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        connector: MarketplaceConnector,
        account: ChannelAccount,
        clock: Clock,
        recorder: RunRecorder,
        progress: Progress | None,
        stop: StopRequest | None = None,
    ) -> None:
        self.uow_factory, self.connector = uow_factory, connector
        self.account, self.clock, self.recorder = account, clock, recorder
        self.progress = progress
        self.stop = stop or StopRequest()
        self.known: dict[str, Listing] = {}

    # ---------------------------------------------------------------- helpers

    def plan(self) -> AccountPlan:
        with collector_paused(), self.uow_factory() as uow:
            self.known = uow.listings.for_account(self.account.id)
            return load_plan(
                uow,
                self.account,
                dict(self.known),
                capabilities=self.connector.capabilities,
            )

    def _listing(self, sku: Sku) -> Listing:
        return self.known.get(sku_key(sku)) or Listing(
            self.account.id, sku, ListingState.PENDING
        )

    def _save(
        self, phase: str, listings: Sequence[Listing], items: Sequence[RunItem]
    ) -> None:
        with self.uow_factory() as uow:
            uow.listings.save_many(self.account.id, listings, self.clock.now())
            self.recorder.commit(uow, items)
        for listing in listings:
            self.known[sku_key(listing.sku)] = listing
        if self.progress is not None:
            self.progress(phase, len(items))

    # ---------------------------------------------------------------- resolve

    def resolve(self, skus: Sequence[Sku]) -> None:
        """Look up listings whose create outcome is unknown: bind or re-queue."""
        limit = max(self.connector.limits.find_per_call, 1)
        for batch in _chunks(skus, limit):
            self.stop.check()
            try:
                found = self.connector.find_listings(list(batch))
            except AuthError:
                raise
            except ConnectorError as exc:
                items = [self.recorder.item(s, "resolve", exc) for s in batch]
                self._save("resolve", [], items)
                continue
            listings, items = [], []
            for sku in batch:
                remote = found.get(sku_key(sku))
                previous = self._listing(sku)
                if remote is None:
                    listings.append(
                        replace(
                            previous,
                            state=ListingState.PENDING,
                            last_error="not found after an unknown create outcome",
                        )
                    )
                    log.info("listing.unresolved", sku=sku, account=self.account.id)
                else:
                    listings.append(
                        Listing(
                            self.account.id,
                            previous.sku,
                            ListingState.LIVE,
                            remote.external_id,
                            remote.external_variant_id,
                        )
                    )
                    log.info(
                        "listing.resolved",
                        sku=sku,
                        external_id=remote.external_id,
                        account=self.account.id,
                    )
                items.append(self.recorder.item(sku, "resolve"))
            self._save("resolve", listings, items)

    # ---------------------------------------------------------------- create

    def create(self, changes: Sequence[ListingChange], plan: AccountPlan) -> None:
        """Record intents, send, record outcomes; resolve unknown ones at the end."""
        unknown: list[Sku] = []
        size = max(CREATE_CHUNK, self.connector.limits.create_per_call)
        for chunk in _chunks(changes, size):
            self.stop.check()  # before the intents: none is left for nothing
            intents = [
                replace(self._listing(c.draft.sku), state=ListingState.CREATING)
                for c in chunk
            ]
            self._save("intent", intents, [])
            try:
                results = self.connector.apply_listing_changes(chunk)
            except AuthError:
                raise
            except ConnectorError as exc:  # outside the contract: treat as unknown
                results = [ChangeResult(c.draft.sku, False, error=exc) for c in chunk]
            listings, items = [], []
            for change, result in zip(chunk, results, strict=True):
                listing, item = self._created(change, result, plan)
                listings.append(listing)
                items.append(item)
                if listing.state is ListingState.CREATING:
                    unknown.append(change.draft.sku)
            self._save("create", listings, items)
        if unknown:
            self.resolve(unknown)

    def _created(
        self, change: ListingChange, result: ChangeResult, plan: AccountPlan
    ) -> tuple[Listing, RunItem]:
        draft = change.draft
        want = plan.desired[sku_key(draft.sku)]
        previous = self._listing(draft.sku)
        if result.ok:
            if result.bound:  # the marketplace's values: push ours next
                listing = Listing(
                    self.account.id,
                    previous.sku,
                    ListingState.LIVE,
                    result.external_id,
                    result.external_variant_id,
                )
            else:
                listing = Listing(
                    self.account.id,
                    previous.sku,
                    ListingState.LIVE,
                    result.external_id,
                    result.external_variant_id,
                    last_price=draft.price,
                    last_stock=draft.stock,
                    last_content_hash=want.content_hash,
                )
            if result.bound:
                return listing, self.recorder.item(draft.sku, "bind")
            return listing, self.recorder.item(
                draft.sku, "create", sent=_sent_create(draft.price, draft.stock, want)
            )
        error = result.error or ConnectorError("no outcome reported")
        if isinstance(error, OutcomeUnknownError):
            state = ListingState.CREATING
        elif isinstance(error, RejectedError):
            state = ListingState.FAILED
        else:
            state = ListingState.PENDING
        listing = replace(
            previous,
            state=state,
            external_id=None,
            external_variant_id=None,
            last_price=draft.price if state is ListingState.FAILED else None,
            last_stock=draft.stock if state is ListingState.FAILED else None,
            last_content_hash=want.content_hash
            if state is ListingState.FAILED
            else None,
            last_error=error_text(error),
        )
        return listing, self.recorder.item(
            draft.sku,
            "create",
            error,
            sent=_sent_create(draft.price, draft.stock, want),
        )

    # ---------------------------------------------------------------- updates

    def change(self, changes: Sequence[ListingChange], plan: AccountPlan) -> None:
        """Content updates and deactivations."""
        for chunk in _chunks(changes, WRITE_CHUNK):
            self.stop.check()
            self.recorder.ensure()  # the run's row before the marketplace write
            results = self._batch(
                chunk, self.connector.apply_listing_changes, lambda c: c.draft.sku
            )
            listings, items = [], []
            for change, result in zip(chunk, results, strict=True):
                previous = self._listing(change.draft.sku)
                operation = change.kind.value
                if result.ok:
                    if change.kind is ChangeKind.DEACTIVATE:
                        listing = replace(
                            previous, state=ListingState.DELISTED, last_error=None
                        )
                    elif change.kind is ChangeKind.REACTIVATE:
                        listing = replace(
                            previous, state=ListingState.LIVE, last_error=None
                        )
                    else:
                        listing = replace(
                            previous,
                            state=ListingState.LIVE,
                            last_content_hash=plan.desired[
                                sku_key(change.draft.sku)
                            ].content_hash,
                            last_error=None,
                        )
                    items.append(
                        self.recorder.item(
                            change.draft.sku, operation, sent=_sent_change(change, plan)
                        )
                    )
                else:
                    error = result.error or ConnectorError("no outcome reported")
                    listing = replace(previous, last_error=error_text(error))
                    if (
                        isinstance(error, RejectedError)
                        and change.kind is ChangeKind.UPDATE
                    ):
                        # Refused as is: not sent again until the content changes.
                        listing = replace(
                            listing,
                            last_content_hash=plan.desired[
                                sku_key(change.draft.sku)
                            ].content_hash,
                        )
                    items.append(
                        self.recorder.item(
                            change.draft.sku,
                            operation,
                            error,
                            sent=_sent_change(change, plan),
                        )
                    )
                listings.append(listing)
            self._save(operation_phase(chunk), listings, items)

    def prices(self, updates: Sequence[PriceUpdate]) -> None:
        """Price updates; a refused price is not sent again until it changes."""
        for chunk in _chunks(updates, WRITE_CHUNK):
            self.stop.check()
            self.recorder.ensure()
            results = self._batch(chunk, self.connector.push_prices, lambda u: u.sku)
            listings, items = [], []
            for update, result in zip(chunk, results, strict=True):
                previous = self._listing(update.sku)
                if result.ok:
                    listings.append(
                        replace(previous, last_price=update.price, last_error=None)
                    )
                    items.append(
                        self.recorder.item(
                            update.sku, "price", sent={"price": update.price}
                        )
                    )
                    continue
                error = result.error or ConnectorError("no outcome reported")
                refused = isinstance(error, RejectedError)
                listings.append(
                    replace(
                        previous,
                        last_price=update.price if refused else previous.last_price,
                        last_error=error_text(error),
                    )
                )
                items.append(
                    self.recorder.item(
                        update.sku, "price", error, sent={"price": update.price}
                    )
                )
            self._save("price", listings, items)

    def stock(self, updates: Sequence[StockUpdate]) -> None:
        """Stock updates (decreases first, as planned); a failed one is sent again
        next time, whatever the reason: stock shown wrongly is how orders oversell."""
        for chunk in _chunks(updates, WRITE_CHUNK):
            self.stop.check()
            self.recorder.ensure()
            results = self._batch(chunk, self.connector.push_stock, lambda u: u.sku)
            listings, items = [], []
            for update, result in zip(chunk, results, strict=True):
                previous = self._listing(update.sku)
                if result.ok:
                    listings.append(
                        replace(previous, last_stock=update.quantity, last_error=None)
                    )
                    items.append(
                        self.recorder.item(
                            update.sku, "stock", sent={"stock": update.quantity}
                        )
                    )
                else:
                    error = result.error or ConnectorError("no outcome reported")
                    listings.append(replace(previous, last_error=error_text(error)))
                    items.append(
                        self.recorder.item(
                            update.sku, "stock", error, sent={"stock": update.quantity}
                        )
                    )
            self._save("stock", listings, items)

    @staticmethod
    def _batch(
        chunk: Sequence[T],
        send: Callable[[Sequence[T]], list[ChangeResult]],
        sku_of: Callable[[T], Sku],
    ) -> list[ChangeResult]:
        try:
            results = send(chunk)
        except AuthError:
            raise
        except ConnectorError as exc:  # outside the contract: every item failed
            return [ChangeResult(sku_of(item), False, error=exc) for item in chunk]
        if len(results) != len(chunk):
            error = ConnectorError(
                f"the connector returned {len(results)} results for {len(chunk)} items"
            )
            return [ChangeResult(sku_of(item), False, error=error) for item in chunk]
        return results


def operation_phase(changes: Sequence[ListingChange]) -> str:
    """The progress phase of a chunk of listing changes."""
    kinds = {c.kind for c in changes}
    return "deactivate" if kinds == {ChangeKind.DEACTIVATE} else "update"


def push_account(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    clock: Clock,
    *,
    trigger: str,
    progress: Progress | None = None,
    stop: StopRequest | None = None,
) -> RunReport:
    """Bring one account in step with the canonical store, recording the run
    before its first write (to the store or the marketplace), or when it fails or
    is interrupted; an account already in step leaves no run row (``run_id`` 0).

    Per-item failures make the run ``partial``; an :class:`AuthError` (the account
    needs re-authorisation) or a failure outside the contract ends it ``failed``.
    Nothing is raised for the marketplace's failures. When ``stop`` is requested the
    run ends ``interrupted`` before its next chunk.
    """
    recorder = RunRecorder(uow_factory, clock, SyncKind.PUBLISH, account.id, trigger)
    recorder.open()
    applier = _Applier(uow_factory, connector, account, clock, recorder, progress, stop)
    # run_id is bound once the run has its row (RunRecorder), until the run ends
    with structlog.contextvars.bound_contextvars(
        run_id=None, account=account.id, marketplace=account.marketplace.value
    ):
        try:
            plan = applier.plan()
            if plan.resolve:
                applier.resolve(plan.resolve)
                plan = applier.plan()  # those not found are created now
            if plan.creates:
                applier.create(plan.creates, plan)
                plan = applier.plan()  # bound and resolved listings get their values
            applier.change([*plan.updates, *plan.deactivations], plan)
            applier.prices(plan.prices)
            applier.stock(plan.stock)
        except RunInterruptedError as exc:
            return recorder.report(recorder.interrupted(exc), str(exc))
        except ConnectorError as exc:
            reason = error_text(exc)
            log.error("sync_run.account_failed", reason=reason)  # noqa: TRY400
            return recorder.report(recorder.finish(RunOutcome.FAILED, reason), reason)
        except Exception as exc:
            recorder.finish(RunOutcome.FAILED, error_text(exc))
            raise
        return recorder.report(recorder.finish())
