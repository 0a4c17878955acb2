"""SIGTERM and SIGINT set the command's stop request instead of killing it; a second
signal acts as it would without ikm-sync's handler; exit codes are 128 + the signal."""

from __future__ import annotations

import signal

import pytest
import typer
from structlog.testing import capture_logs

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


def test_a_second_signal_acts_at_once() -> None:
    with stopping_on_signals() as stop:
        signal.raise_signal(signal.SIGTERM)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):  # Python's own SIGINT handler
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nothing_happens_without_a_signal() -> None:
    with stopping_on_signals() as stop:
        pass
    assert not stop.requested
    exit_if_stopped(stop)  # returns: the command exits as its work says
