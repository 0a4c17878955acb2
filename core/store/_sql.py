"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

import sqlalchemy as sa
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


def dialect_insert(session: Session, table: Table) -> Any:
    """The bound dialect's INSERT of ``table`` (with ``on_conflict_do_update``)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def insert_ignoring_conflicts(session: Session, table: Table, index: list[str]) -> Any:
    """An INSERT skipping rows whose ``index`` columns exist already (both dialects)."""
    # Each dialect's package is imported here, by the store that uses it: importing
    # PostgreSQL's (all its drivers) costs a SQLite command a twentieth of a second.
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing(index_elements=index)


def update_many_by(
    session: Session, table: Table, match: str, rows: list[dict[str, Any]]
) -> None:
    """One executemany UPDATE of the other columns of ``rows``, matched on ``match``."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != match]
    statement = (
        sa.update(table)
        .where(table.c[match] == sa.bindparam(f"b_{match}"))
        .values({name: sa.bindparam(f"b_{name}") for name in columns})
    )
    session.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def _processor(table: Table, name: str, dialect: Any) -> Any:
    """The bind processor the dialect applies to values of column ``name``."""
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    constants: Mapping[str, Any] | None = None,
    skip_conflicts_on: Sequence[str] = (),
) -> int:
    """Insert many rows with one driver ``executemany`` of bound parameters.

    The statement is compiled by SQLAlchemy for the session's dialect; values pass
    through their column type's bind processor (``constants``, the same for every row,
    only once), so what is stored is exactly what a Core insert stores, without its
    per-row bookkeeping. Every row must have the keys of the first. With
    ``skip_conflicts_on``, rows whose unique columns exist already are skipped.
    Returns the number of rows inserted (both drivers sum it over ``executemany``).
    """
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    fixed: dict[str, Any] = {}
    for name, value in (constants or {}).items():
        process = _processor(table, name, dialect)
        fixed[name] = process(value) if process else value
    statement = (
        insert_ignoring_conflicts(session, table, list(skip_conflicts_on))
        if skip_conflicts_on
        else sa.insert(table)
    )
    compiled = statement.compile(dialect=dialect, column_keys=[*names, *fixed])
    processors = [
        (name, process)
        for name in names
        if (process := _processor(table, name, dialect)) is not None
    ]

    def prepared(row: Mapping[str, Any]) -> dict[str, Any]:
        values = {**row, **fixed}
        for name, process in processors:
            values[name] = process(values[name])
        return values

    parameters: list[Any] = [prepared(row) for row in rows]
    if compiled.positional:
        in_order = operator.itemgetter(*(compiled.positiontup or ()))
        parameters = [in_order(values) for values in parameters]
    return int(connection.exec_driver_sql(str(compiled), parameters).rowcount)
