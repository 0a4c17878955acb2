"""Shopee Open Platform v2: the connector and its simulator.

This package exports :class:`ShopeeConnector` (``connectors.shopee.connector``), the
``shopee`` entry point; the simulator lives in :mod:`simulators.shopee.simulator`.
The contract both follow is ``shared/marketplaces/shopee.md``.
"""

from __future__ import annotations

from connectors.shopee.connector import ShopeeConnector

__all__ = ["ShopeeConnector"]
