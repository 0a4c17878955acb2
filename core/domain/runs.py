"""Sync runs: one unit of work, its trigger, window, outcome, counts and items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain.ids import AccountId
from core.domain.sync import RunOutcome, SyncKind


@dataclass(frozen=True, slots=True)
class RunItem:
    """The result of one item of a run: a listing change, a stock push, an order."""

    subject: str
    operation: str
    ok: bool
    at: datetime
    error_code: str | None = None
    error_message: str | None = None
    #: The values sent to the marketplace for this item (price, stock, content
    #: hash …), as the auditor's export shows them; None when nothing was sent.
    sent: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SyncRun:
    """A recorded run; ``items`` is filled only when one run is read in full."""

    id: int
    kind: SyncKind
    account: AccountId | None
    trigger: str
    started_at: datetime
    outcome: RunOutcome
    window_start: datetime | None = None
    window_end: datetime | None = None
    finished_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: Why the run ended ``failed`` or ``interrupted`` ("" otherwise).
    error: str = ""
    items: tuple[RunItem, ...] = ()
