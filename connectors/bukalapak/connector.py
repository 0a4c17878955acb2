"""The Bukalapak (API v4) connector: orchestration only — batching, paging, calling
:mod:`~connectors.bukalapak.mapping`. Endpoints live in
:mod:`~connectors.bukalapak.client`, error classes in
:mod:`~connectors.bukalapak.errors`.

It follows ``shared/marketplaces/bukalapak.md`` including its §9 table ("Where the
record is thin"). Assumptions beyond the page, each the cautious reading:

- Refresh requests also carry ``client_id``/``client_secret`` (RFC 6749 §6, confidential
  clients); the page lists only ``refresh_token`` for that grant.
- Stock pushes send ``{"stock": n}`` without the integrators' ``"state": "active"``,
  which would silently re-list a deactivated SKU; deactivation sends
  ``{"state": "inactive"}`` (states of page §9).
- A SKU's ``price``, ``stock`` and ``state`` are read from ``variants[]`` when present
  (page §4.1 lists only ids and names there); otherwise from
  ``GET /products/{id}/skus``.
- ``GET /stores/me/products?keywords=<sku>`` finds a product by its seller SKU; the
  page names the parameter but not what it matches. Hits are kept only when a SKU's
  ``sku_name`` has the same SKU key. The look-up before creates reads the store's
  pages without keywords instead when that takes fewer calls, by ``meta.total``
  (:class:`connectors._lookup.ShopIndex`).
- Transaction list rows are used as they are when they carry ``amount`` and ``items``;
  otherwise the detail (``GET /transactions/{id}``) is read. ``updated_at`` (or
  ``state_changed_at``) is read when present; page §5.2 lists neither.
- Offset pages may shift while rows arrive in any order: consecutive pages overlap by
  ``OVERLAP`` rows, rows are deduplicated by id, and a walk of more than one page whose
  total changed (or is not stated) re-reads from offset 0 until a page brings nothing
  new. Lists are not assumed to be sorted.
- The order window is one day although the page sets no maximum (§9): it bounds each
  offset walk and the rows that can shift in it.
- Product content updates are not sent: the page documents no v4 update call (§4.2,
  §9), so an UPDATE fails alone with ``RejectedError`` (code ``unsupported``).
- A 403 on the check's store read means the authorisation does not reach the store:
  the account is marked for re-authorisation.

``/transactions`` filters ``created_at`` only (§9), so the connector has no
``Capability.ORDERS_BY_UPDATE_TIME``: ``fetch_orders`` returns the orders *created* in
the window, and state changes of older orders are seen through
:meth:`BukalapakConnector.fetch_order`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import ClassVar, TypeVar

import structlog
from pydantic import BaseModel, ValidationError
from structlog.contextvars import bound_contextvars

from connectors._context import ConnectorContext
from connectors._lookup import ShopIndex, look_up_each
from connectors._pagination import PageGuard
from connectors.bukalapak import mapping
from connectors.bukalapak.client import PAGE_LIMIT, BukalapakClient
from connectors.bukalapak.schemas import (
    CreateProduct,
    ProductDto,
    SkuDto,
    TransactionDto,
    UpdateSku,
)
from connectors.bukalapak.settings import Settings
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
    RejectedError,
    Where,
)
from core.ports import TokenSet

log = structlog.get_logger(__name__)

#: Rows two consecutive offset pages share (page §7: rows shift while paging).
OVERLAP = 10

_Row = TypeVar("_Row")


class BukalapakConnector:
    """One Bukalapak store, through the API v4 seller endpoints (page §2 to §5).

    Built from a :class:`~connectors._context.ConnectorContext` whose ``options`` are
    validated by :class:`~connectors.bukalapak.settings.Settings` (category ids and
    image attachment ids, which the canonical catalogue does not carry, and the
    OAuth2 host). Credentials: ``client_id`` and ``client_secret`` of the OAuth2
    application. Tokens live in the context's token store; the seller authorises
    through :meth:`authorization_url` and :meth:`authorize`.

    Batches are one item per call everywhere (one SKU per stock or price call, one
    product per create, one SKU per lookup, one transaction per detail), paced by the
    account's rate budget (10 requests/s, page §9).
    """

    key: ClassVar[str] = "bukalapak"
    limits: ClassVar[BatchLimits] = BatchLimits(
        create_per_call=1,
        stock_per_call=1,
        price_per_call=1,
        find_per_call=1,
        order_window=timedelta(days=1),
        order_page_size=PAGE_LIMIT,
        order_details_per_call=1,
    )
    #: No ``UPDATE_CONTENT`` (no documented v4 product update, §4.2, §9), no
    #: ``ORDERS_BY_UPDATE_TIME`` (``/transactions`` filters ``created_at`` only), no
    #: ``CANCEL_ORDERS`` (§5.4 lists accept and ship only), no ``WEBHOOKS`` (§9).
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.UNLIST,  # SKU state active / inactive
            Capability.FULFIL,  # transaction status delivered (§5.4)
        }
    )
    Settings: ClassVar[type[BaseModel]] = Settings

    def __init__(self, context: ConnectorContext) -> None:
        self._ctx = context
        try:
            self._settings = Settings.model_validate(dict(context.options))
        except ValidationError as exc:
            first = exc.errors()[0]
            option = ".".join(str(part) for part in first["loc"]) or "options"
            raise ConfigError(
                f"marketplaces.bukalapak.options.{option}: {first['msg']}"
            ) from None
        self._client = BukalapakClient(context, self._settings, self._refresh)
        self._keeper = self._client.keeper
        #: Answers the look-ups before creates (a scan of the store when cheaper).
        self._index = ShopIndex(
            self._scan, self._find_key, context.clock, self._where("find_listings")
        )

    # ------------------------------------------------------------------ tokens

    def authorization_url(self, redirect_uri: str, state: str) -> str | None:
        """The seller's consent page (``/oauth/authorize``, scope
        ``public user store``)."""
        return self._client.authorization_url(redirect_uri, state)

    def authorize(self, code: str, redirect_uri: str) -> None:
        """Exchange the code at ``/oauth/token`` and store the new pair.

        Raises:
            AuthError: the code was refused (``invalid_grant``) or the app's
                credentials were (``invalid_client``).
        """
        where = self._ctx.where("authorize")
        answer = self._client.exchange_code(code, redirect_uri)
        with self._ctx.tokens.refreshing(self._ctx.account.id) as held:
            saved = held.save(
                mapping.token_set(answer, self._ctx.clock.now(), TokenSet())
            )
        self._keeper.forget()
        log.info("tokens.authorised", version=saved.version, **where)

    def _refresh(self, current: TokenSet) -> TokenSet:
        """The refresh grant, for the token keeper (which holds the store and saves
        the rotated pair before anything uses it). An ``AuthError`` here —
        ``invalid_grant`` included — makes the keeper mark the account as needing
        re-authorisation."""
        if current.refresh_token is None:
            raise AuthError(
                "no refresh token; authorise the shop again",
                **self._ctx.where("refresh_token"),
            )
        answer = self._client.refresh_grant(current.refresh_token.reveal())
        return mapping.token_set(answer, self._ctx.clock.now(), current)

    def check(self) -> None:
        """Read one row of the store's products with the account's token.

        Raises:
            AuthError: no usable authorisation, or it does not reach the store.
            TransientError: Bukalapak could not be reached.
        """
        # the store is read afresh: the account may have been marked for
        # re-authorisation since (by a check, an officer or another process)
        self._keeper.forget()
        where = self._ctx.where("check")
        with bound_contextvars(operation="check"):
            try:
                self._client.store_products(0, 1)
            except RejectedError as exc:
                if exc.code != "403":
                    raise
                reason = "the authorisation does not reach the store (HTTP 403)"
                self._keeper.mark_unauthorised(reason)
                raise AuthError(reason, **where) from None
        log.info("account.checked", **where)

    def authorisation_expiry(self) -> None:
        """``None``: Bukalapak documents no end of a seller's authorisation beyond
        its tokens, which are refreshed (and rotated) as they expire."""
        return None

    # ------------------------------------------------------------------ listings

    def find_listings(self, skus: Sequence[str]) -> dict[str, RemoteListing]:
        """Listings by seller SKU key: a keyword search per SKU (as written, then in
        its key form when that differs and the first found nothing), kept only where
        a SKU's ``sku_name`` has the same SKU key."""
        wanted = _wanted(skus)
        found: dict[str, RemoteListing] = {}
        with bound_contextvars(operation="find_listings"):
            for key, sku in wanted.items():
                hit = self._find_key(key, sku)
                if hit is not None:
                    found[key] = hit
        log.info(
            "listings.found",
            wanted=len(wanted),
            found=len(found),
            **self._where("find"),
        )
        return found

    def _find_key(self, key: str, sku: str) -> RemoteListing | None:
        # as written first; then in its key form, should the search care
        for keywords in dict.fromkeys((sku.strip(), key)):
            hit = self._find_one(keywords)
            if hit is not None:
                return hit
        return None

    def _look_up_each(
        self, skus: Sequence[str]
    ) -> tuple[dict[str, RemoteListing], dict[str, ConnectorError]]:
        """:meth:`find_listings`, one SKU at a time: the listings found, and the
        error of each SKU whose look-up failed (``AuthError`` is raised)."""
        return look_up_each(_wanted(skus), self._find_key, self._where("find_listings"))

    def _find_one(self, sku: str) -> RemoteListing | None:
        guard = PageGuard(self._where("find_listings"))
        offset = 0
        while True:
            guard.visit(offset)
            page = self._client.store_products(offset, PAGE_LIMIT, keywords=sku)
            for product in page.data:
                match = mapping.matching_sku(product.all_skus(), sku)
                if match is not None:
                    return self._listing(product, match)
            offset += len(page.data)
            if _last_page(page.data, page.meta.total, offset):
                return None

    def fetch_listings(self) -> Iterator[RemoteListing]:
        """Every SKU of every product of the store, across all offset pages."""
        count = 0
        pages = self._walk(
            lambda offset: self._product_page(offset),
            key=lambda product: str(product.id),
            operation="fetch_listings",
        )
        for product in pages:
            for listing in self._product_listings(product):
                count += 1
                yield listing
        log.info("listings.fetched", count=count, **self._where("fetch_listings"))

    def _product_listings(self, product: ProductDto) -> Iterator[RemoteListing]:
        """The listings of one product of a page (its SKUs read when the page's
        are incomplete)."""
        skus = product.all_skus()
        if not skus or not all(mapping.is_complete(s) for s in skus):
            skus = self._client.product_skus(str(product.id))
        for sku in skus:
            listing = mapping.listing(product, sku)
            if listing is not None:
                yield listing

    def _scan(self, budget: int) -> list[RemoteListing] | int:
        """Every listing of the store, when its pages take at most ``budget``
        requests (by the first page's ``meta.total``); else that many requests."""
        first = self._client.store_products(0, PAGE_LIMIT)
        total = first.meta.total
        if total is None and len(first.data) >= PAGE_LIMIT:
            return 2 * (budget + 1)  # size unknown: try again when twice as costly
        if total is None or total <= len(first.data) < PAGE_LIMIT:
            # the first page is the whole store
            return [
                x for product in first.data for x in self._product_listings(product)
            ]
        cost = -(-total // PAGE_LIMIT)
        if cost > budget:
            return cost
        return list(self.fetch_listings())

    def _product_page(self, offset: int) -> tuple[list[ProductDto], int | None]:
        page = self._client.store_products(offset, PAGE_LIMIT)
        return page.data, page.meta.total

    def _listing(self, product: ProductDto, sku: SkuDto) -> RemoteListing | None:
        if not mapping.is_complete(sku):
            fresh = mapping.matching_sku(
                self._client.product_skus(str(product.id)), sku.sku_name
            )
            if fresh is None:
                return None
            sku = fresh
        return mapping.listing(product, sku)

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        """Creates (after a look-up by SKU that binds existing listings — a scan of
        the store where cheaper; a SKU whose look-up fails is not created and fails
        alone), then deactivations and reactivations (the SKU's state); content
        updates are refused (no documented v4 update call, so the planner plans
        none)."""
        results: dict[int, ChangeResult] = {}
        with bound_contextvars(operation="apply_listing_changes"):
            creates = [
                (i, c) for i, c in enumerate(changes) if c.kind is ChangeKind.CREATE
            ]
            results.update(self._create(creates))
            for index, change in enumerate(changes):
                match change.kind:
                    case ChangeKind.CREATE:
                        continue
                    case ChangeKind.UPDATE:
                        results[index] = _failed(
                            change.draft.sku,
                            RejectedError(
                                "Bukalapak API v4 documents no product update; "
                                "content changes are not sent",
                                code="unsupported",
                                **self._where("update_product"),
                            ),
                            change.external_id,
                            change.external_variant_id,
                        )
                    case ChangeKind.DEACTIVATE:
                        results[index] = self._patch_one(
                            change.draft.sku,
                            change.external_id,
                            change.external_variant_id,
                            UpdateSku(state=mapping.INACTIVE),
                            ("listing.deactivated", "listing.deactivation_failed"),
                        )
                    case ChangeKind.REACTIVATE:
                        results[index] = self._patch_one(
                            change.draft.sku,
                            change.external_id,
                            change.external_variant_id,
                            UpdateSku(state=mapping.ACTIVE),
                            ("listing.reactivated", "listing.reactivation_failed"),
                        )
        return [results[index] for index in range(len(changes))]

    def _create(
        self, creates: Sequence[tuple[int, ListingChange]]
    ) -> dict[int, ChangeResult]:
        results: dict[int, ChangeResult] = {}
        where = self._where("create_product")
        planned: list[tuple[int, ListingChange, CreateProduct]] = []
        for index, change in creates:
            draft = change.draft
            plan = mapping.create_request(
                draft,
                self._settings.category_for(draft.category),
                self._settings.images_for(draft.image_urls),
            )
            if plan.request is None:
                results[index] = _failed(
                    draft.sku, RejectedError(plan.problem, code="invalid", **where)
                )
                log.warning(
                    "listing.refused", sku=draft.sku, reason=plan.problem, **where
                )
            else:
                planned.append((index, change, plan.request))
        if not planned:
            return results
        existing, unknown = self._index.look_up(
            _wanted([change.draft.sku for _, change, _ in planned])
        )
        for index, change, request in planned:
            key = sku_key(change.draft.sku)
            if key in unknown:  # creating blind could duplicate: not this one, now
                results[index] = _failed(change.draft.sku, unknown[key])
                continue
            bound = existing.get(key)
            if bound is not None:
                results[index] = ChangeResult(
                    change.draft.sku,
                    True,
                    bound.external_id,
                    bound.external_variant_id,
                    bound=True,
                )
                log.info(
                    "listing.bound",
                    sku=change.draft.sku,
                    product_id=bound.external_id,
                    **where,
                )
                continue
            results[index] = result = self._create_one(change, request)
            if result.ok and result.external_id:
                existing[key] = RemoteListing(
                    sku=change.draft.sku,
                    external_id=result.external_id,
                    name=request.name,
                    price=request.price,
                    stock=request.stock,
                    active=True,
                    raw_status=mapping.ACTIVE,
                    external_variant_id=result.external_variant_id,
                )
        self._index.record(
            [(change.draft, results[index]) for index, change, _ in planned],
            raw_status=mapping.ACTIVE,
        )
        return results

    def _create_one(
        self, change: ListingChange, request: CreateProduct
    ) -> ChangeResult:
        sku = change.draft.sku
        try:
            product = self._client.create_product(request)
        except AuthError:
            raise
        except ConnectorError as exc:
            log.warning(
                "listing.create_failed",
                sku=sku,
                error=type(exc).__name__,
                reason=exc.reason,
                **self._where("create_product"),
            )
            return _failed(sku, exc)
        skus = product.all_skus()
        match = mapping.matching_sku(skus, sku) or (skus[0] if len(skus) == 1 else None)
        variant = mapping.sku_id(match) if match is not None else None
        log.info(
            "listing.created",
            sku=sku,
            product_id=str(product.id),
            sku_id=variant,
            **self._where("create_product"),
        )
        return ChangeResult(sku, True, str(product.id), variant)

    # ------------------------------------------------------------------ stock, prices

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        """One ``PATCH …/skus/{sku_id}`` ``{"stock": n}`` per update (one SKU per
        call, page §4.1); failures stay with their item, ``AuthError`` is raised."""
        results = []
        with bound_contextvars(operation="push_stock"):
            for update in updates:
                problem = mapping.stock_problem(update.quantity)
                body = None if problem else UpdateSku(stock=int(update.quantity))
                results.append(
                    self._patch_checked(
                        update, problem, body, ("stock.pushed", "stock.rejected")
                    )
                )
        return results

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ChangeResult]:
        """One ``PATCH …/skus/{sku_id}`` ``{"price": n}`` per update, whole rupiah
        (fractions refused before calling); per-item results."""
        results = []
        with bound_contextvars(operation="push_prices"):
            for update in updates:
                problem = mapping.price_problem(update.price)
                body = None if problem else UpdateSku(price=int(update.price))
                results.append(
                    self._patch_checked(
                        update, problem, body, ("price.pushed", "price.rejected")
                    )
                )
        return results

    def _patch_checked(
        self,
        update: StockUpdate | PriceUpdate,
        problem: str | None,
        body: UpdateSku | None,
        events: tuple[str, str],
    ) -> ChangeResult:
        """Refuse an update ``problem`` names before calling; else patch its SKU."""
        if problem is not None or body is None:
            return _failed(
                update.sku,
                RejectedError(
                    problem or "nothing to update",
                    code="invalid",
                    **self._where("update_sku"),
                ),
                update.external_id,
                update.external_variant_id,
            )
        return self._patch_one(
            update.sku, update.external_id, update.external_variant_id, body, events
        )

    def _patch_one(
        self,
        sku: Sku,
        product_id: str | None,
        sku_id: str | None,
        body: UpdateSku,
        events: tuple[str, str],
    ) -> ChangeResult:
        """One SKU's PATCH; ``events`` are the log events of success and failure."""
        where = self._where("update_sku")
        try:
            if not product_id:
                raise RejectedError(
                    "no Bukalapak product id for this listing", code="invalid", **where
                )
            if not sku_id:
                sku_id = self._resolve_sku_id(product_id, sku)
            self._client.update_sku(product_id, sku_id, body)
        except AuthError:
            raise
        except ConnectorError as exc:
            log.warning(
                events[1],
                sku=sku,
                product_id=product_id,
                sku_id=sku_id,
                error=type(exc).__name__,
                reason=exc.reason,
                **where,
            )
            return _failed(sku, exc, product_id, sku_id)
        log.info(events[0], sku=sku, product_id=product_id, sku_id=sku_id, **where)
        return ChangeResult(sku, True, product_id, sku_id)

    def _resolve_sku_id(self, product_id: str, sku: str) -> str:
        match = mapping.matching_sku(self._client.product_skus(product_id), sku)
        if match is None:
            raise RejectedError(
                f"product {product_id} has no SKU {sku!r}",
                code="404",
                **self._where("list_skus"),
            )
        return mapping.sku_id(match)

    # ------------------------------------------------------------------ orders

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        """Orders *created* in ``window`` (the list filters ``created_at`` only, page
        §9), one-day pieces, every offset page, each order once."""
        seen: set[str] = set()
        for part in window.split(self.limits.order_window):
            count = 0
            rows = self._walk(
                partial(self._transaction_page, part),
                key=lambda txn: str(txn.id),
                operation="fetch_orders",
            )
            for row in rows:
                if str(row.id) in seen:
                    continue
                seen.add(str(row.id))
                detail = (
                    row
                    if mapping.is_complete_order(row)
                    else self._client.transaction(str(row.id))
                )
                count += 1
                yield self._order(detail, "fetch_orders")
            log.info(
                "orders.fetched",
                since=part.since.isoformat(),
                until=part.until.isoformat(),
                count=count,
                **self._where("fetch_orders"),
            )

    def _transaction_page(
        self, part: OrderWindow, offset: int
    ) -> tuple[list[TransactionDto], int | None]:
        page = self._client.transactions(part.since, part.until, offset, PAGE_LIMIT)
        log.debug(
            "orders.page_fetched",
            offset=offset,
            rows=len(page.data),
            total=page.meta.total,
            **self._where("fetch_orders"),
        )
        return page.data, page.meta.total

    def fetch_order(self, external_id: str) -> RemoteOrder:
        """One transaction by its numeric ``id``.

        Raises:
            RejectedError: no such transaction (or not a numeric id).
        """
        where = self._where("fetch_order")
        if not external_id.isdigit():
            raise RejectedError(
                f"no such transaction {external_id!r}: expected the numeric id",
                code="404",
                **where,
            )
        with bound_contextvars(operation="fetch_order"):
            return self._order(self._client.transaction(external_id), "fetch_order")

    def _order(self, txn: TransactionDto, operation: str) -> RemoteOrder:
        try:
            return mapping.order(txn)
        except mapping.MappingError as exc:
            raise ContractError(str(exc), **self._where(operation)) from None

    # ------------------------------------------------------------------ plumbing

    def _walk(
        self,
        fetch: Callable[[int], tuple[list[_Row], int | None]],
        *,
        key: Callable[[_Row], Hashable],
        operation: str,
    ) -> Iterator[_Row]:
        """Every row of an offset list, each once, while rows may shift: pages
        overlap by :data:`OVERLAP`; a page after the first that brings nothing new
        (an earlier page in its place) is asked for once more; a walk of several
        pages whose ``meta.total`` changed (or is absent) is topped up from offset
        0 until a page brings nothing new."""
        guard = PageGuard(self._where(operation))
        seen: set[Hashable] = set()
        step = PAGE_LIMIT - OVERLAP
        offset, pages, totals, again = 0, 0, set(), False
        while True:
            if not again:
                guard.visit(("walk", offset))
            rows, total = fetch(offset)
            pages += 1
            totals.add(total)
            if offset and rows and not again and all(key(r) in seen for r in rows):
                again = True  # an earlier page in place of this one: ask once more
                continue
            again = False
            for row in rows:
                if key(row) not in seen:
                    seen.add(key(row))
                    yield row
            if _last_page(rows, total, offset + len(rows)):
                break
            offset += step
        if pages == 1 or (len(totals) == 1 and None not in totals):
            return
        offset = 0
        while True:
            guard.visit(("top-up", offset))
            rows, _total = fetch(offset)
            fresh = [row for row in rows if key(row) not in seen]
            for row in fresh:
                seen.add(key(row))
                yield row
            if not fresh or len(rows) < PAGE_LIMIT:
                break
            offset += step

    def _where(self, operation: str) -> Where:
        return self._ctx.where(operation)

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        """Refused without a call: Bukalapak documents no way for a seller to cancel
        or reject a transaction (bukalapak.md §5.4).

        Raises:
            RejectedError: always.
        """
        raise RejectedError(
            f"Bukalapak documents no cancellation of a transaction by the seller; "
            f"transaction {external_id} was not cancelled ({reason.value})",
            code="not_supported",
            **self._ctx.where("cancel_order"),
        )

    def close(self) -> None:
        """Nothing to release: the HTTP client is injected and stays open."""


def _wanted(skus: Sequence[str]) -> dict[str, str]:
    """Each SKU key once, with the first SKU given for it."""
    wanted: dict[str, str] = {}
    for sku in skus:
        wanted.setdefault(sku_key(sku), sku)
    return wanted


def _last_page(rows: Sequence[object], total: int | None, reached: int) -> bool:
    return len(rows) < PAGE_LIMIT or (total is not None and reached >= total)


def _failed(
    sku: Sku,
    error: Exception,
    external_id: str | None = None,
    external_variant_id: str | None = None,
) -> ChangeResult:
    return ChangeResult(
        sku=sku,
        ok=False,
        external_id=external_id,
        external_variant_id=external_variant_id,
        error=error,
    )
