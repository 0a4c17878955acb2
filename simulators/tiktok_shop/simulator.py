"""An in-memory TikTok Shop Partner API (the dated ``202309`` paths), as
tiktok-shop.md describes it; Tokopedia shops bound to TikTok Shop are served here.

One handler serves every host: the API (``open-api.tiktokglobalshop.com``), the token
host (``auth.tiktok-shops.com``) and the seller's consent page
(``services.tiktokshop.com``); requests are routed by path.

Getting access without a browser: read :meth:`TikTokShopSimulator.credentials` (or
``GET /_sim/credentials``); open ``GET /open/authorize?service_id=&state=`` (the
seller approves at once and is redirected to the app's redirect URL with ``code`` and
``state``), or take a code from ``GET /_sim/auth_code``; then ``GET
/api/v2/token/get?app_key=&app_secret=&auth_code=&grant_type=authorized_code``. API
calls carry ``app_key``, ``timestamp`` (Unix seconds), ``sign`` (§3) and, when
shop-scoped, ``shop_cipher`` (from ``GET /authorization/202309/shops``) in the query,
and the access token in the ``x-tts-access-token`` header.

Endpoints: token get and refresh; authorised shops; product create, edit, partial
edit, deactivate, activate and search; inventory update and price update (failures
per SKU in ``data.errors``); order search (``page_token`` cursor) and order detail;
webhook address update.

Faults beyond the base's (``self.faults``: errors, throttling, timeouts, lost
responses, malformed and truncated bodies, slow responses; ``fail_items`` on
``inventory_update`` / ``price_update`` by seller SKU; ``self.webhooks``: drop,
duplicate, hold/reorder, bad signature):
:meth:`~TikTokShopSimulator.expire_access_tokens`,
:meth:`~TikTokShopSimulator.revoke_authorisation`,
:meth:`~TikTokShopSimulator.drain_rate_limit` and
:meth:`~TikTokShopSimulator.set_order_status`.

Assumptions where the page is thin (§10), all [INF]:

- access tokens last 7 days, refresh tokens 30; ``access_token_expire_in`` and
  ``refresh_token_expire_in`` are Unix times (the partner reference's reading); a
  refresh issues a new access token (the old one stops working) and keeps the
  refresh token until it expires; the token call is accepted with or without
  ``app_secret`` (a wrong one is refused);
- rate limit: 10 requests a second per shop (per seller on calls without a shop) per
  endpoint, HTTP 429 with code 36009003;
- error codes are the simulator's own (:mod:`simulators.tiktok_shop.model`): 401 for a
  bad signature, app key or access token (105002: expired), 403 when the
  ``shop_cipher`` is not a shop of the token's seller, 400 for bad parameters, 404
  for an unknown path or product, 429, 500; the token call answers the same way;
- ``timestamp`` must be within ``timestamp_tolerance`` seconds (300) of the clock;
- content limits as legacy Tokopedia's placeholders: title ≤ 70 characters,
  description ≤ 2,000, 1 to 5 ``main_images`` (any ``uri``), ``package_weight`` in
  ``GRAM`` or ``KILOGRAM``; one warehouse per shop; a created product is live
  (``ACTIVATE``) at once; seller SKUs are unique per shop;
- a per-SKU update answers code 0 with the failed SKUs in ``data.errors`` (shape of
  the SDK's update-inventory answer); when every SKU failed, the envelope's ``code``
  is the first error's (HTTP 200, ``data`` still present);
- orders are listed from ``UNPAID`` on; each unit is its own line item; stock leaves
  when the order is placed and comes back on cancellation; ``PAY`` moves ``UNPAID``
  to ``AWAITING_SHIPMENT``; buyer returns are not simulated (no §7 status);
- webhooks: type 1 on every status change, including placement; one attempt.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar
from urllib.parse import urlencode

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
from simulators.tiktok_shop.endpoints import Call, Endpoints, PerSku
from simulators.tiktok_shop.model import (
    ACCESS_TOKEN_LIFETIME,
    CANCELLED,
    CATEGORIES,
    DEFAULT_BURST,
    DEFAULT_RATE,
    EXPIRED_ACCESS_TOKEN,
    INVALID_ACCESS_TOKEN,
    INVALID_APP_KEY,
    INVALID_AUTH_CODE,
    INVALID_PARAMETER,
    INVALID_REFRESH_TOKEN,
    INVALID_SIGNATURE,
    ORDER_STATUSES,
    PATH_NOT_FOUND,
    RATE_LIMITED,
    REFRESH_TOKEN_LIFETIME,
    SERVER_ERROR,
    SHOP_NOT_AUTHORISED,
    ApiError,
    Grant,
    Shop,
)
from simulators.tiktok_shop.state import SIGNATURE_HEADER, Store, webhook_signature

__all__ = [
    "API_BASE_URL",
    "AUTHORIZE_URL",
    "SIGNATURE_HEADER",
    "TOKEN_URL",
    "TikTokShopSimulator",
    "request_signature",
    "webhook_signature",
]

API_BASE_URL = "https://open-api.tiktokglobalshop.com"
TOKEN_URL = "https://auth.tiktok-shops.com/api/v2/token/get"  # noqa: S105 - a URL
AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"
ACCESS_TOKEN_HEADER = "x-tts-access-token"  # noqa: S105 - a header's name

#: (method, path, route name, shop-scoped); the name picks the :class:`Endpoints`
#: method. Deactivation comes before the ``{product_id}`` patterns.
_ROUTES = (
    ("GET", "/authorization/202309/shops", "shops", False),
    ("POST", "/product/202309/products", "product_create", True),
    ("POST", "/product/202309/products/deactivate", "product_deactivate", True),
    ("POST", "/product/202309/products/activate", "product_activate", True),
    ("PUT", "/product/202309/products/{product_id}", "product_edit", True),
    (
        "POST",
        "/product/202309/products/{product_id}/partial_edit",
        "product_partial_edit",
        True,
    ),
    (
        "POST",
        "/product/202309/products/{product_id}/inventory/update",
        "inventory_update",
        True,
    ),
    (
        "POST",
        "/product/202309/products/{product_id}/prices/update",
        "price_update",
        True,
    ),
    ("POST", "/product/202312/products/search", "product_search", True),
    ("POST", "/order/202309/orders/search", "order_search", True),
    ("GET", "/order/202309/orders", "order_detail", True),
    ("PUT", "/event/202309/webhooks", "webhook_update", True),
)


def request_signature(
    app_secret: str, path: str, query: dict[str, str], body: bytes
) -> str:
    """§3: every query parameter but ``sign`` and ``access_token``, sorted by key,
    as key + value; the path before them, the raw body after; wrapped in the secret
    on both sides; lowercase hex HMAC-SHA256 keyed with the secret."""
    pairs = "".join(
        f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token")
    )
    text = f"{app_secret}{path}{pairs}{body.decode('utf-8')}{app_secret}"
    return hmac.new(
        app_secret.encode("utf-8"), text.encode("utf-8"), "sha256"
    ).hexdigest()


class TikTokShopSimulator(Simulator):
    """The TikTok Shop Partner API in memory; see the module docstring.

    Options beyond the base's: ``rate`` and ``burst`` (every endpoint, per shop),
    ``access_lifetime`` and ``refresh_lifetime`` (seconds), and
    ``timestamp_tolerance`` (seconds a request's ``timestamp`` may be off).
    """

    key: ClassVar[str] = "tiktok_shop"
    default_port: ClassVar[int | None] = 8704

    def __init__(
        self,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = True,
        buyers: BuyerSettings | None = None,
        webhook_client: httpx.Client | None = None,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        access_lifetime: int = ACCESS_TOKEN_LIFETIME,
        refresh_lifetime: int = REFRESH_TOKEN_LIFETIME,
        timestamp_tolerance: int = 300,
    ) -> None:
        super().__init__(
            clock=clock,
            seed=seed,
            sleep=sleep,
            rate_limits=rate_limits,
            buyers=buyers,
            webhook_client=webhook_client,
        )
        self.timestamp_tolerance = timestamp_tolerance
        self.limiter = RateLimiter(self.clock, rate, burst, enabled=rate_limits)
        self._requests = 0
        self.store = Store(rng=self.rng, clock=self.clock, webhooks=self.webhooks)
        self.store.access_lifetime = access_lifetime
        self.store.refresh_lifetime = refresh_lifetime
        self.endpoints = Endpoints(self.store, self.faults)
        self.store.provision()

    def reset(self) -> None:
        """Forget everything and start again from the seed (faults are cleared)."""
        with self.lock:
            self.rng.seed(self.seed)
            self.faults.clear()
            self.store.clear()
            self.store.provision()

    # ================================================================ provisioning

    @property
    def main_shop(self) -> Shop:
        """The pre-provisioned shop."""
        return next(iter(self.store.shops.values()))

    def add_shop(self, name: str = "", *, new_seller: bool = False) -> Shop:
        """A new shop of the main shop's seller (or of a new seller)."""
        with self.lock:
            open_id = (
                self.store.add_seller(name or "Penjual").open_id
                if new_seller
                else self.main_shop.seller
            )
            return self.store.add_shop(open_id, name)

    def credentials(self) -> dict[str, str]:
        """Everything a client needs for the app and the pre-provisioned shop."""
        with self.lock:
            app, shop = self.store.app, self.main_shop
            return {
                "api_base_url": API_BASE_URL,
                "token_url": TOKEN_URL,
                "authorize_url": AUTHORIZE_URL,
                "app_key": app.app_key,
                "app_secret": app.app_secret,
                "service_id": app.service_id,
                "redirect_uri": app.redirect_uri,
                "shop_id": shop.shop_id,
                "shop_cipher": shop.cipher,
                "warehouse_id": shop.warehouse_id,
                "category_ids": ",".join(sorted(CATEGORIES)),
                "token_request": (
                    "open {authorize_url}?service_id=…&state=… (or GET "
                    "/_sim/auth_code), then GET {token_url}?app_key=…&app_secret=…"
                    "&auth_code=…&grant_type=authorized_code; sign every API call"
                ),
            }

    def set_redirect_uri(self, uri: str) -> None:
        """Where the consent page sends the seller back (the app's registration)."""
        with self.lock:
            self.store.app.redirect_uri = uri

    def set_webhook_url(self, url: str) -> None:
        """Where type-1 webhooks go (``""``: nowhere)."""
        with self.lock:
            self.store.app.webhook_url = url

    def seed_product(
        self, seller_sku: str, *, price: int = 10_000, quantity: int = 10
    ) -> str:
        """Create a live product of the main shop directly; its id."""
        with self.lock:
            content = {
                "title": f"Produk {seller_sku}",
                "description": "",
                "category_id": min(CATEGORIES),
                "weight_grams": 200.0,
            }
            row = {"seller_sku": seller_sku, "price": price, "quantity": quantity}
            return self.store.new_product(self.main_shop, content, [row]).product_id

    # ================================================================ faults

    def expire_access_tokens(self) -> None:
        """Every access token expires now (refresh tokens stay valid)."""
        with self.lock:
            now = self.store.now()
            for grant in self.store.grants.values():
                grant.access_expires_at = min(grant.access_expires_at, now)

    def revoke_authorisation(self, shop_id: str | None = None) -> None:
        """The seller of the shop (the main shop by default) withdraws the app:
        its access and refresh tokens stop working."""
        with self.lock:
            shop = self.store.shops[shop_id] if shop_id else self.main_shop
            self.store.revoke(shop.seller)

    def drain_rate_limit(self, endpoint: str, shop_id: str | None = None) -> None:
        """Empty the bucket of (shop, ``endpoint``): its next call gets 429."""
        shop = self.store.shops[shop_id] if shop_id else self.main_shop
        self.limiter.drain((shop.cipher, endpoint))

    def set_order_status(self, order_id: str, status: str) -> bool:
        """Force any §7 status, with its webhook and stock effect."""
        with self.lock:
            order = self.store.orders.get(order_id)
            if order is None or status not in ORDER_STATUSES:
                return False
            if order.status == CANCELLED:
                return False
            self.store.change_status(order, status)
            return True

    # ================================================================ routing

    def register_routes(self, router: Router) -> None:
        """The token and consent endpoints, every API endpoint, ``/_sim/`` helpers."""
        router.add("GET", "/api/v2/token/get", self._token, "token")
        router.add("GET", "/open/authorize", self._authorize, "authorize")
        for method, pattern, name, scoped in _ROUTES:
            router.add(method, pattern, self._api(name, shop_scoped=scoped), name)
        router.add(
            "GET", "/_sim/credentials", self._sim_credentials, "_sim.credentials"
        )
        router.add("GET", "/_sim/auth_code", self._sim_auth_code, "_sim.auth_code")
        router.add("POST", "/_sim/shops", self._sim_shops, "_sim.shops")
        router.add("POST", "/_sim/products", self._sim_products, "_sim.products")

    def _api(self, endpoint: str, *, shop_scoped: bool) -> Handler:
        def handle(req: SimRequest) -> httpx.Response:
            try:
                grant, shop = self._admit(req, endpoint, shop_scoped=shop_scoped)
                call = Call(req, endpoint, grant.open_id, shop)
                data = getattr(self.endpoints, endpoint)(call)
            except BadRequestBodyError as exc:
                return self._error(400, INVALID_PARAMETER, str(exc))
            except ApiError as exc:
                return self._error(exc.status, exc.code, exc.message)
            if isinstance(data, PerSku):
                message = "Success" if data.code == 0 else "some SKUs failed"
                return self._envelope(200, data.code, message, data.data)
            return self._envelope(200, 0, "Success", data)

        return handle

    def _admit(
        self, req: SimRequest, endpoint: str, *, shop_scoped: bool
    ) -> tuple[Grant, Shop | None]:
        """App key, timestamp, signature, access token, shop cipher and the rate
        budget, in that order."""
        query = dict(req.query.multi_items())
        app = self.store.app
        if not hmac.compare_digest(query.get("app_key", ""), app.app_key):
            raise ApiError(INVALID_APP_KEY, "app_key is missing or unknown")
        stamp = query.get("timestamp", "")
        if not stamp.isdigit():
            raise ApiError(INVALID_PARAMETER, "timestamp must be Unix seconds")
        if abs(int(stamp) - self.store.now()) > self.timestamp_tolerance:
            raise ApiError(INVALID_PARAMETER, "timestamp is too far from now")
        try:
            expected = request_signature(app.app_secret, req.path, query, req.body)
        except UnicodeDecodeError:
            raise ApiError(INVALID_PARAMETER, "the body is not UTF-8") from None
        if not hmac.compare_digest(query.get("sign", ""), expected):
            raise ApiError(INVALID_SIGNATURE, "sign is missing or wrong")
        grant = self.store.grants.get(req.headers.get(ACCESS_TOKEN_HEADER, ""))
        if grant is None:
            raise ApiError(INVALID_ACCESS_TOKEN, "access token is missing or invalid")
        if grant.access_expires_at <= self.store.now():
            raise ApiError(EXPIRED_ACCESS_TOKEN, "access token has expired")
        shop: Shop | None = None
        bucket = grant.open_id
        if shop_scoped:
            cipher = query.get("shop_cipher", "")
            if not cipher:
                raise ApiError(INVALID_PARAMETER, "shop_cipher is required")
            shop = self.store.shop_by_cipher(cipher)
            if shop is None or shop.seller != grant.open_id:
                raise ApiError(
                    SHOP_NOT_AUTHORISED, "shop_cipher is not a shop of this token"
                )
            bucket = shop.cipher
        if not self.limiter.take((bucket, endpoint)):
            raise ApiError(RATE_LIMITED, "too many requests")
        return grant, shop

    # ================================================================ envelope

    def _request_id(self) -> str:
        self._requests += 1
        return f"{self.store.now():010d}{self.seed:04d}{self._requests:08d}"

    def _envelope(
        self,
        status: int,
        code: int,
        message: str,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """``{code, message, request_id, data}`` (§4)."""
        body = {
            "code": code,
            "message": message,
            "request_id": self._request_id(),
            "data": data,
        }
        return httpx.Response(
            status,
            content=encode(body),
            headers={"content-type": "application/json", **(headers or {})},
        )

    def _error(
        self,
        status: int,
        code: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self._envelope(status, code, message, None, headers)

    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        """The envelope for an injected error with ``status``."""
        if status == 429:
            return self.rate_limited_response(retry_after)
        code = {401: INVALID_ACCESS_TOKEN, 403: SHOP_NOT_AUTHORISED}.get(status)
        code = code or (SERVER_ERROR if status >= 500 else INVALID_PARAMETER)
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after else {}
        return self._error(status, code, "injected error", headers)

    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        """HTTP 429, code 36009003 (§10), ``Retry-After`` when one was planned."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after else {}
        return self._error(429, RATE_LIMITED, "too many requests", headers)

    def not_found_response(
        self, request: SimRequest, path_known: bool
    ) -> httpx.Response:
        """404 (405: a known path with another method) in the envelope."""
        status = 405 if path_known else 404
        reason = f"{request.method} {request.path} is not an endpoint"
        return self._error(status, PATH_NOT_FOUND, reason)

    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        """400: the body is not the expected JSON."""
        del request
        return self._error(400, INVALID_PARAMETER, problem)

    # ================================================================ token, consent

    def _token(self, req: SimRequest) -> httpx.Response:
        """``GET /api/v2/token/get``: ``grant_type=authorized_code`` with
        ``auth_code``, or ``refresh_token`` with ``refresh_token`` (§2)."""
        try:
            grant = self._grant(req.query)
        except ApiError as exc:
            return self._error(exc.status, exc.code, exc.message)
        seller = self.store.sellers[grant.open_id]
        return self._envelope(
            200,
            0,
            "success",
            {
                "access_token": grant.access_token,
                "access_token_expire_in": grant.access_expires_at,
                "refresh_token": grant.refresh_token,
                "refresh_token_expire_in": grant.refresh_expires_at,
                "open_id": grant.open_id,
                "seller_name": seller.name,
                "seller_base_region": "ID",
                "user_type": 0,
                "granted_scopes": [],
            },
        )

    def _grant(self, query: httpx.QueryParams) -> Grant:
        """The grant a token call asks for, or the :class:`ApiError` refusing it."""
        app = self.store.app
        secret = query.get("app_secret")
        if not hmac.compare_digest(query.get("app_key", ""), app.app_key):
            raise ApiError(INVALID_APP_KEY, "app_key is missing or unknown")
        if secret is not None and not hmac.compare_digest(secret, app.app_secret):
            raise ApiError(INVALID_APP_KEY, "app_secret does not match app_key")
        if not self.limiter.take(("app", "token")):
            raise ApiError(RATE_LIMITED, "too many requests")
        grant_type = query.get("grant_type", "")
        if grant_type == "authorized_code":
            grant = self.store.redeem_code(query.get("auth_code", ""))
            if grant is None:
                raise ApiError(INVALID_AUTH_CODE, "auth_code is invalid or used")
            return grant
        if grant_type == "refresh_token":
            grant = self.store.refresh(query.get("refresh_token", ""))
            if grant is None:
                raise ApiError(
                    INVALID_REFRESH_TOKEN, "refresh_token is invalid or expired"
                )
            return grant
        raise ApiError(
            INVALID_PARAMETER, "grant_type must be authorized_code or refresh_token"
        )

    def _authorize(self, req: SimRequest) -> httpx.Response:
        """The seller's consent page: approved at once, redirected to the app's
        redirect URL with ``code`` and ``state``. ``shop_id`` (a simulator extra)
        picks which seller approves; the main shop's by default."""
        query = req.query
        if query.get("service_id") != self.store.app.service_id:
            return json_response(400, {"error": "unknown service_id"})
        shop = self.store.shops.get(query.get("shop_id", "")) or self.main_shop
        code = self.store.issue_code(shop.seller)
        target = self.store.app.redirect_uri
        joiner = "&" if "?" in target else "?"
        extra = urlencode({"code": code, "state": query.get("state", "")})
        return httpx.Response(302, headers={"Location": f"{target}{joiner}{extra}"})

    # ================================================================ /_sim helpers

    def _sim_credentials(self, _request: SimRequest) -> httpx.Response:
        return json_response(200, self.credentials())

    def _sim_auth_code(self, request: SimRequest) -> httpx.Response:
        """``GET /_sim/auth_code?shop_id=``: a code as the consent page would give."""
        shop = self.store.shops.get(request.query.get("shop_id", "")) or self.main_shop
        return json_response(
            200, {"code": self.store.issue_code(shop.seller), "shop_id": shop.shop_id}
        )

    def _sim_shops(self, request: SimRequest) -> httpx.Response:
        """Add a shop: ``{"name"?, "new_seller"?}``; answers the shop."""
        body = request.json() if request.body else {}
        if not isinstance(body, dict):
            return json_response(400, {"error": "the body must be a JSON object"})
        shop = self.add_shop(
            str(body.get("name") or ""), new_seller=bool(body.get("new_seller"))
        )
        return json_response(200, asdict(shop))

    def _sim_products(self, request: SimRequest) -> httpx.Response:
        """Live products of the main shop, as a shop bound from Tokopedia brings
        them: ``{"products": [{"seller_sku", "price"?, "quantity"?}]}``; answers
        their ids by SKU."""
        body = request.json() if request.body else {}
        rows = body.get("products") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(
            isinstance(r, dict)
            and isinstance(r.get("seller_sku"), str)
            and r["seller_sku"]
            for r in rows
        ):
            return json_response(
                400,
                {"error": 'expected {"products": [{"seller_sku": text, ...}]}'},
            )
        made: dict[str, str] = {}
        for row in rows:
            price, quantity = row.get("price", 10_000), row.get("quantity", 10)
            if not (isinstance(price, int) and isinstance(quantity, int)):
                return json_response(
                    400, {"error": f"{row['seller_sku']}: price and quantity: integers"}
                )
            made[row["seller_sku"]] = self.seed_product(
                row["seller_sku"], price=price, quantity=quantity
            )
        return json_response(200, {"products": made})

    # ================================================================ buyers

    def buyable_listings(self) -> list[tuple[str, int]]:
        """(``product_id:sku_id``, stock) of every SKU of a live product."""
        return [
            (f"{p.product_id}:{s.sku_id}", s.quantity)
            for p in self.store.products.values()
            if p.live
            for s in p.skus
        ]

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """A buyer orders ``quantity`` of a SKU (``product_id:sku_id``, or a product
        id for its first SKU); refused beyond its stock; stock is taken now."""
        with self.lock:
            product_id, _, sku_id = listing.partition(":")
            product = self.store.products.get(product_id)
            if product is None or not product.live or not product.skus:
                return None
            sku = next((s for s in product.skus if s.sku_id == sku_id), product.skus[0])
            if not 1 <= quantity <= sku.quantity:
                return None
            return self.store.place_order(product, sku, quantity, buyer).order_id

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """pay ``UNPAID``→``AWAITING_SHIPMENT``; cancel before shipping; ship →
        ``AWAITING_COLLECTION`` → ``IN_TRANSIT``; deliver; complete. False when the
        status does not allow the event (returns are never allowed)."""
        with self.lock:
            found = self.store.orders.get(order)
            return found is not None and self.store.buyer_event(found, event)

    # ================================================================ inspection

    def inspect_listings(self) -> list[dict[str, Any]]:
        """Every SKU as the shop page shows it now."""
        return [
            {
                "product_id": p.product_id,
                "sku_id": s.sku_id,
                "shop_id": p.shop_id,
                "sku": s.seller_sku,
                "name": p.title,
                "price": s.price,
                "stock": s.quantity,
                "status": p.status,
                "category_id": p.category_id,
            }
            for p in self.store.products.values()
            for s in p.skus
        ]

    def inspect_orders(self) -> list[dict[str, Any]]:
        """Every order with status, lines and times."""
        return [
            {
                "order_id": o.order_id,
                "shop_id": o.shop_id,
                "status": o.status,
                "create_time": o.create_time,
                "update_time": o.update_time,
                "lines": [asdict(line) for line in o.lines],
                "history": [list(h) for h in o.history],
            }
            for o in self.store.orders.values()
        ]

    # ================================================================ state

    def export_state(self) -> dict[str, Any]:
        """The whole marketplace, JSON-ready."""
        with self.lock:
            return self.store.export()

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`export_state` produced."""
        with self.lock:
            self.store.load(state)
