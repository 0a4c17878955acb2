"""Helpers for end-to-end tests: database snapshots and catalogue files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from core.store import tables  # registers every table
from core.store.db import make_engine
from core.store.leases import FREE


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered: equal snapshots mean nothing changed.

    Of the leases only who holds one counts: a lease taken and released again
    keeps its row with a higher epoch (fencing), which is no change of state."""
    engine = make_engine(database_url)
    leases = tables.table_of(tables.AccountLeaseRow)
    try:
        with engine.connect() as connection:
            found = {
                table.name: [
                    tuple(row)
                    for row in connection.execute(
                        sa.select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in SQLModel.metadata.sorted_tables
                if table is not leases
            }
            found[leases.name] = [
                tuple(row)
                for row in connection.execute(
                    sa.select(leases.c.account_id, leases.c.holder)
                    .where(leases.c.holder != FREE)
                    .order_by(leases.c.account_id)
                )
            ]
            return found
    finally:
        engine.dispose()


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
