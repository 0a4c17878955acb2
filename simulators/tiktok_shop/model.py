"""TikTok Shop simulator: records, limits, error codes and field validation.

Plain data and pure functions; :mod:`simulators.tiktok_shop.state` owns the data and
:mod:`simulators.tiktok_shop.endpoints` the endpoints. Figures cite tiktok-shop.md
(§2, §5, §6, §7, §10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeGuard

# ---------------------------------------------------------------- limits

#: §10: access token 7 days, refresh token 30 days [INF].
ACCESS_TOKEN_LIFETIME = 7 * 86_400
REFRESH_TOKEN_LIFETIME = 30 * 86_400
#: Approval codes are short-lived [INF].
AUTH_CODE_LIFETIME = 600
#: §5: ``page_size`` 1-100; order detail ≤ 50 ids; quantity 0-99,999.
PAGE_SIZE_MIN, PAGE_SIZE_MAX = 1, 100
DETAIL_IDS_MAX = 50
QUANTITY_MIN, QUANTITY_MAX = 0, 99_999
#: §6: IDR prices of Indonesian local shops.
PRICE_MIN, PRICE_MAX = 100, 100_000_000
#: §10: "same placeholders as legacy Tokopedia" [INF].
TITLE_MAX = 70
DESCRIPTION_MAX = 2_000
IMAGES_MAX = 5
SKU_MAX = 50
#: §10: 10 requests a second per shop per endpoint [INF].
DEFAULT_RATE = 10.0
DEFAULT_BURST = 10
#: How many product ids one deactivation takes [INF].
DEACTIVATE_IDS_MAX = 20

# ---------------------------------------------------------------- statuses (§7)

UNPAID = "UNPAID"
ON_HOLD = "ON_HOLD"
AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"
AWAITING_COLLECTION = "AWAITING_COLLECTION"
IN_TRANSIT = "IN_TRANSIT"
DELIVERED = "DELIVERED"
COMPLETED = "COMPLETED"
CANCELLED = "CANCELLED"
ORDER_STATUSES = (
    UNPAID,
    ON_HOLD,
    AWAITING_SHIPMENT,
    PARTIALLY_SHIPPING,
    AWAITING_COLLECTION,
    IN_TRANSIT,
    DELIVERED,
    COMPLETED,
    CANCELLED,
)
#: Product statuses of the 202309 product API [INF beyond ``ACTIVATE``].
ACTIVATE = "ACTIVATE"
SELLER_DEACTIVATED = "SELLER_DEACTIVATED"
PRODUCT_STATUSES = (ACTIVATE, SELLER_DEACTIVATED, "DELETED")
WEIGHT_UNITS = {"GRAM": 1.0, "KILOGRAM": 1000.0}

# ---------------------------------------------------------------- error codes
# §10: non-zero codes are the simulator's own; the HTTP status says the class.

INVALID_PARAMETER = 36009001
SERVER_ERROR = 36009002
RATE_LIMITED = 36009003
PATH_NOT_FOUND = 36009004
INVALID_PAGE_TOKEN = 36009005
INVALID_SIGNATURE = 106001
INVALID_APP_KEY = 106002
INVALID_ACCESS_TOKEN = 105001
EXPIRED_ACCESS_TOKEN = 105002
SHOP_NOT_AUTHORISED = 105005
INVALID_AUTH_CODE = 36004009
INVALID_REFRESH_TOKEN = 36004010
PRODUCT_NOT_FOUND = 12052048
DUPLICATE_SELLER_SKU = 12052049
SKU_NOT_FOUND = 12052050
SKU_NOT_LIVE = 12052230
QUANTITY_OUT_OF_RANGE = 12052231
PRICE_OUT_OF_RANGE = 12052232
ITEM_REFUSED = 12052299  # a planned per-SKU failure (``faults.fail_items``)
ORDER_NOT_FOUND = 21011001

_STATUS_BY_CODE = {
    SERVER_ERROR: 500,
    RATE_LIMITED: 429,
    PATH_NOT_FOUND: 404,
    INVALID_SIGNATURE: 401,
    INVALID_APP_KEY: 401,
    INVALID_ACCESS_TOKEN: 401,
    EXPIRED_ACCESS_TOKEN: 401,
    SHOP_NOT_AUTHORISED: 403,
    PRODUCT_NOT_FOUND: 404,
}


class ApiError(Exception):
    """An error answer: a non-zero ``code``, a message and the HTTP status."""

    def __init__(self, code: int, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS_BY_CODE.get(code, 400)


# ---------------------------------------------------------------- category fixture

#: Leaf categories the shop may list in (id → name) [INF: a fixture].
CATEGORIES: dict[str, str] = {
    "600001": "Kopi",
    "600002": "Teh",
    "600010": "Kain Tenun",
    "600011": "Kemeja Batik",
    "600020": "Anyaman",
    "600030": "Makanan Ringan",
}

# ---------------------------------------------------------------- records


@dataclass(slots=True)
class App:
    """The partner app: its key, secret, service id and registered redirect."""

    app_key: str
    app_secret: str
    service_id: str
    redirect_uri: str
    webhook_url: str = ""


@dataclass(slots=True)
class Shop:
    """A shop of a seller; ``cipher`` is its handle on shop-scoped calls."""

    shop_id: str
    name: str
    cipher: str
    code: str
    warehouse_id: str
    seller: str  # the seller's open_id
    region: str = "ID"


@dataclass(slots=True)
class Seller:
    """A seller account; ``authorised`` is False once it withdrew the app."""

    open_id: str
    name: str
    authorised: bool = True


@dataclass(slots=True)
class Grant:
    """An access token and its refresh token, of one seller (Unix seconds)."""

    access_token: str
    refresh_token: str
    open_id: str
    access_expires_at: int
    refresh_expires_at: int


@dataclass(slots=True)
class Sku:
    """One SKU of a product: price in whole rupiah, stock in one warehouse."""

    sku_id: str
    seller_sku: str
    price: int
    quantity: int
    warehouse_id: str


@dataclass(slots=True)
class Product:
    """One product of a shop."""

    product_id: str
    shop_id: str
    title: str
    description: str
    category_id: str
    images: list[str]
    weight_grams: float
    skus: list[Sku]
    status: str
    create_time: int
    update_time: int

    @property
    def live(self) -> bool:
        """Buyable, and its SKUs' stock may be updated (§5)."""
        return self.status == ACTIVATE


@dataclass(slots=True)
class LineItem:
    """One unit bought: TikTok lists every unit as its own line item [SDK]."""

    line_id: str
    product_id: str
    sku_id: str
    seller_sku: str
    product_name: str
    price: int


@dataclass(slots=True)
class Order:
    """One order and its history of ``(status, unix time)``."""

    order_id: str
    shop_id: str
    buyer: str
    lines: list[LineItem]
    status: str
    create_time: int
    update_time: int
    shipping_fee: int
    paid_time: int | None = None
    tracking_number: str = ""
    restocked: bool = False
    history: list[tuple[str, int]] = field(default_factory=list)

    @property
    def sub_total(self) -> int:
        """The lines' total, in rupiah."""
        return sum(line.price for line in self.lines)


# ---------------------------------------------------------------- validation


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (``true`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole_rupiah(value: object) -> int | None:
    """A price ``amount`` (a string of digits, as the API sends money) as rupiah."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def check_price(raw: object) -> tuple[int | None, str]:
    """(rupiah, "") of a ``price`` object ``{amount, currency}``, or (None, why)."""
    if not isinstance(raw, dict):
        return None, "price must be an object with amount and currency"
    if raw.get("currency") != "IDR":
        return None, "price.currency must be IDR"
    amount = whole_rupiah(raw.get("amount"))
    if amount is None or not PRICE_MIN <= amount <= PRICE_MAX:
        return None, (
            f"price.amount must be a whole number of rupiah from {PRICE_MIN} "
            f"to {PRICE_MAX}"
        )
    return amount, ""


def check_quantity(raw: object) -> tuple[int | None, str]:
    """(quantity, "") of one inventory entry's ``quantity``, or (None, why)."""
    if not is_int(raw) or not QUANTITY_MIN <= raw <= QUANTITY_MAX:
        return None, (
            f"quantity must be an integer from {QUANTITY_MIN} to {QUANTITY_MAX}"
        )
    return raw, ""


def _check_weight(raw: object) -> tuple[float | None, str]:
    if not isinstance(raw, dict) or raw.get("unit") not in WEIGHT_UNITS:
        return None, "package_weight must be {value, unit: GRAM or KILOGRAM}"
    try:
        value = float(str(raw.get("value")))
    except ValueError:
        return None, "package_weight.value must be a number as a string"
    if not value > 0:
        return None, "package_weight.value must be positive"
    return value * WEIGHT_UNITS[str(raw["unit"])], ""


def _check_images(raw: object) -> tuple[list[str] | None, str]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= IMAGES_MAX:
        return None, f"main_images must hold 1 to {IMAGES_MAX} images"
    uris = [image.get("uri") if isinstance(image, dict) else None for image in raw]
    if not all(isinstance(uri, str) and uri for uri in uris):
        return None, "each main_images entry needs a uri"
    return [str(uri) for uri in uris], ""


def check_content(
    body: dict[str, Any], *, creating: bool
) -> tuple[dict[str, Any], list[str]]:
    """(normalised content fields, errors) of a create, edit or partial edit body:
    ``title``, ``description``, ``category_id``, ``main_images``,
    ``package_weight``. On create the first four are required [INF]."""
    out: dict[str, Any] = {}
    errors: list[str] = []
    required = ("title", "description", "category_id", "package_weight")
    if creating:
        errors.extend(f"{name} is required" for name in required if name not in body)
    if "title" in body:
        title = body["title"]
        if not isinstance(title, str) or not title.strip():
            errors.append("title must be a non-empty string")
        elif len(title) > TITLE_MAX:
            errors.append(f"title must be at most {TITLE_MAX} characters")
        else:
            out["title"] = title
    if "description" in body:
        text = body["description"]
        if not isinstance(text, str) or len(text) > DESCRIPTION_MAX:
            errors.append(
                f"description must be a string of at most {DESCRIPTION_MAX} characters"
            )
        else:
            out["description"] = text
    if "category_id" in body:
        if body["category_id"] not in CATEGORIES:
            errors.append(f"category_id {body['category_id']!r} is not a leaf category")
        else:
            out["category_id"] = body["category_id"]
    if "main_images" in body:
        images, problem = _check_images(body["main_images"])
        if images is None:
            errors.append(problem)
        else:
            out["images"] = images
    if "package_weight" in body:
        grams, problem = _check_weight(body["package_weight"])
        if grams is None:
            errors.append(problem)
        else:
            out["weight_grams"] = grams
    return out, errors


def check_new_skus(raw: object) -> tuple[list[dict[str, Any]], list[str]]:
    """The SKUs of a create or full edit: ``[{seller_sku, price, inventory}]``;
    normalised ``{id?, seller_sku, price, quantity, warehouse_id?}`` and errors."""
    if not isinstance(raw, list) or not raw:
        return [], ["skus must be a non-empty list"]
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, sku in enumerate(raw):
        where = f"skus[{index}]"
        if not isinstance(sku, dict):
            errors.append(f"{where} must be an object")
            continue
        seller_sku = sku.get("seller_sku", "")
        if not isinstance(seller_sku, str) or len(seller_sku) > SKU_MAX:
            errors.append(f"{where}.seller_sku must be a string of ≤ {SKU_MAX}")
            continue
        price, problem = check_price(sku.get("price"))
        if price is None:
            errors.append(f"{where}.{problem}")
            continue
        inventory = sku.get("inventory")
        if not isinstance(inventory, list) or len(inventory) != 1:
            errors.append(f"{where}.inventory must hold one warehouse entry")
            continue
        entry = inventory[0] if isinstance(inventory[0], dict) else {}
        quantity, problem = check_quantity(entry.get("quantity"))
        if quantity is None:
            errors.append(f"{where}.inventory[0].{problem}")
            continue
        out.append(
            {
                "id": sku.get("id"),
                "seller_sku": seller_sku,
                "price": price,
                "quantity": quantity,
                "warehouse_id": entry.get("warehouse_id"),
            }
        )
    return out, errors
