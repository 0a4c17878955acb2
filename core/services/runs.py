"""Recording sync runs: started at once, items as they happen, one finish line."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextvars import Token
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from core.audit.events import Acting, bind_run, restore
from core.domain.ids import AccountId
from core.domain.remote import OrderWindow
from core.domain.runs import RunItem
from core.domain.sync import RunOutcome, SyncKind
from core.domain.triggers import is_manual
from core.errors import ConnectorError, RejectedError, RunInterruptedError, StoreError
from core.ports import Clock, SyncUnitOfWork

log = structlog.get_logger(__name__)

UnitOfWorkFactory = Callable[[], SyncUnitOfWork]


def error_code(error: BaseException) -> str:
    """A short code for an item's error: the marketplace's code when it gave one."""
    if isinstance(error, RejectedError) and error.code:
        return f"{type(error).__name__}:{error.code}"
    return type(error).__name__


#: Where a database error's own text ends and the statement, its values or the
#: library's help link begin (SQLAlchemy puts each on a line of its own).
_STATEMENT_DETAIL = re.compile(
    r"\s*(?:\[SQL:|\[parameters:|\[SQL parameters|\(Background)"
)


def error_text(error: BaseException) -> str:
    """The text a run or an item keeps of its error, shown to users and logged.

    Connector errors carry no secrets and store errors are plain sentences without
    SQL. Any other error keeps its own message only: a database error's statement and
    the values bound to it (tokens among them) never reach the text.
    """
    if isinstance(error, ConnectorError | StoreError):
        return str(error)[:2000]
    text = _STATEMENT_DETAIL.split(str(error), maxsplit=1)[0].strip()
    return f"{type(error).__name__}: {text}"[:2000]


@dataclass(frozen=True, slots=True)
class RunReport:
    """How one account's run went (``run_id`` 0 when it was skipped, or had
    nothing to do and so left no row)."""

    account: AccountId
    kind: SyncKind
    run_id: int
    outcome: RunOutcome
    counts: dict[str, int]
    error: str = ""
    window: OrderWindow | None = None


@dataclass
class RunRecorder:
    """One run in the store.

    :meth:`start` commits the ``running`` row at once, so a run cut short is
    visible. A run begun with :meth:`open` instead is *lazy*: its row is written
    only once the run does something: with its first store write
    (:meth:`commit`), before its first marketplace write (:meth:`ensure`), or when
    it fails or is interrupted (:meth:`finish`). A lazy run that succeeded having
    written nothing leaves no row (``run_id`` stays 0): the log grows with what
    happened, not with time. Either way a run killed after it began writing is
    left ``running``. A run a person started (a ``manual:`` trigger) is never
    lazy: who asked, and when, stays on record even when it found nothing to do;
    the scheduler's and the webhooks' runs are."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
    kind: SyncKind
    account: AccountId | None
    trigger: str
    run_id: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    succeeded: int = 0
    _started: float = 0.0
    _started_at: datetime | None = None
    _window: OrderWindow | None = None
    _lazy: bool = False
    _bound: int = 0
    _token: Token[Acting] | None = None

    def start(self, window: OrderWindow | None = None) -> int:
        """Record the run as running; returns its id."""
        self._begin(window)
        self._lazy = False
        return self.ensure()

    def open(self, window: OrderWindow | None = None) -> None:
        """Begin the run without writing its row yet (see the class); a manual
        run's row is written at once."""
        if is_manual(self.trigger):
            self.start(window)
            return
        self._begin(window)
        self._lazy = True

    def _begin(self, window: OrderWindow | None) -> None:
        self._started = time.monotonic()
        self._started_at = self.clock.now()
        self._window = window

    def ensure(self) -> int:
        """The run's row, written (``running``) in a transaction of its own unless
        it is already; call it before a marketplace write. Returns the run's id."""
        if not self.run_id:
            with self.uow_factory() as uow:
                run_id = self._insert(uow)
                uow.commit()
            self._written(run_id)
        return self.run_id

    def _bind(self, run_id: int) -> None:
        """Events recorded from now on (those committed with the run's row
        among them) belong to the run, until :meth:`finish` restores the acting
        context: a worker thread's next job starts unbound."""
        if run_id != self._bound:
            token = bind_run(run_id)
            self._token = self._token or token
            self._bound = run_id

    def _unbind(self) -> None:
        if self._token is not None:
            restore(self._token)
            self._token = None
            self._bound = 0

    def commit(self, uow: SyncUnitOfWork, items: Sequence[RunItem] = ()) -> None:
        """Write ``items`` in ``uow`` and commit it, with the run's row when it is
        not written yet (one transaction: the row exists exactly when the work
        does)."""
        run_id = self.run_id or self._insert(uow)
        if items:
            uow.runs.add_items(run_id, items)
        uow.commit()
        self._written(run_id)

    def _written(self, run_id: int) -> None:
        """The run has its row; a lazy run's id goes into the log context from
        now on (bound by the service around the run, so it ends with it)."""
        self._bind(run_id)
        if run_id != self.run_id:
            self.run_id = run_id
            if self._lazy:
                structlog.contextvars.bind_contextvars(run_id=run_id)

    def _insert(self, uow: SyncUnitOfWork) -> int:
        """The run's row, started when the run began (:meth:`open`)."""
        at = self._started_at or self.clock.now()
        run_id = uow.runs.start(self.kind, self.account, self.trigger, at, self._window)
        self._bind(run_id)  # before the commit: its events are the run's
        return run_id

    def item(
        self,
        subject: str,
        operation: str,
        error: BaseException | None = None,
        sent: Mapping[str, Any] | None = None,
    ) -> RunItem:
        """An item result, counted (``<operation>`` or ``<operation>_failed``);
        ``sent``: the values sent to the marketplace for it (price, stock,
        content hash), kept for the auditor whether or not it took."""
        if error is None:
            self.counts[operation] += 1
            self.succeeded += 1
        else:
            self.counts[f"{operation}_failed"] += 1
            self.failed += 1
        return RunItem(
            subject=subject,
            operation=operation,
            ok=error is None,
            at=self.clock.now(),
            error_code=None if error is None else error_code(error),
            error_message=None if error is None else error_text(error),
            sent=sent,
        )

    def add(self, uow: SyncUnitOfWork, items: Sequence[RunItem]) -> None:
        """Write items in ``uow`` (committed with the work they describe) of a run
        whose row is written (:meth:`start`, :meth:`ensure`)."""
        if items:
            uow.runs.add_items(self.run_id, items)

    def report(
        self, outcome: RunOutcome, error: str = "", window: OrderWindow | None = None
    ) -> RunReport:
        """The report of this run."""
        assert self.account is not None  # noqa: S101  (account runs only)
        return RunReport(
            self.account,
            self.kind,
            self.run_id,
            outcome,
            dict(self.counts),
            error,
            window,
        )

    def interrupted(self, reason: RunInterruptedError) -> RunOutcome:
        """Record the run as stopped at a safe point (``interrupted``)."""
        self.ensure()  # an interruption is recorded even of a run that only read
        log.warning("sync_run.interrupted", run_id=self.run_id, reason=str(reason))
        return self.finish(RunOutcome.INTERRUPTED, str(reason))

    def finish(self, outcome: RunOutcome | None = None, error: str = "") -> RunOutcome:
        """Record how the run ended (unless an ``outcome`` is given: ``partial`` when
        some items failed, ``failed`` when all did) and log the one
        ``sync_run.finished`` line. A lazy run that wrote nothing and succeeded
        leaves no row (see the class)."""
        if outcome is not None:
            final = outcome
        elif not self.failed:
            final = RunOutcome.SUCCEEDED
        else:  # every item failed: nothing of the run took effect
            final = RunOutcome.PARTIAL if self.succeeded else RunOutcome.FAILED
        counts = dict(self.counts)
        try:
            if self.run_id or final is not RunOutcome.SUCCEEDED:
                with self.uow_factory() as uow:
                    run_id = self.run_id or self._insert(uow)
                    uow.runs.finish(run_id, final, counts, self.clock.now(), error)
                    uow.commit()
                self._written(run_id)
        finally:
            self._unbind()
        log.info(
            "sync_run.finished",
            run_id=self.run_id,
            kind=self.kind.value,
            account=self.account,
            trigger=self.trigger,
            outcome=final.value,
            counts=counts,
            error=error or None,
            duration_ms=round((time.monotonic() - self._started) * 1000),
        )
        return final
