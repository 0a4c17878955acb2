"""A seller's authorisation of the app for a shop, and how near its end is.

Some marketplaces end a shop's authorisation after a fixed time (Shopee: about a
year); the seller must then approve the app again. :func:`authorisation_status`
turns the recorded end into what officers act on: still valid, ending within the
warning window, or ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DAY = timedelta(days=1)


class AuthorisationState(StrEnum):
    """Where an account's authorisation stands."""

    #: No end is known: never read, or the marketplace documents none.
    UNKNOWN = "unknown"
    VALID = "valid"
    #: Ends within the warning window: the seller should approve again soon.
    EXPIRES_SOON = "expires_soon"
    #: Ended: the account needs re-authorisation.
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AuthorisationStatus:
    """An authorisation's end, its state at a moment, and the whole days left
    until the end (``None`` while the end is unknown; negative once ended)."""

    expires_at: datetime | None
    state: AuthorisationState
    days_left: int | None = None


def authorisation_status(
    expires_at: datetime | None, now: datetime, warning: timedelta
) -> AuthorisationStatus:
    """The state of an authorisation ending at ``expires_at``, seen at ``now``.

    Ended when ``expires_at <= now``; ending soon when it ends within ``warning``
    of ``now`` (the boundary included); ``days_left`` counts whole days, rounded
    down (13 days and 23 hours left is 13).
    """
    if expires_at is None:
        return AuthorisationStatus(None, AuthorisationState.UNKNOWN)
    left = expires_at - now
    days = left // DAY
    if left <= timedelta(0):
        state = AuthorisationState.EXPIRED
    elif left <= warning:
        state = AuthorisationState.EXPIRES_SOON
    else:
        state = AuthorisationState.VALID
    return AuthorisationStatus(expires_at, state, days)
