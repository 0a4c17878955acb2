"""The TikTok Shop connector (Partner API, ``202309`` paths): orchestration only.

The calls are in :mod:`connectors.tiktok_shop.client`, the vocabulary in
:mod:`connectors.tiktok_shop.mapping`, the error classes in
:mod:`connectors.tiktok_shop.errors`.

Credentials (the account's credential set): ``app_key`` and ``app_secret``. Options:
see :class:`~connectors.tiktok_shop.settings.TikTokShopSettings`. The account's
``shop_id`` is TikTok Shop's shop id; its ``shop_cipher`` is looked up from the
authorised shops (§2).

Assumptions beyond the page [INF]:

- One canonical SKU is one product with one SKU: a listing's ``external_id`` is the
  product id, its ``external_variant_id`` the SKU id. Creates go one product a call.
- ``find_listings`` searches one seller SKU a call (``seller_skus``), so that a SKU
  whose look-up fails fails alone; a marketplace SKU differing only in case is seen
  by ``fetch_listings``, not found here. Search is sent as ``POST`` but only reads:
  an unreadable answer is asked for again.
- Content updates use the partial edit (title, description, category, weight,
  images), leaving price and stock to their own endpoints.
- Stock and price updates go one product a call (its SKUs together, §5); a SKU
  listed in the answer's ``errors`` fails alone. An update without the SKU id looks
  the SKU up first.
- Orders are searched by update time (``update_time_ge`` / ``update_time_lt``),
  oldest first, 100 a page, following ``next_page_token``; search answers carry the
  lines, so no detail call is made. Windows are cut to 7 days [INF: the page names
  no longest window]. Each unit is a line item: units of one SKU are summed.
- Products are taken off sale and put back with ``…/products/deactivate`` and
  ``…/products/activate`` (``product_ids``, failures per product in
  ``data.errors``), the partner reference's calls; the page lists neither.
- The page documents no seller cancellation: no ``Capability.CANCEL_ORDERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import ClassVar

import structlog
from pydantic import BaseModel, ValidationError
from structlog.contextvars import bound_contextvars

from connectors._context import ConnectorContext, missing_credential
from connectors._lookup import look_up_each
from connectors._pagination import PageGuard
from connectors._results import in_order
from connectors.tiktok_shop import mapping
from connectors.tiktok_shop.client import APP_KEY, APP_SECRET, TikTokShopClient
from connectors.tiktok_shop.errors import item_error
from connectors.tiktok_shop.schemas import (
    CreateProductBody,
    InventoryUpdateBody,
    ItemErrors,
    OrderRecord,
    OrderSearchBody,
    PriceUpdateBody,
    SkuPrice,
    SkuStock,
)
from connectors.tiktok_shop.settings import TikTokShopSettings
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
    RejectedError,
    Where,
)

log = structlog.get_logger(__name__)

#: Product and order search page size (§5: 1-100).
PAGE_SIZE = 100
#: Ids a deactivation call takes [INF].
DEACTIVATE_PER_CALL = 20


def _refused(where: Where, error: mapping.DraftRefusedError) -> RejectedError:
    return RejectedError(
        f"refused before calling: {error}", fields={error.field: str(error)}, **where
    )


def _wanted(skus: Sequence[str]) -> dict[str, str]:
    """Each SKU key once (blank SKUs left out), with the first SKU given for it."""
    wanted: dict[str, str] = {}
    for sku in skus:
        if sku.strip():
            wanted.setdefault(sku_key(sku), sku)
    return wanted


class TikTokShopConnector:
    """One TikTok Shop shop (``account.shop_id``) through one partner app.

    Implements :class:`core.ports.MarketplaceConnector`; see the module docstring for
    the credentials, options and the assumptions made beyond tiktok-shop.md.
    """

    key: ClassVar[str] = "tiktok_shop"
    limits: ClassVar[BatchLimits] = BatchLimits(
        create_per_call=1,
        stock_per_call=1,  # one product's SKUs a call (§5)
        price_per_call=1,
        find_per_call=1,
        order_window=timedelta(days=7),
        order_page_size=PAGE_SIZE,
        order_details_per_call=50,  # §5
    )
    #: No ``CANCEL_ORDERS`` (the page documents no seller cancellation) and no
    #: ``FULFIL`` here (§5 names the ship call; the connector does not send it).
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.UPDATE_CONTENT,  # edit and partial edit (§5)
            Capability.UNLIST,  # deactivate and activate products [INF]
            Capability.ORDERS_BY_UPDATE_TIME,  # update_time_ge / _lt (§5)
            Capability.WEBHOOKS,  # type-1 order status changes (§8)
        }
    )
    Settings: ClassVar[type[BaseModel]] = TikTokShopSettings

    def __init__(self, context: ConnectorContext) -> None:
        """Validate ``context.options`` and the credential names.

        Raises:
            ConfigError: an option is wrong, the shop id is empty, or a credential
                is missing.
        """
        account = context.account
        try:
            self._settings = TikTokShopSettings.model_validate(dict(context.options))
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(map(str, e['loc'])) or '?'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(
                f"account {account.id!r}: tiktok_shop {problems}"
            ) from None
        if not account.shop_id.strip():
            raise ConfigError(
                f"account {account.id!r}: shop_id must be TikTok Shop's shop id"
            )
        for name in (APP_KEY, APP_SECRET):
            if name not in context.credentials:
                missing = missing_credential(account, name)
                raise ConfigError(
                    f"{missing} (TikTok Shop needs {APP_KEY!r} and {APP_SECRET!r})"
                )
        self._ctx = context
        self._client = TikTokShopClient(context, self._settings)

    # ================================================================ authorisation

    def authorization_url(self, redirect_uri: str, state: str) -> str | None:
        """The consent page for the app's ``service_id`` (``None`` when no service id
        is configured). TikTok Shop sends the seller back to the redirect URL the
        app registered, so ``redirect_uri`` must be that one."""
        del redirect_uri
        if not self._settings.service_id:
            return None
        request = self._ctx.http.build_request(
            "GET",
            self._settings.authorize_url,
            params={"service_id": self._settings.service_id, "state": state},
        )
        return str(request.url)

    def authorize(self, code: str, redirect_uri: str) -> None:
        """Exchange the approval ``code`` for tokens and store them (this also clears
        a re-authorisation mark).

        Raises:
            AuthError: the code was refused (used, expired), or the app's
                credentials were.
        """
        del redirect_uri
        tokens = self._client.exchange_code(code)
        with self._ctx.tokens.refreshing(self._ctx.account.id) as held:
            saved = held.save(tokens)
        log.info(
            "tokens.authorised", version=saved.version, **self._ctx.where("authorize")
        )

    def check(self) -> None:
        """The authorised shops: proves the token, the signature and that the shop is
        among them.

        Raises:
            AuthError: the account needs re-authorisation, or the app's credentials
                are wrong.
            TransientError: TikTok Shop could not be reached.
        """
        # the store is read afresh: the account may have been marked for
        # re-authorisation since (by a check, an officer or another process)
        self._client.keeper.forget()
        with bound_contextvars(operation="check"):
            shops = self._client.authorised_shops().shops
            if not any(shop.id == self._ctx.account.shop_id.strip() for shop in shops):
                reason = "the shop is not among the shops this authorisation covers"
                self._client.keeper.mark_unauthorised(reason)
                raise AuthError(reason, **self._ctx.where("check"))
            log.info("account.checked", **self._ctx.where("check"))

    def authorisation_expiry(self) -> None:
        """``None``: the page documents no end of a seller's authorisation (the
        refresh token's end is kept with the tokens)."""
        return None

    # ================================================================ listings

    def _find_key(self, key: str, given: str) -> RemoteListing | None:
        for form in dict.fromkeys((given.strip(), key)):
            page = self._client.search_products(
                PAGE_SIZE, seller_skus=[form], operation="find_listings"
            )
            for product in page.products:
                for listing in mapping.listings(product):
                    if sku_key(listing.sku) == key:
                        return listing
        return None

    def find_listings(self, skus: Sequence[str]) -> dict[str, RemoteListing]:
        """Listings by SKU key; SKUs not found are absent (one search per SKU)."""
        found: dict[str, RemoteListing] = {}
        with bound_contextvars(operation="find_listings"):
            for key, given in _wanted(skus).items():
                listing = self._find_key(key, given)
                if listing is not None:
                    found[key] = listing
        return found

    def fetch_listings(self) -> Iterator[RemoteListing]:
        """Every listing of the shop, page by page (100 products a page)."""
        where = self._ctx.where("fetch_listings")
        pages = PageGuard(where, again=True)  # a page sent again is asked once more
        seen: set[str] = set()  # a shifted page shows a product again
        token = ""
        while True:
            pages.visit(token)
            page = self._client.search_products(PAGE_SIZE, token)
            log.info("listings.page_fetched", items=len(page.products), **where)
            for product in page.products:
                if product.id in seen:
                    continue
                seen.add(product.id)
                yield from mapping.listings(product)
            if not page.next_page_token:
                return
            token = page.next_page_token

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        """Creates (binding listings that exist already), content updates and
        deactivations; one result per change, in order."""
        results: list[ChangeResult | None] = [None] * len(changes)
        with bound_contextvars(operation="apply_listing_changes"):
            creates = [i for i, c in enumerate(changes) if c.kind is ChangeKind.CREATE]
            if creates:
                self._create(changes, creates, results)
            reactivations = [
                i for i, c in enumerate(changes) if c.kind is ChangeKind.REACTIVATE
            ]
            if reactivations:  # on sale again before its content is edited
                self._set_active(changes, reactivations, results, active=True)
            for index, change in enumerate(changes):
                if change.kind is ChangeKind.UPDATE:
                    results[index] = self._update(change)
            deactivations = [
                i for i, c in enumerate(changes) if c.kind is ChangeKind.DEACTIVATE
            ]
            if deactivations:
                self._set_active(changes, deactivations, results, active=False)
        return in_order(changes, results, self._ctx.where("apply_listing_changes"))

    def _create(
        self,
        changes: Sequence[ListingChange],
        indices: list[int],
        results: list[ChangeResult | None],
    ) -> None:
        where = self._ctx.where("create_listings")
        bodies: dict[int, CreateProductBody] = {}
        for index in indices:
            draft = changes[index].draft
            try:
                bodies[index] = mapping.create_body(draft, self._settings)
            except mapping.DraftRefusedError as exc:
                results[index] = ChangeResult(
                    draft.sku, False, error=_refused(where, exc)
                )
        existing, unknown = look_up_each(
            _wanted([changes[i].draft.sku for i in bodies]), self._find_key, where
        )
        created: dict[str, ChangeResult] = {}
        for index in bodies:
            sku = changes[index].draft.sku
            key = sku_key(sku)
            if key in unknown:  # unknown whether it exists: do not create
                results[index] = ChangeResult(sku, False, error=unknown[key])
            elif key in existing:
                found = existing[key]
                results[index] = ChangeResult(
                    sku,
                    True,
                    external_id=found.external_id,
                    external_variant_id=found.external_variant_id,
                    bound=True,
                )
                log.info(
                    "listing.bound", sku=sku, external_id=found.external_id, **where
                )
            elif key in created:  # the same SKU twice: one create, one outcome
                results[index] = ChangeResult(
                    sku,
                    created[key].ok,
                    external_id=created[key].external_id,
                    external_variant_id=created[key].external_variant_id,
                    error=created[key].error,
                )
            else:
                results[index] = created[key] = self._create_one(sku, bodies[index])
        done = sum(1 for r in created.values() if r.ok)
        log.info("listings.created", created=done, failed=len(created) - done, **where)

    def _create_one(self, sku: Sku, body: CreateProductBody) -> ChangeResult:
        try:
            answer = self._client.create_product(body)
        except AuthError:
            raise
        except ConnectorError as exc:
            return ChangeResult(sku, False, error=exc)
        variant = next(
            (s.id for s in answer.skus if sku_key(s.seller_sku) == sku_key(sku)),
            answer.skus[0].id if answer.skus else None,
        )
        return ChangeResult(
            sku,
            True,
            external_id=answer.product_id,
            external_variant_id=variant,
        )

    def _update(self, change: ListingChange) -> ChangeResult:
        where = self._ctx.where("update_listings")
        sku = change.draft.sku
        if not change.external_id:
            return ChangeResult(
                sku,
                False,
                error=RejectedError(
                    "an update needs the listing's TikTok Shop product id",
                    fields={"external_id": "missing"},
                    **where,
                ),
            )
        try:
            body = mapping.edit_body(change.draft, self._settings)
        except mapping.DraftRefusedError as exc:
            return ChangeResult(sku, False, error=_refused(where, exc))
        try:
            self._client.edit_product(change.external_id, body)
        except AuthError:
            raise
        except ConnectorError as exc:
            return ChangeResult(sku, False, error=exc)
        log.info("listing.updated", sku=sku, external_id=change.external_id, **where)
        return ChangeResult(
            sku,
            True,
            external_id=change.external_id,
            external_variant_id=change.external_variant_id,
        )

    def _set_active(
        self,
        changes: Sequence[ListingChange],
        indices: list[int],
        results: list[ChangeResult | None],
        *,
        active: bool,
    ) -> None:
        """Take products off sale or put them back, ≤ 20 ids a call [INF]."""
        verb = "reactivat" if active else "deactivat"
        where = self._ctx.where(f"{verb}e_listings")
        with_ids = [i for i in indices if changes[i].external_id]
        for index in indices:
            if not changes[index].external_id:
                results[index] = ChangeResult(
                    changes[index].draft.sku,
                    False,
                    error=RejectedError(
                        f"{verb}ing needs the listing's TikTok Shop product id",
                        fields={"external_id": "missing"},
                        **where,
                    ),
                )
        for start in range(0, len(with_ids), DEACTIVATE_PER_CALL):
            chunk = with_ids[start : start + DEACTIVATE_PER_CALL]
            ids = [str(changes[i].external_id) for i in chunk]
            try:
                answer: ItemErrors = self._client.set_active(ids, active=active)
            except AuthError:
                raise
            except ConnectorError as exc:
                for index in chunk:
                    results[index] = ChangeResult(
                        changes[index].draft.sku, False, error=exc
                    )
                continue
            failed = {
                e.detail.product_id: e for e in answer.errors if e.detail is not None
            }
            for index in chunk:
                change = changes[index]
                error = failed.get(str(change.external_id))
                results[index] = ChangeResult(
                    change.draft.sku,
                    error is None,
                    external_id=change.external_id,
                    external_variant_id=change.external_variant_id,
                    error=None
                    if error is None
                    else item_error(error.code, error.message, where),
                )

    # ================================================================ stock, prices

    def _targets(
        self, updates: Sequence[StockUpdate] | Sequence[PriceUpdate], where: Where
    ) -> list[tuple[str, str] | ChangeResult]:
        """Each update's (product id, SKU id), looking up the SKUs sent without their
        SKU id; or the failed result of an update whose SKU cannot be found."""
        missing = [
            u.sku for u in updates if not (u.external_variant_id and u.external_id)
        ]
        found = self.find_listings(missing) if missing else {}
        targets: list[tuple[str, str] | ChangeResult] = []
        for update in updates:
            if update.external_variant_id and update.external_id:
                targets.append((update.external_id, update.external_variant_id))
                continue
            listing = found.get(sku_key(update.sku))
            if listing is None or not listing.external_variant_id:
                targets.append(
                    ChangeResult(
                        update.sku,
                        False,
                        external_id=update.external_id,
                        error=RejectedError(
                            f"no TikTok Shop SKU has seller SKU {update.sku!r}",
                            fields={"external_variant_id": "missing and not found"},
                            **where,
                        ),
                    )
                )
                continue
            targets.append((listing.external_id, listing.external_variant_id))
        return targets

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        """Set stock (0 to 99,999) by SKU, one product a call; a SKU refused in the
        answer's ``errors`` fails alone."""
        where = self._ctx.where("push_stock")
        warehouse = self._settings.warehouse_id
        results: list[ChangeResult] = []
        with bound_contextvars(operation="push_stock"):
            for update, target in zip(
                updates, self._targets(updates, where), strict=True
            ):
                if isinstance(target, ChangeResult):
                    results.append(target)
                    continue
                product_id, sku_id = target
                try:
                    entry = mapping.inventory(update.quantity, warehouse)
                except mapping.DraftRefusedError as exc:
                    results.append(
                        ChangeResult(update.sku, False, error=_refused(where, exc))
                    )
                    continue
                body = InventoryUpdateBody(
                    skus=[SkuStock(id=sku_id, inventory=[entry])]
                )
                results.append(
                    self._per_item(
                        update.sku,
                        product_id,
                        sku_id,
                        partial(self._client.update_inventory, product_id, body),
                        where,
                    )
                )
        done = sum(1 for r in results if r.ok)
        log.info("stock.pushed", updated=done, failed=len(results) - done, **where)
        return results

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ChangeResult]:
        """Set prices (whole rupiah, 100 to 100,000,000) by SKU, one product a call;
        a price outside that range is refused before calling."""
        where = self._ctx.where("push_prices")
        results: list[ChangeResult] = []
        with bound_contextvars(operation="push_prices"):
            for update, target in zip(
                updates, self._targets(updates, where), strict=True
            ):
                if isinstance(target, ChangeResult):
                    results.append(target)
                    continue
                product_id, sku_id = target
                try:
                    price = mapping.price_body(update.price)
                except mapping.DraftRefusedError as exc:
                    results.append(
                        ChangeResult(update.sku, False, error=_refused(where, exc))
                    )
                    continue
                body = PriceUpdateBody(skus=[SkuPrice(id=sku_id, price=price)])
                results.append(
                    self._per_item(
                        update.sku,
                        product_id,
                        sku_id,
                        partial(self._client.update_prices, product_id, body),
                        where,
                    )
                )
        done = sum(1 for r in results if r.ok)
        log.info("prices.pushed", updated=done, failed=len(results) - done, **where)
        return results

    def _per_item(
        self,
        sku: Sku,
        product_id: str,
        sku_id: str,
        call: Callable[[], ItemErrors],
        where: Where,
    ) -> ChangeResult:
        """One product's update: its SKU fails when the answer lists it."""
        try:
            answer = call()
        except AuthError:
            raise
        except ConnectorError as exc:
            return ChangeResult(
                sku,
                False,
                external_id=product_id,
                external_variant_id=sku_id,
                error=exc,
            )
        refused = next(
            (
                e
                for e in answer.errors
                if e.detail is None or e.detail.sku_id in ("", sku_id)
            ),
            None,
        )
        return ChangeResult(
            sku,
            refused is None,
            external_id=product_id,
            external_variant_id=sku_id,
            error=None
            if refused is None
            else item_error(refused.code, refused.message, where),
        )

    # ================================================================ orders

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        """Every order updated in ``window`` (``update_time_ge`` inclusive,
        ``update_time_lt`` exclusive, whole seconds widened outwards), in pieces of
        at most 7 days, every page of each."""
        where = self._ctx.where("fetch_orders")
        seen: set[str] = set()  # a shifted page shows an order again
        for piece in window.split(self.limits.order_window):
            since = int(piece.since.timestamp())
            until = int(piece.until.timestamp())
            if until < piece.until.timestamp():
                until += 1
            filters = OrderSearchBody(update_time_ge=since, update_time_lt=until)
            pages = PageGuard(where, again=True)  # a page sent again: asked once more
            token = ""
            while True:
                pages.visit(token)
                page = self._client.search_orders(PAGE_SIZE, token, filters)
                log.info("orders.page_fetched", orders=len(page.orders), **where)
                for record in page.orders:
                    if record.id in seen:
                        continue
                    seen.add(record.id)
                    yield self._order(record, where)
                if not page.next_page_token:
                    break
                token = page.next_page_token

    def _order(self, record: OrderRecord, where: Where) -> RemoteOrder:
        if not mapping.is_known_status(record.status):
            log.warning(
                "orders.status_unmapped",
                order_id=record.id,
                status=record.status,
                **where,
            )
        return mapping.order(record)

    def fetch_order(self, external_id: str) -> RemoteOrder:
        """One order by TikTok Shop's order id.

        Raises:
            RejectedError: no such order.
        """
        where = self._ctx.where("fetch_order")
        order_id = external_id.strip()
        with bound_contextvars(operation="fetch_order"):
            answer = self._client.orders([order_id]) if order_id else None
        found = [o for o in (answer.orders if answer else []) if o.id == order_id]
        if not found:
            raise RejectedError(
                f"no TikTok Shop order {external_id!r} in this shop",
                fields={"order_id": "not found"},
                **where,
            )
        return self._order(found[0], where)

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        """Refused: this connector documents no seller cancellation.

        Raises:
            RejectedError: always.
        """
        del reason
        raise RejectedError(
            f"cannot cancel order {external_id}: tiktok-shop.md documents no "
            "cancellation by the seller",
            **self._ctx.where("cancel_order"),
        )

    def close(self) -> None:
        """Nothing to release: the HTTP client is injected and not ours."""


__all__ = ["TikTokShopConnector"]
