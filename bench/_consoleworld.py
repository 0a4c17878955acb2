"""A console world for the page benchmark: a store the size of issue 13's promise.

:func:`build_console_world` fills a migrated database (SQLite or PostgreSQL) with
about 300 producers over 12 provinces (IKM units and WBP workshops of prisons),
10,000 products with their stock receipts, about 60 shops over the four
marketplaces (each selling for producers of one province) and their listings,
100,000 orders of one to three lines over twelve months, a few thousand sync runs
with their items and 1,000,000 audit events, sealed by the store's own sealer
(:func:`core.store.audit_chain.seal`), so ``audit verify`` walks a sound chain.

Everything is written with set-based inserts (:func:`core.store._sql.bulk_insert`,
one ``executemany`` per chunk) in a few transactions; the same ``seed`` gives the
same rows. What the world leaves out, on purpose:

- the stock ledger holds one receipt per product (the stock on hand now, some
  set to zero by an adjustment) and one ``order_reserved`` movement per line of
  each order still holding a reservation; older orders' reserve, ship and release
  movements are not written (their ``stock_state`` says how far they went), so
  available stock is ``receipts - adjustments - open reservations``;
- the audit trail describes the newest stock movements and orders exactly as the
  store would (``stock.moved``, ``order.stored``/``order.changed``/
  ``order.settled``; as many as the event budget allows, every one at full size),
  and records older than those, and every run, count as made before the trail
  began (``audit_head``'s ``*_through`` marks), so the record checks of
  ``audit verify`` hold too; the other events (listing pushes, product and
  producer edits, authorisations) describe the world's real listings, products
  and producers.

With ``cache_dir``, a built SQLite file is kept there, keyed by the parameters and
the schema's head revision, and copied over the target on the next call.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
import shutil
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from bench._consolewords import (
    GOODS,
    IKM_FORMS,
    IKM_WORDS,
    LISTING_ERRORS,
    MARKETPLACES,
    MONTHS,
    OFFICERS,
    OLD_STATUSES,
    PRISONS,
    PROVINCES,
    RAW_STATUS,
    RECENT_STATUSES,
    RUN_KINDS,
    RUN_OUTCOMES,
    Goods,
)
from core.audit import actions
from core.audit.canonical import dumps
from core.domain.accounts import AllocationPolicy
from core.domain.catalogue import Dimensions, ProducerKind, Product
from core.domain.ids import ProducerCode, Sku
from core.domain.orders import StockStep, movement_key
from core.domain.stock import DEFAULT_LOCATION
from core.store._sql import bulk_insert
from core.store.accounts import policy_to_json
from core.store.audit_chain import EVENTS, HEAD, seal
from core.store.db import head_revision, make_engine, make_session_factory, upgrade
from core.store.tables import (
    ChannelAccountProducerRow,
    ChannelAccountRow,
    ListingRow,
    OrderLineRow,
    OrderRow,
    ProducerRow,
    ProductRow,
    StockMovementRow,
    SyncRunItemRow,
    SyncRunRow,
    table_of,
)

#: Bumped whenever the rows built change, so an old cached file is not reused.
FORMAT = 1
#: The world's last instant: orders span the twelve months before it.
END = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = END - timedelta(days=365)
#: Rows per ``executemany``; rows per transaction of the audit events.
CHUNK = 20_000
EVENTS_PER_TRANSACTION = 200_000
#: Events sealed per sealer transaction (the sealer's own default is 5,000).
SEAL_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class ConsoleWorld:
    """What a page benchmark can ask for in the world built (see the module)."""

    database_url: str
    #: Province A, one of its producers and a few of that producer's SKUs.
    province: str
    producer: str
    skus: tuple[str, ...]
    #: An account of province A selling for ``producer``; every account key.
    account: str
    accounts: tuple[str, ...]
    #: An order of ``account`` (row id, audit subject); an open oversold order.
    order_id: int
    order_subject: str
    oversold_order_id: int
    #: A run with items.
    run_id: int
    #: Rows per table.
    counts: dict[str, int] = field(default_factory=dict)
    #: Seconds spent filling the tables and sealing the events (of the build
    #: itself, also when the world came from the cache).
    seconds: dict[str, float] = field(default_factory=dict)


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def _ids(session: Session, table: sa.Table, key: str) -> dict[Any, int]:
    return {k: int(i) for k, i in session.execute(sa.select(table.c[key], table.c.id))}


def _insert(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for first in range(0, len(rows), CHUNK):
        bulk_insert(session, table, rows[first : first + CHUNK])


@dataclass(slots=True)
class _Order:
    account: int
    external_id: str
    status: str
    stock_state: str
    placed_at: datetime
    updated_at: datetime
    lines: list[tuple[int, int, int]]  # product index, quantity, unit price
    oversold: bool = False
    settlement: str | None = None
    settled_by: str | None = None
    settled_at: datetime | None = None
    id: int = 0

    @property
    def total(self) -> int:
        return sum(q * p for _, q, p in self.lines)


class _Builder:
    """One world's rows, table after table (see the module)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        products: int,
        orders: int,
        audit_events: int,
        seed: int,
    ) -> None:
        self.sessions = sessions
        self.n_products = products
        self.n_orders = orders
        self.n_events = audit_events
        self.rng = random.Random(seed)
        self.producers: list[dict[str, Any]] = []
        self.producer_ids: list[int] = []
        self.products: list[dict[str, Any]] = []
        self.product_ids: list[int] = []
        self.accounts: list[dict[str, Any]] = []
        self.account_ids: list[int] = []
        self.owned: dict[int, list[int]] = {}  # account index -> producer indexes
        self.listed: dict[int, list[int]] = {}  # account index -> product indexes
        self.listings: list[dict[str, Any]] = []
        self.orders: list[_Order] = []
        self.movements: list[dict[str, Any]] = []
        self.runs_by_account: dict[int, list[int]] = defaultdict(list)
        self.run_with_items = 0
        self.last_run = 0
        self.product_owner: list[int] = []
        self.counts: dict[str, int] = {}

    # ---------------------------------------------------------------- catalogue

    def catalogue(self) -> None:
        rng = self.rng
        n_producers = min(
            300, max(len(PROVINCES), self.n_products // 30), self.n_products
        )
        for n in range(n_producers):
            province, code, regencies = PROVINCES[n % len(PROVINCES)]
            city = rng.choice(regencies)
            wbp = rng.random() < 0.22
            goods = GOODS[rng.randrange(len(GOODS))]
            number = n // len(PROVINCES) + 1
            if wbp:
                institution = f"{rng.choice(PRISONS)} {regencies[0]}"
                name = f"Bengkel Kerja {goods.category} {institution}"
            else:
                institution = None
                name = f"{rng.choice(IKM_FORMS)} {rng.choice(IKM_WORDS)} {city}"
            self.producers.append(
                {
                    "code": f"{'WBP' if wbp else 'IKM'}-{code}-{number:03d}",
                    "name": name,
                    "kind": (ProducerKind.WBP if wbp else ProducerKind.IKM).value,
                    "province": province,
                    "regency": f"{'Kota' if city == regencies[0] else 'Kabupaten'} "
                    f"{city}",
                    "sentra": None if wbp else f"Sentra {goods.category} {city}",
                    "institution": institution,
                    "business_id": None if wbp else f"{rng.randrange(10**12):013d}",
                    "created_at": START,
                    "updated_at": START,
                    "_goods": goods,
                    "_city": city,
                }
            )
        weights = [rng.paretovariate(1.5) for _ in self.producers]
        chosen = rng.choices(range(len(self.producers)), weights, k=self.n_products)
        chosen[: len(self.producers)] = range(len(self.producers))  # none left empty
        for n, owner in enumerate(chosen):
            producer = self.producers[owner]
            kind: Goods = producer["_goods"]
            low, high = kind.rupiah
            price = rng.randrange(low // 500, high // 500 + 1) * 500
            sku = Sku(f"{kind.prefix}-{producer['code'].split('-')[1]}-{n + 1:05d}")
            status = _pick(rng, (("active", 95), ("draft", 3), ("archived", 2)))
            product = Product(
                sku=sku,
                producer_code=ProducerCode(producer["code"]),
                name=f"{rng.choice(kind.names)} {producer['_city']} "
                f"{rng.choice(kind.variants)}",
                price=price,
                weight_grams=rng.randint(*kind.grams),
                description=f"{kind.category} buatan {producer['name']}, "
                f"{producer['regency']}. Dikemas rapi, dikirim dari "
                f"{producer['province']}.",
                category=kind.category,
                dimensions=Dimensions(
                    rng.randint(10, 60), rng.randint(8, 40), rng.randint(3, 30)
                ),
                image_urls=(f"https://img.ikm.example/{sku}/1.jpg",),
            )
            self.products.append(
                {
                    "sku": product.sku,
                    "sku_key": product.key,
                    "producer_id": owner,  # an index until the producers exist
                    "name": product.name,
                    "description": product.description,
                    "category": product.category,
                    "price": product.price,
                    "weight_grams": product.weight_grams,
                    "length_cm": product.dimensions.length_cm,  # type: ignore[union-attr]
                    "width_cm": product.dimensions.width_cm,  # type: ignore[union-attr]
                    "height_cm": product.dimensions.height_cm,  # type: ignore[union-attr]
                    "image_urls": list(product.image_urls),
                    "condition": product.condition.value,
                    "status": status,
                    "provenance": f"impor katalog {MONTHS[START.month - 1]} "
                    f"{START.year}",
                    "fingerprint": product.fingerprint,
                    "source_digest": None,
                    "created_at": START,
                    "updated_at": START,
                }
            )
        producers = table_of(ProducerRow)
        products = table_of(ProductRow)
        with self.sessions() as session, session.begin():
            _insert(
                session,
                producers,
                [
                    {k: v for k, v in p.items() if not k.startswith("_")}
                    for p in self.producers
                ],
            )
            ids = _ids(session, producers, "code")
            self.producer_ids = [ids[p["code"]] for p in self.producers]
            rows = [
                {**p, "producer_id": self.producer_ids[p["producer_id"]]}
                for p in self.products
            ]
            _insert(session, products, rows)
            ids = _ids(session, products, "sku_key")
            self.product_ids = [ids[p["sku_key"]] for p in self.products]
        self.product_owner = chosen

    # ---------------------------------------------------------------- accounts

    def shops(self) -> None:
        rng = self.rng
        by_province: dict[str, list[int]] = defaultdict(list)
        for n, producer in enumerate(self.producers):
            by_province[producer["province"]].append(n)
        products_of: dict[int, list[int]] = defaultdict(list)
        for n, owner in enumerate(self.product_owner):
            if self.products[n]["status"] == "active":
                products_of[owner].append(n)
        shop = 0
        for p, (province, code, _) in enumerate(PROVINCES):
            for k in range(5):
                marketplace = MARKETPLACES[(p + k) % len(MARKETPLACES)]
                shop += 1
                key = f"{marketplace}-{code.lower()}-{k + 1}"
                self.accounts.append(
                    {
                        "account_key": key,
                        "marketplace": marketplace,
                        "shop_id": str(100_000 + shop * 7919),
                        "credentials_ref": None,
                        "enabled": rng.random() > 0.03,
                        "allocation": policy_to_json(AllocationPolicy()),
                        "created_at": START,
                        "updated_at": START,
                    }
                )
                members = by_province[province]
                size = max(1, round(len(members) * rng.uniform(0.5, 1.0)))
                owned = sorted(rng.sample(members, size))
                self.owned[len(self.accounts) - 1] = owned
                self.listed[len(self.accounts) - 1] = [
                    n for owner in owned for n in products_of[owner]
                ]
        accounts = table_of(ChannelAccountRow)
        with self.sessions() as session, session.begin():
            _insert(session, accounts, self.accounts)
            ids = _ids(session, accounts, "account_key")
            self.account_ids = [ids[a["account_key"]] for a in self.accounts]
            _insert(
                session,
                table_of(ChannelAccountProducerRow),
                [
                    {
                        "account_id": self.account_ids[a],
                        "producer_id": self.producer_ids[p],
                    }
                    for a, owned in self.owned.items()
                    for p in owned
                ],
            )

    def listings_of(self, available: list[int]) -> None:
        rng = self.rng
        external = 9_100_000_000
        for a, products in self.listed.items():
            marketplace = self.accounts[a]["marketplace"]
            for n in products:
                external += rng.randint(1, 97)
                state = _pick(
                    rng, (("live", 90), ("failed", 5), ("delisted", 2), ("pending", 3))
                )
                product = self.products[n]
                pushed = START + timedelta(days=rng.uniform(1, 360))
                self.listings.append(
                    {
                        "account_id": self.account_ids[a],
                        "product_id": self.product_ids[n],
                        "external_id": None if state == "pending" else str(external),
                        "external_variant_id": None,
                        "state": state,
                        "last_price": None if state == "pending" else product["price"],
                        "last_stock": None if state == "pending" else available[n],
                        "last_content_hash": None
                        if state == "pending"
                        else hashlib.sha256(
                            product["fingerprint"].encode()
                        ).hexdigest(),
                        "last_pushed_at": None if state == "pending" else pushed,
                        "last_error": LISTING_ERRORS[marketplace]
                        if state == "failed"
                        else None,
                        "created_at": START,
                        "updated_at": pushed if state != "pending" else START,
                        "_account": a,
                        "_product": n,
                    }
                )
        with self.sessions() as session, session.begin():
            _insert(
                session,
                table_of(ListingRow),
                [
                    {k: v for k, v in row.items() if not k.startswith("_")}
                    for row in self.listings
                ],
            )

    # ---------------------------------------------------------------- orders

    def plan_orders(self) -> None:
        rng = self.rng
        selling = [a for a, products in self.listed.items() if products]
        busy = [rng.paretovariate(1.2) for _ in selling]
        recent = END - timedelta(days=14)
        span = (END - START).total_seconds()
        times = sorted(rng.uniform(0, span) for _ in range(self.n_orders))
        accounts = rng.choices(selling, busy, k=self.n_orders)
        for counter, (offset, a) in enumerate(zip(times, accounts, strict=True), 1):
            placed = START + timedelta(seconds=offset)
            status = _pick(rng, RECENT_STATUSES if placed >= recent else OLD_STATUSES)
            marketplace = self.accounts[a]["marketplace"]
            width = rng.choices((1, 2, 3), (70, 22, 8))[0]
            picked = rng.sample(self.listed[a], min(width, len(self.listed[a])))
            lines = [
                (
                    n,
                    rng.choices((1, 2, 3, 5), (75, 15, 7, 3))[0],
                    self.products[n]["price"],
                )
                for n in picked
            ]
            state = {
                "pending_payment": "none",
                "paid": "reserved",
                "ready_to_ship": "reserved",
                "shipped": "shipped",
                "delivered": "shipped",
                "completed": "shipped",
                "returned": "returned",
            }.get(status) or ("released" if rng.random() < 0.6 else "none")
            self.orders.append(
                _Order(
                    account=a,
                    external_id=_external_id(marketplace, placed, counter),
                    status=status,
                    stock_state=state,
                    placed_at=placed,
                    updated_at=min(
                        END, placed + timedelta(seconds=rng.uniform(60, 864_000))
                    )
                    if status != "pending_payment"
                    else placed,
                    lines=lines,
                )
            )
        reserved = [o for o in self.orders if o.stock_state == "reserved"]
        settled = [o for o in self.orders if o.status in {"completed", "cancelled"}]
        for order in rng.sample(
            reserved, min(len(reserved), max(1, self.n_orders * 3 // 1000))
        ):
            order.oversold = True
        for order in rng.sample(
            settled, min(len(settled), max(1, self.n_orders // 1000))
        ):
            order.oversold = True
            order.settlement = "cancelled" if order.status == "cancelled" else "handled"
            order.settled_by = rng.choice(OFFICERS)
            order.settled_at = order.updated_at
            order.updated_at = order.settled_at

    def write_orders(self) -> None:
        orders = table_of(OrderRow)
        lines = table_of(OrderLineRow)
        with self.sessions() as session, session.begin():
            for first in range(0, len(self.orders), CHUNK):
                batch = self.orders[first : first + CHUNK]
                bulk_insert(session, orders, [self._order_row(o) for o in batch])
            found = {
                (int(a), e): int(i)
                for a, e, i in session.execute(
                    sa.select(orders.c.account_id, orders.c.external_id, orders.c.id)
                )
            }
            rows: list[dict[str, Any]] = []
            for order in self.orders:
                order.id = found[(self.account_ids[order.account], order.external_id)]
                for line_no, (n, quantity, price) in enumerate(order.lines, 1):
                    rows.append(
                        {
                            "order_id": order.id,
                            "line_no": line_no,
                            "product_id": self.product_ids[n],
                            "external_sku": self.products[n]["sku"],
                            "quantity": quantity,
                            "unit_price": price,
                        }
                    )
            _insert(session, lines, rows)
        self.counts["order_lines"] = len(rows)

    def _order_row(self, order: _Order) -> dict[str, Any]:
        marketplace = self.accounts[order.account]["marketplace"]
        return {
            "account_id": self.account_ids[order.account],
            "external_id": order.external_id,
            "status": order.status,
            "raw_status": RAW_STATUS[marketplace][order.status],
            "total_amount": order.total,
            "currency": "IDR",
            "oversold": order.oversold,
            "stock_state": order.stock_state,
            "placed_at": order.placed_at,
            "remote_updated_at": order.updated_at,
            "first_seen_at": order.placed_at + timedelta(minutes=2),
            "updated_at": order.updated_at,
            "settlement": order.settlement,
            "settled_by": order.settled_by,
            "settled_at": order.settled_at,
            "settle_note": None
            if order.settlement is None
            else "stok habis, pembeli sudah dihubungi",
        }

    # ---------------------------------------------------------------- stock

    def stock(self) -> list[int]:
        """Receipts (and a few adjustments to zero), then the open orders'
        reservations; the stock available per product."""
        rng = self.rng
        held = [0] * len(self.products)
        for order in self.orders:
            if order.stock_state == "reserved":
                for n, quantity, _ in order.lines:
                    held[n] += quantity
        available = []
        for n, product in enumerate(self.products):
            on_hand = held[n] + rng.randint(1, 150)
            at = START + timedelta(hours=rng.uniform(0, 72))
            officer = rng.choice(OFFICERS)
            self.movements.append(
                self._movement(
                    n,
                    "receipt",
                    on_hand,
                    0,
                    f"receipt:{product['sku_key']}:awal",
                    officer,
                    at,
                    reference="stok awal",
                    note="penerimaan dari produsen",
                )
            )
            if held[n] == 0 and rng.random() < 0.03:
                self.movements.append(
                    self._movement(
                        n,
                        "adjustment",
                        -on_hand,
                        0,
                        f"adjustment:{product['sku_key']}:opname",
                        officer,
                        at + timedelta(days=rng.uniform(30, 300)),
                        reference="stok opname",
                        note="barang rusak",
                    )
                )
                on_hand = 0
            available.append(on_hand - held[n])
        for order in self.orders:
            if order.stock_state != "reserved":
                continue
            account = self.accounts[order.account]
            for line_no, (n, quantity, _) in enumerate(order.lines, 1):
                self.movements.append(
                    self._movement(
                        n,
                        "order_reserved",
                        0,
                        quantity,
                        movement_key(
                            account["account_key"],
                            order.external_id,
                            line_no,
                            StockStep.RESERVE,
                        ),
                        "system:scheduler",
                        order.placed_at + timedelta(minutes=2),
                        reference=f"{account['marketplace']} order {order.external_id}",
                        note=f"{order.status} "
                        f"({RAW_STATUS[account['marketplace']][order.status]})",
                        account=account["account_key"],
                    )
                )
        self.movements.sort(key=lambda m: m["at"])
        with self.sessions() as session, session.begin():
            _insert(
                session,
                table_of(StockMovementRow),
                [
                    {k: v for k, v in m.items() if not k.startswith("_")}
                    for m in self.movements
                ],
            )
        return available

    def _movement(
        self,
        n: int,
        reason: str,
        on_hand: int,
        reserved: int,
        key: str,
        actor: str,
        at: datetime,
        *,
        reference: str,
        note: str,
        account: str | None = None,
    ) -> dict[str, Any]:
        return {
            "product_id": self.product_ids[n],
            "location": DEFAULT_LOCATION,
            "reason": reason,
            "on_hand_delta": on_hand,
            "reserved_delta": reserved,
            "reference": reference,
            "actor": actor,
            "note": note,
            "at": at,
            "idempotency_key": key,
            "_sku": self.products[n]["sku_key"],
            "_account": account,
        }

    # ---------------------------------------------------------------- runs

    def runs(self) -> None:
        rng = self.rng
        n_runs = max(10, self.n_orders // 30)
        span = (END - START).total_seconds()
        runs: list[dict[str, Any]] = []
        for offset in sorted(rng.uniform(0, span) for _ in range(n_runs)):
            a = rng.randrange(len(self.accounts))
            kind = _pick(rng, RUN_KINDS)
            outcome = _pick(rng, RUN_OUTCOMES)
            started = START + timedelta(seconds=offset)
            finished = started + timedelta(seconds=rng.uniform(1, 180))
            marketplace = self.accounts[a]["marketplace"]
            n_items = rng.randint(0, 20) if kind != "reconcile" else 0
            failed = rng.randint(1, max(1, n_items)) if outcome == "partial" else 0
            runs.append(
                {
                    "kind": kind,
                    "account_id": self.account_ids[a],
                    "trigger": "schedule" if rng.random() < 0.9 else "officer:ani",
                    "window_start": started - timedelta(minutes=20)
                    if kind == "orders"
                    else None,
                    "window_end": started if kind == "orders" else None,
                    "started_at": started,
                    "finished_at": finished,
                    "outcome": outcome,
                    "counts": {"items": n_items, "failed": failed},
                    "error": f"{marketplace}: 503 layanan sedang sibuk, coba lagi"
                    if outcome == "failed"
                    else None,
                    "_account": a,
                }
            )
        table = table_of(SyncRunRow)
        with self.sessions() as session, session.begin():
            _insert(
                session,
                table,
                [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs],
            )
            ids = [
                int(i)
                for i in session.execute(
                    sa.select(table.c.id).order_by(table.c.id)
                ).scalars()
            ][-len(runs) :]
            items: list[dict[str, Any]] = []
            for run_id, run in zip(ids, runs, strict=True):
                a = run["_account"]
                self.runs_by_account[a].append(run_id)
                items += self._items(run_id, run)
                if run["counts"]["items"] >= 3 and not self.run_with_items:
                    self.run_with_items = run_id
            _insert(session, table_of(SyncRunItemRow), items)
        self.counts["sync_run_items"] = len(items)
        self.last_run = ids[-1] if ids else 0

    def _items(self, run_id: int, run: dict[str, Any]) -> list[dict[str, Any]]:
        rng = self.rng
        a = run["_account"]
        listed = self.listed[a]
        marketplace = self.accounts[a]["marketplace"]
        failed = run["counts"]["failed"]
        rows = []
        for k in range(run["counts"]["items"]):
            ok = k >= failed
            at = run["started_at"] + timedelta(milliseconds=200 * (k + 1))
            if run["kind"] == "orders" or not listed:
                subject = f"order:{marketplace}:{rng.randrange(10**9, 10**10)}"
                operation, sent = "ingest", None
            else:
                n = rng.choice(listed)
                subject = actions.sku(self.products[n]["sku"])
                if run["kind"] == "stock":
                    operation = "update_stock"
                    sent = dumps({"stock": rng.randint(0, 150)})
                else:
                    operation = "update_price"
                    sent = dumps({"price": self.products[n]["price"]})
            rows.append(
                {
                    "run_id": run_id,
                    "subject": subject,
                    "operation": operation,
                    "ok": ok,
                    "error_code": None if ok else "rate_limited",
                    "error_message": None
                    if ok
                    else f"{marketplace}: 429 terlalu banyak permintaan",
                    "at": at,
                    "sent": sent,
                }
            )
        return rows

    # ---------------------------------------------------------------- audit

    def audit(self) -> tuple[float, float]:
        """Write the events unsealed, then seal them; seconds of each step."""
        began = time.perf_counter()
        budget = self.n_events
        moves = min(len(self.movements), budget // 10)
        described_moves = self.movements[len(self.movements) - moves :]
        # an order needs one or two events: a stored one, then a change
        orders = min(len(self.orders), max(0, (budget - moves) // 4))
        described = self.orders[len(self.orders) - orders :]
        record_events = moves + sum(1 + self._changed(o) for o in described)
        fillers = max(0, budget - record_events)
        streams = [
            ((m["at"], 0, i) for i, m in enumerate(described_moves)),
            self._order_times(described),
            self._filler_times(fillers),
        ]
        written = 0
        pending: list[dict[str, Any]] = []
        session = self.sessions()
        try:
            session.begin()
            for at, kind, index in heapq.merge(*streams):
                if kind == 0:
                    pending.append(self._moved(described_moves[index]))
                elif kind in (1, 2):
                    pending.append(self._order_event(described[index], at, kind == 2))
                else:
                    pending.append(self._filler(at))
                if len(pending) >= CHUNK:
                    written += bulk_insert(session, EVENTS, pending)
                    pending = []
                    if written % EVENTS_PER_TRANSACTION == 0:
                        session.commit()
                        session.begin()
            written += bulk_insert(session, EVENTS, pending)
            session.commit()
        finally:
            session.close()
        filled = time.perf_counter() - began
        began = time.perf_counter()
        sealed = seal(self.sessions, batch=SEAL_BATCH)
        if sealed.events != written:
            raise RuntimeError(f"sealed {sealed.events} of {written} events")
        # the records no event describes count as made before the trail began
        with self.sessions() as session, session.begin():
            session.execute(
                sa.update(HEAD)
                .where(HEAD.c.id == 1)
                .values(
                    movements_through=self._through(len(self.movements) - moves),
                    orders_through=self.orders[-orders - 1].id
                    if orders < len(self.orders)
                    else 0,
                    runs_through=self.last_run,
                )
            )
        self.counts["audit_events"] = written
        return filled, time.perf_counter() - began

    def _through(self, undescribed: int) -> int:
        """The id of the last of the first ``undescribed`` movements (0: none);
        they were inserted in their list's order."""
        if undescribed == 0:
            return 0
        table = table_of(StockMovementRow)
        with self.sessions() as session:
            found = session.execute(
                sa.select(table.c.id)
                .order_by(table.c.id)
                .limit(1)
                .offset(undescribed - 1)
            ).scalar_one()
        return int(found)

    @staticmethod
    def _changed(order: _Order) -> bool:
        return order.status not in {"pending_payment", "paid"} or order.oversold

    def _order_times(self, orders: list[_Order]) -> Iterator[tuple[datetime, int, int]]:
        """Each order's stored event (kind 1) and change (kind 2) in time order."""
        changes: list[tuple[datetime, int, int]] = []
        for i, order in enumerate(orders):
            stored = order.placed_at + timedelta(minutes=2)
            while changes and changes[0] < (stored, 1, i):
                yield heapq.heappop(changes)
            yield stored, 1, i
            if self._changed(order):
                heapq.heappush(changes, (max(order.updated_at, stored), 2, i))
        while changes:
            yield heapq.heappop(changes)

    def _filler_times(self, count: int) -> Iterator[tuple[datetime, int, int]]:
        span = int((END - START).total_seconds() * 1_000_000)
        rng = random.Random(self.rng.random())
        for offset in sorted(rng.randrange(span) for _ in range(count)):
            yield START + timedelta(microseconds=offset), 3, 0

    def _moved(self, movement: dict[str, Any]) -> dict[str, Any]:
        return {
            "at": movement["at"],
            "actor": movement["actor"],
            "action": actions.STOCK_MOVED,
            "subject": f"sku:{movement['_sku']}",
            "account": movement["_account"],
            "run_id": None,
            "reason": "",
            "before": None,
            "after": dumps(
                {
                    "key": movement["idempotency_key"],
                    "reason": movement["reason"],
                    "on_hand": movement["on_hand_delta"],
                    "reserved": movement["reserved_delta"],
                    "reference": movement["reference"],
                    "actor": movement["actor"],
                    "note": movement["note"],
                    "location": movement["location"],
                }
            ),
        }

    def _order_event(self, order: _Order, at: datetime, change: bool) -> dict[str, Any]:
        account = self.accounts[order.account]
        marketplace = account["marketplace"]
        final = {
            "status": order.status,
            "stock_state": order.stock_state,
            "oversold": order.oversold,
            "settlement": order.settlement,
            "total": order.total,
        }
        first = (
            {
                "status": "paid",
                "stock_state": "reserved",
                "oversold": False,
                "settlement": None,
                "total": order.total,
            }
            if self._changed(order)
            else final
        )
        action = actions.ORDER_STORED
        before: dict[str, Any] | None = None
        after: dict[str, Any] = {
            **first,
            "lines": [
                {
                    "line_no": line_no,
                    "sku": self.products[n]["sku"],
                    "external_sku": self.products[n]["sku"],
                    "quantity": quantity,
                    "unit_price": price,
                }
                for line_no, (n, quantity, price) in enumerate(order.lines, 1)
            ],
        }
        actor = f"marketplace:{marketplace}"
        if change:
            action = (
                actions.ORDER_SETTLED
                if order.settlement is not None
                else actions.ORDER_CHANGED
            )
            before, after = first, final
            if order.settled_by is not None:
                actor = order.settled_by
        return {
            "at": at,
            "actor": actor,
            "action": action,
            "subject": actions.order(marketplace, order.external_id),
            "account": account["account_key"],
            "run_id": None,
            "reason": "" if order.settlement is None else "stok habis",
            "before": None if before is None else dumps(before),
            "after": dumps(after),
        }

    def _filler(self, at: datetime) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.82 and self.listings:
            listing = self.listings[rng.randrange(len(self.listings))]
            account = self.accounts[listing["_account"]]
            product = self.products[listing["_product"]]
            runs = self.runs_by_account.get(listing["_account"])
            stock = rng.randint(0, 150)
            return {
                "at": at,
                "actor": "system:scheduler",
                "action": actions.LISTING_CHANGED,
                "subject": actions.listing(account["account_key"], product["sku"]),
                "account": account["account_key"],
                "run_id": rng.choice(runs) if runs else None,
                "reason": "",
                "before": dumps({"price": product["price"], "stock": stock + 1}),
                "after": dumps(
                    {
                        "state": listing["state"],
                        "price": product["price"],
                        "stock": stock,
                        "content_hash": listing["last_content_hash"],
                        "external_id": listing["external_id"],
                        "error": listing["last_error"],
                    }
                ),
            }
        if roll < 0.97:
            product = self.products[rng.randrange(len(self.products))]
            old = product["price"] + rng.choice((-5_000, 2_500, 5_000, 10_000))
            return {
                "at": at,
                "actor": rng.choice(OFFICERS),
                "action": actions.PRODUCT_UPDATED,
                "subject": actions.sku(product["sku"]),
                "account": None,
                "run_id": None,
                "reason": f"impor katalog {MONTHS[at.month - 1]}",
                "before": dumps({"price": max(500, old)}),
                "after": dumps({"price": product["price"]}),
            }
        producer = self.producers[rng.randrange(len(self.producers))]
        return {
            "at": at,
            "actor": rng.choice(OFFICERS),
            "action": actions.PRODUCER_UPDATED,
            "subject": actions.producer(producer["code"]),
            "account": None,
            "run_id": None,
            "reason": "pembaruan data produsen",
            "before": dumps({"name": producer["name"].upper()}),
            "after": dumps({"name": producer["name"]}),
        }

    # ---------------------------------------------------------------- result

    def world(self, url: str, seconds: dict[str, float]) -> ConsoleWorld:
        # the account of the newest order, and a producer it sells for (province A)
        a = self.orders[-1].account
        producer = next(
            p
            for p in self.owned[a]
            if any(self.product_owner[n] == p for n in self.listed[a])
        )
        skus = tuple(
            self.products[n]["sku"]
            for n, owner in enumerate(self.product_owner)
            if owner == producer
        )[:5]
        order = next(o for o in reversed(self.orders) if o.account == a)
        oversold = next(
            (o for o in self.orders if o.oversold and o.settlement is None), order
        )
        with self.sessions() as session:
            counts = {
                table: int(
                    session.execute(
                        sa.select(sa.func.count()).select_from(sa.table(table))
                    ).scalar_one()
                )
                for table in (
                    "producers",
                    "products",
                    "stock_movements",
                    "channel_accounts",
                    "channel_account_producers",
                    "listings",
                    "orders",
                    "order_lines",
                    "sync_runs",
                    "sync_run_items",
                    "audit_events",
                )
            }
        return ConsoleWorld(
            database_url=url,
            province=self.producers[producer]["province"],
            producer=self.producers[producer]["code"],
            skus=skus,
            account=self.accounts[a]["account_key"],
            accounts=tuple(x["account_key"] for x in self.accounts),
            order_id=order.id,
            order_subject=actions.order(
                self.accounts[a]["marketplace"], order.external_id
            ),
            oversold_order_id=oversold.id,
            run_id=self.run_with_items or self.last_run,
            counts=counts,
            seconds=seconds,
        )


def _external_id(marketplace: str, placed: datetime, counter: int) -> str:
    """An order number in the marketplace's own style (unique by ``counter``)."""
    if marketplace == "tokopedia":
        return f"INV/{placed:%Y%m%d}/MPL/{3_600_000_000 + counter}"
    if marketplace == "bukalapak":
        return f"BL{placed:%y%m}{counter:07d}"
    if marketplace == "tiktok_shop":
        return str(576_000_000_000_000_000 + counter * 131)
    return f"{placed:%y%m%d}{counter:08X}"


def build_console_world(
    database_url: str,
    *,
    products: int = 10_000,
    orders: int = 100_000,
    audit_events: int = 1_000_000,
    seed: int = 7,
    cache_dir: Path | None = None,
) -> ConsoleWorld:
    """Fill the database at ``database_url`` (migrated here if it is not yet;
    it must hold no products) with the console world (see the module).

    With ``cache_dir`` (SQLite only), a world built before with the same
    parameters is copied over the file ``database_url`` names instead, and a new
    one is kept there once built.

    Raises:
        ValueError: a size below one, a cache for a non-SQLite database, or a
            database that holds products already.
    """
    for name, value in (
        ("products", products),
        ("orders", orders),
        ("audit_events", audit_events),
    ):
        if value < 1:
            raise ValueError(f"{name} must be 1 or more, got {value}")
    if cache_dir is None:
        return _build(database_url, products, orders, audit_events, seed)
    target = _sqlite_file(database_url)
    key = hashlib.sha256(
        json.dumps(
            [FORMAT, head_revision(), products, orders, audit_events, seed]
        ).encode()
    ).hexdigest()[:20]
    cached = cache_dir / f"consoleworld-{key}.db"
    described = cached.with_suffix(".json")
    if cached.exists() and described.exists():
        _copy(cached, target)
        document = json.loads(described.read_text(encoding="utf-8"))
        document["skus"] = tuple(document["skus"])
        document["accounts"] = tuple(document["accounts"])
        document["database_url"] = database_url
        return ConsoleWorld(**document)
    world = _build(database_url, products, orders, audit_events, seed)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    _copy(target, partial)
    partial.replace(cached)
    described.write_text(json.dumps(asdict(world)), encoding="utf-8")
    return world


def _build(
    url: str, products: int, orders: int, audit_events: int, seed: int
) -> ConsoleWorld:
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            held = session.execute(
                sa.select(sa.func.count()).select_from(table_of(ProductRow))
            ).scalar_one()
        if held:
            raise ValueError(
                f"the database holds {held} products already; the console world "
                "is built on an empty one"
            )
        builder = _Builder(
            sessions,
            products=products,
            orders=orders,
            audit_events=audit_events,
            seed=seed,
        )
        began = time.perf_counter()
        builder.catalogue()
        builder.shops()
        builder.plan_orders()
        available = builder.stock()
        builder.listings_of(available)
        builder.write_orders()
        builder.runs()
        tables = time.perf_counter() - began
        events, sealing = builder.audit()
        return builder.world(
            url, {"tables": tables, "audit_events": events, "seal": sealing}
        )
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> Path:
    parsed = sa.make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        raise ValueError(
            f"a cached console world is a SQLite file; {parsed.get_backend_name()} "
            "database given (build it without cache_dir)"
        )
    return Path(database)


def _copy(source: Path, target: Path) -> None:
    """Copy a SQLite database file whole (its WAL folded in first)."""
    raw = sqlite3.connect(source)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
