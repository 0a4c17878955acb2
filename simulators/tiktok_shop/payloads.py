"""TikTok Shop simulator: the JSON shapes of shops, products, orders and webhooks.

Pure functions from records to what the API answers (§2, §5, §6, §8). Money is a
string with a ``currency`` field (§6); times are Unix seconds; ids are strings.
"""

from __future__ import annotations

import zlib
from typing import Any

from simulators.tiktok_shop.model import Order, Product, Shop, Sku


def shop_payload(shop: Shop) -> dict[str, Any]:
    """One entry of ``GET /authorization/202309/shops``."""
    return {
        "id": shop.shop_id,
        "name": shop.name,
        "region": shop.region,
        "seller_type": "LOCAL",
        "cipher": shop.cipher,
        "code": shop.code,
    }


def _price(amount: int) -> dict[str, str]:
    return {
        "currency": "IDR",
        "sale_price": str(amount),
        "tax_exclusive_price": str(amount),
    }


def sku_payload(sku: Sku) -> dict[str, Any]:
    """One SKU as product search shows it."""
    return {
        "id": sku.sku_id,
        "seller_sku": sku.seller_sku,
        "price": _price(sku.price),
        "inventory": [{"warehouse_id": sku.warehouse_id, "quantity": sku.quantity}],
    }


def product_payload(product: Product) -> dict[str, Any]:
    """One product as ``POST /product/202312/products/search`` lists it."""
    return {
        "id": product.product_id,
        "title": product.title,
        "status": product.status,
        "skus": [sku_payload(sku) for sku in product.skus],
        "create_time": product.create_time,
        "update_time": product.update_time,
        "sales_regions": ["ID"],
    }


def created_payload(product: Product) -> dict[str, Any]:
    """The ``data`` of a create or full edit: the product id and its SKUs' ids."""
    return {
        "product_id": product.product_id,
        "skus": [
            {"id": sku.sku_id, "seller_sku": sku.seller_sku, "sales_attributes": []}
            for sku in product.skus
        ],
        "warnings": [],
    }


def order_payload(order: Order) -> dict[str, Any]:
    """One order as order search and order detail show it."""
    total = order.sub_total + order.shipping_fee
    return {
        "id": order.order_id,
        "status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "paid_time": order.paid_time,
        "user_id": f"u{zlib.crc32(order.buyer.encode())}",
        "buyer_message": "",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "tracking_number": order.tracking_number,
        "payment": {
            "currency": "IDR",
            "sub_total": str(order.sub_total),
            "shipping_fee": str(order.shipping_fee),
            "seller_discount": "0",
            "platform_discount": "0",
            "total_amount": str(total),
            "original_total_product_price": str(order.sub_total),
        },
        "recipient_address": {
            "name": order.buyer,
            "region_code": "ID",
            "full_address": "Jl. Merdeka No. 1, Jakarta",
        },
        "line_items": [
            {
                "id": line.line_id,
                "product_id": line.product_id,
                "product_name": line.product_name,
                "sku_id": line.sku_id,
                "seller_sku": line.seller_sku,
                "sku_name": "",
                "sale_price": str(line.price),
                "original_price": str(line.price),
                "currency": "IDR",
                "display_status": order.status,
                "is_gift": False,
            }
            for line in order.lines
        ],
    }


def order_status_webhook(
    order: Order, shop: Shop, notification_id: str, timestamp: int
) -> dict[str, Any]:
    """A type-1 webhook (order status change, §8)."""
    return {
        "type": 1,
        "tts_notification_id": notification_id,
        "shop_id": shop.shop_id,
        "timestamp": timestamp,
        "data": {
            "order_id": order.order_id,
            "order_status": order.status,
            "update_time": order.update_time,
        },
    }
