"""The Bukalapak simulator's kit: its store's settings and the contract suite's moves.

The store is authorised through the accounts host's OAuth consent, which the
simulator approves at once; the category and pictures of drafts come from options
(the simulator's category fixture and its pre-uploaded attachments).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from core.domain.catalogue import Condition
from core.domain.ids import Sku
from core.domain.remote import ListingDraft
from simulators.bukalapak.simulator import (
    ACCOUNTS_BASE_URL,
    API_BASE_URL,
    DEFAULT_REDIRECT_URI,
    BukalapakSimulator,
)
from simulators.kit.base import Simulator
from simulators.kit.testkit import MarketplaceKit, ShopAccess

CATEGORY_ID = 1234


class BukalapakKit(MarketplaceKit):
    """The ``bukalapak`` kit."""

    key: ClassVar[str] = "bukalapak"
    redirect_uri: ClassVar[str] = DEFAULT_REDIRECT_URI
    create_endpoint: ClassVar[str] = "products.create"
    lookup_endpoint: ClassVar[str] = "stores.products"
    scan_endpoint: ClassVar[str | None] = "stores.products"
    stock_endpoint: ClassVar[str] = "skus.update"
    orders_endpoint: ClassVar[str] = "transactions.list"
    write_routes: ClassVar[frozenset[str]] = frozenset(
        {
            "products.create",
            "skus.update",
            "partners.logistic_bookings",
            "transactions.status",
        }
    )

    def simulator_class(self) -> type[Simulator]:
        return BukalapakSimulator

    def hosts(self, sim: Simulator) -> frozenset[str]:  # noqa: ARG002 - fixed hosts
        return frozenset(
            httpx.URL(url).host for url in (API_BASE_URL, ACCOUNTS_BASE_URL)
        )

    def access(self, sim: Simulator) -> ShopAccess:
        credentials = sim.credentials()
        images = [int(i) for i in credentials["attachment_ids"].split(",")][:1]
        return ShopAccess(
            base_url=API_BASE_URL,
            shop_id=credentials["store_id"],
            secrets={
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
            options={
                "accounts_base_url": ACCOUNTS_BASE_URL,
                "category_ids": {"Kerajinan": CATEGORY_ID},
                "default_category_id": CATEGORY_ID,
                "default_image_ids": images,
            },
        )

    def listing_active(self, entry: Mapping[str, Any]) -> bool:
        return str(entry.get("status", "")).upper() == "ACTIVE"

    def seller_order_ids(self, sim: Simulator) -> set[str]:
        return {str(o["id"]) for o in sim.inspect_orders()}

    def listing_handle(self, sim: Simulator, sku: str) -> str:
        found = self.shown(sim, sku)
        return str(found["sku_id"])

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A draft Bukalapak accepts (the category and images come from options)."""
        return ListingDraft(
            sku=Sku(sku),
            name=f"Produk IKM {sku}",
            description="Buatan tangan pengrajin IKM.",
            category="Kerajinan",
            price=price,
            stock=stock,
            weight_grams=400,
            condition=Condition.NEW,
        )

    def invalid_draft(self, sku: str) -> ListingDraft:
        """Stock above page §9's maximum of 999,999."""
        return self.draft(sku, stock=1_000_000)

    def expire_access_token(self, sim: Simulator) -> None:
        """Every live access token lapses now (the next call gets 401)."""
        self.own(sim, BukalapakSimulator).expire_access_tokens()

    def revoke_authorisation(self, sim: Simulator) -> None:
        """The seller withdraws the app: the store's tokens stop working, and its
        refresh token is refused (``invalid_grant``)."""
        self.own(sim, BukalapakSimulator).revoke_seller()

    def fail_stock_item(self, sim: Simulator, sku: str) -> None:
        """That SKU's stock PATCH calls are refused with a 422 from now on."""
        sim.faults.fail_items(self.stock_endpoint, [self.listing_handle(sim, sku)])


#: The ``bukalapak`` entry point of ``ikm_sync.testkits``.
KIT = BukalapakKit()
