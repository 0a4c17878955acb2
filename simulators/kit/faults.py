"""Faults on demand, per endpoint, deterministic under a seed.

Each request asks the plan once (:meth:`FaultPlan.take`) and gets at most one fault.
Queued faults (``fail_next`` …) come first, in the order they were planned; random
faults (``random_faults``) draw from the plan's own seeded generator. Item faults
(``fail_items``) are asked for by batch handlers, row by row.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """What goes wrong with one request."""

    ERROR = "error"  # the marketplace's own server-error answer, with a status
    RATE_LIMIT = "rate_limit"  # the marketplace's own throttling answer
    TIMEOUT = "timeout"  # no answer; nothing was applied
    LOST_RESPONSE = "lost_response"  # applied on the server, then the answer is lost
    MALFORMED = "malformed"  # the body is not JSON
    TRUNCATED = "truncated"  # the body stops half way


@dataclass
class Fault:
    """One planned fault; ``endpoint`` None matches every endpoint."""

    kind: FaultKind
    endpoint: str | None = None
    remaining: int = 1
    status: int = 500
    retry_after: float | None = None


@dataclass(frozen=True)
class RandomFaults:
    """Faults drawn at random: each request fails with probability ``rate``."""

    rate: float
    kinds: tuple[FaultKind, ...]
    endpoint: str | None = None


class FaultPlan:
    """The faults a simulator will inject; thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._random: list[RandomFaults] = []
        self._latency: dict[str | None, tuple[float, float]] = {}
        self._items: dict[str, dict[str, str]] = {}
        self.injected: list[tuple[str, FaultKind]] = []

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._queue.clear()
            self._random.clear()
            self._latency.clear()
            self._items.clear()

    def _plan(
        self, kind: FaultKind, n: int, endpoint: str | None, **extra: object
    ) -> None:
        with self._lock:
            self._queue.append(Fault(kind, endpoint, n, **extra))  # type: ignore[arg-type]

    def fail_next(
        self,
        n: int = 1,
        *,
        endpoint: str | None = None,
        status: int = 500,
        retry_after: float | None = None,
    ) -> None:
        """The next ``n`` matching requests get a server error with ``status``."""
        self._plan(FaultKind.ERROR, n, endpoint, status=status, retry_after=retry_after)

    def rate_limit_next(
        self,
        n: int = 1,
        *,
        endpoint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next ``n`` matching requests are throttled as the marketplace does it."""
        self._plan(
            FaultKind.RATE_LIMIT, n, endpoint, status=429, retry_after=retry_after
        )

    def timeout_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` matching requests time out before anything is applied."""
        self._plan(FaultKind.TIMEOUT, n, endpoint)

    def lose_response_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` matching requests are applied, then their answers are lost."""
        self._plan(FaultKind.LOST_RESPONSE, n, endpoint)

    def malformed_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` matching answers carry a body that is not JSON."""
        self._plan(FaultKind.MALFORMED, n, endpoint)

    def truncated_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` matching answers stop half way through the body."""
        self._plan(FaultKind.TRUNCATED, n, endpoint)

    def random_faults(
        self,
        rate: float,
        kinds: tuple[FaultKind, ...] = (FaultKind.ERROR, FaultKind.TIMEOUT),
        *,
        endpoint: str | None = None,
    ) -> None:
        """From now on each matching request fails with probability ``rate``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        with self._lock:
            self._random.append(RandomFaults(rate, kinds, endpoint))

    def set_latency(
        self, seconds: float, *, jitter: float = 0.0, endpoint: str | None = None
    ) -> None:
        """Delay matching requests by ``seconds`` plus a uniform 0..``jitter``."""
        with self._lock:
            self._latency[endpoint] = (seconds, jitter)

    def fail_items(self, endpoint: str, keys: list[str], reason: str = "") -> None:
        """Rows with these keys fail in batch calls of ``endpoint`` until cleared."""
        with self._lock:
            self._items.setdefault(endpoint, {}).update(dict.fromkeys(keys, reason))

    def item_failure(self, endpoint: str, key: str) -> str | None:
        """The planned failure reason of one row (``""``: the default), or None."""
        if not self._items:  # the common case, asked once per row: no lock needed
            return None
        with self._lock:
            return self._items.get(endpoint, {}).get(key)

    def latency(self, endpoint: str) -> float:
        """Seconds to wait before answering a request to ``endpoint``."""
        with self._lock:
            fixed, jitter = (
                self._latency.get(endpoint) or self._latency.get(None) or (0, 0)
            )
            return fixed + (self._rng.uniform(0, jitter) if jitter else 0.0)

    def take(self, endpoint: str) -> Fault | None:
        """The fault for one request to ``endpoint``, if any (consumes the queue)."""
        with self._lock:
            for fault in self._queue:
                if fault.endpoint in (None, endpoint) and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._queue.remove(fault)
                    self.injected.append((endpoint, fault.kind))
                    return Fault(
                        fault.kind, endpoint, 1, fault.status, fault.retry_after
                    )
            for spec in self._random:
                if spec.endpoint in (None, endpoint) and self._rng.random() < spec.rate:
                    kind = self._rng.choice(spec.kinds)
                    self.injected.append((endpoint, kind))
                    return Fault(
                        kind, endpoint, 1, 503 if kind is FaultKind.ERROR else 429
                    )
            return None
