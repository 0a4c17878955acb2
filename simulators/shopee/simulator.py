"""An in-memory Shopee Open Platform v2 for tests, benchmarks and the demo.

The contract is ``shared/marketplaces/shopee.md``; the simulator implements its §10
"Simulator requirements" and follows every assumption of its §11 "Where the record is
thin":

* burst limit of 10 requests/second per (shop, endpoint), bucket 10, answered with
  ``error_rate_limit``; no daily quota unless one is set (``daily_quota=`` or
  :meth:`ShopeeSimulator.set_daily_quota`), answered with ``error_limit`` until the next
  00:00 UTC+8 of the simulated clock;
* HTTP status of error bodies: ``error_param`` and validation errors 400;
  ``error_sign``, ``error_auth``, ``invalid_acceess_token``, ``shop_no_linked`` 403
  (and, by the same reading, the other §2.4 authentication errors ``invalid_code``
  and ``refresh_token_expired``); ``error_rate_limit`` and ``error_limit`` 429;
  ``error_inner`` 500. ``errors_with_http_200=True`` sends every error with HTTP 200;
* no ``Retry-After`` header, except on faults planned with ``retry_after``;
* a push that gets no 2xx within 3 s is retried after 1 s and 5 s, then kept as a lost
  push for 3 days; duplicates and reordering only when injected (``self.webhooks``);
* pushes are signed ``hex HMAC-SHA256(partner_key, url + "|" + body)``, the empty-body
  check of ``set_app_push_config`` over ``url + "|"``; code 8 carries
  ``data{item_id, model_id, update_time}`` only;
* ``push/*`` are signed with the public base string ``partner_id + api_path +
  timestamp``; ``media_space/upload_image``, a public API in the reference that
  widely used clients sign as a shop API, accepts both (§4.11): a query with
  ``access_token`` or ``shop_id`` is checked as a shop call, one without as a
  public call;
* ``get_item_limit`` serves the §11 placeholder limits (``self.item_limits``; tests may
  change them), dimension mandatory only where a category fixture says so; category
  fixtures declare mandatory attribute ids, a missing one is ``error_param``;
* ``get_item_list``: ``offset`` and ``page_size`` are required (§4.7; a missing one
  is ``product.error_param`` "invalid field Offset: value must  Not Null", as the
  reference's error samples word it); ``offset + page_size > 10,000`` is "get items
  offset over limit";
* order cursors are opaque strings;
* ``update_stock``: entry count, "Repeat model_id.", ``error_item_not_found``,
  ``error_item_not_belong_shop``, ``error_holiday_mode_change_stock`` and "Lack of
  location_id" are request-level errors; "Wrong model_id.", stock below reserved
  stock and the promotion lock are per-model entries of ``failure_list``;
* a reused refresh token is ``error_auth`` "Invalid refresh_token.", an expired one
  ``refresh_token_expired``;
* timestamps are accepted up to 300 s in the past and in the future; the HMAC key is the
  UTF-8 bytes of ``partner_key``; a shop authorisation lasts 365 days;
* ``PENDING`` appears only for orders created with ``pending=True`` and only when the
  request sets ``request_order_status_pending=true`` (otherwise they show ``UNPAID``);
* masked personal data replaces characters with ``*``; ``live_push_status`` is set by
  the test (:meth:`ShopeeSimulator.set_live_push_status`), never computed.

Choices of this simulator where the contract says nothing [INF]:

* gateway errors (signature, timestamp, token, link, burst, quota) carry no module
  prefix unless ``common_prefix=True`` (then ``common.error_auth`` …); endpoint errors
  of the product, order and logistics modules carry theirs (``product.error_param``,
  ``order.order_list_invalid_time``), as the reference examples show them;
* stock: ``seller_stock`` is what the seller sets and includes reserved units; an order
  reserves its units when it is created (``total_reserved_stock`` grows, the available
  stock shrinks), releases them when it is cancelled, and on ``SHIPPED`` the units
  leave the seller stock. Promotion stock set by a test counts as reserved too;
* every cancellation passes ``IN_CANCEL``: ``cancel_order`` and a buyer's cancellation
  of an unpaid order go on to ``CANCELLED`` at once, a buyer's cancellation of a paid
  order after ``buyer_cancel_seconds``; simulated buyers' "ship" event arranges the
  shipment itself when the seller has not (``PROCESSED``, then ``SHIPPED``);
* ``get_order_list`` windows include both ends; rows are ordered by the chosen time
  field; a disallowed ``cancel_order`` or ``ship_order`` is ``error_param``;
* ``update_price`` has no all-failed error: the answer is a normal one with every model
  in ``failure_list``; price format and limit problems are per-model failures whose
  ``failed_reason`` starts with the documented error name;
* a shop without warehouses has one stock location, ``IDZ``; a shop made
  multi-warehouse by a test needs ``location_id`` on every stock entry;
* partner-level pushes (codes 1, 2, 12) have no top-level ``shop_id``; their ``data``
  is ``{shop_id, success, extra}`` (1, 2) or ``{shop_id, expire_time}`` (12);
* in ``get_lost_push_message`` the ``data`` string is the whole push body, as in the
  reference sample.

Authorisation without a browser: ``GET /api/v2/shop/auth_partner`` (signed as a public
API) approves at once and answers ``302`` to ``redirect?code=…&shop_id=…`` (the main
shop, or the one named by an extra ``shop_id`` / ``main_account_id`` query
parameter); ``GET /_sim/auth_code?shop_id=…`` (or ``main_account_id=…``) returns a code
as JSON; :meth:`ShopeeSimulator.issue_code` does the same in process. The code is then
exchanged at ``auth/token/get`` as §2.2 says. ``POST /_sim/shops`` (or
:meth:`ShopeeSimulator.add_shop`) adds a shop of its own. A shop's authorisation runs
365 days from its approval; ``POST /_sim/authorisation`` (or
:meth:`ShopeeSimulator.set_authorisation`) sets its ``auth_time``/``expire_time``.

Fault names for :attr:`faults` are the API paths after ``/api/v2/`` with a dot, e.g.
``product.add_item``; batch rows of ``product.update_stock`` / ``product.update_price``
are keyed ``"<item_id>:<model_id>"``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

import httpx

from simulators.kit.buyers import BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.fragments import FragmentCache
from simulators.kit.ratelimit import RateLimiter
from simulators.kit.routing import Router, SimRequest, json_response
from simulators.shopee.orders import OrdersApi
from simulators.shopee.partner import PartnerApi
from simulators.shopee.payload import NestedJson
from simulators.shopee.products import DEFAULT_LOCATION, ProductsApi, attribute_entry
from simulators.shopee.state import (
    AUTHORISATION_SECONDS,
    CATEGORIES,
    DEFAULT_ITEM_LIMITS,
    DELETED,
    LOGISTICS,
    PUSH_AUTH_EXPIRY,
    PUSH_SHOP_DEAUTH,
    TOP_LEVEL,
    TRANSITIONS,
    UTC8,
    ApiError,
    AuthCode,
    Grant,
    Item,
    LostPush,
    Merchant,
    Model,
    Order,
    OrderLine,
    Shop,
    module_of,
)

#: The production host of the reference (§1); tests use it as ``base_url``.
BASE_URL = "https://partner.shopeemobile.com"
STATE_VERSION = 1
#: Rendered listings and order details kept for repeated reads (each kind): the
#: working set of a sync engine; beyond it entries are rendered on each read.
FRAGMENT_LIMIT = 10_000


class ShopeeSimulator(ProductsApi, OrdersApi, PartnerApi):
    """Shopee Open Platform v2 as an ``httpx`` handler.

    Pre-provisioned: one partner (app), a main shop, a second shop owned by a merchant
    (main account), see :meth:`credentials`. Tokens come from the authorisation flow
    (:meth:`issue_code` or the endpoints named in the module docstring).
    """

    key: ClassVar[str] = "shopee"
    default_port: ClassVar[int | None] = 8701

    def __init__(
        self,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = True,
        buyers: BuyerSettings | None = None,
        webhook_client: httpx.Client | None = None,
        errors_with_http_200: bool = False,
        common_prefix: bool = False,
        daily_quota: int | None = None,
        mask_pii: bool = False,
        tracking_lag_calls: int = 0,
        buyer_cancel_seconds: int = 3600,
    ) -> None:
        super().__init__(
            clock=clock,
            seed=seed,
            sleep=sleep,
            rate_limits=rate_limits,
            buyers=buyers,
            webhook_client=webhook_client,
        )
        self.limiter = RateLimiter(self.clock, 10.0, 10, enabled=rate_limits)
        self.webhooks.retry_delays = (1.0, 5.0)
        self.webhooks.timeout = 3.0
        self.webhooks.on_failed = self.on_push_failed
        self.errors_with_http_200 = errors_with_http_200
        self.common_prefix = common_prefix
        self.daily_quota = daily_quota
        self.mask_pii = mask_pii
        self.tracking_lag_calls = tracking_lag_calls
        self.buyer_cancel_seconds = buyer_cancel_seconds
        self._seeded = SeededValues.make()
        self._clear_state()
        self._provision()
        self._initial = self.export_state()

    def _clear_state(self) -> None:
        self.shops, self.merchants = {}, {}
        self.grants_by_access, self.grants_by_refresh = {}, {}
        self.codes, self.images = {}, set()
        self.items, self.items_by_status, self.items_by_sku = {}, {}, {}
        self.orders, self.order_index, self.cancel_due = {}, {}, []
        self.item_fragments = FragmentCache(FRAGMENT_LIMIT)
        self.order_fragments = FragmentCache(FRAGMENT_LIMIT)
        self.nested_json = NestedJson()
        self.item_limits = _copy(DEFAULT_ITEM_LIMITS)
        self.quota_day, self.quota_used, self.quota_blocked_day = "", 0, ""
        self.push_url, self.push_codes, self.push_blocked = "", set(), set()
        self.live_push_status, self.suspended_time = "Normal", 0
        self.lost_pushes, self.push_bodies = [], {}
        self.counters = {}

    def _provision(self) -> None:
        rng, now = self.rng, self.now()
        self.partner_id = 2_000_000 + rng.randrange(1_000_000)
        self.partner_key = "shpk" + self.hex_token(240)
        main_shop = 200_000_000 + rng.randrange(100_000_000)
        merchant_shop = main_shop + 1 + rng.randrange(1_000)
        merchant_id = 1_000_000 + rng.randrange(1_000_000)
        self.shops[main_shop] = Shop(
            main_shop,
            "Sentra IKM Kopi Flores",
            0,
            True,
            now,
            now + AUTHORISATION_SECONDS,
        )
        self.shops[merchant_shop] = Shop(
            merchant_shop,
            "Lapas Kelas IIA Pontianak - Kerajinan",
            merchant_id,
            True,
            now,
            now + AUTHORISATION_SECONDS,
        )
        self.merchants[merchant_id] = Merchant(
            merchant_id,
            30_000_000 + rng.randrange(1_000_000),
            "Koperasi IKM Nusantara",
            True,
            now,
            now + AUTHORISATION_SECONDS,
        )
        self.counters = {
            "item": 20_000_000_000 + rng.randrange(1_000_000_000),
            "model": 100_000_000_000 + rng.randrange(1_000_000_000),
            "order_seq": 0,
            "order_item": 0,
            "package": 60_000_000 + rng.randrange(1_000_000),
            "lost_push": 176_000 + rng.randrange(1_000),
        }

    # ------------------------------------------------------------------ routes

    def register_routes(self, router: Router) -> None:
        """Every endpoint of §10, plus ``/_sim/auth_code``."""
        groups = (self.product_routes(), self.order_routes(), self.partner_routes())
        for group in groups:
            for method, path, kind, handler in group:
                name = path.removeprefix("/api/v2/").replace("/", ".")
                if kind == "token":
                    wrapped = self.token_api(handler)
                elif kind.endswith(TOP_LEVEL):
                    wrapped = self.top_level_api(kind.removesuffix(TOP_LEVEL), handler)
                else:
                    wrapped = self.api(kind, handler)
                router.add(method, path, wrapped, name)
        router.add("GET", "/_sim/auth_code", self._sim_auth_code, "_sim.auth_code")
        router.add("POST", "/_sim/shops", self._sim_shops, "_sim.shops")
        router.add(
            "POST", "/_sim/authorisation", self._sim_authorisation, "_sim.authorisation"
        )

    def add_shop(self, name: str = "") -> Shop:
        """A new shop of its own (no merchant), linked to the partner."""
        with self.lock:
            shop_id = max(self.shops) + 1
            now = self.now()
            shop = Shop(
                shop_id,
                name or f"Toko {shop_id}",
                0,
                True,
                now,
                now + AUTHORISATION_SECONDS,
            )
            self.shops[shop_id] = shop
            return shop

    def _sim_shops(self, request: SimRequest) -> httpx.Response:
        """Add a shop (``{}``, ``{"name"}``); answers its ``shop_id``."""
        body = request.json() if request.body else {}
        if not isinstance(body, dict):
            return json_response(400, {"error": "the body must be a JSON object"})
        shop = self.add_shop(str(body.get("name") or ""))
        return json_response(200, {"shop_id": shop.shop_id, "name": shop.shop_name})

    def _sim_authorisation(self, request: SimRequest) -> httpx.Response:
        """``POST /_sim/authorisation`` with ``{"shop_id"?, "auth_time"?,
        "expire_time"?}`` (unix seconds): set a shop's authorisation period (the
        main shop by default); answers the shop's period as it now stands."""
        try:
            values = _authorisation_values(request.json() if request.body else {})
            shop = self.set_authorisation(
                values.get("shop_id"),
                auth_time=values.get("auth_time"),
                expire_time=values.get("expire_time"),
            )
        except (KeyError, ValueError) as exc:  # a bad JSON body is a ValueError
            return json_response(400, {"error": "error_param", "message": str(exc)})
        return json_response(
            200,
            {
                "shop_id": shop.shop_id,
                "auth_time": shop.auth_time,
                "expire_time": shop.expire_time,
            },
        )

    def _sim_auth_code(self, request: SimRequest) -> httpx.Response:
        query = request.query
        try:
            if query.get("main_account_id"):
                main = int(query["main_account_id"])
                code = self.issue_code(main_account_id=main)
                return json_response(
                    200, {"code": code, "main_account_id": main, "expire_in": 600}
                )
            shop_id = int(query.get("shop_id") or self.default_shop_id)
            code = self.issue_code(shop_id=shop_id)
        except (KeyError, ValueError) as exc:
            return json_response(400, {"error": "error_param", "message": str(exc)})
        return json_response(200, {"code": code, "shop_id": shop_id, "expire_in": 600})

    # ------------------------------------------------------------------ credentials

    def credentials(self) -> dict[str, str]:
        """Everything a client needs, and how it obtains tokens."""
        shops = list(self.shops.values())
        merchant = next(iter(self.merchants.values()))
        return {
            "base_url": BASE_URL,
            "partner_id": str(self.partner_id),
            "partner_key": self.partner_key,
            "shop_id": str(shops[0].shop_id),
            "other_shop_id": str(shops[1].shop_id),
            "merchant_id": str(merchant.merchant_id),
            "main_account_id": str(merchant.main_account_id),
            "category_id": "100001",
            "logistic_id": str(next(iter(LOGISTICS))),
            "auth_partner_path": "/api/v2/shop/auth_partner",
            "token_path": "/api/v2/auth/token/get",
            "refresh_path": "/api/v2/auth/access_token/get",
            "sim_auth_code_path": "/_sim/auth_code",
            "how_to_get_tokens": (
                "GET /api/v2/shop/auth_partner?partner_id&timestamp&sign&redirect=URL "
                "(public signature) answers 302 to URL?code=..&shop_id=.. at once "
                "(or GET /_sim/auth_code?shop_id=..); then POST /api/v2/auth/token/get "
                "{code, partner_id, shop_id} -> access_token (4 h) + refresh_token "
                "(30 days, single use); refresh with POST "
                "/api/v2/auth/access_token/get {refresh_token, partner_id, shop_id}."
            ),
        }

    # ------------------------------------------------------------------ answers

    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        """``error_inner`` with the fault's 5xx status (200 when so switched)."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after else None
        body = {
            "error": "error_inner",
            "message": "System error, please try again later or contact the OpenAPI "
            "support team.",
            "warning": "",
            "request_id": self.hex_token(),
        }
        return json_response(self.status(status), body, headers)

    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        """``error_rate_limit`` with HTTP 429 (200 when so switched)."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after else None
        return self.fail(
            ApiError(
                self.common_error("error_rate_limit"),
                "Too many requests. You have reached the rate limit. Please try again "
                "later.",
            ),
            headers,
        )

    def not_found_response(
        self,
        request: SimRequest,  # noqa: ARG002 - every unknown path gets one answer
        path_known: bool,
    ) -> httpx.Response:
        """Shopee's "request path is incorrect" answer, 404 (405: wrong method)."""
        body = {
            "error": self.common_error("error_param"),
            "message": "Permission denied. This API is currently offline or the "
            "request path is incorrect.",
            "warning": "",
            "request_id": self.hex_token(),
        }
        return json_response(self.status(405 if path_known else 404), body)

    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        """``error_param`` for a body that is not JSON."""
        module = module_of(request.path)
        name = self.err(module, "error_param")
        if module == "auth":
            body = {
                "error": self.common_error("error_param"),
                "message": f"Wrong parameters, detail: {problem}",
                "request_id": self.hex_token(),
            }
            return json_response(self.status(400), body)
        return self.fail(ApiError(name, f"Wrong parameters, detail: {problem}"))

    # ------------------------------------------------------------------ inspection

    def inspect_listings(self) -> list[dict[str, Any]]:
        """One entry per sellable unit (model, or model 0) of every listing that is
        not deleted: what a buyer sees."""
        listings: list[dict[str, Any]] = []
        for item in self.items.values():
            if item.item_status in DELETED:
                continue
            for model in item.models.values():
                listings.append(
                    {
                        "sku": model.model_sku or item.item_sku,
                        "name": item.item_name,
                        "price": model.price,
                        "stock": model.available,
                        "seller_stock": model.total_stock,
                        "reserved_stock": model.reserved_total,
                        "status": item.item_status,
                        "item_id": item.item_id,
                        "model_id": model.model_id,
                        "item_sku": item.item_sku,
                        "shop_id": item.shop_id,
                    }
                )
        return listings

    def inspect_orders(self) -> list[dict[str, Any]]:
        """Every order with its status, lines and times."""
        self.process_due()
        return [
            {
                "order_sn": order.order_sn,
                "shop_id": order.shop_id,
                "status": order.status,
                "create_time": order.create_time,
                "update_time": order.update_time,
                "pay_time": order.pay_time,
                "buyer": order.buyer_username,
                "total_amount": sum(line.price * line.quantity for line in order.lines),
                "lines": [
                    {
                        "item_id": line.item_id,
                        "model_id": line.model_id,
                        "sku": line.model_sku or line.item_sku,
                        "quantity": line.quantity,
                        "price": line.price,
                    }
                    for line in order.lines
                ],
                "cancel_by": order.cancel_by,
                "cancel_reason": order.cancel_reason,
                "tracking_number": order.tracking_number,
            }
            for order in self.orders.values()
        ]

    # ------------------------------------------------------------------ state

    def export_state(self) -> dict[str, Any]:
        """Everything needed to restore this marketplace, JSON-ready."""
        version, internal, gauss = self.rng.getstate()
        return {
            "version": STATE_VERSION,
            "partner": {"partner_id": self.partner_id, "partner_key": self.partner_key},
            "shops": [asdict(shop) for shop in self.shops.values()],
            "merchants": [asdict(m) for m in self.merchants.values()],
            "grants": [asdict(g) for g in self.grants_by_access.values()],
            "codes": [asdict(code) for code in self.codes.values()],
            "images": sorted(self.images),
            "items": [_item_json(item) for item in self.items.values()],
            "orders": [_order_json(order) for order in self.orders.values()],
            "item_limits": _copy(self.item_limits),
            "counters": dict(self.counters),
            "quota": {
                "daily_quota": self.daily_quota,
                "day": self.quota_day,
                "used": self.quota_used,
                "blocked_day": self.quota_blocked_day,
            },
            "push": {
                "url": self.push_url,
                "codes": sorted(self.push_codes),
                "blocked": sorted(self.push_blocked),
                "live_push_status": self.live_push_status,
                "suspended_time": self.suspended_time,
                "lost": [asdict(m) for m in self.lost_pushes],
            },
            "switches": {
                "errors_with_http_200": self.errors_with_http_200,
                "common_prefix": self.common_prefix,
                "mask_pii": self.mask_pii,
                "tracking_lag_calls": self.tracking_lag_calls,
                "buyer_cancel_seconds": self.buyer_cancel_seconds,
            },
            "rng": [version, list(internal), gauss],
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`export_state` produced."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported Shopee state version {state.get('version')}")
        self._clear_state()
        self.partner_id = int(state["partner"]["partner_id"])
        self.partner_key = str(state["partner"]["partner_key"])
        for raw in state["shops"]:
            shop = Shop(**raw)
            self.shops[shop.shop_id] = shop
        for raw in state["merchants"]:
            merchant = Merchant(**raw)
            self.merchants[merchant.merchant_id] = merchant
        for raw in state["grants"]:
            grant = Grant(**raw)
            self.grants_by_access[grant.access_token] = grant
            self.grants_by_refresh[grant.refresh_token] = grant
        for raw in state["codes"]:
            code = AuthCode(**raw)
            self.codes[code.code] = code
        self.images = set(state["images"])
        for raw in state["items"]:
            item = _item_from_json(raw)
            self.items[item.item_id] = item
            self.index_item(item)
        for raw in state["orders"]:
            order = Order(**{**raw, "lines": [OrderLine(**li) for li in raw["lines"]]})
            self.orders[order.order_sn] = order
            self.index_order(order)
        self.item_limits = _copy(state["item_limits"])
        self.counters = {key: int(value) for key, value in state["counters"].items()}
        quota = state["quota"]
        self.daily_quota = quota["daily_quota"]
        self.quota_day, self.quota_used = quota["day"], int(quota["used"])
        self.quota_blocked_day = quota["blocked_day"]
        push = state["push"]
        self.push_url = push["url"]
        self.push_codes, self.push_blocked = set(push["codes"]), set(push["blocked"])
        self.live_push_status = push["live_push_status"]
        self.suspended_time = int(push["suspended_time"])
        self.lost_pushes = [LostPush(**m) for m in push["lost"]]
        switches = state["switches"]
        self.errors_with_http_200 = bool(switches["errors_with_http_200"])
        self.common_prefix = bool(switches["common_prefix"])
        self.mask_pii = bool(switches["mask_pii"])
        self.tracking_lag_calls = int(switches["tracking_lag_calls"])
        self.buyer_cancel_seconds = int(switches["buyer_cancel_seconds"])
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))

    def reset(self) -> None:
        """Back to the state right after construction (faults are not cleared)."""
        self.import_state(self._initial)

    # ------------------------------------------------------------------ buyers

    def buyable_listings(self) -> list[tuple[str, int]]:
        """``"<item_id>:<model_id>"`` and the units a buyer may order now."""
        result: list[tuple[str, int]] = []
        for shop in self.shops.values():
            if shop.holiday_mode:
                continue
            for item_id in self.items_by_status.get((shop.shop_id, "NORMAL"), []):
                item = self.items[item_id]
                for model_id, model in item.models.items():
                    if item.has_model and model_id == 0:
                        continue
                    if model.available > 0:
                        result.append((f"{item_id}:{model_id}", model.available))
        return result

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """A buyer orders from ``"<item_id>:<model_id>"``; stock is reserved at once
        and never more than the listing shows."""
        item_raw, _, model_raw = listing.partition(":")
        try:
            item_id, model_id = int(item_raw), int(model_raw or "0")
        except ValueError:
            return None
        order = self.create_order(item_id, model_id, quantity, buyer)
        return order.order_sn if order else None

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """Map the buyer engine's events onto Shopee statuses (§10.1 rule 12)."""
        found = self.orders.get(order)
        if found is None:
            return False
        status = found.status
        match event:
            case BuyerEvent.PAY:
                return status == "UNPAID" and self.transition(found, "READY_TO_SHIP")
            case BuyerEvent.CANCEL:
                if status == "UNPAID":
                    return self.cancel(
                        found, by="buyer", reason="Buyer did not pay or cancelled"
                    )
                if status == "READY_TO_SHIP":
                    return self.cancel(
                        found,
                        by="buyer",
                        reason="Buyer requested cancellation",
                        wait=self.buyer_cancel_seconds,
                    )
                return False
            case BuyerEvent.SHIP:
                if status in ("READY_TO_SHIP", "RETRY_SHIP"):
                    self.ship(found)
                return found.status == "PROCESSED" and self.transition(found, "SHIPPED")
            case BuyerEvent.DELIVER:
                return self.transition(found, "TO_CONFIRM_RECEIVE")
            case BuyerEvent.COMPLETE:
                return status == "TO_CONFIRM_RECEIVE" and self.transition(
                    found, "COMPLETED"
                )
            case BuyerEvent.RETURN:
                return status == "TO_CONFIRM_RECEIVE" and self.transition(
                    found, "TO_RETURN"
                )

    # ------------------------------------------------------------------ test knobs

    def _shop(self, shop_id: int | None) -> Shop:
        return self.shops[shop_id if shop_id is not None else self.default_shop_id]

    def seed_listing(
        self,
        sku: str,
        name: str,
        price: int,
        stock: int,
        *,
        shop_id: int | None = None,
        category_id: int = 100_001,
        status: str = "NORMAL",
    ) -> int:
        """Create a listing directly (demo data, bulk tests); returns its item_id."""
        shop, now = self._shop(shop_id), self.now()
        image_id = f"id-11134207-{self.hex_token(80)}"
        self.images.add(image_id)
        item = Item(
            item_id=self.next_id("item"),
            shop_id=shop.shop_id,
            item_name=name,
            description=f"{name} - produk IKM.",
            category_id=category_id,
            item_sku=sku,
            item_status=status,
            weight=0.5,
            image_ids=[image_id],
            logistic_info=self._seeded.logistic_info,
            attribute_list=self._seeded.attribute_list,
            create_time=now,
            update_time=now,
            models={0: Model(0, sku, price, {_location(shop): stock})},
            pre_order=self._seeded.pre_order,
            wholesale=self._seeded.wholesale,
        )
        self.items[item.item_id] = item
        self.index_item(item)
        return item.item_id

    def revoke_access_tokens(self, shop_id: int | None = None) -> None:
        """Token revoked: every access token of the shop answers "Invalid
        access_token." (refresh tokens still work)."""
        target = self._shop(shop_id).shop_id
        for grant in self.grants_by_access.values():
            if target in grant.shop_ids:
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token expires now (as after 4 hours)."""
        now = self.now()
        for grant in self.grants_by_access.values():
            grant.access_expires = min(grant.access_expires, now)

    def deauthorise_shop(self, shop_id: int | None = None) -> None:
        """The seller cancels the authorisation: push code 2; calls and refreshes
        fail with ``shop_no_linked`` until the shop authorises again."""
        shop = self._shop(shop_id)
        shop.linked = False
        self.revoke_access_tokens(shop.shop_id)
        self.push(
            shop.shop_id,
            PUSH_SHOP_DEAUTH,
            {"shop_id": shop.shop_id, "success": 1, "extra": "deauthorised"},
        )

    def expire_authorisation(
        self, shop_id: int | None = None, *, in_seconds: int = 0
    ) -> None:
        """Push code 12 and end the shop's authorisation ``in_seconds`` from now."""
        shop = self._shop(shop_id)
        shop.expire_time = self.now() + in_seconds
        self.push(
            shop.shop_id,
            PUSH_AUTH_EXPIRY,
            {"shop_id": shop.shop_id, "expire_time": shop.expire_time},
        )

    def set_authorisation(
        self,
        shop_id: int | None = None,
        *,
        auth_time: int | None = None,
        expire_time: int | None = None,
    ) -> Shop:
        """Set when the shop's authorisation began and ends (unix seconds; unset
        values stay), silently: no push. A shop whose ``expire_time`` has passed is
        no longer linked (calls answer ``shop_no_linked``)."""
        shop = self._shop(shop_id)
        if auth_time is not None:
            shop.auth_time = auth_time
        if expire_time is not None:
            shop.expire_time = expire_time
        return shop

    def set_holiday_mode(self, on: bool = True, shop_id: int | None = None) -> None:
        """Holiday mode: stock updates fail, buyers cannot order."""
        self._shop(shop_id).holiday_mode = on

    def set_fbs(self, on: bool = True, shop_id: int | None = None) -> None:
        """A warehouse-fulfilled (FBS) shop: stock updates are refused."""
        self._shop(shop_id).fbs = on

    def set_warehouses(
        self, location_ids: list[str], shop_id: int | None = None
    ) -> None:
        """Make the shop multi-warehouse (``location_id`` becomes mandatory)."""
        self._shop(shop_id).warehouses = list(location_ids)

    def set_promotion(
        self,
        item_id: int,
        model_id: int = 0,
        *,
        stock_locked: bool = True,
        price_locked: bool = True,
        reserved: int = 0,
    ) -> None:
        """Put a model in a promotion: locks and promotion-reserved stock."""
        item = self.items[item_id]
        model = item.models[model_id]
        model.stock_locked, model.price_locked = stock_locked, price_locked
        if model.promo_reserved != reserved:
            model.promo_reserved = reserved
            self.reserved_changed(item, model)

    def change_item_status(self, item_id: int, status: str) -> None:
        """Shopee changes an item's status (``BANNED``, ``REVIEWING`` …)."""
        self.set_item_status(self.items[item_id], status)

    def set_daily_quota(self, calls: int | None) -> None:
        """The app's daily call quota (None: none); resets at 00:00 UTC+8."""
        self.daily_quota = calls

    def exhaust_daily_quota(self) -> None:
        """Every call answers ``error_limit`` until the next 00:00 UTC+8."""
        self.quota_blocked_day = (
            datetime.fromtimestamp(self.now(), UTC8).date().isoformat()
        )

    def repeat_cursor_next(self, n: int = 1) -> None:
        """The next ``n`` order-list pages asked for with a cursor answer with that
        same cursor as ``next_cursor`` (a loop for a naive client): the shared fault
        plan's ``repeat_page_next`` for ``order.get_order_list``."""
        self.faults.repeat_page_next(n, endpoint="order.get_order_list")

    def empty_page_next(self, n: int = 1) -> None:
        """The next ``n`` order-list pages that have rows come back empty with
        ``more: true`` and a cursor that continues where they should have started
        (the shared fault plan's ``empty_page_next``)."""
        self.faults.empty_page_next(n, endpoint="order.get_order_list")

    def lag_tracking_numbers(self, calls: int) -> None:
        """After ``ship_order``, ``get_tracking_number`` is empty ``calls`` times."""
        self.tracking_lag_calls = calls

    def set_order_status(self, order_sn: str, status: str) -> bool:
        """A test moves an order along the state machine (refused: False)."""
        order = self.orders[order_sn]
        if status == "PROCESSED" and order.status in ("READY_TO_SHIP", "RETRY_SHIP"):
            return self.ship(order)
        if status == "CANCELLED" and order.status in ("UNPAID", "READY_TO_SHIP"):
            return self.cancel(order, by="system", reason="Cancelled by Shopee")
        if status not in TRANSITIONS.get(order.status, frozenset()):
            return False
        return self.transition(order, status)


@dataclass(frozen=True)
class SeededValues:
    """The nested values of listings made by :meth:`ShopeeSimulator.seed_listing`,
    one copy shared by all of them: the simulator replaces nested values and never
    changes them in place, so sharing only saves memory (about 1.5 kB a listing).
    """

    logistic_info: list[dict[str, Any]]
    attribute_list: list[dict[str, Any]]
    pre_order: dict[str, Any]
    wholesale: list[dict[str, Any]]

    @classmethod
    def make(cls) -> SeededValues:
        """Every logistics channel enabled, brand "NoBrand", ships in 2 days, no
        wholesale tiers."""
        logistics = [
            {
                "logistic_id": lid,
                "logistic_name": lname,
                "enabled": True,
                "shipping_fee": 0,
                "size_id": 0,
                "is_free": False,
            }
            for lid, lname in LOGISTICS.items()
        ]
        brand = {"value_id": 0, "original_value_name": "NoBrand", "value_unit": ""}
        attributes = [attribute_entry(CATEGORIES[100_001].attributes[0], [brand])]
        pre_order = {"is_pre_order": False, "days_to_ship": 2}
        return cls(logistics, attributes, pre_order, [])


def _location(shop: Shop) -> str:
    return shop.warehouses[0] if shop.warehouses else DEFAULT_LOCATION


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def _fields(record: Item | Model | Order | OrderLine) -> dict[str, Any]:
    """A record's fields by name, in their order (a shallow copy)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _item_json(item: Item) -> dict[str, Any]:
    """An item as JSON-ready data (nested values are replaced, never mutated, by the
    simulator, so top-level copies are enough)."""
    data = _fields(item)
    for key in ("image_ids", "logistic_info", "attribute_list", "wholesale"):
        data[key] = list(data[key])
    data["tier_variation"] = list(item.tier_variation)
    data["models"] = [
        {
            **_fields(model),
            "stock": dict(model.stock),
            "tier_index": list(model.tier_index),
        }
        for model in item.models.values()
    ]
    return data


def _order_json(order: Order) -> dict[str, Any]:
    """An order as JSON-ready data."""
    data = _fields(order)
    data["lines"] = [_fields(line) for line in order.lines]
    data["recipient"] = dict(order.recipient)
    return data


def _item_from_json(raw: dict[str, Any]) -> Item:
    models = {m["model_id"]: Model(**m) for m in raw["models"]}
    return Item(**{**raw, "models": models})


__all__ = ["BASE_URL", "ShopeeSimulator"]


_AUTHORISATION_FIELDS = frozenset({"shop_id", "auth_time", "expire_time"})


def _authorisation_values(body: object) -> dict[str, int]:
    """The integer fields of a ``/_sim/authorisation`` body; ValueError otherwise."""
    if not isinstance(body, dict) or set(body) - _AUTHORISATION_FIELDS:
        raise ValueError("expected a JSON object with shop_id, auth_time, expire_time")
    values = {k: v for k, v in body.items() if v is not None}
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values.values()):
        raise ValueError("shop_id, auth_time and expire_time are integers")
    return values
