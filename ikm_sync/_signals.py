"""SIGTERM and SIGINT end a sync command cleanly instead of killing it mid-way.

While :func:`stopping_on_signals` is active, the first SIGTERM or SIGINT only sets a
:class:`~core.services.stopping.StopRequest`: the work stops at its next safe point,
each run is recorded ``interrupted`` and its lease released; then
:func:`exit_if_stopped` logs ``command.interrupted`` and exits with 128 + the signal's
number (130 for SIGINT, 143 for SIGTERM). A second signal ends the process at once,
as a kill would, whichever the signal (Python's own SIGINT handler would raise
``KeyboardInterrupt`` instead, which waits for the accounts' threads); the next run
finishes what was cut short.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import structlog
import typer

from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)

#: The signals that stop a command cleanly.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stopping_on_signals() -> Iterator[StopRequest]:
    """A stop request set by the first SIGTERM or SIGINT while the block runs."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # handlers can only be installed by the main thread
        return
    previous: dict[int, Any] = {}

    def handle(signum: int, _frame: FrameType | None) -> None:
        # Only set the flag here: the work notices it at its next safe point. The
        # next signal takes the system's default action: the process ends at once.
        stop.request(signal.Signals(signum).name)
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_DFL)

    for stop_signal in STOP_SIGNALS:
        previous[stop_signal] = signal.signal(stop_signal, handle)
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def exit_code_of(stop: StopRequest) -> int:
    """The conventional exit code of a command stopped by ``stop``'s signal."""
    return 128 + int(signal.Signals[stop.reason])


def exit_now(code: int) -> NoReturn:
    """End the process at once with ``code``, its logs flushed, without waiting
    for threads still running (a job stuck past the stop deadline would otherwise
    hold the exit until it ends)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def exit_if_stopped(stop: StopRequest) -> None:
    """After the work: when a signal asked it to stop, log ``command.interrupted``
    and exit with 128 + the signal's number."""
    if not stop.requested:
        return
    code = exit_code_of(stop)
    log.warning("command.interrupted", signal=stop.reason, exit_code=code)
    raise typer.Exit(code)
