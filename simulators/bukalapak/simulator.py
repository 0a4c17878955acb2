"""The Bukalapak API v4 simulator: ``api.bukalapak.com`` and ``accounts.bukalapak.com``.

One handler serves both hosts and routes by path (``/oauth/*`` is the accounts host).
It follows ``shared/marketplaces/bukalapak.md``; every response is in the
``{data, meta{http_status}, errors[{code, message}]}`` envelope.

Endpoints (fault and counter names in brackets):

- ``GET /oauth/authorize`` [oauth.authorize] — no browser: the pre-provisioned seller
  consents at once and the answer is a 302 to ``redirect_uri?code=…&state=…``
  (simulator-only ``sim_seller=<username|user id>`` picks another provisioned seller).
- ``POST /oauth/token`` [oauth.token] — ``authorization_code``, ``refresh_token``,
  ``client_credentials`` (scope ``public``) and the legacy ``password`` grant.
- ``GET /me`` [me]; ``GET /stores/me/products`` [stores.products]; ``POST /products``
  [products.create]; ``GET /products/{id}`` [products.get]; ``GET /products/{id}/skus``
  [products.skus]; ``PATCH /products/{product_id}/skus/{sku_id}`` [skus.update].
- ``GET /transactions`` [transactions.list]; ``GET /transactions/{id}``
  [transactions.get]; ``PUT /transactions/{id}/status`` [transactions.status].
- ``POST /_partners/logistic-bookings`` [partners.logistic_bookings];
  ``GET /info/carriers`` [info.carriers].
- ``POST /_sim/attachments`` — simulator helper: a new image attachment id.
- ``POST /_sim/sellers`` ``{"username", "name"}`` — simulator helper: another seller
  with a store of its own (:meth:`BukalapakSimulator.add_seller`).

Assumptions from "Where the record is thin" (page §9), all followed: access tokens live
3,600 s; refresh tokens 30 days, single use and rotated on every refresh; 10 requests/s
per access token with a bucket of 10, over it HTTP 429 with one ``errors[]`` entry and
no ``Retry-After``; ``errors[].code`` values are simulator-defined; validation 422, not
found 404, wrong store 403; ``POST /products`` takes ``{name, category_id, price,
weight, stock, description, condition, images[], sku_name}`` and answers
``data{id, skus[{id, sku_name}], …}``; ``limit`` ≤ 50; ``/transactions`` filters
``created_at`` with ``start_time`` inclusive and ``end_time`` exclusive and no maximum
window; times answered in ISO 8601 with ``+07:00``, queries accept any offset; the
partner ``User-Agent`` is required on ``/_partners/*`` only (missing → 403); SKU states
``active``/``inactive``; ``price`` integer > 0 and ``stock`` integer 0 to 999,999; the
masked phone is the string ``Terkunci``; no webhooks; in closed-marketplace mode
product writes → 403 with an ``errors[]`` message and no new ``pending`` transactions.

Further simulator choices, where the page is silent:

- Token answers carry the RFC 6749 fields at the top level and the same object under
  ``data`` (with ``meta`` and ``errors``); OAuth errors carry ``error`` (e.g.
  ``invalid_grant``, HTTP 400; ``invalid_client``, HTTP 401) and the envelope.
  ``client_credentials`` tokens have no refresh token. Refreshing revokes the old
  access token. Codes live 10 minutes. Any absolute ``redirect_uri`` is accepted at
  authorisation (no registration is modelled); the code is bound to it.
- Scopes: ``/me`` needs ``user``; store endpoints (``/stores/me/…``, product writes,
  transactions, partner endpoints) need ``store``; a token without it gets 403.
  ``GET /products/{id}`` (and ``/skus``) is public data: another store's active
  product is readable, its inactive one is 404; writes to it are 403.
- Body problems (not JSON, not an object) → 400; unknown extra fields are ignored;
  several validation problems give several ``errors[]`` entries; an unknown method on a
  known path → 405. Creates answer 201. ``limit`` defaults to 10.
- Product ids are short base-36 strings; SKU and transaction ids are integers;
  ``transaction_id`` is ``BL<yymmdd><base-36 id>``. Creates are not idempotent: the same
  ``sku_name`` may be created twice. ``images`` must be attachment ids of the token's
  store: each store has ten pre-provisioned ids (see :meth:`credentials`), and
  ``POST /_sim/attachments`` (or :meth:`add_attachment`) makes more.
- ``GET /transactions`` needs ``context`` ``sale`` (``purchase`` answers an empty list,
  the simulated sellers buy nothing; anything else → 422); ``states[]`` (also accepted
  as ``states``) must be known states; lists are newest first (``created_at`` then
  ``id``, descending); a time without an offset is WIB.
- ``PUT /transactions/{id}/status`` accepts ``accepted`` and ``delivered`` only (the
  latter with non-empty ``state_options.carrier`` and ``tracking_number``).
- Clock-driven lapses: unpaid ``pending`` transactions expire after
  ``pending_expires_after`` seconds (default 24 h) and ``paid`` ones the seller has not
  accepted after ``paid_expires_after`` (default 48 h); ``None`` disables either.
- Stock is the SKU's available quantity. Paying reserves (subtracts) it; a payment that
  finds less stock than ordered is refused and the transaction expires. Rejection,
  expiry, cancellation and refund give a reservation back once.
- Buyer events: pay → ``paid``; cancel → ``expired`` when unpaid, ``cancelled`` when
  paid; ship → ``delivered`` (through ``accepted``, with a generated tracking number,
  standing in for the seller); deliver → ``received``; complete → ``remitted``;
  return → ``refunded`` from ``cancelled``/``rejected`` only (the page's state machine
  has no return after receipt).
- The partner ``User-Agent`` must be ``Bukalapak/TUA(Partner;<partner id>;
  +https://www.bukalapak.com)`` with the app's partner id; ``POST
  /_partners/logistic-bookings`` books a courier for a ``paid`` or ``accepted``
  transaction (by numeric ``id`` or ``transaction_id``) without changing its state.

Faults beyond the shared plumbing: :meth:`expire_access_tokens` (token expiry),
:meth:`reject_refresh_next` (``invalid_grant``), :meth:`envelope_mismatch_next` (HTTP
200 carrying ``meta.http_status`` 4xx/5xx and ``errors[]``), ``mask_phones`` /
:meth:`mask_phone` (``Terkunci``), :meth:`shift_pages_next` (a transaction is
inserted in the window before a later page is served), :meth:`race_next` (the
transaction moves on just before a detail read or status change) and ``closed`` /
:meth:`set_closed`.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import httpx

from simulators.bukalapak.book import Catalogue
from simulators.bukalapak.model import (
    CODE_CLOSED,
    CODE_ILLEGAL_TRANSITION,
    SKU_STATES,
    STATES,
    STOCK_MAX,
    ApiError,
    Product,
    Sku,
    Store,
    Transaction,
    envelope,
    error_envelope,
    is_int,
    iso_wib,
    micros,
    parse_iso,
)
from simulators.bukalapak.oauth import (
    ACCESS_TTL,
    AccessToken,
    Client,
    OAuthError,
    OAuthServer,
    oauth_error_response,
)
from simulators.bukalapak.orders import CARRIERS, OrderDesk
from simulators.bukalapak.render import (
    product_fragment,
    transaction_fragment,
)
from simulators.bukalapak.wire import (
    base36,
    integer_field,
    list_response,
    object_body,
    object_response,
    paging,
    path_int,
    product_json,
    sku_json,
    text_field,
    transaction_json,
)
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.faults import PageFault
from simulators.kit.fragments import FragmentCache
from simulators.kit.ratelimit import RateLimiter
from simulators.kit.routing import Router, SimRequest

API_BASE_URL = "https://api.bukalapak.com"
ACCOUNTS_BASE_URL = "https://accounts.bukalapak.com"
DEFAULT_REDIRECT_URI = "https://ikm-sync.example/oauth/bukalapak/callback"
RATE_PER_SECOND = 10
RATE_BURST = 10
CLOSED_MESSAGE = (
    "Bukalapak no longer sells physical products: adding and changing products is "
    "disabled"
)
_PARTNER_AGENT = re.compile(
    r"^Bukalapak/TUA\(Partner;(?P<partner>[^;()]+);\+https://www\.bukalapak\.com\)$"
)
ApiHandler = Callable[[SimRequest, AccessToken], httpx.Response]


@dataclass
class _QueuedFault:
    endpoint: str | None
    remaining: int
    status: int = 500


class BukalapakSimulator(Simulator):
    """An in-memory Bukalapak (API v4) with OAuth2, products, SKUs and transactions."""

    key: ClassVar[str] = "bukalapak"
    default_port: ClassVar[int | None] = 8703

    def __init__(
        self,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = True,
        buyers: BuyerSettings | None = None,
        webhook_client: httpx.Client | None = None,
        closed: bool = False,
        mask_phones: bool = False,
        pending_expires_after: float | None = 86_400.0,
        paid_expires_after: float | None = 172_800.0,
    ) -> None:
        super().__init__(
            clock=clock,
            seed=seed,
            sleep=sleep,
            rate_limits=rate_limits,
            buyers=buyers,
            webhook_client=webhook_client,
        )
        #: Closed-marketplace mode (post-Feb-2025): product writes and orders refused.
        self.closed = closed
        #: Mask every consignee phone as ``Terkunci``.
        self.mask_phones = mask_phones
        self._expiry = (pending_expires_after, paid_expires_after)
        self._modes = (closed, mask_phones)
        self.limiter = RateLimiter(
            self.clock, RATE_PER_SECOND, RATE_BURST, enabled=rate_limits
        )
        self._init_state()

    # ------------------------------------------------------------------ state

    def _init_state(self) -> None:
        self.stores: dict[int, Store] = {}  # by user id
        self.stores_by_id: dict[int, Store] = {}  # by store id
        self.oauth = OAuthServer(self.rng, self.clock, self.stores)
        self._new_shelves()
        self._render = FragmentCache()
        self.attachments: dict[int, int] = {}
        self.bookings: dict[int, dict[str, Any]] = {}
        self._mismatch: list[_QueuedFault] = []
        self._race: list[_QueuedFault] = []
        rng = self.rng
        self._seq = {
            "user": rng.randrange(10_000_000, 20_000_000),
            "store": rng.randrange(100_000, 200_000),
            "product": rng.randrange(36**5, 2 * 36**5),
            "sku": rng.randrange(100_000_000, 200_000_000),
            "transaction": rng.randrange(1_000_000_000, 2_000_000_000),
            "attachment": rng.randrange(5_000_000, 6_000_000),
            "booking": rng.randrange(700_000, 800_000),
        }
        self.client = Client(
            client_id=self.oauth.secret(24),
            client_secret=self.oauth.secret(32),
            partner_id=f"ikm{rng.randrange(10_000, 99_999)}",
            name="ikm-sync",
        )
        self.oauth.clients[self.client.client_id] = self.client
        self.seller = self._provision("ikm-demo-seller", "Toko IKM Demo")
        self.other_seller = self._provision("other-seller", "Toko Lain")

    def _new_shelves(self) -> None:
        self.catalogue = Catalogue()
        pending_expires_after, paid_expires_after = self._expiry
        self.desk = OrderDesk(
            self.catalogue,
            self.clock,
            self.rng,
            self._next,
            pending_expires_after=pending_expires_after,
            paid_expires_after=paid_expires_after,
        )

    def _next(self, name: str) -> int:
        self._seq[name] += self.rng.randint(1, 9)
        return self._seq[name]

    def _provision(self, username: str, store_name: str) -> Store:
        store = Store(
            user_id=self._next("user"),
            store_id=self._next("store"),
            username=username,
            password=self.oauth.secret(12),
            name=store_name.replace("Toko ", ""),
            email=f"{username}@example.com",
            store_name=store_name,
        )
        self.stores[store.user_id] = store
        self.stores_by_id[store.store_id] = store
        for _ in range(10):
            self.add_attachment(store.store_id)
        return store

    def reset(self) -> None:
        """Forget everything: a freshly seeded marketplace with no faults planned and
        the modes it was constructed with."""
        with self.lock:
            self.rng.seed(self.seed)
            self.faults.clear()
            self.closed, self.mask_phones = self._modes
            self._init_state()

    def credentials(self) -> dict[str, str]:
        """Everything a client needs, and how to obtain tokens.

        Tokens: ``GET {accounts}/oauth/authorize?client_id=…&redirect_uri=…&scope=
        public%20user%20store&response_type=code`` answers 302 straight back to the
        redirect URI with ``code``; ``POST {accounts}/oauth/token`` with
        ``grant_type=authorization_code``, ``client_id``, ``client_secret``, ``code``,
        ``redirect_uri`` gives ``access_token`` and ``refresh_token``. The password
        grant with ``seller_username``/``seller_password`` is a shortcut.
        """
        seller, other = self.seller, self.other_seller
        attachments = [
            str(a) for a, s in self.attachments.items() if s == seller.store_id
        ]
        return {
            "api_base_url": API_BASE_URL,
            "accounts_base_url": ACCOUNTS_BASE_URL,
            "authorize_url": f"{ACCOUNTS_BASE_URL}/oauth/authorize",
            "token_url": f"{ACCOUNTS_BASE_URL}/oauth/token",
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
            "redirect_uri": DEFAULT_REDIRECT_URI,
            "scope": "public user store",
            "partner_id": self.client.partner_id,
            "user_agent": (
                f"Bukalapak/TUA(Partner;{self.client.partner_id};"
                "+https://www.bukalapak.com)"
            ),
            "seller_username": seller.username,
            "seller_password": seller.password,
            "user_id": str(seller.user_id),
            "store_id": str(seller.store_id),
            "attachment_ids": ",".join(attachments),
            "other_seller_username": other.username,
            "other_store_id": str(other.store_id),
            "access_token_expires_in": str(ACCESS_TTL),
            "how_to_authorize": (
                "GET authorize_url?client_id=&redirect_uri=&scope=&response_type=code "
                "redirects at once to redirect_uri?code=; exchange the code at "
                "token_url (grant_type=authorization_code). Add sim_seller="
                "<username> to authorise another provisioned seller."
            ),
        }

    # ------------------------------------------------------------------ routes

    def register_routes(self, router: Router) -> None:
        """The accounts and API endpoints (see the module docstring)."""
        api = self._api
        router.add("GET", "/oauth/authorize", self._oauth_authorize, "oauth.authorize")
        router.add("POST", "/oauth/token", self._oauth_token, "oauth.token")
        router.add("GET", "/me", api(self._me, "user"), "me")
        router.add(
            "GET",
            "/stores/me/products",
            api(self._store_products, "store"),
            "stores.products",
        )
        router.add(
            "POST", "/products", api(self._create_product, "store"), "products.create"
        )
        router.add(
            "GET",
            "/products/{product_id}",
            api(self._product, "public"),
            "products.get",
        )
        router.add(
            "GET",
            "/products/{product_id}/skus",
            api(self._product_skus, "public"),
            "products.skus",
        )
        router.add(
            "PATCH",
            "/products/{product_id}/skus/{sku_id}",
            api(self._update_sku, "store"),
            "skus.update",
        )
        router.add(
            "GET",
            "/transactions",
            api(self._transactions, "store"),
            "transactions.list",
        )
        router.add(
            "GET",
            "/transactions/{txn_id}",
            api(self._transaction, "store"),
            "transactions.get",
        )
        router.add(
            "PUT",
            "/transactions/{txn_id}/status",
            api(self._transaction_status, "store"),
            "transactions.status",
        )
        router.add(
            "POST",
            "/_partners/logistic-bookings",
            api(self._logistic_booking, "store", partner=True),
            "partners.logistic_bookings",
        )
        router.add(
            "GET", "/info/carriers", api(self._carriers, "public"), "info.carriers"
        )
        router.add(
            "POST", "/_sim/attachments", self._sim_attachment, "_sim.attachments"
        )
        router.add("POST", "/_sim/sellers", self._sim_sellers, "_sim.sellers")

    def _oauth_authorize(self, request: SimRequest) -> httpx.Response:
        try:
            return self.oauth.authorize(request)
        except OAuthError as exc:
            return oauth_error_response(exc)

    def _oauth_token(self, request: SimRequest) -> httpx.Response:
        try:
            return self.oauth.token(request)
        except OAuthError as exc:
            return oauth_error_response(exc)

    def _api(
        self, handler: ApiHandler, scope: str, *, partner: bool = False
    ) -> Callable[[SimRequest], httpx.Response]:
        def handle(request: SimRequest) -> httpx.Response:
            try:
                self.desk.run_due()
                token = self.oauth.authenticate(request)
                if not self.limiter.take(token.access_token):
                    return self.rate_limited_response(None)
                mismatch = self._take(self._mismatch, request.endpoint)
                if mismatch is not None:
                    return error_envelope(
                        mismatch.status,
                        f"simulated failure (HTTP {mismatch.status})",
                        http_status=200,
                    )
                self._check_scope(token, scope)
                if partner:
                    self._check_partner(request)
                return handler(request, token)
            except ApiError as exc:
                return exc.response()

        return handle

    @staticmethod
    def _check_scope(token: AccessToken, scope: str) -> None:
        if scope not in token.scopes:
            raise ApiError(403, f"this endpoint needs the {scope!r} scope")

    def _check_partner(self, request: SimRequest) -> None:
        agent = request.headers.get("user-agent", "")
        found = _PARTNER_AGENT.match(agent)
        if found is None:
            raise ApiError(
                403,
                "partner endpoints need the User-Agent "
                "Bukalapak/TUA(Partner;<partner-id>;+https://www.bukalapak.com)",
            )
        if found["partner"] != self.client.partner_id:
            raise ApiError(403, f"unknown partner {found['partner']!r}")

    def _store(self, token: AccessToken) -> Store:
        store = self.stores.get(token.user_id or -1)
        if store is None:
            raise ApiError(403, "this token has no store")
        return store

    @staticmethod
    def _take(queue: list[_QueuedFault], endpoint: str) -> _QueuedFault | None:
        for fault in queue:
            if fault.endpoint in (None, endpoint) and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    queue.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ answers

    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        """A server error in the envelope (``Retry-After`` only when planned)."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        text = httpx.codes.get_reason_phrase(status) or "server error"
        return error_envelope(status, text.lower(), headers=headers)

    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        """HTTP 429 with one ``errors[]`` entry; no ``Retry-After`` unless a fault
        plans one."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        return error_envelope(
            429,
            f"too many requests: at most {RATE_PER_SECOND} requests per second "
            "per access token",
            headers=headers,
        )

    def not_found_response(
        self, request: SimRequest, path_known: bool
    ) -> httpx.Response:
        """404 for an unknown path, 405 for a known path with another method."""
        if path_known:
            return error_envelope(405, f"method {request.method} is not allowed here")
        return error_envelope(404, f"no endpoint {request.path}")

    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        """400: the body is not a JSON object."""
        return error_envelope(400, f"{request.method} {request.path}: {problem}")

    # ------------------------------------------------------------------ rendering

    def _product_json(self, product: Product) -> dict[str, Any]:
        store = self.stores_by_id[product.store_id]
        return product_json(product, self.catalogue.skus_of(product), store.store_name)

    def _product_fragment(self, product: Product) -> bytes:
        skus = self.catalogue.skus_of(product)
        signature: tuple[object, ...] = (product.updated_at,)
        for sku in skus:
            signature += (sku.stock, sku.price, sku.state, sku.updated_at)
        key = ("p", product.id)
        encoded = self._render.find(key, signature)
        if encoded is None:
            store = self.stores_by_id[product.store_id]
            encoded = self._render.keep(
                key, signature, product_fragment(product, skus, store.store_name)
            )
        return encoded

    def _transaction_fragment(self, txn: Transaction) -> bytes:
        masked = self.mask_phones or txn.phone_masked
        key, signature = ("t", txn.id), (txn.state, txn.updated_at, masked)
        encoded = self._render.find(key, signature)
        if encoded is None:
            encoded = self._render.keep(
                key, signature, transaction_fragment(txn, mask_phone=masked)
            )
        return encoded

    # ------------------------------------------------------------------ account

    def _me(self, _request: SimRequest, token: AccessToken) -> httpx.Response:
        store = self._store(token)
        return envelope(
            200,
            {
                "id": store.user_id,
                "username": store.username,
                "name": store.name,
                "email": store.email,
                "store": {"id": store.store_id, "name": store.store_name},
            },
        )

    def _carriers(self, _request: SimRequest, _token: AccessToken) -> httpx.Response:
        return envelope(200, [{"name": name} for name in CARRIERS])

    # ------------------------------------------------------------------ products

    def _store_products(
        self, request: SimRequest, token: AccessToken
    ) -> httpx.Response:
        store = self._store(token)
        offset, limit = paging(request)
        keywords = request.query.get("keywords", "")
        fault = self.faults.page_fault("stores.products", first=offset == 0)
        if fault is PageFault.SHIFT:  # listed meanwhile: newest first, it lands ahead
            number = len(self.catalogue.products) + 1
            self.add_product(
                name=f"Produk IKM baru {number}",
                sku_name=f"BARU-{number}",
                price=10_000,
                stock=1,
                store_id=store.store_id,
            )
        served = max(0, offset - limit) if fault is PageFault.REPEAT else offset
        total, products = self.catalogue.store_page(
            store.store_id, keywords, served, limit
        )
        if fault is PageFault.EMPTY:
            products = []
        return list_response(
            [self._product_fragment(p) for p in products],
            {"total": total, "offset": offset, "limit": limit},
        )

    def _visible_product(self, product_id: str, token: AccessToken) -> Product:
        product = self.catalogue.products.get(product_id)
        if product is None:
            raise ApiError(404, "product not found")
        own = token.user_id is not None and self._store(token).store_id == (
            product.store_id
        )
        if not own and all(
            sku.state != "active" for sku in self.catalogue.skus_of(product)
        ):
            raise ApiError(404, "product not found")
        return product

    def _product(self, request: SimRequest, token: AccessToken) -> httpx.Response:
        product = self._visible_product(request.params["product_id"], token)
        return object_response(self._product_fragment(product))

    def _product_skus(self, request: SimRequest, token: AccessToken) -> httpx.Response:
        product = self._visible_product(request.params["product_id"], token)
        skus = [sku_json(s) for s in self.catalogue.skus_of(product)]
        return envelope(200, skus, meta={"total": len(skus)})

    def _create_product(
        self, request: SimRequest, token: AccessToken
    ) -> httpx.Response:
        store = self._store(token)
        if self.closed:
            raise ApiError(403, CLOSED_MESSAGE, CODE_CLOSED)
        body = object_body(request)
        problems: list[str] = []
        name = text_field(body, "name", problems)
        sku_name = text_field(body, "sku_name", problems)
        category_id = integer_field(
            body, "category_id", 1, None, "a positive integer", problems
        )
        price = integer_field(
            body, "price", 1, None, "an integer greater than 0", problems
        )
        weight = integer_field(
            body, "weight", 1, None, "a positive integer (grams)", problems
        )
        stock = integer_field(
            body, "stock", 0, STOCK_MAX, f"an integer from 0 to {STOCK_MAX}", problems
        )
        description = body.get("description", "")
        if not isinstance(description, str):
            problems.append("description must be a string")
            description = ""
        condition = body.get("condition")
        if condition not in ("new", "used"):
            problems.append("condition must be 'new' or 'used'")
        raw_images = body.get("images")
        images: list[int] = []
        if not isinstance(raw_images, list) or not 1 <= len(raw_images) <= 5:
            problems.append("images must hold 1 to 5 attachment ids")
        else:
            for image in raw_images:
                if is_int(image) and self.attachments.get(image) == store.store_id:
                    images.append(image)
                else:
                    problems.append(f"images: unknown attachment id {image!r}")
        if problems:
            raise ApiError(422, problems[0], more=problems[1:])
        product = self._add_product(
            store.store_id,
            name=name,
            category_id=category_id,
            description=description,
            condition=str(condition),
            weight=weight,
            images=images,
            variants=[
                {
                    "sku_name": sku_name,
                    "variant_name": "",
                    "price": price,
                    "stock": stock,
                    "state": "active",
                }
            ],
        )
        return envelope(201, self._product_json(product))

    def _update_sku(self, request: SimRequest, token: AccessToken) -> httpx.Response:
        store = self._store(token)
        if self.closed:
            raise ApiError(403, CLOSED_MESSAGE, CODE_CLOSED)
        product = self.catalogue.products.get(request.params["product_id"])
        if product is None:
            raise ApiError(404, "product not found")
        if product.store_id != store.store_id:
            raise ApiError(403, "this product belongs to another store")
        sku_id = path_int(request.params["sku_id"], "SKU")
        sku = self.catalogue.skus.get(sku_id)
        if sku is None or sku.product_id != product.id:
            raise ApiError(404, "SKU not found in this product")
        planned = self.faults.item_failure("skus.update", str(sku_id))
        if planned is not None:
            raise ApiError(
                422, planned or f"stock must be an integer from 0 to {STOCK_MAX}"
            )
        body = object_body(request)
        problems: list[str] = []
        if not any(name in body for name in ("stock", "price", "state")):
            problems.append("give at least one of stock, price, state")
        if "stock" in body and (
            not is_int(body["stock"]) or not 0 <= body["stock"] <= STOCK_MAX
        ):
            problems.append(f"stock must be an integer from 0 to {STOCK_MAX}")
        if "price" in body and (not is_int(body["price"]) or body["price"] <= 0):
            problems.append("price must be an integer greater than 0")
        if "state" in body and body["state"] not in SKU_STATES:
            problems.append("state must be 'active' or 'inactive'")
        if problems:
            raise ApiError(422, problems[0], more=problems[1:])
        if "stock" in body:
            sku.stock = body["stock"]
        if "price" in body:
            sku.price = body["price"]
        if "state" in body:
            sku.state = body["state"]
        sku.updated_at = product.updated_at = micros(self.clock.now())
        return envelope(200, sku_json(sku))

    # ------------------------------------------------------------------ transactions

    def _transactions(self, request: SimRequest, token: AccessToken) -> httpx.Response:
        store = self._store(token)
        query = request.query
        problems: list[str] = []
        context = query.get("context")
        if context not in ("sale", "purchase"):
            problems.append("context must be 'sale' or 'purchase'")
        try:
            offset, limit = paging(request)
        except ApiError as exc:
            problems.extend(exc.messages)
            offset, limit = 0, 0
        times: dict[str, int | None] = {"start_time": None, "end_time": None}
        for name in times:
            raw = query.get(name)
            if raw:
                try:
                    times[name] = parse_iso(raw)
                except ValueError:
                    problems.append(f"{name} must be an ISO 8601 time")
        start, end = times["start_time"], times["end_time"]
        if start is not None and end is not None and start > end:
            problems.append("start_time must not be after end_time")
        wanted = [*query.get_list("states[]"), *query.get_list("states")]
        unknown = [s for s in wanted if s not in STATES]
        if unknown:
            problems.append(f"unknown states: {', '.join(unknown)}")
        if problems:
            raise ApiError(422, problems[0], more=problems[1:])
        states = frozenset(wanted) if wanted else None
        if context == "purchase":
            return envelope(
                200, [], meta={"total": 0, "offset": offset, "limit": limit}
            )
        fault = self.faults.page_fault("transactions.list", first=offset == 0)
        if fault is PageFault.SHIFT:  # a new transaction lands in the window
            self.desk.insert_shifting(store.store_id, start, end, states)
        served = max(0, offset - limit) if fault is PageFault.REPEAT else offset
        total, page = self.desk.book.query(
            store.store_id, start, end, states, served, limit
        )
        if fault is PageFault.EMPTY:
            page = []
        return list_response(
            [self._transaction_fragment(txn) for txn in page],
            {"total": total, "offset": offset, "limit": limit},
        )

    def _own_transaction(self, request: SimRequest, token: AccessToken) -> Transaction:
        store = self._store(token)
        txn = self.desk.book.by_id.get(
            path_int(request.params["txn_id"], "transaction")
        )
        if txn is None:
            raise ApiError(404, "transaction not found")
        if txn.store_id != store.store_id:
            raise ApiError(403, "this transaction belongs to another store")
        if self._take(self._race, request.endpoint) is not None:
            self.desk.race_step(txn)
        return txn

    def _transaction(self, request: SimRequest, token: AccessToken) -> httpx.Response:
        txn = self._own_transaction(request, token)
        return object_response(self._transaction_fragment(txn))

    def _transaction_status(
        self, request: SimRequest, token: AccessToken
    ) -> httpx.Response:
        txn = self._own_transaction(request, token)
        body = object_body(request)
        target = body.get("state")
        if target not in ("accepted", "delivered"):
            raise ApiError(422, "state must be 'accepted' or 'delivered'")
        carrier = tracking = ""
        if target == "delivered":
            raw = body.get("state_options")
            options: dict[str, Any] = raw if isinstance(raw, dict) else {}
            problems = []
            for name in ("carrier", "tracking_number"):
                value = options.get(name)
                if not isinstance(value, str) or not value.strip():
                    problems.append(f"state_options.{name} is required")
            if problems:
                raise ApiError(422, problems[0], more=problems[1:])
            carrier = options["carrier"].strip()
            tracking = options["tracking_number"].strip()
        if not self.desk.transition(
            txn, str(target), carrier=str(carrier), tracking=str(tracking)
        ):
            raise ApiError(
                422,
                f"transaction {txn.id} cannot move from {txn.state} to {target}",
                CODE_ILLEGAL_TRANSITION,
            )
        return envelope(200, transaction_json(txn, mask_phone=self.mask_phones))

    def _logistic_booking(
        self, request: SimRequest, token: AccessToken
    ) -> httpx.Response:
        store = self._store(token)
        body = object_body(request)
        problems = [
            f"{name} is required"
            for name in ("courier_selection", "service_type")
            if not isinstance(body.get(name), str) or not body[name].strip()
        ]
        ref = body.get("transaction_id")
        txn = None
        if is_int(ref) or (isinstance(ref, str) and ref.isdigit()):
            txn = self.desk.book.by_id.get(int(str(ref)))
        elif isinstance(ref, str) and ref:
            txn = self.desk.book.by_code.get(ref)
        else:
            problems.insert(0, "transaction_id is required")
        if problems:
            raise ApiError(422, problems[0], more=problems[1:])
        if txn is None:
            raise ApiError(404, "transaction not found")
        if txn.store_id != store.store_id:
            raise ApiError(403, "this transaction belongs to another store")
        if txn.state not in ("paid", "accepted"):
            raise ApiError(
                422,
                f"a courier can be booked for paid or accepted transactions, "
                f"not {txn.state}",
                CODE_ILLEGAL_TRANSITION,
            )
        booking_id = self._next("booking")
        booking = {
            "id": booking_id,
            "transaction_id": txn.id,
            "courier_selection": body["courier_selection"],
            "service_type": body["service_type"],
            "booking_code": f"BK{base36(booking_id).upper()}",
            "state": "booked",
            "created_at": iso_wib(micros(self.clock.now())),
        }
        self.bookings[booking_id] = booking
        return envelope(201, booking)

    def _sim_attachment(self, request: SimRequest) -> httpx.Response:
        raw = request.query.get("store_id", "")
        store_id = int(raw) if raw.isdigit() else self.seller.store_id
        if store_id not in self.stores_by_id:
            return error_envelope(404, "store not found")
        return envelope(201, {"id": self.add_attachment(store_id)})

    def _sim_sellers(self, request: SimRequest) -> httpx.Response:
        body = request.json() if request.body else {}
        if not isinstance(body, dict) or not str(body.get("username") or ""):
            return error_envelope(400, "username is required")
        store = self.add_seller(str(body["username"]), str(body.get("name") or ""))
        attachments = [a for a, s in self.attachments.items() if s == store.store_id]
        return envelope(
            201,
            {
                "user_id": store.user_id,
                "store_id": store.store_id,
                "username": store.username,
                "attachment_ids": attachments,
            },
        )

    # ------------------------------------------------------------------ helpers

    def add_seller(self, username: str, store_name: str = "") -> Store:
        """Another seller with a store (and ten image attachments) of its own; its
        approval is ``sim_seller=<username>`` on the authorisation link."""
        with self.lock:
            for store in self.stores.values():
                if store.username == username:
                    return store
            return self._provision(username, store_name or f"Toko {username}")

    def add_attachment(self, store_id: int | None = None) -> int:
        """A new image attachment id for ``store_id`` (default: the seller's)."""
        attachment = self._next("attachment")
        self.attachments[attachment] = (
            self.seller.store_id if store_id is None else store_id
        )
        return attachment

    def _add_product(
        self,
        store_id: int,
        *,
        name: str,
        category_id: int,
        description: str,
        condition: str,
        weight: int,
        images: list[int],
        variants: Sequence[Mapping[str, Any]],
    ) -> Product:
        now = micros(self.clock.now())
        product = Product(
            id=base36(self._next("product")),
            store_id=store_id,
            name=name,
            category_id=category_id,
            description=description,
            condition=condition,
            weight=weight,
            images=images,
            created_at=now,
            updated_at=now,
        )
        skus = [
            Sku(
                id=self._next("sku"),
                product_id=product.id,
                store_id=store_id,
                sku_name=str(variant["sku_name"]),
                variant_name=str(variant.get("variant_name", "")),
                price=int(variant["price"]),
                stock=int(variant["stock"]),
                state=str(variant.get("state", "active")),
                updated_at=now,
            )
            for variant in variants
        ]
        self.catalogue.add(product, skus)
        return product

    def add_product(
        self,
        *,
        name: str,
        sku_name: str,
        price: int,
        stock: int,
        store_id: int | None = None,
        weight: int = 500,
        category_id: int = 1,
        condition: str = "new",
        state: str = "active",
        variants: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Test and demo helper: put a product on the shelf without an API call.

        ``variants`` (dicts with ``sku_name``, ``variant_name``, ``price``, ``stock``,
        ``state``) replaces the single SKU built from the other arguments. Returns
        the product id."""
        with self.lock:
            store = self.seller.store_id if store_id is None else store_id
            if store not in self.stores_by_id:
                raise ValueError(f"no provisioned store {store}")
            image = next(a for a, s in self.attachments.items() if s == store)
            product = self._add_product(
                store,
                name=name,
                category_id=category_id,
                description="",
                condition=condition,
                weight=weight,
                images=[image],
                variants=variants
                or [
                    {
                        "sku_name": sku_name,
                        "variant_name": "",
                        "price": price,
                        "stock": stock,
                        "state": state,
                    }
                ],
            )
            return product.id

    def create_transaction(
        self,
        sku_id: int,
        quantity: int = 1,
        *,
        buyer: str = "buyer-0001",
        created_at: datetime | None = None,
        paid: bool = False,
    ) -> int:
        """Test helper: a transaction created at ``created_at`` (default now), paid
        at once when ``paid`` (stock reserved; ValueError when it is short)."""
        with self.lock:
            sku = self.catalogue.skus[sku_id]
            txn = self.desk.new_transaction(
                sku,
                quantity,
                buyer,
                None if created_at is None else micros(created_at),
            )
            if paid and not self.desk.transition(txn, "paid", at=txn.created_at):
                raise ValueError(f"SKU {sku_id} has less than {quantity} in stock")
            return txn.id

    def set_transaction_state(self, transaction: int, state: str) -> bool:
        """Test helper: drive a transition not caused by an API call (payment,
        rejection, expiry, cancellation, refund, receipt, remittance); False when
        the state machine does not allow it."""
        with self.lock:
            txn = self.desk.book.by_id[transaction]
            tracking = f"SIM{txn.id}" if state == "delivered" else ""
            return self.desk.transition(
                txn, state, carrier=txn.requested_carrier, tracking=tracking
            )

    # ------------------------------------------------------------------ faults

    def revoke_seller(self) -> None:
        """The seller withdraws the app: the seller's access tokens stop working
        and the refresh tokens are refused (``invalid_grant``)."""
        with self.lock:
            for token in self.oauth.tokens.values():
                if token.user_id == self.seller.user_id:
                    token.revoked = True
            for refresh in self.oauth.refresh_tokens.values():
                if refresh.user_id == self.seller.user_id:
                    refresh.used = True

    def expire_access_tokens(self) -> int:
        """Fault: every live access token expires now (the next call gets 401)."""
        with self.lock:
            return self.oauth.expire_all()

    def reject_refresh_next(self, n: int = 1) -> None:
        """Fault: the next ``n`` refresh grants answer ``invalid_grant``."""
        with self.lock:
            self.oauth.reject_refresh += n

    def envelope_mismatch_next(
        self, n: int = 1, *, endpoint: str | None = None, status: int = 500
    ) -> None:
        """Fault: the next ``n`` matching API calls answer HTTP 200 whose body says
        ``meta.http_status`` = ``status`` with an ``errors[]`` entry (nothing is
        applied)."""
        with self.lock:
            self._mismatch.append(_QueuedFault(endpoint, n, status))

    def shift_pages_next(self, n: int = 1) -> None:
        """Fault: the next ``n`` ``GET /transactions`` calls with ``offset`` > 0 first
        insert a new transaction into the window, shifting the offset pages (the
        shared fault plan's ``shift_page_next`` for ``transactions.list``; its
        ``repeat_page_next`` and ``empty_page_next`` work there and on
        ``stores.products`` too)."""
        self.faults.shift_page_next(n, endpoint="transactions.list")

    def race_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """Fault: the transaction of the next ``n`` detail reads or status changes
        (``transactions.get`` / ``transactions.status``) moves on just before."""
        with self.lock:
            self._race.append(_QueuedFault(endpoint, n))

    def set_closed(self, closed: bool = True) -> None:
        """Switch closed-marketplace mode (post-Feb-2025) on or off."""
        with self.lock:
            self.closed = closed

    def mask_phone(self, transaction: int) -> None:
        """Fault: this transaction's consignee phone is shown as ``Terkunci``."""
        with self.lock:
            self.desk.book.by_id[transaction].phone_masked = True

    # ------------------------------------------------------------------ buyers

    def buyable_listings(self) -> list[tuple[str, int]]:
        """Active SKUs with their stock; none while the marketplace is closed."""
        if self.closed:
            return []
        return [
            (str(sku.id), sku.stock)
            for sku in self.catalogue.skus.values()
            if sku.state == "active" and sku.stock > 0
        ]

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """A ``pending`` transaction for ``quantity`` of SKU ``listing`` (no more than
        it shows); stock is reserved only when it is paid."""
        with self.lock:
            if self.closed or not listing.isdigit() or quantity < 1:
                return None
            sku = self.catalogue.skus.get(int(listing))
            if sku is None or sku.state != "active" or sku.stock < quantity:
                return None
            return str(self.desk.new_transaction(sku, quantity, buyer).id)

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """Apply a buyer's event through the state machine (module docstring)."""
        with self.lock:
            txn = self.desk.book.by_id.get(int(order)) if order.isdigit() else None
            return txn is not None and self._apply_event(txn, event)

    def _apply_event(self, txn: Transaction, event: BuyerEvent) -> bool:
        desk = self.desk
        match event:
            case BuyerEvent.PAY:
                if txn.state != "pending":
                    return False
                if desk.transition(txn, "paid"):
                    return True
                desk.transition(txn, "expired")  # the stock ran out meanwhile
                return False
            case BuyerEvent.CANCEL:
                target = "expired" if txn.state == "pending" else "cancelled"
                return desk.transition(txn, target)
            case BuyerEvent.SHIP:
                if txn.state == "paid":
                    desk.transition(txn, "accepted")
                return desk.transition(
                    txn,
                    "delivered",
                    carrier=txn.requested_carrier,
                    tracking=f"SIM{txn.id}",
                )
            case BuyerEvent.DELIVER:
                return desk.transition(txn, "received")
            case BuyerEvent.COMPLETE:
                return desk.transition(txn, "remitted")
            case BuyerEvent.RETURN:
                return desk.transition(txn, "refunded")

    # ------------------------------------------------------------------ inspection

    def inspect_listings(self) -> list[dict[str, Any]]:
        """One entry per SKU: what the marketplace shows now."""
        self.desk.run_due()
        out = []
        for sku in self.catalogue.skus.values():
            product = self.catalogue.products[sku.product_id]
            out.append(
                {
                    "sku": sku.sku_name,
                    "name": product.name,
                    "price": sku.price,
                    "stock": sku.stock,
                    "status": sku.state,
                    "product_id": product.id,
                    "sku_id": sku.id,
                    "store_id": sku.store_id,
                    "variant_name": sku.variant_name,
                }
            )
        return out

    def inspect_orders(self) -> list[dict[str, Any]]:
        """Every transaction with its state, lines, stock reservation and times."""
        self.desk.run_due()
        return [
            {
                "id": txn.id,
                "transaction_id": txn.transaction_id,
                "store_id": txn.store_id,
                "status": txn.state,
                "created_at": iso_wib(txn.created_at),
                "updated_at": iso_wib(txn.updated_at),
                "buyer": txn.buyer_username,
                "reserved": txn.reserved,
                "total": txn.items_total() + txn.delivery_fee,
                "carrier": txn.carrier,
                "tracking_number": txn.tracking_number,
                "lines": [
                    {
                        "sku": line.sku_name,
                        "sku_id": line.sku_id,
                        "product_id": line.product_id,
                        "quantity": line.quantity,
                        "price": line.price,
                    }
                    for line in txn.lines
                ],
            }
            for txn in self.desk.book.by_id.values()
        ]

    # ------------------------------------------------------------------ state files

    def export_state(self) -> dict[str, Any]:
        """Stores, OAuth clients and tokens, products, SKUs, transactions, bookings,
        counters, lapse deadlines, modes and the random generator."""
        version, internal, gauss = self.rng.getstate()
        return {
            "version": 1,
            "rng": [version, list(internal), gauss],
            "seq": dict(self._seq),
            "client_id": self.client.client_id,
            "seller": self.seller.user_id,
            "other_seller": self.other_seller.user_id,
            "stores": [store.to_dict() for store in self.stores.values()],
            "oauth": self.oauth.export_state(),
            "attachments": [[a, s] for a, s in self.attachments.items()],
            "products": [p.to_dict() for p in self.catalogue.ordered_products()],
            "skus": [sku.to_dict() for sku in self.catalogue.skus.values()],
            "transactions": [txn.to_dict() for txn in self.desk.book.by_id.values()],
            "bookings": list(self.bookings.values()),
            "deadlines": [list(entry) for entry in self.desk.deadlines],
            "closed": self.closed,
            "mask_phones": self.mask_phones,
            "mismatch": [[f.endpoint, f.remaining, f.status] for f in self._mismatch],
            "race": [[f.endpoint, f.remaining, f.status] for f in self._race],
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`export_state` wrote."""
        self._render = FragmentCache()
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self._seq = {k: int(v) for k, v in state["seq"].items()}
        self.stores.clear()
        self.stores_by_id.clear()
        for raw in state["stores"]:
            store = Store(**raw)
            self.stores[store.user_id] = store
            self.stores_by_id[store.store_id] = store
        self.seller = self.stores[state["seller"]]
        self.other_seller = self.stores[state["other_seller"]]
        self.oauth.import_state(state["oauth"])
        self.client = self.oauth.clients[state["client_id"]]
        self.attachments = {int(a): int(s) for a, s in state["attachments"]}
        skus = {raw["id"]: Sku(**raw) for raw in state["skus"]}
        self._new_shelves()
        for raw in state["products"]:
            product = Product(**raw)
            self.catalogue.add(product, [skus[i] for i in product.sku_ids])
        for raw in state["transactions"]:
            self.desk.book.add(Transaction.from_dict(raw))
        self.bookings = {int(b["id"]): dict(b) for b in state["bookings"]}
        self.desk.deadlines = [
            (int(d), int(t), str(s)) for d, t, s in state["deadlines"]
        ]
        heapq.heapify(self.desk.deadlines)
        self.closed = bool(state["closed"])
        self.mask_phones = bool(state["mask_phones"])
        self._mismatch = [_QueuedFault(e, r, s) for e, r, s in state["mismatch"]]
        self._race = [_QueuedFault(e, r, s) for e, r, s in state["race"]]


__all__ = ["ACCOUNTS_BASE_URL", "API_BASE_URL", "BukalapakSimulator"]
