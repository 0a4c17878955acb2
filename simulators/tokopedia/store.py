"""Tokopedia simulator: the marketplace's data and the rules that change it.

Apps, shops, tokens, products, orders and webhook registrations, with the indexes that
keep lookups off linear scans (SKU, URL, invoice, and per shop / warehouse order lists
sorted by ``create_time``). Order status changes give stock back on cancellation and
send the webhooks (§7), signed with ``Authorization-Hmac``.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import heapq
import hmac
import json
import random
from dataclasses import asdict, fields
from typing import Any

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.kit.fragments import FragmentCache
from simulators.kit.webhooks import WebhookDispatcher
from simulators.tokopedia.model import (
    BUYER_CANCELLABLE,
    CANCEL_REQUESTABLE,
    CANCELLED,
    App,
    Buyer,
    Order,
    OrderLine,
    Product,
    Shop,
    Token,
)
from simulators.tokopedia.payloads import (
    SHOP_HOST,
    invoice_number,
    notification_payload,
    slug,
    status_payload,
)

SIGNATURE_HEADER = "Authorization-Hmac"
WEBHOOK_URL_KEYS = (
    "order_notification_url",
    "order_cancellation_url",
    "order_status_url",
    "order_request_cancellation_url",
    "chat_notification_url",
    "product_creation_url",
    "product_changes_url",
    "campaign_notification_url",
    "order_actions_url",
    "order_confirm_delivery_notification_url",
    "product_edit_url",
    "product_discussion_url",
)
WEBHOOK_TYPES = {
    "order_notification": "order_notification_url",
    "order_status": "order_status_url",
    "order_cancellation": "order_cancellation_url",
    "order_request_cancellation": "order_request_cancellation_url",
}
_BUYER_NAMES = ("Siti Rahma", "Budi Santoso", "Dewi Lestari", "Agus Wijaya")
_CITIES = (
    ("Kebayoran Baru", "Kota Administrasi Jakarta Selatan", "DKI Jakarta", "12110"),
    ("Coblong", "Kota Bandung", "Jawa Barat", "40132"),
    ("Gubeng", "Kota Surabaya", "Jawa Timur", "60281"),
    ("Depok", "Kab. Sleman", "DI Yogyakarta", "55281"),
)
#: Buyer events → the status steps they take from each status.
_BUYER_STEPS: dict[BuyerEvent, dict[int, tuple[int, ...]]] = {
    BuyerEvent.PAY: {100: (220,), 103: (220,)},
    BuyerEvent.CANCEL: dict.fromkeys(BUYER_CANCELLABLE, (15,)),
    BuyerEvent.SHIP: {220: (400, 500), 400: (500,), 450: (500,)},
    BuyerEvent.DELIVER: {500: (600,), 540: (600,)},
    BuyerEvent.COMPLETE: {600: (700,), 601: (700,)},
    BuyerEvent.RETURN: dict.fromkeys((500, 540, 600, 601), (550,)),
}

Deadline = tuple[float, int, int, str, int]  # at, sequence, order id, kind, stamp


class Store:
    """Everything the simulated marketplace knows; callers hold the simulator lock."""

    def __init__(
        self,
        *,
        rng: random.Random,
        clock: SimClock,
        webhooks: WebhookDispatcher,
        cancel_request_delay: float,
        auto_cancel_after: float | None,
    ) -> None:
        self.rng, self.clock, self.webhooks = rng, clock, webhooks
        self.cancel_request_delay = cancel_request_delay
        self.auto_cancel_after = auto_cancel_after
        self.clear()

    def clear(self) -> None:
        """Forget everything."""
        self.apps: dict[int, App] = {}
        self.apps_by_client: dict[str, App] = {}
        self.shops: dict[int, Shop] = {}
        self.warehouses: dict[int, int] = {}
        self.tokens: dict[str, Token] = {}
        self.current_token: dict[int, str] = {}
        self.products: dict[int, Product] = {}
        self.shop_products: dict[int, list[int]] = {}
        self.skus: dict[tuple[int, str], int] = {}
        self.urls: dict[str, int] = {}
        self.orders: dict[int, Order] = {}
        self.invoices: dict[str, int] = {}
        self.order_index: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self.registrations: dict[int, dict[str, Any]] = {}
        self.deadlines: list[Deadline] = []
        self.counters = {"product": 0, "order": 0, "payment": 0, "sequence": 0}
        # Encoded list items (product info, order rows) by id, made again when what
        # they show changes; they go with the records they were made from.
        self.product_items = FragmentCache(limit=None)
        self.order_rows = FragmentCache(limit=None)

    def provision(self) -> None:
        """Draw the id ranges, then one app with one linked shop."""
        self.counters["product"] = self.rng.randint(15_000_000, 15_900_000)
        self.counters["order"] = self.rng.randint(40_000_000, 49_000_000)
        self.counters["payment"] = self.rng.randint(11_000_000, 11_900_000)
        app = self.add_app()
        self.add_shop(app.fs_id, "Toko IKM Nusantara")

    def next_id(self, counter: str) -> int:
        """The next id of a kind (increasing, seeded gaps)."""
        self.counters[counter] += self.rng.randint(1, 7)
        return self.counters[counter]

    def now(self) -> int:
        """Simulated Unix seconds."""
        return self.clock.timestamp()

    # ---------------------------------------------------------------- apps, tokens

    def add_app(self) -> App:
        """A new partner app with fresh ``fs_id``, ``client_id`` and secret."""
        fs_id = self.rng.randint(10_000, 99_999)
        while fs_id in self.apps:
            fs_id += 1
        app = App(
            fs_id,
            f"{self.rng.getrandbits(128):032x}",
            f"{self.rng.getrandbits(128):032x}",
        )
        self.apps[fs_id] = app
        self.apps_by_client[app.client_id] = app
        return app

    def add_shop(self, fs_id: int | None, name: str = "") -> Shop:
        """A new shop linked to ``fs_id`` (None: unlinked), with its warehouse."""
        shop_id = self.rng.randint(400_000, 999_999)
        while shop_id in self.shops:
            shop_id += 1
        warehouse_id = self.rng.randint(1_000, 99_999)
        while warehouse_id in self.warehouses:
            warehouse_id += 1
        name = name or f"Toko {shop_id}"
        shop = Shop(shop_id, fs_id, name, slug(name), warehouse_id)
        self.shops[shop_id] = shop
        self.warehouses[warehouse_id] = shop_id
        self.shop_products[shop_id] = []
        return shop

    def token_for(self, app: App, lifetime: int) -> Token:
        """The app's current token, or a new one once it has expired."""
        now = self.clock.now().timestamp()
        current = self.tokens.get(self.current_token.get(app.fs_id, ""))
        if current is None or current.expires_at <= now:
            raw = self.rng.randbytes(24)
            value = "c:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
            current = Token(value, app.fs_id, now + lifetime)
            self.tokens[value] = current
            self.current_token[app.fs_id] = value
        return current

    # ---------------------------------------------------------------- products

    def new_product(self, shop: Shop, fields: dict[str, Any]) -> Product:
        """Create a product from validated create fields."""
        now = self.now()
        product_id = self.next_id("product")
        url = f"{SHOP_HOST}/{shop.domain}/{slug(fields['name'])}"
        if url in self.urls:
            url = f"{url}-{product_id}"
        product = Product(
            product_id=product_id,
            shop_id=shop.shop_id,
            name=fields["name"],
            category_id=fields["category_id"],
            price=fields["price"],
            price_currency=fields["price_currency"],
            stock_status=fields["status"],
            weight=fields["weight"],
            weight_unit=fields["weight_unit"],
            condition=fields["condition"],
            min_order=fields["min_order"],
            main_stock=0,
            url=url,
            created_at=now,
            updated_at=now,
            price_updated_at=now,
            sku=fields.get("sku", ""),
            description=fields.get("description", ""),
            dimension=fields.get("dimension"),
            pictures=fields.get("pictures", []),
            etalase_id=fields.get("etalase"),
            extra=fields.get("extra", {}),
        )
        stock = fields.get("stock", 0)
        if stock == 0:
            self.apply_stock(product, 0, bypass=False)
        else:
            product.main_stock = stock
        self.index_product(product)
        return product

    def index_product(self, product: Product) -> None:
        """Add a product to every index."""
        self.products[product.product_id] = product
        self.shop_products.setdefault(product.shop_id, []).append(product.product_id)
        if product.sku:
            self.skus[(product.shop_id, product.sku)] = product.product_id
        self.urls[product.url] = product.product_id

    def sku_taken(self, shop_id: int, sku: str) -> bool:
        """Whether a product of the shop already has ``sku``."""
        return (shop_id, sku) in self.skus

    def apply_stock(self, product: Product, stock: int, *, bypass: bool) -> None:
        """Set ``main_stock``; 0 → EMPTY, > 0 lifts EMPTY, unless ``bypass``."""
        product.main_stock = stock
        if bypass:
            return
        if stock == 0:
            product.stock_status = "EMPTY"
        elif product.stock_status == "EMPTY":
            product.stock_status = "LIMITED"

    def edit_product(self, product: Product, fields: dict[str, Any]) -> None:
        """Apply validated edit fields (name lock and SKU clash checked before)."""
        now = self.now()
        for name, value in fields.items():
            match name:
                case "status":
                    product.stock_status = value
                case "etalase":
                    product.etalase_id = value
                case "extra":
                    product.extra.update(value)
                case "stock" | "sku":
                    pass
                case "price":
                    product.price, product.price_updated_at = value, now
                case _:
                    setattr(product, name, value)
        sku = fields.get("sku")
        if sku is not None and sku != product.sku:
            self.skus.pop((product.shop_id, product.sku), None)
            product.sku = sku
            if sku:
                self.skus[(product.shop_id, sku)] = product.product_id
        if "stock" in fields:
            self.apply_stock(product, fields["stock"], bypass=False)
        product.updated_at = now

    # ---------------------------------------------------------------- orders

    def place_order(self, product: Product, quantity: int, buyer: str) -> Order:
        """A new order (status 100); stock leaves ``main_stock`` now."""
        shop = self.shops[product.shop_id]
        now = self.now()
        order_id = self.next_id("order")
        self.apply_stock(product, product.main_stock - quantity, bypass=False)
        product.has_order = True
        weight = (
            product.weight / 1000 if product.weight_unit == "GR" else product.weight
        )
        district, city, province, postal = self.rng.choice(_CITIES)
        order = Order(
            order_id=order_id,
            invoice_ref_num=invoice_number(order_id, now),
            fs_id=shop.fs_id or 0,
            shop_id=shop.shop_id,
            warehouse_id=shop.warehouse_id,
            payment_id=self.next_id("payment"),
            buyer=Buyer(
                buyer_id=self.rng.randint(1_000_000, 9_999_999),
                name=buyer or self.rng.choice(_BUYER_NAMES),
                phone=f"628{self.rng.randint(100_000_000, 999_999_999)}",
                email=f"{slug(buyer or 'pembeli')}@example.com",
                address=f"Jl. Merdeka No. {self.rng.randint(1, 200)}",
                district=district,
                city=city,
                province=province,
                postal_code=postal,
            ),
            lines=[
                OrderLine(
                    product.product_id,
                    product.sku,
                    product.name,
                    quantity,
                    product.price,
                    round(weight, 6),
                )
            ],
            status=100,
            create_time=now,
            update_time=now,
            shipping_cost=self.rng.choice((9_000, 10_000, 15_000)),
            history=[(100, now)],
        )
        self.orders[order_id] = order
        self.invoices[order.invoice_ref_num] = order_id
        return order

    def change_status(self, order: Order, status: int) -> None:
        """Move an order; cancellation gives stock back; webhooks follow."""
        now = self.now()
        order.status = status
        order.update_time = now
        order.history.append((status, now))
        if status in CANCELLED:
            order.cancel_request_open = False
            self._restock(order)
        if status == 220 and not order.listed:
            order.listed = True
            self._index_order(order)
            self.send_webhook(order, "order_notification")
            if self.auto_cancel_after is not None:
                self.schedule(now + self.auto_cancel_after, order, "auto_cancel")
        if order.listed:
            self.send_webhook(order, "order_status")
            if status in CANCELLED:
                self.send_webhook(order, "order_cancellation")

    def _index_order(self, order: Order) -> None:
        for key in (("shop", order.shop_id), ("warehouse", order.warehouse_id)):
            bisect.insort(
                self.order_index.setdefault(key, []),
                (order.create_time, order.order_id),
            )

    def _restock(self, order: Order) -> None:
        if order.restocked:
            return
        order.restocked = True
        for line in order.lines:
            product = self.products.get(line.product_id)
            if product is not None:
                self.apply_stock(
                    product, product.main_stock + line.quantity, bypass=False
                )

    def request_cancellation(self, order: Order, reason: str) -> bool:
        """The buyer asks to cancel an accepted order; the request stays open."""
        if order.status not in CANCEL_REQUESTABLE or order.cancel_request_open:
            return False
        now = self.now()
        order.cancel_request_open = True
        order.cancel_request_reason = reason or "Ingin mengubah pesanan"
        order.cancel_request_time = now
        self.schedule(now + self.cancel_request_delay, order, "cancel_request")
        self.send_webhook(order, "order_request_cancellation")
        return True

    def buyer_event(self, order: Order, event: BuyerEvent) -> bool:
        """Apply a buyer event (see the simulator's ``buyer_event``)."""
        if event is BuyerEvent.CANCEL and order.status in CANCEL_REQUESTABLE:
            return self.request_cancellation(order, "")
        steps = _BUYER_STEPS[event].get(order.status, ())
        if event is BuyerEvent.SHIP and steps and not order.shipping_ref_num:
            order.shipping_ref_num = f"JNE{self.rng.randint(10**11, 10**12 - 1)}"
        for step in steps:
            self.change_status(order, step)
        return bool(steps)

    def schedule(self, at: float, order: Order, kind: str) -> None:
        """A clock-driven transition: ``cancel_request`` expiry or ``auto_cancel``."""
        self.counters["sequence"] += 1
        stamp = order.cancel_request_time if kind == "cancel_request" else 0
        heapq.heappush(
            self.deadlines, (at, self.counters["sequence"], order.order_id, kind, stamp)
        )

    def tick(self) -> int:
        """Apply the transitions that are due; returns how many."""
        if not self.deadlines:
            return 0
        now, done = self.clock.now().timestamp(), 0
        while self.deadlines and self.deadlines[0][0] <= now:
            _at, _seq, order_id, kind, stamp = heapq.heappop(self.deadlines)
            order = self.orders.get(order_id)
            if order is None:
                continue
            if (
                kind == "cancel_request"
                and order.cancel_request_open
                and order.cancel_request_time == stamp
            ):
                order.cancel_request_open = False
                self.change_status(order, 15)
                done += 1
            elif kind == "auto_cancel" and order.status == 220:
                self.change_status(order, 6)
                done += 1
        return done

    # ---------------------------------------------------------------- webhooks

    def payload(self, order: Order, kind: str) -> dict[str, Any]:
        """The body of a webhook of ``kind`` about ``order``, as it would go now."""
        if kind == "order_notification":
            return notification_payload(order)
        return status_payload(order)

    def send_webhook(self, order: Order, kind: str, url: str | None = None) -> None:
        """Sign and send one webhook to ``url`` (default: the registered one)."""
        registration = self.registrations.get(order.fs_id) or {}
        if url is None:
            url = registration.get(WEBHOOK_TYPES[kind], "")
        if not url:
            return
        secret = str(registration.get("webhook_secret", ""))
        body = json.dumps(
            self.payload(order, kind), ensure_ascii=False, separators=(",", ":")
        ).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        self.webhooks.send(
            url,
            body,
            {"Content-Type": "application/json", SIGNATURE_HEADER: signature},
            SIGNATURE_HEADER,
        )

    # ---------------------------------------------------------------- state

    def export(self) -> dict[str, Any]:
        """Everything, JSON-ready (the random generator included)."""
        version, internal, gauss = self.rng.getstate()
        return {
            "apps": [asdict(a) for a in self.apps.values()],
            "shops": [asdict(s) for s in self.shops.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
            "current_tokens": {str(k): v for k, v in self.current_token.items()},
            "products": [_product_state(p) for p in self.products.values()],
            "orders": [_order_state(o) for o in self.orders.values()],
            "registrations": {str(k): v for k, v in self.registrations.items()},
            "deadlines": [list(d) for d in self.deadlines],
            "counters": dict(self.counters),
            "rng": [version, list(internal), gauss],
        }

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`export`'s output; indexes are rebuilt."""
        self.clear()
        for raw in state["apps"]:
            app = App(**raw)
            self.apps[app.fs_id] = app
            self.apps_by_client[app.client_id] = app
        for raw in state["shops"]:
            shop = Shop(**raw)
            self.shops[shop.shop_id] = shop
            self.warehouses[shop.warehouse_id] = shop.shop_id
            self.shop_products[shop.shop_id] = []
        for raw in state["tokens"]:
            token = Token(**raw)
            self.tokens[token.access_token] = token
        self.current_token = {int(k): v for k, v in state["current_tokens"].items()}
        for raw in state["products"]:
            self.index_product(Product(**raw))
        for raw in state["orders"]:
            order = Order(
                **{
                    **raw,
                    "buyer": Buyer(**raw["buyer"]),
                    "lines": [OrderLine(**line) for line in raw["lines"]],
                    "history": [(int(s), int(t)) for s, t in raw["history"]],
                }
            )
            self.orders[order.order_id] = order
            self.invoices[order.invoice_ref_num] = order.order_id
            if order.listed:
                for key in (("shop", order.shop_id), ("warehouse", order.warehouse_id)):
                    self.order_index.setdefault(key, []).append(
                        (order.create_time, order.order_id)
                    )
        for index in self.order_index.values():
            index.sort()
        self.registrations = {int(k): v for k, v in state["registrations"].items()}
        self.deadlines = [
            (float(a), int(s), int(o), str(k), int(st))
            for a, s, o, k, st in state["deadlines"]
        ]
        heapq.heapify(self.deadlines)
        self.counters = {k: int(v) for k, v in state["counters"].items()}
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))


_PRODUCT_FIELDS = tuple(f.name for f in fields(Product))
_ORDER_SCALARS = tuple(
    f.name for f in fields(Order) if f.name not in {"buyer", "lines", "history"}
)
_BUYER_FIELDS = tuple(f.name for f in fields(Buyer))


def _product_state(product: Product) -> dict[str, Any]:
    """A product as JSON-ready data (``asdict`` is too slow for 100,000 rows)."""
    out = {name: getattr(product, name) for name in _PRODUCT_FIELDS}
    out["pictures"] = list(product.pictures)
    out["dimension"] = dict(product.dimension) if product.dimension else None
    out["extra"] = json.loads(json.dumps(product.extra)) if product.extra else {}
    return out


def _order_state(order: Order) -> dict[str, Any]:
    """An order as JSON-ready data."""
    out = {name: getattr(order, name) for name in _ORDER_SCALARS}
    out["buyer"] = {name: getattr(order.buyer, name) for name in _BUYER_FIELDS}
    out["lines"] = [
        {
            "product_id": line.product_id,
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "price": line.price,
            "weight": line.weight,
        }
        for line in order.lines
    ]
    out["history"] = [[status, at] for status, at in order.history]
    return out
