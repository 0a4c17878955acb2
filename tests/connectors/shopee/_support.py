"""Fixed secrets, a fixed clock, canned Shopee answers and a connector to test.

Expected signatures are computed here from shopee.md §2.1 itself (not from the
connector's code): lowercase hex HMAC-SHA256 under the partner key over
``partner_id + path + timestamp [+ access_token + shop_id]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from connectors._context import ConnectorContext
from connectors._http import RateBudget, RetryPolicy
from connectors.shopee import ShopeeConnector
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Condition, Dimensions
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import ListingDraft, Secret
from core.ports import TokenSet
from tests.fakes import FakeClock, FakeTokenStore

BASE = "https://partner.shopeemobile.com"
PARTNER_ID = 2_001_234
PARTNER_KEY = "shpk-test-partner-key-5f2a9c"
SHOP_ID = 220_011
ACCESS = "access-token-0a1b2c3d"
REFRESH = "refresh-token-4e5f6a7b"
NEW_ACCESS = "access-token-new-8c9d"
NEW_REFRESH = "refresh-token-new-0e1f"
NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ACCOUNT = AccountId("shopee-ntt")
IMAGE_HOST = "img.ikm-sync.example"
JPEG = b"\xff\xd8\xff\xe0" + bytes(32)
CATEGORY = "Makanan & Minuman > Kopi"
SECRETS = (PARTNER_KEY, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH)


def page_sign(
    path: str, timestamp: int, token: str = "", shop: int | None = None
) -> str:
    """shopee.md §2.1, written out again."""
    base = str(PARTNER_ID) + path + str(timestamp)
    if shop is not None:
        base += token + str(shop)
    digest = hmac.new(PARTNER_KEY.encode("utf-8"), base.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()


class FakeTime:
    """Monotonic time that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def options(**overrides: Any) -> dict[str, Any]:
    """Options naming category 100001 for ``CATEGORY`` and channel 8003."""
    base: dict[str, Any] = {
        "partner_id": PARTNER_ID,
        "categories": {
            CATEGORY: {
                "category_id": 100_001,
                "attributes": [
                    {
                        "attribute_id": 100_010,
                        "values": [{"value_id": 0, "original_value_name": "NoBrand"}],
                    }
                ],
            }
        },
        "logistics": [{"logistic_id": 8_003}],
    }
    base.update(overrides)
    return base


def stored(access_in: timedelta = timedelta(hours=3)) -> TokenSet:
    """Tokens as an earlier authorisation left them."""
    return TokenSet(
        access_token=Secret(ACCESS),
        refresh_token=Secret(REFRESH),
        access_expires_at=NOW + access_in,
        refresh_expires_at=NOW + timedelta(days=20),
        version=1,
    )


@dataclass
class Rig:
    """A connector on a real ``httpx.Client`` (respx intercepts it)."""

    connector: ShopeeConnector
    store: FakeTokenStore
    clock: FakeClock
    time: FakeTime
    http: httpx.Client


def rig(
    *,
    opts: dict[str, Any] | None = None,
    tokens: TokenSet | None = None,
    shop_id: str = str(SHOP_ID),
    credentials: dict[str, Secret] | None = None,
    attempts: int = 3,
) -> Rig:
    """A connector for the test shop with stored tokens (fresh by default)."""
    store = FakeTokenStore()
    store.tokens[ACCOUNT] = tokens if tokens is not None else stored()
    clock = FakeClock(NOW)
    time = FakeTime()
    http = httpx.Client()
    context = ConnectorContext(
        account=ChannelAccount(
            id=ACCOUNT,
            marketplace=Marketplace.SHOPEE,
            shop_id=shop_id,
            producer_codes=(ProducerCode("IKM-NTT-001"),),
        ),
        base_url=BASE,
        http=http,
        clock=clock,
        tokens=store,
        budget=RateBudget(10.0, 10, monotonic=time.monotonic, sleep=time.sleep),
        credentials=(
            credentials
            if credentials is not None
            else {"partner_key": Secret(PARTNER_KEY)}
        ),
        options=opts if opts is not None else options(),
        timeout=5.0,
        policy=RetryPolicy(attempts=attempts, initial_backoff=1, max_backoff=8),
        sleep=time.sleep,
    )
    return Rig(ShopeeConnector(context), store, clock, time, http)


def ok(response: dict[str, Any] | None = None) -> httpx.Response:
    """The success envelope."""
    return httpx.Response(
        200,
        json={
            "error": "",
            "message": "",
            "warning": "",
            "request_id": "req-ok",
            "response": response or {},
        },
    )


#: A shop authorised a day before :data:`NOW` for 365 days.
AUTH_TIME = TS - 86_400
EXPIRE_TIME = AUTH_TIME + 365 * 86_400


def shop_info(*, omit: tuple[str, ...] = (), **fields: Any) -> httpx.Response:
    """``shop/get_shop_info`` as the reference's sample has it: the shop's fields at
    the top level, no ``response`` object; ``fields`` override them and the names in
    ``omit`` are left out."""
    body: dict[str, Any] = {
        "error": "",
        "message": "",
        "request_id": "req-shop",
        "shop_name": "Sentra IKM",
        "region": "ID",
        "status": "NORMAL",
        "auth_time": AUTH_TIME,
        "expire_time": EXPIRE_TIME,
        "is_cb": False,
        "merchant_id": None,
        **fields,
    }
    return httpx.Response(200, json={k: v for k, v in body.items() if k not in omit})


def fail(
    error: str,
    message: str = "",
    status: int = 400,
    headers: dict[str, str] | None = None,
    response: dict[str, Any] | None = None,
) -> httpx.Response:
    """The error envelope."""
    body: dict[str, Any] = {
        "error": error,
        "message": message,
        "warning": "",
        "request_id": "req-err-1",
    }
    if response is not None:
        body["response"] = response
    return httpx.Response(status, json=body, headers=headers)


def token_answer(
    access: str = NEW_ACCESS, refresh: str = NEW_REFRESH
) -> httpx.Response:
    """``auth/access_token/get`` / ``auth/token/get``: top-level fields."""
    return httpx.Response(
        200,
        json={
            "access_token": access,
            "refresh_token": refresh,
            "expire_in": 14_400,
            "shop_id_list": [SHOP_ID],
            "request_id": "req-token",
            "error": "",
            "message": "",
        },
    )


def params(request: httpx.Request) -> dict[str, list[str]]:
    """A request's query, every value of every key."""
    found: dict[str, list[str]] = {}
    for key, value in request.url.params.multi_items():
        found.setdefault(key, []).append(value)
    return found


def body(request: httpx.Request) -> Any:
    """A request's JSON body."""
    return json.loads(request.content)


def draft(sku: str = "KOPI-FLR-001", **overrides: Any) -> ListingDraft:
    """A coffee draft with one image on the image host."""
    values: dict[str, Any] = {
        "sku": Sku(sku),
        "name": "Kopi Arabika Flores Bajawa 250 g",
        "description": "Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
        "category": CATEGORY,
        "price": 85_000,
        "stock": 5,
        "weight_grams": 270,
        "condition": Condition.NEW,
        "dimensions": Dimensions(18, 10, 6),
        "image_urls": (f"https://{IMAGE_HOST}/{sku}/1.jpg",),
    }
    values.update(overrides)
    return ListingDraft(**values)


def _stock_info(stock: int, reserved: int) -> dict[str, Any]:
    """``stock_info_v2``: ``stock`` is the seller stock, reserved units included."""
    return {
        "summary_info": {
            "total_reserved_stock": reserved,
            "total_available_stock": max(stock - reserved, 0),
        },
        "seller_stock": [{"location_id": "IDZ", "stock": stock}],
    }


def item_info(
    item_id: int,
    sku: str,
    *,
    status: str = "NORMAL",
    price: float = 85_000,
    stock: int = 5,
    reserved: int = 0,
    has_model: bool = False,
) -> dict[str, Any]:
    """One ``get_item_base_info`` entry; ``stock`` is the seller stock (it includes
    the ``reserved`` units)."""
    info: dict[str, Any] = {
        "item_id": item_id,
        "item_name": f"Item {sku}",
        "item_sku": sku,
        "item_status": status,
        "update_time": TS - 60,
        "has_model": has_model,
        "stock_info_v2": _stock_info(stock, reserved),
    }
    if not has_model:
        info["price_info"] = [
            {"currency": "IDR", "original_price": price, "current_price": price}
        ]
    return info


def model_info(
    model_id: int,
    sku: str,
    *,
    price: float = 85_000,
    stock: int = 5,
    reserved: int = 0,
) -> dict[str, Any]:
    """One ``get_model_list`` model; ``stock`` is the seller stock."""
    return {
        "model_id": model_id,
        "model_sku": sku,
        "model_status": "MODEL_NORMAL",
        "price_info": [{"original_price": price}],
        "stock_info_v2": _stock_info(stock, reserved),
    }


BASE_INFO_PATH = "/api/v2/product/get_item_base_info"
MODEL_LIST_PATH = "/api/v2/product/get_model_list"


@dataclass
class StockReads:
    """The routes answering ``push_stock``'s read of the reserved units."""

    base_info: respx.Route
    model_list: respx.Route | None

    def asked_items(self) -> list[list[int]]:
        """The ``item_id_list`` of each ``get_item_base_info`` call, in order."""
        return [
            [int(i) for i in params(call.request)["item_id_list"][0].split(",")]
            for call in self.base_info.calls
        ]


def stock_reads(
    router: respx.MockRouter,
    *,
    reserved: int = 0,
    models: Mapping[int, Iterable[int]] | None = None,
    held: Mapping[tuple[int, int], int] | None = None,
) -> StockReads:
    """Answer ``get_item_base_info`` (and ``get_model_list`` for the items in
    ``models``) with an entry per asked id, as Shopee would just before
    ``update_stock``.

    Each model (model 0 for items without models) has ``held.get((item_id,
    model_id), reserved)`` units reserved and a seller stock of 10 more than that.
    """
    variants = {item: list(ids) for item, ids in (models or {}).items()}
    units = dict(held or {})

    def reserved_of(item_id: int, model_id: int) -> int:
        return units.get((item_id, model_id), reserved)

    def base_info(request: httpx.Request) -> httpx.Response:
        asked = [int(i) for i in params(request)["item_id_list"][0].split(",")]
        entries = []
        for item_id in asked:
            if item_id in variants:
                total = sum(reserved_of(item_id, m) for m in variants[item_id])
                entries.append(
                    item_info(
                        item_id,
                        f"S-{item_id}",
                        stock=total + 10,
                        reserved=total,
                        has_model=True,
                    )
                )
            else:
                held_now = reserved_of(item_id, 0)
                entries.append(
                    item_info(
                        item_id, f"S-{item_id}", stock=held_now + 10, reserved=held_now
                    )
                )
        return ok({"item_list": entries})

    def model_list(request: httpx.Request) -> httpx.Response:
        item_id = int(params(request)["item_id"][0])
        return ok(
            {
                "model": [
                    model_info(
                        model_id,
                        f"S-{item_id}-{model_id}",
                        stock=reserved_of(item_id, model_id) + 10,
                        reserved=reserved_of(item_id, model_id),
                    )
                    for model_id in variants[item_id]
                ]
            }
        )

    return StockReads(
        base_info=router.get(BASE_INFO_PATH).mock(side_effect=base_info),
        model_list=(
            router.get(MODEL_LIST_PATH).mock(side_effect=model_list)
            if variants
            else None
        ),
    )
