"""Bringing configured channel accounts into the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from core.audit.changes import account_event
from core.domain.accounts import ChannelAccount
from core.errors import InputIssue, InputRejectedError
from core.ports import Clock, UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class AccountsReport:
    """Account ids created, updated, left alone, or found only in the store."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    only_in_store: list[str] = field(default_factory=list)
    applied: bool = False


def apply_accounts(
    uow: UnitOfWork,
    accounts: Sequence[ChannelAccount],
    *,
    clock: Clock,
    source: str,
    dry_run: bool = False,
) -> AccountsReport:
    """Create or update the store's accounts to match ``accounts``, each change
    recorded as an ``account.applied`` audit event (policy, producers bound and
    unbound, before → after).

    Accounts in the store but not in ``accounts`` are reported, never deleted: they may
    still have listings and orders.

    Raises:
        InputRejectedError: an account names a producer the store does not have.
    """
    report = AccountsReport()
    with uow:
        known = uow.producers.get_all()
        issues = [
            InputIssue(
                source,
                None,
                f"accounts[{i}].producers",
                code,
                "a producer code already imported (see `ikm-sync status`)",
            )
            for i, account in enumerate(accounts)
            for code in account.producer_codes
            if code not in known
        ]
        stored = {a.id: a for a in uow.accounts.get_all()}
        shops = {(a.marketplace, a.shop_id): a.id for a in stored.values()}
        issues.extend(
            InputIssue(
                source,
                None,
                f"accounts[{i}].shop_id",
                account.shop_id,
                f"a shop not stored yet: {account.marketplace.value} shop "
                f"{account.shop_id!r} is stored as account {owner!r} (keep that id)",
            )
            for i, account in enumerate(accounts)
            if (owner := shops.get((account.marketplace, account.shop_id)))
            not in (None, account.id)
        )
        if issues:
            raise InputRejectedError(issues)
        now = clock.now()
        # an account taken over is stored before the one taking it over
        for account in sorted(accounts, key=_taking_over):
            before = stored.pop(account.id, None)
            if before == account:
                report.unchanged.append(account.id)
                continue
            (report.created if before is None else report.updated).append(account.id)
            if not dry_run:
                uow.accounts.save(account, now)
                event = account_event(account, before)
                if event is not None:
                    uow.audit.record(event)
        report.only_in_store = sorted(stored)
        if not dry_run:
            uow.commit()
            report.applied = True
    log.info(
        "accounts.applied" if report.applied else "accounts.planned",
        created=len(report.created),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
        only_in_store=len(report.only_in_store),
    )
    return report


def _taking_over(account: ChannelAccount) -> bool:
    handover = account.handover
    return handover is not None and handover.successor == account.id
