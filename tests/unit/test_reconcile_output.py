"""How ``ikm-sync reconcile`` shows findings: the table's difference cell and JSON."""

from __future__ import annotations

from core.domain.ids import Sku
from core.domain.remote import RemoteListing
from core.reconcile import Finding, FindingKind
from ikm_sync.commands.reconcile import difference, finding_payload

SKU = Sku("KOPI-1")


def shown(
    external_id: str, variant: str | None = None, sku: str = SKU
) -> RemoteListing:
    return RemoteListing(
        Sku(sku), external_id, "Kopi", 85_000, 4, True, "NORMAL", variant
    )


def test_a_duplicate_names_both_listings_in_json_and_in_the_table() -> None:
    finding = Finding(
        FindingKind.DUPLICATE, SKU, "902", remote=shown("902", "v-9"), kept="101"
    )
    assert finding_payload(finding) == {
        "kind": "duplicate",
        "sku": "KOPI-1",
        "external_id": "902",
        "external_variant_id": "v-9",
        "kept_external_id": "101",
        "fields": {},
        "known_sku": True,
    }
    cell = difference(finding)
    assert "902" in cell
    assert "101" in cell
    assert "repair deactivates it" in cell


def test_another_variant_of_the_kept_listing_is_left_to_the_seller() -> None:
    finding = Finding(
        FindingKind.DUPLICATE, SKU, "101", remote=shown("101", "v-2"), kept="101"
    )
    assert not finding.repairable_duplicate
    assert "repair leaves it" in difference(finding)


def test_a_duplicate_in_a_listing_selling_other_variants_is_left_to_the_seller() -> (
    None
):
    finding = Finding(
        FindingKind.DUPLICATE,
        SKU,
        "902",
        remote=shown("902", "v-9"),
        kept="101",
        shared=True,
    )
    assert not finding.repairable_duplicate
    cell = difference(finding)
    assert "902" in cell
    assert "101" in cell
    assert "also sells other variants; repair leaves it" in cell


def test_a_listing_without_a_sku_asks_for_one() -> None:
    finding = Finding(
        FindingKind.NO_SKU, Sku(""), "77", known_sku=False, remote=shown("77", sku="")
    )
    assert finding_payload(finding)["kind"] == "no_sku"
    assert finding_payload(finding)["kept_external_id"] is None
    assert difference(finding) == (
        "listing 77 has no seller SKU: nothing can match it; give it one on the "
        "marketplace"
    )


def test_drift_orphans_and_missing_listings_show_as_before() -> None:
    drifted = Finding(FindingKind.DRIFT, SKU, "101", {"price": ("85000", "90000")})
    assert difference(drifted) == "price: ours 85000, theirs 90000"
    stranger = Finding(FindingKind.ORPHAN, Sku("ROTAN-9"), "5", known_sku=False)
    assert difference(stranger) == "SKU not in the catalogue"
    assert difference(Finding(FindingKind.MISSING, SKU)) == ""
    assert (
        finding_payload(Finding(FindingKind.MISSING, SKU))["external_variant_id"]
        is None
    )
