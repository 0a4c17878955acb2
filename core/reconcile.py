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
  what differs; a delisted one that is wanted again is reactivated, alone (a changed
  content is sent by the next plan, once it is live);
* a live listing whose product is no longer wanted (archived, draft, excluded by the
  policy, its producer gone from the account) is deactivated;
* nothing is planned that the marketplace cannot do (its :class:`Capability` set):
  without ``UPDATE_CONTENT`` a changed content is kept back (``plan.unsupported``);
  without ``UNLIST`` a listing no longer wanted is taken to zero stock instead of
  deactivated;
* an account whose shop was handed over to another (``account.handover``) plans
  nothing: the account taking over publishes;
* stock updates that lower a listing's stock or take it to zero come first (they
  prevent overselling); one SKU has at most one update of each kind.

:func:`find_drift` compares a marketplace's own view with the same plan and listings
(drift, orphans, missing listings, duplicates, listings without a SKU),
:func:`repaired_listings` makes the store forget the values a marketplace changed (and
binds SKUs to the listing kept), so the next plan sends the store's values back, and
:func:`duplicate_deactivations` are the changes that take duplicates off sale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from core.domain.accounts import ChannelAccount
from core.domain.catalogue import Condition, Product, ProductStatus
from core.domain.ids import AccountId, Sku, sku_key
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
    #: Changes wanted that the marketplace cannot make (e.g. a content edit where the
    #: API documents none); shown, never sent, not counted in :meth:`counts`.
    unsupported: list[tuple[Sku, ChangeKind]] = field(default_factory=list)

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
    *,
    capabilities: frozenset[Capability],
) -> AccountPlan:
    """The changes that bring ``account`` from ``listings`` to the desired state, as
    far as the marketplace's ``capabilities`` allow.

    ``products`` (by SKU key) holds at least the products of the account's producers
    and those of its listings; ``levels`` and ``listings`` are by SKU key too.
    """
    if account.handover is not None and not account.handover.publishes(account.id):
        return AccountPlan(account)  # its shop is served by the account taking over
    edits = Capability.UPDATE_CONTENT in capabilities
    unlists = Capability.UNLIST in capabilities
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
        changed = listing.last_content_hash != want.content_hash
        delisted = listing.state is ListingState.DELISTED
        if delisted and unlists:
            # Listed again first, alone: some marketplaces refuse to edit a listing
            # off sale, and one change per SKU keeps its recorded state true. A
            # changed content is sent by the next plan, once the listing is live.
            plan.updates.append(
                ListingChange(ChangeKind.REACTIVATE, draft, external_id, variant)
            )
        elif edits and (changed or delisted):
            plan.updates.append(
                ListingChange(ChangeKind.UPDATE, draft, external_id, variant)
            )
        elif changed:
            plan.unsupported.append((draft.sku, ChangeKind.UPDATE))
        if listing.last_price != draft.price:
            plan.prices.append(
                PriceUpdate(draft.sku, external_id, draft.price, variant)
            )
        if listing.last_stock != draft.stock:
            update = StockUpdate(draft.sku, external_id, draft.stock, variant)
            lowers = listing.last_stock is None or draft.stock < listing.last_stock
            (decreases if lowers or draft.stock == 0 else increases).append(update)
    for key in sorted(listings.keys() - plan.desired.keys()):
        listing = listings[key]
        if listing.state is not ListingState.LIVE or listing.external_id is None:
            continue
        if not unlists:  # taken to zero instead, and then left as it is
            if listing.last_stock != 0:
                decreases.append(
                    StockUpdate(
                        listing.sku, listing.external_id, 0, listing.external_variant_id
                    )
                )
                plan.unsupported.append((listing.sku, ChangeKind.DEACTIVATE))
            continue
        plan.deactivations.append(
            ListingChange(
                ChangeKind.DEACTIVATE,
                _retired_draft(listing, products.get(key)),
                listing.external_id,
                listing.external_variant_id,
            )
        )
    plan.stock = decreases + increases
    return plan


def _retired_draft(listing: Listing, product: Product | None) -> ListingDraft:
    """The draft a deactivation carries: the product's, showing no stock (a bare one
    when the product is gone from the store)."""
    if product is not None:
        return ListingDraft.from_product(product, 0)
    return _bare_draft(listing.sku, listing.last_price)


def _bare_draft(sku: Sku, price: int | None) -> ListingDraft:
    """A draft of a SKU the store has no product for, showing no stock."""
    return ListingDraft(
        sku=sku,
        name=str(sku),
        description="",
        category="",
        price=price or 1,
        stock=0,
        weight_grams=1,
        condition=Condition.NEW,
    )


class FindingKind(StrEnum):
    """What reconciling an account found."""

    DRIFT = "drift"  # a value changed on the marketplace
    ORPHAN = "orphan"  # a listing only on the marketplace
    MISSING = "missing"  # a listing only here
    DUPLICATE = "duplicate"  # a second active listing of a SKU we list
    NO_SKU = "no_sku"  # a listing without a seller SKU: nothing can match it


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between the store and the marketplace's own view.

    ``fields`` maps a field to (ours, theirs) as text; ``known_sku`` says whether an
    orphan carries a SKU of the catalogue. ``remote`` is the marketplace's listing the
    finding is about (None for a missing one); ``kept`` is, for a duplicate, the
    external id of the listing the SKU keeps; ``shared`` says that the duplicate's
    marketplace listing also holds a variant of another SKU.
    """

    kind: FindingKind
    sku: Sku
    external_id: str | None = None
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    known_sku: bool = True
    remote: RemoteListing | None = None
    kept: str | None = None
    shared: bool = False

    @property
    def repairable_duplicate(self) -> bool:
        """A duplicate that repair deactivates: a listing of its own, neither another
        variant of the kept one nor one that also holds another SKU's variant
        (deactivating those may take the whole listing, and what else it sells, off
        sale)."""
        return (
            self.kind is FindingKind.DUPLICATE
            and self.remote is not None
            and self.kept is not None
            and self.remote.external_id != self.kept
            and not self.shared
        )


def _age(theirs: RemoteListing) -> tuple[int, str, int, str]:
    """Oldest first: the marketplaces hand out growing ids, so the shorter id, then
    the lower one, is the older listing (then the same for variants)."""
    variant = theirs.external_variant_id or ""
    return (len(theirs.external_id), theirs.external_id, len(variant), variant)


def _keeper(candidates: Iterable[RemoteListing]) -> RemoteListing:
    """The listing an unbound SKU keeps: an active one first, then the oldest."""
    return min(candidates, key=lambda r: (not r.active, _age(r)))


def _bound(
    listing: Listing | None, candidates: list[RemoteListing]
) -> RemoteListing | None:
    """The marketplace's listing ``listing`` is bound to, if it is still there."""
    if listing is None or listing.external_id is None:
        return None
    same = [r for r in candidates if r.external_id == listing.external_id]
    exact = [r for r in same if r.external_variant_id == listing.external_variant_id]
    if exact:
        return exact[0]
    if same and listing.external_variant_id is None:
        return _keeper(same)
    return None


def _duplicates(
    sku: Sku, kept: RemoteListing, candidates: list[RemoteListing]
) -> list[Finding]:
    """Every other active listing of the SKU, oldest first."""
    return [
        Finding(
            FindingKind.DUPLICATE, sku, r.external_id, remote=r, kept=kept.external_id
        )
        for r in sorted(candidates, key=_age)
        if r is not kept and r.active
    ]


def find_drift(
    plan: AccountPlan,
    listings: Mapping[str, Listing],
    remote: Iterable[RemoteListing],
    catalogue: Mapping[str, Product],
) -> list[Finding]:
    """Compare the marketplace's listings with the store.

    A wanted SKU absent from the marketplace is *missing*. For one present, the
    listing compared is the one the store is bound to; price, stock and whether it
    is active are compared with what was last pushed (with the desired value where
    nothing was pushed yet), and the name with the product's when that content was
    pushed: differences are *drift*. When the store is bound to none of them (never
    bound, or its listing is gone), one is kept — an active one first, then the
    oldest (lowest id) — and reported as drift of ``binding``. Every other *active*
    listing of a SKU that has a bound or kept listing is a *duplicate* of it (an
    inactive one sells nothing). A marketplace listing the account does not want,
    and is not bound to, is an *orphan*, each one reported; a listing without a
    seller SKU is *no_sku*. A duplicate whose marketplace listing also holds a
    variant of another SKU (or of none) is ``shared``: repair leaves it.
    """
    shown: dict[str, list[RemoteListing]] = {}
    skus_of: dict[str, set[str]] = {}  # SKU keys each marketplace listing holds
    for theirs in remote:
        shown.setdefault(sku_key(theirs.sku), []).append(theirs)
        skus_of.setdefault(theirs.external_id, set()).add(sku_key(theirs.sku))
    unnamed = [
        Finding(FindingKind.NO_SKU, r.sku, r.external_id, known_sku=False, remote=r)
        for r in sorted(shown.pop("", []), key=_age)
    ]
    findings: list[Finding] = []
    for key in sorted(plan.desired):
        want = plan.desired[key]
        candidates = shown.get(key, [])
        listing = listings.get(key)
        if not candidates:
            findings.append(
                Finding(
                    FindingKind.MISSING,
                    want.draft.sku,
                    None if listing is None else listing.external_id,
                )
            )
            continue
        bound = _bound(listing, candidates)
        if listing is None or bound is None:
            kept = _keeper(candidates)
            ours = None if listing is None else listing.external_id
            differences = {"binding": (ours or "not bound", kept.external_id)}
        else:
            kept = bound
            differences = _differences(want, listing, kept)
        if differences:
            findings.append(
                Finding(
                    FindingKind.DRIFT,
                    want.draft.sku,
                    kept.external_id,
                    differences,
                    remote=kept,
                )
            )
        findings.extend(_duplicates(want.draft.sku, kept, candidates))
    for key in sorted(shown.keys() - plan.desired.keys()):
        candidates = shown[key]
        listing = listings.get(key)
        bound = _bound(listing, candidates)
        if listing is None or bound is None:
            findings.extend(
                Finding(
                    FindingKind.ORPHAN,
                    r.sku,
                    r.external_id,
                    known_sku=key in catalogue,
                    remote=r,
                )
                for r in sorted(candidates, key=_age)
            )
            continue
        if listing.state is ListingState.DELISTED:
            if bound.active:
                findings.append(
                    Finding(
                        FindingKind.DRIFT,
                        listing.sku,
                        bound.external_id,
                        {"active": ("False", "True")},
                        remote=bound,
                    )
                )
        else:
            findings.append(
                Finding(
                    FindingKind.ORPHAN,
                    bound.sku,
                    bound.external_id,
                    known_sku=key in catalogue,
                    remote=bound,
                )
            )
        findings.extend(_duplicates(listing.sku, bound, candidates))
    return _mark_shared(findings, skus_of) + unnamed


def _mark_shared(
    findings: list[Finding], skus_of: Mapping[str, set[str]]
) -> list[Finding]:
    """Duplicates whose marketplace listing also holds a variant of another SKU (or
    of none) marked ``shared``: Shopee deactivates a whole item."""
    return [
        replace(f, shared=True)
        if f.kind is FindingKind.DUPLICATE
        and f.external_id is not None
        and skus_of.get(f.external_id, set()) - {sku_key(f.sku)}
        else f
        for f in findings
    ]


def _differences(
    want: Desired, listing: Listing, theirs: RemoteListing
) -> dict[str, tuple[str, str]]:
    draft = want.draft
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
    findings: Iterable[Finding],
    listings: Mapping[str, Listing],
    account: AccountId,
) -> list[Listing]:
    """The listings to store so that the next push sends the store's values back:
    a drifted value is forgotten (so it is pushed again), a missing listing is
    created again, a listing active against our wish is deactivated, and a SKU not
    bound (or bound to a listing gone from the marketplace) is bound to the listing
    kept, which then gets the store's content, price and stock. Duplicates, orphans
    and listings without a SKU change nothing here."""
    changed: list[Listing] = []
    for finding in findings:
        listing = listings.get(sku_key(finding.sku))
        if "binding" in finding.fields and finding.remote is not None:
            theirs = finding.remote
            changed.append(
                Listing(
                    account,
                    finding.sku if listing is None else listing.sku,
                    ListingState.LIVE if theirs.active else ListingState.DELISTED,
                    theirs.external_id,
                    theirs.external_variant_id,
                )
            )
            continue
        if listing is None or finding.kind not in (
            FindingKind.DRIFT,
            FindingKind.MISSING,
        ):
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


def duplicate_deactivations(
    findings: Iterable[Finding], catalogue: Mapping[str, Product]
) -> list[ListingChange]:
    """The DEACTIVATE changes that take repairable duplicates off sale; each carries
    the product's draft showing no stock (a bare one when the product is unknown)."""
    changes: list[ListingChange] = []
    for finding in findings:
        theirs = finding.remote
        if not finding.repairable_duplicate or theirs is None:
            continue
        product = catalogue.get(sku_key(finding.sku))
        draft = (
            ListingDraft.from_product(product, 0)
            if product is not None
            else _bare_draft(finding.sku, theirs.price)
        )
        changes.append(
            ListingChange(
                ChangeKind.DEACTIVATE,
                draft,
                theirs.external_id,
                theirs.external_variant_id,
            )
        )
    return changes
