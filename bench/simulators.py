"""Benchmark: throughput and memory of the three marketplace simulators.

For each simulator (Shopee, Tokopedia, Bukalapak), with faults off and rate limits off
(``rate_limits=False``), on a frozen simulated clock:

* in process: requests per second through ``httpx.Client(transport=
  httpx.MockTransport(sim.handler))`` for each kind of authenticated request a sync
  engine sends (stock and price updates at the marketplace's batch size, listing reads
  by id and by SKU, listing pages, order list pages, order details) and for a weighted
  mix of them, on a simulator holding 1,000 listings and 1,000 orders; CPU time
  (``time.process_time``) and the time spent inside ``sim.handler`` per request;
* over HTTP: the same mix through ``SimulatorServer`` on 127.0.0.1 with one keep-alive
  ``httpx.Client`` in one thread;
* at scale, in a child process of its own (so the figures are that simulator's alone):
  seeding 100,000 listings and 100,000 orders with the simulator's own in-process
  helpers, the peak RSS of that process, and requests per second of each kind and of
  the mix against the big simulator.

Throughput figures are the median of ``--runs`` runs; each measurement stops after
``--requests`` requests or ``--seconds`` seconds, whichever comes first. The figures
replace this benchmark's section of BENCHMARKS.md.

    python -m bench.simulators                                  # everything, 3 runs
    python -m bench.simulators --runs 1 --requests 300 --scale 5000 --no-http  # smoke
    python -m bench.simulators --marketplace shopee tokopedia
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from bench._report import BENCHMARKS, ROOT, machine, markers, positive, write_section
from simulators.bukalapak.simulator import BukalapakSimulator
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.kit.server import SimulatorServer
from simulators.shopee.simulator import ShopeeSimulator
from simulators.tokopedia.simulator import TokopediaSimulator

NAME = "simulators"
START, END = markers(NAME)
SEED = 7
#: The simulated clock is frozen here (and moved by hand while orders are seeded).
CLOCK_START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)

#: The goal from the issue: in-process requests per second, faults off.
GOAL_REQUESTS_PER_SECOND = 3_000
GOAL_TEXT = (
    "≥ 3,000 requests/s in-process (faults off), so the simulators are never what "
    "limits a sync benchmark"
)

#: Request kinds, in table order: (key, label, weight in the mix).
KINDS: tuple[tuple[str, str, int], ...] = (
    ("stock", "stock update", 4),
    ("price", "price update", 1),
    ("by_id", "listing read by id", 2),
    ("by_sku", "listing read by SKU", 1),
    ("listing_page", "listing page", 1),
    ("order_page", "order list page", 1),
    ("order_detail", "order detail", 2),
)
LABELS = {key: label for key, label, _ in KINDS}
WEIGHTS = {key: weight for key, _, weight in KINDS}

#: One query parameter, as ``httpx`` takes them.
QueryItem = tuple[str, str | int | float | bool | None]


class BenchError(Exception):
    """A measurement could not be taken (a request failed or answered wrongly)."""


def _no_sleep(_seconds: float) -> None:
    """Simulators never really wait during a benchmark."""


def _window(values: Sequence[Any], index: int, size: int) -> list[Any]:
    """``size`` consecutive values starting at block ``index``, wrapping around."""
    count = len(values)
    start = (index * size) % count
    return [values[(start + offset) % count] for offset in range(min(size, count))]


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, MB (``ru_maxrss`` is KiB).

    On Linux a new process's ``ru_maxrss`` starts from what it inherited at fork, so
    the parent starts the scale children before it builds any simulator itself.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident set size now, MB (``VmRSS``; the peak elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return peak_rss_mb()
    found = re.search(r"^VmRSS:\s*(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else peak_rss_mb()


# ------------------------------------------------------------------ request kinds


@dataclass
class Kind:
    """One kind of request: how to build the ``n``-th one and how to check an answer
    (the check runs before timing only; timed requests are checked for status 200)."""

    key: str
    detail: str
    make: Callable[[int], httpx.Request]
    check: Callable[[Any], str]
    count: int = 0

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def weight(self) -> int:
        return WEIGHTS[self.key]

    def next_request(self) -> httpx.Request:
        """The next request of this kind (targets rotate through the catalogue)."""
        request = self.make(self.count)
        self.count += 1
        return request


def mix_sequence(kinds: Sequence[Kind]) -> list[Kind]:
    """One cycle of the mix: every kind ``weight`` times, evenly interleaved."""
    slots = [
        ((index + 0.5) / kind.weight, order, kind)
        for order, kind in enumerate(kinds)
        for index in range(kind.weight)
    ]
    return [kind for _, _, kind in sorted(slots, key=lambda slot: slot[:2])]


class HandlerTimer:
    """Wraps ``sim.handler`` to add up the time spent inside the simulator."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self._handler = handler
        self.seconds = 0.0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return self._handler(request)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class Sample:
    """One timed measurement."""

    requests: int
    seconds: float
    cpu_seconds: float
    handler_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds / self.requests * 1e6

    @property
    def handler_us(self) -> float:
        return self.handler_seconds / self.requests * 1e6


def validate(http: httpx.Client, kinds: Sequence[Kind], per_kind: int = 2) -> None:
    """Send a few requests of every kind and check their answers in full.

    Raises:
        BenchError: an answer was an error, or not what the kind expects.
    """
    for kind in kinds:
        for _ in range(per_kind):
            response = http.send(kind.next_request())
            problem = (
                f"HTTP {response.status_code}"
                if response.status_code != 200
                else kind.check(response.json())
            )
            if problem:
                raise BenchError(
                    f"{kind.label} ({kind.detail}): {problem}: {response.text[:400]}"
                )


def drive(
    http: httpx.Client,
    sequence: Sequence[Kind],
    *,
    requests: int,
    seconds: float,
    timer: HandlerTimer | None = None,
) -> Sample:
    """Send ``sequence`` round and round until ``requests`` were sent or ``seconds``
    passed (checked at the end of each round, so the mix keeps its proportions).

    Raises:
        BenchError: an answer was not HTTP 200.
    """
    rounds = max(1, math.ceil(requests / len(sequence)))
    handler_before = timer.seconds if timer else 0.0
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    done = 0
    for _ in range(rounds):
        for kind in sequence:
            response = http.send(kind.next_request())
            if response.status_code != 200:
                raise BenchError(
                    f"{kind.label} ({kind.detail}): HTTP {response.status_code}: "
                    f"{response.text[:400]}"
                )
        done += len(sequence)
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    handler = (timer.seconds - handler_before) if timer else 0.0
    return Sample(done, elapsed, cpu, handler)


# ------------------------------------------------------------------ drivers


class Driver(ABC):
    """Builds one simulator, seeds it, authenticates and makes its request kinds."""

    name: ClassVar[str]
    title: ClassVar[str]
    base_url: ClassVar[str]

    def __init__(self) -> None:
        self.clock = SimClock(CLOCK_START, frozen=True)
        self.sim = self.build()

    @abstractmethod
    def build(self) -> Simulator:
        """The simulator: faults off, rate limits off, no real sleeping."""

    @abstractmethod
    def seed_listings(self, count: int) -> None:
        """Put ``count`` listings on the shelf with the simulator's own helpers."""

    @abstractmethod
    def seed_orders(self, count: int) -> None:
        """Place ``count`` orders (about 90 % paid) with the simulator's helpers."""

    @abstractmethod
    def login(self, http: httpx.Client) -> None:
        """Obtain the tokens a sync engine would hold, through ``http``."""

    def prepare(self, http: httpx.Client) -> None:  # noqa: B027 - optional hook
        """Anything the request kinds need that only the API tells (untimed)."""

    @abstractmethod
    def kinds(self, http: httpx.Client) -> list[Kind]:
        """The request kinds, built on ``http``, in :data:`KINDS` order."""

    def seed(self, listings: int, orders: int) -> tuple[float, float]:
        """Seed listings, then orders; the seconds each took."""
        started = time.perf_counter()
        self.seed_listings(listings)
        middle = time.perf_counter()
        self.seed_orders(orders)
        return middle - started, time.perf_counter() - middle


def _ok_envelope(body: Any) -> str:
    """Shopee: a success has an empty ``error``."""
    return "" if body.get("error") == "" else f"error {body.get('error')!r}"


class ShopeeDriver(Driver):
    """Shopee Open Platform v2: HMAC-signed shop calls, one item per stock update."""

    name = "shopee"
    title = "Shopee"
    base_url = "https://partner.shopeemobile.com"

    def build(self) -> Simulator:
        self.shopee = ShopeeSimulator(
            clock=self.clock, seed=SEED, sleep=_no_sleep, rate_limits=False
        )
        credentials = self.shopee.credentials()
        self.partner_id = int(credentials["partner_id"])
        self.partner_key = credentials["partner_key"]
        self.shop_id = int(credentials["shop_id"])
        self.access_token = ""
        self.items: list[int] = []
        self.skus: list[str] = []
        self.orders: list[str] = []
        self.order_window = (0, 0)
        self.order_pages: list[str] = []
        return self.shopee

    def seed_listings(self, count: int) -> None:
        for n in range(count):
            sku = f"IKM-{n:06d}"
            self.items.append(
                self.shopee.seed_listing(
                    sku,
                    f"Produk IKM nomor {n}",
                    10_000 + (n % 200) * 500,
                    1_000,
                    shop_id=self.shop_id,
                )
            )
            self.skus.append(sku)

    def seed_orders(self, count: int) -> None:
        start = self.clock.timestamp()
        for n in range(count):
            order = self.shopee.create_order(
                self.items[n % len(self.items)], 0, 1 + n % 3, f"buyer-{n % 997}"
            )
            if order is None:
                raise BenchError("Shopee refused a seeded order")
            if n % 10 != 9:
                self.shopee.buyer_event(order.order_sn, BuyerEvent.PAY)
            self.orders.append(order.order_sn)
            if n % 50 == 49:
                self.clock.advance(seconds=300)  # 100,000 orders over about 7 days
        self.order_window = (start, max(self.clock.timestamp(), start + 1))

    def _sign(self, base: str) -> str:
        return hmac.new(
            self.partner_key.encode(), base.encode(), hashlib.sha256
        ).hexdigest()

    def login(self, http: httpx.Client) -> None:
        answer = http.get("/_sim/auth_code", params={"shop_id": self.shop_id})
        code = answer.json()["code"]
        path = "/api/v2/auth/token/get"
        timestamp = self.clock.timestamp()
        signature = self._sign(f"{self.partner_id}{path}{timestamp}")
        answer = http.post(
            path,
            params={
                "partner_id": self.partner_id,
                "timestamp": timestamp,
                "sign": signature,
            },
            json={"code": code, "partner_id": self.partner_id, "shop_id": self.shop_id},
        )
        body = answer.json()
        if body.get("error"):
            raise BenchError(f"Shopee token: {body}")
        self.access_token = str(body["access_token"])

    def _request(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        params: Sequence[QueryItem] = (),
        body: Any = None,
    ) -> httpx.Request:
        """A shop-level call signed as §2.1 says."""
        timestamp = self.clock.timestamp()
        signature = self._sign(
            f"{self.partner_id}{path}{timestamp}{self.access_token}{self.shop_id}"
        )
        query: list[QueryItem] = [
            ("partner_id", self.partner_id),
            ("timestamp", timestamp),
            ("access_token", self.access_token),
            ("shop_id", self.shop_id),
            ("sign", signature),
            *params,
        ]
        return http.build_request(method, path, params=query, json=body)

    def prepare(self, http: httpx.Client) -> None:
        """Walk the order list once to learn its opaque cursors."""
        cursor, self.order_pages = "", []
        while True:
            self.order_pages.append(cursor)
            answer = http.send(self._order_page(http, cursor)).json()
            if answer.get("error") or not answer["response"]["more"]:
                break
            cursor = answer["response"]["next_cursor"]

    def _order_page(self, http: httpx.Client, cursor: str) -> httpx.Request:
        time_from, time_to = self.order_window
        return self._request(
            http,
            "GET",
            "/api/v2/order/get_order_list",
            [
                ("time_range_field", "create_time"),
                ("time_from", time_from),
                ("time_to", time_to),
                ("page_size", 100),
                ("cursor", cursor),
                ("response_optional_fields", "order_status"),
            ],
        )

    def kinds(self, http: httpx.Client) -> list[Kind]:
        items, skus, orders = self.items, self.skus, self.orders
        list_pages = max(1, min(len(items), 10_000) // 100)
        detail_fields = "buyer_username,item_list,pay_time,total_amount"

        def stock(n: int) -> httpx.Request:
            body = {
                "item_id": items[n % len(items)],
                "stock_list": [
                    {"model_id": 0, "seller_stock": [{"stock": 100 + n % 500}]}
                ],
            }
            return self._request(http, "POST", "/api/v2/product/update_stock", (), body)

        def price(n: int) -> httpx.Request:
            body = {
                "item_id": items[n % len(items)],
                "price_list": [
                    {"model_id": 0, "original_price": 10_000 + (n % 300) * 500}
                ],
            }
            return self._request(http, "POST", "/api/v2/product/update_price", (), body)

        def by_id(n: int) -> httpx.Request:
            ids = ",".join(str(i) for i in _window(items, n, 50))
            return self._request(
                http,
                "GET",
                "/api/v2/product/get_item_base_info",
                [("item_id_list", ids)],
            )

        def by_sku(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                "/api/v2/product/search_item",
                [("item_sku", skus[n % len(skus)])],
            )

        def listing_page(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                "/api/v2/product/get_item_list",
                [
                    ("item_status", "NORMAL"),
                    ("offset", (n % list_pages) * 100),
                    ("page_size", 100),
                ],
            )

        def order_page(n: int) -> httpx.Request:
            return self._order_page(http, self.order_pages[n % len(self.order_pages)])

        def order_detail(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                "/api/v2/order/get_order_detail",
                [
                    ("order_sn_list", ",".join(_window(orders, n, 50))),
                    ("response_optional_fields", detail_fields),
                ],
            )

        def updated(body: Any) -> str:
            problem = _ok_envelope(body)
            failures = body.get("response", {}).get("failure_list")
            return problem or (f"failure_list {failures}" if failures else "")

        def count_of(key: str, wanted: int) -> Callable[[Any], str]:
            def check(body: Any) -> str:
                problem = _ok_envelope(body)
                if problem:
                    return problem
                got = len(body["response"][key])
                return "" if got == wanted else f"{got} {key}, expected {wanted}"

            return check

        base = "/api/v2/"
        return [
            Kind("stock", f"POST {base}product/update_stock, 1 item", stock, updated),
            Kind("price", f"POST {base}product/update_price, 1 item", price, updated),
            Kind(
                "by_id",
                f"GET {base}product/get_item_base_info, 50 ids",
                by_id,
                count_of("item_list", min(50, len(items))),
            ),
            Kind(
                "by_sku",
                f"GET {base}product/search_item?item_sku=",
                by_sku,
                count_of("item_id_list", 1),
            ),
            Kind(
                "listing_page",
                f"GET {base}product/get_item_list, 100 rows",
                listing_page,
                count_of("item", min(100, len(items))),
            ),
            Kind(
                "order_page",
                f"GET {base}order/get_order_list, 100 rows, cursor",
                order_page,
                _ok_envelope,
            ),
            Kind(
                "order_detail",
                f"GET {base}order/get_order_detail, 50 orders with item_list",
                order_detail,
                count_of("order_list", min(50, len(orders))),
            ),
        ]


class TokopediaDriver(Driver):
    """Tokopedia (legacy ``fs``): bearer token, stock and price batches of 100 rows."""

    name = "tokopedia"
    title = "Tokopedia"
    base_url = "https://fs.tokopedia.net"

    def build(self) -> Simulator:
        self.tokopedia = TokopediaSimulator(
            clock=self.clock, seed=SEED, sleep=_no_sleep, rate_limits=False
        )
        credentials = self.tokopedia.credentials()
        self.fs_id = credentials["fs_id"]
        self.shop_id = int(credentials["shop_id"])
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.token = ""
        self.products: list[int] = []
        self.skus: list[str] = []
        self.listed: list[tuple[int, int]] = []  # (create time, order id), sorted
        self.order_pages: list[tuple[int, int, int]] = []  # from, to, page
        return self.tokopedia

    def seed_listings(self, count: int) -> None:
        for n in range(count):
            sku = f"IKM-{n:06d}"
            product = self.tokopedia.seed_product(
                self.shop_id,
                sku=sku,
                name=f"Produk IKM nomor {n}",
                price=10_000 + (n % 200) * 500,
                stock=1_000,
            )
            self.products.append(product.product_id)
            self.skus.append(sku)

    def seed_orders(self, count: int) -> None:
        for n in range(count):
            order = self.tokopedia.place_order(
                str(self.products[n % len(self.products)]), 1 + n % 3, f"buyer-{n}"
            )
            if order is None:
                raise BenchError("Tokopedia refused a seeded order")
            if n % 10 != 9:  # paid: it reaches 220 and is listed for the partner
                self.tokopedia.buyer_event(order, BuyerEvent.PAY)
                self.listed.append((self.clock.timestamp(), int(order)))
            if n % 50 == 49:
                self.clock.advance(seconds=300)
        self._plan_order_pages()

    def _plan_order_pages(self) -> None:
        """Pages of one-day windows (the API allows less than 3 days) over every
        listed order."""
        if not self.listed:
            return
        times = [at for at, _ in self.listed]
        day = 86_400
        at = times[0]
        while at <= times[-1]:
            inside = bisect_right(times, at + day - 1) - bisect_left(times, at)
            for page in range(1, math.ceil(inside / 100) + 1):
                self.order_pages.append((at, at + day - 1, page))
            at += day

    def login(self, http: httpx.Client) -> None:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        answer = http.post(
            "https://accounts.tokopedia.com/token",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {base64.b64encode(pair).decode()}"},
        )
        if answer.status_code != 200:
            raise BenchError(f"Tokopedia token: {answer.text}")
        self.token = str(answer.json()["access_token"])

    def _request(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        params: Sequence[QueryItem] = (),
        body: Any = None,
    ) -> httpx.Request:
        return http.build_request(
            method,
            path,
            params=list(params),
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def kinds(self, http: httpx.Client) -> list[Kind]:
        fs, shop = self.fs_id, self.shop_id
        products, skus = self.products, self.skus
        listed = [order_id for _, order_id in self.listed]
        list_pages = max(1, math.ceil(len(products) / 100))

        def stock(n: int) -> httpx.Request:
            rows = [
                {"product_id": product_id, "new_stock": 100 + (n + j) % 500}
                for j, product_id in enumerate(_window(products, n, 100))
            ]
            return self._request(
                http,
                "POST",
                f"/inventory/v1/fs/{fs}/stock/update",
                [("shop_id", shop)],
                rows,
            )

        def price(n: int) -> httpx.Request:
            rows = [
                {"product_id": product_id, "new_price": 10_000 + ((n + j) % 300) * 500}
                for j, product_id in enumerate(_window(products, n, 100))
            ]
            return self._request(
                http,
                "POST",
                f"/inventory/v1/fs/{fs}/price/update",
                [("shop_id", shop)],
                rows,
            )

        def by_id(n: int) -> httpx.Request:
            ids = ",".join(str(i) for i in _window(products, n, 50))
            return self._request(
                http,
                "GET",
                f"/inventory/v1/fs/{fs}/product/info",
                [("product_id", ids)],
            )

        def by_sku(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                f"/inventory/v1/fs/{fs}/product/info",
                [("sku", skus[n % len(skus)]), ("shop_id", shop)],
            )

        def listing_page(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                f"/inventory/v1/fs/{fs}/product/info",
                [("shop_id", shop), ("page", 1 + n % list_pages), ("per_page", 100)],
            )

        def order_page(n: int) -> httpx.Request:
            time_from, time_to, page = self.order_pages[n % len(self.order_pages)]
            return self._request(
                http,
                "GET",
                "/v2/order/list",
                [
                    ("fs_id", fs),
                    ("shop_id", shop),
                    ("from_date", time_from),
                    ("to_date", time_to),
                    ("page", page),
                    ("per_page", 100),
                ],
            )

        def order_detail(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                f"/v2/fs/{fs}/order",
                [("order_id", listed[n % len(listed)])],
            )

        def updated(body: Any) -> str:
            failed = body["data"]["failed_rows"]
            return f"{failed} failed rows" if failed else ""

        def rows(wanted: int) -> Callable[[Any], str]:
            def check(body: Any) -> str:
                got = len(body["data"])
                return "" if got == wanted else f"{got} rows, expected {wanted}"

            return check

        def some_rows(body: Any) -> str:
            return "" if body["data"] else "no rows"

        base = "/inventory/v1/fs/{fs_id}"
        return [
            Kind("stock", f"POST {base}/stock/update, 100 rows", stock, updated),
            Kind("price", f"POST {base}/price/update, 100 rows", price, updated),
            Kind(
                "by_id",
                f"GET {base}/product/info?product_id=, 50 ids",
                by_id,
                rows(min(50, len(products))),
            ),
            Kind("by_sku", f"GET {base}/product/info?sku=", by_sku, rows(1)),
            Kind(
                "listing_page",
                f"GET {base}/product/info?shop_id=&page=, 100 rows",
                listing_page,
                some_rows,
            ),
            Kind(
                "order_page",
                "GET /v2/order/list, 100 rows, 1-day window",
                order_page,
                some_rows,
            ),
            Kind(
                "order_detail",
                "GET /v2/fs/{fs_id}/order?order_id=",
                order_detail,
                some_rows,
            ),
        ]


class BukalapakDriver(Driver):
    """Bukalapak API v4: OAuth2 bearer token, one SKU per stock or price change."""

    name = "bukalapak"
    title = "Bukalapak"
    base_url = "https://api.bukalapak.com"

    def build(self) -> Simulator:
        self.bukalapak = BukalapakSimulator(
            clock=self.clock, seed=SEED, sleep=_no_sleep, rate_limits=False
        )
        self.credentials = self.bukalapak.credentials()
        self.token = ""
        self.listings: list[tuple[str, int, str]] = []  # product id, SKU id, sku_name
        self.transactions: list[int] = []
        self.order_window = ("", "")
        return self.bukalapak

    def seed_listings(self, count: int) -> None:
        catalogue = self.bukalapak.catalogue
        for n in range(count):
            sku_name = f"IKM-{n:06d}"
            product_id = self.bukalapak.add_product(
                name=f"Produk IKM nomor {n}",
                sku_name=sku_name,
                price=10_000 + (n % 200) * 500,
                stock=1_000,
            )
            sku_id = catalogue.products[product_id].sku_ids[0]
            self.listings.append((product_id, sku_id, sku_name))

    def seed_orders(self, count: int) -> None:
        """Orders created over the 20 hours before now (the clock stays put), so
        none lapses (unpaid after 24 h, unaccepted after 48 h) while measuring."""
        now = self.clock.now()
        first = now - timedelta(hours=20)
        step = timedelta(hours=20) / max(count, 1)
        for n in range(count):
            _, sku_id, _ = self.listings[n % len(self.listings)]
            self.transactions.append(
                self.bukalapak.create_transaction(
                    sku_id,
                    1 + n % 3,
                    buyer=f"buyer-{n % 997:04d}",
                    created_at=first + step * n,
                    paid=n % 10 != 9,
                )
            )
        self.order_window = (first.isoformat(), (now + timedelta(hours=1)).isoformat())

    def login(self, http: httpx.Client) -> None:
        creds = self.credentials
        answer = http.get(
            "https://accounts.bukalapak.com/oauth/authorize",
            params={
                "client_id": creds["client_id"],
                "redirect_uri": creds["redirect_uri"],
                "scope": "public user store",
                "response_type": "code",
            },
        )
        if answer.status_code != 302:
            raise BenchError(f"Bukalapak authorize: {answer.text}")
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        answer = http.post(
            "https://accounts.bukalapak.com/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "code": code,
                "redirect_uri": creds["redirect_uri"],
            },
        )
        if answer.status_code != 200:
            raise BenchError(f"Bukalapak token: {answer.text}")
        self.token = str(answer.json()["access_token"])

    def _request(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        params: Sequence[QueryItem] = (),
        body: Any = None,
    ) -> httpx.Request:
        return http.build_request(
            method,
            path,
            params=list(params),
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def kinds(self, http: httpx.Client) -> list[Kind]:
        listings, transactions = self.listings, self.transactions
        start, end = self.order_window
        list_pages = max(1, math.ceil(len(listings) / 50))
        order_pages = max(1, math.ceil(len(transactions) / 50))

        def stock(n: int) -> httpx.Request:
            product_id, sku_id, _ = listings[n % len(listings)]
            return self._request(
                http,
                "PATCH",
                f"/products/{product_id}/skus/{sku_id}",
                body={"stock": 100 + n % 500, "state": "active"},
            )

        def price(n: int) -> httpx.Request:
            product_id, sku_id, _ = listings[n % len(listings)]
            return self._request(
                http,
                "PATCH",
                f"/products/{product_id}/skus/{sku_id}",
                body={"price": 10_000 + (n % 300) * 500},
            )

        def by_id(n: int) -> httpx.Request:
            product_id, _, _ = listings[n % len(listings)]
            return self._request(http, "GET", f"/products/{product_id}")

        def by_sku(n: int) -> httpx.Request:
            _, _, sku_name = listings[n % len(listings)]
            return self._request(
                http,
                "GET",
                "/stores/me/products",
                [("keywords", sku_name), ("offset", 0), ("limit", 10)],
            )

        def listing_page(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                "/stores/me/products",
                [("offset", (n % list_pages) * 50), ("limit", 50)],
            )

        def order_page(n: int) -> httpx.Request:
            return self._request(
                http,
                "GET",
                "/transactions",
                [
                    ("context", "sale"),
                    ("start_time", start),
                    ("end_time", end),
                    ("offset", (n % order_pages) * 50),
                    ("limit", 50),
                ],
            )

        def order_detail(n: int) -> httpx.Request:
            return self._request(
                http, "GET", f"/transactions/{transactions[n % len(transactions)]}"
            )

        def fine(body: Any) -> str:
            if body.get("errors"):
                return f"errors {body['errors']}"
            return "" if body.get("data") else "no data"

        def one_product(body: Any) -> str:
            problem = fine(body)
            total = body["meta"].get("total") if not problem else None
            return problem or ("" if total == 1 else f"{total} products, expected 1")

        path = "/products/{product_id}/skus/{sku_id}"
        return [
            Kind("stock", f"PATCH {path} {{stock, state}}", stock, fine),
            Kind("price", f"PATCH {path} {{price}}", price, fine),
            Kind("by_id", "GET /products/{product_id}", by_id, fine),
            Kind("by_sku", "GET /stores/me/products?keywords=SKU", by_sku, one_product),
            Kind(
                "listing_page", "GET /stores/me/products, 50 rows", listing_page, fine
            ),
            Kind(
                "order_page",
                "GET /transactions?context=sale, 50 rows",
                order_page,
                fine,
            ),
            Kind("order_detail", "GET /transactions/{id}", order_detail, fine),
        ]


DRIVERS: dict[str, type[Driver]] = {
    driver.name: driver for driver in (ShopeeDriver, TokopediaDriver, BukalapakDriver)
}


# ------------------------------------------------------------------ measurement


@dataclass
class Budget:
    """How long each measurement may run."""

    runs: int
    requests: int
    seconds: float


@dataclass
class KindResult:
    """One request kind: what it sends and its timed samples."""

    key: str
    detail: str
    samples: list[Sample] = field(default_factory=list)
    scale: Sample | None = None


@dataclass
class ScaleResult:
    """The simulator at scale, measured in a process of its own."""

    listings: int
    orders: int
    seed_listings_seconds: float
    seed_orders_seconds: float
    rss_before_mb: float
    rss_seeded_mb: float
    rss_peak_mb: float
    mix: list[Sample] = field(default_factory=list)
    kinds: dict[str, Sample] = field(default_factory=dict)


@dataclass
class MarketResult:
    """Every figure of one simulator."""

    name: str
    title: str
    kinds: list[KindResult] = field(default_factory=list)
    mix: list[Sample] = field(default_factory=list)
    http: list[Sample] = field(default_factory=list)
    scale: ScaleResult | None = None
    scale_error: str = ""


def _mock_client(driver: Driver) -> tuple[httpx.Client, HandlerTimer]:
    timer = HandlerTimer(driver.sim.handler)
    client = httpx.Client(
        transport=httpx.MockTransport(timer), base_url=driver.base_url
    )
    return client, timer


def bench_in_process(
    name: str, budget: Budget, catalogue: int, *, http_too: bool
) -> MarketResult:
    """Per-kind and mix throughput in process, then the mix over loopback HTTP."""
    driver = DRIVERS[name]()
    result = MarketResult(name, driver.title)
    driver.seed(catalogue, catalogue)
    client, timer = _mock_client(driver)
    with client:
        driver.login(client)
        driver.prepare(client)
        kinds = driver.kinds(client)
        validate(client, kinds)
        drive(client, mix_sequence(kinds), requests=240, seconds=1.0)  # warm-up
        result.kinds = [KindResult(kind.key, kind.detail) for kind in kinds]
        for run in range(1, budget.runs + 1):
            for kind, kind_result in zip(kinds, result.kinds, strict=True):
                sample = drive(
                    client,
                    [kind],
                    requests=budget.requests,
                    seconds=budget.seconds,
                    timer=timer,
                )
                kind_result.samples.append(sample)
            mix = drive(
                client,
                mix_sequence(kinds),
                requests=budget.requests,
                seconds=budget.seconds,
                timer=timer,
            )
            result.mix.append(mix)
            print(
                f"  {driver.title} run {run}/{budget.runs}: mix {mix.rate:,.0f} req/s "
                f"in process; "
                + ", ".join(f"{k.key} {k.samples[-1].rate:,.0f}" for k in result.kinds),
                flush=True,
            )
    if http_too:
        server = SimulatorServer(driver.sim, "127.0.0.1", 0)
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30.0) as http:
                kinds = driver.kinds(http)
                validate(http, kinds, per_kind=1)
                drive(http, mix_sequence(kinds), requests=120, seconds=1.0)  # warm-up
                for run in range(1, budget.runs + 1):
                    sample = drive(
                        http,
                        mix_sequence(kinds),
                        requests=budget.requests,
                        seconds=budget.seconds,
                    )
                    result.http.append(sample)
                    print(
                        f"  {driver.title} run {run}/{budget.runs}: mix "
                        f"{sample.rate:,.0f} req/s over HTTP",
                        flush=True,
                    )
        finally:
            server.stop()
    return result


def bench_scale_child(name: str, budget: Budget, size: int) -> ScaleResult:
    """In this (child) process: seed ``size`` listings and orders, then measure."""
    driver = DRIVERS[name]()
    before = current_rss_mb()
    listing_seconds, order_seconds = driver.seed(size, size)
    seeded = peak_rss_mb()
    result = ScaleResult(
        size, size, listing_seconds, order_seconds, before, seeded, seeded
    )
    client, timer = _mock_client(driver)
    with client:
        driver.login(client)
        driver.prepare(client)
        kinds = driver.kinds(client)
        validate(client, kinds)
        for kind in kinds:
            result.kinds[kind.key] = drive(
                client,
                [kind],
                requests=budget.requests,
                seconds=budget.seconds,
                timer=timer,
            )
        for _ in range(budget.runs):
            result.mix.append(
                drive(
                    client,
                    mix_sequence(kinds),
                    requests=budget.requests,
                    seconds=budget.seconds,
                    timer=timer,
                )
            )
    result.rss_peak_mb = peak_rss_mb()
    return result


def _sample(raw: dict[str, Any]) -> Sample:
    return Sample(**raw)


def bench_scale(name: str, budget: Budget, size: int) -> ScaleResult:
    """Run :func:`bench_scale_child` in a new process and read its figures.

    Raises:
        BenchError: the child failed.
    """
    command = [
        sys.executable,
        "-m",
        "bench.simulators",
        "--child",
        name,
        "--scale",
        str(size),
        "--runs",
        str(budget.runs),
        "--requests",
        str(budget.requests),
        "--seconds",
        str(budget.seconds),
    ]
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        tail = "\n".join((finished.stdout + finished.stderr).strip().splitlines()[-15:])
        raise BenchError(f"the {name} scale run exited {finished.returncode}:\n{tail}")
    raw = json.loads(finished.stdout.strip().splitlines()[-1])
    result = ScaleResult(
        **{k: v for k, v in raw.items() if k not in ("mix", "kinds")},
    )
    result.mix = [_sample(s) for s in raw["mix"]]
    result.kinds = {k: _sample(s) for k, s in raw["kinds"].items()}
    return result


# ------------------------------------------------------------------ report


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _median_rate(samples: Sequence[Sample]) -> float:
    return statistics.median(s.rate for s in samples)


def _row(
    label: str, detail: str, weight: str, samples: Sequence[Sample], scale: str
) -> str:
    rates = [s.rate for s in samples]
    cpu = statistics.median(s.cpu_us for s in samples)
    inside = statistics.median(s.handler_us for s in samples)
    return (
        f"| {label} | {detail} | {weight} | {_rate(statistics.median(rates))} "
        f"| {_rate(min(rates))} | {_rate(max(rates))} | {cpu:,.0f} | {inside:,.0f} "
        f"| {scale} |"
    )


def _market_table(result: MarketResult, catalogue: int) -> list[str]:
    scale = result.scale
    size = f"{scale.listings:,}" if scale else "100,000"
    lines = [
        f"### {result.title}",
        "",
        f"In process, {catalogue:,} listings and {catalogue:,} orders; last column: "
        f"the same request against {size} listings and orders (one run per kind, "
        f"median of the runs for the mix).",
        "",
        "| request kind | what is sent | weight in mix | req/s median | min | max "
        f"| CPU µs/req | in handler µs/req | req/s at {size} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in result.kinds:
        at_scale = "not measured"
        if scale and kind.key in scale.kinds:
            at_scale = _rate(scale.kinds[kind.key].rate)
        lines.append(
            _row(
                LABELS[kind.key],
                kind.detail,
                str(WEIGHTS[kind.key]),
                kind.samples,
                at_scale,
            )
        )
    mix_scale = _rate(_median_rate(scale.mix)) if scale and scale.mix else "—"
    lines.append(
        _row(
            "**mix**",
            "the kinds above, interleaved by weight",
            str(sum(WEIGHTS.values())),
            result.mix,
            mix_scale,
        )
    )
    if result.http:
        rates = [s.rate for s in result.http]
        cpu = statistics.median(s.cpu_us for s in result.http)
        lines.append(
            f"| **mix over HTTP** | `SimulatorServer` on 127.0.0.1, one keep-alive "
            f"client thread | {sum(WEIGHTS.values())} "
            f"| {_rate(statistics.median(rates))} | {_rate(min(rates))} "
            f"| {_rate(max(rates))} | {cpu:,.0f} (client and server) | | |"
        )
    else:
        lines.append("| **mix over HTTP** | not measured (`--no-http`) | | | | | | | |")
    lines.append("")
    return lines


def _memory_table(results: Sequence[MarketResult]) -> list[str]:
    lines = [
        "| simulator | listings | orders | seeding listings, s | seeding orders, s "
        "| RSS before seeding, MB | peak RSS after seeding, MB "
        "| peak RSS at the end, MB "
        "| mix req/s (median) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        scale = result.scale
        if scale is None:
            reason = result.scale_error or "not measured"
            lines.append(f"| {result.title} | {reason} | | | | | | | |")
            continue
        lines.append(
            f"| {result.title} | {scale.listings:,} | {scale.orders:,} "
            f"| {scale.seed_listings_seconds:.1f} | {scale.seed_orders_seconds:.1f} "
            f"| {scale.rss_before_mb:.0f} | {scale.rss_seeded_mb:.0f} "
            f"| {scale.rss_peak_mb:.0f} | {_rate(_median_rate(scale.mix))} |"
        )
    return lines


def _goals(results: Sequence[MarketResult]) -> list[str]:
    lines = [
        "| simulator | mix in process (median) | verdict | request kinds below "
        f"{GOAL_REQUESTS_PER_SECOND:,}/s in process | the simulator's share alone "
        "(1 / in-handler time of the mix) |",
        "|---|---:|---|---|---:|",
    ]
    for result in results:
        mix = _median_rate(result.mix)
        alone = 1e6 / statistics.median(s.handler_us for s in result.mix)
        slow = [
            f"{LABELS[k.key]} ({_rate(_median_rate(k.samples))}/s)"
            for k in result.kinds
            if _median_rate(k.samples) < GOAL_REQUESTS_PER_SECOND
        ]
        verdict = "met" if mix >= GOAL_REQUESTS_PER_SECOND else "**not met**"
        lines.append(
            f"| {result.title} | {_rate(mix)} req/s | {verdict} "
            f"| {', '.join(slow) or 'none'} | {_rate(alone)} req/s |"
        )
    return lines


def _http_note(results: Sequence[MarketResult]) -> list[str]:
    """A word on HTTP figures that show a fixed stall per request."""
    stalled = [r for r in results if r.http and _median_rate(r.http) < 200]
    if not stalled:
        return []
    figures = ", ".join(
        f"{r.title} {1e3 / _median_rate(r.http):.0f} ms" for r in stalled
    )
    return [
        f"Over HTTP the mix averages about {figures} per request: most requests "
        "stall for a TCP delayed-ACK timer (about 40 ms on Linux) rather than "
        "work. `SimulatorServer`'s request handler sends the headers and the body "
        "in two writes with Nagle's algorithm on, so the body waits for the "
        "client's delayed ACK of the headers.",
        "",
    ]


def render_section(
    results: Sequence[MarketResult],
    *,
    command: str,
    budget: Budget,
    catalogue: int,
    scale: int | None,
) -> str:
    """This benchmark's section of BENCHMARKS.md, markers included."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine({"httpx": httpx.__version__})
    weights = ", ".join(f"{label} {weight}" for _, label, weight in KINDS)
    scale_text = (
        f"{scale:,} listings and {scale:,} orders"
        if scale
        else "a big catalogue (not run: `--scale 0`)"
    )
    lines = [
        START,
        "## Marketplace simulators (`bench/simulators.py`)",
        "",
        f"`{command}`, run {now}.",
        "",
        "Each simulator is built with faults off and `rate_limits=False` on a frozen "
        f"simulated clock (seed {SEED}), pre-loaded with its own in-process helpers "
        f"with {catalogue:,} listings and {catalogue:,} orders (90 % paid), and "
        "called with authenticated requests as a sync engine sends them: signed "
        "with the partner key (Shopee) or a bearer token from the token endpoint "
        "(Tokopedia, Bukalapak). In process, requests go through `httpx.Client("
        "transport=httpx.MockTransport(sim.handler))`: req/s is requests over wall "
        "seconds, client included (building, signing, sending, reading the "
        "answer); CPU µs/req is `time.process_time` per request; in handler µs/req "
        "is the time inside `sim.handler`, the simulator's own share. Each request "
        "kind is measured alone, then the mix, which interleaves the kinds by "
        f"weight ({weights} in every {sum(WEIGHTS.values())} requests). Targets "
        "rotate through the whole catalogue; updates really change stock and "
        "prices. Over HTTP the same mix goes through `SimulatorServer` on "
        "127.0.0.1 (port 0) from one client thread with one keep-alive "
        f"`httpx.Client`. Median of {budget.runs} run(s) (min and max beside it); "
        f"each measurement is at most {budget.requests:,} requests or "
        f"{budget.seconds:g} s, whichever comes first, after a warm-up. Every "
        "answer is HTTP 200 and a few of each kind were checked in full (no error, "
        "no failed row, the expected number of rows) before timing.",
        "",
        f"At scale: in a child process of its own, the simulator is built and seeded "
        f"with {scale_text} as fast as its own in-process helpers go (Shopee "
        "`seed_listing` / `create_order`, Tokopedia `seed_product` / `place_order`, "
        "Bukalapak `add_product` / `create_transaction`, 90 % of orders paid), "
        "then each kind and the mix are measured against the big simulator as "
        "above. Peak RSS is `getrusage(RUSAGE_SELF).ru_maxrss` in that process at "
        "the end (interpreter and imports included); RSS before seeding is its "
        "`VmRSS` once the empty simulator is built. The children run before this "
        "process builds any simulator, since a new process's `ru_maxrss` starts "
        "from what it inherits at fork.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
    ]
    for result in results:
        lines += _market_table(result, catalogue)
    lines += _http_note(results)
    lines += [
        "### Memory at scale",
        "",
        *_memory_table(results),
        "",
        f"### Goal: {GOAL_TEXT}",
        "",
        "Judged on the median in-process rate of the mix; request kinds below the "
        "rate on their own are named.",
        "",
        *_goals(results),
        END,
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("expected a whole number, 0 or more")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return number


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.simulators",
        description="Benchmark the marketplace simulators and write BENCHMARKS.md.",
    )
    parser.add_argument(
        "--runs", type=positive, default=3, help="runs per measurement (default 3)"
    )
    parser.add_argument(
        "--requests",
        type=positive,
        default=3_000,
        help="requests per measurement at most (default 3000)",
    )
    parser.add_argument(
        "--seconds",
        type=_seconds,
        default=2.0,
        help="seconds per measurement at most (default 2)",
    )
    parser.add_argument(
        "--catalogue",
        type=positive,
        default=1_000,
        help="listings and orders of the in-process simulator (default 1000)",
    )
    parser.add_argument(
        "--scale",
        type=_not_negative,
        default=100_000,
        help="listings and orders of the memory run, 0 to skip it (default 100000)",
    )
    parser.add_argument(
        "--no-http", action="store_true", help="skip the loopback HTTP measurement"
    )
    parser.add_argument(
        "--marketplace",
        nargs="+",
        choices=sorted(DRIVERS),
        default=list(DRIVERS),
        metavar="NAME",
        help=f"simulators to measure (default all: {', '.join(DRIVERS)})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS,
        help="the file to write the figures to (default BENCHMARKS.md)",
    )
    parser.add_argument("--child", choices=sorted(DRIVERS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every measurement was taken."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(arguments)
    budget = Budget(options.runs, options.requests, options.seconds)
    if options.child:
        scale = bench_scale_child(options.child, budget, options.scale)
        print(json.dumps(asdict(scale)))
        return 0
    command = shlex.join(["python", "-m", "bench.simulators", *arguments])
    names = [name for name in DRIVERS if name in options.marketplace]
    results = [MarketResult(name, DRIVERS[name].title) for name in names]
    # The scale children first: a child's ru_maxrss starts from the RSS it inherits
    # at fork, so they are started while this process is still small.
    for result in results:
        if not options.scale:
            result.scale_error = "not run (`--scale 0`)"
            continue
        print(
            f"{result.title}: {options.scale:,} listings and orders in a child "
            "process…",
            flush=True,
        )
        try:
            result.scale = scale = bench_scale(result.name, budget, options.scale)
        except BenchError as exc:
            print(f"error: {result.name}: {exc}", file=sys.stderr)
            return 1
        print(
            f"  seeded in {scale.seed_listings_seconds:.1f} + "
            f"{scale.seed_orders_seconds:.1f} s, peak RSS {scale.rss_peak_mb:.0f} MB, "
            f"mix {_rate(_median_rate(scale.mix))} req/s",
            flush=True,
        )
    for result in results:
        print(f"{result.title}: {options.runs} run(s) in process", flush=True)
        try:
            measured = bench_in_process(
                result.name, budget, options.catalogue, http_too=not options.no_http
            )
        except BenchError as exc:
            print(f"error: {result.name}: {exc}", file=sys.stderr)
            return 1
        result.kinds, result.mix, result.http = (
            measured.kinds,
            measured.mix,
            measured.http,
        )
    section = render_section(
        results,
        command=command,
        budget=budget,
        catalogue=options.catalogue,
        scale=options.scale or None,
    )
    write_section(options.output, NAME, section)
    print()
    print(section)
    print(f"written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
