"""The catalogue status officers and scripts read."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.accounts import ChannelAccount
from core.domain.catalogue import ProducerKind, ProductStatus
from core.domain.sync import ListingState
from core.ports import StockTotals, UnitOfWork


@dataclass(frozen=True)
class AccountStatus:
    """One account and how many listings it has in each state."""

    account: ChannelAccount
    listings: dict[ListingState, int]


@dataclass(frozen=True)
class CatalogueStatus:
    """Producers, products, stock and accounts at a glance."""

    producers: dict[ProducerKind, int]
    products: dict[ProductStatus, int]
    stock: StockTotals
    accounts: list[AccountStatus]


def catalogue_status(uow: UnitOfWork) -> CatalogueStatus:
    """Read the counts and totals behind ``ikm-sync status``."""
    with uow:
        counts = uow.accounts.listing_counts()
        kinds = uow.producers.count_by_kind()
        statuses = uow.products.count_by_status()
        return CatalogueStatus(
            producers={kind: kinds.get(kind, 0) for kind in ProducerKind},
            products={status: statuses.get(status, 0) for status in ProductStatus},
            stock=uow.stock.totals(),
            accounts=[
                AccountStatus(account, dict(counts.get(account.id, {})))
                for account in uow.accounts.get_all()
            ],
        )
