"""The daemon's token check also reads the shop's authorisation end (the Shopee
connector on its simulator), records it, and the operations gauge counts the accounts
whose authorisation ends within the warning window or has ended."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TypeVar, cast

import pytest
from structlog.testing import capture_logs

from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.ports import AuthorisationView, MarketplaceConnector
from core.services.stopping import StopRequest
from scheduler.daemon import Daemon, DaemonOptions
from scheduler.ops import metrics
from scheduler.runner import AccountJobRunner, JobContext
from scheduler.timing import Intervals
from simulators.kit.clock import SimClock
from simulators.shopee import ShopeeSimulator
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build
from tests.fakes import FakeTokenStore
from tests.unit.test_daemon import ClockedSchedule

T = TypeVar("T")
WINDOW = timedelta(days=14)


@dataclass
class _Context:
    account: ChannelAccount
    connector: MarketplaceConnector
    clock: SimClock


@dataclass
class _ExclusiveRunner:
    """The runner's surface the token check uses: work under the account's lease
    (always free here), with the account's connector."""

    connector: MarketplaceConnector
    clock: SimClock
    workers: int = 1
    stop: StopRequest = field(default_factory=StopRequest)

    def run_exclusive(
        self, account: ChannelAccount, work: Callable[[JobContext], T]
    ) -> T:
        return work(cast(JobContext, _Context(account, self.connector, self.clock)))


class _TokenWatch:
    """``AccountWatch.authorisations`` over the fake token store."""

    def __init__(self, tokens: FakeTokenStore) -> None:
        self.tokens = tokens

    def authorisations(self) -> dict[AccountId, AuthorisationView]:
        return {
            AccountId(k): AuthorisationView(
                t.authorisation_expires_at, t.needs_reauthorisation, t.reason
            )
            for k, t in self.tokens.tokens.items()
        }


@contextmanager
def _gauges_reset() -> Iterator[None]:
    yield
    metrics.set_authorisations(expires_soon=0, expired=0)


@pytest.fixture
def shopee() -> Harness:
    return build("shopee", FakeTime())


def _daemon(market: Harness, *, watch: bool = True) -> Daemon:
    tokens = market.tokens
    assert isinstance(tokens, FakeTokenStore)
    account = market.account
    daemon = Daemon(
        cast(AccountJobRunner, _ExclusiveRunner(market.connector, market.clock)),
        ClockedSchedule(market.clock),  # type: ignore[arg-type]
        tokens,
        lambda: [account],
        DaemonOptions(
            cycles=Intervals(timedelta(minutes=5)), authorisation_warning=WINDOW
        ),
        watch=_TokenWatch(tokens) if watch else None,  # type: ignore[arg-type]
    )
    daemon.refresh()
    daemon._claiming.set()  # as serve() does before its jobs run
    return daemon


def _access_token_expiring(market: Harness) -> None:
    tokens = cast(FakeTokenStore, market.tokens)
    account = market.account.id
    tokens.tokens[account] = replace(
        tokens.load(account),
        access_expires_at=market.clock.now() + timedelta(minutes=5),
    )


def _gauge(state: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "ikm_sync_account_authorisations", {"state": state}
    )


def test_the_token_check_records_the_end_and_the_gauge_counts_it(
    shopee: Harness,
) -> None:
    account = shopee.account.id
    now = shopee.clock.timestamp()
    shopee.sim(ShopeeSimulator).set_authorisation(expire_time=now + 10 * 86_400)
    daemon = _daemon(shopee)
    _access_token_expiring(shopee)
    with capture_logs() as logs, _gauges_reset():
        daemon._refresh_tokens()
        stored = shopee.tokens.load(account)
        assert stored.authorisation_expires_at is not None
        assert int(stored.authorisation_expires_at.timestamp()) == now + 10 * 86_400
        assert stored.access_expires_at is not None
        assert stored.access_expires_at > shopee.clock.now() + timedelta(hours=3)
        daemon._publish_counts()
        assert (_gauge("expires_soon"), _gauge("expired")) == (1.0, 0.0)
        # Past the end by the daemon's clock (Shopee not asked again): expired.
        shopee.clock.advance(days=10)
        daemon._publish_counts()
        assert (_gauge("expires_soon"), _gauge("expired")) == (0.0, 1.0)
    events = [e["event"] for e in logs]
    assert "authorisation.expires_soon" in events
    assert "tokens.refreshed_ahead" in events


def test_an_end_outside_the_window_is_not_counted(shopee: Harness) -> None:
    daemon = _daemon(shopee)
    _access_token_expiring(shopee)
    with _gauges_reset():
        metrics.set_authorisations(expires_soon=5, expired=5)
        daemon._refresh_tokens()
        daemon._publish_counts()
        assert (_gauge("expires_soon"), _gauge("expired")) == (0.0, 0.0)
    assert shopee.tokens.load(shopee.account.id).authorisation_expires_at


def test_negative_authorisation_counts_are_refused_and_change_nothing() -> None:
    with _gauges_reset():
        metrics.set_authorisations(expires_soon=2, expired=1)
        with pytest.raises(ValueError, match="expired: expected a count >= 0"):
            metrics.set_authorisations(expires_soon=3, expired=-1)
        assert (_gauge("expires_soon"), _gauge("expired")) == (2.0, 1.0)
