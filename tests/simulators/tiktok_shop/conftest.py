"""Fixtures: a frozen clock, the simulator, and a client built only from the page.

The client does what tiktok-shop.md §2 and §3 say, written here on its own (not the
connector's code, not the simulator's): the approval code is exchanged at
``/api/v2/token/get``; every API call carries ``app_key``, ``timestamp`` and ``sign``
(and ``shop_cipher`` when shop-scoped) in the query and the access token in
``x-tts-access-token``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulators.kit.clock import SimClock
from simulators.tiktok_shop.simulator import TikTokShopSimulator

API = "https://open-api.tiktokglobalshop.com"
AUTH = "https://auth.tiktok-shops.com"
START = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)
HOOKS = "https://partner.example.com/tts"


def page_sign(secret: str, path: str, query: dict[str, str], body: bytes) -> str:
    """§3, step by step as the page lists it."""
    kept = {k: v for k, v in query.items() if k not in ("sign", "access_token")}
    joined = "".join(key + kept[key] for key in sorted(kept))
    wrapped = secret + path + joined + body.decode() + secret
    return hmac.new(secret.encode(), wrapped.encode(), hashlib.sha256).hexdigest()


def new_product(seller_sku: str = "KOPI-001", **overrides: Any) -> dict[str, Any]:
    """A create body every rule accepts (one SKU)."""
    body: dict[str, Any] = {
        "title": "Kopi Arabika Flores",
        "description": "Sangrai sedang",
        "category_id": "600001",
        "package_weight": {"value": "0.25", "unit": "KILOGRAM"},
        "main_images": [{"uri": "https://example.com/kopi.jpg"}],
        "skus": [
            {
                "seller_sku": seller_sku,
                "price": {"amount": "85000", "currency": "IDR"},
                "inventory": [{"quantity": 10}],
            }
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Tts:
    """A page-built client: tokens, signing and the envelope, nothing else."""

    sim: TikTokShopSimulator
    clock: SimClock
    http: httpx.Client
    creds: dict[str, str]
    access_token: str = ""
    refresh_token: str = ""
    cipher: str = ""
    sign_with: str | None = None  # another secret, to be refused
    headers: dict[str, str] = field(default_factory=dict)

    def token_call(self, **params: str) -> httpx.Response:
        query = {"app_key": self.creds["app_key"], **params}
        return self.http.get(f"{AUTH}/api/v2/token/get", params=query)

    def login(self) -> None:
        code = self.http.get(f"{API}/_sim/auth_code").json()["code"]
        answer = self.token_call(
            app_secret=self.creds["app_secret"],
            auth_code=code,
            grant_type="authorized_code",
        )
        data = ok(answer)
        self.access_token, self.refresh_token = (
            data["access_token"],
            data["refresh_token"],
        )
        shops = ok(self.call("GET", "/authorization/202309/shops", scoped=False))
        self.cipher = shops["shops"][0]["cipher"]

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        scoped: bool = True,
        cipher: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        query = {
            "app_key": self.creds["app_key"],
            "timestamp": str(self.clock.timestamp()),
            **(params or {}),
        }
        if scoped:
            query["shop_cipher"] = self.cipher if cipher is None else cipher
        content = b"" if body is None else json.dumps(body).encode()
        secret = self.sign_with or self.creds["app_secret"]
        query["sign"] = page_sign(secret, path, query, content)
        headers = {
            "x-tts-access-token": self.access_token if token is None else token,
            "content-type": "application/json",
            **self.headers,
        }
        return self.http.request(
            method, f"{API}{path}", params=query, content=content, headers=headers
        )

    # -- endpoints, paths as on the page

    def create(self, body: dict[str, Any]) -> httpx.Response:
        return self.call("POST", "/product/202309/products", body=body)

    def search(self, page_size: int = 100, **body: Any) -> httpx.Response:
        return self.call(
            "POST",
            "/product/202312/products/search",
            params={"page_size": str(page_size), **body.pop("params", {})},
            body=body,
        )

    def stock(self, product_id: str, skus: list[dict[str, Any]]) -> httpx.Response:
        return self.call(
            "POST",
            f"/product/202309/products/{product_id}/inventory/update",
            body={"skus": skus},
        )

    def price(self, product_id: str, skus: list[dict[str, Any]]) -> httpx.Response:
        return self.call(
            "POST",
            f"/product/202309/products/{product_id}/prices/update",
            body={"skus": skus},
        )

    def orders(
        self,
        page_size: int = 100,
        token: str = "",
        sort_field: str = "create_time",
        **body: Any,
    ) -> httpx.Response:
        params = {"page_size": str(page_size), "sort_field": sort_field}
        params["sort_order"] = "ASC"
        if token:
            params["page_token"] = token
        return self.call(
            "POST", "/order/202309/orders/search", params=params, body=body
        )

    def detail(self, ids: list[str]) -> httpx.Response:
        return self.call("GET", "/order/202309/orders", params={"ids": ",".join(ids)})


def ok(answer: httpx.Response) -> Any:
    """The ``data`` of a successful answer (§4 envelope checked)."""
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 0, body
    assert body["request_id"]
    return body["data"]


def error(answer: httpx.Response, status: int, code: int) -> str:
    """Assert an error envelope with ``status`` and ``code``; its message."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code, body
    assert body["data"] is None
    assert body["request_id"]
    assert body["message"]
    return str(body["message"])


@dataclass
class Receiver:
    """A webhook receiver: every delivery's body and headers."""

    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.deliveries.append((request.content, dict(request.headers)))
        return httpx.Response(200)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def tts(receiver: Receiver) -> Iterator[Tts]:
    clock = SimClock(START, frozen=True)
    hooks = httpx.Client(transport=httpx.MockTransport(receiver.handle))
    sim = TikTokShopSimulator(
        clock=clock,
        seed=3,
        rate_limits=False,
        sleep=lambda _s: None,
        webhook_client=hooks,
    )
    http = httpx.Client(transport=httpx.MockTransport(sim.handler))
    client = Tts(sim, clock, http, sim.credentials())
    client.login()
    yield client
    http.close()
    hooks.close()
