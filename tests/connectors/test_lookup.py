"""The look-ups before creates: one scan of the shop where it is cheaper than a
look-up per SKU, kept current by the connector's own creates."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from structlog.testing import capture_logs

from connectors._lookup import ShopIndex
from core.domain.catalogue import Condition
from core.domain.ids import Sku, sku_key
from core.domain.remote import ChangeResult, ListingDraft, RemoteListing
from core.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientError,
    Where,
)
from tests.fakes import FakeClock

WHERE: Where = {"marketplace": "toy", "account": "toy-1"}


def listing(sku: str, external_id: str, *, active: bool = True) -> RemoteListing:
    return RemoteListing(Sku(sku), external_id, sku, 1_000, 1, active, "LIVE")


def draft(sku: str) -> ListingDraft:
    return ListingDraft(Sku(sku), sku, "", "Kopi", 1_000, 1, 100, Condition.NEW)


@dataclass
class Shop:
    """A marketplace shop: its listings, and the requests asked of it."""

    listings: list[RemoteListing] = field(default_factory=list)
    #: What a scan costs in requests (pages and detail calls).
    cost: int = 1
    scans: int = 0
    finds: list[str] = field(default_factory=list)
    scan_error: Exception | None = None
    find_errors: dict[str, Exception] = field(default_factory=dict)

    def scan(self, budget: int) -> list[RemoteListing] | int:
        self.scans += 1
        if self.scan_error is not None:
            raise self.scan_error
        return list(self.listings) if self.cost <= budget else self.cost

    def find(self, key: str, sku: str) -> RemoteListing | None:
        self.finds.append(sku)
        if key in self.find_errors:
            raise self.find_errors[key]
        hits = [x for x in self.listings if sku_key(x.sku) == key]
        return hits[0] if hits else None


def wanted(*skus: str) -> dict[str, str]:
    return {sku_key(s): s for s in skus}


def index(shop: Shop, clock: FakeClock) -> ShopIndex:
    return ShopIndex(shop.scan, shop.find, clock, WHERE)


def test_a_small_shop_is_scanned_once_and_kept_by_the_own_creates(
    clock: FakeClock,
) -> None:
    shop = Shop([listing("kopi-1", "10", active=False), listing("KOPI-1", "11")])
    lookups = index(shop, clock)
    found, failed = lookups.look_up(wanted("KOPI-1", "TEH-1"))
    assert (failed, {k: x.external_id for k, x in found.items()}) == (
        {},
        {"KOPI-1": "11"},  # of two with one SKU key, the active one
    )
    lookups.record([(draft("TEH-1"), ChangeResult(Sku("TEH-1"), True, "12"))], "LIVE")
    found, failed = lookups.look_up(wanted("teh-1", "MADU-1"))
    assert {k: x.external_id for k, x in found.items()} == {"TEH-1": "12"}
    assert (shop.scans, shop.finds, failed) == (1, [], {})


def test_a_create_of_unknown_outcome_is_looked_up_on_the_marketplace_again(
    clock: FakeClock,
) -> None:
    shop = Shop()
    lookups = index(shop, clock)
    lookups.look_up(wanted("A-1", "B-1", "C-1"))
    unknown = OutcomeUnknownError("answer lost", **WHERE)
    refused = RejectedError("bad price", code="price", **WHERE)
    lookups.record(
        [
            (draft("A-1"), ChangeResult(Sku("A-1"), False, error=unknown)),
            (draft("B-1"), ChangeResult(Sku("B-1"), False, error=refused)),
        ],
        "LIVE",
    )
    shop.listings.append(listing("A-1", "20"))  # it was made after all
    found, _ = lookups.look_up(wanted("A-1", "B-1", "C-1"))
    assert {k: x.external_id for k, x in found.items()} == {"A-1": "20"}
    assert shop.finds == ["A-1"]  # only the one in doubt, and only once
    lookups.look_up(wanted("A-1"))
    assert (shop.finds, shop.scans) == (["A-1"], 1)


def test_a_large_shop_is_scanned_once_single_look_ups_cost_as_much(
    clock: FakeClock,
) -> None:
    shop = Shop([listing("OLD-1", "1")], cost=250)
    lookups = index(shop, clock)
    with capture_logs() as logs:
        for chunk in range(3):
            skus = [f"N-{chunk}-{n}" for n in range(100)]
            lookups.look_up(wanted(*skus))
    assert [e["event"] for e in logs if e["event"].startswith("listings.")] == [
        "listings.scan_skipped",
        "listings.scanned",
    ]
    # chunk 0: 100 single look-ups (a scan would cost 250); chunk 1: not asked
    # again (200 < 250); chunk 2: 300 single look-ups' worth: scanned instead
    assert (shop.scans, len(shop.finds)) == (2, 200)
    found, _ = lookups.look_up(wanted("old-1"))
    assert found[sku_key("OLD-1")].external_id == "1"
    assert len(shop.finds) == 200


def test_an_old_scan_is_read_again_and_sees_listings_made_elsewhere(
    clock: FakeClock,
) -> None:
    shop = Shop()
    lookups = index(shop, clock)
    assert lookups.look_up(wanted("KOPI-1")) == ({}, {})
    shop.listings.append(listing("KOPI-1", "30"))  # made by the seller
    clock.advance(minutes=4)
    assert lookups.look_up(wanted("KOPI-1")) == ({}, {})
    clock.advance(minutes=2)
    found, _ = lookups.look_up(wanted("KOPI-1"))
    assert found["KOPI-1"].external_id == "30"
    assert shop.scans == 2


def test_a_failed_scan_falls_back_to_one_look_up_per_sku(clock: FakeClock) -> None:
    down = TransientError("HTTP 503", **WHERE)
    shop = Shop([listing("B-1", "2")], scan_error=down)
    shop.find_errors["A-1"] = TransientError("HTTP 503", **WHERE)
    lookups = index(shop, clock)
    with capture_logs() as logs:
        found, failed = lookups.look_up(wanted("A-1", "B-1"))
    assert list(failed) == ["A-1"]
    assert {k: x.external_id for k, x in found.items()} == {"B-1": "2"}
    assert "listings.scan_failed" in [e["event"] for e in logs]
    shop.scan_error = AuthError("token refused", **WHERE)
    with pytest.raises(AuthError):
        lookups.look_up(wanted("A-1"))
