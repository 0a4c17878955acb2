"""Engines, sessions and schema migrations for the canonical store.

SQLite is the embedded default: one file, WAL journal, foreign keys on, and every
transaction opened with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of
failing on a lock upgrade (a connection marked :data:`READ_ONLY` begins a plain
snapshot instead: it never writes, so it need not queue). PostgreSQL is the production
database (driver psycopg 3).

Alembic is imported only to migrate or to read the migration scripts in full: the check
every command makes before it uses the store (:func:`ensure_current`) reads the version
table with one query and the scripts' revision ids with the standard library, which
keeps a read-only command's start-up short.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.errors import StoreError
from core.store import audit as _audit  # noqa: F401  (writes queued events at commit)
from core.store import failures

if TYPE_CHECKING:
    from alembic.config import Config

    from core.store.crypto import TokenCipher

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
#: Alembic's version table (its default name and column).
VERSION_TABLE = sa.table("alembic_version", sa.column("version_num"))
SQLITE_BUSY_TIMEOUT_SECONDS = 60
#: Execution option of a connection that only reads: on SQLite its transaction begins
#: as a plain (deferred) ``BEGIN``, so it neither takes nor waits for the write lock.
READ_ONLY = "ikmsync_read_only"


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` gets the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def missing_sqlite_file(url: str | URL) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet, else ``None``."""
    parsed = normalise_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        return None
    if database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS,
) -> Engine:
    """Build an engine for SQLite or PostgreSQL with ikm-sync's connection settings.

    Statement values never appear in SQLAlchemy's errors or log lines
    (``hide_parameters``): they include tokens and other secrets.

    ``busy_timeout`` is how many seconds a statement waits for another process's
    lock (SQLite's busy timeout, PostgreSQL's ``lock_timeout``) before it fails. The
    engine raises :mod:`core.store.failures`' plain errors for a locked, read-only,
    full or unreachable database.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, echo=echo, busy_timeout=busy_timeout)
    else:
        engine = create_engine(
            parsed, echo=echo, hide_parameters=True, pool_pre_ping=True, future=True
        )
        _bound_lock_waits(engine, busy_timeout)
    failures.install(engine, busy_timeout=busy_timeout)
    return engine


def _bound_lock_waits(engine: Engine, busy_timeout: float) -> None:
    """PostgreSQL waits for a lock for ever by default (``db upgrade`` behind a stuck
    session): each session gives up after ``busy_timeout`` seconds, as SQLite does."""
    milliseconds = max(round(busy_timeout * 1000), 1)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {milliseconds}")
        dbapi_connection.commit()  # the setting outlives this first transaction


def _sqlite_engine(url: URL, *, echo: bool, busy_timeout: float) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={
            "check_same_thread": False,
            "timeout": busy_timeout,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A reader in WAL mode: a snapshot of what is committed, no write lock.
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work; objects stay readable after commit."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


#: Where migrations find the cipher of stored tokens (``config.attributes``).
TOKEN_CIPHER = "token_cipher"  # noqa: S105  (an attribute name, not a secret)


def _alembic_config(engine: Engine, token_cipher: TokenCipher | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    if token_cipher is not None:
        config.attributes[TOKEN_CIPHER] = token_cipher
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of ikm-sync."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if head is None:
        raise StoreError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {first_line(exc)}") from None


def upgrade(
    engine: Engine, revision: str = "head", *, token_cipher: TokenCipher | None = None
) -> tuple[str | None, str]:
    """Migrate the schema to ``revision``; returns (revision before, revision after).

    ``token_cipher`` encrypts tokens stored in plain text by versions before 0005
    (migrating such rows without it is refused).
    """
    from alembic import command
    from alembic.util.exc import CommandError

    before = current_revision(engine)
    try:
        command.upgrade(_alembic_config(engine, token_cipher), revision)
    except CommandError as exc:
        raise StoreError(f"cannot migrate to revision {revision!r}: {exc}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"migration failed: {first_line(exc)}") from None
    after = current_revision(engine)
    return before, after or ""


def chain_head(versions: Path = VERSIONS_DIR) -> str | None:
    """The last revision of the migration scripts in ``versions``, read from their
    ``revision`` and ``down_revision`` lines without importing Alembic.

    ``None`` unless the scripts form one plain chain of literal revision ids (a merge,
    a branch or a computed id): then only Alembic can tell.
    """
    parents: dict[str, str | None] = {}
    for path in sorted(versions.glob("*.py")):
        declared: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            match node:
                case (
                    ast.Assign(targets=[ast.Name(id=name)], value=ast.Constant(value))
                    | ast.AnnAssign(target=ast.Name(id=name), value=ast.Constant(value))
                ):
                    declared[name] = value
                case _:
                    pass
        revision, parent = declared.get("revision"), declared.get("down_revision")
        if not isinstance(revision, str) or not isinstance(parent, str | None):
            return None
        if revision in parents:
            return None
        parents[revision] = parent
    if any(p is not None and p not in parents for p in parents.values()):
        return None
    heads = set(parents) - set(parents.values())
    roots = [r for r, parent in parents.items() if parent is None]
    if len(heads) != 1 or len(roots) != 1:
        return None
    return heads.pop()


def stored_revisions(engine: Engine) -> list[str]:
    """The revisions in the database's version table (none for an empty database)."""
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            if not sa.inspect(connection).has_table(VERSION_TABLE.name):
                return []
            rows = connection.execute(sa.select(VERSION_TABLE.c.version_num))
            return [str(row[0]) for row in rows]
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {first_line(exc)}") from None


def ensure_current(engine: Engine) -> None:
    """Raise ``StoreError`` unless the schema is at the head migration."""
    stored = stored_revisions(engine)
    head = chain_head() or head_revision()
    if stored != [head]:
        state = "empty" if not stored else f"at revision {', '.join(stored)}"
        raise StoreError(
            f"the database is {state}, expected revision {head}; "
            f"run `ikm-sync db upgrade` first"
        )


def first_line(exc: BaseException) -> str:
    """The driver's first line of ``exc``: the cause without the statement or the
    values it carried."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
