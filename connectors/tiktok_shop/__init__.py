"""TikTok Shop (Partner API, dated ``202309`` paths): the connector.

Tokopedia shops bound to the merged Tokopedia & TikTok Shop platform are served
through this API. See ``/work/shared/marketplaces/tiktok-shop.md`` for the contract.
This package exports :class:`TikTokShopConnector` (the ``tiktok_shop`` entry point);
the simulator lives in :mod:`simulators.tiktok_shop`.
"""

from __future__ import annotations

from connectors.tiktok_shop.connector import TikTokShopConnector
from connectors.tiktok_shop.settings import TikTokShopSettings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault

#: The ``tiktok_shop`` entry point of ``ikm_sync.connectors``.
DESCRIPTOR = MarketplaceDescriptor(
    key="tiktok_shop",
    display_name="TikTok Shop",
    connector=TikTokShopConnector,
    settings=TikTokShopSettings,
    rate=RateDefault(10.0, 10),  # tiktok-shop.md §10: per shop and endpoint [INF]
)

__all__ = ["DESCRIPTOR", "TikTokShopConnector"]
