"""The TikTok Shop simulator, :class:`TikTokShopSimulator`.

The ``tiktok_shop`` entry point of ``ikm_sync.simulators``; the contract it follows is
``shared/marketplaces/tiktok-shop.md``.
"""

from __future__ import annotations

from simulators.tiktok_shop.simulator import TikTokShopSimulator

__all__ = ["TikTokShopSimulator"]
