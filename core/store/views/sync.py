"""Sync runs as the console lists them: filtered by shop, kind, outcome, trigger and
period, newest first, 50 a page, only runs of accounts in the viewer's scope (runs of
no account for those who see everything)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from core.domain.runs import RunItem
from core.domain.users import NotVisibleError, Visible
from core.store.runs import _ITEM_COLUMNS, _item
from core.store.tables import ChannelAccountRow, SyncRunItemRow, SyncRunRow
from core.store.views.scope import account_visible

#: Runs on a page.
PAGE = 50
#: Items of a run on a page.
ITEMS_PAGE = 200


@dataclass(frozen=True, slots=True)
class RunFilter:
    """What the runs list is narrowed to (``None``: any). ``trigger`` matches a
    trigger exactly or the person of a manual run (``console:ani`` matches
    ``manual:console:ani``)."""

    account: str | None = None
    kind: str | None = None
    outcome: str | None = None
    trigger: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunLine:
    """A run as listed."""

    id: int
    kind: str
    account: str | None
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, int]
    error: str


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs; ``more`` when a next page exists."""

    runs: list[RunLine]
    offset: int
    more: bool


@dataclass(frozen=True, slots=True)
class RunDetail:
    """One run and a page of its items."""

    run: RunLine
    items: list[RunItem]
    item_count: int
    offset: int
    more: bool


_COLUMNS = (
    col(SyncRunRow.id),
    col(SyncRunRow.kind),
    col(ChannelAccountRow.account_key),
    col(SyncRunRow.trigger),
    col(SyncRunRow.started_at),
    col(SyncRunRow.finished_at),
    col(SyncRunRow.outcome),
    col(SyncRunRow.counts),
    col(SyncRunRow.error),
)


def _line(row: Any) -> RunLine:
    id_, kind, account, trigger, started, finished, outcome, counts, error = row
    return RunLine(
        id=int(id_),
        kind=kind,
        account=account,
        trigger=trigger,
        started_at=started,
        finished_at=finished,
        outcome=outcome,
        counts={str(k): int(v) for k, v in (counts or {}).items()},
        error=error or "",
    )


def _select(visible: Visible) -> Any:
    return (
        sa.select(*_COLUMNS)
        .outerjoin(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(SyncRunRow.account_id)
        )
        .where(account_visible(col(SyncRunRow.account_id), visible))
    )


def runs_page(
    sessions: sessionmaker[Session],
    visible: Visible,
    where: RunFilter,
    offset: int = 0,
    limit: int = PAGE,
) -> RunPage:
    """The runs ``where`` selects that ``visible`` sees, newest first."""
    statement = _select(visible)
    if where.account is not None:
        statement = statement.where(col(ChannelAccountRow.account_key) == where.account)
    if where.kind is not None:
        statement = statement.where(col(SyncRunRow.kind) == where.kind)
    if where.outcome is not None:
        statement = statement.where(col(SyncRunRow.outcome) == where.outcome)
    if where.trigger is not None:
        trigger = col(SyncRunRow.trigger)
        statement = statement.where(
            sa.or_(trigger == where.trigger, trigger == f"manual:{where.trigger}")
        )
    if where.since is not None:
        statement = statement.where(col(SyncRunRow.started_at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(SyncRunRow.started_at) < where.until)
    statement = (
        statement.order_by(col(SyncRunRow.id).desc()).offset(offset).limit(limit + 1)
    )
    with sessions() as session:
        rows = [_line(row) for row in session.execute(statement)]
    return RunPage(rows[:limit], offset, len(rows) > limit)


def run_detail(
    sessions: sessionmaker[Session],
    visible: Visible,
    run_id: int,
    offset: int = 0,
    limit: int = ITEMS_PAGE,
) -> RunDetail:
    """Run ``run_id`` and a page of its items, in the order they were recorded.

    Raises:
        NotVisibleError: no such run, or not one ``visible`` sees.
    """
    with sessions() as session:
        row = session.execute(
            _select(visible).where(col(SyncRunRow.id) == run_id)
        ).first()
        if row is None:
            raise NotVisibleError(f"run {run_id}: not found")
        of_run = col(SyncRunItemRow.run_id) == run_id
        count = session.execute(
            sa.select(sa.func.count()).select_from(SyncRunItemRow).where(of_run)
        ).scalar_one()
        found = session.execute(
            sa.select(*_ITEM_COLUMNS)
            .where(of_run)
            .order_by(col(SyncRunItemRow.id))
            .offset(offset)
            .limit(limit + 1)
        ).all()
    items = [_item(row) for row in found[:limit]]
    return RunDetail(_line(row), items, int(count), offset, len(found) > limit)
