"""``ikm-sync status`` per account: the latest run, the lease holder and its expiry
(by the database's clock), and next due time and backoff only once they are kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.domain.runs import SyncRun
from core.domain.sync import RunOutcome, SyncKind
from core.ports import AccountSchedule, AuthorisationView, LeaseView
from core.services.status import catalogue_status
from core.store.db import make_session_factory
from core.store.leases import SqlLeaseStore
from core.store.schedule import SqlScheduleStore
from core.store.uow import SqlUnitOfWork
from core.store.watch import SqlAccountWatch
from ikm_sync.commands.status import authorisation_text, status_payload
from tests.conftest import Cli
from tests.fakes import FakeClock, sql_token_store

pytestmark = pytest.mark.db

KOPI_CO = ProducerCode("IKM-NTT-001")
SHOPEE = ChannelAccount(AccountId("shopee-ntt"), Marketplace.SHOPEE, "1", (KOPI_CO,))
TOKOPEDIA = ChannelAccount(
    AccountId("tokopedia-ntt"), Marketplace.TOKOPEDIA, "2", (KOPI_CO,)
)
BUKALAPAK = ChannelAccount(
    AccountId("bukalapak-ntt"), Marketplace.BUKALAPAK, "3", (KOPI_CO,)
)


@pytest.fixture
def seeded(sql_uow: Callable[[], SqlUnitOfWork], clock: FakeClock) -> None:
    """Three accounts: shopee ran twice (orders, then a failed push) and is leased;
    tokopedia never ran and its lease expired; bukalapak never ran nor was leased."""
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(KOPI_CO, "Koperasi", ProducerKind.IKM, "NTT", "Ngada")],
            clock.now(),
        )
        for account in (SHOPEE, TOKOPEDIA, BUKALAPAK):
            uow.accounts.save(account, clock.now())
        first = uow.runs.start(SyncKind.ORDERS, SHOPEE.id, "schedule", clock.now())
        uow.runs.finish(first, RunOutcome.SUCCEEDED, {}, clock.now())
        second = uow.runs.start(
            SyncKind.PUBLISH, SHOPEE.id, "manual:officer:ani", clock.now()
        )
        uow.runs.finish(second, RunOutcome.FAILED, {}, clock.now(), error="shop closed")
        uow.commit()


def watch(engine: sa.Engine) -> SqlAccountWatch:
    return SqlAccountWatch(make_session_factory(engine))


def test_status_shows_each_accounts_latest_run_and_lease(
    engine: sa.Engine, sql_uow: Callable[[], SqlUnitOfWork], seeded: None
) -> None:
    leases = SqlLeaseStore(make_session_factory(engine))
    held = leases.acquire(SHOPEE.id, "host-a:12:abcd", timedelta(minutes=5))
    stale = leases.acquire(TOKOPEDIA.id, "host-b:34:ef01", timedelta(0))
    assert held is not None
    assert stale is not None

    report = catalogue_status(sql_uow(), watch(engine))

    by_id = {a.account.id: a for a in report.accounts}
    shopee = by_id[SHOPEE.id]
    assert shopee.last_run is not None
    assert (shopee.last_run.kind, shopee.last_run.outcome, shopee.last_run.trigger) == (
        SyncKind.PUBLISH,
        RunOutcome.FAILED,
        "manual:officer:ani",
    )
    assert shopee.lease is not None
    assert shopee.lease.holder == "host-a:12:abcd"
    assert shopee.lease.live
    now = datetime.now(UTC)
    assert now < shopee.lease.expires_at <= now + timedelta(minutes=6)
    tokopedia = by_id[TOKOPEDIA.id]
    assert tokopedia.last_run is None
    assert tokopedia.lease is not None
    assert not tokopedia.lease.live
    bukalapak = by_id[BUKALAPAK.id]
    assert (bukalapak.last_run, bukalapak.lease) == (None, None)
    # this schema keeps no schedule: unknown, not "never due"
    assert not report.scheduled
    assert all(a.schedule is None for a in report.accounts)


def test_a_released_lease_is_shown_free(
    engine: sa.Engine, sql_uow: Callable[[], SqlUnitOfWork], seeded: None
) -> None:
    leases = SqlLeaseStore(make_session_factory(engine))
    fence = leases.acquire(SHOPEE.id, "host-a:12:abcd", timedelta(minutes=5))
    assert fence is not None
    leases.release(fence)
    report = catalogue_status(sql_uow(), watch(engine))
    assert {a.account.id: a.lease for a in report.accounts}[SHOPEE.id] is None


class _Scheduled:
    """A watch whose store keeps due times and backoff (as a daemon's will)."""

    def __init__(self, due: datetime) -> None:
        self.due = due

    def last_runs(self) -> dict[AccountId, SyncRun]:
        return {}

    def leases(self) -> dict[AccountId, LeaseView]:
        return {}

    def schedules(self) -> dict[AccountId, AccountSchedule] | None:
        return {
            SHOPEE.id: AccountSchedule(
                self.due, self.due, failures=3, reason="marketplace down"
            ),
            TOKOPEDIA.id: AccountSchedule(self.due),
        }

    def in_step(self) -> dict[AccountId, datetime]:
        return {}

    def authorisations(self) -> dict[AccountId, AuthorisationView]:
        return {}


def test_next_due_and_backoff_are_shown_once_kept(
    sql_uow: Callable[[], SqlUnitOfWork], seeded: None, clock: FakeClock
) -> None:
    due = clock.now() + timedelta(minutes=5)
    payload = status_payload(catalogue_status(sql_uow(), _Scheduled(due)))
    assert payload["scheduled"] is True
    by_id = {a["id"]: a for a in payload["accounts"]}
    assert by_id["shopee-ntt"]["next_due"] == due.isoformat()
    assert by_id["shopee-ntt"]["backoff"] == {
        "until": due.isoformat(),
        "failures": 3,
        "reason": "marketplace down",
    }
    assert by_id["tokopedia-ntt"]["next_due"] == due.isoformat()
    assert by_id["tokopedia-ntt"]["backoff"] is None
    assert (by_id["bukalapak-ntt"]["next_due"], by_id["bukalapak-ntt"]["backoff"]) == (
        None,
        None,
    )


def test_the_schedule_a_daemon_keeps_is_read_back_with_its_backoff(
    engine: sa.Engine, sql_uow: Callable[[], SqlUnitOfWork], seeded: None
) -> None:
    schedule = SqlScheduleStore(make_session_factory(engine))
    assert schedule.ensure(
        "cycle", {SHOPEE.id: timedelta(0), TOKOPEDIA.id: timedelta(0)}
    )
    before = datetime.now(UTC)
    failures = schedule.failed(
        "cycle", SHOPEE.id, "failed", "marketplace down", lambda n: timedelta(hours=n)
    )
    assert failures == 1
    schedules = watch(engine).schedules()
    assert schedules is not None
    assert set(schedules) == {SHOPEE.id, TOKOPEDIA.id}  # Bukalapak: never scheduled
    shopee = schedules[SHOPEE.id]
    assert (shopee.failures, shopee.reason) == (1, "marketplace down")
    assert shopee.backoff_until is not None
    assert before + timedelta(minutes=59) < shopee.backoff_until
    assert schedules[TOKOPEDIA.id].backoff_until is None
    report = catalogue_status(sql_uow(), watch(engine))
    assert report.scheduled


@pytest.mark.e2e
def test_status_command_shows_account_work(
    cli: Cli, engine: sa.Engine, seeded: None
) -> None:
    leases = SqlLeaseStore(make_session_factory(engine))
    assert leases.acquire(SHOPEE.id, "host-a:12:abcd", timedelta(minutes=5))

    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    shopee = next(a for a in payload["accounts"] if a["id"] == "shopee-ntt")
    assert shopee["last_run"]["kind"] == "publish"
    assert shopee["last_run"]["outcome"] == "failed"
    assert shopee["last_run"]["trigger"] == "manual:officer:ani"
    assert shopee["lease"]["holder"] == "host-a:12:abcd"
    assert shopee["lease"]["live"] is True
    assert (shopee["next_due"], shopee["backoff"]) == (None, None)
    assert payload["scheduled"] is False

    text = cli("status")
    assert text.exit_code == 0, text.output
    assert "Account work" in text.stdout
    assert "host-a:12:abcd until" in text.stdout
    assert "publish failed" in text.stdout
    assert "next due times and backoff: none kept yet" in text.stdout


def _record_ends(
    engine: sa.Engine, clock: FakeClock, ends: dict[str, datetime]
) -> None:
    tokens = sql_token_store(make_session_factory(engine), clock)
    for account, at in ends.items():
        tokens.record_authorisation_expiry(AccountId(account), at)


def test_status_judges_each_accounts_authorisation_at_its_clock(
    engine: sa.Engine,
    sql_uow: Callable[[], SqlUnitOfWork],
    seeded: None,
    clock: FakeClock,
) -> None:
    now = clock.now()
    _record_ends(
        engine,
        clock,
        {
            "shopee-ntt": now + timedelta(days=14),  # on the window's boundary
            "tokopedia-ntt": now + timedelta(days=14, seconds=1),
        },
    )
    report = catalogue_status(sql_uow(), watch(engine))
    payload = status_payload(report, now, timedelta(days=14))
    by_id = {a["id"]: a["authorisation"] for a in payload["accounts"]}
    assert by_id["shopee-ntt"] == {
        "expires_at": (now + timedelta(days=14)).isoformat(),
        "state": "expires_soon",
        "days_left": 14,
        "needs_reauthorisation": False,
        "reason": "",
    }
    assert by_id["tokopedia-ntt"]["state"] == "valid"
    assert by_id["bukalapak-ntt"] == {
        "expires_at": None,
        "state": "unknown",
        "days_left": None,
        "needs_reauthorisation": False,
        "reason": "",
    }
    ends_on = (now + timedelta(days=14)).astimezone(UTC).date().isoformat()
    assert authorisation_text(by_id["shopee-ntt"]) == (
        f"expires on {ends_on} (in 14 days): renew soon"
    )
    assert authorisation_text(by_id["tokopedia-ntt"]) == "expires in 14 days"
    assert authorisation_text(by_id["bukalapak-ntt"]) == "end not known"
    later = status_payload(report, now + timedelta(days=14), timedelta(days=14))
    ended = {a["id"]: a["authorisation"] for a in later["accounts"]}["shopee-ntt"]
    assert ended["state"] == "expired"
    assert authorisation_text(ended) == f"expired {ended['expires_at']}"
    last_day = status_payload(report, now + timedelta(days=13, hours=1))
    one = {a["id"]: a["authorisation"] for a in last_day["accounts"]}["shopee-ntt"]
    assert authorisation_text(one) == (
        f"expires on {ends_on} (in less than a day): renew soon"
    )


@pytest.mark.e2e
def test_status_command_shows_authorisations(
    cli: Cli, engine: sa.Engine, seeded: None, clock: FakeClock
) -> None:
    # The command reads the system clock: an hour's margin keeps the days whole.
    now = datetime.now(UTC)
    _record_ends(
        engine,
        clock,
        {
            "shopee-ntt": now + timedelta(days=10, hours=1),
            "tokopedia-ntt": now - timedelta(days=2),
            "bukalapak-ntt": now + timedelta(days=200, hours=1),
        },
    )
    tokens = sql_token_store(make_session_factory(engine), clock)
    with tokens.refreshing(TOKOPEDIA.id) as held:
        held.save(replace(held.current, needs_reauthorisation=True, reason="ended"))

    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    by_id = {a["id"]: a["authorisation"] for a in json.loads(result.stdout)["accounts"]}
    assert (by_id["shopee-ntt"]["state"], by_id["shopee-ntt"]["days_left"]) == (
        "expires_soon",
        10,
    )
    assert by_id["tokopedia-ntt"]["state"] == "expired"
    assert by_id["tokopedia-ntt"]["needs_reauthorisation"] is True
    assert by_id["bukalapak-ntt"]["state"] == "valid"

    text = cli("status")
    assert text.exit_code == 0, text.output
    flat = " ".join(text.stdout.split())
    assert "authorisation" in flat
    ends_on = (now + timedelta(days=10, hours=1)).date().isoformat()
    assert f"expires on {ends_on} (in 10 days): renew soon" in flat
    assert "expires in 200 days" in flat
    assert "needs re-authorisation (ended)" in flat

    narrow = cli(
        "status", "--json", env={"IKMSYNC_SCHEDULER__AUTHORISATION_WARNING_DAYS": "7"}
    )
    narrowed = {
        a["id"]: a["authorisation"] for a in json.loads(narrow.stdout)["accounts"]
    }
    assert narrowed["shopee-ntt"]["state"] == "valid"
