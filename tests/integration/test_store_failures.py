"""A locked, read-only or unreachable database is reported in plain words that name
the cause and what to do — in exceptions, in a run's recorded error and on the command
line — never as a driver error with its SQL statement."""

from __future__ import annotations

import shutil
import socket
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.domain.remote import ChangeResult, StockUpdate
from core.domain.stock import MovementReason, NewMovement
from core.domain.sync import RunOutcome, SyncKind
from core.errors import (
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnreachableError,
)
from core.ports import MarketplaceConnector
from core.services.publish import push_account
from core.services.runs import RunRecorder, error_text
from core.store.db import make_engine, make_session_factory
from core.store.uow import SqlUnitOfWork
from tests.conftest import Cli
from tests.e2e.helpers import write_csv
from tests.fakes import FakeClock
from tests.sync.world import SHOPEE, World

pytestmark = pytest.mark.db

RAW = ("[SQL", "BEGIN IMMEDIATE", "INSERT", "UPDATE", "OperationalError", "sqlite3")


def _plain(message: str) -> None:
    for fragment in RAW:
        assert fragment not in message, message


def _sqlite_file(database_url: str) -> str:
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("a SQLite file's own lock")
    return str(url.database)


@pytest.fixture
def locker(database_url: str) -> Iterator[sqlite3.Connection]:
    """A second connection to the file, as another process would hold it."""
    connection = sqlite3.connect(_sqlite_file(database_url), isolation_level=None)
    yield connection
    connection.close()


def test_a_locked_file_is_named_with_the_wait_and_what_to_do(
    database_url: str, locker: sqlite3.Connection
) -> None:
    engine = make_engine(database_url, busy_timeout=0.05)
    factory = make_session_factory(engine)
    recorder = RunRecorder(
        lambda: SqlUnitOfWork(factory), FakeClock(), SyncKind.PUBLISH, None, "t"
    )
    locker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLockedError) as raised:
            recorder.start()
    finally:
        locker.execute("ROLLBACK")

    message = str(raised.value)
    path = _sqlite_file(database_url)
    assert message == (
        f"the database file {path} is locked by another process (waited 0.05 s); "
        "try again when it finishes, or check for a stuck ikm-sync process"
    )
    _plain(message)
    with SqlUnitOfWork(factory) as uow:
        assert uow.runs.recent(10) == []  # nothing was written
    assert recorder.start() > 0  # once the lock is gone, the same engine works
    engine.dispose()


class _LockedDuringStock:
    """Another process takes the write lock while the stock call is out."""

    def __init__(self, inner: MarketplaceConnector, locker: sqlite3.Connection):
        self._inner, self._locker = inner, locker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[ChangeResult]:
        results = self._inner.push_stock(updates)
        self._locker.execute("BEGIN IMMEDIATE")
        return results


def test_a_lock_met_mid_run_is_recorded_in_the_run_in_plain_words(
    database_url: str, locker: sqlite3.Connection
) -> None:
    engine = make_engine(database_url, busy_timeout=0.05)
    world = World.build(engine)
    assert world.cycle().ok
    shopee = world.account(SHOPEE)
    with world.uow() as uow:
        uow.stock.record_many(
            [
                NewMovement(
                    "KOPI-0001",  # type: ignore[arg-type]
                    MovementReason.RECEIPT,
                    5,
                    0,
                    "receipt:more",
                    "officer:test",
                )
            ],
            world.clock.now(),
        )
        uow.commit()

    @event.listens_for(engine, "handle_error")
    def _the_other_process_finishes(_context: Any) -> None:
        if locker.in_transaction:
            locker.execute("ROLLBACK")

    with pytest.raises(DatabaseLockedError) as raised:
        push_account(
            world.uow,
            _LockedDuringStock(world.connector(shopee), locker),  # type: ignore[arg-type]
            shopee,
            world.clock,
            trigger="manual:test",
        )

    with world.uow() as uow:
        (run,) = uow.runs.recent(1, account=SHOPEE, kind=SyncKind.PUBLISH)
    assert run.outcome is RunOutcome.FAILED
    assert run.error == str(raised.value) == error_text(raised.value)
    assert "is locked by another process (waited 0.05 s)" in run.error
    _plain(run.error)
    engine.dispose()


def _read_only(database_url: str, tmp_path: Path) -> str:
    """The same database, opened so that it refuses every write."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "read-only.db"
        shutil.copyfile(str(url.database), copy)
        return f"sqlite:///file:{copy}?mode=ro&uri=true"
    return url.update_query_dict(
        {"options": "-c default_transaction_read_only=on"}
    ).render_as_string(hide_password=False)


def test_a_read_only_database_says_so_and_what_to_do(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(_read_only(database_url, tmp_path))
    factory = make_session_factory(engine)
    with SqlUnitOfWork(factory) as uow:
        assert uow.runs.recent(1) == []  # reading works
    recorder = RunRecorder(
        lambda: SqlUnitOfWork(factory), FakeClock(), SyncKind.PUBLISH, None, "t"
    )

    with pytest.raises(DatabaseReadOnlyError) as raised:
        recorder.start()

    message = str(raised.value)
    _plain(message)
    if engine.dialect.name == "sqlite":
        assert message == (
            f"the database file {tmp_path / 'read-only.db'} is read-only: give the "
            "user running ikm-sync write permission on the file and its directory"
        )
    else:
        assert "accepts no writes" in message
        assert "point ikm-sync at the primary" in message
    engine.dispose()


def test_the_command_line_reports_a_read_only_database_plainly(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    producers = write_csv(
        tmp_path / "producers.csv",
        ["producer_code", "name", "province", "regency", "kind"],
        [["IKM-1", "Koperasi Kopi", "NTT", "Ngada", "ikm"]],
    )
    result = cli(
        "catalog",
        "import",
        str(producers),
        env={"IKMSYNC_DATABASE_URL": _read_only(database_url, tmp_path)},
    )

    assert result.exit_code == 4, result.output
    assert "database error" in result.output
    assert "read-only" in result.output
    assert "cannot reach" not in result.output
    _plain(result.output)


def test_an_unreachable_server_or_file_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_engine(f"postgresql+psycopg://ikm@127.0.0.1:{port}/shop")
    missing = make_engine(f"sqlite:///file:{tmp_path}/gone/x.db?mode=ro&uri=true")

    with pytest.raises(DatabaseUnreachableError) as refused:
        server.connect()
    with pytest.raises(DatabaseUnreachableError) as unopened:
        missing.connect()

    assert str(refused.value).startswith(
        f"cannot reach the database shop on 127.0.0.1:{port}: connection failed"
    )
    assert str(unopened.value).startswith(
        f"cannot open the database file {tmp_path}/gone/x.db: check that its directory"
    )


def test_a_connection_the_server_ends_mid_run_is_named_plainly(
    database_url: str,
) -> None:
    """The server ends the session inside a transaction (a shutdown, an operator's
    ``pg_terminate_backend``): a plain error naming the database, and the engine
    works again on a new connection once the server accepts it."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL server ending a session")
    engine = make_engine(database_url)
    admin = make_engine(database_url)
    factory = make_session_factory(engine)
    recorder = RunRecorder(
        lambda: SqlUnitOfWork(factory), FakeClock(), SyncKind.PUBLISH, None, "t"
    )
    ended: list[int] = []

    @event.listens_for(engine, "begin")
    def _the_server_ends_it(connection: sa.Connection) -> None:
        if ended:
            return
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        ended.append(pid)

    with pytest.raises(DatabaseUnreachableError) as raised:
        recorder.start()

    message = str(raised.value)
    assert message.startswith(
        f"cannot reach the database {url.database} on {url.host}"
    ), message
    assert "check that the server runs" in message
    _plain(message)
    assert "AdminShutdown" not in message
    assert "psycopg" not in message
    assert error_text(raised.value) == message
    assert recorder.start() > 0  # a new connection: the run is recorded
    engine.dispose()
    admin.dispose()


def test_a_server_refusing_the_session_points_at_the_database_settings(
    database_url: str,
) -> None:
    """A wrong user, password or database name is answered by the server: the
    message names the server's reason and the settings to check."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL server refusing a session")
    wrong_user = make_engine(url.set(username="ikmsync_no_such_role", password="pw"))
    wrong_name = make_engine(url.set(database="ikmsync_no_such_database"))

    with pytest.raises(DatabaseUnreachableError) as refused_user:
        wrong_user.connect()
    with pytest.raises(DatabaseUnreachableError) as refused_name:
        wrong_name.connect()

    for raised, cause in (
        (refused_user, 'role "ikmsync_no_such_role" does not exist'),
        (refused_name, 'database "ikmsync_no_such_database" does not exist'),
    ):
        message = str(raised.value)
        assert cause in message, message
        assert "the user name, password and database name" in message, message
        assert "IKMSYNC_DATABASE__PASSWORD" in message, message
        assert "pw" not in message.replace("password", "")
        _plain(message)


def test_a_postgresql_lock_held_too_long_is_named_with_the_wait(
    database_url: str,
) -> None:
    """Another session holds a lock (an open transaction, ``db upgrade`` behind a
    stuck session): ikm-sync waits as long as SQLite would, then says so plainly
    instead of waiting for ever."""
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL session's lock")
    engine = make_engine(database_url, busy_timeout=0.2)

    @event.listens_for(engine, "connect")
    def _bounded(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:  # never hang the test itself
            cursor.execute("SET statement_timeout = 20000")
        dbapi_connection.commit()

    factory = make_session_factory(engine)
    recorder = RunRecorder(
        lambda: SqlUnitOfWork(factory), FakeClock(), SyncKind.PUBLISH, None, "t"
    )
    other = make_engine(database_url)
    with other.connect() as session:
        session.execute(sa.text("LOCK TABLE sync_runs IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(DatabaseLockedError) as raised:
            recorder.start()
        session.rollback()

    message = str(raised.value)
    assert message == (
        f"the database {url.database} on {url.host}:{url.port} is locked by another "
        "session (waited 0.2 s); try again when it finishes, or look for a stuck "
        "session (an ikm-sync process, an open transaction)"
    )
    _plain(message)
    assert recorder.start() > 0  # the lock gone, the same engine works
    engine.dispose()
    other.dispose()
