"""The pure planner: desired state + what was last pushed → the changes to send.

The desired state of an account is each active product of its producers, showing the
stock its allocation policy grants from the SKU's available stock, at the product's
price, with the product's content. What was last pushed is each :class:`Listing`.
:func:`plan_account` diffs the two into creates, content updates, deactivations, price
updates and stock updates, with no I/O:

* a product without a listing (or whose last create failed for a transient reason) is
  created; a create refused by the marketplace is tried again only once the product's
  content or price changed;
* a listing whose create outcome is unknown (``creating``) is resolved by a lookup by
  SKU before anything else: it is never created again blindly;
* a live listing gets a content update, a price update and a stock update for exactly
  what differs; a delisted one that is wanted again is updated (which lists it again);
* a live listing whose product is no longer wanted (archived, draft, excluded by the
  policy, its producer gone from the account) is deactivated;
* stock updates that lower a listing's stock or take it to zero come first (they
  prevent overselling); one SKU has at most one update of each kind.

:func:`find_drift` compares a marketplace's own view with the same plan and listings
(drift, orphans, missing listings), and :func:`repaired_listings` makes the store forget
the values a marketplace changed, so the next plan sends the store's values back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Condition, Product, ProductStatus
from core.domain.ids import Sku, sku_key
from core.domain.listings import Listing, content_hash
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


@dataclass(frozen=True, slots=True)
class Desired:
    """What one SKU should look like on the account."""

    draft: ListingDraft
    content_hash: str


@dataclass(slots=True)
class AccountPlan:
    """The changes one account needs, in the order they are sent."""

    account: ChannelAccount
    desired: dict[str, Desired] = field(default_factory=dict)
    resolve: list[Sku] = field(default_factory=list)
    creates: list[ListingChange] = field(default_factory=list)
    updates: list[ListingChange] = field(default_factory=list)
    deactivations: list[ListingChange] = field(default_factory=list)
    prices: list[PriceUpdate] = field(default_factory=list)
    stock: list[StockUpdate] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when nothing is to be sent."""
        return not any(self.counts().values())

    def counts(self) -> dict[str, int]:
        """How many items of each kind."""
        return {
            "resolve": len(self.resolve),
            "create": len(self.creates),
            "update": len(self.updates),
            "deactivate": len(self.deactivations),
            "price": len(self.prices),
            "stock": len(self.stock),
        }


#: Content hashes by product fingerprint. A fingerprint covers every field the
#: content hash reads, so equal fingerprints have equal content hashes; planning a
#: catalogue again (every cycle, every account) reuses them instead of hashing again.
_CONTENT_HASHES: dict[str, str] = {}
#: Above this many, the memo starts afresh (a bound on its memory).
_CONTENT_HASHES_LIMIT = 200_000


def _content_hash(product: Product, draft: ListingDraft) -> str:
    """``content_hash(draft)`` of a draft made from ``product``, memoised."""
    found = _CONTENT_HASHES.get(product.fingerprint)
    if found is None:
        if len(_CONTENT_HASHES) >= _CONTENT_HASHES_LIMIT:
            _CONTENT_HASHES.clear()
        found = _CONTENT_HASHES[product.fingerprint] = content_hash(draft)
    return found


def desired_state(
    account: ChannelAccount,
    products: Iterable[Product],
    levels: Mapping[str, StockLevel],
) -> dict[str, Desired]:
    """The listings ``account`` should carry, by SKU key: its producers' active
    products that its policy does not exclude, each showing its allocation."""
    producers = set(account.producer_codes)
    wanted: dict[str, Desired] = {}
    for product in products:
        if product.status is not ProductStatus.ACTIVE:
            continue
        if product.producer_code not in producers:
            continue
        level = levels.get(product.key)
        available = 0 if level is None else level.available
        stock = account.policy.allocate(product.sku, available)
        if stock is None:
            continue
        draft = ListingDraft.from_product(product, stock)
        wanted[product.key] = Desired(draft, _content_hash(product, draft))
    return wanted


def _retry_failed(listing: Listing, want: Desired) -> bool:
    """A refused create is tried again once what it carried has changed."""
    return (
        listing.last_content_hash != want.content_hash
        or listing.last_price != want.draft.price
    )


def plan_account(
    account: ChannelAccount,
    products: Mapping[str, Product],
    levels: Mapping[str, StockLevel],
    listings: Mapping[str, Listing],
) -> AccountPlan:
    """The changes that bring ``account`` from ``listings`` to the desired state.

    ``products`` (by SKU key) holds at least the products of the account's producers
    and those of its listings; ``levels`` and ``listings`` are by SKU key too.
    """
    plan = AccountPlan(
        account, desired=desired_state(account, products.values(), levels)
    )
    decreases: list[StockUpdate] = []
    increases: list[StockUpdate] = []
    for key in sorted(plan.desired):
        want = plan.desired[key]
        draft = want.draft
        listing = listings.get(key)
        if listing is None or listing.state is ListingState.PENDING:
            plan.creates.append(ListingChange(ChangeKind.CREATE, draft))
            continue
        match listing.state:
            case ListingState.CREATING:
                plan.resolve.append(draft.sku)
                continue
            case ListingState.FAILED:
                if listing.external_id is None:
                    if _retry_failed(listing, want):
                        plan.creates.append(ListingChange(ChangeKind.CREATE, draft))
                    continue
            case ListingState.LIVE | ListingState.DELISTED:
                pass
        external_id = listing.external_id
        if external_id is None:  # a bound listing always has its id
            plan.creates.append(ListingChange(ChangeKind.CREATE, draft))
            continue
        variant = listing.external_variant_id
        if (
            listing.state is ListingState.DELISTED
            or listing.last_content_hash != want.content_hash
        ):
            plan.updates.append(
                ListingChange(ChangeKind.UPDATE, draft, external_id, variant)
            )
        if listing.last_price != draft.price:
            plan.prices.append(
                PriceUpdate(draft.sku, external_id, draft.price, variant)
            )
        if listing.last_stock != draft.stock:
            update = StockUpdate(draft.sku, external_id, draft.stock, variant)
            lowers = listing.last_stock is None or draft.stock < listing.last_stock
            (decreases if lowers or draft.stock == 0 else increases).append(update)
    plan.stock = decreases + increases
    for key in sorted(listings.keys() - plan.desired.keys()):
        listing = listings[key]
        if listing.state is ListingState.LIVE and listing.external_id is not None:
            plan.deactivations.append(
                ListingChange(
                    ChangeKind.DEACTIVATE,
                    _retired_draft(listing, products.get(key)),
                    listing.external_id,
                    listing.external_variant_id,
                )
            )
    return plan


def _retired_draft(listing: Listing, product: Product | None) -> ListingDraft:
    """The draft a deactivation carries: the product's, showing no stock (a bare one
    when the product is gone from the store)."""
    if product is not None:
        return ListingDraft.from_product(product, 0)
    return ListingDraft(
        sku=listing.sku,
        name=str(listing.sku),
        description="",
        category="",
        price=listing.last_price or 1,
        stock=0,
        weight_grams=1,
        condition=Condition.NEW,
    )


class FindingKind(StrEnum):
    """What reconciling an account found."""

    DRIFT = "drift"  # a value changed on the marketplace
    ORPHAN = "orphan"  # a listing only on the marketplace
    MISSING = "missing"  # a listing only here


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between the store and the marketplace's own view.

    ``fields`` maps a field to (ours, theirs) as text; ``known_sku`` says whether an
    orphan carries a SKU of the catalogue.
    """

    kind: FindingKind
    sku: Sku
    external_id: str | None = None
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    known_sku: bool = True


def find_drift(
    plan: AccountPlan,
    listings: Mapping[str, Listing],
    remote: Iterable[RemoteListing],
    catalogue: Mapping[str, Product],
) -> list[Finding]:
    """Compare the marketplace's listings with the store.

    A wanted SKU absent from the marketplace is *missing*. For one present, price,
    stock and whether it is active are compared with what was last pushed (with the
    desired value where nothing was pushed yet), and the name with the product's
    when that content was pushed: differences are *drift*. A marketplace listing the
    account does not want is an *orphan*.
    """
    shown = {sku_key(r.sku): r for r in remote}
    findings: list[Finding] = []
    for key in sorted(plan.desired):
        want = plan.desired[key]
        theirs = shown.get(key)
        listing = listings.get(key)
        if theirs is None:
            findings.append(
                Finding(
                    FindingKind.MISSING,
                    want.draft.sku,
                    None if listing is None else listing.external_id,
                )
            )
            continue
        differences = _differences(want, listing, theirs)
        if differences:
            findings.append(
                Finding(
                    FindingKind.DRIFT, want.draft.sku, theirs.external_id, differences
                )
            )
    for key in sorted(shown.keys() - plan.desired.keys()):
        theirs = shown[key]
        listing = listings.get(key)
        if listing is not None and listing.state is ListingState.DELISTED:
            if theirs.active:
                findings.append(
                    Finding(
                        FindingKind.DRIFT,
                        listing.sku,
                        theirs.external_id,
                        {"active": ("False", "True")},
                    )
                )
            continue
        findings.append(
            Finding(
                FindingKind.ORPHAN,
                theirs.sku,
                theirs.external_id,
                known_sku=key in catalogue,
            )
        )
    return findings


def _differences(
    want: Desired, listing: Listing | None, theirs: RemoteListing
) -> dict[str, tuple[str, str]]:
    draft = want.draft
    if listing is None or listing.external_id is None:
        return {"binding": ("not bound", theirs.external_id)}
    ours_price = draft.price if listing.last_price is None else listing.last_price
    ours_stock = draft.stock if listing.last_stock is None else listing.last_stock
    ours_active = listing.state is not ListingState.DELISTED
    found: dict[str, tuple[str, str]] = {}
    if theirs.price != ours_price:
        found["price"] = (str(ours_price), str(theirs.price))
    if theirs.stock != ours_stock:
        found["stock"] = (str(ours_stock), str(theirs.stock))
    if theirs.active != ours_active:
        found["active"] = (str(ours_active), str(theirs.active))
    if listing.last_content_hash == want.content_hash and theirs.name != draft.name:
        found["name"] = (draft.name, theirs.name)
    return found


def repaired_listings(
    findings: Iterable[Finding], listings: Mapping[str, Listing]
) -> list[Listing]:
    """The listings to store so that the next push sends the store's values back:
    a drifted value is forgotten (so it is pushed again), a missing listing is
    created again, a listing active against our wish is deactivated."""
    changed: list[Listing] = []
    for finding in findings:
        listing = listings.get(sku_key(finding.sku))
        if listing is None or finding.kind is FindingKind.ORPHAN:
            continue
        if finding.kind is FindingKind.MISSING:
            changed.append(
                replace(
                    listing,
                    state=ListingState.PENDING,
                    external_id=None,
                    external_variant_id=None,
                    last_price=None,
                    last_stock=None,
                    last_content_hash=None,
                )
            )
            continue
        fixed = listing
        if "price" in finding.fields:
            fixed = replace(fixed, last_price=None)
        if "stock" in finding.fields:
            fixed = replace(fixed, last_stock=None)
        if "name" in finding.fields:
            fixed = replace(fixed, last_content_hash=None)
        if "active" in finding.fields:
            theirs_active = finding.fields["active"][1] == "True"
            fixed = replace(
                fixed,
                state=ListingState.LIVE if theirs_active else ListingState.DELISTED,
            )
        if fixed != listing:
            changed.append(fixed)
    return changed
