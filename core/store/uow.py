"""The SQL unit of work: one session, one transaction, every repository.

A unit of work given a :class:`~core.ports.Fence` is *fenced*: just before ``COMMIT``
it checks, in the same transaction, that the fence still holds its account's lease
(:func:`core.store.leases.fence_holds`, which explains why no takeover can slip in
between), and rolls everything back with :class:`~core.errors.LeaseLostError` when
it does not. Every write of account work (ledger movements, orders, bookmarks,
listing state, run records) commits through it.

The units of work of one job (:func:`fenced_units`) share a cache of account row
ids, so a job looks its account's row id up once, not in every unit of work: an
account's row id never changes while it is leased (accounts are never deleted).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Self

import structlog
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.domain.ids import AccountId
from core.errors import LeaseLostError
from core.ports import Fence
from core.store.accounts import ROW_IDS, SqlAccountRepository
from core.store.audit import SqlAuditLog
from core.store.leases import fence_holds
from core.store.ledger import SqlStockLedger
from core.store.listings import SqlListingRepository
from core.store.orders import SqlOrderRepository
from core.store.producers import SqlProducerRepository
from core.store.products import SqlProductRepository
from core.store.runs import SqlRunRepository
from core.store.users import SqlUserRepository

log = structlog.get_logger(__name__)


class SqlUnitOfWork:
    """``core.ports.SyncUnitOfWork`` on a SQLAlchemy session; rolls back on exit."""

    producers: SqlProducerRepository
    products: SqlProductRepository
    stock: SqlStockLedger
    accounts: SqlAccountRepository
    listings: SqlListingRepository
    orders: SqlOrderRepository
    runs: SqlRunRepository
    audit: SqlAuditLog
    users: SqlUserRepository

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        fence: Fence | None = None,
        row_ids: dict[AccountId, int] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._fence = fence
        self._row_ids = row_ids
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._session_factory()
        if self._row_ids is not None:
            session.info[ROW_IDS] = self._row_ids
        self._session = session
        self.producers = SqlProducerRepository(session)
        self.products = SqlProductRepository(session)
        self.stock = SqlStockLedger(session)
        self.accounts = SqlAccountRepository(session)
        self.listings = SqlListingRepository(session)
        self.orders = SqlOrderRepository(session)
        self.runs = SqlRunRepository(session)
        self.audit = SqlAuditLog(session)
        self.users = SqlUserRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require()
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None

    def _require(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use it in a with block")
        return self._session

    def commit(self) -> None:
        """Commit; a fenced unit of work first checks its lease (see the module).

        Raises:
            LeaseLostError: the fence no longer holds the lease; nothing was kept.
        """
        session = self._require()
        if self._fence is not None and not fence_holds(session, self._fence):
            session.rollback()
            log.warning(
                "lease.write_refused",
                account=self._fence.account,
                holder=self._fence.holder,
                epoch=self._fence.epoch,
            )
            raise LeaseLostError(
                f"account {self._fence.account!r}: the lease of "
                f"{self._fence.holder} (epoch {self._fence.epoch}) has expired or "
                "passed to another holder; the write was refused"
            )
        session.commit()

    def rollback(self) -> None:
        self._require().rollback()


def fenced_units(
    session_factory: sessionmaker[Session], fence: Fence
) -> Callable[[], SqlUnitOfWork]:
    """A job's units of work: fenced with ``fence``, sharing one cache of account
    row ids."""
    return partial(SqlUnitOfWork, session_factory, fence, {})
