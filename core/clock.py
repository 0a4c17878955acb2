"""The system clock, the production implementation of ``core.ports.Clock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """Reads the operating system's clock, in UTC, moved by ``offset`` (zero but in
    tests that play a machine whose clock is off)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC) + self.offset
