"""Batch results in the order of the changes asked for."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain.remote import ChangeResult, ListingChange
from core.errors import ContractError, Where


def in_order(
    changes: Sequence[ListingChange],
    results: Sequence[ChangeResult | None],
    where: Where,
) -> list[ChangeResult]:
    """One result per change, in order; a change no step answered for fails with a
    :class:`ContractError` (never a silent success)."""
    return [
        result
        if result is not None
        else ChangeResult(
            change.draft.sku,
            False,
            error=ContractError("no outcome was recorded for this change", **where),
        )
        for change, result in zip(changes, results, strict=True)
    ]
