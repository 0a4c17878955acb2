"""Vocabulary of listings, orders and sync runs, shared by the store and the engine."""

from __future__ import annotations

from enum import StrEnum


class ListingState(StrEnum):
    """Life of a listing: the intent to create is recorded before the request."""

    PENDING = "pending"
    CREATING = "creating"
    LIVE = "live"
    FAILED = "failed"
    DELISTED = "delisted"


class OrderStatus(StrEnum):
    """Canonical order status; each connector maps its marketplace's statuses to it."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    READY_TO_SHIP = "ready_to_ship"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class SyncKind(StrEnum):
    """What a sync run does."""

    PUBLISH = "publish"
    STOCK = "stock"
    ORDERS = "orders"
    RECONCILE = "reconcile"


class RunOutcome(StrEnum):
    """How a sync run ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    #: Stopped at a safe point because the process was asked to stop (SIGTERM,
    #: SIGINT); what was committed stays, the next run continues from there.
    INTERRUPTED = "interrupted"
    #: Left ``running`` by a process that died or lost the account's lease; closed
    #: by the daemon's sweep once no live lease covers the account.
    ABANDONED = "abandoned"
    #: Not run: another process held the account, or the command was stopping
    #: before the account's turn (reported, never stored).
    SKIPPED = "skipped"
