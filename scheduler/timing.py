"""When an account's scheduled work is next due: intervals, jitter, back-off.

Pure functions of their inputs (the random source is passed in), so the schedule's
arithmetic is tested without a clock; the due times themselves are kept and compared
by the database (:class:`core.ports.ScheduleStore`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from core.domain.ids import AccountId


@dataclass(frozen=True, slots=True)
class Backoff:
    """A failing account waits ``base x 2^(failures - 1)``, at most ``cap``."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)

    def __call__(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures in a row (at least one)."""
        if failures <= 0:
            return timedelta(0)
        # in float seconds, where 2^n cannot overflow a timedelta however many
        # failures there were
        exponent = min(failures - 1, 1000)
        seconds = self.base.total_seconds() * 2.0**exponent
        return min(timedelta(seconds=min(seconds, self.cap.total_seconds())), self.cap)


@dataclass(frozen=True, slots=True)
class Intervals:
    """Each account's interval (its own, else the default), moved by up to
    ``jitter`` of itself either way on every turn."""

    default: timedelta
    per_account: Mapping[AccountId, timedelta] = field(default_factory=dict)
    jitter: float = 0.0
    draw: Callable[[], float] = random.random  # spreading, not secrecy

    def base(self, account: AccountId) -> timedelta:
        """The account's interval without jitter."""
        return self.per_account.get(account, self.default)

    def __call__(self, account: AccountId) -> timedelta:
        """The time from now to the account's next turn."""
        base = self.base(account)
        return base * (1 + self.jitter * (2 * self.draw() - 1))
