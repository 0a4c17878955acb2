"""Sending marketplace requests: rate budget, then the request, then classification,
with retries in exactly one place.

Every connector call goes through :func:`send`. It waits for the account's rate budget
(instead of collecting 429s), builds the request afresh for each attempt (signatures and
timestamps stay valid), turns transport failures into the connector error tree, lets the
connector classify the answer by its body first, and retries — with tenacity — only
transient failures and rate limits, only when the call is idempotent or provably never
left, with exponential backoff and jitter, honouring the wait a marketplace asked for,
bounded in attempts and in time, logging each retry. A create that got no usable answer
(no answer, a server error, one that cannot be read) is outcome-unknown, never retried.
Just before a write leaves, the job's write guard is asked
(:func:`core.services.stopping.check_write`): a job whose lease can no longer be known
to hold sends nothing (:class:`~core.errors.RunInterruptedError`, not retried).

An answer is read (``read``, e.g. parsed into a DTO) inside the attempt: a read — an
idempotent ``GET`` or ``HEAD`` — whose answer cannot be read (not JSON, cut short, not
the documented shape: :class:`~core.errors.UnreadableAnswerError`) is sent again like a
transient failure, within the same policy. Writes keep their rule: an unreadable answer
to a create is outcome-unknown, to an idempotent write a ``ContractError`` not retried.
A call that only reads though it is sent with another method (a search sent as
``POST``) says so with ``reads_only``: it is then treated as a read throughout (no write
guard, unreadable answers asked for again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar, overload

import httpx
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from core.errors import (
    ContractError,
    OutcomeUnknownError,
    RateLimitError,
    TransientError,
    UnreadableAnswerError,
    Where,
)
from core.services.stopping import check_write

log = structlog.get_logger(__name__)

Classifier = Callable[[httpx.Response], None]
_T = TypeVar("_T")

#: Methods that only read (RFC 9110 §9.2.1): an unreadable answer is asked for again.
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One request sent to a marketplace: where, and whether its answer throttled
    it (a rate limit or quota)."""

    marketplace: str
    operation: str
    throttled: bool = False


#: Called for every request :func:`send` sends (each attempt); see
#: :func:`observe_requests`.
RequestObserver = Callable[[RequestEvent], None]
_observers: list[RequestObserver] = []
_observers_lock = threading.Lock()


def observe_requests(observer: RequestObserver) -> Callable[[], None]:
    """Call ``observer`` for every request sent from now on (metrics, tests);
    returns the function that stops it. An observer that fails is logged and
    never fails the request."""
    with _observers_lock:
        _observers.append(observer)

    def stop() -> None:
        with _observers_lock:
            if observer in _observers:
                _observers.remove(observer)

    return stop


def _notify(where: Where, *, throttled: bool) -> None:
    if not _observers:
        return
    event = RequestEvent(
        where.get("marketplace", ""), where.get("operation", ""), throttled
    )
    for observer in tuple(_observers):
        try:
            observer(event)
        except Exception:
            log.exception("http.observer_failed")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard :func:`send` tries: at most ``attempts`` tries within
    ``max_seconds``, backing off exponentially (with jitter) from ``initial_backoff``
    to ``max_backoff``."""

    attempts: int = 5
    max_seconds: float = 120.0
    initial_backoff: float = 1.0
    max_backoff: float = 60.0


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    updated: float
    blocked_until: float = 0.0


@dataclass
class RateBudget:
    """Token buckets per key — an account and an endpoint, as the marketplace meters
    them — that requests wait for.

    ``rate`` tokens a second, at most ``burst`` held. :meth:`observe` aligns a bucket
    with what the marketplace reports (remaining calls, seconds until the next one);
    :meth:`penalise` blocks a key after a throttling answer. Time comes from
    ``monotonic`` and waiting goes through ``sleep``, so tests run on a fake clock.
    """

    rate: float
    burst: int
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    enabled: bool = True
    #: A key blocked for longer than this raises instead of sleeping.
    max_wait: float = 120.0
    waited: float = 0.0
    _buckets: dict[Hashable, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _bucket(self, key: Hashable, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(
                self.rate, self.burst, self.burst, now
            )
        bucket.tokens = min(
            bucket.burst, bucket.tokens + (now - bucket.updated) * bucket.rate
        )
        bucket.updated = now
        return bucket

    def _delay(self, bucket: _Bucket, now: float, wanted: float) -> float:
        if now < bucket.blocked_until:
            return bucket.blocked_until - now
        if bucket.tokens + 1e-9 >= wanted:
            return 0.0
        return (wanted - bucket.tokens) / bucket.rate

    def acquire(self, key: Hashable, cost: int = 1) -> None:
        """Wait until ``cost`` tokens (at most a full bucket) are free; spend them."""
        self.acquire_up_to(key, cost, minimum=min(cost, self.burst))

    def acquire_up_to(self, key: Hashable, wanted: int, *, minimum: int = 1) -> int:
        """Wait for at least ``minimum`` tokens, then spend as many as are free up to
        ``wanted``; returns how many (size a bulk call by it).

        Raises:
            RateLimitError: the key is blocked for longer than ``max_wait``.
        """
        if not self.enabled:
            return wanted
        while True:
            with self._lock:
                now = self.monotonic()
                bucket = self._bucket(key, now)
                delay = self._delay(bucket, now, minimum)
                if delay <= 0:
                    granted = max(minimum, min(wanted, int(bucket.tokens + 1e-9)))
                    bucket.tokens -= granted
                    return granted
            if delay > self.max_wait:
                raise RateLimitError(
                    f"rate budget closed for {delay:.0f} s more",
                    retry_after=delay,
                    sent=False,
                )
            self.waited += delay
            self.sleep(delay)

    def observe(
        self, key: Hashable, *, remaining: float | None, reset_after: float | None
    ) -> None:
        """Align with the marketplace: ``remaining`` calls now; when none remain, the
        next comes after ``reset_after`` seconds."""
        with self._lock:
            now = self.monotonic()
            bucket = self._bucket(key, now)
            if remaining is not None:
                bucket.tokens = min(bucket.tokens, max(remaining, 0.0))
                if remaining <= 0 and reset_after:
                    bucket.blocked_until = max(bucket.blocked_until, now + reset_after)

    def penalise(self, key: Hashable, seconds: float) -> None:
        """The marketplace throttled ``key``: no request for ``seconds``."""
        with self._lock:
            now = self.monotonic()
            bucket = self._bucket(key, now)
            bucket.tokens = 0.0
            bucket.blocked_until = max(bucket.blocked_until, now + seconds)


class _Wait:
    """Wait what a rate limit asked for, else back off exponentially with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff, max=policy.max_backoff
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return float(error.retry_after)
        return float(self._backoff(state))


def _log_retry(where: Where) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "http.retrying",
            attempt=state.attempt_number,
            wait_seconds=round(state.upcoming_sleep, 3),
            error=type(error).__name__,
            reason=getattr(error, "reason", ""),
            **where,
        )

    return before_sleep


@overload
def send(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    classify: Classifier,
    where: Where,
    budget: RateBudget,
    budget_key: Hashable,
    cost: int = ...,
    idempotent: bool = ...,
    reads_only: bool = ...,
    policy: RetryPolicy | None = ...,
    sleep: Callable[[float], None] = ...,
) -> httpx.Response: ...


@overload
def send(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    classify: Classifier,
    where: Where,
    budget: RateBudget,
    budget_key: Hashable,
    read: Callable[[httpx.Response], _T],
    cost: int = ...,
    idempotent: bool = ...,
    reads_only: bool = ...,
    policy: RetryPolicy | None = ...,
    sleep: Callable[[float], None] = ...,
) -> _T: ...


def send(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    classify: Classifier,
    where: Where,
    budget: RateBudget,
    budget_key: Hashable,
    read: Callable[[httpx.Response], object] | None = None,
    cost: int = 1,
    idempotent: bool = True,
    reads_only: bool = False,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> object:
    """Send one marketplace call and return its successful answer, read by ``read``
    when given (a ``ContractError`` it raises means the answer cannot be read).

    Raises:
        TransientError, RateLimitError: still failing after the retries allowed.
        UnreadableAnswerError: a read whose answer still cannot be read after the
            retries allowed.
        OutcomeUnknownError: a call that is not ``idempotent`` got no answer, or one
            that cannot be read; it may have been applied.
        ConnectorError: whatever ``classify`` raised for an error answer (not retried
            unless it is transient).
    """
    policy = policy or RetryPolicy()
    reads = False  # set per attempt from the request built: a GET or HEAD

    def attempt() -> object:
        nonlocal reads
        budget.acquire(budget_key, cost)
        request = build()
        reads = idempotent and (reads_only or request.method in READ_METHODS)
        if not reads_only and request.method not in READ_METHODS:
            # the last point before a write leaves: after the rate budget's wait,
            # a job whose lease can no longer be known to hold sends nothing
            check_write()
        try:
            response = http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise TransientError(
                "could not connect; the request was not sent", sent=False, **where
            ) from None
        except httpx.RequestError as exc:
            # Timeouts, dropped connections, bodies that cannot be decoded, redirect
            # loops: the server may have acted on the request.
            if not idempotent:
                raise OutcomeUnknownError(
                    f"no usable answer ({type(exc).__name__}); "
                    "it may have been applied",
                    **where,
                ) from None
            raise TransientError(
                f"no usable answer ({type(exc).__name__})", **where
            ) from None
        throttled = False
        try:
            classify(response)
        except RateLimitError as exc:
            throttled = True
            budget.penalise(budget_key, exc.retry_after or policy.initial_backoff)
            raise
        except TransientError as exc:
            if not idempotent and exc.sent:
                # A server error to a create does not say it was not applied.
                raise OutcomeUnknownError(
                    f"{exc.reason}; it may have been applied", **where
                ) from None
            raise
        except ContractError as exc:
            if not idempotent:
                raise _unknown(exc) from None
            raise
        finally:
            _notify(where, throttled=throttled)
        if read is None:
            return response
        try:
            return read(response)
        except ContractError as exc:
            if not idempotent:
                raise _unknown(exc) from None
            if reads and not isinstance(exc, UnreadableAnswerError):
                raise _unreadable(exc) from None
            raise

    def retryable(error: BaseException) -> bool:
        if isinstance(error, TransientError):
            return idempotent or not error.sent
        return reads and isinstance(error, UnreadableAnswerError)

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        wait=_Wait(policy),
        # Never sleep past the policy: a wait longer than that (a daily quota) ends the
        # call with the RateLimitError, its retry_after telling when to come back.
        stop=stop_after_attempt(policy.attempts)
        | stop_before_delay(policy.max_seconds),
        sleep=sleep,
        before_sleep=_log_retry(where),
        reraise=True,
    )
    return retrying(attempt)


def _unreadable(error: ContractError) -> UnreadableAnswerError:
    return UnreadableAnswerError(
        error.reason,
        marketplace=error.marketplace,
        account=error.account,
        operation=error.operation,
        request_id=error.request_id,
    )


def _unknown(error: ContractError) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"{error.reason}; it may have been applied",
        marketplace=error.marketplace,
        account=error.account,
        operation=error.operation,
        request_id=error.request_id,
    )
