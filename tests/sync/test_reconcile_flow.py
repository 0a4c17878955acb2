"""Reconciling against the simulators: drift, orphans, missing listings, repair."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.domain.accounts import Marketplace
from core.domain.ids import Sku
from core.domain.remote import ChangeKind, ListingChange, PriceUpdate, StockUpdate
from core.domain.sync import RunOutcome, SyncKind
from core.reconcile import FindingKind
from core.services.publish import plan_push
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
    assert plan_push(world.uow, tokopedia).empty  # the store alone cannot tell

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
    wanted = plan_push(world.uow, world.account(TOKOPEDIA)).desired
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
