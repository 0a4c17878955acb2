"""Fixtures for the Tokopedia wire tests: fixed secrets, a fixed clock, fake time, a
respx router that fails on unused and unmocked routes, and a connector built on it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.tokopedia import TokopediaConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Condition, Dimensions
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, Secret
from core.ports import TokenSet
from tests.connectors.test_plumbing import FakeTime
from tests.fakes import FakeClock, FakeTokenStore

API = "https://fs.tokopedia.net"
TOKEN_URL = "https://accounts.tokopedia.com/token"
FS_ID = 15443
SHOP_ID = 479573
CLIENT_ID = "tkp-client-7f3a"
CLIENT_SECRET = "tkp-secret-9d41c2e8"
#: base64("tkp-client-7f3a:tkp-secret-9d41c2e8"), worked out by hand from §2.1.
BASIC = "Basic dGtwLWNsaWVudC03ZjNhOnRrcC1zZWNyZXQtOWQ0MWMyZTg="
STORED_TOKEN = "c:stored-access-token-0001"
FRESH_TOKEN = "c:fresh-access-token-0002"
NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
ACCOUNT = AccountId("tokopedia-wire")
OK = "Your request has been processed successfully"
RATE_OK = {
    "X-Ratelimit-Limit": "5 req/s (burst 5)",
    "X-Ratelimit-Remaining": "4",
    "X-Ratelimit-Reset-After": "-0.000000",
    "X-Ratelimit-Full-Reset-After": "0.200000",
}
OPTIONS: dict[str, Any] = {
    "fs_id": FS_ID,
    "categories": {"Kopi": 2310, "Kain Tenun": 1791},
}


def ok(data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A success envelope (§3.1) with the rate-limit headers (§4)."""
    body = {"header": {"process_time": 0.04, "messages": OK}, "data": data}
    return httpx.Response(200, json=body, headers={**RATE_OK, **(headers or {})})


def fail(
    status: int,
    code: str,
    reason: str = "something is wrong",
    messages: str = "We could not process your request",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """An error envelope (§3.1)."""
    body = {
        "header": {
            "process_time": 0.01,
            "messages": messages,
            "reason": reason,
            "error_code": code,
        },
        "data": None,
    }
    return httpx.Response(status, json=body, headers={**RATE_OK, **(headers or {})})


def token_answer(
    token: str = FRESH_TOKEN, expires_in: int = 1_209_600
) -> httpx.Response:
    return httpx.Response(
        200,
        json={"access_token": token, "expires_in": expires_in, "token_type": "Bearer"},
    )


def body(call: Any) -> Any:
    """The JSON body of a recorded respx call."""
    return json.loads(call.request.content)


def product_item(
    product_id: int,
    sku: str,
    *,
    name: str = "Kopi",
    price: int = 85_000,
    stock: int = 5,
    status: int = 1,
) -> dict[str, Any]:
    """A product info item (§5.7), mixed casing included."""
    return {
        "basic": {
            "productID": product_id,
            "shopID": SHOP_ID,
            "status": status,
            "Name": name,
            "condition": 1,
            "childCategoryID": 2310,
        },
        "price": {"value": price, "currency": 1, "LastUpdateUnix": 1_740_000_000},
        "weight": {"value": 250, "unit": 1},
        "stock": {"value": stock + 2, "stockWording": "Stok tersedia"},
        "main_stock": stock,
        "reserve_stock": 2,
        "variant": {"isParent": False, "isVariant": False, "childrenID": []},
        "other": {"sku": sku, "url": f"https://www.tokopedia.com/toko/{sku.lower()}"},
    }


def draft(
    sku: str, *, price: int = 85_000, stock: int = 5, **extra: Any
) -> ListingDraft:
    values: dict[str, Any] = {
        "sku": Sku(sku),
        "name": f"Kopi Arabika {sku}",
        "description": "Kopi arabika Bajawa",
        "category": "kopi",
        "price": price,
        "stock": stock,
        "weight_grams": 250,
        "condition": Condition.NEW,
        "dimensions": Dimensions(length_cm=10, width_cm=8, height_cm=15),
        "image_urls": ("https://img.example.com/kopi.jpg",),
    }
    values.update(extra)
    return ListingDraft(**values)


@dataclass
class Wire:
    """A connector on a respx router, with what the tests inspect."""

    router: respx.MockRouter
    connector: TokopediaConnector
    tokens: FakeTokenStore
    clock: FakeClock
    time: FakeTime
    budget: RateBudget
    context: ConnectorContext

    def token_route(self, *answers: httpx.Response) -> respx.Route:
        route = self.router.post(TOKEN_URL, params={"grant_type": "client_credentials"})
        route.side_effect = list(answers) if answers else [token_answer()]
        return route


Build = Callable[..., Wire]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


@pytest.fixture
def build(router: respx.MockRouter) -> Iterator[Build]:
    clients: list[httpx.Client] = []

    def make(
        *,
        stored_token: bool = True,
        options: dict[str, Any] | None = None,
        rate: float = 5.0,
        burst: int = 5,
        attempts: int = 3,
    ) -> Wire:
        time = FakeTime()
        clock = FakeClock(NOW)
        tokens = FakeTokenStore()
        if stored_token:
            with tokens.refreshing(ACCOUNT) as held:
                held.save(
                    TokenSet(
                        access_token=Secret(STORED_TOKEN),
                        access_expires_at=NOW + timedelta(days=10),
                    )
                )
        budget = RateBudget(rate, burst, monotonic=time.monotonic, sleep=time.sleep)
        http = httpx.Client(transport=httpx.MockTransport(router.handler))
        clients.append(http)
        context = ConnectorContext(
            account=ChannelAccount(
                id=ACCOUNT,
                marketplace=Marketplace.TOKOPEDIA,
                shop_id=str(SHOP_ID),
                producer_codes=(ProducerCode("WBP-DKI-001"),),
            ),
            base_url=API,
            http=http,
            clock=clock,
            tokens=tokens,
            budget=budget,
            credentials={
                "client_id": Secret(CLIENT_ID),
                "client_secret": Secret(CLIENT_SECRET),
            },
            options=OPTIONS if options is None else options,
            policy=RetryPolicy(attempts=attempts, max_backoff=2),
            sleep=time.sleep,
        )
        return Wire(
            router, TokopediaConnector(context), tokens, clock, time, budget, context
        )

    yield make
    for client in clients:
        client.close()
