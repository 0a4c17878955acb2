"""Benchmark: the three marketplace connectors against their in-process simulators.

For each marketplace (Shopee, Tokopedia, Bukalapak), with the connector built as the
contract harnesses build it (``tests/contract/harness_*.py``) but on the real clock
(``SimClock()`` running, ``time.monotonic``, real sleeps), faults off, and logging
configured as in production (``config.logging.configure_logging`` at INFO, JSON lines,
written to ``/dev/null``):

* throughput, simulator rate limits off (``rate_limits=False``) and the connector's
  ``RateBudget`` disabled: a catalogue of ``--items`` listings is created through
  ``apply_listing_changes``, then ``push_stock`` (and ``push_prices``) is timed over
  the whole catalogue with new values each run, through the full client stack
  (validation, mapping, batching, signing or bearer tokens, ``connectors._http.send``,
  answer parsing). Items/s and requests/s are over wall seconds; CPU is
  ``time.process_time`` of the process, the simulator's share included (shown apart as
  the time inside ``sim.handler``). Median, min and max of ``--runs`` runs;
* rate-limited, simulator rate limits on with their documented limits and the
  connector's ``RateBudget`` configured as production wiring does
  (`the descriptors' documented rates`): ``push_stock`` is called in a loop for
  ``--seconds`` seconds, and the rate of stock requests (Tokopedia: rows, metered per
  row) the simulator accepted is divided by the rate it allows; throttling answers are
  counted on the simulator's side (429s, Tokopedia ``ERR_TOO_MANY_REQUEST`` rows) and on
  the connector's (budget penalties, retries logged, items failed with
  ``RateLimitError``). The marketplaces run in parallel threads (``--sequential`` runs
  them one after another).

The figures replace this benchmark's section of BENCHMARKS.md.

    python -m bench.connectors                                   # 3 runs, 60 s
    python -m bench.connectors --runs 1 --seconds 5 --items 50    # smoke
    python -m bench.connectors --marketplace tokopedia --seconds 30
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx

import connectors
from bench._report import BENCHMARKS, machine, markers, positive, write_section
from config.logging import configure_logging
from connectors._http import RateBudget
from core.domain.ids import AccountId, ProducerCode, Sku
from core.domain.remote import (
    ChangeKind,
    ChangeResult,
    ListingChange,
    ListingDraft,
    PriceUpdate,
    StockUpdate,
)
from core.errors import RateLimitError
from core.ports import MarketplaceConnector, TokenSet
from ikm_sync.simulated import SimulatedMarkets
from simulators import load_testkit
from simulators.kit.base import Simulator
from simulators.kit.clock import SimClock
from simulators.kit.ratelimit import RateLimiter

NAME = "connectors"
START, END = markers(NAME)
SEED = 7
PRODUCER = ProducerCode("IKM-NTT-001")
#: Listings are created through the connector in changes of this many.
CREATE_CHUNK = 100
#: A throughput run pushes the whole catalogue again until this much time was timed.
MIN_RUN_SECONDS = 1.0

U = TypeVar("U", StockUpdate, PriceUpdate)

#: The goals from the issue, for the rate-limited run.
GOAL_RATIO = 0.9
GOAL_TEXT = (
    f"≥ {GOAL_RATIO} of the allowed rate and zero 429s received when the limits are "
    "known in advance"
)


class BenchError(Exception):
    """A measurement could not be taken (a call failed or answered wrongly)."""


# ------------------------------------------------------------------ plumbing


class MemoryTokens:
    """A :class:`~core.ports.TokenStore` in memory, one holder per account."""

    def __init__(self) -> None:
        self.tokens: dict[str, TokenSet] = {}
        self._lock = threading.Lock()

    def load(self, account: AccountId) -> TokenSet:
        return self.tokens.get(account, TokenSet())

    def record_authorisation_expiry(
        self, account: AccountId, expires_at: datetime
    ) -> None:
        self.tokens[account] = replace(
            self.load(account), authorisation_expires_at=expires_at
        )

    @contextmanager
    def refreshing(self, account: AccountId) -> Iterator[_Hold]:
        with self._lock:
            yield _Hold(self, account)


class _Hold:
    def __init__(self, store: MemoryTokens, account: AccountId) -> None:
        self._store, self._account = store, account

    @property
    def current(self) -> TokenSet:
        return self._store.load(self._account)

    def save(self, tokens: TokenSet) -> TokenSet:
        saved = replace(tokens, version=self.current.version + 1)
        self._store.tokens[self._account] = saved
        return saved


@dataclass
class CountingBudget(RateBudget):
    """The production :class:`RateBudget`, counting the throttles it was told of."""

    penalties: int = 0

    def penalise(self, key: Any, seconds: float) -> None:
        self.penalties += 1
        super().penalise(key, seconds)


class EventCounter(logging.Handler):
    """Counts structlog events by marketplace and name (retries, throttled rows)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.events: Counter[tuple[str, str]] = Counter()
        self.rows: Counter[tuple[str, str]] = Counter()
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg
        if not isinstance(message, dict):
            return
        key = (str(message.get("marketplace", "")), str(message.get("event", "")))
        rows = message.get("rows")
        with self._guard:
            self.events[key] += 1
            if isinstance(rows, int):
                self.rows[key] += rows


EVENTS = EventCounter()


class SimMeter:
    """The transport handler: the simulator behind a meter.

    Always adds up the time spent inside ``sim.handler`` and the throttling answers
    (HTTP 429). When ``detailed``, it also counts the requests and rows sent to the
    stock endpoint and, for per-row metering, the rows refused with ``row_throttle``.
    """

    def __init__(
        self,
        markets: SimulatedMarkets,
        sim: Simulator,
        stock_endpoint: str,
        *,
        row_throttle: str = "",
    ) -> None:
        self.markets = markets
        self.sim = sim
        self.stock_endpoint = stock_endpoint
        self.row_throttle = row_throttle
        self.detailed = False
        self.handler_seconds = 0.0
        self.throttled: Counter[str] = Counter()
        self.stock_requests = 0
        self.stock_rows = 0
        self.throttled_rows = 0
        self.rows_in_throttled_requests = 0

    def reset(self) -> None:
        self.handler_seconds = 0.0
        self.throttled.clear()
        self.stock_requests = self.stock_rows = 0
        self.throttled_rows = self.rows_in_throttled_requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.markets.owner(request) is None:  # the picture host
            return self.markets.handler(request)
        started = time.perf_counter()
        response = self.markets.handler(request)
        self.handler_seconds += time.perf_counter() - started
        if response.status_code == 429 or self.detailed:
            route, _, _ = self.sim.router.match(request.method, request.url.path)
            name = route.name if route else "(unknown)"
            if response.status_code == 429:
                self.throttled[name] += 1
            if self.detailed and name == self.stock_endpoint:
                self._count_stock(request, response)
        return response

    def _count_stock(self, request: httpx.Request, response: httpx.Response) -> None:
        self.stock_requests += 1
        if not self.row_throttle:
            return
        rows = len(json.loads(request.content))
        self.stock_rows += rows
        if response.status_code == 429:
            self.rows_in_throttled_requests += rows
            return
        if response.status_code == 200:
            data = json.loads(response.content).get("data") or {}
            self.throttled_rows += sum(
                1
                for row in data.get("failed_rows_data") or []
                if row.get("message") == self.row_throttle
            )


# ------------------------------------------------------------------ marketplaces


@dataclass
class Rig:
    """One simulator and an authorised connector for its shop."""

    market: type[Market]
    sim: Simulator
    meter: SimMeter
    http: httpx.Client
    budget: CountingBudget
    connector: MarketplaceConnector
    limiters: list[RateLimiter]
    listings: list[tuple[Sku, str, str | None]] = field(default_factory=list)

    def set_limits(self, on: bool) -> None:
        """Rate limits on or off, on both sides (buckets start full when first used)."""
        for limiter in self.limiters:
            limiter.enabled = on
        self.budget.enabled = on


class Market:
    """What differs between marketplaces: building, drafts, endpoints, limits."""

    key: ClassVar[str]
    title: ClassVar[str]
    stock_endpoint: ClassVar[str]
    price_endpoint: ClassVar[str]
    #: What one stock call carries, in words (for the report).
    batch: ClassVar[str]
    #: What the simulator meters: "request" or "row".
    metered: ClassVar[str] = "request"
    #: The per-row throttle message of a bulk answer ("" when there is none).
    row_throttle: ClassVar[str] = ""

    @classmethod
    def build(cls, *, limits: bool, budget: CountingBudget) -> Rig:
        """The simulator (rate limits as told, faults off, real clock), a connector
        for its shop with ``budget``, authorised: the shared simulated wiring."""
        markets = SimulatedMarkets(
            [cls.key], clock=SimClock(), seeds={cls.key: SEED}, rate_limits=limits
        )
        sim = markets.sims[cls.key]
        meter = SimMeter(
            markets, sim, cls.stock_endpoint, row_throttle=cls.row_throttle
        )
        http = httpx.Client(transport=httpx.MockTransport(meter))
        account = markets.account(cls.key, f"bench-{cls.key}", [PRODUCER])
        connector = markets.connector(
            account, http=http, tokens=MemoryTokens(), budget=budget
        )
        markets.authorise(connector, http)
        return Rig(cls, sim, meter, http, budget, connector, cls.limiters(sim))

    @classmethod
    def limiters(cls, sim: Any) -> list[Any]:
        """The simulator's rate limiters of the stock (then price) endpoint."""
        return [sim.limiter]

    @classmethod
    def draft(cls, sku: str, stock: int, price: int) -> ListingDraft:
        """A listing the simulator accepts as is (its kit's)."""
        return load_testkit(cls.key).draft(sku, stock=stock, price=price)

    @classmethod
    def allowed(cls, rig: Rig) -> tuple[float, int]:
        """The simulator's documented (rate, burst) for the stock endpoint."""
        limiter = rig.limiters[0]
        return limiter.rate, limiter.burst


class Shopee(Market):
    key = "shopee"
    title = "Shopee"
    stock_endpoint = "product.update_stock"
    price_endpoint = "product.update_price"
    batch = "one item per call (up to 50 models of it); items without variants here"


class Tokopedia(Market):
    key = "tokopedia"
    title = "Tokopedia"
    stock_endpoint = "stock_update"
    price_endpoint = "price_update"
    batch = "up to 100 rows (SKUs) per call, each row one rate token"
    metered = "row"
    row_throttle = "ERR_TOO_MANY_REQUEST"

    @classmethod
    def limiters(cls, sim: Any) -> list[Any]:
        return [sim.limiter(cls.stock_endpoint), sim.limiter(cls.price_endpoint)]


class Bukalapak(Market):
    key = "bukalapak"
    title = "Bukalapak"
    stock_endpoint = "skus.update"
    price_endpoint = "skus.update"
    batch = "one SKU per call (PATCH …/skus/{sku_id})"


MARKETS: dict[str, type[Market]] = {m.key: m for m in (Shopee, Tokopedia, Bukalapak)}


def documented_rate(key: str) -> tuple[float, int]:
    """The request rate and burst the marketplace's descriptor declares."""
    rate = connectors.descriptor(key).rate
    return rate.per_second, rate.burst


def production_budget(key: str, *, enabled: bool = True) -> CountingBudget:
    """A budget with the rate and burst production wiring gives ``key``."""
    rate, burst = documented_rate(key)
    return CountingBudget(rate, burst, enabled=enabled)


def _failures(results: Sequence[ChangeResult]) -> Counter[str]:
    return Counter(type(r.error).__name__ for r in results if not r.ok)


def create_catalogue(rig: Rig, items: int) -> None:
    """``items`` listings created through ``apply_listing_changes``."""
    market = rig.market
    for start in range(0, items, CREATE_CHUNK):
        changes = [
            ListingChange(
                ChangeKind.CREATE,
                market.draft(f"BENCH-{n:05d}", 10 + n % 90, 50_000 + (n % 100) * 500),
            )
            for n in range(start, min(start + CREATE_CHUNK, items))
        ]
        results = rig.connector.apply_listing_changes(changes)
        failed = [r for r in results if not r.ok or not r.external_id]
        if failed:
            raise BenchError(
                f"{market.title}: {len(failed)} create(s) failed, e.g. "
                f"{failed[0].sku}: {failed[0].error!r}"
            )
        rig.listings += [
            (r.sku, str(r.external_id), r.external_variant_id) for r in results
        ]


def stock_updates(
    listings: Sequence[tuple[Sku, str, str | None]], round_: int
) -> list[StockUpdate]:
    """New quantities for every listing given (they change with ``round_``)."""
    return [
        StockUpdate(sku, external, 1 + (round_ * 37 + n) % 500, variant)
        for n, (sku, external, variant) in enumerate(listings)
    ]


def price_updates(
    listings: Sequence[tuple[Sku, str, str | None]], round_: int
) -> list[PriceUpdate]:
    """New whole-rupiah prices for every listing given."""
    return [
        PriceUpdate(sku, external, 60_000 + ((round_ * 13 + n) % 200) * 100, variant)
        for n, (sku, external, variant) in enumerate(listings)
    ]


# ------------------------------------------------------------------ throughput


@dataclass
class Sample:
    """One timed push over the whole catalogue."""

    items: int
    requests: int
    seconds: float
    cpu_seconds: float
    handler_seconds: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.requests * 1e6

    @property
    def cpu_us_per_item(self) -> float:
        return self.cpu_seconds / self.items * 1e6

    @property
    def handler_us_per_request(self) -> float:
        return self.handler_seconds / self.requests * 1e6


@dataclass
class Throughput:
    """A marketplace's throughput samples."""

    market: type[Market]
    items: int
    stock: list[Sample] = field(default_factory=list)
    prices: list[Sample] = field(default_factory=list)


def _timed(
    rig: Rig,
    endpoint: str,
    push: Callable[[list[U]], list[ChangeResult]],
    make: Callable[[int], list[U]],
    round_: int,
    min_seconds: float,
) -> tuple[Sample, int, list[U]]:
    """Push the whole catalogue with ``make(round)``'s values, round after round,
    until ``min_seconds`` of pushing were timed (at least once); building the
    updates is not timed. Returns the sample, the last round and its updates."""
    items = requests = 0
    seconds = cpu = handler = 0.0
    updates: list[U] = []
    while not updates or seconds < min_seconds:
        round_ += 1
        updates = make(round_)
        before = rig.sim.requests[endpoint]
        rig.meter.reset()
        cpu_started = time.process_time()
        started = time.perf_counter()
        results = push(updates)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        handler += rig.meter.handler_seconds
        failed = _failures(results)
        if failed:
            raise BenchError(
                f"{rig.market.title} {endpoint}: failed items {dict(failed)}"
            )
        items += len(results)
        requests += rig.sim.requests[endpoint] - before
    return Sample(items, requests, seconds, cpu, handler), round_, updates


def _check_stock(rig: Rig, updates: Sequence[StockUpdate]) -> None:
    """The simulator shows what was pushed last (every listing)."""
    shown = {str(x["sku"]): int(x["stock"]) for x in rig.sim.inspect_listings()}
    wrong = [u.sku for u in updates if shown.get(u.sku) != u.quantity]
    if wrong:
        raise BenchError(
            f"{rig.market.title}: {len(wrong)} listing(s) do not show the stock "
            f"pushed, e.g. {wrong[0]}"
        )


def bench_throughput(market: type[Market], items: int, runs: int) -> Throughput:
    """Create the catalogue, warm up, then time ``runs`` pushes of stock and of
    prices over all of it (rate limits off on both sides)."""
    rig = market.build(
        limits=False, budget=production_budget(market.key, enabled=False)
    )
    create_catalogue(rig, items)
    connector, listings = rig.connector, rig.listings
    result = Throughput(market, items)
    stock_round = price_round = 0

    def stock(round_: int) -> list[StockUpdate]:
        return stock_updates(listings, round_)

    def prices(round_: int) -> list[PriceUpdate]:
        return price_updates(listings, round_)

    # Warm-up: one untimed push of each.
    _, stock_round, _ = _timed(
        rig, market.stock_endpoint, connector.push_stock, stock, stock_round, 0.0
    )
    _, price_round, _ = _timed(
        rig, market.price_endpoint, connector.push_prices, prices, price_round, 0.0
    )
    for _run in range(runs):
        sample, stock_round, last = _timed(
            rig,
            market.stock_endpoint,
            connector.push_stock,
            stock,
            stock_round,
            MIN_RUN_SECONDS,
        )
        result.stock.append(sample)
        _check_stock(rig, last)
        sample, price_round, _ = _timed(
            rig,
            market.price_endpoint,
            connector.push_prices,
            prices,
            price_round,
            MIN_RUN_SECONDS,
        )
        result.prices.append(sample)
    rig.connector.close()
    rig.http.close()
    return result


# ------------------------------------------------------------------ rate-limited run


@dataclass
class RateRun:
    """One marketplace's rate-limited run."""

    market: type[Market]
    allowed_rate: float
    allowed_burst: int
    budget_rate: float
    budget_burst: int
    seconds: float = 0.0
    pushes: int = 0
    items_pushed: int = 0
    items_ok: int = 0
    stock_requests: int = 0
    stock_rows: int = 0
    #: Simulator side: whole requests answered 429 (any endpoint), rows refused.
    throttled_requests: int = 0
    throttled_rows: int = 0
    rows_in_throttled_requests: int = 0
    #: Connector side.
    budget_waited: float = 0.0
    penalties: int = 0
    retries_logged: int = 0
    rows_throttled_logged: int = 0
    items_rate_limited: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def accepted(self) -> int:
        """Units (requests, or rows for per-row metering) the simulator let through."""
        if self.market.metered == "row":
            return (
                self.stock_rows - self.throttled_rows - self.rows_in_throttled_requests
            )
        return self.stock_requests - self.throttled_requests

    @property
    def achieved(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.achieved / self.allowed_rate

    @property
    def sustained_ratio(self) -> float:
        """The ratio with the initial full bucket taken out."""
        if not self.seconds:
            return 0.0
        return (self.accepted - self.allowed_burst) / self.seconds / self.allowed_rate

    @property
    def throttles(self) -> int:
        """Throttling answers received: whole requests plus refused rows."""
        return self.throttled_requests + self.throttled_rows

    @property
    def met_ratio(self) -> bool:
        return not self.error and self.sustained_ratio >= GOAL_RATIO

    @property
    def met_throttles(self) -> bool:
        return not self.error and self.throttles == 0


def bench_rate(market: type[Market], items: int, seconds: float) -> RateRun:
    """Push stock for ``seconds`` with both sides' limits on (see the module doc)."""
    budget = production_budget(market.key)
    rig = market.build(limits=True, budget=budget)
    allowed_rate, allowed_burst = market.allowed(rig)
    run = RateRun(market, allowed_rate, allowed_burst, budget.rate, budget.burst)
    # The catalogue is created with the limits off on both sides (no bucket is
    # touched), so the run starts with full buckets on both sides, as in production
    # after a quiet spell.
    rig.set_limits(False)
    create_catalogue(rig, items)
    rig.set_limits(True)
    rig.meter.reset()
    rig.meter.detailed = True
    events_before = EVENTS.events.copy()
    rows_before = EVENTS.rows.copy()
    size = min(2 * allowed_burst, len(rig.listings))
    failures: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + seconds
    position = 0
    while time.perf_counter() < deadline:
        chosen = [rig.listings[(position + n) % len(rig.listings)] for n in range(size)]
        results = rig.connector.push_stock(stock_updates(chosen, run.pushes + 1))
        position += size
        run.pushes += 1
        run.items_pushed += len(results)
        run.items_ok += sum(r.ok for r in results)
        failures += _failures(results)
        run.items_rate_limited += sum(
            isinstance(r.error, RateLimitError) for r in results
        )
    run.seconds = time.perf_counter() - started
    meter = rig.meter
    run.stock_requests, run.stock_rows = meter.stock_requests, meter.stock_rows
    run.throttled_requests = sum(meter.throttled.values())
    run.throttled_rows = meter.throttled_rows
    run.rows_in_throttled_requests = meter.rows_in_throttled_requests
    run.budget_waited, run.penalties = budget.waited, budget.penalties
    key = market.key
    run.retries_logged = (EVENTS.events - events_before)[(key, "http.retrying")]
    run.rows_throttled_logged = (EVENTS.rows - rows_before)[(key, "rows.throttled")]
    run.failures = dict(failures)
    rig.connector.close()
    rig.http.close()
    return run


def _rate_guarded(market: type[Market], items: int, seconds: float) -> RateRun:
    try:
        return bench_rate(market, items, seconds)
    except Exception as exc:  # noqa: BLE001 - reported in the table, not lost
        rate, burst = documented_rate(market.key)
        failed = RateRun(market, rate, burst, rate, burst)
        failed.error = f"{type(exc).__name__}: {exc}"
        return failed


def bench_rates(
    markets: Sequence[type[Market]], items: int, seconds: float, *, parallel: bool
) -> list[RateRun]:
    """Every marketplace's rate-limited run, in parallel threads or in turn."""
    if not parallel:
        return [_rate_guarded(m, items, seconds) for m in markets]
    found: dict[str, RateRun] = {}

    def work(market: type[Market]) -> None:
        found[market.key] = _rate_guarded(market, items, seconds)

    threads = [
        threading.Thread(target=work, args=(m,), name=f"rate-{m.key}") for m in markets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [found[m.key] for m in markets]


# ------------------------------------------------------------------ report


def _figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _three(values: Sequence[float]) -> str:
    return (
        f"{_figure(statistics.median(values))} | {_figure(min(values))} "
        f"| {_figure(max(values))}"
    )


def _throughput_table(result: Throughput) -> list[str]:
    market = result.market
    lines = [
        f"### {market.title}: {market.batch}",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    for label, samples in (("stock", result.stock), ("prices", result.prices)):
        measures: tuple[tuple[str, Callable[[Sample], float]], ...] = (
            ("updates (items)/s", lambda s: s.items_per_second),
            ("HTTP requests/s", lambda s: s.requests_per_second),
            ("CPU µs/request", lambda s: s.cpu_us_per_request),
            ("CPU µs/item", lambda s: s.cpu_us_per_item),
            ("of which in simulator, µs/request", lambda s: s.handler_us_per_request),
        )
        calls = (
            round(samples[0].requests * result.items / samples[0].items)
            if samples
            else 0
        )
        for name, measure in measures:
            lines.append(
                f"| {label}: {name} | {_three([measure(s) for s in samples])} |"
            )
        lines.append(
            f"| {label}: requests per push of {result.items:,} items | {calls:,} | | |"
        )
    lines.append("")
    return lines


def _rate_table(runs: Sequence[RateRun]) -> list[str]:
    lines = [
        "| marketplace | metered per | allowed (simulator) | connector budget "
        "| seconds | accepted | achieved /s | ratio | ratio without the initial "
        "burst | throttles received (simulator side) | connector side |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        market = run.market
        if run.error:
            lines.append(
                f"| {market.title} | {market.metered} | {run.allowed_rate:g}/s "
                f"| | | | | | | failed: {run.error} | |"
            )
            continue
        unit = "rows" if market.metered == "row" else "requests"
        throttled = f"{run.throttled_requests} requests answered 429"
        if market.metered == "row":
            throttled += (
                f", {run.throttled_rows} rows {market.row_throttle} "
                f"(of {run.stock_rows:,} rows in {run.stock_requests:,} requests)"
            )
        connector = (
            f"budget waited {run.budget_waited:.1f} s; {run.penalties} penalties; "
            f"{run.retries_logged} retries logged"
        )
        if market.metered == "row":
            connector += f"; {run.rows_throttled_logged} rows re-sent"
        connector += (
            f"; {run.items_ok:,}/{run.items_pushed:,} items ok, "
            f"{run.items_rate_limited} RateLimitError"
        )
        if run.failures:
            connector += f" (failures {run.failures})"
        lines.append(
            f"| {market.title} | {market.metered} | {run.allowed_rate:g}/s, burst "
            f"{run.allowed_burst} | {run.budget_rate:g}/s, burst {run.budget_burst} "
            f"| {run.seconds:.1f} | {run.accepted:,} {unit} | {run.achieved:.2f} "
            f"| {run.ratio:.3f} | {run.sustained_ratio:.3f} | {throttled} "
            f"| {connector} |"
        )
    return lines


def _goal_table(runs: Sequence[RateRun]) -> list[str]:
    lines = [
        f"| marketplace | ratio ≥ {GOAL_RATIO} (without the initial burst) "
        "| zero throttles received |",
        "|---|---|---|",
    ]
    for run in runs:
        ratio = "met" if run.met_ratio else "**not met**"
        throttles = "met" if run.met_throttles else "**not met**"
        if run.error:
            lines.append(f"| {run.market.title} | not measured | not measured |")
            continue
        lines.append(
            f"| {run.market.title} | {run.sustained_ratio:.3f}: {ratio} "
            f"| {run.throttles}: {throttles} |"
        )
    return lines


def render_section(
    throughputs: Sequence[Throughput],
    rates: Sequence[RateRun],
    *,
    command: str,
    runs: int,
    items: int,
    seconds: float,
    parallel: bool,
) -> str:
    """This benchmark's section of BENCHMARKS.md, markers included."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine({"httpx": httpx.__version__})
    budgets = ", ".join(
        f"{k} {rate:g}/s burst {burst}"
        for k, (rate, burst) in ((k, documented_rate(k)) for k in MARKETS)
    )
    mode = (
        "in parallel, one thread each"
        if parallel
        else "one after another (`--sequential`)"
    )
    lines = [
        START,
        "## Connectors against the simulators (`bench/connectors.py`)",
        "",
        f"`{command}`, run {now}.",
        "",
        "Each connector is built as the contract harnesses build it, but on the real "
        "clock: the simulator on a running `SimClock()` (seed "
        f"{SEED}, faults off), the connector's `RateBudget` on `time.monotonic` with "
        "real sleeps, an in-memory token store, the shop authorised through the "
        "simulator's no-browser consent, and logging configured as in production "
        "(`configure_logging`, INFO, JSON lines, written to `/dev/null`). Requests "
        "go through `httpx.Client(transport=httpx.MockTransport(...))` to the "
        "simulator's handler in process.",
        "",
        f"**Throughput** (simulator `rate_limits=False`, the connector's budget "
        f"disabled): {items:,} listings are created through "
        "`apply_listing_changes`, then `push_stock` and `push_prices` are timed "
        "over the whole catalogue, again and again with new values until at least "
        f"{MIN_RUN_SECONDS:g} s of pushing was timed per run (building the updates "
        "is not timed), through the full client stack (validation, mapping, "
        "batching, signing or bearer token, `connectors._http.send`, answer "
        "parsing, per-item results). Requests are the simulator's own count for "
        "the endpoint; CPU is `time.process_time` of the whole process, so it "
        "includes the simulator, whose share (wall time inside `sim.handler`) is "
        f"shown apart. After one untimed warm-up push, median, min and max of "
        f"{runs} run(s); every item succeeded and, after each stock run, the "
        "simulator showed every pushed stock.",
        "",
        f"**Rate-limited** (simulator rate limits on, as documented; connector budget "
        f"as production wiring sets it, the descriptors' documented rates: "
        f"{budgets}): the catalogue is created with the limits off on both sides, so "
        "both sides start with full buckets; then `push_stock` is called in a loop "
        f"for {seconds:g} s with twice the burst in items per call (Tokopedia: "
        "one bulk call per grant, each row one token), marketplaces run "
        f"{mode}. *Accepted* counts the stock requests (Tokopedia: rows) the "
        "simulator let through, over the run's wall seconds; the ratio divides that "
        "rate by the allowed rate, and again after taking the initial full bucket "
        "(burst) out, which is the sustained rate the goal is judged on. Throttles "
        "are counted from the simulator's answers (HTTP 429, Shopee "
        "`error_rate_limit`, Bukalapak 429, Tokopedia 429 and "
        "`ERR_TOO_MANY_REQUEST` rows); the connector's view is its budget's waiting "
        "and penalties, the `http.retrying` events it logged and the per-item "
        "results.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for result in throughputs:
        lines += _throughput_table(result)
    lines += [
        f"### Rate-limited run, {seconds:g} s per marketplace",
        "",
        *_rate_table(rates),
        "",
        f"### Goal: {GOAL_TEXT}",
        "",
        *_goal_table(rates),
        END,
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def _seconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return number


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.connectors",
        description="Benchmark the connectors against the simulators and write "
        "BENCHMARKS.md.",
    )
    parser.add_argument(
        "--runs", type=positive, default=3, help="timed pushes per figure (default 3)"
    )
    parser.add_argument(
        "--items",
        type=positive,
        default=500,
        help="listings created and pushed per marketplace (default 500)",
    )
    parser.add_argument(
        "--seconds",
        type=_seconds,
        default=60.0,
        help="length of each rate-limited run (default 60)",
    )
    parser.add_argument(
        "--marketplace",
        nargs="+",
        choices=sorted(MARKETS),
        default=list(MARKETS),
        metavar="NAME",
        help=f"marketplaces to measure (default all: {', '.join(MARKETS)})",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="run the rate-limited runs one after another instead of in parallel",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS,
        help="the file to write the figures to (default BENCHMARKS.md)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    command = shlex.join(["python", "-m", "bench.connectors", *arguments])
    markets = [MARKETS[name] for name in MARKETS if name in options.marketplace]
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives to exit
    configure_logging("INFO", "json", stream=sink)
    logging.root.addHandler(EVENTS)
    throughputs: list[Throughput] = []
    for market in markets:
        print(
            f"{market.title}: throughput, {options.items:,} items, "
            f"{options.runs} run(s)…",
            flush=True,
        )
        try:
            result = bench_throughput(market, options.items, options.runs)
        except BenchError as exc:
            print(f"error: {market.key}: {exc}", file=sys.stderr)
            return 1
        throughputs.append(result)
        stock = statistics.median(s.items_per_second for s in result.stock)
        prices = statistics.median(s.items_per_second for s in result.prices)
        print(f"  stock {stock:,.0f} items/s, prices {prices:,.0f} items/s", flush=True)
    parallel = not options.sequential
    print(
        f"rate-limited runs, {options.seconds:g} s each, "
        f"{'in parallel' if parallel else 'one after another'}…",
        flush=True,
    )
    rates = bench_rates(markets, options.items, options.seconds, parallel=parallel)
    for run in rates:
        if run.error:
            print(f"error: {run.market.key}: {run.error}", file=sys.stderr)
            continue
        print(
            f"  {run.market.title}: {run.achieved:.2f}/s of {run.allowed_rate:g}/s "
            f"(ratio {run.ratio:.3f}, sustained {run.sustained_ratio:.3f}), "
            f"{run.throttles} throttle(s)",
            flush=True,
        )
    section = render_section(
        throughputs,
        rates,
        command=command,
        runs=options.runs,
        items=options.items,
        seconds=options.seconds,
        parallel=parallel,
    )
    write_section(options.output, NAME, section)
    print()
    print(section)
    print(f"written to {options.output}")
    return 1 if any(run.error for run in rates) else 0


if __name__ == "__main__":
    sys.exit(main())
