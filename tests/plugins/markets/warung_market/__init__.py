"""Warung: a marketplace plugin for the plugin tests, speaking Tokopedia's legacy
Seller API on hosts of its own (its connector is Tokopedia's under another key)."""

from __future__ import annotations

from typing import ClassVar

from connectors.tokopedia import TokopediaConnector
from connectors.tokopedia.settings import TokopediaSettings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault


class WarungConnector(TokopediaConnector):
    """The ``warung`` connector."""

    key: ClassVar[str] = "warung"


DESCRIPTOR = MarketplaceDescriptor(
    key="warung",
    display_name="Warung (test plugin)",
    connector=WarungConnector,
    settings=TokopediaSettings,
    rate=RateDefault(5.0, 5),
)
