"""The Shopee connector: one shop on Shopee Open Platform v2 as a
:class:`~core.ports.MarketplaceConnector` (shopee.md).

Orchestration only: batching, paging and calls into :mod:`.mapping`; every Shopee call
is a method of :class:`~connectors.shopee.client.ShopeeClient`.

Credentials (the account's credential set): ``partner_key``, the app's key that signs
every call. Options (:class:`~connectors.shopee.settings.ShopeeSettings`):
``partner_id`` (required), and what ``add_item`` needs that the catalogue does not
carry — the category and attribute choices per canonical category, the logistics
channels, optionally brand, days to ship and the stock location.

Assumptions beyond the page:

* SKUs: ``search_item`` is asked for the SKU as given and for its SKU key (upper case,
  no white space); results are kept when their ``item_sku`` (or, for items with
  variants, ``model_sku``) has the wanted SKU key, preferring an active listing. A
  listing whose SKU differs in another way of writing it is not found. The look-up
  before creates reads the whole shop instead (``get_item_list`` and
  ``get_item_base_info``, :class:`connectors._lookup.ShopIndex`) when that takes
  fewer calls than one search per SKU; ``search_item`` takes one ``item_sku``.
* ``item_id_list`` of ``get_item_base_info`` is sent comma-joined, like
  ``order_sn_list`` (the page names the form only for the latter).
* Stock: ``seller_stock`` includes the units Shopee holds for open orders and
  promotions (``total_reserved_stock``). A listing's ``stock`` is what buyers can still
  order (seller stock over every location less the reserved units), and
  ``push_stock`` sets ``seller_stock`` to the wanted quantity plus the units reserved
  now, read with ``get_item_base_info`` (``get_model_list`` for items with variants)
  just before. A listing's ``price`` is the ``original_price`` (not a promotion
  price). Items with variants are read with ``get_model_list``: one listing per
  model, ``external_variant_id`` = ``model_id``; items without have none (model 0).
* ``fetch_listings`` lists the statuses NORMAL, UNLIST, BANNED and REVIEWING (deleted
  items are not listings). When a listing walk would pass the offset ceiling
  (``offset + page_size`` ≤ 10,000, shopee.md §11) it is split by
  ``update_time_from``/``update_time_to`` halves, oldest first, the last one open
  ended, and items are de-duplicated by id, so a shop of any size is listed; a single
  second holding more than 10,000 updates is a ContractError.
* A CREATE bound to an existing listing that is unlisted (``UNLIST``) lists it again
  (``unlist_item`` with ``unlist: false``): binding means the listing is live.
* UPDATE sends name, description, SKU, category and attributes (from the settings),
  weight, dimensions, condition and, when the draft has images, the re-uploaded
  images. DEACTIVATE is ``unlist_item`` with ``unlist: true`` and REACTIVATE the
  same with ``unlist: false`` (§4.10a: how a seller takes an item off sale and back,
  not ``update_item``), one item per call; the item's ``failure_list`` reason is its
  error.
* Order windows are cut in whole seconds (``time_from`` = floor of ``since``,
  ``time_to`` = ceiling of ``until``), consecutive pieces sharing their boundary
  second; orders are de-duplicated by ``order_sn`` within one fetch. A listed order
  whose detail does not come back is a ContractError (never silently dropped).
* Line prices are ``model_discounted_price`` (what the buyer paid), else
  ``model_original_price``; a fractional rupiah amount from Shopee is a
  ContractError.
* ``error_limit`` (daily quota) is retried only briefly inside ``send()`` (with no
  ``Retry-After``), then raised with ``retry_after`` = the wait until 00:00 UTC+8, and
  this connector refuses further calls until then without sending them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import ClassVar, TypeVar
from urllib.parse import urlencode

import structlog
from pydantic import BaseModel, ValidationError

from connectors._context import ConnectorContext
from connectors._lookup import ShopIndex
from connectors._pagination import PageGuard
from connectors.shopee import errors, mapping, schemas
from connectors.shopee.client import IMAGES_PER_UPLOAD, ShopeeClient
from connectors.shopee.settings import CategoryChoice, ShopeeSettings
from core.domain.ids import Sku, sku_key
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.remote import (
    BatchLimits,
    ChangeKind,
    ChangeResult,
    ListingChange,
    ListingDraft,
    OrderWindow,
    PriceUpdate,
    RemoteListing,
    RemoteOrder,
    Secret,
    StockUpdate,
)
from core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    ContractError,
    RejectedError,
)

log = structlog.get_logger(__name__)

#: ``get_item_list``: page size 1-100, ``offset + page_size`` ≤ 10,000 (§4.7, §11).
ITEM_PAGE = 100
ITEM_OFFSET_CEILING = 10_000
#: ``get_item_base_info`` takes up to 50 ids (§4.8); ``search_item`` pages of 100.
BASE_INFO_BATCH = 50
SEARCH_PAGE = 100
#: ``update_stock`` / ``update_price``: one item, up to 50 models (§4.5, §4.6).
MODELS_PER_CALL = 50

T = TypeVar("T")


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _settings(context: ConnectorContext) -> ShopeeSettings:
    try:
        return ShopeeSettings.model_validate(dict(context.options))
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "options"
        raise ConfigError(
            f"marketplaces.shopee.options.{where}: {first['msg']}"
        ) from exc


def _shop_id(context: ConnectorContext) -> int:
    raw = context.account.shop_id.strip()
    if not raw.isdigit():
        raise ConfigError(
            f"account {context.account.id!r}: shop_id {context.account.shop_id!r} "
            f"is not a Shopee shop id (digits expected)"
        )
    return int(raw)


def _calls(
    rows: list[tuple[int, int, int]], size: int
) -> list[tuple[int, list[tuple[int, int]]]]:
    """(index, item_id, model_id) rows → one call per item of at most ``size``
    distinct models, in order; a repeated model goes to a later call of its item."""
    calls: list[tuple[int, list[tuple[int, int]]]] = []
    open_calls: dict[int, int] = {}
    for index, item_id, model_id in rows:
        at = open_calls.get(item_id)
        if (
            at is None
            or len(calls[at][1]) >= size
            or any(model == model_id for _, model in calls[at][1])
        ):
            calls.append((item_id, []))
            at = open_calls[item_id] = len(calls) - 1
        calls[at][1].append((index, model_id))
    return calls


class ShopeeConnector:
    """One Shopee shop (Open Platform v2) in ikm-sync's vocabulary.

    Built from a :class:`~connectors._context.ConnectorContext`; needs the credential
    ``partner_key`` and the option ``partner_id`` (see the module docstring for the
    other options and the assumptions made beyond shopee.md).

    Raises:
        ConfigError: an option is invalid, ``partner_key`` is not configured or the
            account's shop id is not numeric.
    """

    key: ClassVar[str] = "shopee"
    limits: ClassVar[BatchLimits] = BatchLimits(
        create_per_call=1,  # add_item: one item
        stock_per_call=50,  # update_stock: one item, up to 50 models
        price_per_call=50,  # update_price: one item, up to 50 models
        find_per_call=1,  # search_item: one item_sku
        order_window=timedelta(days=15),
        order_page_size=100,
        order_details_per_call=50,
    )
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.UPDATE_CONTENT,  # product/update_item (§4.3)
            Capability.UNLIST,
            Capability.ORDERS_BY_UPDATE_TIME,  # get_order_list time_range_field
            Capability.CANCEL_ORDERS,  # order/cancel_order (§5.5)
            Capability.WEBHOOKS,  # push notifications (§6)
            Capability.FULFIL,  # logistics/ship_order (§5)
        }
    )
    Settings: ClassVar[type[BaseModel]] = ShopeeSettings

    def __init__(self, context: ConnectorContext) -> None:
        self._ctx = context
        self._settings = _settings(context)
        self._client = ShopeeClient(
            context,
            self._settings,
            Secret(context.secret("partner_key")),
            _shop_id(context),
        )
        #: Shopee image ids of image URLs already uploaded by this connector.
        self._image_ids: dict[str, str] = {}
        #: Answers the look-ups before creates (a scan of the shop when cheaper).
        self._index = ShopIndex(
            self._scan,
            self._find_key,
            context.clock,
            context.where("find_listings"),
        )

    # ------------------------------------------------------------------ auth

    def authorization_url(self, redirect_uri: str, state: str) -> str | None:
        """The signed ``shop/auth_partner`` link; Shopee has no ``state`` parameter,
        so ``state`` rides in the redirect URL's query."""
        joiner = "&" if "?" in redirect_uri else "?"
        return self._client.authorization_url(
            f"{redirect_uri}{joiner}{urlencode({'state': state})}"
        )

    def authorize(self, code: str, redirect_uri: str) -> None:
        """Exchange the redirect's ``code`` for tokens and store them under the
        token store's hold (this also clears a re-authorisation mark). Shopee's
        ``auth/token/get`` takes no redirect URI.

        Raises:
            AuthError: the code was refused (used, expired or for another shop).
        """
        del redirect_uri
        tokens = self._client.exchange_code(code)
        with self._ctx.tokens.refreshing(self._ctx.account.id) as held:
            saved = held.save(tokens)
        self._client.forget_tokens()
        log.info(
            "tokens.authorised", version=saved.version, **self._ctx.where("authorize")
        )

    def check(self) -> None:
        """``shop/get_shop_info`` with the shop's tokens.

        Raises:
            AuthError: the shop is not authorised or linked, or the app's credentials
                are refused.
            TransientError: Shopee could not be reached.
        """
        # the store is read afresh: the account may have been marked for
        # re-authorisation since (by a check, an officer or another process)
        self._client.forget_tokens()
        info = self._client.get_shop_info()
        log.info(
            "shop.checked",
            shop_id=self._client.shop_id,
            region=info.region,
            **self._ctx.where("check"),
        )

    def authorisation_expiry(self) -> datetime:
        """When the shop's authorisation of the app ends: ``expire_time`` of
        ``shop/get_shop_info`` (§2.3).

        Raises:
            AuthError: the shop is not authorised or linked.
            ContractError: the answer has no usable ``expire_time`` (missing, not an
                integer, or not after 1970); the message names the field.
            TransientError: Shopee could not be reached.
        """
        info = self._client.get_shop_info()
        if info.expire_time is None or info.expire_time <= 0:
            found = "missing" if info.expire_time is None else "not a time"
            raise ContractError(
                "shop.get_shop_info: expire_time is "
                f"{found}; expected the end of the shop's authorisation in Unix "
                "seconds",
                **self._ctx.where("shop.get_shop_info"),
            )
        return mapping.from_unix(info.expire_time)

    # ------------------------------------------------------------------ listings

    def _search(self, sku: str) -> Iterator[int]:
        guard = PageGuard(self._ctx.where("product.search_item"))
        offset = 0
        while True:
            guard.visit(offset)
            page = self._client.search_item(sku, offset, SEARCH_PAGE)
            yield from page.item_id_list
            following = page.next_offset.strip()
            # The reference's answer has no has_next_page: a further page is one
            # that total_count promises and next_offset points to.
            more = page.has_next_page or (
                bool(following) and offset + len(page.item_id_list) < page.total_count
            )
            if not more:
                return
            offset = (
                int(following)
                if following.isdigit() and int(following) > offset
                else offset + len(page.item_id_list)
            )

    def _listings(self, item_ids: Sequence[int]) -> Iterator[RemoteListing]:
        where = self._ctx.where("product.get_item_base_info")
        for chunk in _chunks(item_ids, BASE_INFO_BATCH):
            for item in self._client.get_item_base_info(chunk).item_list:
                if item.item_status in mapping.DELETED_STATUSES:
                    continue
                if item.has_model:
                    models = self._client.get_model_list(item.item_id).model
                    yield from mapping.model_listings(item, models, where)
                else:
                    yield mapping.item_listing(item, where)

    def find_listings(self, skus: Sequence[str]) -> dict[str, RemoteListing]:
        """Listings by seller SKU (``search_item``, then ``get_item_base_info``),
        keyed by SKU key; SKUs not found are absent."""
        return self._find(skus, None)

    def _find(
        self, skus: Sequence[str], failed: dict[str, ConnectorError] | None
    ) -> dict[str, RemoteListing]:
        """:meth:`find_listings`. With ``failed``, a call that fails (``AuthError``
        aside) is recorded there for the SKU keys it concerns — a search for its SKU,
        a ``get_item_base_info`` chunk for the SKUs whose search found its items —
        and the others go on; without it, the error is raised."""
        wanted: dict[str, str] = {}
        for sku in skus:
            wanted.setdefault(sku_key(sku), sku)
        searched: dict[int, set[str]] = {}  # item id -> the keys whose search found it
        for key, sku in wanted.items():
            forms = [text for text in dict.fromkeys((sku.strip(), key)) if text]
            ids = self._attempt(failed, [key], partial(self._search_all, forms))
            for item_id in ids or ():
                searched.setdefault(item_id, set()).add(key)
        found: dict[str, RemoteListing] = {}
        for chunk in _chunks(list(searched), BASE_INFO_BATCH):
            concerned = [key for item_id in chunk for key in searched[item_id]]
            listings = self._attempt(
                failed, concerned, partial(self._listing_list, chunk)
            )
            for listing in listings or ():
                key = sku_key(listing.sku)
                if key not in wanted or key in (failed or {}):
                    continue
                kept = found.get(key)
                if kept is None or (listing.active and not kept.active):
                    found[key] = listing
        for key in failed or {}:
            found.pop(key, None)
        log.info(
            "listings.found",
            asked=len(wanted),
            found=len(found),
            failed=len(failed or {}),
            **self._ctx.where("find_listings"),
        )
        return found

    def _find_key(self, key: str, sku: str) -> RemoteListing | None:
        """One SKU's listing (``search_item`` for the SKU as given and its key,
        then ``get_item_base_info``), the active one first; raises what fails."""
        forms = [text for text in dict.fromkeys((sku.strip(), key)) if text]
        ids = list(dict.fromkeys(self._search_all(forms)))
        kept: RemoteListing | None = None
        for listing in self._listing_list(ids):
            if sku_key(listing.sku) == key and (
                kept is None or (listing.active and not kept.active)
            ):
                kept = listing
        return kept

    def _scan(self, budget: int) -> list[RemoteListing] | int:
        """Every listing of the shop, when reading them takes at most ``budget``
        requests (``get_item_list`` pages and ``get_item_base_info`` chunks, by
        the first page's ``total_count``); else that many requests."""
        first = self._client.get_item_list(mapping.LISTED_STATUSES, 0, ITEM_PAGE)
        total = first.total_count
        cost = math.ceil(total / ITEM_PAGE) + math.ceil(total / BASE_INFO_BATCH)
        if cost > budget:
            return cost
        if not first.has_next_page:  # the first page is the whole shop
            ids = list(dict.fromkeys(row.item_id for row in first.item))
            return self._listing_list(ids)
        return list(self.fetch_listings())

    def _search_all(self, forms: Sequence[str]) -> list[int]:
        return [item_id for text in forms for item_id in self._search(text)]

    def _listing_list(self, item_ids: Sequence[int]) -> list[RemoteListing]:
        return list(self._listings(item_ids))

    def _attempt(
        self,
        failed: dict[str, ConnectorError] | None,
        keys: Sequence[str],
        call: Callable[[], T],
    ) -> T | None:
        """``call()``; when it fails (``AuthError`` aside) and ``failed`` collects
        failures, the error is kept there for ``keys`` and None returned."""
        if failed is None:
            return call()
        try:
            return call()
        except AuthError:
            raise
        except ConnectorError as exc:
            for key in keys:
                failed.setdefault(key, exc)
            log.warning(
                "listing.lookup_failed",
                skus=sorted(keys),
                error=type(exc).__name__,
                reason=exc.reason,
                **self._ctx.where("find_listings"),
            )
            return None

    def _item_pages(
        self, low: int | None, high: int | None, seen: set[int], horizon: int
    ) -> Iterator[list[int]]:
        """Item ids of one update-time range, page by page; a range holding more than
        the offset ceiling is walked as two halves instead."""
        where = self._ctx.where("product.get_item_list")
        guard = PageGuard(where)
        offset = 0
        while True:
            guard.visit(offset)
            size = min(ITEM_PAGE, ITEM_OFFSET_CEILING - offset)
            page = self._client.get_item_list(
                mapping.LISTED_STATUSES, offset, size, low, high
            )
            if offset == 0 and page.total_count > ITEM_OFFSET_CEILING:
                yield from self._halves(low, high, seen, horizon, page.total_count)
                return
            fresh = [row.item_id for row in page.item if row.item_id not in seen]
            seen.update(fresh)
            log.info(
                "listings.page_fetched",
                offset=offset,
                rows=len(page.item),
                total=page.total_count,
                **where,
            )
            if fresh:
                yield fresh
            if not page.has_next_page:
                return
            following = page.next_offset
            offset = following if following > offset else offset + len(page.item)
            if offset >= ITEM_OFFSET_CEILING:  # grew past the ceiling while paging
                yield from self._halves(low, high, seen, horizon, page.total_count)
                return

    def _halves(
        self,
        low: int | None,
        high: int | None,
        seen: set[int],
        horizon: int,
        total: int,
    ) -> Iterator[list[int]]:
        start = 0 if low is None else low
        end = horizon if high is None else high
        where = self._ctx.where("product.get_item_list")
        if end - start < 2:
            raise ContractError(
                f"{total} listings share one update second; Shopee's offset ceiling "
                f"({ITEM_OFFSET_CEILING}) cannot page through them",
                **where,
            )
        middle = (start + end) // 2
        log.info(
            "listings.range_split",
            update_time_from=start,
            update_time_to=end,
            total=total,
            **where,
        )
        yield from self._item_pages(start, middle, seen, horizon)
        yield from self._item_pages(middle, high, seen, horizon)

    def fetch_listings(self) -> Iterator[RemoteListing]:
        """Every listing of the shop (``get_item_list`` + ``get_item_base_info``)."""
        horizon = math.ceil(self._ctx.clock.now().timestamp()) + 1
        seen: set[int] = set()
        for item_ids in self._item_pages(None, None, seen, horizon):
            yield from self._listings(item_ids)

    # ------------------------------------------------------------------ changes

    def _category(self, draft: ListingDraft) -> CategoryChoice:
        choice = self._settings.category_for(draft.category)
        if choice is None:
            raise RejectedError(
                f"category {draft.category!r} has no Shopee category; add it to "
                f"options.categories or set options.default_category",
                code="category_unmapped",
                fields={"category": "no Shopee category configured"},
                **self._ctx.where("product.add_item"),
            )
        return choice

    def _upload(self, draft: ListingDraft) -> list[str]:
        """Shopee image ids for the draft's images, uploading those not yet known."""
        where = self._ctx.where("media_space.upload_image")
        urls = list(dict.fromkeys(draft.image_urls))
        if not urls:
            raise RejectedError(
                "Shopee needs at least one image and the draft has none",
                code="image_required",
                fields={"image": "at least one image"},
                **where,
            )
        missing = [
            (position, url)
            for position, url in enumerate(urls, start=1)
            if url not in self._image_ids
        ]
        for chunk in _chunks(missing, IMAGES_PER_UPLOAD):
            images = [
                self._client.fetch_image(url, position) for position, url in chunk
            ]
            results = self._client.upload_images(images)
            if len(results) != len(chunk):
                raise ContractError(
                    f"upload_image answered {len(results)} results for "
                    f"{len(chunk)} images",
                    **where,
                )
            for (position, url), result in zip(chunk, results, strict=True):
                if result.error or result.image_info is None:
                    reason = result.message or result.error or "refused"
                    raise RejectedError(
                        f"image {position} was refused: {reason}",
                        code=errors.error_name(result.error) or "image_refused",
                        fields={"image": reason},
                        **where,
                    )
                self._image_ids[url] = result.image_info.image_id
            log.info("images.uploaded", sku=draft.sku, count=len(chunk), **where)
        return [self._image_ids[url] for url in urls]

    def _sends_images(
        self,
        change: ListingChange,
        existing: Collection[str],
        unknown: Collection[str],
    ) -> bool:
        """Whether applying ``change`` uploads its images: an update of a known
        item, or a create neither bound nor in doubt that Shopee can take."""
        if self._settings.category_for(change.draft.category) is None:
            return False
        match change.kind:
            case ChangeKind.UPDATE:
                return (change.external_id or "").strip().isdigit()
            case ChangeKind.CREATE:
                key = sku_key(change.draft.sku)
                return (
                    bool(self._settings.logistics)
                    and key not in existing
                    and key not in unknown
                )
            case ChangeKind.DEACTIVATE | ChangeKind.REACTIVATE:
                return False

    def _upload_ahead(self, drafts: Sequence[ListingDraft]) -> None:
        """Upload the images of a batch's drafts together, up to
        ``IMAGES_PER_UPLOAD`` a call across drafts, each URL once. Best effort: an
        image that cannot be fetched or is refused, or a call that fails, is left
        for :meth:`_upload` to try again for its draft and report there."""
        where = self._ctx.where("media_space.upload_image")
        urls = [
            url
            for url in dict.fromkeys(u for d in drafts for u in d.image_urls)
            if url not in self._image_ids
        ]
        for chunk in _chunks(urls, IMAGES_PER_UPLOAD):
            fetched: list[tuple[str, tuple[bytes, str]]] = []
            for url in chunk:
                try:
                    fetched.append((url, self._client.fetch_image(url, 1)))
                except RejectedError:
                    continue  # reported for its draft by _upload
            if not fetched:
                continue
            try:
                results = self._client.upload_images([image for _, image in fetched])
            except AuthError:
                raise
            except ConnectorError as exc:
                log.warning(
                    "images.upload_failed",
                    count=len(fetched),
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                return
            if len(results) != len(fetched):
                return  # _upload reports the contract error per draft
            for (url, _), result in zip(fetched, results, strict=True):
                if not result.error and result.image_info is not None:
                    self._image_ids[url] = result.image_info.image_id
            log.info("images.uploaded", count=len(fetched), **where)

    def _create(
        self, draft: ListingDraft, existing: dict[str, RemoteListing]
    ) -> ChangeResult:
        where = self._ctx.where("product.add_item")
        key = sku_key(draft.sku)
        found = existing.get(key)
        if found is not None:
            if found.raw_status == "UNLIST":
                item_id = mapping.item_id_of(found.external_id, where)
                self._set_listed(item_id, True)
                # A repeat in this batch binds to the listing as it now stands.
                existing[key] = replace(found, active=True, raw_status="NORMAL")
                log.info("listing.relisted", sku=draft.sku, item_id=item_id, **where)
            log.info("listing.bound", sku=draft.sku, item_id=found.external_id, **where)
            return ChangeResult(
                draft.sku,
                True,
                found.external_id,
                found.external_variant_id,
                bound=True,
            )
        category = self._category(draft)
        if not self._settings.logistics:
            raise RejectedError(
                "no logistics channel is configured (options.logistics)",
                code="logistics_unconfigured",
                fields={"logistic_info": "no channel configured"},
                **where,
            )
        mapping.whole_rupiah(draft.price, "original_price", where)
        image_ids = self._upload(draft)
        body = mapping.to_add_item(draft, category, self._settings, image_ids, where)
        added = self._client.add_item(body)
        external_id = str(added.item_id)
        existing[key] = RemoteListing(  # a repeat in this batch binds to it
            sku=draft.sku,
            external_id=external_id,
            name=draft.name,
            price=draft.price,
            stock=draft.stock,
            active=True,
            raw_status="NORMAL",
        )
        log.info("listing.created", sku=draft.sku, item_id=external_id, **where)
        return ChangeResult(draft.sku, True, external_id)

    def _update(self, change: ListingChange) -> ChangeResult:
        where = self._ctx.where("product.update_item")
        item_id = mapping.item_id_of(change.external_id, where)
        category = self._category(change.draft)
        images = self._upload(change.draft) if change.draft.image_urls else []
        self._client.update_item(
            mapping.to_update_item(item_id, change.draft, category, images)
        )
        log.info("listing.updated", sku=change.draft.sku, item_id=item_id, **where)
        return ChangeResult(
            change.draft.sku, True, str(item_id), change.external_variant_id
        )

    def _set_listed(self, item_id: int, listed: bool) -> None:
        """Put one item on sale or take it off sale with ``unlist_item`` (§4.10a).

        Raises:
            ConnectorError: the item's ``failure_list`` reason (RejectedError for a
                plain reason), the call's error, or ContractError when Shopee
                reported no outcome for the item.
        """
        where = self._ctx.where("product.unlist_item")
        answer = self._client.unlist_item(mapping.to_listing_status(item_id, listed))
        failure = next(
            (row for row in answer.result.failure_list if row.item_id == item_id),
            None,
        )
        now = self._ctx.clock.now()
        if failure is not None:
            raise errors.row_error(failure.failed_reason, where, now=now)
        if any(row.item_id == item_id for row in answer.result.success_list):
            return
        if answer.error:
            raise errors.error_for(answer.error, answer.message, where, now=now)
        raise ContractError(f"Shopee reported no outcome for item {item_id}", **where)

    def _reactivate(self, change: ListingChange) -> ChangeResult:
        where = self._ctx.where("product.unlist_item")
        item_id = mapping.item_id_of(change.external_id, where)
        self._set_listed(item_id, True)
        log.info("listing.relisted", sku=change.draft.sku, item_id=item_id, **where)
        return ChangeResult(
            change.draft.sku, True, str(item_id), change.external_variant_id
        )

    def _deactivate(self, change: ListingChange) -> ChangeResult:
        where = self._ctx.where("product.unlist_item")
        item_id = mapping.item_id_of(change.external_id, where)
        self._set_listed(item_id, False)
        log.info("listing.unlisted", sku=change.draft.sku, item_id=item_id, **where)
        return ChangeResult(
            change.draft.sku, True, str(item_id), change.external_variant_id
        )

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        """Create (after a look-up by SKU that binds existing listings — a scan of
        the shop where cheaper, see :class:`connectors._lookup.ShopIndex`; a SKU
        whose look-up fails is not created and fails alone), update content, or
        unlist; one
        result per change, in order. A create whose answer was lost carries
        ``OutcomeUnknownError`` and is never retried here.

        Raises:
            AuthError: the shop's authorisation is refused (no result is partial).
        """
        where = self._ctx.where("apply_listing_changes")
        wanted: dict[str, str] = {}
        for change in changes:
            if change.kind is ChangeKind.CREATE:
                wanted.setdefault(sku_key(change.draft.sku), change.draft.sku)
        # unknown: the look-up failed, so creating could duplicate
        existing, unknown = self._index.look_up(wanted)
        self._upload_ahead(
            [c.draft for c in changes if self._sends_images(c, existing, unknown)]
        )
        results: list[ChangeResult] = []
        for change in changes:
            try:
                match change.kind:
                    case ChangeKind.CREATE:
                        lookup_error = unknown.get(sku_key(change.draft.sku))
                        if lookup_error is not None:
                            results.append(
                                ChangeResult(
                                    change.draft.sku, False, error=lookup_error
                                )
                            )
                            continue
                        result = self._create(change.draft, existing)
                    case ChangeKind.UPDATE:
                        result = self._update(change)
                    case ChangeKind.REACTIVATE:
                        result = self._reactivate(change)
                    case ChangeKind.DEACTIVATE:
                        result = self._deactivate(change)
            except AuthError:
                raise
            except ConnectorError as exc:
                log.warning(
                    "listing.failed",
                    sku=change.draft.sku,
                    kind=change.kind.value,
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                result = ChangeResult(
                    change.draft.sku,
                    False,
                    change.external_id,
                    change.external_variant_id,
                    error=exc,
                )
            results.append(result)
        self._index.record(
            [
                (change.draft, result)
                for change, result in zip(changes, results, strict=True)
                if change.kind is ChangeKind.CREATE
            ],
            raw_status="NORMAL",
        )
        return results

    # ------------------------------------------------------------------ stock, prices

    def _row_result(
        self,
        sku: Sku,
        external_id: str,
        external_variant_id: str | None,
        model_id: int,
        answer: schemas.BatchAnswer,
        op: str,
    ) -> ChangeResult:
        where = self._ctx.where(op)
        now = self._ctx.clock.now()
        failure = next(
            (row for row in answer.result.failure_list if row.model_id == model_id),
            None,
        )
        error: ConnectorError | None
        if failure is not None:
            error = errors.row_error(failure.failed_reason, where, now=now)
        elif any(row.model_id == model_id for row in answer.result.success_list):
            return ChangeResult(sku, True, external_id, external_variant_id)
        elif answer.error:
            error = errors.error_for(answer.error, answer.message, where, now=now)
        else:
            error = ContractError(
                f"Shopee reported no outcome for model {model_id}", **where
            )
        return ChangeResult(sku, False, external_id, external_variant_id, error=error)

    def _push(
        self,
        op: str,
        noun: str,
        updates: Sequence[StockUpdate | PriceUpdate],
        values: list[int | ConnectorError],
        call: Callable[[int, list[tuple[int, int]]], schemas.BatchAnswer],
    ) -> list[ChangeResult]:
        """Rows grouped into one call per item (``call(item_id, [(model_id,
        value)])``), per-model results in the order given."""
        where = self._ctx.where(op)
        results: list[ChangeResult | None] = [None] * len(updates)
        rows: list[tuple[int, int, int]] = []
        valid: dict[int, int] = {}
        for index, update in enumerate(updates):
            try:
                value = values[index]
                if isinstance(value, ConnectorError):
                    raise value
                item_id = mapping.item_id_of(update.external_id, where)
                model_id = mapping.model_id_of(update.external_variant_id, where)
            except ConnectorError as exc:
                results[index] = ChangeResult(
                    update.sku,
                    False,
                    update.external_id,
                    update.external_variant_id,
                    error=exc,
                )
                continue
            valid[index] = value
            rows.append((index, item_id, model_id))
        for item_id, members in _calls(rows, MODELS_PER_CALL):
            try:
                answer = call(
                    item_id, [(model_id, valid[index]) for index, model_id in members]
                )
            except AuthError:
                raise
            except ConnectorError as exc:
                log.warning(
                    f"{noun}.call_failed",
                    item_id=item_id,
                    rows=len(members),
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                for index, _ in members:
                    update = updates[index]
                    results[index] = ChangeResult(
                        update.sku,
                        False,
                        update.external_id,
                        update.external_variant_id,
                        error=exc,
                    )
                continue
            for index, model_id in members:
                update = updates[index]
                results[index] = self._row_result(
                    update.sku,
                    update.external_id,
                    update.external_variant_id,
                    model_id,
                    answer,
                    op,
                )
        done = [result for result in results if result is not None]
        log.info(
            f"{noun}.pushed",
            items=len(done),
            ok=sum(result.ok for result in done),
            failed=sum(not result.ok for result in done),
            **where,
        )
        return done

    def _stock_call(
        self, item_id: int, rows: list[tuple[int, int]]
    ) -> schemas.BatchAnswer:
        return self._client.update_stock(
            schemas.UpdateStockRequest(
                item_id=item_id,
                stock_list=[
                    schemas.StockRow(
                        model_id=model_id,
                        seller_stock=mapping.seller_stock(quantity, self._settings),
                    )
                    for model_id, quantity in rows
                ],
            )
        )

    def _price_call(
        self, item_id: int, rows: list[tuple[int, int]]
    ) -> schemas.BatchAnswer:
        return self._client.update_price(
            schemas.UpdatePriceRequest(
                item_id=item_id,
                price_list=[
                    schemas.PriceRow(model_id=model_id, original_price=price)
                    for model_id, price in rows
                ],
            )
        )

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        """Set seller stock with ``update_stock``: one call per item, up to 50
        models each, per-model results. A whole-call failure that survived the
        retries is every row's error; AuthError is raised."""
        where = self._ctx.where("product.update_stock")
        values: list[int | ConnectorError] = [
            update.quantity
            if type(update.quantity) is int and update.quantity >= 0
            else RejectedError(
                f"stock must be a whole number of 0 or more, got {update.quantity!r}",
                code="stock_invalid",
                fields={"stock": "0 or more"},
                **where,
            )
            for update in updates
        ]
        keys: dict[int, tuple[int, int]] = {}
        for index, update in enumerate(updates):
            if not isinstance(values[index], int):
                continue
            try:
                keys[index] = (
                    mapping.item_id_of(update.external_id, where),
                    mapping.model_id_of(update.external_variant_id, where),
                )
            except RejectedError:
                continue  # refused with its reason by _push
        reserved, unread = (
            self._reserved({key[0] for key in keys.values()}) if keys else ({}, {})
        )
        for index, (item_id, model_id) in keys.items():
            value = values[index]
            if isinstance(value, int):
                problem = unread.get(item_id)
                values[index] = (
                    problem
                    if problem is not None
                    else value + reserved.get((item_id, model_id), 0)
                )
        return self._push(
            "product.update_stock", "stock", updates, values, self._stock_call
        )

    def _reserved(
        self, item_ids: Collection[int]
    ) -> tuple[dict[tuple[int, int], int], dict[int, ConnectorError]]:
        """Units reserved now per (item id, model id), and the error of items whose
        figures could not be read (their stock is not pushed blind)."""
        where = self._ctx.where("product.get_item_base_info")
        reserved: dict[tuple[int, int], int] = {}
        unread: dict[int, ConnectorError] = {}
        for chunk in _chunks(sorted(item_ids), BASE_INFO_BATCH):
            try:
                items = self._client.get_item_base_info(chunk).item_list
                for item in items:
                    if not item.has_model:
                        reserved[item.item_id, 0] = mapping.reserved_stock(
                            item.stock_info_v2
                        )
                        continue
                    for model in self._client.get_model_list(item.item_id).model:
                        reserved[item.item_id, model.model_id] = mapping.reserved_stock(
                            model.stock_info_v2
                        )
            except AuthError:
                raise
            except ConnectorError as exc:
                log.warning(
                    "stock.reserved_unread",
                    items=len(chunk),
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                unread.update(dict.fromkeys(chunk, exc))
        return reserved, unread

    def push_prices(self, updates: Sequence[PriceUpdate]) -> list[ChangeResult]:
        """Set prices (whole rupiah, refused before calling otherwise) with
        ``update_price``: one call per item, up to 50 models each, per-model
        results; AuthError is raised."""
        where = self._ctx.where("product.update_price")
        values: list[int | ConnectorError] = []
        for update in updates:
            try:
                values.append(
                    mapping.whole_rupiah(update.price, "original_price", where)
                )
            except RejectedError as exc:
                values.append(exc)
        return self._push(
            "product.update_price", "prices", updates, values, self._price_call
        )

    # ------------------------------------------------------------------ orders

    def _details(self, order_sns: Sequence[str]) -> Iterator[RemoteOrder]:
        where = self._ctx.where("order.get_order_detail")
        answer = self._client.get_order_detail(order_sns)
        by_sn = {detail.order_sn: detail for detail in answer.order_list}
        missing = [sn for sn in order_sns if sn not in by_sn]
        if missing:
            raise ContractError(
                f"get_order_detail left out {len(missing)} listed order(s), e.g. "
                f"{missing[0]}",
                **where,
            )
        for sn in order_sns:
            yield mapping.to_remote_order(by_sn[sn], where)

    def fetch_orders(self, window: OrderWindow) -> Iterator[RemoteOrder]:
        """Every order updated in ``window`` (``get_order_list`` by
        ``update_time`` in pieces of at most 15 days, cursor paging, then details
        in batches of 50), each order once per call; a cursor sent back as the next
        one is followed once more (a second time in a row is a loop)."""
        where = self._ctx.where("order.get_order_list")
        span = int(self.limits.order_window.total_seconds())
        start = math.floor(window.since.timestamp())
        end = math.ceil(window.until.timestamp())
        seen: set[str] = set()
        while start < end:
            stop = min(start + span, end)
            guard = PageGuard(where, again=True)
            cursor = ""
            while True:
                guard.visit(cursor)
                page = self._client.get_order_list(
                    start, stop, cursor, self.limits.order_page_size
                )
                fresh = [
                    row.order_sn for row in page.order_list if row.order_sn not in seen
                ]
                seen.update(fresh)
                log.info(
                    "orders.page_fetched",
                    time_from=start,
                    time_to=stop,
                    rows=len(page.order_list),
                    new=len(fresh),
                    more=page.more,
                    **where,
                )
                for chunk in _chunks(fresh, self.limits.order_details_per_call):
                    yield from self._details(chunk)
                if not page.more:
                    break
                cursor = page.next_cursor
            start = stop

    def fetch_order(self, external_id: str) -> RemoteOrder:
        """One order by ``order_sn``.

        Raises:
            RejectedError: the shop has no such order.
        """
        where = self._ctx.where("order.get_order_detail")
        for detail in self._client.get_order_detail([external_id]).order_list:
            if detail.order_sn == external_id:
                return mapping.to_remote_order(detail, where)
        raise RejectedError(
            f"the shop has no order {external_id!r}",
            code="order_not_found",
            fields={"order_sn": "not found"},
            **where,
        )

    def cancel_order(self, external_id: str, reason: CancelReason) -> None:
        """Cancel one order as the seller (``order/cancel_order``, allowed only before
        shipping). ``OUT_OF_STOCK`` names every line of the order in ``item_list``,
        read with ``get_order_detail`` just before.

        Raises:
            RejectedError: the shop has no such order, or Shopee refused the
                cancellation (it answers ``error_param`` for an order that can no
                longer be cancelled).
            OutcomeUnknownError: the answer was lost; read the order before trying
                again.
        """
        where = self._ctx.where("order.cancel_order")
        details = self._client.get_order_detail([external_id]).order_list
        detail = next((d for d in details if d.order_sn == external_id), None)
        if detail is None:
            raise RejectedError(
                f"the shop has no order {external_id!r}",
                code="order_not_found",
                fields={"order_sn": "not found"},
                **where,
            )
        items = None
        if reason is CancelReason.OUT_OF_STOCK:
            pairs = dict.fromkeys((i.item_id, i.model_id) for i in detail.item_list)
            items = [
                schemas.CancelItem(item_id=item, model_id=model)
                for item, model in pairs
            ]
        try:
            self._client.cancel_order(
                schemas.CancelOrderRequest(
                    order_sn=external_id,
                    cancel_reason=mapping.CANCEL_REASONS[reason],
                    item_list=items,
                )
            )
        except RejectedError as exc:
            raise RejectedError(
                f"Shopee refused to cancel order {external_id} "
                f"(status {detail.order_status}): {exc.reason}",
                code=exc.code,
                fields=exc.fields,
                **where,
            ) from exc
        log.info("orders.cancel_requested", order=external_id, reason=reason, **where)

    def close(self) -> None:
        """Nothing to release: the HTTP client is injected and owned by its creator."""
