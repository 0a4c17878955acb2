"""An account's lease is renewed while its job runs, and released after; a job
whose renewal fails is asked to stop."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.services.stopping import StopRequest
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from core.store.tables import AccountLeaseRow
from core.store.uow import SqlUnitOfWork
from scheduler.leases import LEASE_LOST, LeaseTerms, renewing, take
from tests.fakes import FakeClock

pytestmark = pytest.mark.db

ACCOUNT = ChannelAccount(
    AccountId("shopee-ntt"), Marketplace.SHOPEE, "220011", (ProducerCode("IKM-1"),)
)
#: A one-second lease renewed every 50 ms: the test outlasts the first lease.
TERMS = LeaseTerms(timedelta(seconds=1), timedelta(milliseconds=50))


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def leases(
    sql_uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, clock: FakeClock
) -> SqlLeaseStore:
    with sql_uow() as uow:
        uow.producers.add_many(
            [
                Producer(
                    ProducerCode("IKM-1"), "Koperasi", ProducerKind.IKM, "NTT", "Ngada"
                )
            ],
            clock.now(),
        )
        uow.accounts.save(ACCOUNT, clock.now())
        uow.commit()
    return SqlLeaseStore(make_session_factory(engine))


def _expiry(engine: sa.Engine) -> datetime | None:
    with Session(engine) as session:
        found = session.execute(sa.select(col(AccountLeaseRow.expires_at))).scalar()
    assert found is None or isinstance(found, datetime)
    return found


def test_a_long_job_keeps_its_lease_and_gives_it_back(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    fence = take(leases, ACCOUNT.id, "host:1:runner", TERMS)
    assert fence is not None
    first = _expiry(engine)
    assert first is not None
    stop = StopRequest()
    with renewing(leases, fence, TERMS, stop):
        # the job runs past the first lease's end; the renewals move it on
        assert _wait_for(lambda: datetime.now(UTC) > first + timedelta(seconds=0.5))
        assert leases.acquire(ACCOUNT.id, "other", TERMS.duration) is None
        assert leases.holder(ACCOUNT.id) == "host:1:runner"
        assert not stop.requested
    assert leases.holder(ACCOUNT.id) is None
    assert leases.acquire(ACCOUNT.id, "other", TERMS.duration) is not None


def test_a_job_whose_lease_passed_on_is_asked_to_stop(
    leases: SqlLeaseStore, engine: sa.Engine
) -> None:
    fence = take(leases, ACCOUNT.id, "host:1:runner", TERMS)
    assert fence is not None
    parent = StopRequest()
    stop = StopRequest(parent=parent)
    with renewing(leases, fence, TERMS, stop):
        # another holder takes the account (as after a pause past the lease)
        with Session(engine) as session:
            session.execute(
                sa.update(AccountLeaseRow).values(
                    holder="host:2:other", epoch=AccountLeaseRow.epoch + 1
                )
            )
            session.commit()
        assert _wait_for(lambda: stop.requested)
    assert stop.reason == LEASE_LOST
    assert not parent.requested  # only this job stops
    assert leases.holder(ACCOUNT.id) == "host:2:other"  # not released by the loser
