"""The Shopee simulator's orders: the §10.1 state machine, stock reservation, and the
order and logistics endpoints (§5).

``order/get_order_list``, ``order/get_order_detail``, ``order/get_shipment_list``,
``order/cancel_order``, ``logistics/get_shipping_parameter``, ``logistics/ship_order``
and ``logistics/get_tracking_number``.
"""

from __future__ import annotations

import heapq
import string
import zlib
from bisect import bisect_left
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from simulators.kit.faults import PageFault
from simulators.kit.routing import SimRequest
from simulators.shopee.payload import (
    JSON,
    json_bool,
    json_number,
    json_string,
    object_with_list,
)
from simulators.shopee.products import DEFAULT_LOCATION, image_url, model_name
from simulators.shopee.state import (
    CANCEL_REASONS,
    HOLDING,
    LOGISTICS,
    ORDER_STATUSES,
    ORDER_WINDOW_SECONDS,
    PUSH_ORDER_STATUS,
    PUSH_TRACKING_NO,
    TOP_LEVEL,
    TRANSITIONS,
    ApiError,
    ApiHandler,
    Ctx,
    Model,
    Order,
    OrderLine,
    SimCore,
    TimeIndex,
    decode_cursor,
    encode_cursor,
    mask_address,
    to_int,
)

WIB = timezone(timedelta(hours=7))
PICKUP_ADDRESS_ID = 10_001
#: The logistics channel id of each carrier name (the reverse of ``LOGISTICS``).
_CHANNEL_IDS = {name: channel for channel, name in LOGISTICS.items()}
#: ``get_tracking_number`` fields returned only when ``response_optional_fields``
#: names them (the reference).
TRACKING_OPTIONAL_FIELDS = (
    "plp_number",
    "first_mile_tracking_number",
    "last_mile_tracking_number",
)
ORDER_SN_ALPHABET = string.ascii_uppercase + string.digits

_LOGISTICS_STATUS = {
    "UNPAID": "LOGISTICS_NOT_START",
    "READY_TO_SHIP": "LOGISTICS_READY",
    "PROCESSED": "LOGISTICS_REQUEST_CREATED",
    "RETRY_SHIP": "LOGISTICS_PICKUP_RETRY",
    "SHIPPED": "LOGISTICS_PICKUP_DONE",
    "TO_CONFIRM_RECEIVE": "LOGISTICS_DELIVERY_DONE",
    "COMPLETED": "LOGISTICS_DELIVERY_DONE",
    "TO_RETURN": "LOGISTICS_DELIVERY_DONE",
    "IN_CANCEL": "LOGISTICS_REQUEST_CANCELED",
    "CANCELLED": "LOGISTICS_INVALID",
}
_NAMES = (
    "Siti Rahmawati",
    "Budi Santoso",
    "Made Wirawan",
    "Nurul Hidayah",
    "Yohanes Lado",
    "Rina Marpaung",
)
_PLACES = (
    ("Coblong", "Dago", "Kota Bandung", "Jawa Barat", "40135"),
    ("Kelapa Lima", "Oesapa", "Kota Kupang", "Nusa Tenggara Timur", "85228"),
    (
        "Pontianak Kota",
        "Sungai Bangkong",
        "Kota Pontianak",
        "Kalimantan Barat",
        "78113",
    ),
    ("Padang Barat", "Olo", "Kota Padang", "Sumatera Barat", "25117"),
    ("Denpasar Selatan", "Sanur", "Kota Denpasar", "Bali", "80228"),
)
_PAYMENTS = ("ShopeePay", "Bank Transfer", "COD")

#: Scalar optional fields of an order detail and their values as JSON (times,
#: amounts and ids are ints), in key order.
_EXTRA_FIELDS: dict[str, Callable[[Order], str]] = {
    "total_amount": lambda order: str(
        sum(line.price * line.quantity for line in order.lines)
    ),
    "pay_time": lambda order: str(order.pay_time),
    "buyer_user_id": lambda order: str(order.buyer_user_id),
    "buyer_username": lambda order: json_string(order.buyer_username),
    "cancel_by": lambda order: json_string(order.cancel_by),
    "cancel_reason": lambda order: json_string(order.cancel_reason),
    "buyer_cancel_reason": lambda order: json_string(
        order.cancel_reason if order.cancel_by == "buyer" else ""
    ),
    "shipping_carrier": lambda order: json_string(order.shipping_carrier),
    "checkout_shipping_carrier": lambda order: json_string(order.shipping_carrier),
    "payment_method": lambda order: json_string(order.payment_method),
    "estimated_shipping_fee": lambda _order: "0",
    "actual_shipping_fee": lambda _order: "0",
    "note": lambda _order: '""',
    "note_update_time": lambda _order: "0",
    "goods_to_declare": lambda _order: "false",
    "split_up": lambda _order: "false",
    "fulfillment_flag": lambda _order: '"fulfilled_by_local_seller"',
    "pickup_done_time": lambda _order: "0",
    "dropshipper": lambda _order: '""',
    "dropshipper_phone": lambda _order: '""',
}


class OrdersApi(SimCore):
    """Orders, their life, and the order and logistics endpoints."""

    def order_routes(self) -> list[tuple[str, str, str, ApiHandler]]:
        """(method, path, signature kind, handler) of every order endpoint."""
        order, logistics = "/api/v2/order/", "/api/v2/logistics/"
        return [
            ("GET", order + "get_order_list", "shop", self._get_order_list),
            ("GET", order + "get_order_detail", "shop", self._get_order_detail),
            ("GET", order + "get_shipment_list", "shop", self._get_shipment_list),
            ("POST", order + "cancel_order", "shop", self._cancel_order),
            (
                "GET",
                logistics + "get_shipping_parameter",
                "shop",
                self._get_shipping_parameter,
            ),
            # The reference's sample answers ship_order with no response object.
            ("POST", logistics + "ship_order", "shop" + TOP_LEVEL, self._ship_order),
            (
                "GET",
                logistics + "get_tracking_number",
                "shop",
                self._get_tracking_number,
            ),
        ]

    # ------------------------------------------------------------------ indexes

    def _index(self, shop_id: int, name: str) -> TimeIndex:
        key = (shop_id, name)
        index = self.order_index.get(key)
        if index is None:
            index = self.order_index[key] = TimeIndex()
        return index

    def index_order(self, order: Order) -> None:
        """Add an order to its shop's create-time, update-time and to-ship indexes."""
        self._index(order.shop_id, "create_time").add(
            order.create_time, order.seq, order.order_sn
        )
        self._index(order.shop_id, "update_time").add(
            order.update_time, order.seq, order.order_sn
        )
        if order.status in ("READY_TO_SHIP", "RETRY_SHIP"):
            self._index(order.shop_id, "ship").add(
                order.create_time, order.seq, order.order_sn
            )
        if order.status == "IN_CANCEL" and order.cancel_due:
            heapq.heappush(self.cancel_due, (order.cancel_due, order.order_sn))

    # ------------------------------------------------------------------ life

    def _order_sn(self, now: int) -> str:
        day = datetime.fromtimestamp(now, UTC).strftime("%y%m%d")
        while True:
            suffix = "".join(self.rng.choice(ORDER_SN_ALPHABET) for _ in range(8))
            order_sn = day + suffix
            if order_sn not in self.orders:
                return order_sn

    def _recipient(self, name: str) -> dict[str, str]:
        district, town, city, state, zipcode = self.rng.choice(_PLACES)
        phone = "62812" + "".join(self.rng.choice(string.digits) for _ in range(7))
        street = f"Jl. Merdeka No. {self.rng.randint(1, 200)}"
        return {
            "name": name,
            "phone": phone,
            "town": town,
            "district": district,
            "city": city,
            "state": state,
            "region": "ID",
            "zipcode": zipcode,
            "full_address": f"{street}, {town}, {district}, {city}, {state}, {zipcode}",
        }

    def create_order(
        self,
        item_id: int,
        model_id: int,
        quantity: int,
        buyer: str,
        *,
        pending: bool = False,
        message_to_seller: str = "",
    ) -> Order | None:
        """A buyer orders ``quantity`` units of one model; None when the listing
        does not show that many (stock is reserved at once, §10.1 rule 13)."""
        item = self.items.get(item_id)
        if item is None or item.item_status != "NORMAL":
            return None
        shop = self.shops[item.shop_id]
        model = item.models.get(model_id)
        if shop.holiday_mode or model is None or (item.has_model and model_id == 0):
            return None
        if quantity < 1 or quantity > model.available:
            return None
        now = self.now()
        carrier = next(
            (c["logistic_name"] for c in item.logistic_info if c.get("enabled")), ""
        )
        line = OrderLine(
            order_item_id=self.next_id("order_item"),
            item_id=item.item_id,
            model_id=model_id,
            item_name=item.item_name,
            item_sku=item.item_sku,
            model_name=model_name(item, model),
            model_sku=model.model_sku,
            quantity=quantity,
            price=model.price,
            weight=item.weight,
        )
        payment = self.rng.choice(_PAYMENTS)
        order = Order(
            order_sn=self._order_sn(now),
            shop_id=item.shop_id,
            seq=self.next_id("order_seq"),
            status="UNPAID",
            create_time=now,
            update_time=now,
            buyer_user_id=zlib.crc32(buyer.encode()) % 1_000_000_000,
            buyer_username=buyer,
            lines=[line],
            recipient=self._recipient(self.rng.choice(_NAMES)),
            payment_method=payment,
            days_to_ship=int(item.pre_order.get("days_to_ship", 2)),
            pending=pending,
            package_number=f"OFG{self.next_id('package')}",
            shipping_carrier=carrier,
            message_to_seller=message_to_seller,
        )
        self.orders[order.order_sn] = order
        self.index_order(order)
        model.reserved += quantity
        self.reserved_changed(item, model)
        self._push_status(order)
        return order

    def transition(self, order: Order, status: str, *, by: str = "") -> bool:
        """Move an order along the state machine; False when not allowed."""
        if status not in TRANSITIONS.get(order.status, frozenset()):
            return False
        old, now = order.status, self.now()
        updates = self._index(order.shop_id, "update_time")
        updates.remove(order.update_time, order.seq, order.order_sn)
        order.update_time = now
        updates.add(now, order.seq, order.order_sn)
        ship = self._index(order.shop_id, "ship")
        if old in ("READY_TO_SHIP", "RETRY_SHIP"):
            ship.remove(order.create_time, order.seq, order.order_sn)
        if status in ("READY_TO_SHIP", "RETRY_SHIP"):
            ship.add(order.create_time, order.seq, order.order_sn)
        order.status = status
        if status != "UNPAID":
            order.pending = False
        if status == "READY_TO_SHIP":
            order.pay_time = now
        if status == "CANCELLED" and not order.cancel_by:
            order.cancel_by = by or "system"
        if old in HOLDING and status not in HOLDING:
            self._settle_stock(order, shipped=status == "SHIPPED")
        self._push_status(order)
        return True

    def _settle_stock(self, order: Order, *, shipped: bool) -> None:
        """Release the reservation; on shipping, the units also leave the stock."""
        for line in order.lines:
            item = self.items.get(line.item_id)
            model = item.models.get(line.model_id) if item else None
            if item is None or model is None:
                continue
            model.reserved = max(model.reserved - line.quantity, 0)
            if shipped:
                _take_stock(model, line.quantity)
            self.reserved_changed(item, model)

    def _push_status(self, order: Order) -> None:
        self.push(
            order.shop_id,
            PUSH_ORDER_STATUS,
            {
                "ordersn": order.order_sn,
                "status": order.status,
                "update_time": order.update_time,
                "completed_scenario": "",
                "items": [],
            },
        )

    def cancel(self, order: Order, *, by: str, reason: str, wait: int = 0) -> bool:
        """Cancel through ``IN_CANCEL``; at once, or after ``wait`` seconds."""
        if order.status not in ("UNPAID", "READY_TO_SHIP", "IN_CANCEL"):
            return False
        order.cancel_by, order.cancel_reason = by, reason
        if order.status != "IN_CANCEL":
            self.transition(order, "IN_CANCEL")
        if wait > 0:
            order.cancel_due = self.now() + wait
            heapq.heappush(self.cancel_due, (order.cancel_due, order.order_sn))
            return True
        order.cancel_due = 0
        return self.transition(order, "CANCELLED", by=by)

    def ship(self, order: Order, tracking_number: str = "") -> bool:
        """Arrange shipment: ``PROCESSED`` with a tracking number (``ship_order``)."""
        if order.status not in ("READY_TO_SHIP", "RETRY_SHIP"):
            return False
        order.tracking_number = tracking_number or (
            "SPXID" + "".join(self.rng.choice(string.digits) for _ in range(12))
        )
        order.tracking_hidden_calls = self.tracking_lag_calls
        self.transition(order, "PROCESSED")
        self.push(
            order.shop_id,
            PUSH_TRACKING_NO,
            {
                "ordersn": order.order_sn,
                "forder_id": "",
                "package_number": order.package_number,
                "tracking_no": order.tracking_number,
            },
        )
        return True

    def process_due(self) -> None:
        """Buyer cancellations waiting in ``IN_CANCEL`` become ``CANCELLED``."""
        now = self.now()
        while self.cancel_due and self.cancel_due[0][0] <= now:
            due, order_sn = heapq.heappop(self.cancel_due)
            order = self.orders.get(order_sn)
            if (
                order is not None
                and order.status == "IN_CANCEL"
                and (order.cancel_due == due)
            ):
                order.cancel_due = 0
                self.transition(order, "CANCELLED", by=order.cancel_by)

    # ------------------------------------------------------------------ output

    def order_detail_json(self, order: Order, view: DetailView) -> bytes:
        """One ``get_order_detail`` entry, as JSON; optional fields only when
        named."""
        ship_by = (order.pay_time or order.create_time) + order.days_to_ship * 86_400
        parts = [
            f'{{"order_sn":{json_string(order.order_sn)},"region":"ID",'
            f'"currency":"IDR","cod":{json_bool(order.payment_method == "COD")},'
            f'"order_status":{json_string(order.shown_status(view.pending))},'
            f'"create_time":{order.create_time},"update_time":{order.update_time},'
            f'"days_to_ship":{order.days_to_ship},"ship_by_date":{ship_by},'
            f'"message_to_seller":{json_string(order.message_to_seller)},'
            '"booking_sn":""'
        ]
        for key, value_of in view.extras:
            parts += [key, value_of(order)]
        optional, lines = view.optional, order.lines
        if "recipient_address" in optional:
            recipient = (
                mask_address(order.recipient) if self.mask_pii else order.recipient
            )
            parts += [',"recipient_address":', JSON.encode(recipient)]
        if "item_list" in optional:
            rows = ",".join([self._line_json(order, line) for line in lines])
            parts += [',"item_list":[', rows, "]"]
        if "package_list" in optional:
            grams = sum(line.weight * line.quantity for line in lines) * 1000
            package = {
                "package_number": order.package_number,
                "group_shipment_id": None,
                "logistics_status": _LOGISTICS_STATUS.get(
                    order.status, "LOGISTICS_NOT_START"
                ),
                "shipping_carrier": order.shipping_carrier,
                "logistics_channel_id": _CHANNEL_IDS.get(order.shipping_carrier, 0),
                "parcel_chargeable_weight_gram": round(grams),
                "allow_self_design_awb": False,
                "item_list": [
                    {
                        "item_id": line.item_id,
                        "model_id": line.model_id,
                        "model_quantity": line.quantity,
                        "order_item_id": line.order_item_id,
                        "promotion_group_id": 0,
                        "product_location_id": DEFAULT_LOCATION,
                    }
                    for line in lines
                ],
            }
            parts += [',"package_list":', JSON.encode([package])]
        parts.append("}")
        return "".join(parts).encode()

    def order_fragment(self, order: Order, view: DetailView) -> bytes:
        """:meth:`order_detail_json`, rendered again only when what it shows
        changes: the order's status and times, its cancellation, or the fields
        asked for. (It also shows the first image of each ordered item: a change
        of an item's images forgets every order's fragment, see ``update_item``.)
        """
        signature = (
            order.status,
            order.update_time,
            order.pay_time,
            order.pending,
            order.cancel_by,
            order.cancel_reason,
            *view.key,
        )
        return self.order_fragments.get(
            order.order_sn, signature, self.order_detail_json, order, view
        )

    def _line_json(self, order: Order, line: OrderLine) -> str:
        """One ``item_list`` entry of an order detail, as JSON."""
        item = self.items.get(line.item_id)
        image = image_url(item.image_ids[0]) if item and item.image_ids else ""
        cancelled = line.quantity if order.status == "CANCELLED" else 0
        return (
            f'{{"item_id":{line.item_id},"item_name":{json_string(line.item_name)},'
            f'"item_sku":{json_string(line.item_sku)},"model_id":{line.model_id},'
            f'"model_name":{json_string(line.model_name)},'
            f'"model_sku":{json_string(line.model_sku)},'
            f'"model_quantity_purchased":{line.quantity},'
            f'"model_original_price":{line.price},'
            f'"model_discounted_price":{line.price},"wholesale":false,'
            f'"weight":{json_number(line.weight)},"add_on_deal":false,'
            '"main_item":false,"add_on_deal_id":0,"promotion_type":"",'
            f'"promotion_id":0,"order_item_id":{line.order_item_id},'
            '"promotion_group_id":0,'
            f'"image_info":{{"image_url":{json_string(image)}}},'
            f'"product_location_id":[{json_string(DEFAULT_LOCATION)}],'
            '"is_prescription_item":false,"is_b2c_owned_item":false,'
            f'"active_qty":{line.quantity - cancelled},"cancelled_qty":{cancelled}}}'
        )

    # ------------------------------------------------------------------ reading

    def _csv(self, req: SimRequest, name: str) -> list[str]:
        values: list[str] = []
        for raw in req.query.get_list(name):
            values.extend(part for part in map(str.strip, raw.split(",")) if part)
        return values

    def _order_page_size(self, ctx: Ctx, req: SimRequest, default: int) -> int:
        raw = req.query.get("page_size")
        size = default if raw in (None, "") else to_int(raw)
        if size is None or not 1 <= size <= 100:
            raise self.param_error(ctx, "page_size should be between 1 and 100.")
        return size

    def _get_order_list(
        self, ctx: Ctx, req: SimRequest
    ) -> dict[str, Any] | httpx.Response:
        query = req.query
        shop = self.shop_of(ctx)
        field_name = query.get("time_range_field", "")
        if field_name not in ("create_time", "update_time"):
            raise self.param_error(
                ctx, "time_range_field should be create_time or update_time."
            )
        time_from = to_int(query.get("time_from", ""))
        time_to = to_int(query.get("time_to", ""))
        if time_from is None or time_to is None:
            raise self.param_error(ctx, "time_from and time_to are required integers.")
        if time_from >= time_to or time_to - time_from > ORDER_WINDOW_SECONDS:
            raise ApiError(
                self.err(ctx.module, "order_list_invalid_time"),
                "Start time must be earlier than end time and diff in 15days.",
            )
        size = self._order_page_size(ctx, req, 20)
        pending = query.get("request_order_status_pending", "").lower() == "true"
        statuses = self._csv(req, "order_status")
        if len(statuses) > 1:
            raise self.param_error(ctx, "order_status accepts one value.")
        wanted = statuses[0] if statuses else None
        if wanted is not None and (
            wanted not in ORDER_STATUSES or (wanted == "PENDING" and not pending)
        ):
            raise self.param_error(ctx, f"order_status {wanted} is invalid.")
        optional = set(self._csv(req, "response_optional_fields"))
        keys = self._index(shop.shop_id, field_name).keys
        start = bisect_left(keys, (time_from,))
        end = bisect_left(keys, (time_to + 1,))
        cursor = query.get("cursor", "")
        if cursor:
            position = decode_cursor(cursor)
            if position is None:
                raise self.param_error(ctx, "cursor is invalid.")
            start = max(start, bisect_left(keys, (position[0], position[1] + 1)))
        if wanted is None:  # every order in the window: the page and one more
            rows = keys[start : min(end, start + size + 1)]
        else:
            rows = []
            index = start
            while index < end and len(rows) <= size:
                key = keys[index]
                index += 1
                if self.orders[key[2]].shown_status(pending) == wanted:
                    rows.append(key)
        page, more = rows[:size], len(rows) > size
        next_cursor = encode_cursor(page[-1][0], page[-1][1]) if more else ""
        fault = self.faults.page_fault(ctx.endpoint, first=not cursor) if rows else None
        if fault is PageFault.EMPTY:
            first = rows[0]
            return {
                "more": True,
                "next_cursor": encode_cursor(first[0], first[1] - 1, "e"),
                "order_list": [],
            }
        if fault is PageFault.REPEAT:  # the cursor just sent comes back
            more, next_cursor = True, cursor
        elif fault is PageFault.SHIFT and len(page) > 1:  # the last row comes again
            more, kept = True, page[-2]
            next_cursor = encode_cursor(kept[0], kept[1], "s")
        if "order_status" in optional:  # {"order_sn", "order_status"}
            orders = self.orders
            order_list = [
                f'{{"order_sn":{json_string(order_sn)},"order_status":'
                f"{json_string(orders[order_sn].shown_status(pending))}}}".encode()
                for _, _, order_sn in page
            ]
        else:  # {"order_sn"}
            order_list = [
                f'{{"order_sn":{json_string(order_sn)}}}'.encode()
                for _, _, order_sn in page
            ]
        before = {"more": more, "next_cursor": next_cursor}
        return self.ok_encoded(object_with_list(before, "order_list", order_list, {}))

    def _get_order_detail(self, ctx: Ctx, req: SimRequest) -> httpx.Response:
        shop = self.shop_of(ctx)
        numbers = self._csv(req, "order_sn_list")
        if not 1 <= len(numbers) <= 50:
            raise self.param_error(ctx, "order_sn_list should hold 1 to 50 order_sn.")
        optional = set(self._csv(req, "response_optional_fields"))
        pending = req.query.get("request_order_status_pending", "").lower() == "true"
        found = (self.orders.get(order_sn) for order_sn in dict.fromkeys(numbers))
        view = DetailView(optional, pending, self.mask_pii)
        fragments = [
            self.order_fragment(order, view)
            for order in found
            if order is not None and order.shop_id == shop.shop_id
        ]
        return self.ok_encoded(object_with_list({}, "order_list", fragments, {}))

    def _get_shipment_list(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        shop = self.shop_of(ctx)
        size = self._order_page_size(ctx, req, 20)
        keys = self._index(shop.shop_id, "ship").keys
        start = 0
        cursor = req.query.get("cursor", "")
        if cursor:
            position = decode_cursor(cursor)
            if position is None:
                raise self.param_error(ctx, "cursor is invalid.")
            start = bisect_left(keys, (position[0], position[1] + 1))
        rows = keys[start : start + size + 1]
        page, more = rows[:size], len(rows) > size
        return {
            "order_list": [
                {
                    "order_sn": order_sn,
                    "package_number": self.orders[order_sn].package_number,
                }
                for _, _, order_sn in page
            ],
            "more": more,
            "next_cursor": encode_cursor(page[-1][0], page[-1][1]) if more else "",
        }

    def _own_order(self, ctx: Ctx, raw: object) -> Order:
        if not isinstance(raw, str) or not raw:
            raise self.param_error(ctx, "order_sn is a required field.")
        order = self.orders.get(raw)
        if order is None or order.shop_id != self.shop_of(ctx).shop_id:
            raise ApiError(
                self.err(ctx.module, "error_not_found"),
                f"Wrong parameters, detail: order {raw} is not found.",
            )
        return order

    # ------------------------------------------------------------------ acting

    def _cancel_order(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        order = self._own_order(ctx, data.get("order_sn"))
        reason = data.get("cancel_reason")
        if reason not in CANCEL_REASONS:
            raise self.param_error(
                ctx,
                "cancel_reason should be one of OUT_OF_STOCK, CUSTOMER_REQUEST, "
                "UNDELIVERABLE_AREA, COD_NOT_SUPPORTED.",
            )
        if reason == "OUT_OF_STOCK":
            lines = data.get("item_list")
            ordered = {(line.item_id, line.model_id) for line in order.lines}
            if not isinstance(lines, list) or not lines:
                raise self.param_error(
                    ctx, "item_list is required when cancel_reason is OUT_OF_STOCK."
                )
            for entry in lines:
                pair = (
                    (to_int(entry.get("item_id")), to_int(entry.get("model_id")))
                    if isinstance(entry, dict)
                    else (None, None)
                )
                if pair not in ordered:
                    raise self.param_error(
                        ctx, f"item_list entry {entry} is not ordered."
                    )
        if not self.cancel(order, by="seller", reason=str(reason)):
            raise self.param_error(
                ctx,
                f"an order in status {order.status} cannot be cancelled; "
                "cancellation is allowed only before shipping.",
            )
        return {"update_time": order.update_time}

    def _slots(self) -> list[dict[str, Any]]:
        today = datetime.fromtimestamp(self.now(), WIB).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        slots: list[dict[str, Any]] = []
        for days in (1, 2, 3):
            start = today + timedelta(days=days, hours=9)
            stamp = int(start.timestamp())
            slots.append(
                {
                    "date": stamp,
                    "time_text": start.strftime("%d/%m/%Y 09:00-17:00"),
                    "pickup_time_id": str(stamp),
                }
            )
        return slots

    def _get_shipping_parameter(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        order = self._own_order(ctx, req.query.get("order_sn", ""))
        place = _PLACES[order.seq % len(_PLACES)]
        return {
            "info_needed": {
                "pickup": ["address_id", "pickup_time_id"],
                "dropoff": [],
                "non_integrated": ["tracking_number"],
            },
            "pickup": {
                "address_list": [
                    {
                        "address_id": PICKUP_ADDRESS_ID,
                        "region": "ID",
                        "state": place[3],
                        "city": place[2],
                        "district": place[0],
                        "town": place[1],
                        "address": "Jl. Industri Kecil No. 1",
                        "zipcode": place[4],
                        "address_flag": [
                            "default_address",
                            "pickup_address",
                            "return_address",
                        ],
                        "time_slot_list": self._slots(),
                    }
                ]
            },
            "dropoff": None,  # a pickup channel, as in the reference's sample
        }

    def _ship_order(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        data = self.body(ctx, req)
        order = self._own_order(ctx, data.get("order_sn"))
        package = data.get("package_number")
        if package not in (None, "", order.package_number):
            raise self.param_error(
                ctx, f"package_number {package} is not this order's."
            )
        ways = [w for w in ("pickup", "dropoff", "non_integrated") if data.get(w)]
        if len(ways) != 1:
            raise self.param_error(
                ctx, "set exactly one of pickup, dropoff and non_integrated."
            )
        way = data[ways[0]]
        if not isinstance(way, dict):
            raise self.param_error(ctx, f"{ways[0]} must be an object.")
        tracking = ""
        if ways[0] == "pickup":
            slots = {slot["pickup_time_id"] for slot in self._slots()}
            if to_int(way.get("address_id")) != PICKUP_ADDRESS_ID:
                raise self.param_error(ctx, "address_id is invalid.")
            if str(way.get("pickup_time_id", "")) not in slots:
                raise self.param_error(ctx, "pickup_time_id is invalid.")
        elif ways[0] == "non_integrated":
            tracking = way.get("tracking_number", "")
            if not isinstance(tracking, str) or not tracking:
                raise self.param_error(
                    ctx, "non_integrated.tracking_number is required."
                )
        if not self.ship(order, tracking):
            raise self.param_error(
                ctx,
                f"an order in status {order.status} cannot be shipped; ship_order "
                "needs READY_TO_SHIP or RETRY_SHIP.",
            )
        return {}

    def _get_tracking_number(self, ctx: Ctx, req: SimRequest) -> dict[str, Any]:
        order = self._own_order(ctx, req.query.get("order_sn", ""))
        number = order.tracking_number
        if number and order.tracking_hidden_calls > 0:
            order.tracking_hidden_calls -= 1
            number = ""
        answer: dict[str, Any] = {"tracking_number": number}
        asked = req.query.get("response_optional_fields", "").split(",")
        for name in TRACKING_OPTIONAL_FIELDS:
            if name in asked:  # returned only when named, as in the reference
                answer[name] = ""
        if not number:
            answer["hint"] = "The tracking number is not ready yet."
        return answer


class DetailView:
    """What one ``get_order_detail`` request asks to see, and the part of every
    detail's signature that it decides."""

    def __init__(self, optional: set[str], pending: bool, mask_pii: bool) -> None:
        self.optional = optional
        self.pending = pending
        #: The optional fields of :data:`_EXTRA_FIELDS` asked for, in the order
        #: the set intersection gives them (the order of their keys), as
        #: ``,"name":`` and how to write the value.
        self.extras = [
            (f",{json_string(name)}:", _EXTRA_FIELDS[name])
            for name in optional & _EXTRA_FIELDS.keys()
        ]
        # Masking matters only where the address is shown; the fields go in the
        # set's own order (which decides the order of the extra keys). A flat
        # tuple of plain values: the garbage collector stops tracking signatures.
        masked = mask_pii if "recipient_address" in optional else None
        self.key: tuple[object, ...] = (pending, masked, *optional)


def _take_stock(model: Model, units: int) -> None:
    """Remove shipped units from the seller stock, fullest location first."""
    for location in sorted(model.stock, key=lambda loc: -model.stock[loc]):
        if units <= 0:
            return
        taken = min(units, model.stock[location])
        model.stock[location] -= taken
        units -= taken
