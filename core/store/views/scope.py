"""The accounts a viewer sees, as SQL: those *all* of whose producers are in scope
(and that have at least one); everything for admins and auditors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core.domain.users import Visible
from core.store.tables import ChannelAccountProducerRow


def account_visible(account_id: Any, visible: Visible) -> sa.ColumnElement[bool]:
    """True where the account row id ``account_id`` (a column) is in scope; a
    null account (a run of no account) only for those who see everything."""
    if visible.producer_ids is None:
        return sa.true()
    owner = col(ChannelAccountProducerRow.account_id)
    producer = col(ChannelAccountProducerRow.producer_id)
    ids = sorted(visible.producer_ids)
    has_owner = sa.exists().where(owner == account_id)
    owner_outside = sa.exists().where(owner == account_id, producer.not_in(ids))
    return sa.and_(account_id.is_not(None), has_owner, ~owner_outside)
