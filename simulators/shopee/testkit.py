"""The Shopee simulator's kit: its shop's settings and the contract suite's moves.

The shop is authorised through the connector's signed ``auth_partner`` link, which
the simulator approves at once (§2.2); category 100001 "Kopi" with its mandatory
brand attribute and one logistics channel come from the simulator's fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from core.domain.catalogue import Condition, Dimensions
from core.domain.ids import Sku
from core.domain.remote import ListingDraft
from simulators.kit.base import Simulator
from simulators.kit.testkit import PICTURE_HOST, MarketplaceKit, ShopAccess
from simulators.shopee.simulator import BASE_URL, ShopeeSimulator

CATEGORY = "Makanan & Minuman > Kopi"


class ShopeeKit(MarketplaceKit):
    """The ``shopee`` kit."""

    key: ClassVar[str] = "shopee"
    create_endpoint: ClassVar[str] = "product.add_item"
    lookup_endpoint: ClassVar[str] = "product.search_item"
    scan_endpoint: ClassVar[str | None] = "product.get_item_list"
    stock_endpoint: ClassVar[str] = "product.update_stock"
    orders_endpoint: ClassVar[str] = "order.get_order_list"
    write_routes: ClassVar[frozenset[str]] = frozenset(
        {
            "media_space.upload_image",
            "product.add_item",
            "product.add_model",
            "product.delete_item",
            "product.init_tier_variation",
            "product.update_item",
            "product.update_price",
            "product.update_stock",
            "product.unlist_item",
            "logistics.ship_order",
            "order.cancel_order",
        }
    )

    def simulator_class(self) -> type[Simulator]:
        return ShopeeSimulator

    def make_room(self, sim: Simulator, listings: int) -> None:
        """Shopee's default item count limit is 1,000 items per shop."""
        limit = self.own(sim, ShopeeSimulator).item_limits["item_count_limit"]
        limit["max_limit"] = max(listings, limit["max_limit"])

    def hosts(self, sim: Simulator) -> frozenset[str]:  # noqa: ARG002 - fixed hosts
        return frozenset({httpx.URL(BASE_URL).host})

    def access(self, sim: Simulator) -> ShopAccess:
        credentials = sim.credentials()
        category = {
            "category_id": int(credentials["category_id"]),
            "attributes": [
                {
                    "attribute_id": 100_010,
                    "values": [{"value_id": 0, "original_value_name": "NoBrand"}],
                }
            ],
        }
        return ShopAccess(
            base_url=BASE_URL,
            shop_id=credentials["shop_id"],
            secrets={"partner_key": credentials["partner_key"]},
            options={
                "partner_id": int(credentials["partner_id"]),
                "categories": {CATEGORY: category},
                "default_category": category,
                "logistics": [{"logistic_id": int(credentials["logistic_id"])}],
                "days_to_ship": 2,
            },
        )

    def listing_active(self, entry: Mapping[str, Any]) -> bool:
        return str(entry.get("status", "")).upper() == "NORMAL"

    def seller_order_ids(self, sim: Simulator) -> set[str]:
        return {str(o["order_sn"]) for o in sim.inspect_orders()}

    def listing_handle(self, sim: Simulator, sku: str) -> str:
        found = self.shown(sim, sku)
        return f"{found['item_id']}:{found['model_id']}"

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A coffee listing the simulator's category 100001 accepts."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Kopi Arabika Flores Bajawa {sku}",
            description="Kopi arabika dari Bajawa, Flores; sangrai medium, 250 g.",
            category=CATEGORY,
            price=price,
            stock=stock,
            weight_grams=270,
            condition=Condition.NEW,
            dimensions=Dimensions(18, 10, 6),
            image_urls=(f"https://{PICTURE_HOST}/{sku}/1.jpg",),
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """Above the category's price ceiling (``error_price_exceed_max_limitt``)."""
        return self.draft(sku, price=200_000_000)

    def expire_access_token(self, sim: Simulator) -> None:
        """Every access token of the shop is refused from now on."""
        self.own(sim, ShopeeSimulator).revoke_access_tokens()

    def revoke_authorisation(self, sim: Simulator) -> None:
        """The seller deauthorises the app (``shop_no_linked`` from now on)."""
        self.own(sim, ShopeeSimulator).deauthorise_shop()

    def fail_stock_item(self, sim: Simulator, sku: str) -> None:
        """``update_stock`` lists this SKU's model in ``failure_list``."""
        sim.faults.fail_items(self.stock_endpoint, [self.listing_handle(sim, sku)])


#: The ``shopee`` entry point of ``ikm_sync.testkits``.
KIT = ShopeeKit()
