"""Marketplace connectors and their shared plumbing; concrete ones are entry points."""

from __future__ import annotations

from connectors.registry import available, descriptor, descriptors, load

__all__ = ["available", "descriptor", "descriptors", "load"]
