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
        # 2^n overflows nothing here: the exponent stops growing once past the cap
        exponent = min(failures - 1, 62)
        wait = self.base * (2**exponent) if exponent < 40 else self.cap
        return min(wait, self.cap)


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
