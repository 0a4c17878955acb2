"""Faults on demand, per endpoint, deterministic under a seed.

Each request asks the plan once (:meth:`FaultPlan.take`) and gets at most one fault.
Queued faults (``fail_next`` …) come first, in the order they were planned; random
faults (``random_faults``) draw from the plan's own seeded generator. Item faults
(``fail_items``) are asked for by batch handlers, row by row.

Page faults (``repeat_page_next``, ``empty_page_next``, ``shift_page_next``) are asked
for by list handlers, once per page (:meth:`FaultPlan.page_fault`), and mean the same
on every marketplace (:class:`PageFault`); each simulator shows them in its own paging
(page numbers, offsets, cursors). Offset and page-number lists can leave the whole
arithmetic to :meth:`FaultPlan.page_start`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection
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


class PageFault(StrEnum):
    """What goes wrong with one page of a list (never the first page of a walk,
    but for ``EMPTY``)."""

    #: The page comes again: a page-number or offset list answers with the rows of
    #: the page before; a cursor list answers with the cursor it was sent as the
    #: next one. Asking once more gets the right page.
    REPEAT = "repeat"
    #: An empty page though rows remain; the paging goes on where it should have
    #: started.
    EMPTY = "empty"
    #: A row lands ahead of the reader: from this page on, every row sits one place
    #: later, so the page starts with the last row of the page before.
    SHIFT = "shift"


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
    #: Endpoints these faults leave alone.
    spared: frozenset[str] = frozenset()


class FaultPlan:
    """The faults a simulator will inject; thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._random: list[RandomFaults] = []
        self._latency: dict[str | None, tuple[float, float]] = {}
        self._items: dict[str, dict[str, str]] = {}
        self._pages: list[tuple[PageFault, str | None]] = []
        self._shifts: dict[str, int] = {}
        self.injected: list[tuple[str, FaultKind]] = []
        self.page_faults: list[tuple[str, PageFault]] = []

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._queue.clear()
            self._random.clear()
            self._latency.clear()
            self._items.clear()
            self._pages.clear()
            self._shifts.clear()

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
        sparing: Collection[str] = (),
    ) -> None:
        """From now on each matching request fails with probability ``rate``;
        requests to the endpoints in ``sparing`` never do by these faults."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        with self._lock:
            self._random.append(RandomFaults(rate, kinds, endpoint, frozenset(sparing)))

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

    def repeat_page_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` pages (after a first) of ``endpoint`` come again
        (:attr:`PageFault.REPEAT`)."""
        self._plan_pages(PageFault.REPEAT, n, endpoint)

    def empty_page_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """The next ``n`` pages of ``endpoint`` come back empty though rows remain."""
        self._plan_pages(PageFault.EMPTY, n, endpoint)

    def shift_page_next(self, n: int = 1, *, endpoint: str | None = None) -> None:
        """Before each of the next ``n`` pages (after a first) of ``endpoint`` a row
        lands ahead of the reader (:attr:`PageFault.SHIFT`)."""
        self._plan_pages(PageFault.SHIFT, n, endpoint)

    def _plan_pages(self, kind: PageFault, n: int, endpoint: str | None) -> None:
        if n < 0:
            raise ValueError("n must be 0 or more")
        with self._lock:
            self._pages.extend([(kind, endpoint)] * n)

    def page_fault(self, endpoint: str, *, first: bool) -> PageFault | None:
        """The planned fault of one page of ``endpoint``, if any (consumed).

        ``first``: the page starts a walk; ``REPEAT`` and ``SHIFT`` then wait for a
        later page.
        """
        if not self._pages:  # the common case: no lock needed
            return None
        with self._lock:
            for index, (kind, wanted) in enumerate(self._pages):
                if wanted not in (None, endpoint):
                    continue
                if first and kind is not PageFault.EMPTY:
                    continue
                del self._pages[index]
                self.page_faults.append((endpoint, kind))
                return kind
            return None

    def page_start(self, endpoint: str, start: int, size: int) -> int | None:
        """Where the page of ``endpoint`` asked from row ``start`` (``size`` rows)
        starts once the planned page faults are applied; None: it comes back empty.

        For lists paged by number or offset. A shift lasts for the rest of the walk;
        a walk starts again at row 0.
        """
        first = start <= 0
        if first and not self._shifts:
            fault = self.page_fault(endpoint, first=True)
            return None if fault is PageFault.EMPTY else 0
        with self._lock:
            if first:
                self._shifts.pop(endpoint, None)
        fault = self.page_fault(endpoint, first=first)
        with self._lock:
            if fault is PageFault.SHIFT:
                self._shifts[endpoint] = self._shifts.get(endpoint, 0) + 1
            shift = self._shifts.get(endpoint, 0)
        if fault is PageFault.EMPTY:
            return None
        begin = start - shift - (size if fault is PageFault.REPEAT else 0)
        return max(begin, 0)

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
                if (
                    spec.endpoint in (None, endpoint)
                    and endpoint not in spec.spared
                    and self._rng.random() < spec.rate
                ):
                    kind = self._rng.choice(spec.kinds)
                    self.injected.append((endpoint, kind))
                    return Fault(
                        kind, endpoint, 1, 503 if kind is FaultKind.ERROR else 429
                    )
            return None
