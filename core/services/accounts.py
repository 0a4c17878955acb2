"""Bringing configured channel accounts into the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import structlog

from core.audit.changes import account_event, allocation_event
from core.domain.accounts import AllocationPolicy, ChannelAccount, PolicyEdit
from core.domain.ids import AccountId
from core.domain.users import NotVisibleError, Visible
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
    #: Accounts whose policy set in the console was kept (the settings' policy has
    #: not changed since).
    console_policies: list[str] = field(default_factory=list)
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

    An allocation policy set in the console (:class:`PolicyEdit`) is kept while the
    settings still give the policy they gave when it was set: the console's edit
    wins until the settings' policy changes, and then the settings win (recorded
    as an ``account.allocation`` event from ``settings``).

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
        for configured in sorted(accounts, key=_taking_over):
            before = stored.pop(configured.id, None)
            account = _with_console_policy(configured, before)
            if account.policy_edit is not None:
                report.console_policies.append(account.id)
            if before == account:
                report.unchanged.append(account.id)
                continue
            (report.created if before is None else report.updated).append(account.id)
            if not dry_run:
                uow.accounts.save(account, now)
                event = account_event(account, before)
                if event is not None:
                    uow.audit.record(event)
                if before is not None and before.policy_edit is not None:
                    ended = allocation_event(account, before, source="settings")
                    if ended is not None and account.policy_edit is None:
                        uow.audit.record(ended)
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


def _with_console_policy(
    configured: ChannelAccount, stored: ChannelAccount | None
) -> ChannelAccount:
    """``configured`` with the stored console policy while the settings' policy is
    the one they gave when the console's edit was made."""
    if stored is None or stored.policy_edit is None:
        return configured
    if configured.policy != stored.policy_edit.settings_policy:
        return configured
    return replace(configured, policy=stored.policy, policy_edit=stored.policy_edit)


def set_allocation(
    uow: UnitOfWork,
    account: AccountId,
    policy: AllocationPolicy,
    *,
    clock: Clock,
    actor: str,
    visible: Visible | None = None,
) -> bool:
    """Set ``account``'s allocation policy from the console, recorded as an
    ``account.allocation`` event (policy before → after, ``source`` ``console``);
    ``accounts apply`` keeps it until the settings' policy changes. A policy equal
    to the settings' ends the edit. Whether anything changed.

    Raises:
        NotVisibleError: the account is not stored, or ``visible`` does not see it.
        AccessDeniedError: ``visible`` is a read-only user's.
    """
    if visible is not None:
        visible.require_change()
    with uow:
        before = next((a for a in uow.accounts.get_all() if a.id == account), None)
        if before is None or (
            visible is not None and not visible.sees_account(before.producer_codes)
        ):
            raise NotVisibleError(f"account {account!r}")
        settings_policy = (
            before.policy
            if before.policy_edit is None
            else before.policy_edit.settings_policy
        )
        now = clock.now()
        edit = (
            None
            if policy == settings_policy
            else PolicyEdit(by=actor, at=now, settings_policy=settings_policy)
        )
        after = replace(before, policy=policy, policy_edit=edit)
        event = allocation_event(after, before, source="console")
        if event is None:
            return False
        uow.accounts.save(after, now)
        uow.audit.record(event)
        uow.commit()
    log.info("account.allocation_set", account=account, actor=actor)
    return True


def _taking_over(account: ChannelAccount) -> bool:
    handover = account.handover
    return handover is not None and handover.successor == account.id
