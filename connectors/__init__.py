"""Marketplace connectors and their shared plumbing; concrete ones are entry points."""

from __future__ import annotations

from connectors.registry import available, available_simulators, load, load_simulator

__all__ = ["available", "available_simulators", "load", "load_simulator"]
