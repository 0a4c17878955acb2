"""The Tokopedia simulator, :class:`TokopediaSimulator`.

The ``tokopedia`` entry point of ``ikm_sync.simulators``; the contract it follows is
``shared/marketplaces/tokopedia.md``.
"""

from __future__ import annotations

from simulators.tokopedia.simulator import TokopediaSimulator

__all__ = ["TokopediaSimulator"]
