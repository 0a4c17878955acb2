"""The one exception tree of ikm-sync, named for what the caller must do.

```text
IkmSyncError
├── ConfigError          bad or missing settings, unknown connector key: fail at startup
├── DomainError          a canonical-store invariant would break
│   ├── UnknownSkuError      no product has that SKU
│   ├── InsufficientStockError   the movement would take on-hand below zero
│   └── IdempotencyConflictError a key already names a different movement
├── InputRejectedError   a file or request failed validation; carries every issue found
├── StoreError           the database is unreachable or not at the expected schema
│   ├── DatabaseUnreachableError the server does not answer, the file cannot be opened
│   ├── DatabaseLockedError      another process held a lock longer than ikm-sync waits
│   ├── DatabaseReadOnlyError    the file or the server refuses writes
│   └── DatabaseFullError        the disk holding the database is full
├── RunInterruptedError  the process was asked to stop; the work ended at a safe point
└── ConnectorError       raised by connectors; says where (marketplace, account, call)
    ├── TransientError       network, timeout, 408, 5xx: retried by connectors/_http.py
    │   └── RateLimitError       throttled; carries the wait the marketplace asked for
    ├── AuthError            token revoked, shop unlinked: re-authorise, alert
    ├── RejectedError        the marketplace refused the input; field reasons
    ├── ContractError        the answer did not match the documented contract
    │   └── UnreadableAnswerError  not JSON, cut short, wrong shape: reads retried
    └── OutcomeUnknownError  a create whose answer never came: look it up first
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack


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
            f"unknown SKU {sku!r}: no product has it (`ikm-sync catalog export "
            "products.csv` lists every SKU; `ikm-sync catalog import` adds products)"
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


class DatabaseUnreachableError(StoreError):
    """No connection: the server does not answer or the file cannot be opened."""


class DatabaseLockedError(StoreError):
    """Another process held the database's write lock longer than ikm-sync waits."""


class DatabaseReadOnlyError(StoreError):
    """The database refuses writes (file permissions, a read-only server)."""


class DatabaseFullError(StoreError):
    """The disk (or quota) holding the database is full."""


class LeaseLostError(IkmSyncError):
    """A write was refused because its account's lease is no longer the writer's
    (expired and taken by another holder, or released); nothing of it was kept."""


class AccountBusyError(IkmSyncError):
    """Another holder (process or machine) holds the account's lease now."""


class RunInterruptedError(IkmSyncError):
    """The process was asked to stop (SIGTERM, SIGINT); the work stopped at a safe
    point, between transactions, and the next run continues from there."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(
            f"stopped by {signal_name} before it finished; the next run continues "
            "from here"
        )


class Where(TypedDict, total=False):
    """Where a connector error happened (all optional)."""

    marketplace: str
    account: str
    operation: str
    request_id: str


class ConnectorError(IkmSyncError):
    """A marketplace call failed; raised only by connectors.

    Messages never hold secrets, tokens or signed URLs; ``request_id`` is the
    marketplace's id for the call when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        marketplace: str = "",
        account: str = "",
        operation: str = "",
        request_id: str = "",
    ) -> None:
        self.marketplace, self.account = marketplace, account
        self.operation, self.request_id = operation, request_id
        self.reason = message
        where = " ".join(
            part
            for part in (
                marketplace,
                f"account {account}" if account else "",
                operation,
            )
            if part
        )
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{where}: {message}{suffix}" if where else message + suffix)


class TransientError(ConnectorError):
    """Worth retrying later: network trouble, a timeout, 408 or 5xx.

    ``sent`` is False when the request provably never left (the connection was
    refused), which makes even a non-idempotent call safe to repeat.
    """

    def __init__(
        self, message: str, *, sent: bool = True, **where: Unpack[Where]
    ) -> None:
        super().__init__(message, **where)
        self.sent = sent


class RateLimitError(TransientError):
    """Throttled; ``retry_after`` is the wait the marketplace asked for, if any.

    A throttled request was refused before it was processed, so ``sent`` defaults to
    False: even a create may be sent again after the wait.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        sent: bool = False,
        **where: Unpack[Where],
    ) -> None:
        super().__init__(message, sent=sent, **where)
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """The account cannot be used until it is authorised again; alert an officer.

    ``reauthorise`` is False when the fault is the app's own credentials (a wrong
    secret, an undeclared IP): fixing the settings is enough, the seller need not act.
    """

    def __init__(
        self, message: str, *, reauthorise: bool = True, **where: Unpack[Where]
    ) -> None:
        super().__init__(message, **where)
        self.reauthorise = reauthorise


class RejectedError(ConnectorError):
    """The marketplace refused the input; ``fields`` maps field names to reasons."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        fields: dict[str, str] | None = None,
        **where: Unpack[Where],
    ) -> None:
        super().__init__(message, **where)
        self.code = code
        self.fields = dict(fields or {})


class ContractError(ConnectorError):
    """The answer did not match the documented contract (unparseable, wrong shape)."""


class UnreadableAnswerError(ContractError):
    """The answer could not be read: not JSON, cut short, or not the documented shape.

    A read (an idempotent ``GET``) is sent again like a transient failure; a create's
    unreadable answer leaves its outcome unknown (:class:`OutcomeUnknownError`)."""


class OutcomeUnknownError(ConnectorError):
    """A call that is not idempotent (a create) may or may not have been applied: no
    answer came, a server error or an answer that cannot be read. Resolve it by looking
    the item up before anything is retried."""
