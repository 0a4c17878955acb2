"""Checking an account against its marketplace, and reading when the seller's
authorisation of the app ends.

:func:`check_authorisation` proves the account's credentials, reads the
authorisation's end from the marketplace (where it has one), records it, warns
(``authorisation.expires_soon``) while it ends within the warning window, and marks
an ended authorisation for re-authorisation, as the marketplace's refusal would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from core.domain.authorisation import (
    AuthorisationState,
    AuthorisationStatus,
    authorisation_status,
)
from core.domain.ids import AccountId
from core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    StoreError,
    TransientError,
)
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


#: What an account check found, in the words ``accounts check`` prints.
OK = "ok"
NEEDS_REAUTHORISATION = "needs re-authorisation"


@dataclass(frozen=True, slots=True)
class AccountCheck:
    """One account's check: ``ok``, ``needs re-authorisation``, ``credentials
    refused``, ``unreachable`` or ``error``, why, and its authorisation's end."""

    account: AccountId
    result: str
    reason: str
    authorisation: AuthorisationStatus

    @property
    def ok(self) -> bool:
        """Whether the account works."""
        return self.result == OK


def verdict(error: BaseException | None) -> tuple[str, str]:
    """The result and reason for a check that raised ``error`` (``None``: ok)."""
    match error:
        case None:
            return OK, ""
        case AuthError(reauthorise=False):
            return "credentials refused", error.reason  # fix the settings
        case AuthError():
            return NEEDS_REAUTHORISATION, error.reason
        case TransientError():
            return "unreachable", error.reason
        case ConnectorError():
            return "error", error.reason
        case _:
            return "error", str(error)


def check_account(
    connect: Callable[[], MarketplaceConnector],
    tokens: TokenStore,
    account: AccountId,
    *,
    clock: Clock,
    warning: timedelta = DEFAULT_WARNING,
) -> AccountCheck:
    """Check one account as ``ikm-sync accounts check`` does: a connector from
    ``connect`` (closed after), :func:`check_authorisation`, and the verdict; an
    account needing re-authorisation is told the command that gives it. Never
    raises for the account's own failure."""
    error: BaseException | None = None
    judged = AuthorisationStatus(None, AuthorisationState.UNKNOWN)
    try:
        connector = connect()
        try:
            judged = check_authorisation(
                connector, tokens, account, clock=clock, warning=warning
            )
        finally:
            connector.close()
    except (ConnectorError, ConfigError, StoreError) as exc:
        error = exc
    except Exception as exc:
        log.exception("account.check_failed", account=account)
        error = exc
    result, reason = verdict(error)
    if error is None and judged.state is AuthorisationState.EXPIRED:
        result = NEEDS_REAUTHORISATION
        reason = "the shop's authorisation has ended"
    if result == NEEDS_REAUTHORISATION:
        reason += f"; run `ikm-sync accounts authorize {account}`"
    log.info("account.checked", account=account, verdict=result)
    return AccountCheck(account, result, reason, judged)
