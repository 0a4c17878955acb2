"""Judging whether a lease's holder process is gone: by host, boot, PID namespace
and the process's start time, never by host and PID alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.store.leases import HOLDER_LENGTH
from scheduler import leases
from scheduler.leases import ProcessIdentity, holder_is_gone, lease_holder


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A process of this machine that runs until its input closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    yield process
    if process.stdin is not None:
        process.stdin.close()
    process.wait()


def end(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait()


def test_this_process_is_not_gone() -> None:
    assert not holder_is_gone(lease_holder())


def test_a_holder_name_carries_the_process_identity() -> None:
    named = ProcessIdentity.parse(lease_holder())
    assert named == ProcessIdentity.of(os.getpid())
    assert named is not None
    assert named.start is not None
    assert named.machine
    longest = ProcessIdentity("h" * 64, 4_194_304, 10**12, "0" * 12)
    assert len(f"{longest.name}:abcd1234:abcd1234") <= HOLDER_LENGTH  # job holders


def test_a_finished_process_of_this_machine_is_gone(
    child: subprocess.Popen[bytes],
) -> None:
    holder = f"{ProcessIdentity.of(child.pid).name}:abcd1234"
    assert not holder_is_gone(holder)  # running
    end(child)
    assert holder_is_gone(holder)


def test_a_killed_process_not_yet_reaped_is_gone(
    child: subprocess.Popen[bytes],
) -> None:
    holder = f"{ProcessIdentity.of(child.pid).name}:abcd1234"
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie now
    assert holder_is_gone(holder)


def test_a_reused_pid_does_not_keep_a_dead_holder_alive() -> None:
    """The holder's PID now runs a later process (this test's parent): the holder
    started at another time, so it is gone."""
    later = ProcessIdentity.of(os.getppid())
    assert later.start is not None
    holder = f"{replace(later, start=later.start + 1).name}:abcd1234"
    assert holder_is_gone(holder)
    assert not holder_is_gone(f"{later.name}:abcd1234")  # the live one itself


def test_another_boot_or_pid_namespace_is_never_judged(
    child: subprocess.Popen[bytes],
) -> None:
    """Under the same host name, a holder of another boot or PID namespace (a
    container) names PIDs that mean nothing here: its lease is waited out."""
    named = ProcessIdentity.of(child.pid)
    end(child)
    assert holder_is_gone(f"{named.name}:abcd1234")
    elsewhere = replace(named, machine="0123456789ab")
    assert not holder_is_gone(f"{elsewhere.name}:abcd1234")
    alive_here = ProcessIdentity.of(os.getpid())  # "our" PID, in another namespace
    assert not holder_is_gone(f"{replace(alive_here, machine='0123456789ab').name}:x")


def test_holders_of_other_machines_or_unreadable_ones_are_never_judged(
    child: subprocess.Popen[bytes],
) -> None:
    named = ProcessIdentity.of(child.pid)
    end(child)
    assert not holder_is_gone(f"{replace(named, host='another-host').name}:abcd1234")
    # host and PID alone (an older name) no longer suffice for a takeover
    assert not holder_is_gone(f"{socket.gethostname()}:{child.pid}:abcd1234")
    assert not holder_is_gone(f"{socket.gethostname()}:{child.pid}:-:abcd1234")
    assert not holder_is_gone(f"{socket.gethostname()}:not-a-pid:abcd1234")
    assert not holder_is_gone("worker-a")


def test_without_proc_no_holder_is_judged(
    child: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    holder = f"{ProcessIdentity.of(child.pid).name}:abcd1234"
    end(child)
    monkeypatch.setattr(leases, "PROC", tmp_path / "no-proc")
    assert lease_holder().split(":")[2] == "-"
    assert not holder_is_gone(holder)
    assert not holder_is_gone(lease_holder())
