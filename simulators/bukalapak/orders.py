"""The life of Bukalapak transactions: creation, the state machine, stock, lapses.

Stock is reserved (taken off the SKU) when a transaction becomes ``paid`` and given
back, once, when it becomes ``rejected``, ``expired``, ``cancelled`` or ``refunded``
(page §8.1 item 9). Lapses driven by the clock sit in a heap of deadlines and are
applied whenever the simulator is called.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

from simulators.bukalapak.book import Catalogue, TransactionBook
from simulators.bukalapak.model import (
    RELEASING_STATES,
    TRANSITIONS,
    Line,
    Sku,
    Transaction,
    iso_wib,
    micros,
)
from simulators.bukalapak.wire import base36
from simulators.kit.clock import SimClock

CARRIERS = ("JNE", "J&T", "SiCepat", "Pos Indonesia", "AnterAja", "Ninja Xpress")
_PLACES = (
    ("Kota Bandung", "Jawa Barat", "Coblong", "40132"),
    ("Kota Surabaya", "Jawa Timur", "Gubeng", "60281"),
    ("Kota Yogyakarta", "DI Yogyakarta", "Gondokusuman", "55221"),
    ("Kota Medan", "Sumatera Utara", "Medan Baru", "20153"),
    ("Kota Makassar", "Sulawesi Selatan", "Panakkukang", "90231"),
)
_FEES = (9_000, 12_000, 15_000, 18_000, 22_000)

#: (due, transaction id, state it must still be in to lapse)
Deadline = tuple[int, int, str]


class OrderDesk:
    """Transactions of every store and the rules that move them."""

    def __init__(
        self,
        catalogue: Catalogue,
        clock: SimClock,
        rng: random.Random,
        next_id: Callable[[str], int],
        *,
        pending_expires_after: float | None,
        paid_expires_after: float | None,
    ) -> None:
        self.catalogue, self.clock, self.rng = catalogue, clock, rng
        self.next_id = next_id
        self.pending_expires_after = pending_expires_after
        self.paid_expires_after = paid_expires_after
        self.book = TransactionBook()
        self.deadlines: list[Deadline] = []

    def _now(self) -> int:
        return micros(self.clock.now())

    def _deadline(self, start: int, after: float | None, txn: Transaction) -> None:
        if after is not None:
            due = start + int(after * 1_000_000)
            heapq.heappush(self.deadlines, (due, txn.id, txn.state))

    def new_transaction(
        self, sku: Sku, quantity: int, buyer: str, created_at: int | None = None
    ) -> Transaction:
        """A ``pending`` transaction for one SKU (no stock is taken yet)."""
        product = self.catalogue.products[sku.product_id]
        rng = self.rng
        created = self._now() if created_at is None else created_at
        txn_id = self.next_id("transaction")
        city, province, district, postal = rng.choice(_PLACES)
        day = iso_wib(created)[2:10].replace("-", "")
        name = buyer.replace("-", " ").title()
        txn = Transaction(
            id=txn_id,
            transaction_id=f"BL{day}{base36(txn_id).upper()}",
            store_id=sku.store_id,
            state="pending",
            created_at=created,
            updated_at=created,
            state_changed_at=created,
            buyer_name=name,
            buyer_username=buyer,
            lines=[
                Line(
                    sku_id=sku.id,
                    product_id=product.id,
                    sku_name=sku.sku_name,
                    name=product.name,
                    weight=product.weight,
                    quantity=quantity,
                    price=sku.price,
                )
            ],
            delivery_fee=rng.choice(_FEES),
            consignee={
                "name": name,
                "phone": f"08{rng.randrange(10**9, 10**10)}",
                "address": f"Jl. Merdeka No. {rng.randint(1, 200)}",
                "district": district,
                "city": city,
                "province": province,
                "country": "Indonesia",
                "postal_code": postal,
            },
            requested_carrier=rng.choice(CARRIERS),
        )
        self.book.add(txn)
        self._deadline(created, self.pending_expires_after, txn)
        return txn

    def transition(
        self,
        txn: Transaction,
        target: str,
        *,
        at: int | None = None,
        carrier: str = "",
        tracking: str = "",
    ) -> bool:
        """Move a transaction on, with its stock effects; False when not allowed."""
        if target not in TRANSITIONS[txn.state]:
            return False
        if target == "paid" and not self._reserve(txn):
            return False
        if target in RELEASING_STATES:
            self._release(txn)
        now = self._now() if at is None else at
        if target == "delivered":
            txn.carrier, txn.tracking_number = carrier, tracking
        txn.history.append({"from": txn.state, "to": target, "at": now})
        self.book.move(txn, target)
        txn.updated_at = txn.state_changed_at = now
        if target == "paid":
            self._deadline(now, self.paid_expires_after, txn)
        return True

    def _reserve(self, txn: Transaction) -> bool:
        skus = self.catalogue.skus
        if any(
            line.sku_id not in skus or skus[line.sku_id].stock < line.quantity
            for line in txn.lines
        ):
            return False
        for line in txn.lines:
            skus[line.sku_id].stock -= line.quantity
        txn.reserved = True
        return True

    def _release(self, txn: Transaction) -> None:
        if not txn.reserved:
            return
        for line in txn.lines:
            sku = self.catalogue.skus.get(line.sku_id)
            if sku is not None:
                sku.stock += line.quantity
        txn.reserved = False

    def run_due(self) -> None:
        """Apply the clock-driven lapses that are due by now."""
        if not self.deadlines:
            return
        now = self._now()
        while self.deadlines and self.deadlines[0][0] <= now:
            due, txn_id, state = heapq.heappop(self.deadlines)
            txn = self.book.by_id.get(txn_id)
            if txn is not None and txn.state == state:
                self.transition(txn, "expired", at=due)

    def race_step(self, txn: Transaction) -> None:
        """Fault: the transaction moves on by itself, as another actor would."""
        match txn.state:
            case "pending":
                if not self.transition(txn, "paid"):
                    self.transition(txn, "expired")
            case "paid":
                self.transition(txn, "cancelled")
            case "delivered":
                self.transition(txn, "received")
            case "received":
                self.transition(txn, "remitted")
            case "rejected" | "cancelled":
                self.transition(txn, "refunded")
            case _:
                pass

    def insert_shifting(
        self,
        store_id: int,
        start: int | None,
        end: int | None,
        states: frozenset[str] | None,
    ) -> None:
        """Fault: a new transaction lands inside the window being paged (at now, or
        just inside the window when it ends before now)."""
        skus = [s for s in self.catalogue.skus.values() if s.store_id == store_id]
        if not skus:
            return
        created = self._now()
        if end is not None and created >= end:
            created = end - 1
        if start is not None and created < start:
            created = start
        with_stock = [s for s in skus if s.stock > 0]
        sku = with_stock[0] if with_stock else skus[0]
        txn = self.new_transaction(sku, 1, "buyer-shift", created)
        if states is not None and "pending" not in states:
            self.transition(txn, "paid", at=created)
