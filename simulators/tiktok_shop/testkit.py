"""The TikTok Shop simulator's kit: its shop's settings and the contract suite's moves.

The shop is authorised through the connector's consent link, which the simulator
approves at once, redirecting with a ``code`` the connector exchanges (§2); the
categories come from the simulator's fixture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from core.domain.catalogue import Condition
from core.domain.ids import Sku
from core.domain.remote import ListingDraft
from simulators.kit.base import Simulator
from simulators.kit.testkit import PICTURE_HOST, MarketplaceKit, ShopAccess
from simulators.tiktok_shop.model import ACTIVATE
from simulators.tiktok_shop.simulator import TikTokShopSimulator

KOPI_CATEGORY = "600001"  # "Kopi" in the simulator's category fixture
TENUN_CATEGORY = "600010"  # "Kain Tenun"


class TikTokShopKit(MarketplaceKit):
    """The ``tiktok_shop`` kit."""

    key: ClassVar[str] = "tiktok_shop"
    create_endpoint: ClassVar[str] = "product_create"
    lookup_endpoint: ClassVar[str] = "product_search"
    stock_endpoint: ClassVar[str] = "inventory_update"
    orders_endpoint: ClassVar[str] = "order_search"
    write_routes: ClassVar[frozenset[str]] = frozenset(
        {
            "product_create",
            "product_edit",
            "product_partial_edit",
            "product_deactivate",
            "product_activate",
            "inventory_update",
            "price_update",
            "webhook_update",
        }
    )

    def simulator_class(self) -> type[Simulator]:
        return TikTokShopSimulator

    def hosts(self, sim: Simulator) -> frozenset[str]:
        credentials = sim.credentials()
        return frozenset(
            httpx.URL(credentials[name]).host
            for name in ("api_base_url", "token_url", "authorize_url")
        )

    def access(self, sim: Simulator) -> ShopAccess:
        credentials = sim.credentials()
        return ShopAccess(
            base_url=credentials["api_base_url"],
            shop_id=credentials["shop_id"],
            secrets={
                "app_key": credentials["app_key"],
                "app_secret": credentials["app_secret"],
            },
            options={
                "token_url": credentials["token_url"],
                "authorize_url": credentials["authorize_url"],
                "service_id": credentials["service_id"],
                "categories": {"Kopi": KOPI_CATEGORY, "Kain Tenun": TENUN_CATEGORY},
                "default_category_id": KOPI_CATEGORY,
            },
        )

    def listing_active(self, entry: Mapping[str, Any]) -> bool:
        return str(entry.get("status", "")) == ACTIVATE

    def seller_order_ids(self, sim: Simulator) -> set[str]:
        # a seller sees every order from UNPAID on
        return {str(o["order_id"]) for o in sim.inspect_orders()}

    def listing_handle(self, sim: Simulator, sku: str) -> str:
        found = self.shown(sim, sku)
        return f"{found['product_id']}:{found['sku_id']}"

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A coffee listing TikTok Shop accepts as is."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Kopi Arabika Flores {sku}",
            description="Kopi arabika dari Bajawa, sangrai sedang.",
            category="Kopi",
            price=price,
            stock=stock,
            weight_grams=250,
            condition=Condition.NEW,
            image_urls=(f"https://{PICTURE_HOST}/{sku}/1.jpg",),
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """A price above the 100,000,000 rupiah ceiling (§6)."""
        return self.draft(sku, price=100_000_001)

    def expire_access_token(self, sim: Simulator) -> None:
        """Every access token expires now (the refresh token stays valid)."""
        self.own(sim, TikTokShopSimulator).expire_access_tokens()

    def revoke_authorisation(self, sim: Simulator) -> None:
        """The seller withdraws the app: its access and refresh tokens stop."""
        self.own(sim, TikTokShopSimulator).revoke_authorisation()

    def fail_stock_item(self, sim: Simulator, sku: str) -> None:
        """Inventory updates list this SKU in ``data.errors``."""
        sim.faults.fail_items(self.stock_endpoint, [sku], "warehouse locked")


#: The ``tiktok_shop`` entry point of ``ikm_sync.testkits``.
KIT = TikTokShopKit()
