"""An in-memory Tokopedia Seller API (legacy ``fs``), as tokopedia.md describes it.

One handler serves both hosts (``fs.tokopedia.net`` and ``accounts.tokopedia.com``);
requests are routed by path, and ``POST /token`` answers on either host.

Getting access without a browser (the real flow has none either): read
:meth:`TokopediaSimulator.credentials` (or ``GET /_sim/credentials``), then
``POST /token?grant_type=client_credentials`` with ``Authorization: Basic
base64(client_id:client_secret)`` and send ``Authorization: Bearer <access_token>`` on
every ``fs`` call. Shops are linked to the ``fs_id`` out of band: here with
:meth:`~TokopediaSimulator.add_shop`, :meth:`~TokopediaSimulator.link_shop` or
``POST /_sim/shops``.

Endpoints: token; products create (v3), edit (v3), stock and price update, active and
inactive, product info (four query forms), category tree; orders list, detail, ack,
nack, confirm shipping, request pickup, reject a buyer's cancel request; webhooks
register, read back, payload preview and manual trigger.

Faults (§10.2) beyond the base's (``self.faults``: errors, throttling, timeouts, lost
responses, malformed bodies, ``fail_items`` rows: reason ``""`` gives
``ERR_TOO_MANY_REQUEST``, or e.g. ``"Invalid SKU."``; ``self.webhooks``: drop,
duplicate, hold/reorder, bad signature): :meth:`~TokopediaSimulator.link_shop` /
:meth:`~TokopediaSimulator.set_migrated` (403 ``RBAC_MDLW_001``),
:meth:`~TokopediaSimulator.expire_tokens`, :meth:`~TokopediaSimulator.drain_rate_limit`,
:meth:`~TokopediaSimulator.upstream_error_next` (``ORD_API_006``, ``ORD_USC_007``),
:meth:`~TokopediaSimulator.shipping_problem` (501/520/530/540/550/601/690),
:meth:`~TokopediaSimulator.auto_cancel` (6),
:meth:`~TokopediaSimulator.request_cancellation`,
:meth:`~TokopediaSimulator.reserve_campaign_stock`,
:meth:`~TokopediaSimulator.repeat_page_next`,
:meth:`~TokopediaSimulator.empty_page_next`,
:meth:`~TokopediaSimulator.shift_page_next` (the shared fault plan's page faults) and
:meth:`~TokopediaSimulator.set_order_status` (e.g. 5, fraud).

Assumptions followed from "Where the record is thin" (§11), all [INF]:

- token lifetime 1,209,600 s by default (``token_lifetime``); while a token is valid
  the token endpoint returns it again with the remaining seconds in ``expires_in``;
- unauthorized → HTTP 401, ``header.messages`` "unauthorized", ``data: null``;
  ``…_DLV_…``/``…_USC_…`` → 400; ``…_API_…``/``…_GRPC_…``/``…_DB_…``/``…_CACHE_…`` →
  500; ``RBAC_MDLW_001`` → 403; rate limit → 429;
- ``5 req/s (burst 5)`` for every endpoint, one bucket per (``fs_id``, endpoint); a
  bulk request costs one token per row and nothing itself; with zero tokens left the
  whole request gets 429;
- the SDK status table (§6.3) is authoritative; ``nack`` with ``reason_code`` 1 → 3,
  any other reason → 10;
- an unanswered buyer cancel request ends in status 15 after
  ``cancel_request_delay`` seconds (or as a test decides,
  :meth:`~TokopediaSimulator.resolve_cancel_request`);
- webhooks: one delivery attempt; ``order_cancellation`` and
  ``order_request_cancellation`` have the ``order_status`` shape;
  ``Authorization-Hmac`` on every delivery;
- create and edit take at most 20 products; create requires ``price``,
  ``price_currency``, ``status``, ``weight``, ``weight_unit``, ``condition`` and
  ``min_order`` besides ``name`` and ``category_id``; ``status`` accepts
  ``UNLIMITED``/``LIMITED``/``EMPTY`` and ``weight_unit`` ``GR``/``KG``; description
  ≤ 2,000 chars, pictures 1 to 5, stock 0 to 999,999;
- stock 0 makes a product ``EMPTY`` (not buyable) and stock > 0 makes an ``EMPTY``
  product active again, unless ``bypass_update_product_status=true``;
- product info ``per_page`` ≤ 100; an order list page past the end is an empty list;
- a shop can be marked migrated (:meth:`~TokopediaSimulator.set_migrated`): its calls
  get 403 ``RBAC_MDLW_001``.

Further choices of this simulator where the page is silent [INF]:

- error codes the page does not name: ``OPENAPI_MDLW_401`` (unauthorized),
  ``OPENAPI_MDLW_429`` (whole request throttled), ``PRD_DLV_038``/``ORD_DLV_038``/
  ``OPENAPI_DLV_038`` (body not the expected JSON), ``PRD_DLV_042`` (bad or missing
  field or query parameter), ``PRD_DLV_043`` (batch empty or over its limit),
  ``ORD_DLV_001`` / ``OPENAPI_DLV_001`` (bad order or webhook parameter),
  ``ORD_USC_002`` (unknown order), ``ORD_USC_001`` also for nack, confirm shipping,
  pickup and reject-cancel in an ineligible status, ``OPENAPI_DLV_404`` unknown path
  (``OPENAPI_DLV_405`` wrong method);
  an ``fs_id`` that is not the token's app gets 403 ``RBAC_MDLW_001``;
- the token endpoint answers errors OAuth-style (``{"error", "error_description"}``,
  401 for bad client credentials, 400 for a wrong ``grant_type``);
- ``new_stock`` sets ``main_stock`` (the unreserved stock); ``stock.value`` =
  ``main_stock + reserve_stock``; buyers order from ``main_stock`` only;
  ``basic.status`` is 1 (active) or 3 (inactive: set inactive by the seller, or
  ``EMPTY``); condition, currency and weight unit are numbered as in the SDK
  fixtures (1 = NEW/IDR/GR, 2 = USED/USD/KG);
- a sale takes stock from ``main_stock`` when the order is placed (status 100), a sale
  of the last unit makes the product ``EMPTY``, every cancellation (0, 3, 5, 6, 10, 15)
  gives the stock back; returns (550) do not; the stock status values are reported
  but stock arithmetic is the same for ``UNLIMITED`` and ``LIMITED``;
- SKUs are unique per shop (a duplicate fails its row); editing a batch that holds an
  inactive product refuses the whole request with ``PRD_USC_028``; rows of create and
  edit answer ``{total_data, success_data, fail_data, success_rows_data,
  failed_rows_data}``;
- the order list filters on ``create_time``, both bounds inclusive, sorted by
  ``create_time`` then ``order_id``; ``page`` and ``per_page`` are required; orders
  and webhooks exist for the partner only once the order reached 220;
- webhook ``order_status`` is sent for every status change from 220 on;
- PII encryption (§7.5) and ``TKPD-Signature`` are NOT simulated: both need the
  ``cryptography`` package, which is not installed; PII travels in plain text and
  ``is_encrypted`` on trigger is ignored;
- clock-driven transitions (cancel-request expiry, ``auto_cancel_after``) happen on the
  next API request or on :meth:`~TokopediaSimulator.tick`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx

from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.fragments import encode
from simulators.kit.ratelimit import RateLimiter
from simulators.kit.routing import (
    BadRequestBodyError,
    Handler,
    Router,
    SimRequest,
    json_response,
)
from simulators.tokopedia.endpoints import (
    Call,
    Domain,
    Encoded,
    Endpoints,
    param_code,
)
from simulators.tokopedia.model import (
    CANCELLED,
    DEFAULT_TOKEN_LIFETIME,
    LEAF_CATEGORIES,
    OK_MESSAGE,
    RATE_LIMITED_CODE,
    RBAC_CODE,
    SHIPPING_PROBLEMS,
    STATUS_NAMES,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED_CODE,
    ApiError,
    App,
    Product,
    Shop,
    message_for_status,
    validate_product,
)
from simulators.tokopedia.store import SIGNATURE_HEADER, Store

__all__ = ["API_BASE_URL", "SIGNATURE_HEADER", "TOKEN_URL", "TokopediaSimulator"]

API_BASE_URL = "https://fs.tokopedia.net"
TOKEN_URL = "https://accounts.tokopedia.com/token"  # noqa: S105 - a URL, no secret

#: (method, path, route name); the name picks the :class:`Endpoints` method.
_ROUTES = (
    ("POST", "/v3/products/fs/{fs_id}/create", "product_create"),
    ("PATCH", "/v3/products/fs/{fs_id}/edit", "product_edit"),
    ("POST", "/inventory/v1/fs/{fs_id}/stock/update", "stock_update"),
    ("POST", "/inventory/v1/fs/{fs_id}/price/update", "price_update"),
    ("POST", "/v1/products/fs/{fs_id}/active", "product_active"),
    ("POST", "/v1/products/fs/{fs_id}/inactive", "product_inactive"),
    ("GET", "/inventory/v1/fs/{fs_id}/product/info", "product_info"),
    ("GET", "/inventory/v1/fs/{fs_id}/product/category", "product_category"),
    ("GET", "/v2/order/list", "order_list"),
    ("GET", "/v2/fs/{fs_id}/order", "order_detail"),
    ("POST", "/v1/order/{order_id}/fs/{fs_id}/ack", "order_ack"),
    ("POST", "/v1/order/{order_id}/fs/{fs_id}/nack", "order_nack"),
    ("POST", "/v1/order/{order_id}/fs/{fs_id}/status", "order_status"),
    ("POST", "/v1/order/{order_id}/fs/{fs_id}/reject-cancel", "order_reject_cancel"),
    ("POST", "/inventory/v1/fs/{fs_id}/pick-up", "order_pickup"),
    ("GET", "/v1/order/{order_id}/fs/{fs_id}/webhook", "webhook_payload"),
    ("POST", "/v1/fs/{fs_id}/register", "webhook_register"),
    ("POST", "/v1/fs/{fs_id}/trigger", "webhook_trigger"),
    ("GET", "/v1/fs/{fs_id}", "webhook_get"),
)
#: Bulk endpoints: one rate token per row, none for the request itself.
_BULK = frozenset(
    {
        "product_create",
        "product_edit",
        "stock_update",
        "price_update",
        "product_active",
        "product_inactive",
    }
)


def _domain(endpoint: str) -> Domain:
    if endpoint.startswith("order_"):
        return "ORD"
    if endpoint.startswith("webhook_"):
        return "OPENAPI"
    return "PRD"


class TokopediaSimulator(Simulator):
    """The Tokopedia Seller API (legacy ``fs_id``) in memory; see the module docstring.

    Options beyond the base's: ``token_lifetime`` (seconds), ``rate`` and ``burst``
    (every endpoint), ``endpoint_limits`` (``{route name: (rate, burst)}``),
    ``cancel_request_delay`` (seconds until an unanswered buyer cancel request
    cancels the order with 15) and ``auto_cancel_after`` (seconds an order may wait
    at 220 before it is auto-cancelled with 6; None: never).
    """

    key: ClassVar[str] = "tokopedia"
    default_port: ClassVar[int | None] = 8702

    def __init__(
        self,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = True,
        buyers: BuyerSettings | None = None,
        webhook_client: httpx.Client | None = None,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        rate: float = 5.0,
        burst: int = 5,
        endpoint_limits: dict[str, tuple[float, int]] | None = None,
        cancel_request_delay: float = 172_800.0,
        auto_cancel_after: float | None = None,
    ) -> None:
        super().__init__(
            clock=clock,
            seed=seed,
            sleep=sleep,
            rate_limits=rate_limits,
            buyers=buyers,
            webhook_client=webhook_client,
        )
        self.token_lifetime = token_lifetime
        self._local = threading.local()
        self._default_limiter = RateLimiter(
            self.clock, rate, burst, enabled=rate_limits
        )
        self._limiters = {
            name: RateLimiter(self.clock, r, b, enabled=rate_limits)
            for name, (r, b) in (endpoint_limits or {}).items()
        }
        self._upstream: list[list[Any]] = []  # [endpoint | None, code, status, n]
        self.store = Store(
            rng=self.rng,
            clock=self.clock,
            webhooks=self.webhooks,
            cancel_request_delay=cancel_request_delay,
            auto_cancel_after=auto_cancel_after,
        )
        self.endpoints = Endpoints(self.store, self.faults, self._take_rows)
        self.store.provision()

    def reset(self) -> None:
        """Forget everything and start again from the seed (faults are cleared)."""
        with self.lock:
            self.rng.seed(self.seed)
            self.faults.clear()
            self._upstream.clear()
            self.store.clear()
            self.store.provision()

    # ================================================================ provisioning

    def add_app(self) -> App:
        """A new partner app with fresh ``fs_id``, ``client_id`` and secret."""
        with self.lock:
            return self.store.add_app()

    def add_shop(self, *, fs_id: int | None = None, name: str = "") -> Shop:
        """A new shop linked to ``fs_id`` (the first app when None; 0: unlinked)."""
        with self.lock:
            if fs_id is None:
                fs_id = next(iter(self.store.apps))
            return self.store.add_shop(fs_id or None, name)

    def link_shop(self, shop_id: int, fs_id: int | None) -> None:
        """Link a shop to an app (``None``: unlink it)."""
        with self.lock:
            self.store.shops[shop_id].fs_id = fs_id

    def set_migrated(self, shop_id: int, migrated: bool = True) -> None:
        """Mark a shop bound to TikTok Shop: its legacy calls get 403."""
        with self.lock:
            self.store.shops[shop_id].migrated = migrated

    def credentials(self) -> dict[str, str]:
        """Everything a client needs for the pre-provisioned app and shop."""
        with self.lock:
            app = next(iter(self.store.apps.values()))
            # The provisioned shop, even while a test has unlinked it from the app.
            shop = next(
                (s for s in self.store.shops.values() if s.fs_id == app.fs_id),
                next(iter(self.store.shops.values())),
            )
            return {
                "api_base_url": API_BASE_URL,
                "token_url": TOKEN_URL,
                "fs_id": str(app.fs_id),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "shop_id": str(shop.shop_id),
                "warehouse_id": str(shop.warehouse_id),
                "leaf_category_ids": ",".join(map(str, sorted(LEAF_CATEGORIES))),
                "token_request": (
                    "POST {token_url}?grant_type=client_credentials with "
                    "Authorization: Basic base64(client_id:client_secret); "
                    "then Authorization: Bearer <access_token> on every call"
                ),
            }

    def seed_product(self, shop_id: int | None = None, **fields: Any) -> Product:
        """Create a product directly (tests, demos, benchmarks): fields as in the
        create body, with defaults for the required ones."""
        row: dict[str, Any] = {
            "name": "Produk IKM",
            "category_id": min(LEAF_CATEGORIES),
            "price": 10_000,
            "price_currency": "IDR",
            "status": "LIMITED",
            "weight": 200,
            "weight_unit": "GR",
            "condition": "NEW",
            "min_order": 1,
            "stock": 10,
            **fields,
        }
        normalised, errors = validate_product(row, creating=True)
        if errors:
            raise ValueError("; ".join(errors))
        with self.lock:
            shops = self.store.shops
            shop = shops[shop_id if shop_id is not None else next(iter(shops))]
            sku = normalised.get("sku", "")
            if sku and self.store.sku_taken(shop.shop_id, sku):
                raise ValueError(f"sku {sku!r} already exists")
            return self.store.new_product(shop, normalised)

    # ================================================================ faults and hooks

    def expire_tokens(self, fs_id: int | None = None) -> None:
        """Token expiry mid-run: every current token (of ``fs_id``) expires now."""
        with self.lock:
            now = self.clock.now().timestamp()
            for token in self.store.tokens.values():
                if fs_id in (None, token.fs_id) and token.expires_at > now:
                    token.expires_at = now

    def limiter(self, endpoint: str) -> RateLimiter:
        """The rate limiter of ``endpoint`` (route name)."""
        return self._limiters.get(endpoint, self._default_limiter)

    def drain_rate_limit(self, endpoint: str, fs_id: int | None = None) -> None:
        """Empty the bucket of (``fs_id``, ``endpoint``): its next call gets 429."""
        fs = fs_id if fs_id is not None else next(iter(self.store.apps))
        self.limiter(endpoint).drain((str(fs), endpoint))

    def upstream_error_next(
        self,
        n: int = 1,
        *,
        endpoint: str | None = None,
        code: str = "ORD_API_006",
        status: int = 500,
    ) -> None:
        """The next ``n`` authenticated calls (of ``endpoint``) fail upstream, e.g.
        ``code="ORD_USC_007", endpoint="order_ack"``. The page's fault table answers
        both codes with HTTP 500; pass ``status=400`` for the §11 USC mapping."""
        with self.lock:
            self._upstream.append([endpoint, code, status, n])

    def repeat_page_next(self, n: int = 1, *, endpoint: str = "order_list") -> None:
        """The next ``n`` pages of ``endpoint`` (``order_list`` or ``product_info``
        by shop) repeat the previous page's rows (the shared fault plan's)."""
        self.faults.repeat_page_next(n, endpoint=endpoint)

    def empty_page_next(self, n: int = 1, *, endpoint: str = "order_list") -> None:
        """The next ``n`` pages of ``endpoint`` come back empty though rows remain."""
        self.faults.empty_page_next(n, endpoint=endpoint)

    def shift_page_next(self, n: int = 1, *, endpoint: str = "order_list") -> None:
        """Before each of the next ``n`` pages of ``endpoint`` a row lands ahead of
        the reader: the page starts with the previous page's last row."""
        self.faults.shift_page_next(n, endpoint=endpoint)

    def reserve_campaign_stock(self, product_id: int, quantity: int) -> int:
        """Campaign reservation: move up to ``quantity`` units from ``main_stock``
        to ``reserve_stock``; returns the units moved."""
        with self.lock:
            product = self.store.products[product_id]
            moved = max(0, min(quantity, product.main_stock))
            product.main_stock -= moved
            product.reserve_stock += moved
            return moved

    def release_campaign_stock(
        self, product_id: int, quantity: int | None = None
    ) -> int:
        """Give reserved units back to ``main_stock`` (all when None)."""
        with self.lock:
            product = self.store.products[product_id]
            wanted = product.reserve_stock if quantity is None else quantity
            moved = max(0, min(wanted, product.reserve_stock))
            product.reserve_stock -= moved
            self.store.apply_stock(product, product.main_stock + moved, bypass=False)
            return moved

    def shipping_problem(self, order_id: int, status: int) -> bool:
        """Move an accepted or shipped order to 501/520/530/540/550/601/690."""
        with self.lock:
            order = self.store.orders.get(order_id)
            if status not in SHIPPING_PROBLEMS or order is None:
                return False
            if order.status not in {400, 450, 500, 501, 520, 530, 540, 600, 601}:
                return False
            self.store.change_status(order, status)
            return True

    def auto_cancel(self, order_id: int) -> bool:
        """Auto-cancel (6) an order not yet accepted; its stock is given back."""
        with self.lock:
            order = self.store.orders.get(order_id)
            if order is None or order.status not in {100, 103, 220, 221}:
                return False
            self.store.change_status(order, 6)
            return True

    def set_order_status(self, order_id: int, status: int) -> bool:
        """Force any §6.3 status (e.g. 5, fraud) with its webhooks and stock."""
        with self.lock:
            order = self.store.orders.get(order_id)
            if order is None or status not in STATUS_NAMES or order.status in CANCELLED:
                return False
            self.store.change_status(order, status)
            return True

    def request_cancellation(self, order_id: int, reason: str = "") -> bool:
        """The buyer asks to cancel an accepted order (400/450):
        ``order_request_cancellation`` is delivered, the request stays open."""
        with self.lock:
            order = self.store.orders.get(order_id)
            return order is not None and self.store.request_cancellation(order, reason)

    def resolve_cancel_request(self, order_id: int, *, cancel: bool = True) -> bool:
        """Decide an open buyer cancel request now (cancel → 15, else kept)."""
        with self.lock:
            order = self.store.orders.get(order_id)
            if order is None or not order.cancel_request_open:
                return False
            order.cancel_request_open = False
            if cancel:
                self.store.change_status(order, 15)
            return True

    def tick(self) -> int:
        """Apply the clock-driven transitions due (buyers too); returns how many."""
        with self.lock:
            return super().tick() + self.store.tick()

    # ================================================================ dispatch

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer as Tokopedia would; the ``X-Ratelimit-*`` headers go on every
        answer, injected faults included."""
        self._local.path = request.url.path
        response = super().handler(request)
        if "x-ratelimit-limit" not in response.headers and not (
            request.url.path.startswith("/_sim/")
        ):
            route, params, _known = self.router.match(request.method, request.url.path)
            endpoint = route.name if route else "(unknown)"
            fs = params.get("fs_id") or request.url.params.get("fs_id") or ""
            response.headers.update(self._rate_headers(endpoint, (_norm(fs), endpoint)))
        return response

    def register_routes(self, router: Router) -> None:
        """The token endpoint, every ``fs`` endpoint, and ``/_sim/`` helpers."""
        router.add("POST", "/token", self._token, "token")
        for method, pattern, name in _ROUTES:
            router.add(method, pattern, self._api(name), name)
        router.add(
            "GET", "/_sim/credentials", self._sim_credentials, "_sim.credentials"
        )
        router.add("POST", "/_sim/shops", self._sim_shops, "_sim.shops")

    def _api(self, endpoint: str) -> Handler:
        domain, bulk = _domain(endpoint), endpoint in _BULK
        fs_in_query = endpoint == "order_list"

        def handle(req: SimRequest) -> httpx.Response:
            query = req.query
            raw_fs = (
                query.get("fs_id") if fs_in_query else req.params.get("fs_id")
            ) or ""
            key = (_norm(raw_fs), endpoint)
            try:
                self.store.tick()
                app = self._admit(req, endpoint, domain, raw_fs, key, bulk=bulk)
                call = Call(req, query, endpoint, domain, app.fs_id, key)
                data = getattr(self.endpoints, endpoint)(call)
            except BadRequestBodyError as exc:
                status, payload = 400, _error(f"{domain}_DLV_038", str(exc), 400)
            except ApiError as exc:
                status, payload = exc.status, _error(exc.code, exc.reason, exc.status)
            else:
                return _ok_response(data, self._rate_headers(endpoint, key))
            return json_response(status, payload, self._rate_headers(endpoint, key))

        return handle

    def _admit(
        self,
        req: SimRequest,
        endpoint: str,
        domain: Domain,
        raw_fs: str,
        key: tuple[str, str],
        *,
        bulk: bool,
    ) -> App:
        """Token, ``fs_id``, rate budget and injected upstream errors, in that order."""
        app = self._authenticate(req)
        if not raw_fs.isdigit():
            raise ApiError(
                param_code(domain),
                f"Invalid field [fs_id] format, value [{raw_fs}] should be int",
            )
        if int(raw_fs) != app.fs_id:
            raise ApiError(RBAC_CODE, "fs_id does not belong to this token")
        limiter = self.limiter(endpoint)
        if bulk and limiter.enabled:
            allowed = limiter.state(key).tokens + 1e-9 >= 1
        else:
            allowed = limiter.take(key)
        if not allowed:
            raise ApiError(RATE_LIMITED_CODE, "rate limit exceeded")
        for fault in self._upstream:
            if fault[0] in (None, endpoint):
                fault[3] -= 1
                if fault[3] <= 0:
                    self._upstream.remove(fault)
                raise ApiError(fault[1], "upstream service error", fault[2])
        return app

    def _authenticate(self, req: SimRequest) -> App:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        tokens = self.store.tokens
        token = tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise ApiError(UNAUTHORIZED_CODE, "missing or unknown access token")
        if token.expires_at <= self.clock.now().timestamp():
            raise ApiError(UNAUTHORIZED_CODE, "access token expired")
        return self.store.apps[token.fs_id]

    def _take_rows(self, call: Call, rows: int) -> int:
        return self.limiter(call.endpoint).take_up_to(call.key, rows)

    def _rate_headers(self, endpoint: str, key: tuple[str, str]) -> dict[str, str]:
        limiter = self.limiter(endpoint)
        rate, burst = limiter.rate, limiter.burst
        tokens = limiter.state(key).tokens if limiter.enabled else float(burst)
        reset = "-0.000000" if tokens + 1e-9 >= 1 else f"{(1 - tokens) / rate:.6f}"
        return {
            "X-Ratelimit-Limit": f"{rate:g} req/s (burst {burst})",
            "X-Ratelimit-Remaining": str(int(tokens + 1e-9)),
            "X-Ratelimit-Reset-After": reset,
            "X-Ratelimit-Full-Reset-After": f"{max(0.0, (burst - tokens) / rate):.6f}",
        }

    # ================================================================ base hooks

    def _path_domain(self) -> str:
        path: str = getattr(self._local, "path", "")
        if "/order" in path or "/pick-up" in path:
            return "ORD"
        if "/product" in path or "/inventory/" in path:
            return "PRD"
        return "OPENAPI"

    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        """Tokopedia's envelope for an injected error with ``status``."""
        if status == 429:
            return self.rate_limited_response(retry_after)
        code = {401: UNAUTHORIZED_CODE, 403: RBAC_CODE}.get(status)
        if code is None:
            layer = "API_006" if status >= 500 else "DLV_001"
            code = f"{self._path_domain()}_{layer}"
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after else {}
        return json_response(status, _error(code, "injected error", status), headers)

    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        """HTTP 429 with an empty bucket's ``X-Ratelimit-*`` headers."""
        limiter = self._default_limiter
        wait = retry_after if retry_after else 1 / limiter.rate
        headers = {
            "X-Ratelimit-Limit": f"{limiter.rate:g} req/s (burst {limiter.burst})",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset-After": f"{wait:.6f}",
            "X-Ratelimit-Full-Reset-After": f"{wait * limiter.burst:.6f}",
        }
        if retry_after:
            headers["Retry-After"] = f"{retry_after:g}"
        body = _error(RATE_LIMITED_CODE, "rate limit exceeded", 429)
        return json_response(429, body, headers)

    def not_found_response(
        self, request: SimRequest, path_known: bool
    ) -> httpx.Response:
        """404 (405: a known path with another method) in the envelope."""
        status = 405 if path_known else 404
        reason = f"{request.method} {request.path} is not an endpoint"
        return json_response(status, _error(f"OPENAPI_DLV_{status}", reason, status))

    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        """400 ``<DOMAIN>_DLV_038``: the body is not the expected JSON."""
        self._local.path = request.path
        code = f"{self._path_domain()}_DLV_038"
        return json_response(400, _error(code, problem, 400))

    # ================================================================ token

    def _token(self, req: SimRequest) -> httpx.Response:
        """``POST /token?grant_type=client_credentials`` with Basic credentials."""
        grant = req.query.get("grant_type")
        if grant is None and req.body:
            form = parse_qs(req.body.decode("utf-8", errors="replace"))
            grant = (form.get("grant_type") or [""])[0]
        client_id, secret = _basic_credentials(req.headers.get("authorization", ""))
        key = (f"client:{client_id}", "token")
        status, body = 200, dict[str, Any]()
        app = self.store.apps_by_client.get(client_id)
        if not self.limiter("token").take(key):
            status = 429
            body = {
                "error": "too_many_requests",
                "error_description": TOO_MANY_REQUESTS,
            }
        elif app is None or not hmac.compare_digest(app.client_secret, secret):
            status = 401
            body = {
                "error": "invalid_client",
                "error_description": "client authentication failed",
            }
        elif grant != "client_credentials":
            status = 400
            body = {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            }
        else:
            token = self.store.token_for(app, self.token_lifetime)
            remaining = token.expires_at - self.clock.now().timestamp()
            body = {
                "access_token": token.access_token,
                "expires_in": int(remaining),
                "token_type": "Bearer",
            }
        return json_response(status, body, self._rate_headers("token", key))

    # ================================================================ /_sim helpers

    def _sim_credentials(self, _request: SimRequest) -> httpx.Response:
        return json_response(200, self.credentials())

    def _sim_shops(self, request: SimRequest) -> httpx.Response:
        """Add a shop (``{}``, ``{"name"}``) or change one (``{"shop_id", "linked",
        "migrated"}``); answers the shop."""
        body = request.json() if request.body else {}
        if not isinstance(body, dict):
            return json_response(400, {"error": "the body must be a JSON object"})
        fs_id = next(iter(self.store.apps))
        shop = self.store.shops.get(body.get("shop_id", 0))
        if shop is None:
            shop = self.store.add_shop(fs_id, str(body.get("name") or ""))
        if "linked" in body:
            shop.fs_id = fs_id if body["linked"] else None
        if "migrated" in body:
            shop.migrated = bool(body["migrated"])
        return json_response(200, asdict(shop))

    # ================================================================ buyers

    def buyable_listings(self) -> list[tuple[str, int]]:
        """(product id, ``main_stock``) of every active, non-EMPTY product."""
        return [
            (str(p.product_id), p.main_stock)
            for p in self.store.products.values()
            if p.buyable and p.main_stock > 0
        ]

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """A buyer orders ``quantity`` of a product (its id): refused beyond
        ``main_stock`` or below ``min_order``; stock is taken now (status 100)."""
        with self.lock:
            product = (
                self.store.products.get(int(listing)) if listing.isdigit() else None
            )
            if product is None or not product.buyable:
                return None
            if not max(1, product.min_order) <= quantity <= product.main_stock:
                return None
            return str(self.store.place_order(product, quantity, buyer).order_id)

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """pay 100→220; cancel: 15 before acceptance, a cancel request at 400/450;
        ship (220→400)→500; deliver 500/540→600; complete 600/601→700; return
        500/540/600/601→550. False when the status does not allow the event."""
        with self.lock:
            found = self.store.orders.get(int(order)) if order.isdigit() else None
            return found is not None and self.store.buyer_event(found, event)

    # ================================================================ inspection

    def inspect_listings(self) -> list[dict[str, Any]]:
        """Every product as the shop page shows it now."""
        return [
            {
                "product_id": p.product_id,
                "shop_id": p.shop_id,
                "sku": p.sku,
                "name": p.name,
                "price": p.price,
                "stock": p.main_stock + p.reserve_stock,
                "main_stock": p.main_stock,
                "reserve_stock": p.reserve_stock,
                "status": p.shown_status,
                "stock_status": p.stock_status,
                "active": p.active,
                "category_id": p.category_id,
                "url": p.url,
                "has_order": p.has_order,
            }
            for p in self.store.products.values()
        ]

    def inspect_orders(self) -> list[dict[str, Any]]:
        """Every order with status, lines, times and cancel-request state."""
        return [
            {
                "order_id": o.order_id,
                "invoice_ref_num": o.invoice_ref_num,
                "fs_id": o.fs_id,
                "shop_id": o.shop_id,
                "status": o.status,
                "status_name": STATUS_NAMES.get(o.status, ""),
                "listed": o.listed,
                "create_time": o.create_time,
                "update_time": o.update_time,
                "shipping_ref_num": o.shipping_ref_num,
                "cancel_request_open": o.cancel_request_open,
                "lines": [asdict(line) for line in o.lines],
                "history": [list(h) for h in o.history],
            }
            for o in self.store.orders.values()
        ]

    # ================================================================ state

    def export_state(self) -> dict[str, Any]:
        """Apps, shops, tokens, products, orders, registrations, deadlines, counters
        and the random generator, JSON-ready."""
        with self.lock:
            return self.store.export()

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`export_state` produced (indexes are rebuilt)."""
        with self.lock:
            self.store.load(state)


# ==================================================================== helpers


def _norm(raw_fs: str) -> str:
    """A bucket's ``fs_id`` part: digits without leading zeros, else as given."""
    return str(int(raw_fs)) if raw_fs.isdigit() else raw_fs


#: The success envelope ``{"header": {…}, "data": …}`` encoded up to its ``data``.
_OK_HEAD = b'{"header":' + encode({"process_time": 0.002, "messages": OK_MESSAGE})
_OK_HEAD += b',"data":'


def _ok_response(data: Any, headers: dict[str, str]) -> httpx.Response:
    """HTTP 200 with ``data`` in the success envelope (:class:`Encoded` data as it
    is), as ``json_response`` would send it."""
    body = data.body if isinstance(data, Encoded) else encode(data)
    return httpx.Response(
        200,
        content=b"".join((_OK_HEAD, body, b"}")),
        headers={"content-type": "application/json", **headers},
    )


def _error(code: str, reason: str, status: int) -> dict[str, Any]:
    return {
        "header": {
            "process_time": 0.001,
            "messages": message_for_status(status),
            "reason": reason,
            "error_code": code,
        },
        "data": None,
    }


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret
