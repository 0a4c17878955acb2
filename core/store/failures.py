"""Database failures in plain words: driver errors become :class:`StoreError`\\ s.

:func:`classify` is the one place that reads SQLite's and PostgreSQL's error codes.
:func:`install` hooks it into an engine (SQLAlchemy's ``handle_error`` event), so a
locked, read-only, full or unreachable database reaches services and users as a
message that names the cause and what to do — never as a driver error carrying the
SQL statement or its parameters. Errors not recognised here (constraint violations,
programming errors) are left to SQLAlchemy as they are.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

from core.errors import (
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnreachableError,
    StoreError,
)

# SQLite primary result codes (https://sqlite.org/rescode.html).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14

# PostgreSQL SQLSTATE codes and classes.
_PG_LOCK_NOT_AVAILABLE = "55P03"
_PG_READ_ONLY_TRANSACTION = "25006"
_PG_DISK_FULL = "53100"
_PG_CONNECTION_CLASS = "08"
_PG_CANNOT_CONNECT_NOW = "57P03"
#: The server ended the session: an operator (``pg_terminate_backend``), a shutdown,
#: a crash of another backend, an idle-session timeout.
_PG_SESSION_ENDED = frozenset({"57P01", "57P02", "57P05"})


def describe_database(url: URL) -> str:
    """How messages name the database: the SQLite file, or server and database name
    (never the password)."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ":memory:"
        if database.startswith("file:"):  # a URI filename: file:PATH?mode=ro …
            database = database.removeprefix("file:").partition("?")[0]
        return database
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{url.database or '(default)'} on {host}{port}"


def classify(
    error: BaseException, *, database: str, busy_timeout: float
) -> StoreError | None:
    """The :class:`StoreError` a driver ``error`` stands for, or ``None`` when it is
    not a failure of the database itself. ``database`` names the database as
    :func:`describe_database` does; ``busy_timeout`` is how long a statement waited
    for a lock (SQLite's busy timeout, PostgreSQL's ``lock_timeout``), in seconds."""
    if isinstance(error, sqlite3.Error):
        return _sqlite(error, database, busy_timeout)
    if type(error).__module__.startswith("psycopg"):
        sqlstate = getattr(error, "sqlstate", None)
        return _postgres(error, sqlstate, database, busy_timeout)
    return None


def _sqlite(error: sqlite3.Error, path: str, busy_timeout: float) -> StoreError | None:
    code = getattr(error, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF  # of an extended code
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DatabaseLockedError(
            f"the database file {path} is locked by another process "
            f"(waited {busy_timeout:g} s); try again when it finishes, or check "
            "for a stuck ikm-sync process"
        )
    if primary == _SQLITE_READONLY:
        return DatabaseReadOnlyError(
            f"the database file {path} is read-only: give the user running "
            "ikm-sync write permission on the file and its directory"
        )
    if primary == _SQLITE_FULL:
        return DatabaseFullError(
            f"the disk holding the database file {path} is full: free some "
            "space and run the command again"
        )
    if primary == _SQLITE_CANTOPEN:
        return DatabaseUnreachableError(
            f"cannot open the database file {path}: check that its directory "
            "exists and that the user running ikm-sync may read and write both"
        )
    return None


def _postgres(
    error: BaseException, sqlstate: str | None, name: str, busy_timeout: float
) -> StoreError | None:
    if sqlstate == _PG_LOCK_NOT_AVAILABLE:
        return DatabaseLockedError(
            f"the database {name} is locked by another session (waited "
            f"{busy_timeout:g} s); try again when it finishes, or look for a stuck "
            "session (an ikm-sync process, an open transaction)"
        )
    if sqlstate == _PG_READ_ONLY_TRANSACTION:
        return DatabaseReadOnlyError(
            f"the database {name} accepts no writes (a standby or a read-only "
            "server): point ikm-sync at the primary"
        )
    if sqlstate == _PG_DISK_FULL:
        return DatabaseFullError(
            f"the database server of {name} has no disk space left: free some space "
            "and run the command again"
        )
    # A failed connection attempt carries no SQLSTATE (the server's refusal of a
    # wrong user, password or database name among them); a lost one is class 08.
    if sqlstate is None and type(error).__name__ == "OperationalError":
        return DatabaseUnreachableError(
            f"cannot reach the database {name}: {_first_line(error)}; check that the "
            "server runs and accepts connections from this machine, and the user "
            "name, password and database name ikm-sync connects with (the database "
            "URL, IKMSYNC_DATABASE__PASSWORD)"
        )
    if (
        (sqlstate or "").startswith(_PG_CONNECTION_CLASS)
        or sqlstate == _PG_CANNOT_CONNECT_NOW
        or sqlstate in _PG_SESSION_ENDED
    ):
        return DatabaseUnreachableError(
            f"cannot reach the database {name}: {_first_line(error)}; check that the "
            "server runs and accepts connections from this machine"
        )
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def install(engine: Engine, *, busy_timeout: float) -> None:
    """Raise :func:`classify`'s errors instead of the driver's on ``engine``."""
    database = describe_database(engine.url)

    @event.listens_for(engine, "handle_error", retval=True)
    def _classified(context: Any) -> BaseException | None:
        if context.is_pre_ping:  # the pool decides about reconnecting itself
            return None
        return classify(
            context.original_exception, database=database, busy_timeout=busy_timeout
        )
