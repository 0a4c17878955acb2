"""TikTok Shop simulator: what each API endpoint does once the call is let in.

The simulator checks the signature, the access token, the ``shop_cipher`` and the
rate budget, then calls the method named after the route (``product_create``,
``order_search`` …) with a :class:`Call`; a method returns the envelope's ``data``
or raises :class:`~simulators.tiktok_shop.model.ApiError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.kit.faults import FaultPlan, PageFault
from simulators.kit.routing import BadRequestBodyError, SimRequest
from simulators.tiktok_shop.model import (
    ACTIVATE,
    DEACTIVATE_IDS_MAX,
    DETAIL_IDS_MAX,
    DUPLICATE_SELLER_SKU,
    INVALID_PAGE_TOKEN,
    INVALID_PARAMETER,
    ITEM_REFUSED,
    ORDER_STATUSES,
    PAGE_SIZE_MAX,
    PAGE_SIZE_MIN,
    PRICE_OUT_OF_RANGE,
    PRODUCT_NOT_FOUND,
    QUANTITY_OUT_OF_RANGE,
    SELLER_DEACTIVATED,
    SKU_NOT_FOUND,
    SKU_NOT_LIVE,
    ApiError,
    Order,
    Product,
    Shop,
    Sku,
    check_content,
    check_new_skus,
    check_price,
    check_quantity,
    is_int,
)
from simulators.tiktok_shop.payloads import (
    created_payload,
    order_payload,
    product_payload,
    shop_payload,
)
from simulators.tiktok_shop.state import Store


@dataclass(slots=True)
class Call:
    """One admitted call: the request, its route name, the seller and the shop
    (``None`` on calls that are not shop-scoped)."""

    req: SimRequest
    endpoint: str
    open_id: str
    shop: Shop | None

    @property
    def the_shop(self) -> Shop:
        """The shop of a shop-scoped call."""
        assert self.shop is not None  # noqa: S101 - admitted calls carry it
        return self.shop


def _body(call: Call) -> dict[str, Any]:
    body = call.req.json()
    if not isinstance(body, dict):
        raise BadRequestBodyError("the body must be a JSON object")
    return body


def _page_size(call: Call) -> int:
    raw = call.req.query.get("page_size", "")
    if not raw.isdigit() or not PAGE_SIZE_MIN <= int(raw) <= PAGE_SIZE_MAX:
        raise ApiError(
            INVALID_PARAMETER,
            f"page_size must be an integer from {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}, "
            f"got {raw!r}",
        )
    return int(raw)


def _filters_digest(filters: dict[str, Any]) -> str:
    encoded = json.dumps(filters, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def make_page_token(after: list[Any], filters: dict[str, Any]) -> str:
    """An opaque cursor: the last key returned and the filters it belongs to."""
    raw = json.dumps({"a": after, "f": _filters_digest(filters)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_page_token(token: str, filters: dict[str, Any]) -> list[Any] | None:
    """The key after which a page starts (``None``: the first page).

    Raises:
        ApiError: the token is not one this endpoint gave for these filters.
    """
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, digest = decoded["a"], decoded["f"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(INVALID_PAGE_TOKEN, "page_token is not valid") from None
    if digest != _filters_digest(filters) or not isinstance(after, list):
        raise ApiError(INVALID_PAGE_TOKEN, "page_token belongs to other filters")
    return after


@dataclass(frozen=True, slots=True)
class PerSku:
    """The answer of a per-SKU update: ``data`` with its ``errors``; when every SKU
    failed, the envelope carries the first error's ``code`` too [INF]."""

    data: dict[str, Any]
    all_failed: bool

    @property
    def code(self) -> int:
        """The envelope's code: 0 unless every SKU failed."""
        errors = self.data["errors"]
        return int(errors[0]["code"]) if self.all_failed and errors else 0


def _error_entry(code: int, message: str, **detail: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail}


class Endpoints:
    """The handlers of the API endpoints, one method per route name."""

    def __init__(self, store: Store, faults: FaultPlan) -> None:
        self.store = store
        self.faults = faults

    # ---------------------------------------------------------------- helpers

    def _product(self, call: Call) -> Product:
        product = self.store.products.get(call.req.params.get("product_id", ""))
        if product is None or product.shop_id != call.the_shop.shop_id:
            raise ApiError(PRODUCT_NOT_FOUND, "product not found in this shop")
        return product

    def _item_fault(self, endpoint: str, key: str) -> str | None:
        planned = self.faults.item_failure(endpoint, key)
        return None if planned is None else planned or "the SKU could not be updated"

    # ---------------------------------------------------------------- authorisation

    def shops(self, call: Call) -> dict[str, Any]:
        """``GET /authorization/202309/shops``: the seller's authorised shops."""
        return {
            "shops": [shop_payload(s) for s in self.store.seller_shops(call.open_id)]
        }

    def webhook_update(self, call: Call) -> dict[str, Any]:
        """``PUT /event/202309/webhooks`` ``{address, event_type}`` [INF: only
        ``ORDER_STATUS_CHANGE``, type 1, is sent]."""
        body = _body(call)
        address = body.get("address")
        if body.get("event_type") != "ORDER_STATUS_CHANGE":
            raise ApiError(INVALID_PARAMETER, "event_type must be ORDER_STATUS_CHANGE")
        if not isinstance(address, str) or not address.startswith(
            ("http://", "https://")
        ):
            raise ApiError(INVALID_PARAMETER, "address must be an http(s) URL")
        self.store.app.webhook_url = address
        return {}

    # ---------------------------------------------------------------- products

    def product_create(self, call: Call) -> dict[str, Any]:
        """``POST /product/202309/products``."""
        shop = call.the_shop
        body = _body(call)
        content, errors = check_content(body, creating=True)
        skus, sku_errors = check_new_skus(body.get("skus"))
        errors += sku_errors
        if errors:
            raise ApiError(INVALID_PARAMETER, "; ".join(errors))
        for sku in skus:
            if sku["seller_sku"] and self.store.sku_taken(
                shop.shop_id, sku["seller_sku"]
            ):
                raise ApiError(
                    DUPLICATE_SELLER_SKU,
                    f"seller_sku {sku['seller_sku']} already exists in this shop",
                )
        return created_payload(self.store.new_product(shop, content, skus))

    def product_edit(self, call: Call) -> dict[str, Any]:
        """``PUT /product/202309/products/{product_id}``: the whole product again;
        SKUs named by ``id`` keep it, others are new."""
        product = self._product(call)
        body = _body(call)
        content, errors = check_content(body, creating=True)
        skus, sku_errors = check_new_skus(body.get("skus"))
        errors += sku_errors
        known = {sku.sku_id: sku for sku in product.skus}
        for row in skus:
            if row["id"] is not None and row["id"] not in known:
                errors.append(f"sku id {row['id']} is not a SKU of this product")
            if self.store.sku_taken(
                product.shop_id, row["seller_sku"], product.product_id
            ):
                errors.append(f"seller_sku {row['seller_sku']} already exists")
        if errors:
            raise ApiError(INVALID_PARAMETER, "; ".join(errors))
        self.store.unindex_skus(product)
        self._apply_content(product, content)
        product.skus = [
            Sku(
                row["id"] or self.store.next_id("sku"),
                row["seller_sku"],
                row["price"],
                row["quantity"],
                call.the_shop.warehouse_id,
            )
            for row in skus
        ]
        self.store.index_product(product)
        return created_payload(product)

    def product_partial_edit(self, call: Call) -> dict[str, Any]:
        """``POST /product/202309/products/{product_id}/partial_edit``: only the
        content fields given change [INF: SKUs are changed through the inventory
        and price endpoints]."""
        product = self._product(call)
        content, errors = check_content(_body(call), creating=False)
        if errors:
            raise ApiError(INVALID_PARAMETER, "; ".join(errors))
        self._apply_content(product, content)
        return created_payload(product)

    def _apply_content(self, product: Product, content: dict[str, Any]) -> None:
        for name, value in content.items():
            setattr(product, name, value)
        product.update_time = self.store.now()

    def product_deactivate(self, call: Call) -> dict[str, Any]:
        """``POST /product/202309/products/deactivate`` ``{product_ids}`` [INF]."""
        return self._set_status(call, SELLER_DEACTIVATED)

    def product_activate(self, call: Call) -> dict[str, Any]:
        """``POST /product/202309/products/activate`` ``{product_ids}`` [INF]."""
        return self._set_status(call, ACTIVATE)

    def _set_status(self, call: Call, status: str) -> dict[str, Any]:
        body = _body(call)
        ids = body.get("product_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= DEACTIVATE_IDS_MAX
            or not all(isinstance(i, str) for i in ids)
        ):
            raise ApiError(
                INVALID_PARAMETER,
                f"product_ids must hold 1 to {DEACTIVATE_IDS_MAX} product ids",
            )
        errors = []
        for product_id in ids:
            product = self.store.products.get(product_id)
            if product is None or product.shop_id != call.the_shop.shop_id:
                errors.append(
                    _error_entry(
                        PRODUCT_NOT_FOUND, "product not found", product_id=product_id
                    )
                )
                continue
            product.status = status
            product.update_time = self.store.now()
        return {"errors": errors}

    def product_search(self, call: Call) -> dict[str, Any]:
        """``POST /product/202312/products/search?page_size=&page_token=``
        ``{status?, seller_skus?}``; by product id."""
        size = _page_size(call)
        body = _body(call) if call.req.body else {}
        status = body.get("status", "ALL")
        skus = body.get("seller_skus")
        if skus is not None and (
            not isinstance(skus, list) or not all(isinstance(s, str) for s in skus)
        ):
            raise ApiError(INVALID_PARAMETER, "seller_skus must be a list of strings")
        filters = {"status": status, "seller_skus": skus}
        after = read_page_token(call.req.query.get("page_token", ""), filters)
        shop_id = call.the_shop.shop_id
        if skus is not None:
            wanted = {self.store.sku_index.get((shop_id, s)) for s in skus}
            found = [self.store.products[p] for p in wanted if p is not None]
        else:
            found = [p for p in self.store.products.values() if p.shop_id == shop_id]
        if status != "ALL":
            found = [p for p in found if p.status == status]
        found.sort(key=lambda p: int(p.product_id))
        total = len(found)
        if after is not None:
            found = [p for p in found if int(p.product_id) > int(after[0])]
        page = found[:size]
        more = len(found) > size
        token = make_page_token([page[-1].product_id], filters) if more else ""
        fault = (
            self.faults.page_fault(call.endpoint, first=after is None) if page else None
        )
        if fault is PageFault.EMPTY:  # nothing, and go on from where it should start
            before = str(int(page[0].product_id) - 1)
            page, token = [], make_page_token([before], filters)
        elif fault is PageFault.REPEAT:  # the token just sent comes back
            token = call.req.query.get("page_token", "")
        elif fault is PageFault.SHIFT and len(page) > 1:  # the last row comes again
            token = make_page_token([page[-2].product_id], filters)
        return {
            "products": [product_payload(p) for p in page],
            "total_count": total,
            "next_page_token": token,
        }

    def _sku_rows(
        self, call: Call, product: Product
    ) -> list[tuple[dict[str, Any], Sku | None]]:
        rows = _body(call).get("skus")
        if (
            not isinstance(rows, list)
            or not rows
            or not all(isinstance(r, dict) for r in rows)
        ):
            raise ApiError(
                INVALID_PARAMETER, "skus must be a non-empty list of objects"
            )
        by_id = {sku.sku_id: sku for sku in product.skus}
        return [(row, by_id.get(str(row.get("id", "")))) for row in rows]

    def _sku_update(
        self,
        call: Call,
        apply: Callable[[Product, Sku, dict[str, Any]], tuple[int, str] | None],
    ) -> PerSku:
        """Apply per-SKU changes; failures are listed in ``errors``."""
        product = self._product(call)
        errors: list[dict[str, Any]] = []
        rows = self._sku_rows(call, product)
        for row, sku in rows:
            sku_id = str(row.get("id", ""))
            if sku is None:
                errors.append(
                    _error_entry(SKU_NOT_FOUND, "SKU not found", sku_id=sku_id)
                )
                continue
            planned = self._item_fault(call.endpoint, sku.seller_sku)
            if planned is not None:
                errors.append(_error_entry(ITEM_REFUSED, planned, sku_id=sku_id))
                continue
            problem = apply(product, sku, row)
            if problem is not None:
                errors.append(_error_entry(problem[0], problem[1], sku_id=sku_id))
        if len(errors) < len(rows):
            product.update_time = self.store.now()
        return PerSku({"errors": errors}, len(errors) == len(rows))

    def inventory_update(self, call: Call) -> PerSku:
        """``POST /product/202309/products/{product_id}/inventory/update``: each SKU
        must be live; quantity 0-99,999; failures per SKU in ``errors``."""

        def apply(
            product: Product, sku: Sku, row: dict[str, Any]
        ) -> tuple[int, str] | None:
            if product.status != ACTIVATE:
                return SKU_NOT_LIVE, "the SKU is not live"
            inventory = row.get("inventory")
            if not isinstance(inventory, list) or len(inventory) != 1:
                return INVALID_PARAMETER, "inventory must hold one warehouse entry"
            entry = inventory[0] if isinstance(inventory[0], dict) else {}
            warehouse = entry.get("warehouse_id")
            if warehouse not in (None, sku.warehouse_id):
                return INVALID_PARAMETER, f"warehouse {warehouse} is not the SKU's"
            quantity, problem = check_quantity(entry.get("quantity"))
            if quantity is None:
                return QUANTITY_OUT_OF_RANGE, problem
            sku.quantity = quantity
            return None

        return self._sku_update(call, apply)

    def price_update(self, call: Call) -> PerSku:
        """``POST /product/202309/products/{product_id}/prices/update``: IDR 100 to
        100,000,000 per SKU; failures per SKU in ``errors``."""

        def apply(
            _product: Product, sku: Sku, row: dict[str, Any]
        ) -> tuple[int, str] | None:
            price, problem = check_price(row.get("price"))
            if price is None:
                return PRICE_OUT_OF_RANGE, problem
            sku.price = price
            return None

        return self._sku_update(call, apply)

    # ---------------------------------------------------------------- orders

    def order_search(self, call: Call) -> dict[str, Any]:
        """``POST /order/202309/orders/search?page_size=&page_token=&sort_field=
        &sort_order=`` ``{order_status?, create_time_ge?, create_time_lt?,
        update_time_ge?, update_time_lt?}``; a keyset cursor, so orders that change
        during a walk shift no page."""
        size = _page_size(call)
        body = _body(call) if call.req.body else {}
        query = call.req.query
        field = query.get("sort_field", "create_time")
        order_dir = query.get("sort_order", "DESC").upper()
        if field not in ("create_time", "update_time") or order_dir not in (
            "ASC",
            "DESC",
        ):
            raise ApiError(
                INVALID_PARAMETER,
                "sort_field must be create_time or update_time, sort_order ASC or DESC",
            )
        bounds: dict[str, int] = {}
        for name in (
            "create_time_ge",
            "create_time_lt",
            "update_time_ge",
            "update_time_lt",
        ):
            value = body.get(name)
            if value is None:
                continue
            if not is_int(value):
                raise ApiError(INVALID_PARAMETER, f"{name} must be Unix seconds")
            bounds[name] = value
        status = body.get("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise ApiError(INVALID_PARAMETER, f"order_status {status!r} is unknown")
        filters = {**bounds, "order_status": status, "sort": [field, order_dir]}
        after = read_page_token(query.get("page_token", ""), filters)
        shop_id = call.the_shop.shop_id

        def keep(order: Order) -> bool:
            if order.shop_id != shop_id or (status and order.status != status):
                return False
            for name, value in bounds.items():
                stamp = (
                    order.create_time
                    if name.startswith("create")
                    else order.update_time
                )
                if name.endswith("_ge") and stamp < value:
                    return False
                if name.endswith("_lt") and stamp >= value:
                    return False
            return True

        def key(order: Order) -> tuple[int, int]:
            return (getattr(order, field), int(order.order_id))

        found = sorted(
            (o for o in self.store.orders.values() if keep(o)),
            key=key,
            reverse=order_dir == "DESC",
        )
        total = len(found)
        if after is not None:
            mark = (int(after[0]), int(after[1]))
            found = [
                o
                for o in found
                if (key(o) > mark if order_dir == "ASC" else key(o) < mark)
            ]
        page = found[:size]
        more = len(found) > size
        token = make_page_token(list(key(page[-1])), filters) if more else ""
        fault = (
            self.faults.page_fault(call.endpoint, first=after is None) if page else None
        )
        if fault is PageFault.EMPTY:  # nothing, and go on from where it should start
            stamp, number = key(page[0])
            number += -1 if order_dir == "ASC" else 1
            page, token = [], make_page_token([stamp, number], filters)
        elif fault is PageFault.REPEAT:  # the token just sent comes back
            token = query.get("page_token", "")
        elif fault is PageFault.SHIFT and len(page) > 1:  # the last row comes again
            token = make_page_token(list(key(page[-2])), filters)
        return {
            "orders": [order_payload(o) for o in page],
            "total_count": total,
            "next_page_token": token,
        }

    def order_detail(self, call: Call) -> dict[str, Any]:
        """``GET /order/202309/orders?ids=`` (comma-separated, ≤ 50); ids that are
        not the shop's orders are left out."""
        raw = call.req.query.get("ids", "").strip()
        if raw.startswith("["):
            try:
                ids = [str(i) for i in json.loads(raw)]
            except ValueError:
                raise ApiError(INVALID_PARAMETER, "ids is not a list") from None
        else:
            ids = [part.strip() for part in raw.split(",") if part.strip()]
        if not 1 <= len(ids) <= DETAIL_IDS_MAX:
            raise ApiError(
                INVALID_PARAMETER, f"ids must name 1 to {DETAIL_IDS_MAX} orders"
            )
        shop_id = call.the_shop.shop_id
        orders = [
            order_payload(order)
            for i in ids
            if (order := self.store.orders.get(i)) is not None
            and order.shop_id == shop_id
        ]
        return {"orders": orders}
