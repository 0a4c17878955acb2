"""Request parsing and response bodies of the Bukalapak simulator."""

from __future__ import annotations

from typing import Any

import httpx

from simulators.bukalapak.model import (
    LIMIT_MAX,
    MASKED_PHONE,
    ApiError,
    Product,
    Sku,
    Transaction,
    is_int,
    iso_wib,
)
from simulators.kit.fragments import encode
from simulators.kit.routing import BadRequestBodyError, SimRequest


def base36(value: int) -> str:
    """A positive integer in lowercase base 36."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


def object_body(request: SimRequest) -> dict[str, Any]:
    """The JSON object body; a 400 (:class:`BadRequestBodyError`) otherwise."""
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequestBodyError("the request body must be a JSON object")
    return body


def _int_param(request: SimRequest, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be an integer") from None


def paging(request: SimRequest) -> tuple[int, int]:
    """``offset`` (default 0) and ``limit`` (default 10, at most 50), or a 422."""
    offset = _int_param(request, "offset", 0)
    limit = _int_param(request, "limit", 10)
    problems = []
    if offset < 0:
        problems.append("offset must be 0 or more")
    if not 1 <= limit <= LIMIT_MAX:
        problems.append(f"limit must be between 1 and {LIMIT_MAX}")
    if problems:
        raise ApiError(422, problems[0], more=problems[1:])
    return offset, limit


def text_field(body: dict[str, Any], name: str, problems: list[str]) -> str:
    """A required non-empty string field (stripped); notes a problem otherwise."""
    value = body.get(name)
    if isinstance(value, str) and value.strip():
        return value.strip()
    problems.append(f"{name} is required")
    return ""


def integer_field(
    body: dict[str, Any],
    name: str,
    low: int,
    high: int | None,
    expected: str,
    problems: list[str],
) -> int:
    """An integer field within ``low..high``; notes a problem otherwise."""
    value = body.get(name)
    if is_int(value) and value >= low and (high is None or value <= high):
        return value
    problems.append(f"{name} must be {expected}")
    return 0


def path_int(value: str, what: str) -> int:
    """A numeric path id; anything else is a 404 for ``what``."""
    if not value.isdigit():
        raise ApiError(404, f"{what} not found")
    return int(value)


def sku_json(sku: Sku) -> dict[str, Any]:
    """A SKU (variant) as the API shows it."""
    return {
        "id": sku.id,
        "product_id": sku.product_id,
        "sku_name": sku.sku_name,
        "variant_name": sku.variant_name,
        "price": sku.price,
        "stock": sku.stock,
        "state": sku.state,
        "updated_at": iso_wib(sku.updated_at),
    }


def product_json(product: Product, skus: list[Sku], store_name: str) -> dict[str, Any]:
    """A product with its SKUs (``variants`` as the page names them, and ``skus``)."""
    variants = [sku_json(sku) for sku in skus]
    active = any(sku.state == "active" for sku in skus)
    return {
        "id": product.id,
        "name": product.name,
        "category": {"id": product.category_id},
        "condition": product.condition,
        "description": product.description,
        "weight": product.weight,
        "images": [{"id": image} for image in product.images],
        "price": min((sku.price for sku in skus), default=0),
        "stock": sum(sku.stock for sku in skus),
        "sku_name": skus[0].sku_name if skus else "",
        "state": "active" if active else "inactive",
        "store": {"id": product.store_id, "name": store_name},
        "variants": variants,
        "skus": variants,
        "created_at": iso_wib(product.created_at),
        "updated_at": iso_wib(product.updated_at),
    }


def transaction_json(txn: Transaction, *, mask_phone: bool) -> dict[str, Any]:
    """A transaction (page §5.2); the consignee phone masked when asked."""
    items_total = txn.items_total()
    consignee = dict(txn.consignee)
    if mask_phone or txn.phone_masked:
        consignee["phone"] = MASKED_PHONE
    return {
        "id": txn.id,
        "transaction_id": txn.transaction_id,
        "state": txn.state,
        "created_at": iso_wib(txn.created_at),
        "updated_at": iso_wib(txn.updated_at),
        "state_changed_at": iso_wib(txn.state_changed_at),
        "store": {"id": txn.store_id},
        "buyer": {"name": txn.buyer_name, "username": txn.buyer_username},
        "amount": {
            "seller": {
                "total": items_total + txn.delivery_fee,
                "details": {
                    "items": items_total,
                    "delivery": txn.delivery_fee,
                    "reductions": [],
                },
            }
        },
        "delivery": {
            "requested_carrier": txn.requested_carrier,
            "carrier": txn.carrier,
            "tracking_number": txn.tracking_number,
            "consignee": consignee,
        },
        "options": {"buyer_note": txn.buyer_note},
        "items": [
            {
                "quantity": line.quantity,
                "price": line.price,
                "total_price": line.price * line.quantity,
                "stuff": {
                    "id": line.sku_id,
                    "sku_name": line.sku_name,
                    "product": {
                        "id": line.product_id,
                        "name": line.name,
                        "weight": line.weight,
                    },
                },
            }
            for line in txn.lines
        ],
    }


def list_response(fragments: list[bytes], meta: dict[str, Any]) -> httpx.Response:
    """A 200 envelope whose ``data`` array is made of pre-encoded items."""
    body = b"".join(
        (
            b'{"data":[',
            b",".join(fragments),
            b'],"meta":',
            encode({"http_status": 200, **meta}),
            b',"errors":[]}',
        )
    )
    return httpx.Response(
        200, content=body, headers={"content-type": "application/json"}
    )


def object_response(fragment: bytes) -> httpx.Response:
    """A 200 envelope whose ``data`` is one pre-encoded record: the same bytes as
    ``envelope(200, data)``."""
    body = b"".join(
        (b'{"data":', fragment, b',"meta":{"http_status":200},"errors":[]}')
    )
    return httpx.Response(
        200, content=body, headers={"content-type": "application/json"}
    )
