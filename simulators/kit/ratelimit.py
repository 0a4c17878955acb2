"""Token buckets, one per key (shop and endpoint, app and endpoint, token …)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from simulators.kit.clock import SimClock


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` held."""

    rate: float
    burst: int
    tokens: float
    updated: datetime

    def refill(self, now: datetime) -> None:
        # Exact microsecond differences: float Unix times would lose the last token.
        elapsed = (now - self.updated).total_seconds()
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def seconds_until(self, tokens: float) -> float:
        """Seconds until ``tokens`` are available (0 when they are now)."""
        missing = tokens - self.tokens
        return 0.0 if missing <= 0 or self.rate <= 0 else missing / self.rate


class RateLimiter:
    """Buckets created on first use; ``enabled=False`` lets every request through."""

    def __init__(
        self, clock: SimClock, rate: float, burst: int, *, enabled: bool = True
    ):
        self._clock = clock
        self.rate, self.burst, self.enabled = rate, burst, enabled
        self._buckets: dict[Hashable, Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: Hashable) -> Bucket:
        now = self._clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self.rate, self.burst, self.burst, now)
        bucket.refill(now)
        return bucket

    def take(self, key: Hashable, tokens: int = 1) -> bool:
        """Spend ``tokens`` if all are available; else spend nothing, return False."""
        if not self.enabled:
            return True
        with self._lock:
            bucket = self._bucket(key)
            if bucket.tokens + 1e-9 < tokens:
                return False
            bucket.tokens -= tokens
            return True

    def take_up_to(self, key: Hashable, wanted: int) -> int:
        """Spend the whole tokens available, up to ``wanted``; returns how many."""
        if not self.enabled:
            return wanted
        with self._lock:
            bucket = self._bucket(key)
            granted = min(wanted, int(bucket.tokens + 1e-9))
            bucket.tokens -= granted
            return granted

    def state(self, key: Hashable) -> Bucket:
        """The bucket for ``key`` after refilling (for rate-limit headers)."""
        with self._lock:
            return self._bucket(key)

    def drain(self, key: Hashable) -> None:
        """Empty a bucket (tests: the next request is over the limit)."""
        with self._lock:
            self._bucket(key).tokens = 0.0
