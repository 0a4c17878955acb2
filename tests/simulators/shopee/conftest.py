"""Fixtures: a frozen clock, the simulator, a page-written client and a shop."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from simulators.kit.clock import SimClock
from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import BASE_URL, PageClient, ShopSession

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SimClock:
    """Simulated time that moves only when a test advances it."""
    return SimClock(START, frozen=True)


@pytest.fixture
def sim(clock: SimClock) -> ShopeeSimulator:
    """The simulator, burst limit off (tests of the limit build their own)."""
    return ShopeeSimulator(
        clock=clock, seed=7, sleep=lambda _s: None, rate_limits=False
    )


def client_for(sim: ShopeeSimulator, clock: SimClock) -> PageClient:
    """A page-written client bound to ``sim`` through ``httpx.MockTransport``."""
    credentials = sim.credentials()
    assert credentials["base_url"] == BASE_URL
    http = httpx.Client(transport=httpx.MockTransport(sim.handler), base_url=BASE_URL)
    return PageClient(
        http, clock, int(credentials["partner_id"]), credentials["partner_key"]
    )


@pytest.fixture
def api(sim: ShopeeSimulator, clock: SimClock) -> PageClient:
    """The client with the simulator's pre-provisioned credentials."""
    return client_for(sim, clock)


@pytest.fixture
def shop(sim: ShopeeSimulator, api: PageClient) -> ShopSession:
    """The main shop, authorised through the §2.2 flow."""
    return api.session(int(sim.credentials()["shop_id"]))
