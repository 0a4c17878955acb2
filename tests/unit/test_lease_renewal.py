"""The lease renewer: a store that fails to answer for a moment is tried again
while the lease is still trusted to hold; a refused renewal, or one that stays
unanswered past that, stops the job."""

from __future__ import annotations

import threading
from datetime import timedelta

from core.domain.ids import AccountId
from core.ports import Fence
from core.services.stopping import StopRequest
from scheduler.leases import LEASE_LOST, LeaseTerms, _renew

FENCE = Fence(AccountId("shopee-ntt"), "host:1:1-abc:job", 3)
#: 90 s trusted; a renewal every 30 s, a failed one tried again after 7.5 s.
TERMS = LeaseTerms(timedelta(seconds=100), timedelta(seconds=30))


class Clock:
    """A monotonic clock that moves only when the renewer waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Turns(threading.Event):
    """The renewer's pauses: each advances the clock by the time waited; after
    ``turns`` of them the job is done."""

    def __init__(self, clock: Clock, turns: int) -> None:
        super().__init__()
        self.clock = clock
        self.left = turns
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        self.clock.now += timeout
        self.left -= 1
        return self.left < 0


class Store:
    """Renewals answered from a script: True, False, or an error raised."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.asked = 0

    def renew(self, fence: Fence, duration: timedelta) -> bool:
        self.asked += 1
        answer = self.answers.pop(0) if self.answers else True
        if isinstance(answer, Exception):
            raise answer
        return answer


def renew(store: Store, turns: int) -> tuple[StopRequest, Turns, Clock]:
    clock = Clock()
    stop = StopRequest(monotonic=clock)
    stop.stop_at(clock.now + TERMS.trusted, LEASE_LOST)  # as the runner does
    done = Turns(clock, turns)
    _renew(store, FENCE, TERMS, stop, done, clock)  # type: ignore[arg-type]
    return stop, done, clock


def test_one_unanswered_renewal_is_tried_again_and_the_job_goes_on() -> None:
    store = Store(ConnectionError("database unreachable"), True, True)
    stop, done, _ = renew(store, turns=4)
    assert not stop.requested
    assert store.asked == 4
    assert done.waits == [30.0, 7.5, 30.0, 30.0, 30.0]  # the retry comes sooner


def test_renewals_unanswered_past_the_trusted_window_stop_the_job() -> None:
    store = Store(*[ConnectionError("database unreachable")] * 100)
    stop, done, clock = renew(store, turns=100)
    assert stop.requested
    assert stop.reason == LEASE_LOST
    assert sum(done.waits) == 30 + 7.5 * 8  # it stopped trying at the window's end
    assert store.asked == 8
    assert clock.now >= 1000 + TERMS.trusted


def test_a_refused_renewal_stops_the_job_at_once() -> None:
    store = Store(True, False)
    stop, _, _ = renew(store, turns=10)
    assert stop.requested
    assert stop.reason == LEASE_LOST
    assert store.asked == 2
