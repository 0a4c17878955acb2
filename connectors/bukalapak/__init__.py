"""Bukalapak (API v4): a simulated channel only, since the marketplace closed for
physical goods in 2025; the simulator lives in :mod:`simulators.bukalapak.simulator`.

This package exports :class:`BukalapakConnector`, the connector for one Bukalapak store.
"""

from __future__ import annotations

from connectors.bukalapak.connector import BukalapakConnector

__all__ = ["BukalapakConnector"]
