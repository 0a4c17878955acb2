"""Checking an account against its marketplace, and reading when the seller's
authorisation of the app ends.

:func:`check_authorisation` proves the account's credentials, reads the
authorisation's end from the marketplace (where it has one), records it, warns
(``authorisation.expires_soon``) while it ends within the warning window, and marks
an ended authorisation for re-authorisation, as the marketplace's refusal would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog

from core.domain.authorisation import (
    AuthorisationState,
    AuthorisationStatus,
    authorisation_status,
)
from core.domain.ids import AccountId
from core.ports import Clock, MarketplaceConnector, TokenStore

log = structlog.get_logger(__name__)

#: The default warning window (``[scheduler] authorisation_warning_days``).
DEFAULT_WARNING = timedelta(days=14)


def check_authorisation(
    connector: MarketplaceConnector,
    tokens: TokenStore,
    account: AccountId,
    *,
    clock: Clock,
    warning: timedelta = DEFAULT_WARNING,
) -> AuthorisationStatus:
    """Check ``account`` and read, record and judge its authorisation's end.

    A marketplace without one gives :attr:`AuthorisationState.UNKNOWN` and records
    nothing. An end already passed marks the account for re-authorisation.

    Raises:
        ConnectorError: from the check or the read (``AuthError``: the account needs
            re-authorisation; ``ContractError``: the end could not be read, and
            nothing is recorded).
        StoreError: the end could not be recorded.
    """
    connector.check()
    expires_at = connector.authorisation_expiry()
    status = authorisation_status(expires_at, clock.now(), warning)
    if expires_at is None:
        return status
    tokens.record_authorisation_expiry(account, expires_at)
    when = expires_at.isoformat()
    if status.state is AuthorisationState.EXPIRES_SOON:
        log.warning(
            "authorisation.expires_soon",
            account=account,
            expires_at=when,
            days_left=status.days_left,
        )
    elif status.state is AuthorisationState.EXPIRED:
        _mark_ended(tokens, account, f"the shop's authorisation ended at {when}")
    return status


def _mark_ended(tokens: TokenStore, account: AccountId, reason: str) -> None:
    with tokens.refreshing(account) as held:
        current = held.current
        if current.needs_reauthorisation:
            return
        held.save(replace(current, needs_reauthorisation=True, reason=reason))
    log.error("authorisation.expired", account=account, reason=reason)
