"""The Warung simulator: Tokopedia's, under the ``warung`` key."""

from __future__ import annotations

from typing import ClassVar

from simulators.tokopedia import TokopediaSimulator


class WarungSimulator(TokopediaSimulator):
    """The ``warung`` simulator (it routes by path, whatever the host)."""

    key: ClassVar[str] = "warung"
    default_port: ClassVar[int | None] = None
