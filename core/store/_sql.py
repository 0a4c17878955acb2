"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.schema import Table
from sqlmodel import Session

T = TypeVar("T")

#: Bound parameters per statement; well under SQLite's and PostgreSQL's limits.
CHUNK = 900


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Split ``items`` into lists of at most ``size``."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_ignoring_conflicts(session: Session, table: Table, index: list[str]) -> Any:
    """An INSERT that skips rows whose ``index`` columns already exist (both dialects)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index)


def update_many_by(
    session: Session, table: Table, match: str, rows: list[dict[str, Any]]
) -> None:
    """One executemany UPDATE setting every other column of ``rows`` where ``match`` equals."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != match]
    statement = (
        sa.update(table)
        .where(table.c[match] == sa.bindparam(f"b_{match}"))
        .values({name: sa.bindparam(f"b_{name}") for name in columns})
    )
    session.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])
