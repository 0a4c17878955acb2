"""The one exception tree of ikm-sync, named for what the caller must do.

```text
IkmSyncError
├── ConfigError          bad or missing settings, unknown connector key: fail at startup
├── DomainError          a canonical-store invariant would break
│   ├── UnknownSkuError      no product has that SKU
│   ├── InsufficientStockError   the movement would take on-hand below zero
│   └── IdempotencyConflictError a key already names a different movement
├── InputRejectedError   a file or request failed validation; carries every issue found
└── StoreError           the database is unreachable or not at the expected schema
```

Connector errors (transient, rate limited, auth, rejected, contract, outcome unknown)
join this tree with the connectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IkmSyncError(Exception):
    """Base of every error ikm-sync raises on purpose."""


class ConfigError(IkmSyncError):
    """Settings are missing or wrong; never retried."""


class DomainError(IkmSyncError):
    """A canonical-store invariant would break; the change was not made."""


class UnknownSkuError(DomainError):
    """No product has the given SKU."""

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(
            f"unknown SKU {sku!r}: no product has it (check `ikm-sync status`)"
        )


class InsufficientStockError(DomainError):
    """A movement would take on-hand stock below zero."""

    def __init__(self, sku: str, on_hand: int, delta: int) -> None:
        self.sku, self.on_hand, self.delta = sku, on_hand, delta
        super().__init__(
            f"SKU {sku!r}: on hand is {on_hand}, so a change of {delta:+d} would leave "
            f"{on_hand + delta}; expected the result to be 0 or more"
        )


class IdempotencyConflictError(DomainError):
    """An idempotency key was reused for a movement with different content."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} already records a different movement; "
            f"expected a new key for a new movement"
        )


@dataclass(frozen=True, slots=True)
class InputIssue:
    """One problem in input: where it is, what was found and what was expected."""

    source: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def describe(self) -> str:
        """One line naming the place, the value and the expectation."""
        place = self.source
        if self.row is not None:
            place += f", row {self.row}"
        if self.column is not None:
            place += f", column {self.column!r}"
        found = "" if self.value is None else f": got {self.value!r}"
        return f"{place}{found}: {self.expected}"


class InputRejectedError(IkmSyncError):
    """Input failed validation; nothing was written."""

    def __init__(self, issues: Sequence[InputIssue]) -> None:
        self.issues = tuple(issues)
        noun = "problem" if len(self.issues) == 1 else "problems"
        first = self.issues[0].describe() if self.issues else "no details"
        super().__init__(f"input rejected, {len(self.issues)} {noun}; first: {first}")


class StoreError(IkmSyncError):
    """The database cannot be used: unreachable, or not at the expected schema."""
