"""How near an authorisation's end is: the warning window's boundaries, on a
deterministic clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.authorisation import (
    AuthorisationState,
    AuthorisationStatus,
    authorisation_status,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("left", "state", "days"),
    [
        (timedelta(days=365), AuthorisationState.VALID, 365),
        (WINDOW + S, AuthorisationState.VALID, 14),
        (WINDOW, AuthorisationState.EXPIRES_SOON, 14),
        (WINDOW - S, AuthorisationState.EXPIRES_SOON, 13),
        (timedelta(days=1), AuthorisationState.EXPIRES_SOON, 1),
        (S, AuthorisationState.EXPIRES_SOON, 0),
        (timedelta(0), AuthorisationState.EXPIRED, 0),
        (-S, AuthorisationState.EXPIRED, -1),
        (-timedelta(days=3), AuthorisationState.EXPIRED, -3),
    ],
)
def test_the_warning_window_includes_its_far_boundary_and_the_end_is_expired(
    left: timedelta, state: AuthorisationState, days: int
) -> None:
    assert authorisation_status(NOW + left, NOW, WINDOW) == AuthorisationStatus(
        NOW + left, state, days
    )


def test_an_unknown_end_is_neither_valid_nor_expired() -> None:
    assert authorisation_status(None, NOW, WINDOW) == AuthorisationStatus(
        None, AuthorisationState.UNKNOWN, None
    )


def test_the_window_is_the_setting() -> None:
    ends = NOW + timedelta(days=20)
    assert authorisation_status(ends, NOW, WINDOW).state is AuthorisationState.VALID
    soon = authorisation_status(ends, NOW, timedelta(days=30)).state
    assert soon is AuthorisationState.EXPIRES_SOON
