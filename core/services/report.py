"""Per account: what is listed and what was sold, and the runs those figures come from.

The figures are the store's: *listed* and *units shown* are the live listings and the
stock last sent to them (by the latest publish run); *orders* and *units sold* are the
orders pulled (by the latest orders run) and the units they hold in the ledger, that is
paid and not cancelled or returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.accounts import ChannelAccount
from core.domain.runs import SyncRun
from core.domain.sync import ListingState, OrderStatus, SyncKind
from core.ports import SyncUnitOfWork


@dataclass(frozen=True, slots=True)
class AccountReport:
    """One account's figures and where they come from."""

    account: ChannelAccount
    listed: int
    units_shown: int
    not_listed: int
    orders: int
    cancelled: int
    units_sold: int
    last_push: SyncRun | None
    last_pull: SyncRun | None


def account_reports(
    uow: SyncUnitOfWork, accounts: list[ChannelAccount]
) -> list[AccountReport]:
    """The figures of every account in ``accounts``, read in ``uow``."""
    reports = []
    for account in accounts:
        listings = uow.listings.for_account(account.id).values()
        live = [x for x in listings if x.state is ListingState.LIVE]
        by_status = uow.orders.count_by_status(account.id)
        pushes = uow.runs.recent(1, account=account.id, kind=SyncKind.PUBLISH)
        pulls = uow.runs.recent(1, account=account.id, kind=SyncKind.ORDERS)
        reports.append(
            AccountReport(
                account=account,
                listed=len(live),
                units_shown=sum(x.last_stock or 0 for x in live),
                not_listed=sum(
                    x.state in (ListingState.FAILED, ListingState.PENDING)
                    for x in listings
                ),
                orders=sum(by_status.values()),
                cancelled=by_status.get(OrderStatus.CANCELLED, 0),
                units_sold=uow.orders.units_held(account.id),
                last_push=pushes[0] if pushes else None,
                last_pull=pulls[0] if pulls else None,
            )
        )
    return reports
