"""The accounts a viewer sees, as SQL: those *all* of whose producers are in scope
(:attr:`~core.domain.users.Visible.account_ids`); every account, and runs of no
account, for those who see everything."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.domain.users import Visible


def account_visible(account_id: Any, visible: Visible) -> sa.ColumnElement[bool]:
    """True where the account row id ``account_id`` (a column) is in scope; a
    null account (a run of no account) only for those who see everything."""
    ids = visible.account_ids
    if ids is None:
        return sa.true()
    if not ids:
        return sa.false()
    return sa.and_(account_id.is_not(None), account_id.in_(sorted(ids)))
