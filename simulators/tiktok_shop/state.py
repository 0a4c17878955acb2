"""TikTok Shop simulator: the marketplace's data and the rules that change it.

The app, sellers, shops (with their ``shop_cipher``), approval codes, token grants,
products and orders. Order status changes give stock back on cancellation and send
type-1 webhooks signed as §8 says: ``Authorization`` = hex HMAC-SHA256(key =
``app_secret``, msg = ``app_key`` + raw body), each with its own
``tts_notification_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from dataclasses import asdict
from typing import Any

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.kit.webhooks import WebhookDispatcher
from simulators.tiktok_shop.model import (
    ACCESS_TOKEN_LIFETIME,
    ACTIVATE,
    AUTH_CODE_LIFETIME,
    AWAITING_COLLECTION,
    AWAITING_SHIPMENT,
    CANCELLED,
    COMPLETED,
    DELIVERED,
    IN_TRANSIT,
    REFRESH_TOKEN_LIFETIME,
    UNPAID,
    App,
    Grant,
    LineItem,
    Order,
    Product,
    Seller,
    Shop,
    Sku,
)
from simulators.tiktok_shop.payloads import order_status_webhook

SIGNATURE_HEADER = "Authorization"
DEFAULT_REDIRECT = "https://ikm-sync.example/tiktok_shop/callback"

#: Buyer events → the status steps they take from each status. Returns are a
#: separate return/refund flow outside §7's statuses: not simulated.
_BUYER_STEPS: dict[BuyerEvent, dict[str, tuple[str, ...]]] = {
    BuyerEvent.PAY: {UNPAID: (AWAITING_SHIPMENT,)},
    BuyerEvent.CANCEL: {UNPAID: (CANCELLED,), AWAITING_SHIPMENT: (CANCELLED,)},
    BuyerEvent.SHIP: {
        AWAITING_SHIPMENT: (AWAITING_COLLECTION, IN_TRANSIT),
        AWAITING_COLLECTION: (IN_TRANSIT,),
    },
    BuyerEvent.DELIVER: {IN_TRANSIT: (DELIVERED,)},
    BuyerEvent.COMPLETE: {DELIVERED: (COMPLETED,)},
    BuyerEvent.RETURN: {},
}


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """§8: lowercase hex HMAC-SHA256(key = app_secret, msg = app_key + raw body)."""
    message = app_key.encode("utf-8") + body
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class Store:
    """Everything the simulated marketplace knows; callers hold the simulator lock."""

    def __init__(
        self, *, rng: random.Random, clock: SimClock, webhooks: WebhookDispatcher
    ) -> None:
        self.rng, self.clock, self.webhooks = rng, clock, webhooks
        self.access_lifetime = ACCESS_TOKEN_LIFETIME
        self.refresh_lifetime = REFRESH_TOKEN_LIFETIME
        self.clear()

    def clear(self) -> None:
        """Forget everything."""
        self.app = App("", "", "", DEFAULT_REDIRECT)
        self.sellers: dict[str, Seller] = {}
        self.shops: dict[str, Shop] = {}
        self.codes: dict[str, tuple[str, int]] = {}  # code → (open_id, expires)
        self.grants: dict[str, Grant] = {}  # by access token
        self.refresh_index: dict[str, str] = {}  # refresh token → access token
        self.products: dict[str, Product] = {}
        self.sku_index: dict[tuple[str, str], str] = {}  # (shop, seller_sku) → pid
        self.orders: dict[str, Order] = {}
        self.counters = {"product": 0, "sku": 0, "order": 0, "line": 0, "note": 0}

    def provision(self) -> None:
        """Draw the app's credentials and id ranges, then one seller with one shop."""
        self.app = App(
            app_key=f"6{self.rng.getrandbits(64):016x}",
            app_secret=f"{self.rng.getrandbits(160):040x}",
            service_id=str(self.rng.randint(7_000_000_000, 7_999_999_999)),
            redirect_uri=DEFAULT_REDIRECT,
        )
        self.counters["product"] = self.rng.randint(1729_000_000, 1729_900_000) * 10**9
        self.counters["sku"] = self.rng.randint(1729_000_000, 1729_900_000) * 10**9
        self.counters["order"] = self.rng.randint(576_000_000, 576_900_000) * 10**9
        self.counters["line"] = self.rng.randint(577_000_000, 577_900_000) * 10**9
        seller = self.add_seller("Toko IKM Nusantara")
        self.add_shop(seller.open_id, "Toko IKM Nusantara")

    def next_id(self, counter: str) -> str:
        """The next id of a kind, as a string (increasing, seeded gaps)."""
        self.counters[counter] += self.rng.randint(1, 9)
        return str(self.counters[counter])

    def now(self) -> int:
        """Simulated Unix seconds."""
        return self.clock.timestamp()

    # ---------------------------------------------------------------- sellers, shops

    def add_seller(self, name: str) -> Seller:
        """A new seller account (its ``open_id``)."""
        open_id = f"{self.rng.getrandbits(96):024x}"
        seller = Seller(open_id, name)
        self.sellers[open_id] = seller
        return seller

    def add_shop(self, open_id: str, name: str) -> Shop:
        """A new shop of the seller, with its cipher and one warehouse."""
        shop_id = str(self.rng.randint(7_494_000_000_000_000, 7_494_999_999_999_999))
        while shop_id in self.shops:
            shop_id = str(int(shop_id) + 1)
        cipher = f"ROW_{self.rng.getrandbits(96):024x}"
        shop = Shop(
            shop_id=shop_id,
            name=name or f"Toko {shop_id[-6:]}",
            cipher=cipher,
            code=f"IDLC{self.rng.randint(10_000, 99_999)}",
            warehouse_id=str(self.rng.randint(7_000_000_000_000, 7_999_999_999_999)),
            seller=open_id,
        )
        self.shops[shop_id] = shop
        return shop

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        """The shop whose cipher is ``cipher``."""
        return next((s for s in self.shops.values() if s.cipher == cipher), None)

    def seller_shops(self, open_id: str) -> list[Shop]:
        """Every shop of one seller."""
        return [shop for shop in self.shops.values() if shop.seller == open_id]

    # ---------------------------------------------------------------- codes, tokens

    def issue_code(self, open_id: str) -> str:
        """An approval code for the seller (the seller approved the app)."""
        code = f"ROW_{self.rng.getrandbits(128):032x}"
        self.codes[code] = (open_id, self.now() + AUTH_CODE_LIFETIME)
        self.sellers[open_id].authorised = True
        return code

    def redeem_code(self, code: str) -> Grant | None:
        """A new grant for a valid, unused code (codes are single-use)."""
        found = self.codes.pop(code, None)
        if found is None or found[1] <= self.now():
            return None
        return self.new_grant(found[0])

    def new_grant(self, open_id: str, refresh_token: str | None = None) -> Grant:
        """A new access token (and refresh token, unless one is kept)."""
        now = self.now()
        access = f"ROW_{self.rng.getrandbits(192):048x}"
        if refresh_token is None:
            refresh, refresh_expires = (
                f"ROW_{self.rng.getrandbits(192):048x}",
                now + self.refresh_lifetime,
            )
        else:
            old = self.grants[self.refresh_index[refresh_token]]
            refresh, refresh_expires = refresh_token, old.refresh_expires_at
        grant = Grant(
            access, refresh, open_id, now + self.access_lifetime, refresh_expires
        )
        self.grants[access] = grant
        self.refresh_index[refresh] = access
        return grant

    def refresh(self, refresh_token: str) -> Grant | None:
        """A new access token for a valid refresh token of an authorised seller; the
        refresh token stays the same until it expires [INF], and the access token it
        replaces stops working."""
        access = self.refresh_index.get(refresh_token)
        grant = self.grants.get(access or "")
        if grant is None or grant.refresh_expires_at <= self.now():
            return None
        if not self.sellers[grant.open_id].authorised:
            return None
        fresh = self.new_grant(grant.open_id, refresh_token)
        del self.grants[grant.access_token]
        return fresh

    def revoke(self, open_id: str) -> None:
        """The seller withdrew the app: every grant of the seller stops working."""
        self.sellers[open_id].authorised = False
        for access in [a for a, g in self.grants.items() if g.open_id == open_id]:
            grant = self.grants.pop(access)
            self.refresh_index.pop(grant.refresh_token, None)

    # ---------------------------------------------------------------- products

    def new_product(
        self, shop: Shop, content: dict[str, Any], skus: list[dict[str, Any]]
    ) -> Product:
        """Create a live product from validated content and SKUs."""
        now = self.now()
        product = Product(
            product_id=self.next_id("product"),
            shop_id=shop.shop_id,
            title=content["title"],
            description=content["description"],
            category_id=content["category_id"],
            images=content.get("images", []),
            weight_grams=content["weight_grams"],
            skus=[
                Sku(
                    self.next_id("sku"),
                    row["seller_sku"],
                    row["price"],
                    row["quantity"],
                    shop.warehouse_id,
                )
                for row in skus
            ],
            status=ACTIVATE,
            create_time=now,
            update_time=now,
        )
        self.index_product(product)
        return product

    def index_product(self, product: Product) -> None:
        """Add a product to the indexes."""
        self.products[product.product_id] = product
        for sku in product.skus:
            if sku.seller_sku:
                self.sku_index[(product.shop_id, sku.seller_sku)] = product.product_id

    def unindex_skus(self, product: Product) -> None:
        """Remove a product's seller SKUs from the index (before replacing them)."""
        for sku in product.skus:
            if (
                self.sku_index.get((product.shop_id, sku.seller_sku))
                == product.product_id
            ):
                del self.sku_index[(product.shop_id, sku.seller_sku)]

    def sku_taken(self, shop_id: str, seller_sku: str, product_id: str = "") -> bool:
        """Whether another product of the shop has ``seller_sku``."""
        owner = self.sku_index.get((shop_id, seller_sku))
        return owner is not None and owner != product_id

    # ---------------------------------------------------------------- orders

    def place_order(
        self, product: Product, sku: Sku, quantity: int, buyer: str
    ) -> Order:
        """A new ``UNPAID`` order; the stock leaves the SKU now."""
        now = self.now()
        sku.quantity -= quantity
        order = Order(
            order_id=self.next_id("order"),
            shop_id=product.shop_id,
            buyer=buyer,
            lines=[
                LineItem(
                    self.next_id("line"),
                    product.product_id,
                    sku.sku_id,
                    sku.seller_sku,
                    product.title,
                    sku.price,
                )
                for _ in range(quantity)
            ],
            status=UNPAID,
            create_time=now,
            update_time=now,
            shipping_fee=self.rng.choice((9_000, 10_000, 15_000)),
            history=[(UNPAID, now)],
        )
        self.orders[order.order_id] = order
        self.send_webhook(order)
        return order

    def change_status(self, order: Order, status: str) -> None:
        """Move an order; a cancellation gives its stock back; a webhook follows."""
        now = self.now()
        order.status = status
        order.update_time = now
        order.history.append((status, now))
        if status == AWAITING_SHIPMENT and order.paid_time is None:
            order.paid_time = now
        if status == CANCELLED and not order.restocked:
            order.restocked = True
            for line in order.lines:
                product = self.products.get(line.product_id)
                sku = next(
                    (
                        s
                        for s in (product.skus if product else [])
                        if s.sku_id == line.sku_id
                    ),
                    None,
                )
                if sku is not None:
                    sku.quantity += 1
        self.send_webhook(order)

    def buyer_event(self, order: Order, event: BuyerEvent) -> bool:
        """Apply a buyer event (see the simulator's ``buyer_event``)."""
        steps = _BUYER_STEPS[event].get(order.status, ())
        if event is BuyerEvent.SHIP and steps and not order.tracking_number:
            order.tracking_number = f"JX{self.rng.randint(10**11, 10**12 - 1)}"
        for step in steps:
            self.change_status(order, step)
        return bool(steps)

    # ---------------------------------------------------------------- webhooks

    def send_webhook(self, order: Order) -> None:
        """Sign and send a type-1 webhook about ``order`` to the app's address."""
        if not self.app.webhook_url:
            return
        self.counters["note"] += 1
        notification = f"{self.rng.getrandbits(64):016x}{self.counters['note']:06d}"
        body = json.dumps(
            order_status_webhook(
                order, self.shops[order.shop_id], notification, self.now()
            ),
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        signature = webhook_signature(self.app.app_key, self.app.app_secret, body)
        self.webhooks.send(
            self.app.webhook_url,
            body,
            {"Content-Type": "application/json", SIGNATURE_HEADER: signature},
            SIGNATURE_HEADER,
        )

    # ---------------------------------------------------------------- state

    def export(self) -> dict[str, Any]:
        """Everything, JSON-ready (the random generator included)."""
        version, internal, gauss = self.rng.getstate()
        return {
            "app": asdict(self.app),
            "sellers": [asdict(s) for s in self.sellers.values()],
            "shops": [asdict(s) for s in self.shops.values()],
            "codes": {k: list(v) for k, v in self.codes.items()},
            "grants": [asdict(g) for g in self.grants.values()],
            "products": [asdict(p) for p in self.products.values()],
            "orders": [asdict(o) for o in self.orders.values()],
            "counters": dict(self.counters),
            "rng": [version, list(internal), gauss],
        }

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`export`'s output; indexes are rebuilt."""
        self.clear()
        self.app = App(**state["app"])
        for raw in state["sellers"]:
            self.sellers[raw["open_id"]] = Seller(**raw)
        for raw in state["shops"]:
            self.shops[raw["shop_id"]] = Shop(**raw)
        self.codes = {k: (str(v[0]), int(v[1])) for k, v in state["codes"].items()}
        for raw in state["grants"]:
            grant = Grant(**raw)
            self.grants[grant.access_token] = grant
            self.refresh_index[grant.refresh_token] = grant.access_token
        for raw in state["products"]:
            skus = [Sku(**sku) for sku in raw["skus"]]
            self.index_product(Product(**{**raw, "skus": skus}))
        for raw in state["orders"]:
            order = Order(
                **{
                    **raw,
                    "lines": [LineItem(**line) for line in raw["lines"]],
                    "history": [(str(s), int(t)) for s, t in raw["history"]],
                }
            )
            self.orders[order.order_id] = order
        self.counters = {k: int(v) for k, v in state["counters"].items()}
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
