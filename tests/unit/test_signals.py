"""SIGTERM and SIGINT set the command's stop request instead of killing it; a second
signal ends the process at once; exit codes are 128 + the signal."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import typer
from structlog.testing import capture_logs

from core.errors import RunInterruptedError
from core.services.stopping import StopRequest
from ikm_sync._signals import exit_if_stopped, stopping_on_signals


@pytest.mark.parametrize(
    ("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_the_first_signal_only_asks_the_work_to_stop(
    sent: signal.Signals, code: int
) -> None:
    before = signal.getsignal(sent)
    with stopping_on_signals() as stop:
        assert stop.reason == ""  # nothing asked yet
        signal.raise_signal(sent)  # the handler runs before this returns
        assert stop.requested
        assert stop.reason == sent.name
    assert signal.getsignal(sent) is before  # restored when the work is over

    with capture_logs() as logged, pytest.raises(typer.Exit) as exited:
        exit_if_stopped(stop)
    assert exited.value.exit_code == code
    assert logged == [
        {
            "event": "command.interrupted",
            "signal": sent.name,
            "exit_code": code,
            "log_level": "warning",
        }
    ]


_TWICE = """
import signal, sys
from ikm_sync._signals import stopping_on_signals
first, second = (signal.Signals[name] for name in sys.argv[1:])
with stopping_on_signals() as stop:
    signal.raise_signal(first)
    assert stop.requested
    print("asked to stop", flush=True)
    signal.raise_signal(second)
    print("still running", flush=True)
"""


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGTERM, signal.SIGINT),
        (signal.SIGTERM, signal.SIGTERM),
        (signal.SIGINT, signal.SIGTERM),
    ],
)
def test_a_second_signal_ends_the_process_at_once_as_a_kill_would(
    first: signal.Signals, second: signal.Signals
) -> None:
    """Not a KeyboardInterrupt, which would wait for the accounts' threads: the
    process ends by the signal at once (exit status 128 + its number)."""
    ended = subprocess.run(  # noqa: S603  (this interpreter)
        [sys.executable, "-c", _TWICE, first.name, second.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ended.stdout == "asked to stop\n", ended.stderr
    assert ended.returncode == -second.value, ended.stderr
    assert "KeyboardInterrupt" not in ended.stderr


def test_nothing_happens_without_a_signal() -> None:
    with stopping_on_signals() as stop:
        pass
    assert not stop.requested
    exit_if_stopped(stop)  # returns: the command exits as its work says


def requested(stop: StopRequest) -> bool:
    """Read afresh each time (a property mypy would otherwise narrow)."""
    return stop.requested


def test_a_stop_deadline_stops_once_the_monotonic_clock_reaches_it() -> None:
    now = [100.0]
    parent = StopRequest()
    stop = StopRequest(parent=parent, monotonic=lambda: now[0])
    stop.stop_at(110.0, "lease lost")
    now[0] = 109.9
    assert not requested(stop)
    stop.stop_at(130.0, "lease lost")  # a renewal moves it on
    now[0] = 129.0
    assert not requested(stop)
    now[0] = 130.0
    assert requested(stop)
    assert stop.reason == "lease lost"
    assert not requested(parent)  # one job's lease, not the whole command
    with pytest.raises(RunInterruptedError, match="lease lost"):
        stop.check()
