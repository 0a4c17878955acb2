"""Tokopedia (legacy Seller API, ``fs_id``): the connector and its simulator.

See ``/work/shared/marketplaces/tokopedia.md`` for the contract. This package exports
:class:`TokopediaConnector` (the ``tokopedia`` entry point); the simulator lives in
:mod:`simulators.tokopedia.simulator`.
"""

from __future__ import annotations

from connectors.tokopedia.connector import TokopediaConnector
from connectors.tokopedia.settings import TokopediaSettings
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault

#: The ``tokopedia`` entry point of ``ikm_sync.connectors``.
DESCRIPTOR = MarketplaceDescriptor(
    key="tokopedia",
    display_name="Tokopedia",
    connector=TokopediaConnector,
    settings=TokopediaSettings,
    rate=RateDefault(5.0, 5),
)

__all__ = ["DESCRIPTOR", "TokopediaConnector"]
