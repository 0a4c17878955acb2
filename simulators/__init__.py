"""The marketplaces' simulators: a shared kit (:mod:`simulators.kit`) and one
package per marketplace, each found through the ``ikm_sync.simulators`` entry points.

A simulator is an ``httpx`` handler (``httpx.MockTransport(simulator.handler)``) for
tests and benchmarks, and the same object served on a local port for the demo and for
training. This room imports no connector.
"""

from __future__ import annotations

from simulators.registry import (
    available_simulators,
    available_testkits,
    load_simulator,
    load_testkit,
)

__all__ = [
    "available_simulators",
    "available_testkits",
    "load_simulator",
    "load_testkit",
]
