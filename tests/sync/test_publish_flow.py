"""Publishing against the three simulators: plan, create, bind, resolve, no-op."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from core.domain.accounts import Marketplace
from core.domain.catalogue import ProductStatus
from core.domain.remote import ChangeKind, ChangeResult, ListingChange
from core.domain.sync import ListingState, RunOutcome
from core.ports import MarketplaceConnector
from core.services.publish import push_account
from tests.sync.world import (
    BUKALAPAK,
    SHOPEE,
    TOKOPEDIA,
    World,
    counts_of,
    default_accounts,
)

pytestmark = pytest.mark.db


def test_a_first_cycle_publishes_every_planned_listing_once(world: World) -> None:
    plans = {a.id: world.plan(a).counts() for a in world.accounts}
    assert plans[SHOPEE]["create"] == 6  # coffee only
    assert plans[TOKOPEDIA]["create"] == 12
    assert plans[BUKALAPAK]["create"] == 11  # one SKU excluded
    assert world.write_calls() == dict.fromkeys(
        world.marketplaces, 0
    )  # planning sends nothing

    report = world.cycle()

    assert report.ok
    # every product of both producers at 100 % on the others (world.py)
    expected = {a.id: {"create": 12} for a in world.accounts} | {
        SHOPEE: {"create": 6},
        TOKOPEDIA: {"create": 12},
        BUKALAPAK: {"create": 11},
    }
    assert counts_of(report.pushes) == expected
    for account in world.accounts:
        assert world.shown_stock(account) == world.wanted_stock(account)
        assert set(world.listed_count(account).values()) == {1}
    # the allocation policies: 60% less a buffer of 1, 50% capped at 10, per-SKU cap
    assert world.shown_stock(world.account(SHOPEE))["KOPI-0002"] == 4
    assert world.shown_stock(world.account(TOKOPEDIA))["TENUN-0002"] == 4
    bukalapak = world.shown_stock(world.account(BUKALAPAK))
    assert bukalapak["KOPI-0001"] == 3
    assert bukalapak["KOPI-0002"] == 8
    assert "TENUN-0002" not in bukalapak
    assert world.converged()


def test_a_cycle_with_nothing_changed_makes_no_write_call(world: World) -> None:
    assert world.cycle().ok
    writes = world.write_calls()
    assert all(n > 0 for n in writes.values())

    again = world.cycle()

    assert again.ok
    assert world.write_calls() == writes
    assert all(r.counts == {} for r in again.pushes)


def test_a_lost_create_answer_is_resolved_by_lookup_not_sent_again(
    world: World,
) -> None:
    sim = world.sims[Marketplace.SHOPEE]
    sim.faults.lose_response_next(2, endpoint="product.add_item")

    report = world.cycle()

    shopee = world.account(SHOPEE)
    assert sim.requests["product.add_item"] == 6  # the two lost ones were not resent
    assert set(world.listed_count(shopee).values()) == {1}
    push = next(r for r in report.pushes if r.account == SHOPEE)
    assert push.counts["resolve"] == 2
    assert push.counts["create_failed"] == 2
    with world.uow() as uow:
        listings = uow.listings.for_account(SHOPEE)
    assert {x.state for x in listings.values()} == {ListingState.LIVE}
    assert all(x.external_id for x in listings.values())
    assert world.converged()


def test_a_timed_out_create_that_never_arrived_is_created_by_the_next_run(
    world: World,
) -> None:
    sim = world.sims[Marketplace.BUKALAPAK]
    # the requests never reach the marketplace, so the lookups find nothing
    sim.faults.timeout_next(6, endpoint="products.create")
    bukalapak = world.account(BUKALAPAK)

    first = next(r for r in world.cycle().pushes if r.account == BUKALAPAK)

    assert first.outcome is RunOutcome.PARTIAL
    assert first.counts["create_failed"] == 6
    assert first.counts["resolve"] == 6
    assert len(world.listed_count(bukalapak)) == 5
    with world.uow() as uow:
        states = [x.state for x in uow.listings.for_account(BUKALAPAK).values()]
    assert states.count(ListingState.PENDING) == 6

    second = next(r for r in world.cycle().pushes if r.account == BUKALAPAK)

    assert second.counts["create"] == 6
    assert set(world.listed_count(bukalapak).values()) == {1}
    assert len(world.listed_count(bukalapak)) == 11
    assert world.converged()


def test_a_listing_already_on_the_marketplace_is_bound_not_created_again(
    world: World,
) -> None:
    tokopedia = world.account(TOKOPEDIA)
    plan = world.plan(tokopedia)
    handmade = next(c for c in plan.creates if c.draft.sku == "KOPI-0003")
    by_hand = world.connector(tokopedia)
    draft = replace(handmade.draft, price=99_000, stock=1)
    [result] = by_hand.apply_listing_changes([ListingChange(ChangeKind.CREATE, draft)])
    assert result.ok

    report = world.cycle()

    push = next(r for r in report.pushes if r.account == TOKOPEDIA)
    assert push.counts.get("bind") == 1
    assert push.counts.get("create") == 11
    assert world.listed_count(tokopedia)["KOPI-0003"] == 1
    shown = {e["sku"]: e for e in world.shown(Marketplace.TOKOPEDIA)}
    assert shown["KOPI-0003"]["price"] == 53_000  # our price was pushed over theirs
    assert world.converged()


class _CheckingIntents:
    """A connector wrapper that reads the store while a create is in flight."""

    def __init__(self, inner: MarketplaceConnector, world: World) -> None:
        self._inner, self._world = inner, world
        self.states_seen: list[set[ListingState]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        with self._world.uow() as uow:
            stored = uow.listings.for_account(SHOPEE)
        self.states_seen.append(
            {stored[c.draft.sku].state for c in changes if c.draft.sku in stored}
        )
        return self._inner.apply_listing_changes(changes)


def test_the_intent_to_create_is_committed_before_the_request(world: World) -> None:
    shopee = world.account(SHOPEE)
    connector = _CheckingIntents(world.connector(shopee), world)

    push_account(
        world.uow,
        connector,  # type: ignore[arg-type]
        shopee,
        world.clock,
        trigger="manual:test",
    )

    assert connector.states_seen == [{ListingState.CREATING}]


class _CrashingAfterSend:
    """Sends the creates, then the process 'dies' before the answer is stored."""

    def __init__(self, inner: MarketplaceConnector) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def apply_listing_changes(
        self, changes: Sequence[ListingChange]
    ) -> list[ChangeResult]:
        self._inner.apply_listing_changes(changes)
        raise KeyboardInterrupt


@pytest.mark.parametrize("account_id", [a.id for a in default_accounts()])
def test_a_crash_after_the_creates_were_sent_leaves_intents_that_bind(
    world: World, account_id: str
) -> None:
    """On every marketplace: the creates reached it, the process died before their
    answers were stored; the next push looks the SKUs up and binds them, creating
    nothing twice."""
    account = next(a for a in world.accounts if a.id == account_id)
    planned = world.plan(account).counts()["create"]
    with pytest.raises(KeyboardInterrupt):
        push_account(
            world.uow,
            _CrashingAfterSend(world.connector(account)),  # type: ignore[arg-type]
            account,
            world.clock,
            trigger="manual:test",
        )
    with world.uow() as uow:
        assert {x.state for x in uow.listings.for_account(account.id).values()} == {
            ListingState.CREATING
        }
    assert world.plan(account).counts()["resolve"] == planned
    create_route = world.markets.kits[account.marketplace.value].create_endpoint
    creates_sent = world.sims[account.marketplace].requests[create_route]

    report = push_account(
        world.uow, world.connector(account), account, world.clock, trigger="manual:test"
    )

    assert report.outcome is RunOutcome.SUCCEEDED
    assert report.counts["resolve"] == planned
    assert "create" not in report.counts
    assert world.sims[account.marketplace].requests[create_route] == creates_sent
    assert set(world.listed_count(account).values()) == {1}
    assert len(world.listed_count(account)) == planned
    assert world.converged([account])


def test_a_refused_create_fails_that_item_only_and_is_not_retried_unchanged(
    world: World,
) -> None:
    change(world, "KOPI-0004", price=200_000_000)  # above Shopee's price ceiling
    shopee = world.account(SHOPEE)
    sim = world.sims[Marketplace.SHOPEE]

    first = world.cycle()

    push = next(r for r in first.pushes if r.account == SHOPEE)
    assert push.outcome is RunOutcome.PARTIAL
    with world.uow() as uow:
        listing = uow.listings.for_account(SHOPEE)["KOPI-0004"]
    assert listing.state is ListingState.FAILED
    assert listing.last_error
    sent = sim.requests["product.add_item"]

    second = world.cycle()

    assert sim.requests["product.add_item"] == sent
    assert next(r for r in second.pushes if r.account == SHOPEE).counts == {}
    assert world.listed_count(shopee)["KOPI-0004"] == 0
    assert len(world.listed_count(shopee)) == 5

    change(world, "KOPI-0004", price=64_000)  # the officer fixes it: sent again
    world.cycle()

    assert world.listed_count(shopee)["KOPI-0004"] == 1
    assert world.converged()


def change(world: World, sku: str, **values: object) -> None:
    """An officer edits one product in the canonical store."""
    with world.uow() as uow:
        product = uow.products.get_many([sku])[sku]
        changed = replace(product, **values)  # type: ignore[arg-type]
        uow.products.update_many([changed], world.clock.now())
        uow.commit()


def test_one_account_failing_never_stops_the_others(world: World) -> None:
    world.sims[Marketplace.TOKOPEDIA].faults.fail_next(200, status=500)

    report = world.cycle(workers=3)

    outcomes = {r.account: r.outcome for r in report.pushes}
    assert outcomes[SHOPEE] is RunOutcome.SUCCEEDED
    assert outcomes[BUKALAPAK] is RunOutcome.SUCCEEDED
    assert outcomes[TOKOPEDIA] in (RunOutcome.FAILED, RunOutcome.PARTIAL)
    assert not report.ok
    for key in (SHOPEE, BUKALAPAK):
        account = world.account(key)
        assert world.shown_stock(account) == world.wanted_stock(account)
    world.sims[Marketplace.TOKOPEDIA].faults.clear()
    assert world.cycle().ok
    assert world.converged()


def test_a_price_and_content_change_reach_every_account_that_lists_it(
    world: World,
) -> None:
    world.cycle()
    change(world, "KOPI-0005", price=61_500, name="Kopi Flores Premium 0005")
    writes = world.write_calls()

    report = world.cycle()

    counts = counts_of(report.pushes)
    assert counts[SHOPEE] == {"price": 1, "update": 1}
    assert counts[TOKOPEDIA] == {"price": 1, "update": 1}
    # Bukalapak documents no content edit: the rename is kept back, not failed
    assert counts[BUKALAPAK] == {"price": 1}
    bukalapak = world.plan(world.account(BUKALAPAK))
    assert bukalapak.unsupported == [("KOPI-0005", ChangeKind.UPDATE)]
    for marketplace in world.marketplaces:
        shown = {e["sku"]: e for e in world.shown(marketplace)}
        assert shown["KOPI-0005"]["price"] == 61_500
    assert world.write_calls() != writes
    assert world.converged()


def test_a_product_archived_and_restored_is_unlisted_and_listed_again(
    world: World,
) -> None:
    """Every marketplace lists it again through a reactivation of its own (Tokopedia
    refuses to edit an inactive product, Bukalapak documents no edit at all)."""
    world.cycle()
    change(world, "KOPI-0003", status=ProductStatus.ARCHIVED)
    world.cycle()
    for account in world.accounts:
        assert "KOPI-0003" not in world.shown_stock(account)

    change(world, "KOPI-0003", status=ProductStatus.ACTIVE)
    report = world.cycle()

    assert {a: c.get("reactivate") for a, c in counts_of(report.pushes).items()} == {
        a.id: 1 for a in world.accounts
    }
    assert all(r.outcome is RunOutcome.SUCCEEDED for r in report.pushes)
    for account in world.accounts:
        assert "KOPI-0003" in world.shown_stock(account)
    assert world.converged()


@pytest.mark.parametrize(
    ("account_id", "reactivation"),
    [(SHOPEE, "product.unlist_item"), (TOKOPEDIA, "product_active")],
)
def test_a_failed_reactivation_is_retried_and_the_rename_follows_once_live(
    world: World, account_id: str, reactivation: str
) -> None:
    """A listing is never recorded live while the marketplace keeps it off sale, and
    a content change waiting behind the reactivation is not lost."""
    account = next(a for a in world.accounts if a.id == account_id)
    world.cycle()
    change(world, "KOPI-0003", status=ProductStatus.ARCHIVED)
    world.cycle()
    change(world, "KOPI-0003", status=ProductStatus.ACTIVE, name="Kopi Bajawa Baru")
    world.sims[account.marketplace].faults.fail_next(
        5, endpoint=reactivation, status=500
    )

    world.cycle()  # the reactivation fails: still off sale, and so recorded
    assert "KOPI-0003" not in world.shown_stock(account)
    with world.uow() as uow:
        stored = uow.listings.for_account(account.id)["KOPI-0003"]
    assert stored.state is ListingState.DELISTED
    assert stored.last_error

    world.cycle()  # listed again
    world.cycle()  # then renamed
    shown = next(e for e in world.shown(account.marketplace) if e["sku"] == "KOPI-0003")
    assert shown["name"] == "Kopi Bajawa Baru"
    assert "KOPI-0003" in world.shown_stock(account)
    assert world.converged()
