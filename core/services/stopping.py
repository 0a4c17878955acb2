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
    :class:`RunInterruptedError`. Safe to set from a signal handler or any thread.

    A request made with a ``parent`` (one job's, under the whole command's) is also
    requested once its parent is."""

    def __init__(self, parent: StopRequest | None = None) -> None:
        self._event = threading.Event()
        self._reason = ""
        self._parent = parent

    def request(self, reason: str) -> None:
        """Ask the work to stop; ``reason`` names the cause (e.g. ``SIGTERM``)."""
        if not self._event.is_set():
            self._reason = reason
            self._event.set()

    @property
    def requested(self) -> bool:
        """True once a stop was requested (here or of the parent)."""
        return self._event.is_set() or (
            self._parent is not None and self._parent.requested
        )

    @property
    def reason(self) -> str:
        """What asked the work to stop ("" until then)."""
        if self._event.is_set():
            return self._reason
        return "" if self._parent is None else self._parent.reason

    def check(self) -> None:
        """A safe point: raise :class:`RunInterruptedError` once a stop is requested."""
        if self.requested:
            raise RunInterruptedError(self.reason)
