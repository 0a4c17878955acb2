"""Simulated buyers: orders arrive at a rate and move through their lives over time.

The engine is generic; each simulator says what can be bought and applies the events to
its own orders (:class:`BuyerMarket`). Everything is drawn from one seeded generator, so
a seed and a clock replay the same story.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from simulators.kit.clock import SimClock


class BuyerEvent(StrEnum):
    """What happens to an order after it is placed."""

    PAY = "pay"
    CANCEL = "cancel"
    SHIP = "ship"
    DELIVER = "deliver"
    COMPLETE = "complete"
    RETURN = "return"


class BuyerMarket(Protocol):
    """What a simulator offers its buyers."""

    def buyable_listings(self) -> list[tuple[str, int]]:
        """(listing reference, units a buyer may order now) for every live listing."""
        ...

    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """Place an order as the real site would (stock taken); its id, or None."""
        ...

    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """Apply one event to an order; False when its status does not allow it."""
        ...


@dataclass
class BuyerSettings:
    """How buyers behave. Times are seconds of simulated time."""

    orders_per_hour: float = 0.0
    max_quantity: int = 3
    cancel_share: float = 0.1
    return_share: float = 0.05
    unpaid_share: float = 0.05  # placed and never paid (they lapse: cancel)
    pay_after: tuple[float, float] = (60, 900)
    ship_after: tuple[float, float] = (3_600, 86_400)
    deliver_after: tuple[float, float] = (86_400, 259_200)
    complete_after: tuple[float, float] = (86_400, 172_800)
    return_after: tuple[float, float] = (3_600, 86_400)


@dataclass(order=True)
class _Due:
    at: datetime
    sequence: int
    order: str = field(compare=False)
    event: BuyerEvent = field(compare=False)


class BuyerEngine:
    """Places orders and drives them on; call :meth:`tick` as the clock moves."""

    def __init__(
        self,
        market: BuyerMarket,
        settings: BuyerSettings,
        clock: SimClock,
        seed: int = 0,
    ) -> None:
        self._market, self.settings, self._clock = market, settings, clock
        self._rng = random.Random(seed)
        self._due: list[_Due] = []
        self._sequence = itertools.count()
        self._next_arrival: datetime | None = None
        self._lock = threading.Lock()
        self.placed = 0

    def _after(self, span: tuple[float, float], base: datetime) -> datetime:
        return base + timedelta(seconds=self._rng.uniform(*span))

    def _schedule(self, order: str, event: BuyerEvent, at: datetime) -> None:
        heapq.heappush(self._due, _Due(at, next(self._sequence), order, event))

    def _plan(self, order: str, placed: datetime) -> None:
        """Draw the whole life of a new order."""
        s, draw = self.settings, self._rng.random()
        if draw < s.unpaid_share:
            self._schedule(order, BuyerEvent.CANCEL, self._after(s.pay_after, placed))
            return
        paid = self._after(s.pay_after, placed)
        self._schedule(order, BuyerEvent.PAY, paid)
        if draw < s.unpaid_share + s.cancel_share:
            self._schedule(order, BuyerEvent.CANCEL, self._after((60, 3_600), paid))
            return
        shipped = self._after(s.ship_after, paid)
        delivered = self._after(s.deliver_after, shipped)
        self._schedule(order, BuyerEvent.SHIP, shipped)
        self._schedule(order, BuyerEvent.DELIVER, delivered)
        if draw < s.unpaid_share + s.cancel_share + s.return_share:
            self._schedule(
                order, BuyerEvent.RETURN, self._after(s.return_after, delivered)
            )
        else:
            self._schedule(
                order, BuyerEvent.COMPLETE, self._after(s.complete_after, delivered)
            )

    def place_one(self, at: datetime | None = None) -> str | None:
        """One buyer orders now from a listing with stock (never more than it shows)."""
        listings = [
            (ref, units) for ref, units in self._market.buyable_listings() if units > 0
        ]
        if not listings:
            return None
        listing, units = self._rng.choice(listings)
        quantity = self._rng.randint(1, max(1, min(units, self.settings.max_quantity)))
        buyer = f"buyer-{self._rng.randrange(1, 10_000):04d}"
        order = self._market.place_order(listing, quantity, buyer)
        if order is not None:
            self.placed += 1
            self._plan(order, at or self._clock.now())
        return order

    def rush(self, count: int) -> list[str]:
        """``count`` buyers order now, their lives drawn as if they had ordered
        ``pay_after`` ago: payment (or lapsing unpaid) is due at the next tick, later
        steps keep their usual delays. For demonstrations and training; returns the
        orders placed (fewer when stock runs out)."""
        with self._lock:
            back = self._clock.now() - timedelta(seconds=self.settings.pay_after[1])
            placed = [self.place_one(back) for _ in range(count)]
        return [order for order in placed if order is not None]

    def tick(self) -> int:
        """Place the orders due by now and apply the events due by now; returns how
        many things happened."""
        with self._lock:
            now, done = self._clock.now(), 0
            rate = self.settings.orders_per_hour
            if rate > 0:
                if self._next_arrival is None:
                    self._next_arrival = now
                while self._next_arrival <= now:
                    if self.place_one(self._next_arrival) is not None:
                        done += 1
                    gap = self._rng.expovariate(rate / 3_600)
                    self._next_arrival += timedelta(seconds=gap)
            while self._due and self._due[0].at <= now:
                due = heapq.heappop(self._due)
                if self._market.buyer_event(due.order, due.event):
                    done += 1
            return done
