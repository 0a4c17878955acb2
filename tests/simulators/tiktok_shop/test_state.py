"""Rate limits (§10: 10 requests a second per shop per endpoint, HTTP 429) and the
state file (everything comes back after a save and a load)."""

from __future__ import annotations

from pathlib import Path

import httpx

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from simulators.tiktok_shop.model import RATE_LIMITED
from simulators.tiktok_shop.simulator import TikTokShopSimulator
from tests.simulators.tiktok_shop.conftest import START, Tts, error, new_product, ok


def _metered() -> Tts:
    clock = SimClock(START, frozen=True)
    sim = TikTokShopSimulator(clock=clock, seed=5, sleep=lambda _s: None)
    client = Tts(
        sim,
        clock,
        httpx.Client(transport=httpx.MockTransport(sim.handler)),
        sim.credentials(),
    )
    client.login()
    return client


def test_ten_requests_a_second_per_shop_and_endpoint() -> None:
    tts = _metered()
    for _ in range(10):
        ok(tts.search(page_size=1))
    error(tts.search(page_size=1), 429, RATE_LIMITED)
    ok(tts.orders(page_size=1))  # another endpoint has its own bucket
    tts.clock.advance(0.1)  # one request's worth refills
    ok(tts.search(page_size=1))
    error(tts.search(page_size=1), 429, RATE_LIMITED)


def test_a_saved_state_loads_back_whole(tts: Tts, tmp_path: Path) -> None:
    product_id = ok(tts.create(new_product()))["product_id"]
    order = tts.sim.place_order(product_id, 2, "Dewi")
    assert order is not None
    assert tts.sim.buyer_event(order, BuyerEvent.PAY)
    path = tmp_path / "tts.json"
    tts.sim.save_state(path)

    again = TikTokShopSimulator(clock=tts.clock, seed=99)
    again.load_state(path)
    assert again.inspect_listings() == tts.sim.inspect_listings()
    assert again.inspect_orders() == tts.sim.inspect_orders()
    assert again.credentials() == tts.sim.credentials()
    # the tokens issued before the save still work on the loaded marketplace
    tts.sim, tts.http = (
        again,
        httpx.Client(transport=httpx.MockTransport(again.handler)),
    )
    assert [o["id"] for o in ok(tts.detail([order]))["orders"]] == [order]
