"""Tokopedia simulator: the JSON shapes of products, orders and webhooks.

Pure functions from records to the dictionaries the API answers with (§5.7, §6.1,
§6.2, §7.3), mixed key casing included (``productID``, ``Name``, ``LastUpdateUnix``).
List pages write the same items straight to JSON (:mod:`simulators.tokopedia.
encoded`); these dictionaries are what they must equal.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from math import isfinite
from typing import Any

from simulators.tokopedia.model import (
    BASIC_STATUS_ACTIVE,
    BASIC_STATUS_INACTIVE,
    CANCELLED,
    CATEGORIES,
    CONDITIONS,
    CURRENCIES,
    WEIGHT_UNITS,
    Order,
    Product,
    Shop,
    is_int,
)

WIB = timezone(timedelta(hours=7), "WIB")
SHOP_HOST = "https://www.tokopedia.com"
_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def roman(number: int) -> str:
    """``24`` → ``XXIV``."""
    out = []
    for value, letters in _ROMAN:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def invoice_number(order_id: int, created: int) -> str:
    """``INV/<WIB date>/<year in roman>/<month in roman>/<order id>``."""
    day = datetime.fromtimestamp(created, WIB)
    return f"INV/{day:%Y%m%d}/{roman(day.year % 100)}/{roman(day.month)}/{order_id}"


def iso(timestamp: int | None) -> str | None:
    """Unix seconds as an RFC 3339 UTC string (None stays None)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(name: str) -> str:
    """The URL slug of a product name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "produk"


def stock_wording(stock: int) -> str:
    """The shop page's stock phrase."""
    if stock <= 0:
        return "Stok habis"
    if stock < 20:
        return "<b>Stok hampir habis!</b> Tersisa &lt;20"
    return "Stok tersedia"


def _price(product: Product) -> dict[str, Any]:
    return {
        "value": product.price,
        "currency": CURRENCIES[product.price_currency],
        "LastUpdateUnix": product.price_updated_at,
        "idr": product.price,
    }


def product_info(product: Product, shop: Shop) -> dict[str, Any]:
    """One item of ``GET …/product/info`` (§5.7), its blocks in the order and with
    the key casing of the Get Product page's sample (``Name`` in ``basic``, ``menu``
    and ``categoryTree``; ``GMStats``, ``OriginalURL``, ``StartDate``)."""
    stock = product.main_stock + product.reserve_stock
    basic_status = BASIC_STATUS_ACTIVE if product.buyable else BASIC_STATUS_INACTIVE
    return {
        "basic": {
            "productID": product.product_id,
            "shopID": product.shop_id,
            "status": basic_status,
            "Name": product.name,
            "condition": CONDITIONS[product.condition],
            "childCategoryID": product.category_id,
            "shortDesc": product.description[:140],
        },
        "price": _price(product),
        "weight": {"value": product.weight, "unit": WEIGHT_UNITS[product.weight_unit]},
        "stock": {"value": stock, "stockWording": stock_wording(stock)},
        "main_stock": product.main_stock,
        "reserve_stock": product.reserve_stock,
        "variant": {"isParent": False, "isVariant": False, "childrenID": []},
        "menu": {"id": product.etalase_id or 0, "Name": ""},
        "preorder": {},
        "extraAttribute": {
            "minOrder": product.min_order,
            "lastUpdateCategory": product.created_at,
            "isEligibleCOD": False,
            "isOnCampaign": product.reserve_stock > 0,
        },
        "wholesale": wholesale_items(
            wholesale_tiers(product), CURRENCIES[product.price_currency]
        ),
        "categoryTree": category_path(product.category_id),
        "pictures": picture_items(product.pictures),
        "GMStats": dict(NO_GM_STATS),
        "stats": {"countView": 0},
        "other": {
            "sku": product.sku,
            "url": product.url,
            "mobileURL": mobile_url(product.url),
        },
        "campaign": dict(NO_CAMPAIGN),
        "volume": volume(product.dimension),
        "warehouses": [
            {
                "productID": product.product_id,
                "warehouseID": shop.warehouse_id,
                "price": _price(product),
                "stock": {"useStock": True, "value": stock},
            }
        ],
    }


#: ``GMStats`` of a product: transaction counts are not simulated.
NO_GM_STATS: dict[str, int] = {
    "transactionSuccess": 0,
    "transactionReject": 0,
    "countSold": 0,
}
#: ``campaign`` of a product in no campaign: Go's zero time, as the samples show it.
ZERO_TIME = "0001-01-01T00:00:00Z"
NO_CAMPAIGN: dict[str, str] = {"StartDate": ZERO_TIME, "EndDate": ZERO_TIME}
#: ``maxQuantity`` of the last wholesale tier (the SDK fixture's figure) [INF].
WHOLESALE_MAX_QUANTITY = 10_000


def category_path(category_id: int) -> list[dict[str, Any]]:
    """A product info item's ``categoryTree``: the root first, the leaf last."""
    path: list[int] = []
    current: int | None = category_id
    while current is not None:
        path.append(current)
        current = CATEGORIES[current][1]
    out: list[dict[str, Any]] = []
    crumbs = f"{SHOP_HOST}/p"
    for cid in reversed(path):
        name = CATEGORIES[cid][0]
        crumbs = f"{crumbs}/{slug(name)}"
        out.append({"id": cid, "Name": name, "title": name, "breadcrumbURL": crumbs})
    return out


def picture_items(pictures: list[str]) -> list[dict[str, Any]]:
    """A product info item's ``pictures``: ``filePath`` is the folder and
    ``fileName`` the file of the picture's address, the ``…URL`` fields the address
    itself (the simulator does not re-host pictures); the first picture is the
    primary one (``status`` 2) [INF]; sizes are not measured (0)."""
    items: list[dict[str, Any]] = []
    for index, url in enumerate(pictures):
        folder, _, name = _path(url).rpartition("/")
        items.append(
            {
                "picID": index + 1,
                "fileName": name,
                "filePath": folder,
                "status": 2 if index == 0 else 1,
                "OriginalURL": url,
                "ThumbnailURL": url,
                "width": 0,
                "height": 0,
                "URL300": url,
            }
        )
    return items


def _path(url: str) -> str:
    """The path of ``url`` without its leading slash, query or fragment."""
    rest = url.partition("://")[2] if "://" in url else url
    path = rest.partition("/")[2] if "://" in url else rest.lstrip("/")
    return path.partition("?")[0].partition("#")[0]


def wholesale_tiers(product: Product) -> tuple[tuple[int, int], ...]:
    """The ``(min_qty, price)`` tiers of the create/edit ``wholesale`` (§5.1), by
    quantity; entries without an integer ``min_qty`` and ``price`` are left out."""
    given = product.extra.get("wholesale")
    if not given or not isinstance(given, list):
        return ()
    tiers = {
        (row["min_qty"], row["price"])
        for row in given
        if isinstance(row, dict)
        and is_int(row.get("min_qty"))
        and is_int(row.get("price"))
    }
    return tuple(sorted(tiers))


def wholesale_items(
    tiers: tuple[tuple[int, int], ...], currency: int
) -> list[dict[str, Any]]:
    """A product info item's ``wholesale``: each tier up to the next one's quantity."""
    items: list[dict[str, Any]] = []
    for index, (quantity, price) in enumerate(tiers):
        following = tiers[index + 1][0] - 1 if index + 1 < len(tiers) else None
        items.append(
            {
                "price": {"value": price, "currency": currency, "idr": price},
                "minQuantity": quantity,
                "maxQuantity": WHOLESALE_MAX_QUANTITY
                if following is None
                else max(quantity, following),
            }
        )
    return items


def volume(dimension: dict[str, float] | None) -> dict[str, int]:
    """A product info item's ``volume``: whole centimetres, zero when not given."""
    if not dimension:
        return {"length": 0, "width": 0, "height": 0}
    return {side: _whole(dimension[side]) for side in ("length", "width", "height")}


def _whole(value: float) -> int:
    return round(value) if isfinite(value) else 0


def mobile_url(url: str) -> str:
    """The mobile site's address of a product page."""
    return url.replace("://www.", "://m.", 1)


def _address(order: Order, name_key: str) -> dict[str, Any]:
    buyer = order.buyer
    return {
        name_key: buyer.name,
        "phone": buyer.phone,
        "address": {
            "address_full": (
                f"{buyer.address}, {buyer.district}, {buyer.city}, "
                f"{buyer.province}, {buyer.postal_code}"
            ),
            "district": buyer.district,
            "city": buyer.city,
            "province": buyer.province,
            "country": "Indonesia",
            "postal_code": buyer.postal_code,
            "district_id": 0,
            "city_id": 0,
            "province_id": 0,
            "geo": "",
        },
    }


def _logistics() -> dict[str, Any]:
    return {
        "shipping_id": 1,
        "district_id": 0,
        "city_id": 0,
        "province_id": 0,
        "geo": "",
        "shipping_agency": "JNE",
        "service_type": "Reguler",
    }


def _amounts(order: Order) -> dict[str, int]:
    total = order.total_price
    return {
        "ttl_product_price": total,
        "shipping_cost": order.shipping_cost,
        "insurance_cost": 0,
        "ttl_amount": total + order.shipping_cost,
        "voucher_amount": 0,
        "toppoints_amount": 0,
    }


def _lines(order: Order, name_key: str) -> list[dict[str, Any]]:
    return [
        {
            "id": line.product_id,
            name_key: line.name,
            "quantity": line.quantity,
            "notes": "",
            "weight": line.weight,
            "total_weight": round(line.weight * line.quantity, 6),
            "price": line.price,
            "total_price": line.price * line.quantity,
            "currency": "Rp",
            "sku": line.sku,
        }
        for line in order.lines
    ]


def order_row(order: Order) -> dict[str, Any]:
    """One row of ``GET /v2/order/list`` (§6.1)."""
    cancelled = order.status in CANCELLED
    products = _lines(order, "name")
    for product in products:
        product["is_wholesale"] = False
    buyer = order.buyer
    return {
        "fs_id": str(order.fs_id),
        "order_id": order.order_id,
        "is_cod_mitra": False,
        "accept_partial": False,
        "invoice_ref_num": order.invoice_ref_num,
        "products": products,
        "products_fulfilled": [
            {
                "product_id": line.product_id,
                "quantity_deliver": 0 if cancelled else line.quantity,
                "quantity_reject": line.quantity if cancelled else 0,
            }
            for line in order.lines
        ],
        "device_type": "",
        "buyer": {
            "id": buyer.buyer_id,
            "name": buyer.name,
            "phone": buyer.phone,
            "email": buyer.email,
        },
        "shop_id": order.shop_id,
        "payment_id": order.payment_id,
        "recipient": _address(order, "name"),
        "logistics": _logistics(),
        "amt": _amounts(order),
        "dropshipper_info": {},
        "voucher_info": {"voucher_code": "", "voucher_type": 0},
        "order_status": order.status,
        "warehouse_id": order.warehouse_id,
        "fulfill_by": 0,
        "create_time": order.create_time,
        "custom_fields": {"awb": order.shipping_ref_num},
    }


def _time_of(order: Order, statuses: frozenset[int]) -> int | None:
    for status, at in order.history:
        if status in statuses:
            return at
    return None


def order_detail(order: Order, shop: Shop) -> dict[str, Any]:
    """``GET /v2/fs/{fs_id}/order`` (§6.2)."""
    buyer = order.buyer
    cancelled = order.status in CANCELLED
    return {
        "order_id": order.order_id,
        "buyer_id": buyer.buyer_id,
        "seller_id": order.shop_id,
        "payment_id": order.payment_id,
        "is_affiliate": False,
        "is_fulfillment": False,
        "order_warehouse": {"warehouse_id": order.warehouse_id, "fulfill_by": 0},
        "order_status": order.status,
        "invoice_number": order.invoice_ref_num,
        "open_amt": order.total_price + order.shipping_cost,
        "item_price": order.total_price,
        "buyer_info": {
            "buyer_id": buyer.buyer_id,
            "buyer_fullname": buyer.name,
            "buyer_email": buyer.email,
            "buyer_phone": buyer.phone,
        },
        "shop_info": {
            "shop_id": shop.shop_id,
            "shop_name": shop.name,
            "shop_domain": shop.domain,
        },
        "order_info": {
            "order_detail": [
                {
                    "order_detail_id": order.order_id * 10 + index,
                    "product_id": line.product_id,
                    "product_name": line.name,
                    "product_price": line.price,
                    "subtotal_price": line.price * line.quantity,
                    "weight": line.weight,
                    "total_weight": round(line.weight * line.quantity, 6),
                    "quantity": line.quantity,
                    "quantity_deliver": 0 if cancelled else line.quantity,
                    "quantity_reject": line.quantity if cancelled else 0,
                    "currency_id": 1,
                    "sku": line.sku,
                }
                for index, line in enumerate(order.lines)
            ],
            "order_history": [
                {
                    "action_by": "system",
                    "hist_status_code": status,
                    "timestamp": iso(at),
                }
                for status, at in reversed(order.history)
            ],
            "shipping_info": {
                "logistic_name": "JNE",
                "logistic_service": "Reguler",
                "shipping_price": order.shipping_cost,
                "awb": order.shipping_ref_num,
            },
            "destination": {
                "receiver_name": buyer.name,
                "receiver_phone": buyer.phone,
                "address_street": buyer.address,
                "address_district": buyer.district,
                "address_city": buyer.city,
                "address_province": buyer.province,
                "address_postal": buyer.postal_code,
            },
        },
        "cancel_request_info": (
            {
                "reason": order.cancel_request_reason,
                "create_time": iso(order.cancel_request_time),
                "status": 0,
            }
            if order.cancel_request_open
            else None
        ),
        "create_time": iso(order.create_time),
        "update_time": iso(order.update_time),
        "payment_date": iso(_time_of(order, frozenset({220}))),
        "shipping_date": iso(_time_of(order, frozenset({500}))),
        "delivered_date": iso(_time_of(order, frozenset({600}))),
    }


def status_payload(order: Order) -> dict[str, Any]:
    """``order_status`` (and ``order_cancellation`` / request) payload (§7.3)."""
    return {
        "fs_id": order.fs_id,
        "order_status": order.status,
        "order_id": order.order_id,
        "shop_id": order.shop_id,
        "warehouse_id": order.warehouse_id,
        "product_details": _lines(order, "Name"),
    }


def notification_payload(order: Order) -> dict[str, Any]:
    """``order_notification`` payload: the full order (§7.3); PII in plain text."""
    buyer = order.buyer
    return {
        "fs_id": order.fs_id,
        "order_id": order.order_id,
        "invoice_ref_num": order.invoice_ref_num,
        "products": _lines(order, "Name"),
        "customer": {
            "id": buyer.buyer_id,
            "Name": buyer.name,
            "phone": buyer.phone,
            "email": buyer.email,
        },
        "recipient": _address(order, "Name"),
        "shop_id": order.shop_id,
        "warehouse_id": order.warehouse_id,
        "logistics": _logistics(),
        "amt": _amounts(order),
        "create_time": order.create_time,
        "order_status": order.status,
        "accept_partial": False,
        "device_type": "",
        "custom_fields": {"awb": order.shipping_ref_num},
    }
