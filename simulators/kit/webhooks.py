"""Delivering a simulator's webhooks, with the faults a receiver must survive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from simulators.kit.clock import SimClock


@dataclass
class Delivery:
    """One webhook message and what became of it."""

    url: str
    body: bytes
    headers: dict[str, str]
    created_at: datetime
    attempts: int = 0
    delivered: bool = False
    status: int | None = None
    error: str = ""


@dataclass
class _WebhookFaults:
    drop: int = 0
    duplicate: int = 0
    hold: int = 0
    bad_signature: int = 0


@dataclass
class WebhookDispatcher:
    """Sends webhooks through ``client`` (``None``: record them only).

    A delivery succeeds on a 2xx answer; otherwise it is retried after each of
    ``retry_delays`` seconds (slept with ``sleep``) and finally reported to
    ``on_failed``. Faults: drop (never sent), duplicate (sent twice), hold (kept until
    :meth:`release_held`, which can reverse their order), bad signature (the signature
    header is corrupted).
    """

    clock: SimClock
    client: httpx.Client | None = None
    retry_delays: tuple[float, ...] = ()
    timeout: float = 3.0
    sleep: Callable[[float], None] = lambda _seconds: None
    on_failed: Callable[[Delivery], None] = lambda _delivery: None
    log: list[Delivery] = field(default_factory=list)
    held: list[Delivery] = field(default_factory=list)
    faults: _WebhookFaults = field(default_factory=_WebhookFaults)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drop_next(self, n: int = 1) -> None:
        """The next ``n`` webhooks are never sent (they still count as failed)."""
        self.faults.drop += n

    def duplicate_next(self, n: int = 1) -> None:
        """The next ``n`` webhooks are sent twice."""
        self.faults.duplicate += n

    def hold_next(self, n: int = 1) -> None:
        """The next ``n`` webhooks wait until :meth:`release_held` (delay, reorder)."""
        self.faults.hold += n

    def bad_signature_next(self, n: int = 1) -> None:
        """The next ``n`` webhooks carry a wrong signature."""
        self.faults.bad_signature += n

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], signature_header: str
    ) -> Delivery:
        """Deliver one webhook now, unless a fault says otherwise."""
        delivery = Delivery(url, body, dict(headers), self.clock.now())
        with self._lock:
            self.log.append(delivery)
            if self.faults.bad_signature:
                self.faults.bad_signature -= 1
                value = delivery.headers.get(signature_header, "")
                delivery.headers[signature_header] = (
                    "0" if value[:1] != "0" else "1"
                ) + value[1:]
            if self.faults.drop:
                self.faults.drop -= 1
                delivery.error = "dropped"
                self.on_failed(delivery)
                return delivery
            if self.faults.hold:
                self.faults.hold -= 1
                self.held.append(delivery)
                return delivery
            copies = 2 if self.faults.duplicate else 1
            if copies == 2:
                self.faults.duplicate -= 1
        for _ in range(copies):
            self._attempt(delivery)
        return delivery

    def release_held(self, *, reverse: bool = False) -> list[Delivery]:
        """Send held webhooks now, oldest first (or newest first: ``reverse``)."""
        with self._lock:
            held, self.held = self.held, []
        for delivery in reversed(held) if reverse else held:
            self._attempt(delivery)
        return held

    def _attempt(self, delivery: Delivery) -> None:
        delays = (0.0, *self.retry_delays)
        for index, delay in enumerate(delays):
            if delay:
                self.sleep(delay)
            delivery.attempts += 1
            if self.client is None:
                delivery.delivered = True
                return
            try:
                answer = self.client.post(
                    delivery.url,
                    content=delivery.body,
                    headers=delivery.headers,
                    timeout=self.timeout,
                )
                delivery.status = answer.status_code
                if answer.is_success:
                    delivery.delivered = True
                    return
                delivery.error = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                delivery.error = type(exc).__name__
            if index == len(delays) - 1:
                self.on_failed(delivery)
