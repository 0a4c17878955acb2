"""An account's lease is renewed while its work runs, and released after."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.services import cycle
from core.store.tables import AccountLeaseRow
from core.store.uow import SqlUnitOfWork
from tests.fakes import FakeClock

pytestmark = pytest.mark.db

ACCOUNT = ChannelAccount(
    AccountId("shopee-ntt"), Marketplace.SHOPEE, "220011", (ProducerCode("IKM-1"),)
)


def _wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_long_run_keeps_its_lease_and_gives_it_back(
    sql_uow: Callable[[], SqlUnitOfWork],
    engine: sa.Engine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
    monkeypatch.setattr(cycle, "RENEW_EVERY", timedelta(seconds=0.02))

    def other_wins() -> bool:
        with sql_uow() as uow:
            now = clock.now()
            return uow.leases.acquire(ACCOUNT.id, "other", now, now + cycle.LEASE)

    with cycle.leased(sql_uow, ACCOUNT, clock, "host:1:runner") as held:
        assert held
        # the work runs past the first lease's end; the renewals move it on
        clock.advance(minutes=20)
        start = clock.now()

        def renewed() -> bool:
            with Session(engine) as session:
                lease = session.exec(select(AccountLeaseRow)).one()
            return lease.holder == "host:1:runner" and lease.expires_at > start

        assert _wait_for(renewed)
        assert not other_wins()
    with sql_uow() as uow:
        assert uow.leases.holder(ACCOUNT.id) is None
    assert other_wins()
