"""Pasar: a marketplace plugin for the plugin tests, speaking Bukalapak's API v4 on
hosts of its own (its connector is Bukalapak's under another key)."""

from __future__ import annotations

from typing import ClassVar

from connectors.bukalapak import BukalapakConnector
from connectors.bukalapak.settings import Settings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault


class PasarConnector(BukalapakConnector):
    """The ``pasar`` connector."""

    key: ClassVar[str] = "pasar"


DESCRIPTOR = MarketplaceDescriptor(
    key="pasar",
    display_name="Pasar (test plugin)",
    connector=PasarConnector,
    settings=Settings,
    rate=RateDefault(10.0, 10),
)
