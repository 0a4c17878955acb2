"""ikm-sync's front door: the command line and the wiring behind it."""

from __future__ import annotations

__version__ = "0.1.0"
