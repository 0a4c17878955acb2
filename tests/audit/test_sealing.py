"""Sealing happens by itself: at the end of every command that opened the store,
and in the daemon; ``audit verify`` only reports."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import cast

import pytest

from core.services.stopping import StopRequest
from core.store.audit_chain import seal, unsealed
from core.store.db import make_engine
from ikm_sync._context import AppState
from scheduler.daemon import Daemon, DaemonOptions
from scheduler.runner import AccountJobRunner
from scheduler.timing import Intervals
from tests.audit import world
from tests.conftest import Cli
from tests.fakes import FakeClock, FakeTokenStore
from tests.unit.test_daemon import ClockedSchedule, ScriptedRunner


def _unsealed(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return unsealed(connection)
    finally:
        engine.dispose()


def _command(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> AppState:
    """A command's state on the test database (settings from the environment)."""
    monkeypatch.setenv("IKMSYNC_DATABASE_URL", cli.database_url)
    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    return AppState()


def test_a_command_that_wrote_events_seals_at_its_end_and_a_reader_does_not(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.store(cli.database_url) as sessions:
        world.write(sessions, 7)  # left unsealed by someone else

    reader = _command(cli, monkeypatch)
    with reader.runtime().uow() as uow:
        uow.accounts.get_all()
    reader.close()
    assert _unsealed(cli.database_url) == 7  # a reader seals nothing

    code, report = world.verify(cli)
    assert (code, report["unsealed"]) == (0, 7)
    assert _unsealed(cli.database_url) == 7  # nor does verify

    writer = _command(cli, monkeypatch)
    world.write(writer.runtime().session_factory, 2)
    assert _unsealed(cli.database_url) == 9
    writer.close()
    assert _unsealed(cli.database_url) == 0  # its own and those before them
    code, report = world.verify(cli)
    assert (code, report["walked"], report["unsealed"]) == (0, 9, 0)


def test_a_command_seals_a_bounded_number_at_its_end_and_leaves_the_rest(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ikm_sync.commands.audit_chain.SEAL_ON_CLOSE_MOST", 4)
    writer = _command(cli, monkeypatch)
    world.write(writer.runtime().session_factory, 10)
    with world.store(cli.database_url) as sessions:
        sealed = seal(sessions, batch=3, most=4)
    assert (sealed.events, sealed.more) == (6, True)  # whole batches, then stops
    assert _unsealed(cli.database_url) == 4
    writer.close()  # seals up to the bound in batches of 5,000: all 4 left
    assert _unsealed(cli.database_url) == 0
    code, report = world.verify(cli)
    assert (code, report["walked"]) == (0, 10)


def test_audit_seal_by_hand(cli: Cli) -> None:
    with world.store(cli.database_url) as sessions:
        world.write(sessions, 4)
    result = cli("audit", "seal", "--json")
    assert result.exit_code == 0
    assert '"sealed": 4' in result.stdout


class Keeper:
    """An audit keeper that counts; ``sealed_twice`` once it sealed twice."""

    def __init__(self, failing: bool = False) -> None:
        self.seals = 0
        self.checkpoints = 0
        self.failing = failing
        self.sealed_twice = threading.Event()

    def seal(self) -> int:
        self.seals += 1
        if self.seals >= 2:
            self.sealed_twice.set()
        if self.failing:
            raise RuntimeError("database locked")
        return 3

    def checkpoint(self) -> str | None:
        self.checkpoints += 1
        return "/var/lib/ikm-sync/checkpoint.json"


def _serve(keeper: Keeper) -> None:
    clock = FakeClock()
    daemon = Daemon(
        cast(AccountJobRunner, ScriptedRunner(clock)),
        ClockedSchedule(clock),
        FakeTokenStore(),
        list,
        DaemonOptions(
            cycles=Intervals(timedelta(hours=1)),
            tick=timedelta(hours=1),
            sweep_every=timedelta(hours=1),
            seal_every=timedelta(milliseconds=10),
            checkpoint_every=timedelta(hours=24),
        ),
        audit=keeper,
    )
    daemon._sweep = lambda: None  # type: ignore[method-assign]  # no lease store
    stop = StopRequest()
    thread = threading.Thread(target=daemon.serve, args=(stop,))
    thread.start()
    try:
        assert keeper.sealed_twice.wait(30)
    finally:
        stop.request("test over")
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_the_daemon_seals_every_seal_interval_and_checkpoints_on_start() -> None:
    keeper = Keeper()
    _serve(keeper)
    assert keeper.seals >= 2
    assert keeper.checkpoints == 1


def test_a_failing_seal_does_not_stop_the_daemon_sealing() -> None:
    keeper = Keeper(failing=True)
    _serve(keeper)  # sealed again after the first failure
    assert keeper.seals >= 2
