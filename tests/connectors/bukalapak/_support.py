"""Shared pieces of the Bukalapak wire tests: fixed secrets, a connector on a fake
clock and fake time, and envelope builders shaped as page §3 and §4 to §5 show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.bukalapak import BukalapakConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.ports import TokenSet
from tests.connectors.test_plumbing import FakeTime
from tests.fakes import FakeClock, FakeTokenStore

API = "https://api.bukalapak.com"
ACCOUNTS = "https://accounts.bukalapak.com"
ACCOUNT = AccountId("bukalapak-wire")
REDIRECT = "https://ikm-sync.example/oauth/bukalapak/callback"

CLIENT_ID = "wire-client-id-3b8d"
CLIENT_SECRET = "wire-client-secret-f41c9e"
ACCESS = "wire-access-token-a1a1a1"
REFRESH = "wire-refresh-token-r2r2r2"
NEW_ACCESS = "wire-access-token-b3b3b3"
NEW_REFRESH = "wire-refresh-token-s4s4s4"
CODE = "wire-auth-code-c5c5c5"
SECRETS = (CLIENT_SECRET, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, CODE)

#: 22 November 2026, 10:00 WIB.
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
DEFAULT_OPTIONS: dict[str, Any] = {
    "category_ids": {"Kopi": 501},
    "default_category_id": 999,
    "image_attachment_ids": {"https://img.example/kopi.jpg": 7001},
    "default_image_ids": [7100],
}


@dataclass
class Rig:
    """A connector with everything it was built from."""

    connector: BukalapakConnector
    tokens: FakeTokenStore
    clock: FakeClock
    time: FakeTime
    budget: RateBudget
    http: httpx.Client


def make(
    *,
    options: Mapping[str, Any] | None = None,
    expires_in: timedelta | None = timedelta(hours=1),
    policy: RetryPolicy | None = None,
) -> Rig:
    """A connector whose stored access token expires ``expires_in`` from now
    (``None``: no tokens stored)."""
    clock = FakeClock(NOW)
    time = FakeTime()
    tokens = FakeTokenStore()
    if expires_in is not None:
        with tokens.refreshing(ACCOUNT) as held:
            held.save(
                TokenSet(
                    access_token=Secret(ACCESS),
                    refresh_token=Secret(REFRESH),
                    access_expires_at=NOW + expires_in,
                )
            )
    budget = RateBudget(10, 10, monotonic=time.monotonic, sleep=time.sleep)
    http = httpx.Client()
    context = ConnectorContext(
        account=ChannelAccount(
            id=ACCOUNT,
            marketplace=Marketplace.BUKALAPAK,
            shop_id="199349",
            producer_codes=(ProducerCode("IKM-NTT-001"),),
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
        options=dict(DEFAULT_OPTIONS if options is None else options),
        policy=policy or RetryPolicy(attempts=3, initial_backoff=1.0, max_backoff=4.0),
        sleep=time.sleep,
    )
    return Rig(BukalapakConnector(context), tokens, clock, time, budget, http)


def envelope(data: Any, status: int = 200, **meta: Any) -> dict[str, Any]:
    """A success envelope."""
    return {"data": data, "meta": {"http_status": status, **meta}, "errors": []}


def failure(status: int, message: str = "refused", code: int = 10001) -> dict[str, Any]:
    """An error envelope with one ``errors[]`` entry."""
    return {
        "data": None,
        "meta": {"http_status": status},
        "errors": [{"code": code, "message": message}],
    }


def token_answer(
    access: str = NEW_ACCESS, refresh: str = NEW_REFRESH, created_at: datetime = NOW
) -> dict[str, Any]:
    """A token JSON (page §2.2)."""
    return {
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": 3600,
        "created_at": int(created_at.timestamp()),
        "scope": "public user store",
    }


def sku(
    sku_id: int,
    product_id: str,
    sku_name: str,
    *,
    price: int | None = 85_000,
    stock: int | None = 5,
    state: str | None = "active",
) -> dict[str, Any]:
    """A ``variants[]`` entry; ``None`` leaves a field out."""
    row: dict[str, Any] = {
        "id": sku_id,
        "product_id": product_id,
        "sku_name": sku_name,
        "variant_name": "",
    }
    for name, value in (("price", price), ("stock", stock), ("state", state)):
        if value is not None:
            row[name] = value
    return row


def product(
    product_id: str, *skus: dict[str, Any], name: str = "Kopi"
) -> dict[str, Any]:
    """A product with its SKUs."""
    return {
        "id": product_id,
        "name": name,
        "state": "active",
        "updated_at": "2026-11-22T10:00:00+07:00",
        "variants": list(skus),
    }


def transaction(
    txn_id: int,
    *,
    state: str = "paid",
    created_at: str = "2026-11-22T09:00:00+07:00",
    items: bool = True,
    sku_name: str = "KOPI-FLR-001",
) -> dict[str, Any]:
    """A transaction row (page §5.2); ``items=False`` leaves amount and items out."""
    row: dict[str, Any] = {
        "id": txn_id,
        "transaction_id": f"BL2611{txn_id}",
        "state": state,
        "created_at": created_at,
        "buyer": {"name": "Budi"},
        "delivery": {"consignee": {"name": "Budi", "phone": "Terkunci"}},
    }
    if items:
        row["amount"] = {"seller": {"total": 185_000}}
        row["items"] = [
            {
                "quantity": 2,
                "price": 85_000,
                "total_price": 170_000,
                "stuff": {"id": 9001, "sku_name": sku_name, "product": {"weight": 400}},
            }
        ]
    return row
