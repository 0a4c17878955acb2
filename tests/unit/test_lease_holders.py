"""Judging whether a lease's holder process is gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from scheduler.leases import holder_is_gone, lease_holder


def test_this_process_is_not_gone() -> None:
    assert not holder_is_gone(lease_holder())


def test_a_finished_process_of_this_machine_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert holder_is_gone(f"{socket.gethostname()}:{child.pid}:abcd1234")


def test_a_running_process_of_this_machine_is_not_gone() -> None:
    assert not holder_is_gone(f"{socket.gethostname()}:{os.getppid()}:abcd1234")


def test_holders_of_other_machines_or_unreadable_ones_are_never_judged() -> None:
    assert not holder_is_gone("another-host:1:abcd1234")
    assert not holder_is_gone(f"{socket.gethostname()}:not-a-pid:abcd1234")
    assert not holder_is_gone("worker-a")
