"""The Bukalapak simulator, :class:`BukalapakSimulator`.

The ``bukalapak`` entry point of ``ikm_sync.simulators``; the contract it follows is
``shared/marketplaces/bukalapak.md``.
"""

from __future__ import annotations

from simulators.bukalapak.simulator import BukalapakSimulator

__all__ = ["BukalapakSimulator"]
