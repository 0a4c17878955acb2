"""Publishing through answers that cannot be read: repeated push runs converge.

Bukalapak answers 5% of requests with a body that is not JSON or is cut short (the
simulator's seeded fault plan), look-ups and creates alike, and the first look-up
before the creates and the first create surely. A read is asked for again;
a create whose answer cannot be read is resolved by a look-up, never sent twice. A
few push runs publish every product exactly once.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from connectors._http import RetryPolicy
from core.domain.accounts import AllocationPolicy, ChannelAccount, Marketplace
from core.domain.sync import ListingState, RunOutcome
from core.services.publish import push_account
from simulators.kit.faults import FaultKind
from tests.sync.world import BUKALAPAK, COFFEE, SHOPEE, TOKOPEDIA, WEAVERS, World

pytestmark = pytest.mark.db

PRODUCTS_PER_PRODUCER = 27  # 54 products
RUNS = 3


def test_push_runs_publish_every_product_through_unreadable_answers(
    engine: sa.Engine,
) -> None:
    account = ChannelAccount(
        BUKALAPAK,
        Marketplace.BUKALAPAK,
        "",
        (COFFEE, WEAVERS),
        policy=AllocationPolicy(),
    )
    world = World.build(
        engine, products=PRODUCTS_PER_PRODUCER, stock=5, accounts=[account]
    )
    (account,) = world.accounts
    sim = world.sims[Marketplace.BUKALAPAK]
    sim.faults.random_faults(0.05, (FaultKind.MALFORMED, FaultKind.TRUNCATED))
    sim.faults.malformed_next(endpoint="stores.products")
    sim.faults.truncated_next(endpoint="products.create")

    runs, retried = 0, Counter[str]()
    with capture_logs() as logs:
        while not world.converged([account]):
            runs += 1
            assert runs <= RUNS, f"not every product published after {RUNS} runs"
            push_account(
                world.uow,
                world.connector(account),
                account,
                world.clock,
                trigger="manual:test",
            )
            world.advance(60)
    retried.update(str(e["operation"]) for e in logs if e["event"] == "http.retrying")

    # the faults did bite, on the look-ups before the creates among others
    injected = Counter(kind for _, kind in sim.faults.injected)
    assert injected[FaultKind.MALFORMED] + injected[FaultKind.TRUNCATED] >= 3
    assert retried["list_products"] > 0
    # every product listed once, with the stock it should have, and recorded live
    counts = world.listed_count(account)
    assert len(counts) == 2 * PRODUCTS_PER_PRODUCER
    assert set(counts.values()) == {1}
    assert world.shown_stock(account) == world.wanted_stock(account)
    with world.uow() as uow:
        listings = uow.listings.for_account(account.id)
    assert len(listings) == 2 * PRODUCTS_PER_PRODUCER
    assert {x.state for x in listings.values()} == {ListingState.LIVE}


ORDER_LISTS = {
    Marketplace.SHOPEE: (SHOPEE, "order.get_order_list"),
    Marketplace.TOKOPEDIA: (TOKOPEDIA, "order_list"),
    Marketplace.BUKALAPAK: (BUKALAPAK, "transactions.list"),
}


@pytest.mark.parametrize("marketplace", list(ORDER_LISTS), ids=lambda m: m.value)
def test_an_order_list_that_stays_unreadable_fails_the_pull_and_keeps_the_bookmark(
    world: World, marketplace: Marketplace
) -> None:
    account_id, endpoint = ORDER_LISTS[marketplace]
    world.cycle()
    world.advance(60)
    world.cycle()  # every bookmark set
    with world.uow() as uow:
        before = uow.orders.bookmark(account_id)
    assert before is not None
    placed = set(world.buy(marketplace, 4))
    world.advance(60)
    sim = world.sims[marketplace]
    sim.faults.malformed_next(RetryPolicy().attempts, endpoint=endpoint)

    (pull,) = [p for p in world.cycle().pulls if p.account == account_id]

    assert pull.outcome is RunOutcome.FAILED
    with world.uow() as uow:
        assert uow.orders.bookmark(account_id) == before
    assert [e for e, _ in sim.faults.injected].count(endpoint) == RetryPolicy().attempts

    world.advance(60)
    (pull,) = [p for p in world.cycle().pulls if p.account == account_id]
    assert pull.outcome is RunOutcome.SUCCEEDED
    with world.uow() as uow:
        stored = set(uow.orders.get_many(account_id, sorted(placed)))
        assert uow.orders.bookmark(account_id) != before
    assert stored == placed
