"""The Tokopedia simulator's kit: its shop's settings and the contract suite's moves.

As in the real flow no browser is involved: the app's ``fs_id``, ``client_id`` and
``client_secret`` come from the simulator, the shop is linked to the ``fs_id`` out of
band, and the first call fetches a client-credentials token.
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
from simulators.tokopedia.simulator import TokopediaSimulator

KOPI_CATEGORY = 2310  # "Kopi", a leaf of the simulator's category fixture
TENUN_CATEGORY = 1791  # "Kemeja Batik"


class TokopediaKit(MarketplaceKit):
    """The ``tokopedia`` kit."""

    key: ClassVar[str] = "tokopedia"
    create_endpoint: ClassVar[str] = "product_create"
    lookup_endpoint: ClassVar[str] = "product_info"
    scan_endpoint: ClassVar[str | None] = "product_info"
    stock_endpoint: ClassVar[str] = "stock_update"
    orders_endpoint: ClassVar[str] = "order_list"
    write_routes: ClassVar[frozenset[str]] = frozenset(
        {
            "product_create",
            "product_edit",
            "product_active",
            "product_inactive",
            "price_update",
            "stock_update",
            "order_ack",
            "order_nack",
            "order_pickup",
            "order_reject_cancel",
        }
    )

    def simulator_class(self) -> type[Simulator]:
        return TokopediaSimulator

    def hosts(self, sim: Simulator) -> frozenset[str]:
        credentials = sim.credentials()
        return frozenset(
            httpx.URL(credentials[name]).host for name in ("api_base_url", "token_url")
        )

    def access(self, sim: Simulator) -> ShopAccess:
        credentials = sim.credentials()
        return ShopAccess(
            base_url=credentials["api_base_url"],
            shop_id=credentials["shop_id"],
            secrets={
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
            options={
                "fs_id": int(credentials["fs_id"]),
                "token_url": credentials["token_url"],
                "categories": {"Kopi": KOPI_CATEGORY, "Kain Tenun": TENUN_CATEGORY},
                "default_category_id": KOPI_CATEGORY,
            },
        )

    def listing_active(self, entry: Mapping[str, Any]) -> bool:
        return bool(entry.get("active"))

    def seller_order_ids(self, sim: Simulator) -> set[str]:
        # a seller sees paid orders only
        return {
            str(o["order_id"]) for o in sim.inspect_orders() if o.get("listed", True)
        }

    def listing_handle(self, sim: Simulator, sku: str) -> str:
        found = self.shown(sim, sku)
        return str(found["product_id"])

    def draft(self, sku: str, *, stock: int = 5, price: int = 85_000) -> ListingDraft:
        """A coffee listing Tokopedia accepts as is."""
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
        """A price above Tokopedia's ceiling of 100,000,000 rupiah."""
        return self.draft(sku, price=100_000_001)

    def expire_access_token(self, sim: Simulator) -> None:
        """Every current token of the app expires now."""
        self.own(sim, TokopediaSimulator).expire_tokens()

    def revoke_authorisation(self, sim: Simulator) -> None:
        """Tokopedia unlinks the shop from the ``fs_id`` (403 ``RBAC_MDLW_001``)."""
        self.own(sim, TokopediaSimulator).link_shop(
            int(sim.credentials()["shop_id"]), None
        )

    def fail_stock_item(self, sim: Simulator, sku: str) -> None:
        """Stock rows of this SKU fail with ``Invalid SKU.``."""
        sim.faults.fail_items(self.stock_endpoint, [sku], "Invalid SKU.")


#: The ``tokopedia`` entry point of ``ikm_sync.testkits``.
KIT = TokopediaKit()
