"""The Shopee simulator, :class:`ShopeeSimulator`.

The ``shopee`` entry point of ``ikm_sync.simulators``; the contract it follows is
``shared/marketplaces/shopee.md``.
"""

from __future__ import annotations

from simulators.shopee.simulator import ShopeeSimulator

__all__ = ["ShopeeSimulator"]
