"""Stopping work cleanly when the process is asked to stop (SIGTERM, SIGINT).

A :class:`StopRequest` is set from outside (a signal handler of the command line) and
checked by the sync services at their safe points: between chunks, pages and
transactions, never inside one. A marketplace call already in flight completes; the
run then ends ``interrupted`` and the next run continues from what was committed.

Safe points cannot close one window: between the last check and a marketplace write
leaving (a rate-budget wait, a process paused). So the work's owner may also guard
writes (:func:`guarding_writes`): the connectors' shared send path calls
:func:`check_write` just before each write leaves, and a write the guard refuses
(the job's lease can no longer be known to hold) is never sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from core.errors import RunInterruptedError


class StopRequest:
    """A one-way flag: once requested, every :meth:`check` raises
    :class:`RunInterruptedError`. Safe to set from a signal handler or any thread.

    A request made with a ``parent`` (one job's, under the whole command's) is also
    requested once its parent is."""

    def __init__(
        self,
        parent: StopRequest | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._event = threading.Event()
        self._reason = ""
        self._parent = parent
        self._monotonic = monotonic
        self._deadline: tuple[float, str] | None = None

    def stop_at(self, deadline: float, reason: str) -> None:
        """Request a stop by itself once the monotonic clock reaches ``deadline``
        (e.g. when a lease can no longer be known to hold: a process paused past it
        must not send one more marketplace write when it wakes, though the database
        would refuse its records anyway). A later call moves the deadline."""
        self._deadline = (deadline, reason)

    def request(self, reason: str) -> None:
        """Ask the work to stop; ``reason`` names the cause (e.g. ``SIGTERM``)."""
        if not self._event.is_set():
            self._reason = reason
            self._event.set()

    @property
    def requested(self) -> bool:
        """True once a stop was requested (here or of the parent), or its deadline
        passed."""
        deadline = self._deadline
        if deadline is not None and self._monotonic() >= deadline[0]:
            self.request(deadline[1])
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


#: Says, just before a marketplace write leaves, why it must not (``None``: it may).
WriteRefusal = Callable[[], "str | None"]

_write_guard: ContextVar[WriteRefusal | None] = ContextVar("write_guard", default=None)


@contextmanager
def guarding_writes(refusal: WriteRefusal) -> Iterator[None]:
    """While the block runs, marketplace writes sent from this thread (and
    context) are refused once ``refusal()`` names a reason."""
    token = _write_guard.set(refusal)
    try:
        yield
    finally:
        _write_guard.reset(token)


def check_write() -> None:
    """Called by the send path just before a write leaves; raises
    :class:`RunInterruptedError` (the write not sent) when the guard refuses it."""
    refusal = _write_guard.get()
    reason = refusal() if refusal is not None else None
    if reason:
        raise RunInterruptedError(reason)
