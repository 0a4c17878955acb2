"""The Tokopedia connector (legacy Seller API, ``fs_id``): orchestration only.

Batching, paging and per-item results live here; the calls are in
:mod:`connectors.tokopedia.client`, the vocabulary in
:mod:`connectors.tokopedia.mapping`, the error codes in
:mod:`connectors.tokopedia.errors`.

Credentials (the account's credential set): ``client_id`` and ``client_secret``, the
pair Tokopedia issues with the ``fs_id`` (tokopedia.md §2.1). Options: see
:class:`~connectors.tokopedia.settings.TokopediaSettings` (``fs_id`` is required).

Assumptions beyond the page [INF]:

- Shops are linked to the ``fs_id`` by Tokopedia, out of band: there is no consent
  URL (:meth:`TokopediaConnector.authorization_url` is ``None``) and
  :meth:`TokopediaConnector.authorize` does nothing; the first call fetches a token.
- A token is used until it expires (asking early returns the same one, §2.2);
  "unauthorized" fetches a token and retries the call once.
- ``find_listings`` asks product info by ``sku=`` once per SKU, as given and, when it
  differs, in its SKU-key form (upper case, no spaces); a marketplace SKU differing
  from both only in case is seen by ``fetch_listings``, not found here. The look-up
  before creates reads the shop's product pages instead when that takes fewer calls
  (:class:`connectors._lookup.ShopIndex`); the pages carry no total, so a walk that
  reaches the calls it may take is left for one-SKU look-ups.
- A create answer's ``success_rows_data`` may carry only ``product_id`` (§5.1): rows
  are matched to ``failed_rows_data`` by SKU, the others to the successes in order;
  when the counts disagree the SKUs are looked up instead.
- The edit and inactive answers are not on the page: they are read like the create
  answer (per-row successes and failures); an answer without rows means every row
  succeeded. An edit sends the whole content, the unchanged name included (an
  unchanged name is assumed accepted once the product has orders; a changed one is
  that item's ``RejectedError``). ``PRD_USC_028`` refuses a whole edit call, so its
  rows are then edited one by one to find the inactive one.
- Rows refused with ``ERR_TOO_MANY_REQUEST`` are retried (only they) once the budget
  allows, at most :data:`THROTTLE_ROUNDS` times each; then their result is a
  ``RateLimitError``.
- Orders: the list filters by creation time and lists orders that reached 220, so
  the connector has no ``Capability.ORDERS_BY_UPDATE_TIME``; status changes of
  older orders are seen through :meth:`TokopediaConnector.fetch_order`. The list
  rows carry status, lines (SKU, quantity, unit price) and creation time, so no
  per-order detail call is made;
  their ``updated_at`` is the creation time. Windows are 3 days less one minute, and
  each call's bounds are widened to whole seconds (``to_date`` rounded up), keeping
  ``to_date - from_date`` strictly below 259,200 s.
- Paging (listings and orders, page numbers from 1): a short page ends the walk; an
  empty page after a full one is checked by asking one more page (an empty page in
  the middle, §10.2); a page repeating the previous page's rows is a ContractError.
- Pictures: the first five image URLs (§11: 1 to 5 pictures).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import ClassVar

import structlog
from pydantic import BaseModel, ValidationError
from structlog.contextvars import bound_contextvars

from connectors._context import ConnectorContext, missing_credential
from connectors._lookup import ShopIndex, look_up_each
from connectors._pagination import PageGuard
from connectors._results import in_order
from connectors.tokopedia import mapping
from connectors.tokopedia.client import (
    CLIENT_ID,
    CLIENT_SECRET,
    PRICE_UPDATE,
    PRODUCT_ACTIVE,
    PRODUCT_CREATE,
    PRODUCT_EDIT,
    PRODUCT_INACTIVE,
    STOCK_UPDATE,
    TokopediaClient,
)
from connectors.tokopedia.errors import (
    PRODUCT_NOT_ACTIVE,
    is_throttled,
    row_error,
)
from connectors.tokopedia.schemas import (
    ActiveResult,
    CreateProduct,
    EditProduct,
    FailedProductRow,
    FailedUpdateRow,
    PriceRow,
    ProductInfo,
    ProductRowsResult,
    RowUpdateResult,
    StockRow,
)
from connectors.tokopedia.settings import TokopediaSettings
from core.domain.ids import Sku, sku_key
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.remote import (
    BatchLimits,
    ChangeKind,
    ChangeResult,
    ListingChange,
    OrderWindow,
    PriceUpdate,
    RemoteListing,
    RemoteOrder,
    StockUpdate,
)
from core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    ContractError,
    OutcomeUnknownError,
    RejectedError,
    Where,
)

log = structlog.get_logger(__name__)

#: Product info page size (§11: ``per_page`` ≤ 100).
PRODUCT_PAGE_SIZE = 100
#: Edit batch (§11: ≤ 20, as create).
EDIT_PER_CALL = 20
#: Active/inactive batch (§5.5: ≤ 25 ids).
INACTIVE_PER_CALL = 25
#: How many times one row refused with ``ERR_TOO_MANY_REQUEST`` is sent again.
THROTTLE_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one row of a bulk call."""

    ok: bool
    external_id: str | None = None
    error: Exception | None = None
    throttled: bool = False


_Call = Callable[[list[int]], dict[int, _Outcome]]


def _refused(where: Where, error: mapping.DraftRefusedError) -> RejectedError:
    return RejectedError(
        f"refused before calling: {error}",
        fields={error.field: str(error)},
        **where,
    )


def _without_product_id(
    change: ListingChange, action: str, where: Where
) -> ChangeResult:
    """The failed result of a change whose listing has no Tokopedia product id."""
    return ChangeResult(
        change.draft.sku,
        False,
        error=RejectedError(
            f"{action} needs the listing's Tokopedia product id, got "
            f"{change.external_id!r}",
            fields={"external_id": "missing or not numeric"},
            **where,
        ),
    )


def _product_id(external_id: str | None) -> int | None:
    text = (external_id or "").strip()
    return int(text) if text.isdigit() else None


class TokopediaConnector:
    """One Tokopedia shop (``account.shop_id``) through the app ``options.fs_id``.

    Implements :class:`core.ports.MarketplaceConnector`; see the module docstring for
    the credentials, options and the assumptions made beyond tokopedia.md.
    """

    key: ClassVar[str] = "tokopedia"
    limits: ClassVar[BatchLimits] = BatchLimits(
        create_per_call=20,  # §11 (the v2 figure)
        stock_per_call=100,  # §5.3
        price_per_call=100,  # §5.4
        find_per_call=1,  # product info by one sku= (§5.7)
        order_window=timedelta(days=3) - timedelta(minutes=1),  # < 3 days (§6.1)
        order_page_size=100,  # §6.1
        order_details_per_call=1,  # single order (§6.2)
    )
    #: No ``ORDERS_BY_UPDATE_TIME``: the list filters by creation time (§6.1).
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.UPDATE_CONTENT,  # edit product (§5)
            Capability.UNLIST,  # set active / inactive (§5)
            Capability.CANCEL_ORDERS,  # nack: the seller rejects (§6.4)
            Capability.WEBHOOKS,  # order notification and status (§7)
            Capability.FULFIL,  # ack and request pick-up (§6)
        }
    )
    Settings: ClassVar[type[BaseModel]] = TokopediaSettings

    def __init__(self, context: ConnectorContext) -> None:
        """Validate ``context.options`` and the credential names.

        Raises:
            ConfigError: an option is wrong, the shop id is not numeric, or a
                credential is missing.
        """
        account = context.account
        try:
            self._settings = TokopediaSettings.model_validate(dict(context.options))
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(map(str, e['loc'])) or '?'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"account {account.id!r}: tokopedia {problems}") from None
        if not account.shop_id.strip().isdigit():
            raise ConfigError(
                f"account {account.id!r}: shop_id {account.shop_id!r} must be "
                f"Tokopedia's numeric shop id"
            )
        for name in (CLIENT_ID, CLIENT_SECRET):
            if name not in context.credentials:
                missing = missing_credential(account, name)
                raise ConfigError(
                    f"{missing} (Tokopedia needs {CLIENT_ID!r} and {CLIENT_SECRET!r})"
                )
        self._ctx = context
        self._shop_id = int(account.shop_id.strip())
        self._client = TokopediaClient(context, self._settings)
        #: Answers the look-ups before creates (a scan of the shop when cheaper).
        self._index = ShopIndex(
            self._scan, self._find_key, context.clock, context.where("find_listings")
        )

    # ================================================================ authorisation

    def authorization_url(self, redirect_uri: str, state: str) -> str | None:  # noqa: ARG002
        """``None``: Tokopedia links shops to the ``fs_id`` itself, out of band."""
        return None

    def authorize(self, code: str, redirect_uri: str) -> None:  # noqa: ARG002
        """Clear a re-authorisation mark once the shop is linked to the app again.

        There is no approval code: an officer links the shop to the ``fs_id`` in the
        Tokopedia Seller Center, and tokens come from the app's client credentials on
        first use. Call :meth:`check` afterwards to prove the link.
        """
        self._client.keeper.clear_mark()

    def check(self) -> None:
        """One product info page of one item: proves the token and the shop link.

        Raises:
            AuthError: wrong client credentials, or the shop is not linked.
            TransientError: Tokopedia could not be reached.
        """
        # the store is read afresh: the account may have been marked for
        # re-authorisation since (by a check, an officer or another process)
        self._client.keeper.forget()
        with bound_contextvars(operation="check"):
            self._client.product_page(1, 1, operation="check")
            log.info("account.checked", **self._ctx.where("check"))

    def authorisation_expiry(self) -> None:
        """``None``: a shop's link to a Tokopedia app has no documented end (its
        tokens come from the app's credentials)."""
        return None

    # ================================================================ listings

    def find_listings(self, skus: Sequence[str]) -> dict[str, RemoteListing]:
        """Listings by SKU key; SKUs not found are absent (one call per SKU form)."""
        found: dict[str, RemoteListing] = {}
        for key, given in _wanted(skus).items():
            listing = self._find_key(key, given)
            if listing is not None:
                found[key] = listing
        return found

    def _find_key(self, key: str, given: str) -> RemoteListing | None:
        for form in dict.fromkeys((given.strip(), key)):
            match = self._pick(key, self._client.products_by_sku(form))
            if match is not None:
                return mapping.listing(match)
        return None

    def _look_up_each(
        self, skus: Sequence[str]
    ) -> tuple[dict[str, RemoteListing], dict[str, ConnectorError]]:
        """:meth:`find_listings`, one SKU at a time: the listings found, and the
        error of each SKU whose look-up failed (``AuthError`` is raised)."""
        return look_up_each(
            _wanted(skus), self._find_key, self._ctx.where("find_listings")
        )

    def _pick(self, key: str, items: list[ProductInfo]) -> ProductInfo | None:
        mine = [
            item
            for item in items
            if sku_key(item.other.sku) == key
            and item.basic.shop_id in (None, self._shop_id)
        ]
        live = [i for i in mine if i.basic.status in mapping.LIVE_PRODUCT_STATUSES]
        chosen = live or mine
        return chosen[0] if chosen else None

    def fetch_listings(self) -> Iterator[RemoteListing]:
        """Every listing of the shop, page by page (100 a page), each once; a page
        that comes back holding an earlier page's items is asked for once more."""
        for listings, _last in self._listing_pages():
            yield from listings

    def _listing_pages(self) -> Iterator[tuple[list[RemoteListing], bool]]:
        """:meth:`fetch_listings` one request at a time: the listings each page
        asked brought, and whether it was the last."""
        where = self._ctx.where("fetch_listings")
        pages, contents = PageGuard(where), PageGuard(where, again=True)
        seen: set[int] = set()
        page, after_empty, again = 1, False, False
        while True:
            if not again:
                pages.visit(page)
            items = self._client.product_page(page, PRODUCT_PAGE_SIZE)
            log.info("listings.page_fetched", page=page, items=len(items), **where)
            again = False
            if not items:
                last = page == 1 or after_empty
                yield [], last
                if last:
                    return
                after_empty, page = True, page + 1
                continue
            after_empty = False
            again = contents.visit(tuple(item.basic.product_id for item in items))
            if again:
                yield [], False
                continue
            fresh = [item for item in items if item.basic.product_id not in seen]
            seen.update(item.basic.product_id for item in fresh)
            last = len(items) < PRODUCT_PAGE_SIZE
            yield [mapping.listing(item) for item in fresh], last
            if last:
                return
            page += 1

    def _scan(self, budget: int) -> list[RemoteListing] | int:
        """Every listing of the shop, when its pages take at most ``budget``
        requests; the page gives no total, so the walk stops at the budget and a
        scan is then taken to cost twice the pages read."""
        listings: list[RemoteListing] = []
        for asked, (page, last) in enumerate(self._listing_pages(), start=1):
            listings.extend(page)
            if not last and asked >= budget:
                return 2 * asked
        return listings

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        """Creates (binding listings that exist already), reactivations, content
        updates and deactivations; one result per change, in order."""
        results: list[ChangeResult | None] = [None] * len(changes)
        by_kind: dict[ChangeKind, list[int]] = defaultdict(list)
        for index, change in enumerate(changes):
            by_kind[change.kind].append(index)
        with bound_contextvars(operation="apply_listing_changes"):
            if by_kind[ChangeKind.CREATE]:
                self._create(changes, by_kind[ChangeKind.CREATE], results)
            # an inactive product is listed again before it is edited (PRD_USC_028)
            if by_kind[ChangeKind.REACTIVATE]:
                self._set_active(
                    changes, by_kind[ChangeKind.REACTIVATE], results, active=True
                )
            if by_kind[ChangeKind.UPDATE]:
                self._update(changes, by_kind[ChangeKind.UPDATE], results)
            if by_kind[ChangeKind.DEACTIVATE]:
                self._set_active(
                    changes, by_kind[ChangeKind.DEACTIVATE], results, active=False
                )
        return in_order(changes, results, self._ctx.where("apply_listing_changes"))

    # ---------------------------------------------------------------- create

    def _create(
        self,
        changes: Sequence[ListingChange],
        indices: list[int],
        results: list[ChangeResult | None],
    ) -> None:
        where = self._ctx.where("create_listings")
        rows: dict[int, CreateProduct] = {}
        leaders: dict[str, int] = {}
        followers: dict[int, int] = {}
        for index in indices:
            draft = changes[index].draft
            try:
                row = mapping.create_row(draft, self._settings)
            except mapping.DraftRefusedError as exc:
                results[index] = ChangeResult(
                    draft.sku, False, error=_refused(where, exc)
                )
                continue
            key = sku_key(row.sku)
            if key in leaders:  # the same SKU twice: one create, one outcome
                followers[index] = leaders[key]
                continue
            leaders[key], rows[index] = index, row
        self._bind_existing(changes, rows, results, where)
        outcomes = self._bulk(
            list(rows),
            self.limits.create_per_call,
            PRODUCT_CREATE,
            lambda chunk: self._create_call(chunk, rows, where),
            where,
        )
        for index, outcome in outcomes.items():
            results[index] = self._result(changes[index].draft.sku, outcome)
        created = sum(1 for outcome in outcomes.values() if outcome.ok)
        log.info(
            "listings.created", created=created, failed=len(outcomes) - created, **where
        )
        for index, leader in followers.items():
            shared = results[leader]
            if shared is not None:
                results[index] = replace(shared, sku=changes[index].draft.sku)
        self._index.record(
            [
                (changes[index].draft, result)
                for index in indices
                if (result := results[index]) is not None
            ],
            raw_status=str(min(mapping.LIVE_PRODUCT_STATUSES)),
        )

    def _bind_existing(
        self,
        changes: Sequence[ListingChange],
        rows: dict[int, CreateProduct],
        results: list[ChangeResult | None],
        where: Where,
    ) -> None:
        """Listings whose SKU exists already are bound, not created again; a row
        whose look-up failed is not created either (it fails alone)."""
        if not rows:
            return
        existing, unknown = self._index.look_up(
            _wanted([row.sku for row in rows.values()])
        )
        for index in list(rows):
            lookup_error = unknown.get(sku_key(rows[index].sku))
            if lookup_error is not None:  # unknown whether it exists: do not create
                del rows[index]
                results[index] = ChangeResult(
                    changes[index].draft.sku, False, error=lookup_error
                )
                continue
            found = existing.get(sku_key(rows[index].sku))
            if found is not None:
                del rows[index]
                results[index] = ChangeResult(
                    changes[index].draft.sku,
                    True,
                    external_id=found.external_id,
                    external_variant_id=found.external_variant_id,
                    bound=True,
                )
                log.info(
                    "listing.bound",
                    sku=found.sku,
                    external_id=found.external_id,
                    **where,
                )

    def _create_call(
        self, chunk: list[int], rows: dict[int, CreateProduct], where: Where
    ) -> dict[int, _Outcome]:
        answer = self._client.create_products([rows[i] for i in chunk])
        outcomes, unmatched = self._match_created(chunk, rows, answer, where)
        if unmatched:
            outcomes.update(self._resolve_by_lookup(unmatched, rows, where))
        return outcomes

    def _match_created(
        self,
        chunk: list[int],
        rows: dict[int, CreateProduct],
        answer: ProductRowsResult,
        where: Where,
    ) -> tuple[dict[int, _Outcome], list[int]]:
        failed: dict[str, list[FailedProductRow]] = defaultdict(list)
        nameless: list[FailedProductRow] = []
        for row in answer.failed_rows_data:
            if row.sku:
                failed[sku_key(row.sku)].append(row)
            else:
                nameless.append(row)
        named_ok = {sku_key(s.sku): s for s in answer.success_rows_data if s.sku}
        anonymous_ok = [s for s in answer.success_rows_data if not s.sku]
        outcomes: dict[int, _Outcome] = {}
        rest: list[int] = []
        for index in chunk:
            key = sku_key(rows[index].sku)
            if failed.get(key):
                outcomes[index] = self._failure(failed[key].pop(0).error, where)
            elif key in named_ok:
                outcomes[index] = _Outcome(True, str(named_ok[key].product_id))
            else:
                rest.append(index)
        for row in nameless:  # matched by name when the SKU was not echoed
            same = [i for i in rest if rows[i].name == row.product_name]
            if same:
                rest.remove(same[0])
                outcomes[same[0]] = self._failure(row.error, where)
        if len(rest) != len(anonymous_ok):
            return outcomes, rest
        for index, success in zip(rest, anonymous_ok, strict=True):
            outcomes[index] = _Outcome(True, str(success.product_id))
        return outcomes, []

    def _resolve_by_lookup(
        self, indices: list[int], rows: dict[int, CreateProduct], where: Where
    ) -> dict[int, _Outcome]:
        """Rows the create answer does not account for: look their SKUs up."""
        log.warning("listings.create_unmatched", rows=len(indices), **where)
        found, failed = self._look_up_each([rows[i].sku for i in indices])
        unknown = OutcomeUnknownError(
            "the create answer did not account for this row and the lookup "
            "failed; look the SKU up before creating it again",
            **where,
        )
        outcomes: dict[int, _Outcome] = {}
        for index in indices:
            if sku_key(rows[index].sku) in failed:
                outcomes[index] = _Outcome(False, error=unknown)
                continue
            listing = found.get(sku_key(rows[index].sku))
            outcomes[index] = (
                _Outcome(True, listing.external_id)
                if listing is not None
                else _Outcome(
                    False,
                    error=ContractError(
                        "the create answer did not account for this row and no "
                        "listing has its SKU",
                        **where,
                    ),
                )
            )
        return outcomes

    # ---------------------------------------------------------------- update

    def _update(
        self,
        changes: Sequence[ListingChange],
        indices: list[int],
        results: list[ChangeResult | None],
    ) -> None:
        where = self._ctx.where("update_listings")
        rows: dict[int, EditProduct] = {}
        for index in indices:
            change = changes[index]
            product_id = _product_id(change.external_id)
            if product_id is None:
                results[index] = _without_product_id(change, "an update", where)
                continue
            try:
                rows[index] = mapping.edit_row(change.draft, product_id, self._settings)
            except mapping.DraftRefusedError as exc:
                results[index] = ChangeResult(
                    change.draft.sku, False, error=_refused(where, exc)
                )
        outcomes = self._bulk(
            list(rows),
            EDIT_PER_CALL,
            PRODUCT_EDIT,
            lambda chunk: self._edit_call(chunk, rows, where),
            where,
        )
        for index, outcome in outcomes.items():
            results[index] = self._result(changes[index].draft.sku, outcome)
        updated = sum(1 for outcome in outcomes.values() if outcome.ok)
        log.info(
            "listings.updated", updated=updated, failed=len(outcomes) - updated, **where
        )

    def _edit_call(
        self, chunk: list[int], rows: dict[int, EditProduct], where: Where
    ) -> dict[int, _Outcome]:
        try:
            answer = self._client.edit_products([rows[i] for i in chunk])
        except RejectedError as exc:
            if exc.code != PRODUCT_NOT_ACTIVE or len(chunk) == 1:
                raise
            log.info("listings.edit_split", rows=len(chunk), code=exc.code, **where)
            outcomes: dict[int, _Outcome] = {}
            for index in chunk:  # find the inactive one(s): one row a call
                self._client.grant(PRODUCT_EDIT, 1)
                try:
                    outcomes.update(self._edit_call([index], rows, where))
                except AuthError:
                    raise
                except ConnectorError as error:
                    outcomes[index] = _Outcome(False, error=error)
            return outcomes
        return self._match_by_id(
            chunk,
            {i: rows[i].id for i in chunk},
            {i: rows[i].sku for i in chunk},
            answer,
            where,
        )

    def _match_by_id(
        self,
        chunk: list[int],
        ids: dict[int, int],
        skus: dict[int, str],
        answer: ProductRowsResult,
        where: Where,
    ) -> dict[int, _Outcome]:
        if not answer.success_rows_data and not answer.failed_rows_data:
            return {i: _Outcome(True, str(ids[i])) for i in chunk}
        by_id = {r.product_id: r for r in answer.failed_rows_data if r.product_id}
        by_sku = {
            sku_key(r.sku): r
            for r in answer.failed_rows_data
            if not r.product_id and r.sku
        }
        succeeded = {s.product_id for s in answer.success_rows_data}
        outcomes: dict[int, _Outcome] = {}
        for index in chunk:
            failed = by_id.get(ids[index]) or by_sku.get(sku_key(skus[index]))
            if failed is not None:
                outcomes[index] = self._failure(failed.error, where)
            elif ids[index] in succeeded:
                outcomes[index] = _Outcome(True, str(ids[index]))
            else:
                outcomes[index] = _Outcome(
                    False,
                    error=ContractError(
                        f"the answer does not mention product {ids[index]}", **where
                    ),
                )
        return outcomes

    # ---------------------------------------------------------------- deactivate

    def _set_active(
        self,
        changes: Sequence[ListingChange],
        indices: list[int],
        results: list[ChangeResult | None],
        *,
        active: bool,
    ) -> None:
        """Deactivate or reactivate products, ≤ 25 ids per call (§5.5)."""
        verb = "reactivat" if active else "deactivat"
        where = self._ctx.where(f"{verb}e_listings")
        ids: dict[int, int] = {}
        for index in indices:
            change = changes[index]
            product_id = _product_id(change.external_id)
            if product_id is None:
                results[index] = _without_product_id(change, f"{verb}ing", where)
            else:
                ids[index] = product_id
        outcomes = self._bulk(
            list(ids),
            INACTIVE_PER_CALL,
            PRODUCT_ACTIVE if active else PRODUCT_INACTIVE,
            lambda chunk: self._active_call(chunk, ids, where, active=active),
            where,
        )
        for index, outcome in outcomes.items():
            results[index] = self._result(changes[index].draft.sku, outcome)
        done = sum(1 for outcome in outcomes.values() if outcome.ok)
        log.info(
            f"listings.{verb}ed",
            **{f"{verb}ed": done},
            failed=len(outcomes) - done,
            **where,
        )

    def _active_call(
        self, chunk: list[int], ids: dict[int, int], where: Where, *, active: bool
    ) -> dict[int, _Outcome]:
        call = self._client.activate if active else self._client.deactivate
        answer: ActiveResult = call([ids[i] for i in chunk])
        failed = {r.product_id: r for r in answer.failed_rows_data}
        outcomes: dict[int, _Outcome] = {}
        for index in chunk:
            row = failed.get(ids[index])
            outcomes[index] = (
                _Outcome(True, str(ids[index]))
                if row is None
                else self._failure([row.message], where)
            )
        return outcomes

    # ================================================================ stock, prices

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        """Set stock by SKU, up to 100 rows a call (sized by the rate budget)."""
        where = self._ctx.where("push_stock")
        rows: dict[int, StockRow] = {}
        refused: dict[int, ChangeResult] = {}
        for index, update in enumerate(updates):
            try:
                rows[index] = mapping.stock_row(update.sku, update.quantity)
            except mapping.DraftRefusedError as exc:
                refused[index] = ChangeResult(
                    update.sku, False, error=_refused(where, exc)
                )
        with bound_contextvars(operation="push_stock"):
            return self._push(
                updates,
                {index: row.sku for index, row in rows.items()},
                refused,
                self.limits.stock_per_call,
                STOCK_UPDATE,
                lambda chunk: self._client.update_stock([rows[i] for i in chunk]),
                "stock.pushed",
                where,
            )

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ChangeResult]:
        """Set prices (whole rupiah, 100 to 100,000,000) by SKU, up to 100 rows a call;
        a price outside that range or not whole is refused before calling."""
        where = self._ctx.where("push_prices")
        rows: dict[int, PriceRow] = {}
        refused: dict[int, ChangeResult] = {}
        for index, update in enumerate(updates):
            try:
                rows[index] = mapping.price_row(update.sku, update.price)
            except mapping.DraftRefusedError as exc:
                refused[index] = ChangeResult(
                    update.sku, False, error=_refused(where, exc)
                )
        with bound_contextvars(operation="push_prices"):
            return self._push(
                updates,
                {index: row.sku for index, row in rows.items()},
                refused,
                self.limits.price_per_call,
                PRICE_UPDATE,
                lambda chunk: self._client.update_prices([rows[i] for i in chunk]),
                "prices.pushed",
                where,
            )

    def _push(
        self,
        updates: Sequence[StockUpdate] | Sequence[PriceUpdate],
        skus: dict[int, str],
        refused: dict[int, ChangeResult],
        per_call: int,
        endpoint: str,
        send: Callable[[list[int]], RowUpdateResult],
        event: str,
        where: Where,
    ) -> list[ChangeResult]:
        def call(chunk: list[int]) -> dict[int, _Outcome]:
            failed = send(chunk).failed_rows_data
            return self._match_updates(chunk, skus, updates, failed, where)

        outcomes = self._bulk(list(skus), per_call, endpoint, call, where)
        results: list[ChangeResult] = []
        for index in range(len(updates)):
            update = updates[index]
            outcome = outcomes.get(index)
            if outcome is None:
                results.append(refused[index])
                continue
            results.append(
                ChangeResult(
                    update.sku,
                    outcome.ok,
                    external_id=update.external_id,
                    external_variant_id=update.external_variant_id,
                    error=outcome.error,
                )
            )
        done = sum(1 for result in results if result.ok)
        log.info(event, updated=done, failed=len(results) - done, **where)
        return results

    def _match_updates(
        self,
        chunk: list[int],
        skus: dict[int, str],
        updates: Sequence[StockUpdate] | Sequence[PriceUpdate],
        failed_rows: list[FailedUpdateRow],
        where: Where,
    ) -> dict[int, _Outcome]:
        by_sku: dict[str, list[FailedUpdateRow]] = defaultdict(list)
        by_id: dict[int, list[FailedUpdateRow]] = defaultdict(list)
        for row in failed_rows:
            if row.sku:
                by_sku[sku_key(row.sku)].append(row)
            elif row.product_id:
                by_id[row.product_id].append(row)
        outcomes: dict[int, _Outcome] = {}
        for index in chunk:
            matches = by_sku.get(sku_key(skus[index])) or by_id.get(
                _product_id(updates[index].external_id) or -1
            )
            if matches:
                outcomes[index] = self._failure([matches.pop(0).message], where)
            else:
                outcomes[index] = _Outcome(True, updates[index].external_id)
        return outcomes

    # ================================================================ bulk engine

    def _bulk(
        self,
        order: list[int],
        per_call: int,
        endpoint: str,
        call: _Call,
        where: Where,
    ) -> dict[int, _Outcome]:
        """Send rows in calls of at most ``per_call``, each sized by the rate budget
        (one token a row); rows throttled with ``ERR_TOO_MANY_REQUEST`` go again
        once the budget allows. A whole call that fails (after the retries
        ``send`` makes) fails every row it carried; ``AuthError`` propagates."""
        outcomes: dict[int, _Outcome] = {}
        rounds: Counter[int] = Counter()
        pending = list(order)
        while pending:
            granted = self._client.grant(endpoint, min(per_call, len(pending)))
            chunk, pending = pending[:granted], pending[granted:]
            try:
                answered = call(chunk)
            except AuthError:
                raise
            except ConnectorError as exc:
                log.warning(
                    "batch.failed",
                    endpoint=endpoint,
                    rows=len(chunk),
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                outcomes.update({index: _Outcome(False, error=exc) for index in chunk})
                continue
            again: list[int] = []
            for index in chunk:
                outcome = answered.get(index) or _Outcome(
                    False, error=ContractError("no outcome for this row", **where)
                )
                if outcome.throttled and rounds[index] < THROTTLE_ROUNDS:
                    rounds[index] += 1
                    again.append(index)
                else:
                    outcomes[index] = outcome
            if again:
                log.info("rows.throttled", endpoint=endpoint, rows=len(again), **where)
                pending = again + pending
        return outcomes

    def _failure(self, messages: list[str], where: Where) -> _Outcome:
        error = row_error(messages, where)
        return _Outcome(False, error=error, throttled=is_throttled(messages))

    @staticmethod
    def _result(sku: Sku, outcome: _Outcome) -> ChangeResult:
        return ChangeResult(
            sku, outcome.ok, external_id=outcome.external_id, error=outcome.error
        )

    # ================================================================ orders

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        """Orders paid by the end of ``window``: those created from
        ``payment_lookback_hours`` before its start to its end (Tokopedia lists an
        order by its creation time, once it reached 220), in pieces shorter than
        3 days, every page of each (100 a page), each order once; a page that comes back
        holding an earlier page's orders is asked for once more."""
        where = self._ctx.where("fetch_orders")
        per_page = self.limits.order_page_size
        lookback = timedelta(hours=self._settings.payment_lookback_hours)
        reach = OrderWindow(window.since - lookback, window.until)
        seen: set[int] = set()
        for piece in reach.split(self.limits.order_window):
            from_date, to_date = mapping.order_list_bounds(piece.since, piece.until)
            pages, contents = PageGuard(where), PageGuard(where, again=True)
            page, after_empty, again = 1, False, False
            while True:
                if not again:
                    pages.visit(page)
                rows = self._client.order_page(from_date, to_date, page, per_page)
                log.info(
                    "orders.page_fetched",
                    page=page,
                    orders=len(rows),
                    from_date=from_date,
                    to_date=to_date,
                    **where,
                )
                again = False
                if not rows:
                    if page == 1 or after_empty:
                        break
                    after_empty, page = True, page + 1
                    continue
                after_empty = False
                again = contents.visit(tuple(row.order_id for row in rows))
                if again:
                    continue
                for row in rows:
                    if row.order_id in seen:
                        continue
                    seen.add(row.order_id)
                    if not mapping.is_known_status(row.order_status):
                        log.warning(
                            "orders.status_unmapped",
                            order_id=row.order_id,
                            status=row.order_status,
                            **where,
                        )
                    yield mapping.order_from_row(row, piece.since)
                if len(rows) < per_page:
                    break
                page += 1

    def fetch_order(self, external_id: str) -> RemoteOrder:
        """One order by Tokopedia's ``order_id``.

        Raises:
            RejectedError: not an order id, or no such order.
        """
        where = self._ctx.where("fetch_order")
        order_id = _product_id(external_id)
        if order_id is None:
            raise RejectedError(
                f"{external_id!r} is not a Tokopedia order id (digits expected)",
                fields={"order_id": "not numeric"},
                **where,
            )
        with bound_contextvars(operation="fetch_order"):
            detail = self._client.order(order_id)
        if not mapping.is_known_status(detail.order_status):
            log.warning(
                "orders.status_unmapped",
                order_id=detail.order_id,
                status=detail.order_status,
                **where,
            )
        return mapping.order_from_detail(detail, self._ctx.clock.now())

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        """Reject one order as the seller (``nack``, §6.4) with the matching
        ``reason_code`` (1 out of stock, 8 buyer request); Tokopedia then shows it
        cancelled (3 or 10).

        Raises:
            RejectedError: not an order id, no such order, or an order that can no
                longer be rejected (``ORD_USC_001``).
            OutcomeUnknownError: the answer was lost; read the order before trying
                again.
        """
        where = self._ctx.where("cancel_order")
        order_id = _product_id(external_id)
        if order_id is None:
            raise RejectedError(
                f"{external_id!r} is not a Tokopedia order id (digits expected)",
                fields={"order_id": "not numeric"},
                **where,
            )
        code, text = mapping.NACK_REASONS[reason]
        with bound_contextvars(operation="cancel_order"):
            try:
                self._client.reject_order(order_id, code, text)
            except RejectedError as exc:
                raise RejectedError(
                    f"Tokopedia refused to reject order {external_id}: {exc.reason}",
                    code=exc.code,
                    fields=exc.fields,
                    **where,
                ) from exc
        log.info("orders.cancel_requested", order=external_id, reason=reason, **where)

    def close(self) -> None:
        """Nothing to release: the HTTP client is injected and not ours."""


__all__ = ["TokopediaConnector"]


def _wanted(skus: Sequence[str]) -> dict[str, str]:
    """Each SKU key once (blank SKUs left out), with the first SKU given for it."""
    wanted: dict[str, str] = {}
    for sku in skus:
        if sku.strip():
            wanted.setdefault(sku_key(sku), sku)
    return wanted
