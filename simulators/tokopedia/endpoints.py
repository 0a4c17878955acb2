"""Tokopedia simulator: what each ``fs`` endpoint does once the call is let in.

The simulator authenticates, checks the ``fs_id`` and the rate budget, then calls the
method named after the route (``product_create``, ``order_list`` …) with a
:class:`Call`; a method returns the envelope's ``data`` (or :class:`Encoded` data: the
product info and order list items are encoded once per change and joined) or raises
:class:`~simulators.tokopedia.model.ApiError`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from simulators.kit.faults import FaultPlan
from simulators.kit.fragments import json_array
from simulators.kit.routing import BadRequestBodyError, SimRequest
from simulators.tokopedia.encoded import (
    encode_order_row,
    encode_product_info,
    order_row_signature,
    product_signature,
)
from simulators.tokopedia.model import (
    DEFAULT_PRODUCT_PER_PAGE,
    INVALID_PRICE,
    INVALID_PRODUCT_ID,
    INVALID_SKU,
    INVALID_STOCK,
    MAX_ACTIVE_IDS,
    MAX_CREATE_ROWS,
    MAX_EDIT_ROWS,
    MAX_PER_PAGE,
    MAX_STOCK_ROWS,
    NACK_REASON_CODES,
    ORDER_WINDOW_SECONDS,
    PRICE_MAX,
    PRICE_MIN,
    RBAC_CODE,
    STOCK_MAX,
    TOO_MANY_REQUESTS,
    ApiError,
    Order,
    Product,
    Shop,
    category_tree,
    is_int,
    validate_product,
)
from simulators.tokopedia.payloads import order_detail
from simulators.tokopedia.store import WEBHOOK_TYPES, WEBHOOK_URL_KEYS, Store

Domain = Literal["PRD", "ORD", "OPENAPI"]


@dataclass(slots=True)
class Call:
    """One authenticated call: request, endpoint, app and rate bucket key."""

    req: SimRequest
    query: httpx.QueryParams  # the request's query parameters
    endpoint: str
    domain: Domain
    fs_id: int
    key: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Encoded:
    """The envelope's ``data``, already encoded as JSON."""

    body: bytes


def param_code(domain: str) -> str:
    """The ``error_code`` of a bad parameter in ``domain``."""
    return "PRD_DLV_042" if domain == "PRD" else f"{domain}_DLV_001"


class Endpoints:
    """The handlers of the ``fs`` endpoints, one method per route name."""

    def __init__(
        self,
        store: Store,
        faults: FaultPlan,
        take_rows: Callable[[Call, int], int],
    ) -> None:
        self.store = store
        self.faults = faults
        self.take_rows = take_rows

    # ---------------------------------------------------------------- helpers

    def _int_query(self, call: Call, name: str) -> int | None:
        raw = call.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise ApiError(
                param_code(call.domain),
                f"Invalid field [{name}] format, value [{raw}] should be int",
            ) from None

    def _need_int(self, call: Call, name: str) -> int:
        value = self._int_query(call, name)
        if value is None:
            raise ApiError(
                param_code(call.domain),
                f"Invalid field [{name}] format, value [] should be int",
            )
        return value

    def shop_of(self, call: Call, shop_id: int) -> Shop:
        """The shop, if linked to the caller's ``fs_id`` and not migrated (else 403)."""
        shop = self.store.shops.get(shop_id)
        if shop is None or shop.fs_id != call.fs_id:
            raise ApiError(RBAC_CODE, f"shop {shop_id} is not connected to this fs_id")
        if shop.migrated:
            raise ApiError(
                RBAC_CODE, f"shop {shop_id} has been migrated to TikTok Shop"
            )
        return shop

    def _shop_param(self, call: Call) -> Shop:
        return self.shop_of(call, self._need_int(call, "shop_id"))

    def _products_body(self, call: Call, limit: int) -> list[dict[str, Any]]:
        body = call.req.json()
        rows = body.get("products") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadRequestBodyError('the body must be {"products": [{…}, …]}')
        _check_count(len(rows), limit, "products")
        return rows

    def _row_fault(self, endpoint: str, key: str) -> str | None:
        planned = self.faults.item_failure(endpoint, key)
        return None if planned is None else planned or TOO_MANY_REQUESTS

    def _product_item(self, product: Product, shop: Shop) -> bytes:
        """``product``'s product info item, encoded (again only once it changed)."""
        return self.store.product_items.get(
            product.product_id,
            product_signature(product, shop),
            lambda: encode_product_info(product, shop),
        )

    def _order_row(self, order: Order) -> bytes:
        """``order``'s order list row, encoded (again only once it changed)."""
        return self.store.order_rows.get(
            order.order_id,
            order_row_signature(order),
            lambda: encode_order_row(order),
        )

    # ---------------------------------------------------------------- products

    def product_create(self, call: Call) -> dict[str, Any]:
        """``POST /v3/products/fs/{fs_id}/create?shop_id=`` (≤ 20 rows)."""
        shop = self._shop_param(call)
        rows = self._products_body(call, MAX_CREATE_ROWS)
        granted = self.take_rows(call, len(rows))
        success: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            if index >= granted:
                failed.append(_failed_product(row, [TOO_MANY_REQUESTS]))
                continue
            fields, errors = validate_product(row, creating=True)
            sku = fields.get("sku", "")
            if sku and self.store.sku_taken(shop.shop_id, sku):
                errors.append(f"sku {sku} already exists")
            planned = self._row_fault(call.endpoint, sku or str(row.get("name")))
            if planned is not None:
                errors.append(planned)
            if errors:
                failed.append(_failed_product(row, errors))
                continue
            product = self.store.new_product(shop, fields)
            success.append({"product_id": product.product_id})
        return _rows_result(len(rows), success, failed)

    def product_edit(self, call: Call) -> dict[str, Any]:
        """``PATCH /v3/products/fs/{fs_id}/edit?shop_id=`` (≤ 20 rows)."""
        shop = self._shop_param(call)
        rows = self._products_body(call, MAX_EDIT_ROWS)
        products = self.store.products
        inactive = [
            row["id"]
            for row in rows
            if is_int(row.get("id"))
            and (p := products.get(row["id"])) is not None
            and p.shop_id == shop.shop_id
            and not p.active
        ]
        if inactive:
            listed = ", ".join(map(str, inactive))
            raise ApiError("PRD_USC_028", f"product {listed} is not active")
        granted = self.take_rows(call, len(rows))
        success: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            if index >= granted:
                failed.append(_failed_product(row, [TOO_MANY_REQUESTS]))
                continue
            product_id = row.get("id")
            product = products.get(product_id) if is_int(product_id) else None
            if product is None or product.shop_id != shop.shop_id:
                failed.append(_failed_product(row, [INVALID_PRODUCT_ID]))
                continue
            errors = self._edit_one(call, product, row)
            if errors:
                failed.append(_failed_product(row, errors))
            else:
                success.append({"product_id": product.product_id})
        return _rows_result(len(rows), success, failed)

    def _edit_one(self, call: Call, product: Product, row: dict[str, Any]) -> list[str]:
        fields, errors = validate_product(row, creating=False)
        name = fields.get("name")
        if name is not None and name != product.name and product.has_order:
            errors.append("name cannot be changed once the product has a transaction")
        sku = fields.get("sku")
        if sku and sku != product.sku and self.store.sku_taken(product.shop_id, sku):
            errors.append(f"sku {sku} already exists")
        key = sku or product.sku or str(product.product_id)
        planned = self._row_fault(call.endpoint, key)
        if planned is not None:
            errors.append(planned)
        if not errors:
            self.store.edit_product(product, fields)
        return errors

    def _row_update(self, call: Call, field: Literal["new_stock", "new_price"]) -> Any:
        shop = self._shop_param(call)
        rows = call.req.json()
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadRequestBodyError("the body must be a JSON array of rows")
        _check_count(len(rows), MAX_STOCK_ROWS, "rows")
        warehouse = self._int_query(call, "warehouse_id")
        if warehouse is not None and warehouse != shop.warehouse_id:
            raise ApiError("PRD_DLV_042", f"warehouse {warehouse} is not the shop's")
        flag = call.query.get("bypass_update_product_status", "")
        bypass = flag.lower() in {"true", "1"}
        granted = self.take_rows(call, len(rows))
        # Up to 100 rows: what every row needs is looked up once, here. The rows come
        # from json.loads, so ``type(x) is int`` is is_int (no bool, no float).
        updating_stock = field == "new_stock"
        if updating_stock:
            low, high, invalid = 0, STOCK_MAX, INVALID_STOCK
        else:
            low, high, invalid = PRICE_MIN, PRICE_MAX, INVALID_PRICE
        store, shop_id = self.store, shop.shop_id
        products, skus = store.products, store.skus
        item_failure, endpoint = self.faults.item_failure, call.endpoint
        now = store.now()
        failed: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            sku, product_id = row.get("sku"), row.get("product_id")
            value = row.get(field)
            product: Product | None
            if isinstance(sku, str) and sku:  # a SKU wins over the product id
                found = skus.get((shop_id, sku))
                product = None if found is None else products[found]
                message = INVALID_SKU if product is None else ""
            else:
                product = products.get(product_id) if type(product_id) is int else None
                if product is not None and product.shop_id != shop_id:
                    product = None
                message = INVALID_PRODUCT_ID if product is None else ""
            if index >= granted:
                message = TOO_MANY_REQUESTS
            elif product is not None:
                if not (type(value) is int and low <= value <= high):
                    message = invalid
                else:
                    planned = item_failure(endpoint, str(sku or product_id))
                    message = "" if planned is None else planned or TOO_MANY_REQUESTS
            if message or product is None:
                failed.append(
                    {
                        "product_id": product.product_id
                        if product
                        else row.get("product_id", 0),
                        "sku": sku or "",
                        "product_url": product.url if product else "",
                        field: value,
                        "message": message,
                    }
                )
                continue
            if updating_stock:
                store.apply_stock(product, value, bypass=bypass)
            else:
                product.price, product.price_updated_at = value, now
            product.updated_at = now
        return {
            "failed_rows": len(failed),
            "succeed_rows": len(rows) - len(failed),
            "failed_rows_data": failed,
        }

    def stock_update(self, call: Call) -> Any:
        """``POST /inventory/v1/fs/{fs_id}/stock/update?shop_id=`` (≤ 100 rows)."""
        return self._row_update(call, "new_stock")

    def price_update(self, call: Call) -> Any:
        """``POST /inventory/v1/fs/{fs_id}/price/update?shop_id=`` (≤ 100 rows)."""
        return self._row_update(call, "new_price")

    def _set_active(self, call: Call, active: bool) -> dict[str, Any]:
        shop = self._shop_param(call)
        body = call.req.json()
        ids = body.get("product_id") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            raise BadRequestBodyError('the body must be {"product_id": [ids]}')
        _check_count(len(ids), MAX_ACTIVE_IDS, "product_id")
        granted = self.take_rows(call, len(ids))
        failed: list[dict[str, Any]] = []
        for index, product_id in enumerate(ids):
            product = (
                self.store.products.get(product_id) if is_int(product_id) else None
            )
            if index >= granted:
                message: str | None = TOO_MANY_REQUESTS
            elif product is None or product.shop_id != shop.shop_id:
                message = INVALID_PRODUCT_ID
            else:
                message = self._row_fault(call.endpoint, str(product_id))
            if message is not None or product is None:
                failed.append({"product_id": product_id, "message": message})
                continue
            product.active = active
            product.updated_at = self.store.now()
        return {
            "total_data": len(ids),
            "succeed_rows": len(ids) - len(failed),
            "failed_rows": len(failed),
            "failed_rows_data": failed,
        }

    def product_active(self, call: Call) -> dict[str, Any]:
        """``POST /v1/products/fs/{fs_id}/active?shop_id=`` (≤ 25 ids)."""
        return self._set_active(call, True)

    def product_inactive(self, call: Call) -> dict[str, Any]:
        """``POST /v1/products/fs/{fs_id}/inactive?shop_id=`` (≤ 25 ids)."""
        return self._set_active(call, False)

    def product_category(self, _call: Call) -> dict[str, Any]:
        """``GET /inventory/v1/fs/{fs_id}/product/category``: the category tree."""
        return {"categories": category_tree()}

    def product_info(self, call: Call) -> Encoded:
        """``GET /inventory/v1/fs/{fs_id}/product/info`` in its four forms."""
        query, store = call.query, self.store
        raw_ids = [part for v in query.get_list("product_id") for part in v.split(",")]
        if raw_ids:
            try:
                ids = [int(v) for v in raw_ids if v.strip()]
            except ValueError:
                raise ApiError(
                    "PRD_DLV_042", "Invalid field [product_id] format, should be int"
                ) from None
            found = [store.products[i] for i in ids if i in store.products]
        elif query.get("product_url"):
            product_id = store.urls.get(query["product_url"])
            found = [] if product_id is None else [store.products[product_id]]
        elif query.get("sku"):
            shop_id = self._int_query(call, "shop_id")
            shops = (
                [shop_id]
                if shop_id is not None
                else [s.shop_id for s in store.shops.values() if s.fs_id == call.fs_id]
            )
            found = [
                store.products[pid]
                for sid in shops
                if (pid := store.skus.get((sid, query["sku"]))) is not None
            ]
        elif query.get("shop_id") is not None:
            return self._product_page(call)
        else:
            raise ApiError(
                "PRD_DLV_042",
                "one of product_id, product_url, sku or shop_id is needed",
            )
        item = self._product_item
        return Encoded(
            json_array([item(p, self.shop_of(call, p.shop_id)) for p in found])
        )

    def _product_page(self, call: Call) -> Encoded:
        shop = self._shop_param(call)
        if not call.query.get("page"):
            raise ApiError("PRD_DLV_005", "page is required when listing by shop_id")
        page = self._need_int(call, "page")
        per_page = self._int_query(call, "per_page") or DEFAULT_PRODUCT_PER_PAGE
        if page < 1:
            raise ApiError("PRD_DLV_042", "page must be at least 1")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ApiError("PRD_DLV_042", f"per_page must be 1 to {MAX_PER_PAGE}")
        start = self.faults.page_start(call.endpoint, (page - 1) * per_page, per_page)
        if start is None:
            return Encoded(b"[]")
        ids = self.store.shop_products.get(shop.shop_id, [])
        products, item = self.store.products, self._product_item
        return Encoded(
            json_array(
                [item(products[pid], shop) for pid in ids[start : start + per_page]]
            )
        )

    # ---------------------------------------------------------------- orders

    def order_list(self, call: Call) -> Encoded:
        """``GET /v2/order/list?fs_id=&from_date=&to_date=&page=&per_page=&…``."""
        need = self._need_int
        from_date, to_date = need(call, "from_date"), need(call, "to_date")
        if to_date < from_date:
            raise ApiError("ORD_DLV_001", "to_date must not be before from_date")
        if to_date - from_date >= ORDER_WINDOW_SECONDS:
            raise ApiError("ORD_DLV_013", "Date Range must be less than 3 days")
        page, per_page = need(call, "page"), need(call, "per_page")
        if page < 1:
            raise ApiError("ORD_DLV_001", "page must be at least 1")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ApiError("ORD_DLV_001", f"per_page must be 1 to {MAX_PER_PAGE}")
        shop_id = self._int_query(call, "shop_id")
        warehouse = self._int_query(call, "warehouse_id")
        if (shop_id is None) == (warehouse is None):
            raise ApiError("ORD_DLV_001", "send either shop_id or warehouse_id")
        if shop_id is not None:
            index = self.store.order_index.get(
                ("shop", self.shop_of(call, shop_id).shop_id), []
            )
        else:
            owner = self.store.warehouses.get(warehouse or 0)
            if owner is None:
                raise ApiError(RBAC_CODE, f"warehouse {warehouse} is not connected")
            self.shop_of(call, owner)
            index = self.store.order_index.get(("warehouse", warehouse or 0), [])
        status = self._int_query(call, "status")
        start = self.faults.page_start(call.endpoint, (page - 1) * per_page, per_page)
        if start is None:
            return Encoded(b"[]")
        low = bisect.bisect_left(index, (from_date, -1))
        high = bisect.bisect_left(index, (to_date + 1, -1))
        orders = self.store.orders
        if status is None:
            window = index[low + start : min(high, low + start + per_page)]
            chosen = [orders[order_id] for _t, order_id in window]
        else:
            matching = [
                orders[order_id]
                for _t, order_id in index[low:high]
                if orders[order_id].status == status
            ]
            chosen = matching[start : start + per_page]
        return Encoded(json_array([self._order_row(order) for order in chosen]))

    def find_order(self, call: Call, order_id: int) -> Order:
        """A listed order of a shop the caller may see (else ``ORD_USC_002``/403)."""
        order = self.store.orders.get(order_id)
        if order is None or not order.listed:
            raise ApiError("ORD_USC_002", f"order {order_id} not found")
        self.shop_of(call, order.shop_id)
        return order

    def _path_order(self, call: Call) -> Order:
        raw = call.req.params.get("order_id", "")
        if not raw.isdigit():
            raise ApiError("ORD_DLV_001", f"order_id {raw!r} must be an integer")
        return self.find_order(call, int(raw))

    def order_detail(self, call: Call) -> dict[str, Any]:
        """``GET /v2/fs/{fs_id}/order?order_id=`` or ``?invoice_num=``."""
        order_id = self._int_query(call, "order_id")
        if order_id is None:
            invoice = call.query.get("invoice_num")
            if not invoice:
                raise ApiError("ORD_DLV_001", "order_id or invoice_num is required")
            order_id = self.store.invoices.get(invoice)
            if order_id is None:
                raise ApiError("ORD_USC_002", f"invoice {invoice} not found")
        order = self.find_order(call, order_id)
        return order_detail(order, self.store.shops[order.shop_id])

    def _json_object(self, call: Call) -> dict[str, Any]:
        body = call.req.json()
        if not isinstance(body, dict):
            raise BadRequestBodyError("the body must be a JSON object")
        return body

    def order_ack(self, call: Call) -> str:
        """``POST /v1/order/{order_id}/fs/{fs_id}/ack``: 220 → 400."""
        order = self._path_order(call)
        if order.status != 220:
            raise _not_eligible(order, "accept")
        self.store.change_status(order, 400)
        return "success"

    def order_nack(self, call: Call) -> str:
        """``POST …/nack``: 220 → 3 (reason 1, out of stock) or 10."""
        order = self._path_order(call)
        reason_code = self._json_object(call).get("reason_code")
        if not is_int(reason_code) or reason_code not in NACK_REASON_CODES:
            raise ApiError("ORD_DLV_001", f"reason_code {reason_code!r} is not valid")
        if order.status not in {220, 221}:
            raise _not_eligible(order, "reject")
        self.store.change_status(order, 3 if reason_code == 1 else 10)
        return "success"

    def order_status(self, call: Call) -> str:
        """``POST …/status`` ``{"order_status": 500, "shipping_ref_num"}``."""
        order = self._path_order(call)
        body = self._json_object(call)
        if body.get("order_status") != 500:
            raise ApiError("ORD_DLV_001", "order_status must be 500")
        reference = body.get("shipping_ref_num")
        if not isinstance(reference, str) or not reference.strip():
            raise ApiError("ORD_DLV_001", "shipping_ref_num is required")
        if order.status not in {400, 450, 501, 520, 530}:
            raise _not_eligible(order, "confirm shipping")
        order.shipping_ref_num = reference.strip()
        order.cancel_request_open = False
        self.store.change_status(order, 500)
        return "success"

    def order_pickup(self, call: Call) -> dict[str, Any]:
        """``POST /inventory/v1/fs/{fs_id}/pick-up`` ``{order_id, shop_id}``.

        Pickup requested: 400 → 450.
        """
        body = self._json_object(call)
        order_id = body.get("order_id")
        if not is_int(order_id):
            raise ApiError("ORD_DLV_001", "order_id must be an integer")
        order = self.find_order(call, order_id)
        if order.status != 400:
            raise _not_eligible(order, "pickup")
        self.store.change_status(order, 450)
        return {
            "order_id": order.order_id,
            "shop_id": order.shop_id,
            "request_time": order.update_time,
            "result": "success",
        }

    def order_reject_cancel(self, call: Call) -> str:
        """``POST …/reject-cancel?shop_id=``: close the buyer's cancel request."""
        shop = self._shop_param(call)
        order = self._path_order(call)
        if order.shop_id != shop.shop_id:
            raise ApiError("ORD_USC_002", f"order {order.order_id} not in this shop")
        if not order.cancel_request_open:
            raise ApiError("ORD_USC_001", "the order has no open cancellation request")
        order.cancel_request_open = False
        order.update_time = self.store.now()
        return "success"

    # ---------------------------------------------------------------- webhooks

    def webhook_register(self, call: Call) -> str:
        """``POST /v1/fs/{fs_id}/register``: replaces the whole registration."""
        body = self._json_object(call)
        given = body.get("fs_id")
        if given is not None and str(given) != str(call.fs_id):
            raise ApiError("OPENAPI_DLV_001", "fs_id in the body differs from the path")
        registration: dict[str, Any] = {"fs_id": call.fs_id}
        for name in (*WEBHOOK_URL_KEYS, "webhook_secret"):
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                raise ApiError("OPENAPI_DLV_001", f"{name} must be a string")
            registration[name] = value or ""
        self.store.registrations[call.fs_id] = registration
        return "success"

    def webhook_get(self, call: Call) -> dict[str, Any]:
        """``GET /v1/fs/{fs_id}``: the registration (empty strings when none)."""
        empty = {"fs_id": call.fs_id, **dict.fromkeys(WEBHOOK_URL_KEYS, "")}
        empty["webhook_secret"] = ""
        return dict(self.store.registrations.get(call.fs_id, empty))

    def webhook_payload(self, call: Call) -> dict[str, Any]:
        """``GET /v1/order/{order_id}/fs/{fs_id}/webhook?type=``."""
        kind = call.query.get("type", "")
        if kind not in WEBHOOK_TYPES:
            choices = ", ".join(WEBHOOK_TYPES)
            raise ApiError("OPENAPI_DLV_001", f"type must be one of {choices}")
        return self.store.payload(self._path_order(call), kind)

    def webhook_trigger(self, call: Call) -> str:
        """``POST /v1/fs/{fs_id}/trigger`` ``{Type, order_id, url, is_encrypted}``."""
        body = self._json_object(call)
        kind = body.get("Type", body.get("type"))
        if kind not in WEBHOOK_TYPES:
            choices = ", ".join(WEBHOOK_TYPES)
            raise ApiError("OPENAPI_DLV_001", f"Type must be one of {choices}")
        order_id = body.get("order_id")
        if not is_int(order_id):
            raise ApiError("OPENAPI_DLV_001", "order_id must be an integer")
        order = self.find_order(call, order_id)
        url = body.get("url") or None
        registration = self.store.registrations.get(call.fs_id, {})
        if not isinstance(url, str | None) or not (
            url or registration.get(WEBHOOK_TYPES[kind])
        ):
            raise ApiError("OPENAPI_DLV_001", f"no URL registered for {kind}")
        self.store.send_webhook(order, kind, url)
        return "success"


# ==================================================================== helpers


def _check_count(count: int, limit: int, what: str) -> None:
    if count == 0:
        raise ApiError("PRD_DLV_043", f"{what} must not be empty")
    if count > limit:
        raise ApiError(
            "PRD_DLV_043", f"at most {limit} {what} per request, got {count}"
        )


def _not_eligible(order: Order, action: str) -> ApiError:
    return ApiError(
        "ORD_USC_001", f"order status {order.status} is not eligible for {action}"
    )


def _failed_product(row: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "product_name": row.get("name", ""),
        "product_price": row.get("price", 0),
        "sku": row.get("sku") or "",
        "error": errors,
    }
    if "id" in row:
        out["product_id"] = row["id"]
    return out


def _rows_result(
    total: int, success: list[dict[str, Any]], failed: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "total_data": total,
        "success_data": len(success),
        "fail_data": len(failed),
        "success_rows_data": success,
        "failed_rows_data": failed,
    }
