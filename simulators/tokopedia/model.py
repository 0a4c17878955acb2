"""Tokopedia simulator: records, limits, the category fixture and field validation.

Everything here is plain data and pure functions; :mod:`simulators.tokopedia.simulator`
owns the state and the endpoints. Figures cite tokopedia.md (§5, §6, §11).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, TypeGuard

# ---------------------------------------------------------------- envelope texts

OK_MESSAGE = "Your request has been processed successfully"
BAD_REQUEST_MESSAGE = (
    "We could not process your request due to malformed request, please check again"
)
SERVER_ERROR_MESSAGE = "Our server encounters an error, please try again later"
UNAUTHORIZED_MESSAGE = "unauthorized"
FORBIDDEN_MESSAGE = "You don't have access to this shop"
NOT_FOUND_MESSAGE = "The requested resource could not be found"
TOO_MANY_REQUESTS = "ERR_TOO_MANY_REQUEST"
INVALID_SKU = "Invalid SKU."
INVALID_PRODUCT_ID = "Invalid Product ID."
INVALID_STOCK = "Invalid Stock."
INVALID_PRICE = "Invalid Price."

#: Error codes the page does not name, chosen by the simulator [INF].
UNAUTHORIZED_CODE = "OPENAPI_MDLW_401"
RATE_LIMITED_CODE = "OPENAPI_MDLW_429"
RBAC_CODE = "RBAC_MDLW_001"

# ---------------------------------------------------------------- limits (§5, §6, §11)

MAX_CREATE_ROWS = 20
MAX_EDIT_ROWS = 20
MAX_STOCK_ROWS = 100
MAX_ACTIVE_IDS = 25
MAX_PER_PAGE = 100
DEFAULT_PRODUCT_PER_PAGE = 50
ORDER_WINDOW_SECONDS = 259_200
NAME_MAX = 70
SKU_MAX = 50
DESCRIPTION_MAX = 2_000
PRICE_MIN = 100
PRICE_MAX = 100_000_000
STOCK_MAX = 999_999
PICTURES_MAX = 5
DEFAULT_TOKEN_LIFETIME = 1_209_600

# ---------------------------------------------------------------- order statuses (§6.3)

STATUS_NAMES: dict[int, str] = {
    0: "seller cancelled",
    3: "rejected - empty stock",
    5: "cancelled - fraud",
    6: "rejected - auto-cancel, out of stock",
    10: "rejected by seller",
    15: "instant cancel by buyer",
    100: "order created",
    103: "waiting for third-party payment confirmation",
    220: "payment verified, ready to process",
    221: "waiting for partner approval",
    400: "seller accepted",
    450: "waiting for pickup",
    500: "shipped",
    501: "waiting for AWB input",
    520: "invalid AWB",
    530: "buyer asked to correct AWB",
    540: "delivered to pickup point",
    550: "returned to seller",
    600: "delivered",
    601: "buyer opened a complaint",
    690: "fraud review",
    700: "finished",
}
CANCELLED = frozenset({0, 3, 5, 6, 10, 15})
SHIPPING_PROBLEMS = frozenset({501, 520, 530, 540, 550, 601, 690})
NACK_REASON_CODES = frozenset({0, 1, 2, 3, 4, 5, 7, 8})
BUYER_CANCELLABLE = frozenset({100, 103, 220, 221})  # instant cancel (15)
CANCEL_REQUESTABLE = frozenset({400, 450})  # the buyer has to ask

# ---------------------------------------------------------------- product vocabulary

STOCK_STATUSES = ("UNLIMITED", "LIMITED", "EMPTY")
CURRENCIES = {"IDR": 1, "USD": 2}
WEIGHT_UNITS = {"GR": 1, "KG": 2}
CONDITIONS = {"NEW": 1, "USED": 2}
BASIC_STATUS_ACTIVE = 1
BASIC_STATUS_INACTIVE = 3

#: The category fixture: id → (name, parent id). Only leaves take products.
CATEGORIES: dict[int, tuple[str, int | None]] = {
    1759: ("Fashion Pria", None),
    1787: ("Celana", 1759),
    1828: ("Celana Jeans", 1787),
    1829: ("Celana Chino", 1787),
    1790: ("Batik Pria", 1759),
    1791: ("Kemeja Batik", 1790),
    984: ("Rumah Tangga", None),
    985: ("Dekorasi", 984),
    986: ("Hiasan Dinding", 985),
    987: ("Vas Bunga", 985),
    988: ("Anyaman", 984),
    35: ("Makanan & Minuman", None),
    2300: ("Makanan Ringan", 35),
    2301: ("Keripik", 2300),
    2302: ("Kue Kering", 2300),
    2310: ("Kopi", 35),
}
_PARENTS = {parent for _name, parent in CATEGORIES.values() if parent is not None}
LEAF_CATEGORIES = frozenset(cid for cid in CATEGORIES if cid not in _PARENTS)


def category_tree() -> list[dict[str, Any]]:
    """The fixture as nested ``{id, name, child}`` nodes, roots first."""

    def node(cid: int) -> dict[str, Any]:
        children = [c for c, (_n, p) in CATEGORIES.items() if p == cid]
        return {
            "id": cid,
            "name": CATEGORIES[cid][0],
            "child": [node(c) for c in sorted(children)],
        }

    return [node(c) for c, (_n, p) in sorted(CATEGORIES.items()) if p is None]


# ---------------------------------------------------------------- errors


def status_for_code(code: str) -> int:
    """The HTTP status of an ``error_code`` (§11 mapping)."""
    if code == RBAC_CODE:
        return 403
    if code == UNAUTHORIZED_CODE:
        return 401
    if code == RATE_LIMITED_CODE:
        return 429
    if any(part in code for part in ("_API_", "_GRPC_", "_DB_", "_CACHE_")):
        return 500
    return 400


def message_for_status(status: int) -> str:
    """``header.messages`` for an error answered with ``status``."""
    if status == 401:
        return UNAUTHORIZED_MESSAGE
    if status == 403:
        return FORBIDDEN_MESSAGE
    if status == 404:
        return NOT_FOUND_MESSAGE
    if status == 429:
        return TOO_MANY_REQUESTS
    if status >= 500:
        return SERVER_ERROR_MESSAGE
    return BAD_REQUEST_MESSAGE


class ApiError(Exception):
    """An error answer: ``error_code`` and ``reason``, status from the §11 mapping."""

    def __init__(self, code: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = status if status is not None else status_for_code(code)


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class App:
    """A partner app: ``fs_id`` and its client credentials."""

    fs_id: int
    client_id: str
    client_secret: str


@dataclass(slots=True)
class Shop:
    """A shop; ``fs_id`` None means linked to no app; ``migrated``: bound to TikTok."""

    shop_id: int
    fs_id: int | None
    name: str
    domain: str
    warehouse_id: int
    migrated: bool = False


@dataclass(slots=True)
class Token:
    """An access token of one app, valid until ``expires_at`` (Unix seconds)."""

    access_token: str
    fs_id: int
    expires_at: float


@dataclass(slots=True)
class Product:
    """One listing as the marketplace keeps it."""

    product_id: int
    shop_id: int
    name: str
    category_id: int
    price: int
    price_currency: str
    stock_status: str
    weight: float
    weight_unit: str
    condition: str
    min_order: int
    main_stock: int
    url: str
    created_at: int
    updated_at: int
    price_updated_at: int
    reserve_stock: int = 0
    sku: str = ""
    description: str = ""
    dimension: dict[str, float] | None = None
    pictures: list[str] = field(default_factory=list)
    etalase_id: int | None = None
    active: bool = True
    has_order: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def buyable(self) -> bool:
        """Active, not EMPTY: buyers may order from ``main_stock``."""
        return self.active and self.stock_status != "EMPTY"

    @property
    def shown_status(self) -> str:
        """``active`` / ``inactive`` (seller) / ``empty`` (out of stock)."""
        if not self.active:
            return "inactive"
        return "empty" if self.stock_status == "EMPTY" else "active"


@dataclass(slots=True)
class OrderLine:
    """One product line of an order; ``weight`` in kilograms per unit."""

    product_id: int
    sku: str
    name: str
    quantity: int
    price: int
    weight: float


@dataclass(slots=True)
class Buyer:
    """The buyer and the shipping address (plain PII; encryption not simulated)."""

    buyer_id: int
    name: str
    phone: str
    email: str
    address: str
    district: str
    city: str
    province: str
    postal_code: str


@dataclass(slots=True)
class Order:
    """One order, its lines and its history of ``(status, unix time)``."""

    order_id: int
    invoice_ref_num: str
    fs_id: int
    shop_id: int
    warehouse_id: int
    payment_id: int
    buyer: Buyer
    lines: list[OrderLine]
    status: int
    create_time: int
    update_time: int
    shipping_cost: int
    history: list[tuple[int, int]] = field(default_factory=list)
    listed: bool = False  # reached 220: visible to the partner
    restocked: bool = False
    shipping_ref_num: str = ""
    cancel_request_open: bool = False
    cancel_request_reason: str = ""
    cancel_request_time: int = 0

    @property
    def total_price(self) -> int:
        """Sum of the line totals, in rupiah."""
        return sum(line.price * line.quantity for line in self.lines)


# ---------------------------------------------------------------- validation


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (``true`` and ``1.0`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_REQUIRED_ON_CREATE = (
    "name",
    "category_id",
    "price",
    "price_currency",
    "status",
    "weight",
    "weight_unit",
    "condition",
    "min_order",
)
_KEPT_AS_GIVEN = (
    "custom_product_logistics",
    "annotations",
    "is_must_insurance",
    "is_free_return",
    "wholesale",
    "preorder",
    "videos",
    "variant",
)


def _check_choice(
    row: dict[str, Any], name: str, choices: Collection[str], out: dict[str, Any]
) -> str | None:
    value = row[name]
    if not isinstance(value, str) or value not in choices:
        return f"{name} must be one of {', '.join(choices)}"
    out[name] = value
    return None


def _check_field(name: str, row: dict[str, Any], out: dict[str, Any]) -> str | None:
    """Validate one present field into ``out``; the error text, or None."""
    value = row[name]
    match name:
        case "name":
            if not isinstance(value, str) or not value.strip():
                return "name is required"
            if len(value) > NAME_MAX:
                return f"name must be at most {NAME_MAX} characters"
        case "category_id":
            if not is_int(value) or value not in LEAF_CATEGORIES:
                return f"category_id {value!r} is not a leaf category"
        case "price":
            if not is_int(value) or not PRICE_MIN <= value <= PRICE_MAX:
                return f"price must be an integer between {PRICE_MIN} and {PRICE_MAX}"
        case "price_currency":
            return _check_choice(row, name, CURRENCIES, out)
        case "status":
            return _check_choice(row, name, STOCK_STATUSES, out)
        case "weight_unit":
            return _check_choice(row, name, WEIGHT_UNITS, out)
        case "condition":
            return _check_choice(row, name, CONDITIONS, out)
        case "weight":
            if not is_number(value) or value <= 0:
                return "weight must be a positive number"
            value = float(value)
        case "min_order":
            if not is_int(value) or value < 1:
                return "min_order must be an integer of at least 1"
        case "sku":
            if not isinstance(value, str):
                return "sku must be a string"
            if len(value) > SKU_MAX:
                return f"sku must be at most {SKU_MAX} characters"
        case "stock":
            if not is_int(value) or not 0 <= value <= STOCK_MAX:
                return f"stock must be an integer between 0 and {STOCK_MAX}"
        case "description":
            if not isinstance(value, str):
                return "description must be a string"
            if len(value) > DESCRIPTION_MAX:
                return f"description must be at most {DESCRIPTION_MAX} characters"
        case "dimension":
            return _check_dimension(value, out)
        case "pictures":
            return _check_pictures(value, out)
        case "etalase":
            if not isinstance(value, dict) or not is_int(value.get("id")):
                return "etalase must be an object with an integer id"
            value = value["id"]
        case _:
            pass
    out[name] = value
    return None


def _check_dimension(value: object, out: dict[str, Any]) -> str | None:
    if not isinstance(value, dict) or not value:
        if isinstance(value, dict):
            out["dimension"] = None
            return None
        return "dimension must be an object"
    keys = ("height", "width", "length")
    present = [k for k in keys if value.get(k) is not None]
    if not present:
        out["dimension"] = None
        return None
    if len(present) != len(keys):
        return "dimension needs height, width and length together"
    if not all(is_number(value[k]) and value[k] > 0 for k in keys):
        return "dimension values must be positive numbers"
    out["dimension"] = {k: float(value[k]) for k in keys}
    return None


def _check_pictures(value: object, out: dict[str, Any]) -> str | None:
    if not isinstance(value, list) or not 1 <= len(value) <= PICTURES_MAX:
        return f"pictures must hold 1 to {PICTURES_MAX} entries"
    paths: list[str] = []
    for picture in value:
        path = picture.get("file_path") if isinstance(picture, dict) else None
        if not isinstance(path, str) or not path:
            return "each picture needs a file_path"
        paths.append(path)
    out["pictures"] = paths
    return None


_CHECKED = (
    "name",
    "category_id",
    "price",
    "price_currency",
    "status",
    "weight",
    "weight_unit",
    "condition",
    "min_order",
    "sku",
    "stock",
    "description",
    "dimension",
    "pictures",
    "etalase",
)


def validate_product(
    row: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], list[str]]:
    """(normalised known fields, errors) of one create or edit row.

    Absent and ``null`` optional fields are left out; unknown fields are ignored.
    """
    out: dict[str, Any] = {}
    errors: list[str] = []
    if creating:
        errors.extend(
            f"{name} is required"
            for name in _REQUIRED_ON_CREATE
            if row.get(name) is None
        )
    for name in _CHECKED:
        if row.get(name) is None:
            continue
        problem = _check_field(name, row, out)
        if problem is not None and problem not in errors:
            errors.append(problem)
    extra = {name: row[name] for name in _KEPT_AS_GIVEN if row.get(name) is not None}
    if extra:
        out["extra"] = extra
    return out, errors
