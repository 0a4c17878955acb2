"""Tokopedia (legacy Seller API, ``fs_id``): the connector and its simulator.

See ``/work/shared/marketplaces/tokopedia.md`` for the contract. This package exports
:class:`TokopediaConnector` (the ``tokopedia`` entry point); the simulator lives in
:mod:`simulators.tokopedia.simulator`.
"""

from __future__ import annotations

from connectors.tokopedia.connector import TokopediaConnector

__all__ = ["TokopediaConnector"]
