"""A write is never sent once the job's lease can no longer be known to hold, even
between two of its safe points: the shared send path asks the job's write guard just
before each write leaves (after any wait for the rate budget)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from connectors._http import RateBudget, RetryPolicy, send
from core.domain.ids import AccountId
from core.errors import RunInterruptedError, Where
from core.ports import Fence
from core.services.stopping import StopRequest, guarding_writes
from scheduler.leases import LEASE_LOST, LeaseTerms, renewing

WHERE = Where(marketplace="toy", account="toy-1", operation="push_stock")
FENCE = Fence(AccountId("toy-1"), "host:1:1-abc:job", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Leases:
    """Renewals answered, releases counted."""

    def __init__(self) -> None:
        self.released = 0

    def renew(self, fence: Fence, duration: timedelta) -> bool:
        return True

    def release(self, fence: Fence) -> None:
        self.released += 1


def client() -> tuple[httpx.Client, list[str]]:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(200, json={})

    return httpx.Client(transport=httpx.MockTransport(handler)), sent


def call(http: httpx.Client, method: str) -> httpx.Response:
    return send(
        http,
        lambda: http.build_request(method, "https://toy.example/stock"),
        classify=lambda _: None,
        where=WHERE,
        budget=RateBudget(100, 100),
        budget_key="k",
        policy=RetryPolicy(attempts=3, initial_backoff=1, max_backoff=1),
        sleep=lambda _: None,
    )


def test_a_refused_write_is_never_sent_nor_retried_and_reads_still_go() -> None:
    http, sent = client()
    reason: list[str] = []
    with guarding_writes(lambda: reason[0] if reason else None):
        call(http, "POST")
        reason.append(LEASE_LOST)
        with pytest.raises(RunInterruptedError, match=LEASE_LOST):
            call(http, "POST")
        with pytest.raises(RunInterruptedError):
            call(http, "PUT")
        call(http, "GET")
    call(http, "POST")  # outside the guarded block
    assert sent == ["POST", "GET", "POST"]


def test_a_job_past_its_trusted_lease_window_sends_no_write() -> None:
    """The job was paused (or its renewals went unanswered) past the time it may
    count on its lease: the write in hand, checked after its last safe point, does
    not leave."""
    http, sent = client()
    clock = Clock()
    stop = StopRequest(monotonic=clock)
    terms = LeaseTerms(timedelta(seconds=100), timedelta(hours=1))
    stop.stop_at(clock.now + terms.trusted, LEASE_LOST)  # as the runner does
    leases = Leases()
    with renewing(leases, FENCE, terms, stop):  # type: ignore[arg-type]
        call(http, "POST")
        clock.now += terms.trusted  # paused past the window, no renewal since
        with pytest.raises(RunInterruptedError, match=LEASE_LOST):
            call(http, "POST")
    assert sent == ["POST"]
    assert leases.released == 1


def test_a_signal_alone_lets_the_write_in_hand_go() -> None:
    """SIGTERM stops the job at its next safe point; a write already past it is
    sent (the lease still holds)."""
    http, sent = client()
    parent = StopRequest()
    stop = StopRequest(parent=parent)
    stop.stop_at(10**12, LEASE_LOST)
    with renewing(Leases(), FENCE, LeaseTerms(), stop):  # type: ignore[arg-type]
        parent.request("SIGTERM")
        call(http, "POST")
    assert sent == ["POST"]
