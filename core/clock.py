"""The system clock, the production implementation of ``core.ports.Clock``."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Reads the operating system's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)
