"""Looking listings up by SKU before creating them, so that nothing is created twice.

:func:`look_up_each` asks the marketplace one SKU at a time: a SKU whose look-up fails
(after the retries of :func:`connectors._http.send`) fails alone, and the others are
still found.

:class:`ShopIndex` answers the look-ups of a connector's creates from one scan of the
shop's listings instead, where the scan costs fewer requests than looking each SKU up:

* the scan is made when its cost (the connector's estimate, from the first page)
  is no more than the one-SKU look-ups it replaces — those of this call plus those
  already made one by one since the last scan, so that a long publish to a large shop
  scans once it has paid a scan's worth of single look-ups; a scan refused as too
  costly is not tried again until that much was paid;
* the index is kept current by the connector's own creates (:meth:`ShopIndex.record`);
  a SKU whose create failed in any way but a refusal (its outcome may be unknown) is
  looked up on the marketplace, one by one, before it is created again (for as long
  as the connector lives, whatever a later scan shows);
* the index is scanned again once it is older than ``max_age`` (by the connector's
  clock), so that a listing made elsewhere (by the seller, in the marketplace's own
  pages) is seen within that time; a scan that fails falls back to one look-up per
  SKU, each failing alone.

A connector lives for one run of one account, under the account's lease (one writer
per account), so the index never outlives the run that built it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from core.domain.ids import sku_key
from core.domain.remote import ChangeResult, ListingDraft, RemoteListing
from core.errors import AuthError, ConnectorError, RejectedError
from core.ports import Clock

log = structlog.get_logger(__name__)

#: Finds one SKU (its key and the spelling given) on the marketplace.
FindKey = Callable[[str, str], RemoteListing | None]
#: Scans the shop if that costs at most ``budget`` requests: every listing, or,
#: when it would cost more, how many requests it would cost at least.
Scan = Callable[[int], "list[RemoteListing] | int"]

#: How long a scan of the shop answers look-ups before the shop is scanned again.
INDEX_MAX_AGE = timedelta(minutes=5)


def look_up_each(
    wanted: Mapping[str, str], find_key: FindKey, where: Mapping[str, Any]
) -> tuple[dict[str, RemoteListing], dict[str, ConnectorError]]:
    """The listings found for ``wanted`` (SKU key → SKU as given), and the error of
    each SKU whose look-up failed; ``AuthError`` is raised, as it concerns them all.
    ``where`` names the marketplace and account in the log line of a failure."""
    found: dict[str, RemoteListing] = {}
    failed: dict[str, ConnectorError] = {}
    with bound_contextvars(operation="find_listings"):
        for key, sku in wanted.items():
            try:
                hit = find_key(key, sku)
            except AuthError:
                raise
            except ConnectorError as exc:
                failed[key] = exc
                log.warning(
                    "listing.lookup_failed",
                    sku=sku,
                    error=type(exc).__name__,
                    reason=exc.reason,
                    **where,
                )
                continue
            if hit is not None:
                found[key] = hit
    return found, failed


def _indexed(listings: Sequence[RemoteListing]) -> dict[str, RemoteListing]:
    """Listings by SKU key; of several with one key, the first active one."""
    index: dict[str, RemoteListing] = {}
    for listing in listings:
        key = sku_key(listing.sku)
        kept = index.get(key)
        if kept is None or (listing.active and not kept.active):
            index[key] = listing
    return index


class ShopIndex:
    """One connector's look-ups before its creates (see the module docstring)."""

    def __init__(
        self,
        scan: Scan,
        find_key: FindKey,
        clock: Clock,
        where: Mapping[str, Any],
        max_age: timedelta = INDEX_MAX_AGE,
    ) -> None:
        self._scan, self._find_key = scan, find_key
        self._clock, self._where, self._max_age = clock, where, max_age
        self._listings: dict[str, RemoteListing] | None = None
        self._scanned_at: datetime | None = None
        #: SKU keys to look up on the marketplace before trusting the index.
        self._doubtful: set[str] = set()
        #: Single look-ups made since the last scan; the cost a scan was found to have.
        self._single = 0
        self._scan_cost = 0

    def look_up(
        self, wanted: Mapping[str, str]
    ) -> tuple[dict[str, RemoteListing], dict[str, ConnectorError]]:
        """The listings found for ``wanted`` (SKU key → SKU as given) and the error
        of each SKU whose look-up failed, as :func:`look_up_each` answers them.

        Raises:
            AuthError: the marketplace refused the account's authorisation.
        """
        if not wanted:
            return {}, {}
        listings = self._current(len(wanted))
        if listings is None:
            self._single += len(wanted)
            return look_up_each(wanted, self._find_key, self._where)
        doubtful = {k: sku for k, sku in wanted.items() if k in self._doubtful}
        found, failed = look_up_each(doubtful, self._find_key, self._where)
        for key in doubtful:
            if key in failed:
                continue
            self._doubtful.discard(key)
            if key in found:
                listings[key] = found[key]
            else:
                listings.pop(key, None)
        for key in wanted:
            if key not in failed and key in listings:
                found[key] = listings[key]
        return found, failed

    def record(
        self, created: Sequence[tuple[ListingDraft, ChangeResult]], raw_status: str
    ) -> None:
        """Note the outcome of creates: a listing made (its status ``raw_status``)
        answers later look-ups; a create that failed otherwise than refused is
        looked up on the marketplace before its SKU is created again."""
        for draft, result in created:
            key = sku_key(draft.sku)
            if result.ok and result.external_id and not result.bound:
                if self._listings is not None:
                    self._listings[key] = RemoteListing(
                        sku=draft.sku,
                        external_id=result.external_id,
                        name=draft.name,
                        price=draft.price,
                        stock=draft.stock,
                        active=True,
                        raw_status=raw_status,
                        external_variant_id=result.external_variant_id,
                    )
                self._doubtful.discard(key)
            elif not result.ok and not isinstance(result.error, RejectedError):
                self._doubtful.add(key)

    def _current(self, asked: int) -> dict[str, RemoteListing] | None:
        """The index, scanned first when it is missing or too old and a scan is
        worth its cost; None: look each SKU up."""
        now = self._clock.now()
        if (
            self._listings is not None
            and self._scanned_at is not None
            and now - self._scanned_at <= self._max_age
        ):
            return self._listings
        self._listings = None
        budget = self._single + asked
        if budget < self._scan_cost:
            return None
        try:
            with bound_contextvars(operation="find_listings"):
                scanned = self._scan(budget)
        except AuthError:
            raise
        except ConnectorError as exc:
            log.warning(
                "listings.scan_failed",
                error=type(exc).__name__,
                reason=exc.reason,
                **self._where,
            )
            return None
        if isinstance(scanned, int):
            self._scan_cost = max(scanned, budget + 1)
            log.info(
                "listings.scan_skipped",
                cost=self._scan_cost,
                single_lookups=budget,
                **self._where,
            )
            return None
        self._listings = _indexed(scanned)
        self._scanned_at, self._single, self._scan_cost = now, 0, 0
        log.info("listings.scanned", listings=len(scanned), **self._where)
        return self._listings
