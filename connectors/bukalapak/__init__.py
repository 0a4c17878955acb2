"""Bukalapak (API v4): a simulated channel only, since the marketplace closed for
physical goods in 2025; the simulator lives in :mod:`simulators.bukalapak.simulator`.

This package exports :class:`BukalapakConnector`, the connector for one Bukalapak store.
"""

from __future__ import annotations

from connectors.bukalapak.connector import BukalapakConnector
from connectors.bukalapak.settings import Settings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault

#: The ``bukalapak`` entry point of ``ikm_sync.connectors``.
DESCRIPTOR = MarketplaceDescriptor(
    key="bukalapak",
    display_name="Bukalapak",
    connector=BukalapakConnector,
    settings=Settings,
    rate=RateDefault(10.0, 10),
)

__all__ = ["DESCRIPTOR", "BukalapakConnector"]
