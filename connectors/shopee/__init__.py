"""Shopee Open Platform v2: the connector and its simulator.

This package exports :class:`ShopeeConnector` (``connectors.shopee.connector``), the
``shopee`` entry point; the simulator lives in :mod:`simulators.shopee.simulator`.
The contract both follow is ``shared/marketplaces/shopee.md``.
"""

from __future__ import annotations

from connectors.shopee.connector import ShopeeConnector
from connectors.shopee.settings import ShopeeSettings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault

#: The ``shopee`` entry point of ``ikm_sync.connectors``.
DESCRIPTOR = MarketplaceDescriptor(
    key="shopee",
    display_name="Shopee",
    connector=ShopeeConnector,
    settings=ShopeeSettings,
    rate=RateDefault(10.0, 10),
)

__all__ = ["DESCRIPTOR", "ShopeeConnector"]
