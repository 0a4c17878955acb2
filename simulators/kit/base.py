"""The base of every simulator: dispatch, faults, counters, inspection, state.

A subclass registers its endpoints in :meth:`Simulator.register_routes` and says how its
marketplace answers errors (:meth:`error_response`, :meth:`rate_limited_response`,
:meth:`not_found_response`). :meth:`handler` is an ``httpx`` handler: use it with
``httpx.MockTransport`` in process, or serve it with :mod:`simulators.kit.server`.
"""

from __future__ import annotations

import json
import random
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx

from simulators.kit.buyers import BuyerEngine, BuyerEvent, BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.faults import Fault, FaultKind, FaultPlan
from simulators.kit.routing import (
    BadRequestBodyError,
    Router,
    SimRequest,
    json_response,
)
from simulators.kit.webhooks import WebhookDispatcher

#: Endpoints under this prefix are the simulator's own, never faulted or rate limited.
INSPECTION_PREFIX = "/_sim/"


class Simulator(ABC):
    """An in-memory marketplace behind an ``httpx`` handler."""

    #: The marketplace key, e.g. ``"shopee"``.
    key: ClassVar[str]
    #: Where ``ikm-sync simulate`` serves it unless told otherwise (the demo's
    #: settings point there); ``None``: the next free one from 8710.
    default_port: ClassVar[int | None] = None

    def __init__(
        self,
        *,
        clock: SimClock | None = None,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = True,
        buyers: BuyerSettings | None = None,
        webhook_client: httpx.Client | None = None,
    ) -> None:
        self.clock = clock or SimClock()
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = FaultPlan(seed)
        self.sleep = sleep
        self.rate_limits_enabled = rate_limits
        self.requests: Counter[str] = Counter()
        self.lock = threading.RLock()
        self.webhooks = WebhookDispatcher(
            clock=self.clock, client=webhook_client, sleep=sleep
        )
        self.router = Router()
        self.register_routes(self.router)
        self.router.add(
            "GET", "/_sim/listings", self._inspect_listings, "_sim.listings"
        )
        self.router.add("GET", "/_sim/orders", self._inspect_orders, "_sim.orders")
        self.router.add(
            "GET", "/_sim/requests", self._inspect_requests, "_sim.requests"
        )
        self.router.add(
            "GET", "/_sim/webhooks", self._inspect_webhooks, "_sim.webhooks"
        )
        self.router.add("POST", "/_sim/buyers", self._rush_buyers, "_sim.buyers")
        self.buyers = BuyerEngine(self, buyers or BuyerSettings(), self.clock, seed)

    # ------------------------------------------------------------------ subclass hooks

    @abstractmethod
    def register_routes(self, router: Router) -> None:
        """Add the marketplace's endpoints to ``router``."""

    @abstractmethod
    def error_response(self, status: int, retry_after: float | None) -> httpx.Response:
        """The marketplace's own answer to a server error (status 5xx)."""

    @abstractmethod
    def rate_limited_response(self, retry_after: float | None) -> httpx.Response:
        """The marketplace's own answer to a throttled request."""

    @abstractmethod
    def not_found_response(
        self, request: SimRequest, path_known: bool
    ) -> httpx.Response:
        """The answer to an unknown path (or a known path with the wrong method)."""

    @abstractmethod
    def bad_body_response(self, request: SimRequest, problem: str) -> httpx.Response:
        """The answer to a request whose body is not the JSON the endpoint expects."""

    @abstractmethod
    def credentials(self) -> dict[str, str]:
        """Everything a client needs to call this simulator: ids, keys, the shop, and
        how to obtain tokens (printed by ``ikm-sync simulate``)."""

    @abstractmethod
    def inspect_listings(self) -> list[dict[str, Any]]:
        """What the marketplace shows now: one entry per listing (SKU, price, stock,
        status, ids), for ``/_sim/listings``."""

    @abstractmethod
    def inspect_orders(self) -> list[dict[str, Any]]:
        """Every order with status, lines and times, for ``/_sim/orders``."""

    @abstractmethod
    def export_state(self) -> dict[str, Any]:
        """Everything needed to restore the marketplace, as JSON-ready data."""

    @abstractmethod
    def import_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`export_state` produced."""

    @abstractmethod
    def buyable_listings(self) -> list[tuple[str, int]]:
        """(listing reference, units a buyer may order now) for live listings."""

    @abstractmethod
    def place_order(self, listing: str, quantity: int, buyer: str) -> str | None:
        """Place a buyer's order; the real site's stock rules apply."""

    @abstractmethod
    def buyer_event(self, order: str, event: BuyerEvent) -> bool:
        """Move an order on (payment, cancellation, shipping, delivery, return …)."""

    # ------------------------------------------------------------------ time

    def tick(self) -> int:
        """Apply what the clock has made due: buyers' orders and events. Subclasses
        add their own clock-driven transitions and call ``super().tick()``. Runs before
        every request and, when served, every second in between."""
        with self.lock:
            return self.buyers.tick()

    # ------------------------------------------------------------------ dispatch

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the marketplace would, faults included."""
        route, params, path_known = self.router.match(request.method, request.url.path)
        sim_request = SimRequest(request, params, route.name if route else "")
        if route is None:
            self.requests["(unknown)"] += 1
            return self.not_found_response(sim_request, path_known)
        self.requests[route.name] += 1
        if request.url.path.startswith(INSPECTION_PREFIX):
            with self.lock:
                return route.handler(sim_request)
        delay = self.faults.latency(route.name)
        if delay:
            self.sleep(delay)
        fault = self.faults.take(route.name)
        early = self._early_fault(fault, request)
        if early is not None:
            return early
        with self.lock:
            self.tick()
            try:
                response = route.handler(sim_request)
            except BadRequestBodyError as exc:
                response = self.bad_body_response(sim_request, str(exc))
        return self._late_fault(fault, request, response)

    def _early_fault(
        self, fault: Fault | None, request: httpx.Request
    ) -> httpx.Response | None:
        if fault is None:
            return None
        match fault.kind:
            case FaultKind.ERROR:
                return self.error_response(fault.status, fault.retry_after)
            case FaultKind.RATE_LIMIT:
                return self.rate_limited_response(fault.retry_after)
            case FaultKind.TIMEOUT:
                raise httpx.ReadTimeout("simulated timeout", request=request)
            case FaultKind.LOST_RESPONSE | FaultKind.MALFORMED | FaultKind.TRUNCATED:
                return None

    def _late_fault(
        self, fault: Fault | None, request: httpx.Request, response: httpx.Response
    ) -> httpx.Response:
        if fault is None:
            return response
        match fault.kind:
            case FaultKind.LOST_RESPONSE:
                raise httpx.ReadTimeout(
                    "simulated lost response (the change was applied)", request=request
                )
            case FaultKind.MALFORMED:
                return httpx.Response(
                    response.status_code,
                    headers={"content-type": "application/json"},
                    content=b"<html><body>502 Bad Gateway</body></html>",
                )
            case FaultKind.TRUNCATED:
                body = response.content
                return httpx.Response(
                    response.status_code,
                    headers={"content-type": "application/json"},
                    content=body[: max(len(body) // 2, 1)],
                )
            case FaultKind.ERROR | FaultKind.RATE_LIMIT | FaultKind.TIMEOUT:
                return response

    # ------------------------------------------------------------------ inspection

    def _inspect_listings(self, _request: SimRequest) -> httpx.Response:
        return json_response(200, {"listings": self.inspect_listings()})

    def _inspect_orders(self, _request: SimRequest) -> httpx.Response:
        return json_response(200, {"orders": self.inspect_orders()})

    def _rush_buyers(self, request: SimRequest) -> httpx.Response:
        """``POST /_sim/buyers`` with ``{"orders": N}``: N buyers order now and pay
        as soon as their drawn life allows (see :meth:`BuyerEngine.rush`)."""
        try:
            body = request.json()
        except BadRequestBodyError as exc:
            return json_response(400, {"error": str(exc)})
        count = body.get("orders") if isinstance(body, dict) else None
        if (
            not isinstance(count, int)
            or isinstance(count, bool)
            or not 0 < count <= 1000
        ):
            return json_response(
                400, {"error": "expected a JSON object with orders: 1 to 1000"}
            )
        placed = self.buyers.rush(count)
        self.tick()
        return json_response(200, {"placed": placed})

    def _inspect_requests(self, _request: SimRequest) -> httpx.Response:
        return json_response(200, {"requests": dict(sorted(self.requests.items()))})

    def _inspect_webhooks(self, _request: SimRequest) -> httpx.Response:
        deliveries = [
            {
                "url": d.url,
                "created_at": d.created_at.isoformat(),
                "attempts": d.attempts,
                "delivered": d.delivered,
                "status": d.status,
                "error": d.error,
                "body": d.body.decode("utf-8", errors="replace"),
            }
            for d in self.webhooks.log
        ]
        return json_response(200, {"webhooks": deliveries})

    # ------------------------------------------------------------------ state files

    def save_state(self, path: Path) -> None:
        """Write the marketplace's state to ``path`` (atomically)."""
        with self.lock:
            payload = {"marketplace": self.key, "state": self.export_state()}
        temporary = path.with_name(f".{path.name}.partial")
        temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)

    def load_state(self, path: Path) -> None:
        """Restore state written by :meth:`save_state` for this marketplace."""
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("marketplace") != self.key:
            raise ValueError(
                f"{path} holds state for {payload.get('marketplace')!r}, "
                f"not {self.key!r}"
            )
        with self.lock:
            self.import_state(payload["state"])
