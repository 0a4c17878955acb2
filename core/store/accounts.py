"""Channel accounts, their producers and their listing counts in the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Handover,
    Marketplace,
    PolicyEdit,
)
from core.domain.ids import AccountId, ProducerCode
from core.domain.sync import ListingState
from core.errors import DomainError, StoreError
from core.store.tables import (
    ChannelAccountProducerRow,
    ChannelAccountRow,
    ListingRow,
    ProducerRow,
)


def _rule_to_json(rule: AllocationRule) -> dict[str, Any]:
    return {
        "share_percent": rule.share_percent,
        "safety_buffer": rule.safety_buffer,
        "cap": rule.cap,
        "min_to_list": rule.min_to_list,
    }


def policy_to_json(policy: AllocationPolicy) -> dict[str, Any]:
    """The JSON document an account row stores for its policy."""
    return {
        "default": _rule_to_json(policy.default),
        "overrides": {k: _rule_to_json(r) for k, r in sorted(policy.overrides.items())},
        "excluded": sorted(policy.excluded),
    }


def policy_from_json(document: Mapping[str, Any]) -> AllocationPolicy:
    """The policy stored by :func:`policy_to_json`."""
    return AllocationPolicy(
        default=AllocationRule(**document.get("default", {})),
        overrides=MappingProxyType(
            {k: AllocationRule(**v) for k, v in document.get("overrides", {}).items()}
        ),
        excluded=frozenset(document.get("excluded", ())),
    )


#: Key of the allocation document that holds a console edit (see :class:`PolicyEdit`).
CONSOLE_EDIT = "console_edit"


def allocation_to_json(
    policy: AllocationPolicy, edit: PolicyEdit | None
) -> dict[str, Any]:
    """The allocation document of an account row: its policy and, while the policy
    is a console edit, who set it, when, and the settings' policy then."""
    document = policy_to_json(policy)
    if edit is not None:
        document[CONSOLE_EDIT] = {
            "by": edit.by,
            "at": edit.at.isoformat(),
            "settings_policy": policy_to_json(edit.settings_policy),
        }
    return document


def edit_from_json(document: Mapping[str, Any]) -> PolicyEdit | None:
    """The console edit an allocation document holds, if any."""
    edit = document.get(CONSOLE_EDIT)
    if not edit:
        return None
    return PolicyEdit(
        by=str(edit["by"]),
        at=datetime.fromisoformat(edit["at"]),
        settings_policy=policy_from_json(edit["settings_policy"]),
    )


def not_in_store(account: AccountId) -> StoreError:
    """The error for an account the store does not hold."""
    return StoreError(
        f"account {account!r} is not in the store; run `ikm-sync accounts apply`"
    )


#: ``Session.info`` key of a job's account row ids (see :mod:`core.store.uow`).
ROW_IDS = "ikmsync_account_row_ids"


def account_row_id(session: Session, account: AccountId) -> int:
    """The surrogate key of an account, for the other repositories; looked up once
    per job when the session carries the job's cache (``session.info[ROW_IDS]``).

    Raises:
        StoreError: the account is not in the store.
    """
    cache: dict[AccountId, int] | None = session.info.get(ROW_IDS)
    if cache is not None and account in cache:
        return cache[account]
    found = session.execute(
        select(col(ChannelAccountRow.id)).where(
            col(ChannelAccountRow.account_key) == account
        )
    ).scalar_one_or_none()
    if found is None:
        raise not_in_store(account)
    if cache is not None:
        cache[account] = int(found)
    return int(found)


class SqlAccountRepository:
    """``core.ports.AccountRepository`` on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get_all(self) -> list[ChannelAccount]:
        links: dict[int, list[ProducerCode]] = defaultdict(list)
        for account_id, code in self._session.execute(
            select(col(ChannelAccountProducerRow.account_id), col(ProducerRow.code))
            .join(
                ProducerRow,
                col(ProducerRow.id) == col(ChannelAccountProducerRow.producer_id),
            )
            .order_by(col(ProducerRow.code))
        ):
            links[int(account_id)].append(ProducerCode(code))
        rows = list(
            self._session.execute(
                select(ChannelAccountRow).order_by(col(ChannelAccountRow.account_key))
            ).scalars()
        )
        keys = {row.id: AccountId(row.account_key) for row in rows}
        handovers: dict[AccountId, Handover] = {}
        for row in rows:
            if row.takes_over_id is not None and row.handover_at is not None:
                handover = Handover(
                    keys[row.takes_over_id], AccountId(row.account_key), row.handover_at
                )
                handovers[handover.predecessor] = handovers[handover.successor] = (
                    handover
                )
        return [
            ChannelAccount(
                id=AccountId(row.account_key),
                marketplace=Marketplace(row.marketplace),
                shop_id=row.shop_id,
                producer_codes=tuple(links.get(row.id or 0, ())),
                policy=policy_from_json(row.allocation),
                credentials_ref=row.credentials_ref,
                enabled=row.enabled,
                handover=handovers.get(AccountId(row.account_key)),
                policy_edit=edit_from_json(row.allocation),
            )
            for row in rows
        ]

    def save(self, account: ChannelAccount, at: datetime) -> None:
        producer_ids = {
            code: int(id_)
            for code, id_ in self._session.execute(
                select(col(ProducerRow.code), col(ProducerRow.id)).where(
                    col(ProducerRow.code).in_(account.producer_codes)
                )
            )
        }
        missing = [c for c in account.producer_codes if c not in producer_ids]
        if missing:
            raise DomainError(
                f"account {account.id!r}: unknown producer(s) {', '.join(missing)}"
            )
        row = (
            self._session.execute(
                select(ChannelAccountRow).where(
                    col(ChannelAccountRow.account_key) == account.id
                )
            )
            .scalars()
            .first()
        )
        if row is None:
            row = ChannelAccountRow(
                account_key=account.id,
                marketplace=account.marketplace.value,
                shop_id=account.shop_id,
                created_at=at,
                updated_at=at,
            )
        row.marketplace = account.marketplace.value
        row.shop_id = account.shop_id
        row.credentials_ref = account.credentials_ref
        row.enabled = account.enabled
        row.allocation = allocation_to_json(account.policy, account.policy_edit)
        row.takes_over_id, row.handover_at = self._handover(account)
        row.updated_at = at
        self._session.add(row)
        self._session.flush()
        assert row.id is not None  # noqa: S101  (flushed rows have their key)
        self._session.execute(
            sa.delete(ChannelAccountProducerRow).where(
                col(ChannelAccountProducerRow.account_id) == row.id
            )
        )
        self._session.execute(
            sa.insert(ChannelAccountProducerRow),
            [
                {"account_id": row.id, "producer_id": producer_ids[c]}
                for c in account.producer_codes
            ],
        )

    def _handover(self, account: ChannelAccount) -> tuple[int | None, datetime | None]:
        """The row values of the account this one takes over, and from when (only
        the successor's row holds them)."""
        handover = account.handover
        if handover is None or handover.successor != account.id:
            return None, None
        predecessor = (
            self._session.execute(
                select(col(ChannelAccountRow.id)).where(
                    col(ChannelAccountRow.account_key) == handover.predecessor
                )
            )
            .scalars()
            .first()
        )
        if predecessor is None:
            raise DomainError(
                f"account {account.id!r} takes over {handover.predecessor!r}, "
                "which is not stored yet: store that account first"
            )
        return int(predecessor), handover.at

    def listing_counts(self) -> Mapping[AccountId, Mapping[ListingState, int]]:
        counts: dict[AccountId, dict[ListingState, int]] = defaultdict(dict)
        for key, state, count in self._session.execute(
            select(
                col(ChannelAccountRow.account_key), col(ListingRow.state), func.count()
            )
            .join(ListingRow, col(ListingRow.account_id) == col(ChannelAccountRow.id))
            .group_by(col(ChannelAccountRow.account_key), col(ListingRow.state))
        ):
            counts[AccountId(key)][ListingState(state)] = int(count)
        return counts
