"""What needs a person now: failed listings, oversold orders not yet settled, and
the drift the latest reconciliation found, per account in scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.domain.users import Visible
from core.store.tables import (
    ChannelAccountRow,
    ListingRow,
    OrderRow,
    ProductRow,
    SyncRunRow,
)
from core.store.views.scope import account_visible

#: Findings of a reconciliation that mean the marketplace and the store differ.
DRIFT_KINDS = ("drift", "orphan", "missing", "duplicate", "no_sku")


@dataclass(frozen=True, slots=True)
class FailedListing:
    """A listing whose last push failed, with the marketplace's reason."""

    account: str
    sku: str
    name: str
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OversoldOrder:
    """An oversold order no officer has settled yet."""

    account: str
    external_id: str
    placed_at: datetime | None
    total: int


@dataclass(frozen=True, slots=True)
class Drift:
    """What an account's latest reconciliation found."""

    account: str
    run_id: int
    at: datetime
    findings: dict[str, int]


@dataclass(frozen=True, slots=True)
class Attention:
    """The home page's lists (the first few of each) and their totals."""

    failed: list[FailedListing]
    failed_total: int
    oversold: list[OversoldOrder]
    oversold_total: int
    drift: list[Drift]


def attention(session: Session, visible: Visible, *, first: int = 20) -> Attention:
    """The lists of :class:`Attention` for the accounts ``visible`` sees."""
    failed_where = (
        col(ListingRow.state) == "failed",
        account_visible(col(ListingRow.account_id), visible),
    )
    failed_rows = session.execute(
        select(
            col(ChannelAccountRow.account_key),
            col(ProductRow.sku),
            col(ProductRow.name),
            col(ListingRow.last_error),
            col(ListingRow.updated_at),
        )
        .join(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(ListingRow.account_id)
        )
        .join(ProductRow, col(ProductRow.id) == col(ListingRow.product_id))
        .where(*failed_where)
        .order_by(col(ListingRow.updated_at).desc(), col(ListingRow.id).desc())
        .limit(first)
    ).all()
    failed_total = session.execute(
        select(func.count()).select_from(ListingRow).where(*failed_where)
    ).scalar_one()
    oversold_where = (
        col(OrderRow.oversold) == sa.true(),
        col(OrderRow.settlement).is_(None),
        account_visible(col(OrderRow.account_id), visible),
    )
    oversold_rows = session.execute(
        select(
            col(ChannelAccountRow.account_key),
            col(OrderRow.external_id),
            col(OrderRow.placed_at),
            col(OrderRow.total_amount),
        )
        .join(ChannelAccountRow, col(ChannelAccountRow.id) == col(OrderRow.account_id))
        .where(*oversold_where)
        .order_by(col(OrderRow.id).desc())
        .limit(first)
    ).all()
    oversold_total = session.execute(
        select(func.count()).select_from(OrderRow).where(*oversold_where)
    ).scalar_one()
    latest = (
        select(func.max(col(SyncRunRow.id)))
        .where(
            col(SyncRunRow.kind) == "reconcile",
            col(SyncRunRow.finished_at).is_not(None),
            account_visible(col(SyncRunRow.account_id), visible),
        )
        .group_by(col(SyncRunRow.account_id))
    )
    drift_rows = session.execute(
        select(
            col(ChannelAccountRow.account_key),
            col(SyncRunRow.id),
            col(SyncRunRow.finished_at),
            col(SyncRunRow.counts),
        )
        .join(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(SyncRunRow.account_id)
        )
        .where(col(SyncRunRow.id).in_(latest))
        .order_by(col(ChannelAccountRow.account_key))
    ).all()
    drift = []
    for account, run_id, at, counts in drift_rows:
        findings = {k: int(counts.get(k, 0)) for k in DRIFT_KINDS if counts.get(k)}
        if findings:
            drift.append(Drift(account, int(run_id), at, findings))
    return Attention(
        [FailedListing(a, s, n, e or "", t) for a, s, n, e, t in failed_rows],
        int(failed_total),
        [OversoldOrder(a, x, p, int(t)) for a, x, p, t in oversold_rows],
        int(oversold_total),
        drift,
    )
