"""Listings: the binding of a SKU to a channel account, and what was last pushed.

A listing remembers the last price, stock and content it pushed, so the planner sends
only what changed. ``content_hash`` fingerprints what an UPDATE carries (everything but
price and stock, which have their own calls).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from core.domain.ids import AccountId, Sku
from core.domain.remote import ListingDraft
from core.domain.sync import ListingState


def content_hash(draft: ListingDraft) -> str:
    """A digest of the content an UPDATE sends: name, description, category, weight,
    dimensions, condition and images (not price or stock)."""
    dimensions = draft.dimensions
    document = [
        draft.name,
        draft.description,
        draft.category,
        draft.weight_grams,
        None
        if dimensions is None
        else [dimensions.length_cm, dimensions.width_cm, dimensions.height_cm],
        draft.condition.value,
        list(draft.image_urls),
    ]
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Listing:
    """A SKU on one account, as the store knows it.

    ``last_price``, ``last_stock`` and ``last_content_hash`` are what the marketplace
    was last told (``None``: not known, push it). For a listing that failed, they are
    what the refused attempt carried, so the same attempt is not repeated.
    """

    account: AccountId
    sku: Sku
    state: ListingState
    external_id: str | None = None
    external_variant_id: str | None = None
    last_price: int | None = None
    last_stock: int | None = None
    last_content_hash: str | None = None
    last_error: str | None = None
