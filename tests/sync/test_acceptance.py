"""The sync engine's promises under a hostile network: repeated cycles converge.

Every simulator answers 10% of requests with a fault (server errors, throttling,
timeouts, answers lost after the change was applied), throws 429 bursts, and fails
single rows of batch calls, while simulated buyers keep ordering. Cycles run until
nothing is left to send; the end state must be exactly the planned one.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
import sqlalchemy as sa

from simulators.kit.faults import FaultKind
from tests.sync.test_orders_flow import assert_ledger_matches_orders, sim_order_ids
from tests.sync.world import World

pytestmark = pytest.mark.db

FAULTS = (
    FaultKind.ERROR,
    FaultKind.RATE_LIMIT,
    FaultKind.TIMEOUT,
    FaultKind.LOST_RESPONSE,
)
#: Batch endpoints whose rows can fail one by one, and how a row is named.

#: The simulators' routes that spend a single-use refresh token (Shopee's, and
#: Bukalapak's and those of the simulators built on it). A lost answer there spends
#: the shop's authorisation (by design an officer must authorise it again, which no
#: cycle does), so they get every fault but that one.
SINGLE_USE_REFRESH = frozenset({"auth.access_token.get", "oauth.token"})


def _hostile(world: World, rng: random.Random) -> None:
    """This cycle's faults: random ones everywhere (but a lost answer to a refresh
    of a single-use token), sometimes a 429 burst, sometimes single rows of a stock
    batch refused."""
    recoverable = tuple(k for k in FAULTS if k is not FaultKind.LOST_RESPONSE)
    for marketplace, sim in world.sims.items():
        sim.faults.clear()
        sim.faults.random_faults(0.10, FAULTS, sparing=SINGLE_USE_REFRESH)
        for route in sorted(SINGLE_USE_REFRESH):
            sim.faults.random_faults(0.10, recoverable, endpoint=route)
        if rng.random() < 0.3:
            sim.faults.rate_limit_next(rng.randint(3, 8), retry_after=2)
        if rng.random() < 0.3:
            shown = world.shown(marketplace)
            kit = world.markets.kits[marketplace.value]
            for entry in rng.sample(shown, min(2, len(shown))):
                kit.fail_stock_item(sim, str(entry["sku"]))


def _duplicates(world: World) -> dict[str, list[str]]:
    return {
        account.id: [k for k, n in world.listed_count(account).items() if n > 1]
        for account in world.accounts
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_repeated_cycles_converge_through_faults(engine: sa.Engine, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311  (a reproducible fault schedule)
    world = World.build(engine, products=10, stock=12, rate_limits=True)
    outcomes: Counter[str] = Counter()

    # buyers order while the faults rage
    for _ in range(12):
        _hostile(world, rng)
        for marketplace in world.marketplaces:
            if world.shown(marketplace) and rng.random() < 0.5:
                world.buy(marketplace, rng.randint(1, 2))
        world.advance(rng.uniform(30, 900))
        report = world.cycle(workers=3)
        outcomes.update(r.outcome.value for r in [*report.pulls, *report.pushes])
        assert not any(_duplicates(world).values())

    # then buyers stop and the cycles go on, faults still on, until nothing is left
    cycles = 0
    while not world.converged():
        cycles += 1
        assert cycles <= 15, "no convergence after 15 cycles with faults"
        _hostile(world, rng)
        world.advance(60)
        report = world.cycle(workers=3)
        outcomes.update(r.outcome.value for r in [*report.pulls, *report.pushes])

    # the faults did bite, and the world still ended exactly where it should
    assert outcomes["partial"] + outcomes["failed"] > 0
    assert world.time.slept > 0  # retries and budgets waited
    assert not any(_duplicates(world).values())
    for account in world.accounts:
        assert world.shown_stock(account) == world.wanted_stock(account)

    # every order placed is stored once, and the ledger agrees with them; one more
    # clean pull picks up what a failed last pull may have left
    for sim in world.sims.values():
        sim.faults.clear()
    world.advance(60)
    assert world.cycle().ok
    stored = world.stored_orders()
    assert len({(o[0], o[1]) for o in stored}) == len(stored)
    placed = set().union(*(sim_order_ids(world, m) for m in world.marketplaces))
    assert {o[1] for o in stored} == placed
    assert len(placed) > 5
    assert_ledger_matches_orders(world, received=12)
    assert world.converged()
