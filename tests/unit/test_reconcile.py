"""The pure planner: desired state + what was last pushed → the changes to send."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.catalogue import Condition, Product, ProductStatus
from core.domain.ids import AccountId, ProducerCode, Sku, sku_key
from core.domain.listings import Listing, content_hash
from core.domain.marketplaces import Capability
from core.domain.remote import (
    ChangeKind,
    ListingChange,
    ListingDraft,
    PriceUpdate,
    RemoteListing,
    StockUpdate,
)
from core.domain.stock import StockLevel
from core.domain.sync import ListingState
from core.reconcile import (
    AccountPlan,
    Finding,
    FindingKind,
    desired_state,
    duplicate_deactivations,
    find_drift,
    plan_account,
    repaired_listings,
)
from tests.fakes import product

OWN = ProducerCode("IKM-NTT-001")
OTHER = ProducerCode("IKM-JTG-002")
ACCOUNT_ID = AccountId("shopee-ntt")
ACCOUNT = ChannelAccount(ACCOUNT_ID, Marketplace.SHOPEE, "220011", (OWN,))
KOPI = product("KOPI-1", OWN)
#: KOPI's level in most tests: 10 on hand, 3 reserved, so 7 available.
LEVELS = {KOPI.key: StockLevel(KOPI.sku, on_hand=10, reserved=3)}
NOTHING = {"resolve": 0, "create": 0, "update": 0, "deactivate": 0}
NOTHING |= {"price": 0, "stock": 0}


def shown(item: Product, stock: int) -> ListingDraft:
    return ListingDraft.from_product(item, stock)


def listing(
    item: Product = KOPI,
    state: ListingState = ListingState.LIVE,
    *,
    stock: int | None = 7,
    price: int | None = None,
    digest: str | None = None,
    external_id: str | None = "ext-1",
    variant: str | None = "var-1",
) -> Listing:
    """A listing of ``item`` that was last told exactly what it should show now,
    unless told otherwise."""
    return Listing(
        account=ACCOUNT_ID,
        sku=item.sku,
        state=state,
        external_id=external_id,
        external_variant_id=variant,
        last_price=item.price if price is None else price,
        last_stock=stock,
        last_content_hash=content_hash(shown(item, 7)) if digest is None else digest,
    )


#: A marketplace that can do everything the planner may ask.
EVERYTHING = frozenset(Capability)


def plan(
    *products: Product,
    listings: tuple[Listing, ...] = (),
    levels: dict[str, StockLevel] | None = None,
    account: ChannelAccount = ACCOUNT,
    capabilities: frozenset[Capability] = EVERYTHING,
) -> AccountPlan:
    return plan_account(
        account,
        {p.key: p for p in products},
        LEVELS if levels is None else levels,
        {sku_key(x.sku): x for x in listings},
        capabilities=capabilities,
    )


def counts(**non_zero: int) -> dict[str, int]:
    return NOTHING | non_zero


def with_policy(policy: AllocationPolicy) -> ChannelAccount:
    return replace(ACCOUNT, policy=policy)


# ------------------------------------------------------------------ creates


def test_a_product_without_listing_is_created_showing_its_allocated_stock() -> None:
    result = plan(KOPI)
    assert result.counts() == counts(create=1)
    assert result.creates == [ListingChange(ChangeKind.CREATE, shown(KOPI, 7))]
    assert result.creates[0].external_id is None


def test_the_desired_state_carries_the_draft_and_its_content_hash() -> None:
    result = plan(KOPI)
    want = result.desired[KOPI.key]
    assert want.draft == shown(KOPI, 7)
    assert want.content_hash == content_hash(shown(KOPI, 7))


def test_a_creating_listing_is_resolved_and_never_created_again() -> None:
    result = plan(
        KOPI, listings=(listing(state=ListingState.CREATING, external_id=None),)
    )
    assert result.resolve == [KOPI.sku]
    assert result.creates == []
    assert result.counts() == counts(resolve=1)


# ------------------------------------------------------------------ one listing,
# every state: what the planner sends for it.

CHANGED = "0" * 32  # a content hash no draft has


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(None, counts(create=1), id="no-listing"),
        pytest.param(
            listing(state=ListingState.PENDING, external_id=None, stock=None),
            counts(create=1),
            id="pending",
        ),
        pytest.param(
            listing(state=ListingState.CREATING, external_id=None),
            counts(resolve=1),
            id="creating",
        ),
        pytest.param(
            listing(state=ListingState.CREATING, digest=CHANGED, price=1, stock=0),
            counts(resolve=1),
            id="creating-with-an-id-and-all-differing",
        ),
        pytest.param(
            listing(state=ListingState.FAILED, external_id=None),
            NOTHING,
            id="failed-same-attempt",
        ),
        pytest.param(
            listing(state=ListingState.FAILED, external_id=None, stock=2),
            NOTHING,
            id="failed-only-stock-changed",
        ),
        pytest.param(
            listing(state=ListingState.FAILED, external_id=None, digest=CHANGED),
            counts(create=1),
            id="failed-content-changed",
        ),
        pytest.param(
            listing(state=ListingState.FAILED, external_id=None, price=1),
            counts(create=1),
            id="failed-price-changed",
        ),
        pytest.param(listing(), NOTHING, id="live-in-step"),
        pytest.param(listing(digest=CHANGED), counts(update=1), id="live-content"),
        pytest.param(listing(price=1), counts(price=1), id="live-price"),
        pytest.param(listing(stock=2), counts(stock=1), id="live-stock"),
        pytest.param(
            listing(digest=CHANGED, price=1, stock=2),
            counts(update=1, price=1, stock=1),
            id="live-everything",
        ),
        pytest.param(
            Listing(ACCOUNT_ID, KOPI.sku, ListingState.LIVE, external_id="ext-1"),
            counts(update=1, price=1, stock=1),
            id="live-nothing-known",
        ),
        pytest.param(
            listing(state=ListingState.DELISTED),
            counts(update=1),
            id="delisted-wanted-again",
        ),
        pytest.param(
            listing(state=ListingState.DELISTED, stock=0),
            counts(update=1, stock=1),
            id="delisted-wanted-again-with-stock",
        ),
        pytest.param(
            listing(state=ListingState.FAILED, digest=CHANGED),
            counts(update=1),
            id="failed-update-of-a-bound-listing",
        ),
        pytest.param(
            listing(external_id=None),
            counts(create=1),
            id="live-without-id",
        ),
    ],
)
def test_what_one_wanted_listing_gets(
    existing: Listing | None, expected: dict[str, int]
) -> None:
    result = plan(KOPI, listings=() if existing is None else (existing,))
    assert result.counts() == expected
    assert result.empty is (expected == NOTHING)


def test_nothing_differs_is_an_empty_plan() -> None:
    result = plan(KOPI, listings=(listing(),))
    assert result.empty
    assert result.counts() == NOTHING
    assert list(result.desired) == [KOPI.key]


def test_an_update_names_the_listing_and_carries_the_draft() -> None:
    result = plan(KOPI, listings=(listing(digest=CHANGED),))
    assert result.updates == [
        ListingChange(ChangeKind.UPDATE, shown(KOPI, 7), "ext-1", "var-1")
    ]


def test_a_new_price_is_a_price_update_only() -> None:
    result = plan(KOPI, listings=(listing(price=KOPI.price + 1_000),))
    assert result.prices == [PriceUpdate(KOPI.sku, "ext-1", KOPI.price, "var-1")]
    assert result.updates == []
    assert result.stock == []


def test_a_new_stock_is_a_stock_update_only() -> None:
    result = plan(KOPI, listings=(listing(stock=20),))
    assert result.stock == [StockUpdate(KOPI.sku, "ext-1", 7, "var-1")]
    assert result.updates == []
    assert result.prices == []


def test_a_content_change_is_an_update_but_not_a_price_or_stock_push() -> None:
    renamed = replace(KOPI, name="Kopi Arabika Flores Bajawa 500 g")
    result = plan(renamed, listings=(listing(),))
    assert result.counts() == counts(update=1)
    assert result.updates[0].draft == shown(renamed, 7)
    assert result.desired[KOPI.key].content_hash != listing().last_content_hash


def test_a_delisted_listing_wanted_again_is_reactivated() -> None:
    result = plan(KOPI, listings=(listing(state=ListingState.DELISTED),))
    assert result.updates == [
        ListingChange(ChangeKind.REACTIVATE, shown(KOPI, 7), "ext-1", "var-1")
    ]
    assert result.deactivations == []


def test_a_delisted_listing_whose_content_changed_is_reactivated_first_alone() -> None:
    """One change per SKU: the edit follows once the listing is live again."""
    renamed = replace(KOPI, name="Kopi Bajawa")
    first = plan(renamed, listings=(listing(state=ListingState.DELISTED),))
    assert [c.kind for c in first.updates] == [ChangeKind.REACTIVATE]
    live_again = plan(renamed, listings=(listing(),))
    assert [c.kind for c in live_again.updates] == [ChangeKind.UPDATE]


#: A marketplace that can unlist but documents no content edit (Bukalapak).
NO_EDITS = EVERYTHING - {Capability.UPDATE_CONTENT}
#: A marketplace that can neither edit content nor take a listing off sale.
NO_EDITS_NO_UNLIST = NO_EDITS - {Capability.UNLIST}


def test_a_content_edit_the_marketplace_cannot_make_is_kept_back_not_planned() -> None:
    renamed = replace(KOPI, name="Kopi Bajawa")
    result = plan(renamed, listings=(listing(),), capabilities=NO_EDITS)
    assert result.updates == []
    assert result.unsupported == [(KOPI.sku, ChangeKind.UPDATE)]
    assert result.counts() == NOTHING
    assert result.empty
    # the same change where the marketplace can edit content is an update
    assert plan(renamed, listings=(listing(),)).counts() == counts(update=1)


def test_a_delisted_listing_is_reactivated_as_it_is_where_content_cannot_change() -> (
    None
):
    renamed = replace(KOPI, name="Kopi Bajawa")
    delisted = listing(state=ListingState.DELISTED)
    result = plan(renamed, listings=(delisted,), capabilities=NO_EDITS)
    assert result.updates == [
        ListingChange(ChangeKind.REACTIVATE, shown(renamed, 7), "ext-1", "var-1")
    ]
    assert result.counts() == counts(update=1)
    # once live, the edit it cannot make is kept back
    live_again = plan(renamed, listings=(listing(),), capabilities=NO_EDITS)
    assert live_again.unsupported == [(KOPI.sku, ChangeKind.UPDATE)]
    assert live_again.empty


def test_a_listing_no_longer_wanted_goes_to_zero_where_it_cannot_be_unlisted() -> None:
    result = plan(ARCHIVED, listings=(listing(),), capabilities=NO_EDITS_NO_UNLIST)
    assert result.deactivations == []
    assert result.stock == [StockUpdate(KOPI.sku, "ext-1", 0, "var-1")]
    assert result.unsupported == [(KOPI.sku, ChangeKind.DEACTIVATE)]
    # once at zero, nothing more is sent
    at_zero = plan(
        ARCHIVED, listings=(listing(stock=0),), capabilities=NO_EDITS_NO_UNLIST
    )
    assert at_zero.empty
    assert at_zero.unsupported == []


def test_a_refused_create_is_retried_with_the_new_content() -> None:
    renamed = replace(KOPI, name="Kopi Bajawa")
    refused = listing(state=ListingState.FAILED, external_id=None)
    result = plan(renamed, listings=(refused,))
    assert result.creates == [ListingChange(ChangeKind.CREATE, shown(renamed, 7))]


# ------------------------------------------------------------------ stock order


def test_stock_decreases_and_zeros_go_before_increases() -> None:
    rising, falling, emptied, unknown = (
        product(sku, OWN) for sku in ("A-RISE", "B-FALL", "C-ZERO", "D-UNKNOWN")
    )
    levels = {
        rising.key: StockLevel(rising.sku, 10),
        falling.key: StockLevel(falling.sku, 3),
        emptied.key: StockLevel(emptied.sku, 0),
        unknown.key: StockLevel(unknown.sku, 6),
    }
    result = plan(
        rising,
        falling,
        emptied,
        unknown,
        levels=levels,
        listings=(
            listing(rising, stock=5, external_id="r"),
            listing(falling, stock=10, external_id="f"),
            listing(emptied, stock=4, external_id="z"),
            listing(unknown, stock=None, external_id="u"),
        ),
    )
    assert [(u.sku, u.quantity) for u in result.stock] == [
        ("B-FALL", 3),
        ("C-ZERO", 0),
        ("D-UNKNOWN", 6),
        ("A-RISE", 10),
    ]


def test_each_kind_of_change_is_in_sku_key_order() -> None:
    items = [product(sku, OWN) for sku in ("C", "A", "B")]
    result = plan(*items, levels={})
    assert [c.draft.sku for c in result.creates] == ["A", "B", "C"]


# ------------------------------------------------------------------ deactivations

ARCHIVED = replace(KOPI, status=ProductStatus.ARCHIVED)
DRAFTED = replace(KOPI, status=ProductStatus.DRAFT)
FOREIGN = product("KOPI-1", OTHER)
EXCLUDED = with_policy(AllocationPolicy(excluded=frozenset({KOPI.key})))


@pytest.mark.parametrize(
    ("item", "account"),
    [
        pytest.param(ARCHIVED, ACCOUNT, id="archived"),
        pytest.param(DRAFTED, ACCOUNT, id="draft"),
        pytest.param(KOPI, EXCLUDED, id="excluded-by-policy"),
        pytest.param(FOREIGN, ACCOUNT, id="producer-not-on-the-account"),
    ],
)
def test_a_live_listing_no_longer_wanted_is_deactivated_showing_no_stock(
    item: Product, account: ChannelAccount
) -> None:
    result = plan(item, listings=(listing(),), account=account)
    assert result.desired == {}
    assert result.deactivations == [
        ListingChange(ChangeKind.DEACTIVATE, shown(item, 0), "ext-1", "var-1")
    ]
    assert result.counts() == counts(deactivate=1)


def test_a_live_listing_whose_product_is_gone_is_deactivated_with_a_bare_draft() -> (
    None
):
    result = plan(listings=(listing(price=92_000),))
    assert result.deactivations == [
        ListingChange(
            ChangeKind.DEACTIVATE,
            ListingDraft(
                sku=KOPI.sku,
                name="KOPI-1",
                description="",
                category="",
                price=92_000,
                stock=0,
                weight_grams=1,
                condition=Condition.NEW,
            ),
            "ext-1",
            "var-1",
        )
    ]


def test_a_bare_draft_without_a_known_price_carries_one_rupiah() -> None:
    gone = Listing(ACCOUNT_ID, KOPI.sku, ListingState.LIVE, external_id="ext-1")
    result = plan(listings=(gone,))
    assert result.deactivations[0].draft.price == 1


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param(listing(state=ListingState.DELISTED), id="delisted"),
        pytest.param(listing(state=ListingState.FAILED), id="failed"),
        pytest.param(
            listing(state=ListingState.PENDING, external_id=None), id="pending"
        ),
        pytest.param(
            listing(state=ListingState.CREATING, external_id=None), id="creating"
        ),
        pytest.param(listing(external_id=None), id="live-without-id"),
    ],
)
def test_only_a_live_listing_with_an_id_is_deactivated(existing: Listing) -> None:
    assert plan(ARCHIVED, listings=(existing,)).empty


# ------------------------------------------------------------------ allocation


@pytest.mark.parametrize(
    ("policy", "on_hand", "reserved", "stock"),
    [
        pytest.param(AllocationPolicy(), 10, 3, 7, id="all-available"),
        pytest.param(AllocationPolicy(), 2, 5, 0, id="oversold-shows-zero"),
        pytest.param(
            AllocationPolicy(AllocationRule(share_percent=50)), 10, 3, 3, id="share"
        ),
        pytest.param(
            AllocationPolicy(AllocationRule(safety_buffer=2)), 10, 3, 5, id="buffer"
        ),
        pytest.param(
            AllocationPolicy(AllocationRule(safety_buffer=9)),
            10,
            3,
            0,
            id="buffer-above-available",
        ),
        pytest.param(AllocationPolicy(AllocationRule(cap=4)), 10, 3, 4, id="cap"),
        pytest.param(
            AllocationPolicy(AllocationRule(min_to_list=8)),
            10,
            3,
            0,
            id="under-min-to-list",
        ),
        pytest.param(
            AllocationPolicy(AllocationRule(min_to_list=7)),
            10,
            3,
            7,
            id="at-min-to-list",
        ),
        pytest.param(
            AllocationPolicy(AllocationRule(share_percent=50, safety_buffer=1, cap=2)),
            10,
            3,
            2,
            id="share-buffer-then-cap",
        ),
        pytest.param(
            AllocationPolicy(
                AllocationRule(share_percent=0),
                overrides=MappingProxyType({"KOPI-1": AllocationRule(cap=5)}),
            ),
            10,
            3,
            5,
            id="override-beats-default",
        ),
        pytest.param(
            AllocationPolicy(
                AllocationRule(cap=1),
                overrides=MappingProxyType({"OTHER-SKU": AllocationRule(cap=5)}),
            ),
            10,
            3,
            1,
            id="override-of-another-sku",
        ),
    ],
)
def test_the_policy_allocates_available_stock_from_the_levels(
    policy: AllocationPolicy, on_hand: int, reserved: int, stock: int
) -> None:
    levels = {KOPI.key: StockLevel(KOPI.sku, on_hand, reserved)}
    result = plan(KOPI, levels=levels, account=with_policy(policy))
    assert [c.draft.stock for c in result.creates] == [stock]


def test_a_sku_without_a_level_is_listed_with_zero_stock() -> None:
    result = plan(KOPI, levels={})
    assert [c.draft.stock for c in result.creates] == [0]


def test_an_excluded_sku_is_not_created() -> None:
    result = plan(KOPI, account=EXCLUDED)
    assert result.desired == {}
    assert result.empty


def test_overrides_and_exclusions_match_by_sku_key() -> None:
    spaced = product("kopi 1", OWN)  # key "KOPI1"
    capped = with_policy(
        AllocationPolicy(overrides=MappingProxyType({"KOPI1": AllocationRule(cap=2)}))
    )
    levels = {"KOPI1": StockLevel(spaced.sku, 10)}
    created = plan(spaced, levels=levels, account=capped).creates
    assert [c.draft.stock for c in created] == [2]
    excluded = with_policy(AllocationPolicy(excluded=frozenset({"KOPI1"})))
    assert plan(spaced, levels=levels, account=excluded).empty


def test_a_stock_change_in_the_ledger_is_a_stock_update() -> None:
    sold = {KOPI.key: StockLevel(KOPI.sku, on_hand=10, reserved=8)}
    result = plan(KOPI, listings=(listing(),), levels=sold)
    assert result.stock == [StockUpdate(KOPI.sku, "ext-1", 2, "var-1")]


# ------------------------------------------------------------------ producers


def test_products_of_other_producers_are_ignored() -> None:
    theirs = product("TENUN-1", OTHER)
    result = plan(KOPI, theirs, levels={})
    assert [c.draft.sku for c in result.creates] == [KOPI.sku]
    assert list(result.desired) == [KOPI.key]


def test_an_account_of_two_producers_wants_the_products_of_both() -> None:
    theirs = product("TENUN-1", OTHER)
    both = replace(ACCOUNT, producer_codes=(OWN, OTHER))
    result = plan(KOPI, theirs, levels={}, account=both)
    assert sorted(result.desired) == ["KOPI-1", "TENUN-1"]


@pytest.mark.parametrize(
    "status",
    [ProductStatus.DRAFT, ProductStatus.ARCHIVED],
)
def test_desired_state_holds_only_active_products(status: ProductStatus) -> None:
    inactive = product("KOPI-2", OWN, status=status)
    foreign = product("TENUN-1", OTHER)
    wanted = desired_state(ACCOUNT, [KOPI, inactive, foreign], LEVELS)
    assert list(wanted) == [KOPI.key]
    assert wanted[KOPI.key].draft == shown(KOPI, 7)


def test_a_plan_counts_each_kind() -> None:
    stale = product("KOPI-2", OWN)
    retired = product("KOPI-3", OWN, status=ProductStatus.ARCHIVED)
    result = plan(
        KOPI,
        stale,
        retired,
        levels={},
        listings=(
            listing(stale, stock=3, price=1, digest=CHANGED, external_id="s"),
            listing(retired, external_id="a"),
        ),
    )
    assert result.counts() == counts(create=1, update=1, deactivate=1, price=1, stock=1)
    assert not result.empty
    assert result.account == ACCOUNT
    assert result.stock == [StockUpdate(Sku("KOPI-2"), "s", 0, "var-1")]


# ------------------------------------------------------------------ drift: duplicates


def remote(
    external_id: str,
    *,
    sku: str = "KOPI-1",
    variant: str | None = "var-1",
    active: bool = True,
    stock: int = 7,
) -> RemoteListing:
    """KOPI as the marketplace shows it, in step with the store unless told."""
    return RemoteListing(
        sku=Sku(sku),
        external_id=external_id,
        name=KOPI.name,
        price=KOPI.price,
        stock=stock,
        active=active,
        raw_status="NORMAL" if active else "UNLIST",
        external_variant_id=variant,
    )


def drift(
    *products: Product,
    listings: tuple[Listing, ...] = (),
    shown: tuple[RemoteListing, ...] = (),
) -> list[Finding]:
    by_key = {sku_key(x.sku): x for x in listings}
    return find_drift(
        plan(*products, listings=listings),
        by_key,
        shown,
        {p.key: p for p in products},
    )


@pytest.mark.parametrize("bound_first", [True, False], ids=["bound-first", "last"])
def test_a_second_listing_of_a_bound_sku_is_a_duplicate_of_the_bound_one(
    bound_first: bool,
) -> None:
    bound, extra = remote("ext-1"), remote("ext-9", variant="var-9", stock=40)
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(bound, extra) if bound_first else (extra, bound),
    )
    assert [(f.kind, f.sku, f.external_id) for f in found] == [
        ("duplicate", KOPI.sku, "ext-9")
    ]
    (duplicate,) = found
    assert duplicate.kept == "ext-1"
    assert duplicate.remote == extra


def test_a_duplicate_is_reported_beside_the_bound_listings_own_drift() -> None:
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(remote("ext-1", stock=2), remote("ext-9", variant="var-9")),
    )
    assert [(f.kind, f.external_id, f.fields) for f in found] == [
        (FindingKind.DRIFT, "ext-1", {"stock": ("7", "2")}),
        (FindingKind.DUPLICATE, "ext-9", {}),
    ]


def test_every_extra_listing_is_a_duplicate_oldest_first() -> None:
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(remote("ext-30"), remote("ext-1"), remote("ext-4"), remote("ext-200")),
    )
    assert [(f.kind, f.external_id, f.kept) for f in found] == [
        (FindingKind.DUPLICATE, "ext-4", "ext-1"),
        (FindingKind.DUPLICATE, "ext-30", "ext-1"),
        (FindingKind.DUPLICATE, "ext-200", "ext-1"),
    ]


def test_an_inactive_extra_listing_sells_nothing_and_is_not_reported() -> None:
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(remote("ext-1"), remote("ext-9", active=False)),
    )
    assert found == []


def test_the_bound_listing_is_matched_by_its_variant_too() -> None:
    same_item = remote("ext-1", variant="var-2", stock=40)
    found = drift(KOPI, listings=(listing(),), shown=(same_item, remote("ext-1")))
    assert [(f.kind, f.external_id, f.kept) for f in found] == [
        (FindingKind.DUPLICATE, "ext-1", "ext-1")
    ]
    assert found[0].remote == same_item
    assert not found[0].repairable_duplicate  # another variant of the kept listing


@pytest.mark.parametrize(
    ("shown", "kept", "duplicates"),
    [
        pytest.param(
            (remote("20"), remote("3"), remote("100")), "3", ["20", "100"], id="oldest"
        ),
        pytest.param(
            (remote("3", active=False), remote("20"), remote("100")),
            "20",
            ["100"],
            id="an-active-one-first",
        ),
        pytest.param(
            (remote("3", active=False), remote("20", active=False)),
            "3",
            [],
            id="all-inactive",
        ),
    ],
)
def test_an_unbound_sku_keeps_one_listing_and_reports_the_others(
    shown: tuple[RemoteListing, ...], kept: str, duplicates: list[str]
) -> None:
    found = drift(KOPI, shown=shown)
    assert [(f.kind, f.external_id, f.fields, f.kept) for f in found] == [
        (FindingKind.DRIFT, kept, {"binding": ("not bound", kept)}, None),
        *((FindingKind.DUPLICATE, d, {}, kept) for d in duplicates),
    ]


def test_a_sku_whose_bound_listing_is_gone_keeps_another_one() -> None:
    found = drift(KOPI, listings=(listing(),), shown=(remote("ext-6"), remote("ext-5")))
    assert [(f.kind, f.external_id, f.fields) for f in found] == [
        (FindingKind.DRIFT, "ext-5", {"binding": ("ext-1", "ext-5")}),
        (FindingKind.DUPLICATE, "ext-6", {}),
    ]


def test_each_listing_without_a_sku_is_reported_last() -> None:
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(remote("n-2", sku=" "), remote("ext-1"), remote("n-1", sku="")),
    )
    assert [(f.kind, f.sku, f.external_id, f.known_sku) for f in found] == [
        (FindingKind.NO_SKU, "", "n-1", False),
        (FindingKind.NO_SKU, " ", "n-2", False),
    ]


def test_each_orphan_of_one_sku_is_reported() -> None:
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(
            remote("ext-1"),
            remote("o-2", sku="ROTAN-9"),
            remote("o-1", sku="rotan-9"),
        ),
    )
    assert [(f.kind, f.sku, f.external_id, f.known_sku) for f in found] == [
        (FindingKind.ORPHAN, "rotan-9", "o-1", False),
        (FindingKind.ORPHAN, "ROTAN-9", "o-2", False),
    ]


def test_a_listing_no_longer_wanted_is_an_orphan_and_its_extras_duplicates() -> None:
    found = drift(
        ARCHIVED,
        listings=(listing(),),
        shown=(remote("ext-9", variant="var-9"), remote("ext-1")),
    )
    assert [(f.kind, f.external_id, f.known_sku, f.kept) for f in found] == [
        (FindingKind.ORPHAN, "ext-1", True, None),
        (FindingKind.DUPLICATE, "ext-9", True, "ext-1"),
    ]


def test_repair_binds_the_kept_listing_and_leaves_duplicates_to_deactivations() -> None:
    extra = remote("20", variant="v-20")
    found = drift(KOPI, shown=(extra, remote("3", variant="v-3")))
    assert repaired_listings(found, {}, ACCOUNT_ID) == [
        Listing(ACCOUNT_ID, KOPI.sku, ListingState.LIVE, "3", "v-3")
    ]
    assert duplicate_deactivations(found, {KOPI.key: KOPI}) == [
        ListingChange(ChangeKind.DEACTIVATE, shown(KOPI, 0), "20", "v-20")
    ]


def test_repair_binds_an_inactive_kept_listing_as_delisted_to_list_it_again() -> None:
    failed = listing(state=ListingState.FAILED, external_id=None, variant=None)
    found = drift(KOPI, listings=(failed,), shown=(remote("3", active=False),))
    (bound,) = repaired_listings(found, {KOPI.key: failed}, ACCOUNT_ID)
    assert bound == Listing(ACCOUNT_ID, KOPI.sku, ListingState.DELISTED, "3", "var-1")
    # listed again first; the store's content follows once it is live
    relist = plan(KOPI, listings=(bound,))
    assert [c.kind for c in relist.updates] == [ChangeKind.REACTIVATE]
    assert relist.counts() == counts(update=1, price=1, stock=1)


def test_only_a_duplicate_of_its_own_listing_is_deactivated() -> None:
    found = drift(
        ARCHIVED,
        listings=(listing(),),
        shown=(
            remote("ext-1"),
            remote("ext-1", variant="var-2"),
            remote("ext-9", variant=None),
            remote("n-1", sku=""),
            remote("o-1", sku="ROTAN-9"),
        ),
    )
    assert {f.kind for f in found} == {
        FindingKind.ORPHAN,
        FindingKind.DUPLICATE,
        FindingKind.NO_SKU,
    }
    assert repaired_listings(found, {KOPI.key: listing()}, ACCOUNT_ID) == []
    bare = ListingDraft(
        sku=KOPI.sku,
        name=str(KOPI.sku),
        description="",
        category="",
        price=KOPI.price,
        stock=0,
        weight_grams=1,
        condition=Condition.NEW,
    )
    assert duplicate_deactivations(found, {}) == [
        ListingChange(ChangeKind.DEACTIVATE, bare, "ext-9", None)
    ]


def test_a_duplicate_in_a_listing_another_sku_keeps_is_reported_not_deactivated() -> (
    None
):
    """A seller's item with two variants: one repeats KOPI (bound elsewhere), the
    other is TEH's bound listing. Deactivating that item (Shopee unlists the whole
    item) would take TEH off sale, so repair leaves it."""
    teh = product("TEH-1", OWN)
    teh_listing = replace(
        listing(teh, external_id="ext-9", variant="var-t"),
        last_content_hash=content_hash(shown(teh, 0)),
        last_stock=0,
    )
    found = find_drift(
        plan(KOPI, teh, listings=(listing(), teh_listing)),
        {KOPI.key: listing(), teh.key: teh_listing},
        (
            remote("ext-1"),
            remote("ext-9", variant="var-k"),
            replace(
                remote("ext-9", sku="TEH-1", variant="var-t", stock=0),
                name=teh.name,
                price=teh.price,
            ),
        ),
        {KOPI.key: KOPI, teh.key: teh},
    )
    assert [(f.kind, f.sku, f.external_id, f.kept) for f in found] == [
        (FindingKind.DUPLICATE, KOPI.sku, "ext-9", "ext-1")
    ]
    assert not found[0].repairable_duplicate
    assert duplicate_deactivations(found, {KOPI.key: KOPI, teh.key: teh}) == []


def test_a_duplicate_in_a_listing_with_a_variant_without_sku_is_not_deactivated() -> (
    None
):
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(
            remote("ext-1"),
            remote("ext-9", variant="var-k"),
            remote("ext-9", sku="", variant="var-x"),
        ),
    )
    assert [(f.kind, f.external_id, f.shared) for f in found] == [
        (FindingKind.DUPLICATE, "ext-9", True),
        (FindingKind.NO_SKU, "ext-9", False),
    ]
    assert duplicate_deactivations(found, {KOPI.key: KOPI}) == []


def test_two_variants_of_one_extra_listing_both_repeating_the_sku_are_deactivated() -> (
    None
):
    found = drift(
        KOPI,
        listings=(listing(),),
        shown=(
            remote("ext-1"),
            remote("ext-9", variant="var-a"),
            remote("ext-9", variant="var-b"),
        ),
    )
    assert [(f.kind, f.external_id, f.shared) for f in found] == [
        (FindingKind.DUPLICATE, "ext-9", False),
        (FindingKind.DUPLICATE, "ext-9", False),
    ]
    assert len(duplicate_deactivations(found, {KOPI.key: KOPI})) == 2
