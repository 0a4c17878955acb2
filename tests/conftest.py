"""Shared fixtures: a fresh migrated database per test, clocks, units of work, the CLI.

The database under test is SQLite unless ``IKMSYNC_TEST_DATABASE_URL`` names a
PostgreSQL server, in which case every database test runs there instead (and the session
fails, rather than skips, when that server cannot be reached). Each test gets its own
database: a copy of a migrated SQLite file, or a PostgreSQL database cloned from a
migrated template, dropped afterwards.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from typer.testing import CliRunner, Result

from core.audit.events import unbound
from core.store.db import make_engine, make_session_factory, upgrade
from core.store.uow import SqlUnitOfWork
from ikm_sync.cli import app
from tests.fakes import TEST_TOKEN_KEY, FakeClock, FakeUnitOfWork

TEST_DATABASE_ENV = "IKMSYNC_TEST_DATABASE_URL"
REPO = Path(__file__).resolve().parent.parent


class _SqliteBackend:
    name = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self._template = workdir / "template.db"
        engine = make_engine(f"sqlite:///{self._template}")
        upgrade(engine)
        engine.dispose()

    def create(self, directory: Path) -> str:
        target = directory / f"ikm-sync-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        """Files go with pytest's temporary directory."""

    def clone(self, source_url: str, directory: Path) -> str:
        """A new database holding a copy of ``source_url``'s (nobody may be
        writing to it)."""
        source = sa.make_url(source_url).database
        assert source is not None
        target = directory / f"ikm-sync-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"


class _PostgresBackend:
    name = "postgresql"

    def __init__(self, url: str) -> None:
        self._admin_url = sa.make_url(url).set(drivername="postgresql+psycopg")
        self._admin = sa.create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with self._admin.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            pytest.fail(
                f"{TEST_DATABASE_ENV} is set but PostgreSQL is unreachable: {exc}"
            )
        self._template = f"ikmsync_tpl_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{self._template}"')
        engine = make_engine(self._admin_url.set(database=self._template))
        upgrade(engine)
        engine.dispose()

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(sa.text(statement))

    def create(self, directory: Path) -> str:
        name = f"ikmsync_t_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return self._admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def clone(self, source_url: str, directory: Path) -> str:
        """A new database holding a copy of ``source_url``'s (it must have no
        connections open)."""
        source = sa.make_url(source_url).database
        name = f"ikmsync_t_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return self._admin_url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self._admin.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that gets a database under test ``db``.

    The PostgreSQL pass of CI runs only these (``-m db``), so the mark must follow the
    fixtures a test really uses rather than a hand-kept list.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        sql_param = callspec is not None and callspec.params.get("uow_factory") == "sql"
        if sql_param or "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_backend(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_SqliteBackend | _PostgresBackend]:
    url = os.environ.get(TEST_DATABASE_ENV)
    if url:
        backend = _PostgresBackend(url)
        yield backend
        backend.close()
    else:
        yield _SqliteBackend(tmp_path_factory.mktemp("db-template"))


@pytest.fixture
def database_url(
    database_backend: _SqliteBackend | _PostgresBackend, tmp_path: Path
) -> Iterator[str]:
    """A fresh database at the newest schema revision, for this test only."""
    url = database_backend.create(tmp_path)
    yield url
    database_backend.drop(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sql_uow(engine: sa.Engine) -> Callable[[], SqlUnitOfWork]:
    """A factory of SQL units of work on the test database."""
    factory = make_session_factory(engine)
    return lambda: SqlUnitOfWork(factory)


@pytest.fixture(params=["fake", "sql"])
def uow_factory(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Units of work over the in-memory fake and over the real database, in turn."""
    if request.param == "fake":
        shared = FakeUnitOfWork()
        return lambda: shared
    request.applymarker(pytest.mark.db)
    factory: Callable[[], SqlUnitOfWork] = request.getfixturevalue("sql_uow")
    return factory


@pytest.fixture(autouse=True)
def _unbound_audit_context() -> Iterator[None]:
    """Each test starts with nobody acting and no run bound, whatever the test
    before it left bound in this thread."""
    with unbound():
        yield


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Commands configure logging on captured streams; undo it after each test."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    structlog.reset_defaults()


@dataclass
class Cli:
    """Runs ``ikm-sync`` in-process against one database, with a clean environment."""

    database_url: str
    workdir: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        runner = CliRunner()
        environment = {
            "IKMSYNC_DATABASE_URL": self.database_url,
            **self.env,
            **(env or {}),
        }
        return runner.invoke(
            app, list(args), env=environment, catch_exceptions=False, input=input
        )


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The command line, run in a temporary working directory on the test database."""
    for name in list(os.environ):
        if name.upper().startswith("IKMSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    return Cli(
        database_url=database_url,
        workdir=tmp_path,
        env={"IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY},
    )


@pytest.fixture
def demo_dir() -> Path:
    return REPO / "demo"
