"""Reconciling against the simulators: drift, orphans, missing listings, repair."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.ids import AccountId, Sku, sku_key
from core.domain.remote import ChangeKind, ListingChange, PriceUpdate, StockUpdate
from core.domain.sync import RunOutcome, SyncKind
from core.reconcile import FindingKind
from core.services.reconcile import reconcile_account
from tests.sync.world import BUKALAPAK, SHOPEE, TOKOPEDIA, World

pytestmark = pytest.mark.db


def _external_id(world: World, account_id: str, sku: str) -> str:
    with world.uow() as uow:
        listing = uow.listings.for_account(account_id)[sku]  # type: ignore[arg-type]
    assert listing.external_id is not None
    return listing.external_id


def test_a_converged_account_has_nothing_to_report(world: World) -> None:
    world.cycle()
    for account in world.accounts:
        report = reconcile_account(
            world.uow,
            world.connector(account),
            account,
            world.clock,
            trigger="manual:test",
        )
        assert report.run.outcome is RunOutcome.SUCCEEDED
        assert report.findings == []
        assert report.run.counts["listings_seen"] == len(world.wanted_stock(account))


def test_values_changed_on_the_marketplace_are_drift_and_repair_puts_ours_back(
    world: World,
) -> None:
    world.cycle()
    tokopedia = world.account(TOKOPEDIA)
    seller = world.connector(tokopedia)  # the seller edits the shop by hand
    kopi = _external_id(world, TOKOPEDIA, "KOPI-0002")
    assert seller.push_prices([PriceUpdate(Sku("KOPI-0002"), kopi, 77_000)])[0].ok
    tenun = _external_id(world, TOKOPEDIA, "TENUN-0003")
    assert seller.push_stock([StockUpdate(Sku("TENUN-0003"), tenun, 9)])[0].ok
    writes = world.write_calls()

    report = reconcile_account(
        world.uow,
        world.connector(tokopedia),
        tokopedia,
        world.clock,
        trigger="manual:officer",
    )

    assert world.write_calls() == writes  # reporting changes nothing
    drift = {f.sku: f.fields for f in report.findings}
    assert drift == {
        "KOPI-0002": {"price": ("52000", "77000")},
        "TENUN-0003": {"stock": ("4", "9")},
    }
    assert {f.kind for f in report.findings} == {FindingKind.DRIFT}
    assert report.run.counts["drift"] == 2
    assert world.plan(tokopedia).empty  # the store alone cannot tell

    repaired = reconcile_account(
        world.uow,
        world.connector(tokopedia),
        tokopedia,
        world.clock,
        trigger="manual:officer",
        repair=True,
    )

    assert repaired.repair is not None
    assert repaired.repair.outcome is RunOutcome.SUCCEEDED
    assert repaired.repair.counts == {"price": 1, "stock": 1}
    shown = {e["sku"]: e for e in world.shown(Marketplace.TOKOPEDIA)}
    assert shown["KOPI-0002"]["price"] == 52_000
    assert shown["TENUN-0003"]["stock"] == 4
    again = reconcile_account(
        world.uow,
        world.connector(tokopedia),
        tokopedia,
        world.clock,
        trigger="manual:officer",
    )
    assert again.findings == []


def test_orphans_are_reported_never_removed(world: World) -> None:
    world.cycle()
    bukalapak = world.account(BUKALAPAK)
    seller = world.connector(bukalapak)
    wanted = world.plan(world.account(TOKOPEDIA)).desired
    draft = wanted["TENUN-0002"].draft  # in the catalogue, excluded on Bukalapak
    stranger = replace(draft, sku=Sku("ROTAN-9999"), name="Kursi Rotan Tetangga")
    results = seller.apply_listing_changes(
        [
            ListingChange(ChangeKind.CREATE, draft),
            ListingChange(ChangeKind.CREATE, stranger),
        ]
    )
    assert all(r.ok for r in results)
    writes = world.write_calls()

    report = reconcile_account(
        world.uow,
        world.connector(bukalapak),
        bukalapak,
        world.clock,
        trigger="manual:officer",
        repair=True,
    )

    orphans = {f.sku: f.known_sku for f in report.findings}
    assert orphans == {"TENUN-0002": True, "ROTAN-9999": False}
    assert {f.kind for f in report.findings} == {FindingKind.ORPHAN}
    assert report.repair is None  # nothing of ours to repair
    assert world.write_calls() == writes
    assert world.listed_count(bukalapak)["ROTAN-9999"] == 1


def test_a_listing_deleted_on_the_marketplace_is_missing_and_repair_lists_it_again(
    world: World,
) -> None:
    world.cycle()
    shopee = world.account(SHOPEE)
    sim = world.sims[Marketplace.SHOPEE]
    item = sim.items[int(_external_id(world, SHOPEE, "KOPI-0006"))]  # type: ignore[attr-defined]
    sim.set_item_status(item, "SELLER_DELETE")  # type: ignore[attr-defined]

    report = reconcile_account(
        world.uow,
        world.connector(shopee),
        shopee,
        world.clock,
        trigger="manual:officer",
    )

    assert [(f.kind, f.sku) for f in report.findings] == [
        (FindingKind.MISSING, "KOPI-0006")
    ]
    assert "KOPI-0006" not in world.shown_stock(shopee)

    repaired = reconcile_account(
        world.uow,
        world.connector(shopee),
        shopee,
        world.clock,
        trigger="manual:officer",
        repair=True,
    )

    assert repaired.repair is not None
    assert repaired.repair.counts.get("create") == 1
    assert (
        world.shown_stock(shopee)["KOPI-0006"]
        == world.wanted_stock(shopee)["KOPI-0006"]
    )
    assert world.converged([shopee])


def test_a_marketplace_that_cannot_be_read_fails_the_run_and_changes_nothing(
    world: World,
) -> None:
    world.cycle()
    shopee = world.account(SHOPEE)
    world.sims[Marketplace.SHOPEE].faults.fail_next(
        50, endpoint="product.get_item_list"
    )
    with world.uow() as uow:
        before = uow.listings.for_account(SHOPEE)

    report = reconcile_account(
        world.uow,
        world.connector(shopee),
        shopee,
        world.clock,
        trigger="manual:officer",
        repair=True,
    )

    assert report.run.outcome is RunOutcome.FAILED
    assert report.run.error
    assert report.findings == []
    assert report.repair is None
    with world.uow() as uow:
        assert uow.listings.for_account(SHOPEE) == before
        [run] = uow.runs.recent(10, account=SHOPEE, kind=SyncKind.RECONCILE)
    assert run.outcome is RunOutcome.FAILED
    assert run.error == report.run.error


# ------------------------------------------------------------------ duplicates

DUPLICATED = Sku("KOPI-0002")  # listed on every account of the world


def _plant_duplicate(
    world: World, account: ChannelAccount, sku: Sku, *, copy: bool = True
) -> str:
    """A listing of ``sku`` put on the shop by hand (showing 5 units, which the
    store never told it), named as a copy or as the product; returns its id."""
    sim: Any = world.sims[account.marketplace]
    want = world.plan(account).desired[sku_key(sku)].draft
    name = f"{want.name} (salinan)" if copy else want.name
    if account.marketplace is Marketplace.SHOPEE:
        return str(sim.seed_listing(sku, name, want.price, 5))
    if account.marketplace is Marketplace.TOKOPEDIA:
        # Tokopedia refuses a SKU written exactly like another one of the shop; a
        # seller's lower-case copy has the same SKU key.
        return str(
            sim.seed_product(
                sku=sku.lower(), name=name, price=want.price, stock=5
            ).product_id
        )
    return str(sim.add_product(name=name, sku_name=sku, price=want.price, stock=5))


def _active_by_id(world: World, account: ChannelAccount) -> dict[str, bool]:
    """Whether each listing of the SKU can be bought, by external id."""
    return {
        r.external_id: r.active
        for r in world.connector(account).fetch_listings()
        if sku_key(r.sku) == DUPLICATED
    }


@pytest.mark.parametrize("account_id", [SHOPEE, TOKOPEDIA, BUKALAPAK])
def test_a_duplicate_listing_is_reported_and_repair_deactivates_it_keeping_ours(
    world: World, account_id: AccountId
) -> None:
    world.cycle()
    account = world.account(account_id)
    bound = _external_id(world, account_id, DUPLICATED)
    planted = _plant_duplicate(world, account, DUPLICATED)
    writes = world.write_calls()

    report = reconcile_account(
        world.uow, world.connector(account), account, world.clock, trigger="manual:t"
    )

    assert world.write_calls() == writes  # reporting changes nothing
    assert [(f.kind, f.sku, f.external_id) for f in report.findings] == [
        ("duplicate", DUPLICATED, planted)
    ]
    assert report.findings[0].kept == bound
    assert report.run.counts["duplicate"] == 1
    assert report.repair is None
    assert _active_by_id(world, account) == {bound: True, planted: True}

    repaired = reconcile_account(
        world.uow,
        world.connector(account),
        account,
        world.clock,
        trigger="manual:t",
        repair=True,
    )

    assert [(f.kind, f.external_id) for f in repaired.findings] == [
        ("duplicate", planted)
    ]
    assert repaired.run.outcome is RunOutcome.SUCCEEDED
    assert repaired.run.counts["deactivate"] == 1
    assert repaired.repair is None  # nothing of the store to push back
    assert _active_by_id(world, account) == {bound: True, planted: False}
    assert _external_id(world, account_id, DUPLICATED) == bound
    assert world.shown_stock(account) == world.wanted_stock(account)
    assert world.plan(account).empty
    with world.uow() as uow:
        run = uow.runs.get(repaired.run.run_id)
    assert run is not None
    assert [(i.subject, i.operation, i.ok) for i in run.items] == [
        (DUPLICATED, "duplicate", False),
        (DUPLICATED, "deactivate", True),
    ]
    assert planted in (run.items[0].error_message or "")
    assert bound in (run.items[0].error_message or "")

    again = reconcile_account(
        world.uow, world.connector(account), account, world.clock, trigger="manual:t"
    )
    assert again.findings == []


@pytest.mark.parametrize("account_id", [SHOPEE, BUKALAPAK])
def test_an_unbound_sku_listed_twice_keeps_the_oldest_and_repair_binds_it(
    world: World, account_id: AccountId
) -> None:
    account = world.account(account_id)
    # Named as the product: Bukalapak cannot be sent a name (no content update).
    oldest = _plant_duplicate(world, account, DUPLICATED, copy=False)
    newer = _plant_duplicate(world, account, DUPLICATED)

    report = reconcile_account(
        world.uow, world.connector(account), account, world.clock, trigger="manual:t"
    )

    ours = [f for f in report.findings if f.sku == DUPLICATED]
    assert [(f.kind, f.external_id, f.fields, f.kept) for f in ours] == [
        (FindingKind.DRIFT, oldest, {"binding": ("not bound", oldest)}, None),
        (FindingKind.DUPLICATE, newer, {}, oldest),
    ]
    assert {f.kind for f in report.findings if f.sku != DUPLICATED} == {
        FindingKind.MISSING
    }

    repaired = reconcile_account(
        world.uow,
        world.connector(account),
        account,
        world.clock,
        trigger="manual:t",
        repair=True,
    )

    assert repaired.run.counts["deactivate"] == 1
    assert repaired.repair is not None
    # Bound by reconcile (no lookup, no "bind"): the kept listing gets the store's
    # content, price and stock; Bukalapak documents no content update, so none is
    # planned (the plan shows it kept back) and nothing fails.
    missing = report.run.counts["missing"]
    content = {} if account_id == BUKALAPAK else {"update": 1}
    assert repaired.repair.counts == {
        "create": missing,
        **content,
        "price": 1,
        "stock": 1,
    }
    assert _active_by_id(world, account) == {oldest: True, newer: False}
    assert _external_id(world, account_id, DUPLICATED) == oldest
    assert world.shown_stock(account) == world.wanted_stock(account)
    assert world.plan(account).empty
    again = reconcile_account(
        world.uow, world.connector(account), account, world.clock, trigger="manual:t"
    )
    assert again.findings == []


def test_a_deactivation_the_marketplace_refuses_leaves_the_run_partial(
    world: World,
) -> None:
    world.cycle()
    shopee = world.account(SHOPEE)
    bound = _external_id(world, SHOPEE, DUPLICATED)
    planted = _plant_duplicate(world, shopee, DUPLICATED)
    world.sims[Marketplace.SHOPEE].faults.fail_next(50, endpoint="product.unlist_item")

    repaired = reconcile_account(
        world.uow,
        world.connector(shopee),
        shopee,
        world.clock,
        trigger="manual:t",
        repair=True,
    )

    assert [(f.kind, f.external_id) for f in repaired.findings] == [
        (FindingKind.DUPLICATE, planted)
    ]
    assert repaired.run.outcome is RunOutcome.PARTIAL
    assert repaired.run.counts["deactivate_failed"] == 1
    assert "deactivate" not in repaired.run.counts
    assert repaired.repair is None
    with world.uow() as uow:
        run = uow.runs.get(repaired.run.run_id)
    assert run is not None
    assert run.outcome is RunOutcome.PARTIAL
    (failed,) = [i for i in run.items if i.operation == "deactivate"]
    assert (failed.subject, failed.ok) == (DUPLICATED, False)
    assert failed.error_code == "TransientError"
    assert failed.error_message
    assert _active_by_id(world, shopee) == {bound: True, planted: True}
    assert _external_id(world, SHOPEE, DUPLICATED) == bound

    world.sims[Marketplace.SHOPEE].faults.clear()
    again = reconcile_account(
        world.uow, world.connector(shopee), shopee, world.clock, trigger="manual:t"
    )
    assert [(f.kind, f.external_id) for f in again.findings] == [
        (FindingKind.DUPLICATE, planted)
    ]
