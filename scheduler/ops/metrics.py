"""Prometheus metrics of account work, in a registry of their own.

The runner counts every run by kind and outcome and times it; the lease code counts
takeovers; the daemon sets the accounts due, overdue and backing off through
:func:`set_accounts`, and those whose authorisation ends soon or has ended
through :func:`set_authorisations`; :func:`watch_requests` counts marketplace
requests and throttles through the request hook of :mod:`connectors._http`
(connectors know nothing of Prometheus). :func:`exposition` is the text
``/metrics`` serves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from core.domain.sync import SyncKind
from core.services.runs import RunReport

if TYPE_CHECKING:
    from connectors._http import RequestEvent

#: Every ikm-sync metric, apart from the process-wide default registry.
REGISTRY = CollectorRegistry(auto_describe=True)
#: The ``Content-Type`` of :func:`exposition`.
CONTENT_TYPE = CONTENT_TYPE_LATEST

RUNS = Counter(
    "ikm_sync_runs",
    "Account runs finished, by kind and outcome.",
    ("kind", "outcome"),
    registry=REGISTRY,
)
RUN_SECONDS = Histogram(
    "ikm_sync_run_duration_seconds",
    "Wall-clock time of account runs, by kind.",
    ("kind",),
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
ACCOUNTS = Gauge(
    "ikm_sync_accounts",
    "Accounts by scheduling state (due, overdue, backing_off), as the daemon last "
    "saw them.",
    ("state",),
    registry=REGISTRY,
)
AUTHORISATIONS = Gauge(
    "ikm_sync_account_authorisations",
    "Enabled accounts whose marketplace authorisation ends within the warning "
    "window (expires_soon) or has ended (expired), as the daemon last saw them.",
    ("state",),
    registry=REGISTRY,
)
REQUESTS = Counter(
    "ikm_sync_marketplace_requests",
    "Requests sent to marketplaces (every attempt, retries included).",
    ("marketplace",),
    registry=REGISTRY,
)
THROTTLES = Counter(
    "ikm_sync_marketplace_throttles",
    "Marketplace answers that throttled a request (rate limit or quota).",
    ("marketplace",),
    registry=REGISTRY,
)
LEASE_TAKEOVERS = Counter(
    "ikm_sync_lease_takeovers",
    "Account leases taken over from a holder whose process was gone.",
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "ikm_sync_webhook_deliveries",
    "Webhook deliveries by marketplace and result: received (every request), "
    "verified (signature good), refused (bad signature, oversized, bad body), "
    "duplicate (stored before).",
    ("marketplace", "result"),
    registry=REGISTRY,
)
WEBHOOK_LAG = Histogram(
    "ikm_sync_webhook_lag_seconds",
    "Seconds from a webhook delivery's arrival to its processing, by marketplace.",
    ("marketplace",),
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)

#: The results :func:`record_webhook` counts.
WEBHOOK_RESULTS = ("received", "verified", "refused", "duplicate")

#: The scheduling states :func:`set_accounts` reports.
ACCOUNT_STATES = ("due", "overdue", "backing_off")

#: The authorisation states :func:`set_authorisations` reports.
AUTHORISATION_STATES = ("expires_soon", "expired")

for _state in ACCOUNT_STATES:
    ACCOUNTS.labels(_state).set(0)
for _state in AUTHORISATION_STATES:
    AUTHORISATIONS.labels(_state).set(0)


def record_run(kind: SyncKind, report: RunReport, seconds: float) -> None:
    """Count a finished run and its duration."""
    RUNS.labels(kind.value, report.outcome.value).inc()
    RUN_SECONDS.labels(kind.value).observe(max(seconds, 0.0))


def record_webhook(marketplace: str, result: str) -> None:
    """Count a webhook delivery's ``result`` (one of :data:`WEBHOOK_RESULTS`)."""
    if result not in WEBHOOK_RESULTS:
        raise ValueError(f"webhook result: expected one of {WEBHOOK_RESULTS}")
    WEBHOOK_DELIVERIES.labels(marketplace, result).inc()


def record_webhook_lag(marketplace: str, seconds: float) -> None:
    """The time from a delivery's arrival to its processing."""
    WEBHOOK_LAG.labels(marketplace).observe(max(seconds, 0.0))


def record_takeover() -> None:
    """Count a lease taken over from a holder whose process was gone."""
    LEASE_TAKEOVERS.inc()


def set_accounts(*, due: int, overdue: int, backing_off: int) -> None:
    """The daemon's view of its accounts: due now, past their due time, and
    waiting out a backoff. A negative count is refused and changes nothing."""
    counts = dict(zip(ACCOUNT_STATES, (due, overdue, backing_off), strict=True))
    for state, value in counts.items():
        if value < 0:
            raise ValueError(f"accounts {state}: expected a count >= 0, got {value}")
    for state, value in counts.items():
        ACCOUNTS.labels(state).set(value)


def set_authorisations(*, expires_soon: int, expired: int) -> None:
    """Accounts whose authorisation ends within the warning window, and whose
    authorisation has ended. A negative count is refused and changes nothing."""
    counts = dict(zip(AUTHORISATION_STATES, (expires_soon, expired), strict=True))
    for state, value in counts.items():
        if value < 0:
            raise ValueError(
                f"authorisations {state}: expected a count >= 0, got {value}"
            )
    for state, value in counts.items():
        AUTHORISATIONS.labels(state).set(value)


def _count(event: RequestEvent) -> None:
    marketplace = event.marketplace or "unknown"
    REQUESTS.labels(marketplace).inc()
    if event.throttled:
        THROTTLES.labels(marketplace).inc()


def watch_requests() -> Callable[[], None]:
    """Count marketplace requests and throttles from now on; returns the function
    that stops counting."""
    from connectors._http import observe_requests  # HTTP loads with the work only

    return observe_requests(_count)


def exposition() -> bytes:
    """The metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
