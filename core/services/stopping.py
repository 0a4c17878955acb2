"""Stopping work cleanly when the process is asked to stop (SIGTERM, SIGINT).

A :class:`StopRequest` is set from outside (a signal handler of the command line) and
checked by the sync services at their safe points: between chunks, pages and
transactions, never inside one. A marketplace call already in flight completes; the
run then ends ``interrupted`` and the next run continues from what was committed.
"""

from __future__ import annotations

import threading

from core.errors import RunInterruptedError


class StopRequest:
    """A one-way flag: once requested, every :meth:`check` raises
    :class:`RunInterruptedError`. Safe to set from a signal handler or any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason = ""

    def request(self, reason: str) -> None:
        """Ask the work to stop; ``reason`` names the cause (e.g. ``SIGTERM``)."""
        if not self._event.is_set():
            self._reason = reason
            self._event.set()

    @property
    def requested(self) -> bool:
        """True once a stop was requested."""
        return self._event.is_set()

    @property
    def reason(self) -> str:
        """What asked the work to stop ("" until then)."""
        return self._reason

    def check(self) -> None:
        """A safe point: raise :class:`RunInterruptedError` once a stop is requested."""
        if self._event.is_set():
            raise RunInterruptedError(self._reason)
