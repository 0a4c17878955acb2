"""The Pasar simulator: Bukalapak's, under the ``pasar`` key."""

from __future__ import annotations

from typing import ClassVar

from simulators.bukalapak import BukalapakSimulator


class PasarSimulator(BukalapakSimulator):
    """The ``pasar`` simulator (it routes by path, whatever the host)."""

    key: ClassVar[str] = "pasar"
    default_port: ClassVar[int | None] = None
