"""The schedule's arithmetic: back-off grows and is capped, intervals jitter within
their bounds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.ids import AccountId
from scheduler.timing import Backoff, Intervals

MINUTE = timedelta(minutes=1)
A = AccountId("shopee-a")
B = AccountId("shopee-b")


def test_backoff_doubles_from_its_base_and_stops_at_the_cap() -> None:
    backoff = Backoff(base=MINUTE, cap=timedelta(minutes=10))
    waits = [backoff(n) for n in range(1, 8)]
    assert waits == [MINUTE * m for m in (1, 2, 4, 8, 10, 10, 10)]


def test_backoff_stays_at_the_cap_for_any_number_of_failures() -> None:
    backoff = Backoff(base=MINUTE, cap=timedelta(hours=1))
    assert backoff(10_000) == timedelta(hours=1)
    assert backoff(0) == timedelta(0)


def test_an_account_interval_overrides_the_default() -> None:
    intervals = Intervals(MINUTE * 5, {A: MINUTE}, jitter=0.0)
    assert intervals(A) == MINUTE
    assert intervals(B) == MINUTE * 5


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.9), (0.5, 1.0), (1.0, 1.1)])
def test_jitter_moves_the_interval_within_its_share_either_way(
    draw: float, factor: float
) -> None:
    intervals = Intervals(MINUTE * 10, jitter=0.1, draw=lambda: draw)
    assert intervals(A) == MINUTE * 10 * factor


@pytest.mark.parametrize("failures", [39, 40, 41, 62, 63, 1000, 10**6])
def test_a_long_failing_account_waits_the_cap_whatever_its_base(failures: int) -> None:
    """The largest base and cap the settings allow, past 2^39 and beyond."""
    backoff = Backoff(base=timedelta(days=1), cap=timedelta(days=7))
    assert backoff(failures) == timedelta(days=7)
    assert Backoff(base=timedelta(minutes=3))(failures) == timedelta(hours=1)
