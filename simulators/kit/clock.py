"""The simulators' clock: real time, or a manual clock that tests move by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SimClock:
    """A UTC clock. Running clocks follow the system time plus an offset that
    :meth:`advance` grows; frozen clocks move only when advanced."""

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self._base = (start or datetime.now(UTC)).astimezone(UTC)
        self._offset = timedelta(0)
        self._started = datetime.now(UTC)

    def now(self) -> datetime:
        """The current simulated instant."""
        with self._lock:
            if self._frozen:
                return self._base + self._offset
            return self._base + (datetime.now(UTC) - self._started) + self._offset

    def timestamp(self) -> int:
        """The current simulated instant in whole Unix seconds."""
        return int(self.now().timestamp())

    def advance(self, seconds: float = 0.0, **delta: float) -> None:
        """Move the clock forward (``advance(60)`` or ``advance(hours=4)``)."""
        with self._lock:
            self._offset += timedelta(seconds=seconds, **delta)
