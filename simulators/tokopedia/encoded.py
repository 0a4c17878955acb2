"""Tokopedia simulator: list items written straight to JSON, and kept until they change.

Product info and order list pages are mostly encoding: ``json.dumps`` of an item built
as dictionaries (:func:`~simulators.tokopedia.payloads.product_info`,
:func:`~simulators.tokopedia.payloads.order_row`) takes about 15 µs. The encoders
here write the very same bytes from the record with one ``%``-format (a few µs), and
:class:`~simulators.kit.fragments.FragmentCache` keeps each item, keyed on its id and a
signature of everything the item shows that can change, so an unchanged record is not
encoded again.

The dictionaries stay the reference (the tests compare both byte for byte); a record
holding a value the format would not write as ``json.dumps`` does (a number that is
not a plain ``int``, a weight that is not a finite ``float``, text that is not a
``str``) is encoded from its dictionary instead.
"""

from __future__ import annotations

from collections.abc import Hashable
from json.encoder import encode_basestring
from math import isfinite
from operator import attrgetter

from simulators.kit.fragments import encode
from simulators.tokopedia.model import (
    BASIC_STATUS_ACTIVE,
    BASIC_STATUS_INACTIVE,
    CANCELLED,
    CONDITIONS,
    CURRENCIES,
    WEIGHT_UNITS,
    Order,
    Product,
    Shop,
)
from simulators.tokopedia.payloads import (
    NO_CAMPAIGN,
    NO_GM_STATS,
    category_path,
    mobile_url,
    order_row,
    picture_items,
    product_info,
    stock_wording,
    volume,
    wholesale_items,
    wholesale_tiers,
)

_INT: frozenset[type] = frozenset({int})
_FLOAT: frozenset[type] = frozenset({float})


class _NotPlainError(Exception):
    """A value the format would not write as ``json.dumps`` does."""


def _plain(values: tuple[object, ...], kind: frozenset[type]) -> bool:
    """Every value is exactly of the one type in ``kind`` (no ``bool`` for ``int``)."""
    return set(map(type, values)) <= kind


def _text(value: object) -> str:
    """A JSON string, as ``json.dumps(…, ensure_ascii=False)`` writes it."""
    if type(value) is not str:
        raise _NotPlainError
    return encode_basestring(value)


# ---------------------------------------------------------------- product info items

#: Every field a product info item shows, but the product id (the key), the
#: warehouse, the dimension, the wholesale tiers and the pictures (copied into the
#: signature).
_PRODUCT_SHOWN = attrgetter(
    "main_stock",
    "reserve_stock",
    "price",
    "price_updated_at",
    "active",
    "stock_status",
    "name",
    "sku",
    "description",
    "category_id",
    "condition",
    "weight",
    "weight_unit",
    "min_order",
    "price_currency",
    "etalase_id",
    "url",
    "shop_id",
    "created_at",
)


def product_signature(product: Product, shop: Shop) -> Hashable:
    """Everything :func:`product_info` shows of ``product`` besides its id."""
    dimension = product.dimension
    return (
        *_PRODUCT_SHOWN(product),
        shop.warehouse_id,
        tuple(dimension.values()) if dimension else None,
        wholesale_tiers(product),
        *product.pictures,
    )


_PRICE = '{"value":%d,"currency":%d,"LastUpdateUnix":%d,"idr":%d}'
_PRODUCT_ITEM = (
    '{"basic":{"productID":%d,"shopID":%d,"status":%d,"Name":%s,"condition":%d,'
    '"childCategoryID":%d,"shortDesc":%s},"price":%s,"weight":{"value":%r,"unit":%d},'
    '"stock":{"value":%d,"stockWording":%s},"main_stock":%d,"reserve_stock":%d,'
    '"variant":{"isParent":false,"isVariant":false,"childrenID":[]},'
    '"menu":{"id":%d,"Name":""},"preorder":{},"extraAttribute":{"minOrder":%d,'
    '"lastUpdateCategory":%d,"isEligibleCOD":false,"isOnCampaign":%s},'
    '"wholesale":%s,"categoryTree":%s,"pictures":%s,"GMStats":%s,'
    '"stats":{"countView":0},"other":{"sku":%s,"url":%s,"mobileURL":%s},'
    '"campaign":%s,"volume":{"length":%d,"width":%d,"height":%d},'
    '"warehouses":[{"productID":%d,"warehouseID":%d,"price":%s,'
    '"stock":{"useStock":true,"value":%d}}]}'
)
_GM_STATS = encode(NO_GM_STATS).decode()
_CAMPAIGN = encode(NO_CAMPAIGN).decode()
_CATEGORY_PATHS: dict[int, str] = {}  # category id → its encoded categoryTree


def _category_path_json(category_id: int) -> str:
    found = _CATEGORY_PATHS.get(category_id)
    if found is None:
        found = _CATEGORY_PATHS[category_id] = encode(
            category_path(category_id)
        ).decode()
    return found


def encode_product_info(product: Product, shop: Shop) -> bytes:
    """``encode(product_info(product, shop))``, written directly."""
    try:
        return _product_info_text(product, shop).encode()
    except _NotPlainError:
        return encode(product_info(product, shop))


def _product_info_text(product: Product, shop: Shop) -> str:
    ints = (
        product.product_id,
        product.shop_id,
        product.category_id,
        product.price,
        product.price_updated_at,
        product.main_stock,
        product.reserve_stock,
        product.etalase_id or 0,
        product.min_order,
        product.created_at,
        shop.warehouse_id,
    )
    weight = product.weight
    if not (_plain(ints, _INT) and type(weight) is float and isfinite(weight)):
        raise _NotPlainError
    stock = product.main_stock + product.reserve_stock
    price = _PRICE % (
        product.price,
        CURRENCIES[product.price_currency],
        product.price_updated_at,
        product.price,
    )
    pictures = product.pictures
    tiers = wholesale_tiers(product)
    sides = volume(product.dimension)
    return _PRODUCT_ITEM % (
        product.product_id,
        product.shop_id,
        BASIC_STATUS_ACTIVE if product.buyable else BASIC_STATUS_INACTIVE,
        _text(product.name),
        CONDITIONS[product.condition],
        product.category_id,
        _text(product.description[:140]),
        price,
        weight,
        WEIGHT_UNITS[product.weight_unit],
        stock,
        _text(stock_wording(stock)),
        product.main_stock,
        product.reserve_stock,
        product.etalase_id or 0,
        product.min_order,
        product.created_at,
        "true" if product.reserve_stock > 0 else "false",
        encode(wholesale_items(tiers, CURRENCIES[product.price_currency])).decode()
        if tiers
        else "[]",
        _category_path_json(product.category_id),
        encode(picture_items(pictures)).decode() if pictures else "[]",
        _GM_STATS,
        _text(product.sku),
        _text(product.url),
        _text(mobile_url(product.url)),
        _CAMPAIGN,
        sides["length"],
        sides["width"],
        sides["height"],
        product.product_id,
        shop.warehouse_id,
        price,
        stock,
    )


# ---------------------------------------------------------------- order list rows

#: What an order list row shows that changes after the order is placed (its lines,
#: buyer, address, amounts and ids are fixed then).
_ORDER_ROW_CHANGES = attrgetter("status", "shipping_ref_num", "update_time")


def order_row_signature(order: Order) -> Hashable:
    """What can change in an order's :func:`order_row`."""
    return _ORDER_ROW_CHANGES(order)


_ORDER_LINE = (
    '{"id":%d,"name":%s,"quantity":%d,"notes":"","weight":%r,"total_weight":%r,'
    '"price":%d,"total_price":%d,"currency":"Rp","sku":%s,"is_wholesale":false}'
)
_FULFILLED = '{"product_id":%d,"quantity_deliver":%d,"quantity_reject":%d}'
_ORDER_ROW = (
    '{"fs_id":"%d","order_id":%d,"is_cod_mitra":false,"accept_partial":false,'
    '"invoice_ref_num":%s,"products":[%s],"products_fulfilled":[%s],'
    '"device_type":"","buyer":{"id":%d,"name":%s,"phone":%s,"email":%s},'
    '"shop_id":%d,"payment_id":%d,"recipient":{"name":%s,"phone":%s,'
    '"address":{"address_full":%s,"district":%s,"city":%s,"province":%s,'
    '"country":"Indonesia","postal_code":%s,"district_id":0,"city_id":0,'
    '"province_id":0,"geo":""}},"logistics":{"shipping_id":1,"district_id":0,'
    '"city_id":0,"province_id":0,"geo":"","shipping_agency":"JNE",'
    '"service_type":"Reguler"},"amt":{"ttl_product_price":%d,"shipping_cost":%d,'
    '"insurance_cost":0,"ttl_amount":%d,"voucher_amount":0,"toppoints_amount":0},'
    '"dropshipper_info":{},"voucher_info":{"voucher_code":"","voucher_type":0},'
    '"order_status":%d,"warehouse_id":%d,"fulfill_by":0,"create_time":%d,'
    '"custom_fields":{"awb":%s}}'
)


def encode_order_row(order: Order) -> bytes:
    """``encode(order_row(order))``, written directly."""
    try:
        return _order_row_text(order).encode()
    except _NotPlainError:
        return encode(order_row(order))


def _order_row_text(order: Order) -> str:
    buyer = order.buyer
    ints = (
        order.fs_id,
        order.order_id,
        order.shop_id,
        order.payment_id,
        order.status,
        order.warehouse_id,
        order.create_time,
        order.shipping_cost,
        buyer.buyer_id,
    )
    if not _plain(ints, _INT):
        raise _NotPlainError
    cancelled = order.status in CANCELLED
    products: list[str] = []
    fulfilled: list[str] = []
    for line in order.lines:
        weight, quantity = line.weight, line.quantity
        total_weight = round(weight * quantity, 6)
        if not (
            _plain((line.product_id, quantity, line.price), _INT)
            and _plain((weight, total_weight), _FLOAT)
            and isfinite(total_weight)  # and so the weight
        ):
            raise _NotPlainError
        products.append(
            _ORDER_LINE
            % (
                line.product_id,
                _text(line.name),
                quantity,
                weight,
                total_weight,
                line.price,
                line.price * quantity,
                _text(line.sku),
            )
        )
        fulfilled.append(
            _FULFILLED
            % (
                line.product_id,
                0 if cancelled else quantity,
                quantity if cancelled else 0,
            )
        )
    total = order.total_price
    address_full = (
        f"{buyer.address}, {buyer.district}, {buyer.city}, "
        f"{buyer.province}, {buyer.postal_code}"
    )
    name, phone = _text(buyer.name), _text(buyer.phone)
    return _ORDER_ROW % (
        order.fs_id,
        order.order_id,
        _text(order.invoice_ref_num),
        ",".join(products),
        ",".join(fulfilled),
        buyer.buyer_id,
        name,
        phone,
        _text(buyer.email),
        order.shop_id,
        order.payment_id,
        name,
        phone,
        _text(address_full),
        _text(buyer.district),
        _text(buyer.city),
        _text(buyer.province),
        _text(buyer.postal_code),
        total,
        order.shipping_cost,
        total + order.shipping_cost,
        order.status,
        order.warehouse_id,
        order.create_time,
        _text(order.shipping_ref_num),
    )
