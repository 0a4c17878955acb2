"""The Shopee simulator's core: records, fixtures, errors, the gateway and pushes.

Everything the endpoint modules (``products``, ``orders``, ``partner``)
share lives here: the dataclasses the state is made of, the category, attribute and
logistics fixtures, the :class:`ApiError` every handler raises, the checks every call
passes (signature, timestamp, token, shop link, burst limit, daily quota), the response
envelopes, and the push sender with its lost-push store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from simulators.kit.base import Simulator
from simulators.kit.fragments import FragmentCache
from simulators.kit.ratelimit import RateLimiter
from simulators.kit.routing import Handler, SimRequest, json_response
from simulators.kit.webhooks import Delivery
from simulators.shopee.payload import JSON, NestedJson

API_PREFIX = "/api/v2/"
TIMESTAMP_WINDOW = 300
ACCESS_TOKEN_SECONDS = 4 * 3600
REFRESH_TOKEN_SECONDS = 30 * 86400
CODE_SECONDS = 600
AUTHORISATION_SECONDS = 365 * 86400
LOST_PUSH_SECONDS = 3 * 86400
ORDER_WINDOW_SECONDS = 15 * 86400
UTC8 = timezone(timedelta(hours=8))
#: Suffix of a route kind whose answer has top-level fields (no ``response``).
TOP_LEVEL = "+top"
#: The signature kind of an API signed either way: with the public base string, or
#: as a shop API with ``access_token`` and ``shop_id`` (§4.11).
PUBLIC_OR_SHOP = "public|shop"
#: Modules whose endpoint errors carry a module prefix (``product.error_param``).
PREFIXED_MODULES = frozenset({"product", "order", "logistics"})

ITEM_STATUSES = (
    "NORMAL",
    "BANNED",
    "UNLIST",
    "REVIEWING",
    "SELLER_DELETE",
    "SHOPEE_DELETE",
)
DELETED = frozenset({"SELLER_DELETE", "SHOPEE_DELETE"})

ORDER_STATUSES = (
    "UNPAID",
    "READY_TO_SHIP",
    "PROCESSED",
    "RETRY_SHIP",
    "SHIPPED",
    "TO_CONFIRM_RECEIVE",
    "IN_CANCEL",
    "CANCELLED",
    "TO_RETURN",
    "COMPLETED",
    "INVOICE_PENDING",
    "PENDING",
)
#: The §10.1 state machine (rule 12).
TRANSITIONS: dict[str, frozenset[str]] = {
    "UNPAID": frozenset({"READY_TO_SHIP", "IN_CANCEL"}),
    "READY_TO_SHIP": frozenset({"PROCESSED", "IN_CANCEL"}),
    "PROCESSED": frozenset({"SHIPPED", "RETRY_SHIP"}),
    "RETRY_SHIP": frozenset({"PROCESSED"}),
    "SHIPPED": frozenset({"TO_CONFIRM_RECEIVE"}),
    "TO_CONFIRM_RECEIVE": frozenset({"COMPLETED", "TO_RETURN"}),
    "IN_CANCEL": frozenset({"CANCELLED"}),
    "CANCELLED": frozenset(),
    "COMPLETED": frozenset(),
    "TO_RETURN": frozenset(),
}
#: Statuses in which an order holds its units as reserved stock.
HOLDING = frozenset({"UNPAID", "READY_TO_SHIP", "PROCESSED", "RETRY_SHIP", "IN_CANCEL"})
CANCEL_REASONS = frozenset(
    {"OUT_OF_STOCK", "CUSTOMER_REQUEST", "UNDELIVERABLE_AREA", "COD_NOT_SUPPORTED"}
)

#: Push codes (§6.2) the simulator sends.
PUSH_SHOP_AUTH = 1
PUSH_SHOP_DEAUTH = 2
PUSH_ORDER_STATUS = 3
PUSH_TRACKING_NO = 4
PUSH_RESERVED_STOCK = 8
PUSH_AUTH_EXPIRY = 12
PARTNER_LEVEL_PUSHES = frozenset({PUSH_SHOP_AUTH, PUSH_SHOP_DEAUTH, PUSH_AUTH_EXPIRY})
LIVE_PUSH_STATUSES = ("Normal", "Warning", "Suspended")

#: §11 placeholders served by ``get_item_limit`` (tests may change them).
DEFAULT_ITEM_LIMITS: dict[str, Any] = {
    "price_limit": {"min_limit": 100, "max_limit": 150_000_000},
    "stock_limit": {"min_limit": 0, "max_limit": 999_999},
    "item_name_length_limit": {"min_limit": 10, "max_limit": 255},
    "item_image_count_limit": {"min_limit": 1, "max_limit": 9},
    "item_description_length_limit": {"min_limit": 20, "max_limit": 3000},
    "tier_variation_name_length_limit": {"min_limit": 1, "max_limit": 20},
    "tier_variation_option_length_limit": {"min_limit": 1, "max_limit": 20},
    "item_count_limit": {"max_limit": 1000},
    "dts_limit": {
        "days_to_ship_limit": {"min_limit": 1, "max_limit": 30},
        "non_pre_order_days_to_ship": 3,
    },
    "weight_limit": {"weight_mandatory": True},
    "dimension_limit": {"dimension_mandatory": False},
}


@dataclass(frozen=True)
class Category:
    """A category fixture: leaf or parent, blocked or not, mandatory attributes."""

    category_id: int
    parent_category_id: int
    name: str
    has_children: bool = False
    blocked: bool = False
    dimension_mandatory: bool = False
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An attribute fixture of a category (``values``: (value_id, name) pairs)."""

    attribute_id: int
    name: str
    mandatory: bool
    values: tuple[tuple[int, str], ...] = ()


_BRAND = Attribute(100_010, "Merek", True, ((0, "NoBrand"), (1_146_111, "Kopi Flores")))
_SHELF = Attribute(100_011, "Masa Penyimpanan", False, ((2_001, "6 Bulan"),))
_MATERIAL = Attribute(
    100_020, "Bahan", True, ((3_001, "Katun"), (3_002, "Sutra"), (3_003, "Kayu Jati"))
)
_ORIGIN = Attribute(100_021, "Asal Daerah", False, ((4_001, "Sumatera Barat"),))

#: Category fixtures [INF]: ids and names are the simulator's own.
CATEGORIES: dict[int, Category] = {
    c.category_id: c
    for c in (
        Category(100_000, 0, "Makanan & Minuman", has_children=True),
        Category(100_001, 100_000, "Kopi", attributes=(_BRAND, _SHELF)),
        Category(100_002, 0, "Kain & Batik", attributes=(_MATERIAL, _ORIGIN)),
        Category(
            100_003,
            0,
            "Kerajinan Kayu",
            dimension_mandatory=True,
            attributes=(_MATERIAL,),
        ),
        Category(100_004, 0, "Anyaman & Tikar", attributes=(_MATERIAL,)),
        Category(100_009, 0, "Obat Keras", blocked=True),
    )
}

#: Logistics channel fixtures [INF]: (logistic_id, name).
LOGISTICS: dict[int, str] = {
    8_003: "J&T Express",
    8_005: "SiCepat REG",
    8_002: "JNE Reguler",
}

#: The headers of a JSON answer (each response copies them).
_JSON_HEADERS = httpx.Headers({"content-type": "application/json"})

_MASK_KEYS = ("name", "phone", "town", "district", "zipcode", "full_address")


@dataclass
class Shop:
    """A shop: its link to the partner and its test switches."""

    shop_id: int
    shop_name: str
    merchant_id: int = 0
    linked: bool = True
    auth_time: int = 0
    expire_time: int = 0
    holiday_mode: bool = False
    fbs: bool = False
    warehouses: list[str] = field(default_factory=list)


@dataclass
class Merchant:
    """A merchant (main account) that owns shops."""

    merchant_id: int
    main_account_id: int
    merchant_name: str
    linked: bool = True
    auth_time: int = 0
    expire_time: int = 0


@dataclass
class Grant:
    """One access token and the refresh token issued with it."""

    access_token: str
    refresh_token: str
    shop_ids: list[int]
    merchant_ids: list[int]
    created: int
    access_expires: int
    refresh_expires: int
    revoked: bool = False
    refresh_spent: bool = False


@dataclass
class AuthCode:
    """A one-time authorisation code for a shop or a main account."""

    code: str
    shop_id: int
    main_account_id: int
    expires: int
    used: bool = False


@dataclass(slots=True)
class Model:
    """One sellable unit of an item: a model, or model 0 of an item without one."""

    model_id: int
    model_sku: str
    price: int
    stock: dict[str, int]
    tier_index: list[int] = field(default_factory=list)
    reserved: int = 0
    promo_reserved: int = 0
    stock_locked: bool = False
    price_locked: bool = False
    status: str = "MODEL_NORMAL"

    @property
    def total_stock(self) -> int:
        """The seller stock over every location."""
        return sum(self.stock.values())

    @property
    def reserved_total(self) -> int:
        """Units reserved by open orders and by promotions."""
        return self.reserved + self.promo_reserved

    @property
    def available(self) -> int:
        """Units a buyer can order now."""
        return max(self.total_stock - self.reserved_total, 0)


@dataclass(slots=True)
class Item:
    """A listing (``add_item``) with its models."""

    item_id: int
    shop_id: int
    item_name: str
    description: str
    category_id: int
    item_sku: str
    item_status: str
    weight: float
    image_ids: list[str]
    logistic_info: list[dict[str, Any]]
    attribute_list: list[dict[str, Any]]
    create_time: int
    update_time: int
    models: dict[int, Model]
    dimension: dict[str, Any] | None = None
    condition: str = "NEW"
    brand: dict[str, Any] | None = None
    pre_order: dict[str, Any] = field(
        default_factory=lambda: {"is_pre_order": False, "days_to_ship": 2}
    )
    wholesale: list[dict[str, Any]] = field(default_factory=list)
    gtin_code: str = ""
    item_dangerous: int = 0
    tier_variation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_model(self) -> bool:
        """Whether the item has variants (models other than model 0)."""
        return bool(self.tier_variation)


@dataclass(slots=True)
class OrderLine:
    """One line of an order."""

    order_item_id: int
    item_id: int
    model_id: int
    item_name: str
    item_sku: str
    model_name: str
    model_sku: str
    quantity: int
    price: int
    weight: float


@dataclass(slots=True)
class Order:
    """A buyer's order."""

    order_sn: str
    shop_id: int
    seq: int
    status: str
    create_time: int
    update_time: int
    buyer_user_id: int
    buyer_username: str
    lines: list[OrderLine]
    recipient: dict[str, str]
    payment_method: str
    days_to_ship: int
    pending: bool = False
    pay_time: int = 0
    cancel_by: str = ""
    cancel_reason: str = ""
    cancel_due: int = 0
    package_number: str = ""
    tracking_number: str = ""
    tracking_hidden_calls: int = 0
    shipping_carrier: str = ""
    message_to_seller: str = ""

    def shown_status(self, pending_requested: bool) -> str:
        """The status as the API shows it (``PENDING`` only when asked for)."""
        if self.pending and pending_requested and self.status == "UNPAID":
            return "PENDING"
        return self.status


@dataclass
class LostPush:
    """A push that could not be delivered, kept for ``get_lost_push_message``."""

    message_id: int
    shop_id: int
    code: int
    timestamp: int
    data: str
    consumed: bool = False


class TimeIndex:
    """Orders of one shop sorted by one time field: ``(time, seq, order_sn)``."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int, str]] = []

    def add(self, at: int, seq: int, order_sn: str) -> None:
        """Insert one order at its time."""
        insort(self.keys, (at, seq, order_sn))

    def remove(self, at: int, seq: int, order_sn: str) -> None:
        """Remove one order (no-op when absent)."""
        key = (at, seq, order_sn)
        index = bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            del self.keys[index]


class ApiError(Exception):
    """A Shopee error answer: ``error`` name, ``message``, optional ``response``."""

    def __init__(
        self,
        error: str,
        message: str,
        *,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message
        self.response = response


_FORBIDDEN_STATUS = frozenset(
    {
        "error_sign",
        "error_auth",
        "invalid_acceess_token",
        "invalid_access_token",
        "shop_no_linked",
        "invalid_code",
        "refresh_token_expired",
        "error_partner_key_expired",
        "source_ip_undeclared",
    }
)
_THROTTLE_STATUS = frozenset({"error_rate_limit", "error_limit"})
_SERVER_STATUS = frozenset({"error_inner", "error_server", "error_system_busy"})


def http_status_for(error: str) -> int:
    """The §11 HTTP status of an error name (module prefix ignored)."""
    name = error.rsplit(".", 1)[-1]
    if name in _FORBIDDEN_STATUS:
        return 403
    if name in _THROTTLE_STATUS:
        return 429
    if name in _SERVER_STATUS:
        return 500
    return 400


def sign(partner_key: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` under ``partner_key`` (UTF-8)."""
    return hmac.digest(
        partner_key.encode("utf-8"), message.encode("utf-8"), "sha256"
    ).hex()


def to_int(value: object) -> int | None:
    """``value`` as an int: ints (not bools), integral floats, digit strings."""
    if type(value) is str and value.isascii() and value.isdigit():  # the usual case
        return int(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def is_number(value: object) -> bool:
    """True for JSON numbers (ints and floats, not bools)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def module_of(path: str) -> str:
    """The API module of a path (``/api/v2/product/add_item`` → ``product``)."""
    if path.startswith(API_PREFIX):
        return path[len(API_PREFIX) :].split("/", 1)[0] or "common"
    return "common"


def encode_cursor(at: int, seq: int, salt: str = "") -> str:
    """An opaque cursor for the position after ``(at, seq)``."""
    raw = f"c1|{at}|{seq}|{salt}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    """The position in a cursor, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    parts = raw.split("|")
    if len(parts) != 4 or parts[0] != "c1":
        return None
    at, seq = to_int(parts[1]), to_int(parts[2])
    if at is None or seq is None:
        return None
    return at, seq


def mask(value: str) -> str:
    """Mask all but the first and last character with ``*`` (§11 format)."""
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(address: dict[str, str]) -> dict[str, str]:
    """A recipient address with its personal fields masked."""
    return {
        key: mask(value) if key in _MASK_KEYS else value
        for key, value in address.items()
    }


@dataclass
class Ctx:
    """Who is calling: the checked partner, and the shop or merchant if any."""

    partner_id: int
    kind: str
    endpoint: str
    module: str
    shop: Shop | None = None
    merchant: Merchant | None = None


ApiHandler = Callable[[Ctx, SimRequest], "dict[str, Any] | httpx.Response"]


class SimCore(Simulator):
    """State and plumbing shared by the Shopee simulator's endpoint groups."""

    # --- set in ShopeeSimulator.__init__ -----------------------------------------
    partner_id: int
    partner_key: str
    shops: dict[int, Shop]
    merchants: dict[int, Merchant]
    grants_by_access: dict[str, Grant]
    grants_by_refresh: dict[str, Grant]
    codes: dict[str, AuthCode]
    images: set[str]
    items: dict[int, Item]
    items_by_status: dict[tuple[int, str], list[int]]
    items_by_sku: dict[tuple[int, str], list[int]]
    orders: dict[str, Order]
    order_index: dict[tuple[int, str], TimeIndex]
    #: Encoded ``get_item_base_info`` entries by item_id, ``get_order_detail``
    #: entries by order_sn, and the JSON of nested item values (emptied with the
    #: state they were rendered from).
    item_fragments: FragmentCache
    order_fragments: FragmentCache
    nested_json: NestedJson
    cancel_due: list[tuple[int, str]]
    item_limits: dict[str, Any]
    limiter: RateLimiter
    daily_quota: int | None
    quota_day: str
    quota_used: int
    quota_blocked_day: str
    errors_with_http_200: bool
    common_prefix: bool
    mask_pii: bool
    tracking_lag_calls: int
    buyer_cancel_seconds: int
    push_url: str
    push_codes: set[int]
    push_blocked: set[int]
    live_push_status: str
    suspended_time: int
    lost_pushes: list[LostPush]
    push_bodies: dict[bytes, tuple[int, int, int]]
    counters: dict[str, int]

    # ------------------------------------------------------------------ basics

    def now(self) -> int:
        """The simulated time in Unix seconds."""
        return self.clock.timestamp()

    def next_id(self, counter: str) -> int:
        """The next value of a named id counter."""
        self.counters[counter] += 1
        return self.counters[counter]

    def hex_token(self, bits: int = 128) -> str:
        """A random lowercase hex string drawn from the seeded generator."""
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def common_error(self, name: str) -> str:
        """A gateway error name, with the ``common.`` prefix when switched on."""
        return f"common.{name}" if self.common_prefix else name

    # ------------------------------------------------------------------ responses

    def status(self, code: int) -> int:
        """``code``, or 200 when every error is sent with HTTP 200."""
        return 200 if self.errors_with_http_200 else code

    def ok(self, payload: dict[str, Any]) -> httpx.Response:
        """The standard success envelope."""
        return self.ok_encoded(JSON.encode(payload).encode())

    def ok_encoded(self, payload: bytes) -> httpx.Response:
        """The standard success envelope around an already encoded ``response``
        object: ``{"error": "", "message": "", "warning": "", "request_id": …,
        "response": payload}`` as :func:`~simulators.kit.fragments.encode` writes
        it."""
        # A request id is lowercase hex: its JSON string is the id in quotes.
        body = b"".join(
            (
                b'{"error":"","message":"","warning":"","request_id":"',
                self.hex_token().encode(),
                b'","response":',
                payload,
                b"}",
            )
        )
        return httpx.Response(200, content=body, headers=_JSON_HEADERS)

    def fail(
        self, exc: ApiError, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """The standard error envelope, with the §11 HTTP status."""
        body: dict[str, Any] = {
            "error": exc.error,
            "message": exc.message,
            "warning": "",
            "request_id": self.hex_token(),
        }
        if exc.response is not None:
            body["response"] = exc.response
        return json_response(self.status(http_status_for(exc.error)), body, headers)

    # ------------------------------------------------------------------ gateway

    def _require(self, query: httpx.QueryParams, name: str, missing: str) -> str:
        value = query.get(name)
        if not isinstance(value, str) or value == "":
            raise ApiError(self.common_error("error_param"), missing)
        return value

    def gate(self, req: SimRequest, kind: str) -> Ctx:
        """Check the common parameters, the signature and the token (§2, §10.1).

        Kind :data:`PUBLIC_OR_SHOP` (``media_space/upload_image``, §4.11) is checked
        as a shop call when the query carries ``access_token`` or ``shop_id``, and as
        a public call otherwise."""
        query = req.query
        if kind == PUBLIC_OR_SHOP:
            shop_level = query.get("access_token") or query.get("shop_id")
            kind = "shop" if shop_level else "public"
        partner_raw = self._require(
            query, "partner_id", "There is no partner_id in query."
        )
        partner_id = to_int(partner_raw)
        if partner_id is None:
            raise ApiError(self.common_error("error_param"), "Invalid partner_id.")
        ts_raw = self._require(query, "timestamp", "no timestamp")
        timestamp = to_int(ts_raw)
        if timestamp is None:
            raise ApiError(self.common_error("error_param"), "Invalid timestamp")
        signature = self._require(query, "sign", "There is no sign in query")
        token = ""
        entity = 0
        if kind == "shop":
            token = self._require(
                query, "access_token", "There is no access_token in query."
            )
            entity_raw = self._require(
                query, "shop_id", "There is no shop_id in query."
            )
            parsed = to_int(entity_raw)
            if parsed is None or not 0 <= parsed <= 4_294_967_295:
                raise ApiError(
                    self.common_error("error_param"),
                    "shop_id is invalid, should be an integer between 0 and "
                    "4294967295.",
                )
            entity = parsed
        elif kind == "merchant":
            token = self._require(
                query, "access_token", "There is no access_token in query."
            )
            entity_raw = self._require(
                query, "merchant_id", "There is no merchant_id in query."
            )
            parsed = to_int(entity_raw)
            if parsed is None:
                raise ApiError(self.common_error("error_param"), "Invalid merchant_id.")
            entity = parsed
        now = self.now()
        if abs(now - timestamp) > TIMESTAMP_WINDOW:
            raise ApiError(self.common_error("error_param"), "Timestamp is expired.")
        if partner_id != self.partner_id:
            raise ApiError(
                self.common_error("error_auth"), "Invalid partner_id or shopid."
            )
        base = f"{partner_id}{req.path}{timestamp}"
        if kind != "public":
            base += f"{token}{entity}"
        if not hmac.compare_digest(sign(self.partner_key, base), signature):
            raise ApiError(self.common_error("error_sign"), "Wrong sign.")
        ctx = Ctx(partner_id, kind, req.endpoint, module_of(req.path))
        if kind == "shop":
            shop = self.shops.get(entity)
            if shop is None:
                raise ApiError(
                    self.common_error("error_auth"), "Invalid partner_id or shopid."
                )
            if not self.shop_linked(shop):
                raise ApiError(
                    self.common_error("shop_no_linked"),
                    "Partner and shop has no linked.",
                )
            grant = self.grants_by_access.get(token)
            if (
                grant is None
                or not self._grant_live(grant)
                or entity not in (grant.shop_ids)
            ):
                raise ApiError(self.common_error("error_auth"), "Invalid access_token.")
            ctx.shop = shop
        elif kind == "merchant":
            merchant = self.merchants.get(entity)
            if merchant is None:
                raise ApiError(
                    self.common_error("error_auth"), "Invalid partner_id or shopid."
                )
            if not (merchant.linked and now < merchant.expire_time):
                raise ApiError(
                    self.common_error("shop_no_linked"),
                    "Partner and shop has no linked.",
                )
            grant = self.grants_by_access.get(token)
            if (
                grant is None
                or not self._grant_live(grant)
                or entity not in (grant.merchant_ids)
            ):
                raise ApiError(self.common_error("error_auth"), "Invalid access_token.")
            ctx.merchant = merchant
        return ctx

    def _grant_live(self, grant: Grant) -> bool:
        return not grant.revoked and self.now() < grant.access_expires

    def shop_linked(self, shop: Shop) -> bool:
        """Whether the shop's authorisation for the partner is in force."""
        return shop.linked and self.now() < shop.expire_time

    def meter(self, ctx: Ctx) -> None:
        """Burst limit per (shop, endpoint), then the optional daily quota (§7)."""
        if ctx.shop is not None:
            owner: tuple[str, int] = ("shop", ctx.shop.shop_id)
        elif ctx.merchant is not None:
            owner = ("merchant", ctx.merchant.merchant_id)
        else:
            owner = ("partner", ctx.partner_id)
        if not self.limiter.take((owner, ctx.endpoint)):
            raise ApiError(
                self.common_error("error_rate_limit"),
                "Too many requests. You have reached the rate limit. "
                "Please try again later.",
            )
        day = datetime.fromtimestamp(self.now(), UTC8).date().isoformat()
        if day != self.quota_day:
            self.quota_day, self.quota_used = day, 0
        if self.quota_blocked_day == day or (
            self.daily_quota is not None and self.quota_used >= self.daily_quota
        ):
            raise ApiError(
                self.common_error("error_limit"),
                "The total API call number made by your APP has reached the daily "
                "API call limit, please try again after 00: 00 (UTC+08:00)",
            )
        self.quota_used += 1

    def api(self, kind: str, handler: ApiHandler) -> Handler:
        """Wrap an endpoint: gateway checks, metering, envelope and errors."""

        def handle(req: SimRequest) -> httpx.Response:
            self.process_due()
            try:
                ctx = self.gate(req, kind)
                self.meter(ctx)
                payload = handler(ctx, req)
            except ApiError as exc:
                return self.fail(exc)
            if isinstance(payload, httpx.Response):
                return payload
            return self.ok(payload)

        return handle

    def token_api(self, handler: ApiHandler) -> Handler:
        """Wrap a token endpoint: fields at top level, no ``response`` object."""
        return self.top_level_api("public", handler)

    def top_level_api(self, kind: str, handler: ApiHandler) -> Handler:
        """Wrap an endpoint whose reference sample puts its fields at top level,
        beside ``error``/``message``/``request_id``, with no ``response`` object
        (the token APIs, ``shop/get_shop_info``, ``public/get_shops_by_partner``)."""

        def handle(req: SimRequest) -> httpx.Response:
            self.process_due()
            try:
                ctx = self.gate(req, kind)
                self.meter(ctx)
                payload = handler(ctx, req)
            except ApiError as exc:
                body = {
                    "error": exc.error,
                    "message": exc.message,
                    "request_id": self.hex_token(),
                }
                return json_response(self.status(http_status_for(exc.error)), body)
            if isinstance(payload, httpx.Response):
                return payload
            body = {
                **payload,
                "request_id": self.hex_token(),
                "error": "",
                "message": "",
            }
            return json_response(200, body)

        return handle

    def body(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        """The JSON object body of a POST (errors: ``<module>.error_param``)."""
        data = req.json()
        if not isinstance(data, dict):
            raise ApiError(
                self.err(ctx.module, "error_param"),
                "Wrong parameters, detail: the body must be a JSON object.",
            )
        return data

    def require_params(
        self, ctx: Ctx, req: SimRequest, *names: tuple[str, str]
    ) -> None:
        """Refuse a call missing a required query parameter, as the reference's
        error samples show it: ``product.error_param`` "invalid field Offset: value
        must  Not Null" (``names``: the parameter and its name in that message;
        the double space is Shopee's)."""
        for name, shown in names:
            if req.query.get(name, "") == "":
                raise ApiError(
                    self.err(ctx.module, "error_param"),
                    f"invalid field {shown}: value must  Not Null",
                )

    def param_error(self, ctx: Ctx, detail: str) -> ApiError:
        """``error_param`` "Wrong parameters, detail: …" (module-prefixed)."""
        return ApiError(
            self.err(ctx.module, "error_param"), f"Wrong parameters, detail: {detail}"
        )

    def err(self, module: str, name: str) -> str:
        """An endpoint error name: ``product.``, ``order.`` and ``logistics.``
        errors carry their module prefix, as the reference shows them (§3.2)."""
        return f"{module}.{name}" if module in PREFIXED_MODULES else name

    def shop_of(self, ctx: Ctx) -> Shop:
        """The checked shop of a shop-level call."""
        if ctx.shop is None:
            raise ApiError(
                self.common_error("error_auth"), "Invalid partner_id or shopid."
            )
        return ctx.shop

    # ------------------------------------------------------------------ hooks

    def process_due(self) -> None:
        """Apply clock-driven changes that are due (defined by the orders part)."""

    # ------------------------------------------------------------------ pushes

    def push(self, shop_id: int, code: int, data: dict[str, Any]) -> None:
        """Send one push to the configured callback, signed as §6.4 says."""
        if not self.push_url or code not in self.push_codes:
            return
        if shop_id in self.push_blocked:
            return
        now = self.now()
        message: dict[str, Any] = {"code": code, "timestamp": now, "data": data}
        if code not in PARTNER_LEVEL_PUSHES:
            message = {"shop_id": shop_id, **message}
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        if self.live_push_status == "Suspended":
            self._store_lost(shop_id, code, body)
            return
        self.push_bodies[body] = (shop_id, code, now)
        delivery = self.webhooks.send(
            self.push_url,
            body,
            {
                "Content-Type": "application/json",
                "Authorization": self.push_signature(self.push_url, body),
            },
            "Authorization",
        )
        if not any(held is delivery for held in self.webhooks.held):
            self.push_bodies.pop(body, None)

    def push_signature(self, url: str, body: bytes) -> str:
        """hex HMAC-SHA256(partner_key, url + "|" + body)."""
        return hmac.new(
            self.partner_key.encode("utf-8"),
            url.encode("utf-8") + b"|" + body,
            hashlib.sha256,
        ).hexdigest()

    def on_push_failed(self, delivery: Delivery) -> None:
        """A delivery failed after its retries: keep it as a lost push."""
        known = self.push_bodies.pop(delivery.body, None)
        if known is not None:
            self._store_lost(known[0], known[1], delivery.body)

    def _store_lost(self, shop_id: int, code: int, body: bytes) -> None:
        self.lost_pushes.append(
            LostPush(
                self.next_id("lost_push"),
                shop_id,
                code,
                self.now(),
                body.decode("utf-8"),
            )
        )

    # ------------------------------------------------------------------ items

    def index_item(self, item: Item) -> None:
        """Add an item to the status and SKU indexes."""
        insort(
            self.items_by_status.setdefault((item.shop_id, item.item_status), []),
            item.item_id,
        )
        if item.item_sku:
            insort(
                self.items_by_sku.setdefault((item.shop_id, item.item_sku), []),
                item.item_id,
            )

    def unindex_item(self, item: Item) -> None:
        """Remove an item from the status and SKU indexes."""
        for key in ((item.shop_id, item.item_status),):
            _remove_sorted(self.items_by_status.get(key), item.item_id)
        if item.item_sku:
            _remove_sorted(
                self.items_by_sku.get((item.shop_id, item.item_sku)), item.item_id
            )

    def reserved_changed(self, item: Item, model: Model) -> None:
        """Push code 8 for a change of reserved stock (§11 payload)."""
        item.update_time = self.now()
        self.push(
            item.shop_id,
            PUSH_RESERVED_STOCK,
            {
                "item_id": item.item_id,
                "model_id": model.model_id,
                "update_time": item.update_time,
            },
        )


def _remove_sorted(values: list[int] | None, value: int) -> None:
    if not values:
        return
    index = bisect_left(values, value)
    if index < len(values) and values[index] == value:
        del values[index]


def iso(timestamp: int) -> str:
    """A Unix timestamp as an ISO 8601 UTC string (inspection output)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
