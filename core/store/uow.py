"""The SQL unit of work: one session, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.store.accounts import SqlAccountRepository
from core.store.leases import SqlLeaseRepository
from core.store.ledger import SqlStockLedger
from core.store.listings import SqlListingRepository
from core.store.orders import SqlOrderRepository
from core.store.producers import SqlProducerRepository
from core.store.products import SqlProductRepository
from core.store.runs import SqlRunRepository


class SqlUnitOfWork:
    """``core.ports.SyncUnitOfWork`` on a SQLAlchemy session; rolls back on exit."""

    producers: SqlProducerRepository
    products: SqlProductRepository
    stock: SqlStockLedger
    accounts: SqlAccountRepository
    listings: SqlListingRepository
    orders: SqlOrderRepository
    runs: SqlRunRepository
    leases: SqlLeaseRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self.producers = SqlProducerRepository(session)
        self.products = SqlProductRepository(session)
        self.stock = SqlStockLedger(session)
        self.accounts = SqlAccountRepository(session)
        self.listings = SqlListingRepository(session)
        self.orders = SqlOrderRepository(session)
        self.runs = SqlRunRepository(session)
        self.leases = SqlLeaseRepository(self._session_factory)
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
        self._require().commit()

    def rollback(self) -> None:
        self._require().rollback()
