"""A Shopee client written only from ``shared/marketplaces/shopee.md``.

It signs exactly as §2.1 says (three base strings, lowercase hex HMAC-SHA256 with the
partner key, ``sign`` and ``timestamp`` in the query), runs the §2.2 authorisation
flow through the redirect, and reads the §3.1 envelope. It knows nothing of the
simulator's code beyond :meth:`credentials` and the documented ``/_sim/`` helpers.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import httpx

from simulators.kit.clock import SimClock

BASE_URL = "https://partner.shopeemobile.com"
REDIRECT = "https://ikm-sync.example/shopee/callback"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def shopee_sign(
    partner_key: str,
    partner_id: int,
    api_path: str,
    timestamp: int,
    access_token: str = "",
    entity_id: int | None = None,
) -> str:
    """The §2.1 sketch, verbatim."""
    entity = "" if entity_id is None else entity_id
    base = f"{partner_id}{api_path}{timestamp}{access_token}{entity}"
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def push_signature(partner_key: str, url: str, body: bytes) -> str:
    """§6.4: hex HMAC-SHA256(partner_key, url + "|" + raw body)."""
    return hmac.new(
        partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256
    ).hexdigest()


def error_name(response: httpx.Response) -> str:
    """The ``error`` field without its module prefix (§3.2)."""
    value = str(response.json().get("error", ""))
    return value.rsplit(".", 1)[-1]


@dataclass
class PageClient:
    """Signs and sends calls as the page describes."""

    http: httpx.Client
    clock: SimClock
    partner_id: int
    partner_key: str

    def public(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        timestamp: int | None = None,
        sign_path: str | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        """A public / auth / push call: base ``partner_id + path + timestamp``."""
        ts = self.clock.timestamp() if timestamp is None else timestamp
        signature = shopee_sign(
            key or self.partner_key, self.partner_id, sign_path or path, ts
        )
        query: dict[str, Any] = {
            "partner_id": self.partner_id,
            "timestamp": ts,
            "sign": signature,
        }
        query.update(params or {})
        return self.http.request(method, path, params=query, json=json, files=files)

    def shop(
        self,
        method: str,
        path: str,
        shop_id: int,
        access_token: str,
        *,
        params: Any = None,
        json: Any = None,
        timestamp: int | None = None,
        sign_path: str | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        """A shop-level call: base ``… + access_token + shop_id``."""
        ts = self.clock.timestamp() if timestamp is None else timestamp
        signature = shopee_sign(
            key or self.partner_key,
            self.partner_id,
            sign_path or path,
            ts,
            access_token,
            shop_id,
        )
        common: list[tuple[str, Any]] = [
            ("partner_id", self.partner_id),
            ("timestamp", ts),
            ("access_token", access_token),
            ("shop_id", shop_id),
            ("sign", signature),
        ]
        extra = list(params.items()) if isinstance(params, dict) else list(params or [])
        return self.http.request(method, path, params=common + extra, json=json)

    def merchant(
        self,
        method: str,
        path: str,
        merchant_id: int,
        access_token: str,
        *,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A merchant-level call: base ``… + access_token + merchant_id``."""
        ts = self.clock.timestamp()
        signature = shopee_sign(
            self.partner_key, self.partner_id, path, ts, access_token, merchant_id
        )
        query: dict[str, Any] = {
            "partner_id": self.partner_id,
            "timestamp": ts,
            "access_token": access_token,
            "merchant_id": merchant_id,
            "sign": signature,
        }
        query.update(params or {})
        return self.http.request(method, path, params=query)

    # ------------------------------------------------------------------ §2.2

    def authorise_link(self, **extra: Any) -> httpx.Response:
        """Step 1: open the signed ``auth_partner`` link (redirect not followed)."""
        return self.public(
            "GET",
            "/api/v2/shop/auth_partner",
            params={"redirect": REDIRECT, **extra},
        )

    def code_from_redirect(self, **extra: Any) -> tuple[str, dict[str, str]]:
        """Steps 1-2: the ``code`` and the other redirect parameters."""
        answer = self.authorise_link(**extra)
        assert answer.status_code == 302, answer.text
        location = httpx.URL(answer.headers["location"])
        assert str(location).startswith(REDIRECT)
        return location.params["code"], dict(location.params)

    def get_token(self, code: str, **account: int) -> httpx.Response:
        """Step 3: ``auth/token/get``."""
        return self.public(
            "POST",
            "/api/v2/auth/token/get",
            json={"code": code, "partner_id": self.partner_id, **account},
        )

    def refresh(self, refresh_token: str, **account: int) -> httpx.Response:
        """Step 4: ``auth/access_token/get``."""
        return self.public(
            "POST",
            "/api/v2/auth/access_token/get",
            json={
                "refresh_token": refresh_token,
                "partner_id": self.partner_id,
                **account,
            },
        )

    def session(self, shop_id: int) -> ShopSession:
        """A shop authorised through the whole flow."""
        code, _ = self.code_from_redirect(shop_id=shop_id)
        answer = self.get_token(code, shop_id=shop_id)
        body = answer.json()
        assert body["error"] == "", body
        return ShopSession(self, shop_id, body["access_token"], body["refresh_token"])

    def upload_image(self, content: bytes = JPEG) -> str:
        """``media_space/upload_image`` (multipart, public API); the image id."""
        answer = self.public(
            "POST",
            "/api/v2/media_space/upload_image",
            files=[("image", ("photo.jpg", content, "image/jpeg"))],
        )
        body = answer.json()
        assert body["error"] == "", body
        return str(body["response"]["image_info"]["image_id"])


@dataclass
class ShopSession:
    """One authorised shop: its tokens and convenience calls."""

    api: PageClient
    shop_id: int
    access_token: str
    refresh_token: str
    images: list[str] = field(default_factory=list)

    def get(self, path: str, params: Any = None) -> httpx.Response:
        """A signed shop-level GET."""
        return self.api.shop(
            "GET", path, self.shop_id, self.access_token, params=params
        )

    def post(self, path: str, body: Any) -> httpx.Response:
        """A signed shop-level POST with a JSON body."""
        return self.api.shop("POST", path, self.shop_id, self.access_token, json=body)

    def item_body(self, **overrides: Any) -> dict[str, Any]:
        """A valid Indonesian ``add_item`` body (§4.1), with overrides."""
        if not self.images:
            self.images.append(self.api.upload_image())
        body: dict[str, Any] = {
            "item_name": "Kopi Arabika Flores Bajawa 250 g",
            "description": "Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
            "category_id": 100_001,
            "original_price": 85_000,
            "weight": 0.3,
            "image": {"image_id_list": [self.images[0]]},
            "logistic_info": [{"logistic_id": 8_003, "enabled": True}],
            "attribute_list": [
                {
                    "attribute_id": 100_010,
                    "attribute_value_list": [
                        {"value_id": 0, "original_value_name": "Kopi Flores"}
                    ],
                }
            ],
            "item_sku": "KOPI-FLR-001",
            "seller_stock": [{"stock": 10}],
        }
        body.update(overrides)
        return body

    def add_item(self, **overrides: Any) -> int:
        """Create an item; its ``item_id``."""
        answer = self.post("/api/v2/product/add_item", self.item_body(**overrides))
        body = answer.json()
        assert body["error"] == "", body
        return int(body["response"]["item_id"])

    def add_variant_item(
        self, models: int, *, stock: int = 5, sku: str = "TENUN"
    ) -> int:
        """An item with ``models`` models (one tier, or 10 x n), via §4.9."""
        item_id = self.add_item(
            item_sku=sku,
            category_id=100_002,
            attribute_list=[
                {"attribute_id": 100_020, "attribute_value_list": [{"value_id": 3_001}]}
            ],
        )
        first = min(models, 10)
        second = -(-models // first)
        tiers = [
            {
                "name": "Motif",
                "option_list": [{"option": f"M{i}"} for i in range(first)],
            }
        ]
        if second > 1:
            tiers.append(
                {
                    "name": "Ukuran",
                    "option_list": [{"option": f"U{j}"} for j in range(second)],
                }
            )
        model_list = []
        for n in range(models):
            index = [n % first] + ([n // first] if second > 1 else [])
            model_list.append(
                {
                    "tier_index": index,
                    "original_price": 150_000,
                    "model_sku": f"{sku}-{n:03d}",
                    "seller_stock": [{"stock": stock}],
                }
            )
        answer = self.post(
            "/api/v2/product/init_tier_variation",
            {"item_id": item_id, "tier_variation": tiers, "model": model_list},
        )
        assert answer.json()["error"] == "", answer.json()
        return item_id

    def models(self, item_id: int) -> list[dict[str, Any]]:
        """``get_model_list`` models."""
        answer = self.get("/api/v2/product/get_model_list", {"item_id": item_id})
        return list(answer.json()["response"]["model"])

    def base_info(self, item_id: int) -> dict[str, Any]:
        """One ``get_item_base_info`` entry."""
        answer = self.get(
            "/api/v2/product/get_item_base_info", {"item_id_list": item_id}
        )
        items = answer.json()["response"]["item_list"]
        assert len(items) == 1
        return dict(items[0])

    def order(self, order_sn: str, fields: str = "") -> dict[str, Any]:
        """One ``get_order_detail`` entry."""
        answer = self.get(
            "/api/v2/order/get_order_detail",
            {"order_sn_list": order_sn, "response_optional_fields": fields},
        )
        orders = answer.json()["response"]["order_list"]
        assert len(orders) == 1, answer.json()
        return dict(orders[0])
