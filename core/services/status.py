"""The catalogue status officers and scripts read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.accounts import ChannelAccount
from core.domain.catalogue import ProducerKind, ProductStatus
from core.domain.runs import SyncRun
from core.domain.sync import ListingState
from core.ports import (
    AccountSchedule,
    AccountWatch,
    AuthorisationView,
    LeaseView,
    StockTotals,
    UnitOfWork,
)


@dataclass(frozen=True)
class AccountStatus:
    """One account, how many listings it has in each state, its latest run, when
    a cycle last found it in step, its lease, its schedule and its authorisation
    (``None`` when unknown or never set)."""

    account: ChannelAccount
    listings: dict[ListingState, int]
    last_run: SyncRun | None = None
    lease: LeaseView | None = None
    schedule: AccountSchedule | None = None
    in_step_at: datetime | None = None
    authorisation: AuthorisationView | None = None


@dataclass(frozen=True)
class CatalogueStatus:
    """Producers, products, stock and accounts at a glance."""

    producers: dict[ProducerKind, int]
    products: dict[ProductStatus, int]
    stock: StockTotals
    accounts: list[AccountStatus]
    #: False while the store keeps no schedule: next due and backoff are unknown.
    scheduled: bool = False


def catalogue_status(
    uow: UnitOfWork, watch: AccountWatch | None = None
) -> CatalogueStatus:
    """Read the counts and totals behind ``ikm-sync status``; with ``watch``, each
    account's latest run, in-step mark, lease, schedule and authorisation too."""
    runs = watch.last_runs() if watch is not None else {}
    in_step = watch.in_step() if watch is not None else {}
    authorisations = watch.authorisations() if watch is not None else {}
    leases = watch.leases() if watch is not None else {}
    schedules = watch.schedules() if watch is not None else None
    with uow:
        counts = uow.accounts.listing_counts()
        kinds = uow.producers.count_by_kind()
        statuses = uow.products.count_by_status()
        return CatalogueStatus(
            producers={kind: kinds.get(kind, 0) for kind in ProducerKind},
            products={status: statuses.get(status, 0) for status in ProductStatus},
            stock=uow.stock.totals(),
            accounts=[
                AccountStatus(
                    account,
                    dict(counts.get(account.id, {})),
                    runs.get(account.id),
                    leases.get(account.id),
                    None if schedules is None else schedules.get(account.id),
                    in_step.get(account.id),
                    authorisations.get(account.id),
                )
                for account in uow.accounts.get_all()
            ],
            scheduled=schedules is not None,
        )
