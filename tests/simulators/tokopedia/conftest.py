"""Fixtures: a frozen clock, the simulator, and a client built only from the page.

The client does what tokopedia.md §2 says: ``POST /token?grant_type=client_credentials``
on ``accounts.tokopedia.com`` with ``Basic base64(client_id:client_secret)``, then
``Authorization: Bearer <token>`` on every ``fs.tokopedia.net`` call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.tokopedia.simulator import TokopediaSimulator

API = "https://fs.tokopedia.net"
ACCOUNTS = "https://accounts.tokopedia.com"
START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def valid_row(**overrides: Any) -> dict[str, Any]:
    """A create row that passes every §5.1 / §11 rule."""
    row: dict[str, Any] = {
        "name": "Batik Tulis Pekalongan",
        "category_id": 1791,
        "price": 150_000,
        "price_currency": "IDR",
        "status": "LIMITED",
        "weight": 300,
        "weight_unit": "GR",
        "condition": "NEW",
        "min_order": 1,
        "sku": "BTK-001",
        "stock": 10,
        "description": "Kain batik tulis",
        "pictures": [{"file_path": "https://example.com/batik.jpg"}],
    }
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


@dataclass
class Toko:
    """A page-built client: token handling and the envelope, nothing else."""

    sim: TokopediaSimulator
    clock: SimClock
    http: httpx.Client
    fs_id: str
    shop_id: str
    client_id: str
    client_secret: str
    token: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)

    def request_token(
        self, client_id: str | None = None, secret: str | None = None
    ) -> httpx.Response:
        pair = f"{client_id or self.client_id}:{secret or self.client_secret}"
        basic = base64.b64encode(pair.encode()).decode()
        return self.http.post(
            f"{ACCOUNTS}/token",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )

    def login(self) -> str:
        answer = self.request_token()
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        return self.token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.request(
            method,
            f"{API}{path}",
            params=params,
            content=None if body is None else json.dumps(body).encode(),
            headers={**headers, "Content-Type": "application/json"},
        )

    # -- endpoints, paths exactly as on the page

    def create(self, rows: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        return self.call(
            "POST",
            f"/v3/products/fs/{self.fs_id}/create",
            params={"shop_id": self.shop_id},
            body={"products": rows, **extra},
        )

    def edit(self, rows: list[dict[str, Any]]) -> httpx.Response:
        return self.call(
            "PATCH",
            f"/v3/products/fs/{self.fs_id}/edit",
            params={"shop_id": self.shop_id},
            body={"products": rows},
        )

    def stock(self, rows: list[dict[str, Any]], **params: Any) -> httpx.Response:
        return self.call(
            "POST",
            f"/inventory/v1/fs/{self.fs_id}/stock/update",
            params={"shop_id": self.shop_id, **params},
            body=rows,
        )

    def price(self, rows: list[dict[str, Any]]) -> httpx.Response:
        return self.call(
            "POST",
            f"/inventory/v1/fs/{self.fs_id}/price/update",
            params={"shop_id": self.shop_id},
            body=rows,
        )

    def set_active(self, ids: list[int], active: bool) -> httpx.Response:
        which = "active" if active else "inactive"
        return self.call(
            "POST",
            f"/v1/products/fs/{self.fs_id}/{which}",
            params={"shop_id": self.shop_id},
            body={"product_id": ids},
        )

    def info(self, params: Any) -> httpx.Response:
        return self.call(
            "GET", f"/inventory/v1/fs/{self.fs_id}/product/info", params=params
        )

    def orders(self, **params: Any) -> httpx.Response:
        return self.call(
            "GET",
            "/v2/order/list",
            params={"fs_id": self.fs_id, "shop_id": self.shop_id, **params},
        )

    def order(self, **params: Any) -> httpx.Response:
        return self.call("GET", f"/v2/fs/{self.fs_id}/order", params=params)

    def action(
        self, order_id: int, verb: str, body: Any = None, **params: Any
    ) -> httpx.Response:
        return self.call(
            "POST",
            f"/v1/order/{order_id}/fs/{self.fs_id}/{verb}",
            params=params or None,
            body=body,
        )

    # -- test conveniences (simulator side)

    def product_id(self, sku: str) -> int:
        found = [p for p in self.sim.inspect_listings() if p["sku"] == sku]
        assert len(found) == 1
        return int(found[0]["product_id"])

    def paid_order(self, product_id: int, quantity: int = 1) -> int:
        order = self.sim.place_order(str(product_id), quantity, "Siti Rahma")
        assert order is not None
        assert self.sim.buyer_event(order, BuyerEvent.PAY)
        return int(order)


def ok(answer: httpx.Response) -> Any:
    """The ``data`` of a successful answer (envelope checked)."""
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["header"]["messages"] == "Your request has been processed successfully"
    assert isinstance(body["header"]["process_time"], float)
    return body["data"]


def error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an error envelope (§3.1) with ``status`` and ``error_code``."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["data"] is None
    header = body["header"]
    assert header["error_code"] == code
    assert header["reason"]
    assert header["messages"]
    assert isinstance(header["process_time"], float)
    return dict(header)


def sign(secret: str, body: bytes) -> str:
    """``Authorization-Hmac`` as §7.2 defines it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Receiver:
    """A webhook endpoint that verifies ``Authorization-Hmac`` (§7.2)."""

    secret: str
    accepted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        given = request.headers.get("Authorization-Hmac", "")
        if not hmac.compare_digest(given, sign(self.secret, body)):
            self.rejected.append(request.url.path)
            return httpx.Response(401)
        self.accepted.append((request.url.path, json.loads(body)))
        return httpx.Response(200)

    def kinds(self) -> list[str]:
        return [path.rsplit("/", 1)[-1] for path, _ in self.accepted]


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock(START, frozen=True)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver(secret="s3cr3t-webhook")


def make_toko(
    clock: SimClock, receiver: Receiver | None = None, **options: Any
) -> Iterator[Toko]:
    hooks = httpx.Client(transport=httpx.MockTransport(receiver)) if receiver else None
    sim = TokopediaSimulator(
        clock=clock, sleep=lambda _s: None, webhook_client=hooks, **options
    )
    creds = sim.credentials()
    with httpx.Client(transport=httpx.MockTransport(sim.handler), base_url=API) as http:
        toko = Toko(
            sim,
            clock,
            http,
            creds["fs_id"],
            creds["shop_id"],
            creds["client_id"],
            creds["client_secret"],
        )
        toko.login()
        yield toko
    if hooks is not None:
        hooks.close()


@pytest.fixture
def toko(sim_clock: SimClock, receiver: Receiver) -> Iterator[Toko]:
    """Rate limits off: functional behaviour only."""
    yield from make_toko(sim_clock, receiver, rate_limits=False)


@pytest.fixture
def limited(sim_clock: SimClock, receiver: Receiver) -> Iterator[Toko]:
    """Rate limits on (5 req/s, burst 5 per fs_id and endpoint)."""
    yield from make_toko(sim_clock, receiver, rate_limits=True)
