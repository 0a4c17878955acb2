"""Reconciling an account: read the marketplace's own view, report drift, repair.

:func:`reconcile_account` reads every listing of the shop, compares it with the store
(:func:`core.reconcile.find_drift`) and records a run with one item per finding. With
``repair``, duplicates of a listing of ours are deactivated first (one ``deactivate``
item each in the same run), then the store forgets the values the marketplace changed
(and binds SKUs to the listing kept) and a push sends the store's values back (missing
listings are created again). Orphans and listings without a SKU are only reported:
ikm-sync never removes a listing it does not own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from core.audit import actions
from core.audit.events import AuditEvent
from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId, sku_key
from core.domain.listings import Listing
from core.domain.remote import ChangeResult, ListingChange
from core.domain.runs import RunItem
from core.domain.sync import RunOutcome, SyncKind
from core.errors import ConnectorError, RunInterruptedError
from core.ports import Clock, MarketplaceConnector
from core.reconcile import (
    Finding,
    FindingKind,
    duplicate_deactivations,
    find_drift,
    repaired_listings,
)
from core.services.publish import load_plan, push_account
from core.services.runs import RunRecorder, RunReport, UnitOfWorkFactory, error_text
from core.services.stopping import StopRequest

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What reconciling found, and the push that repaired it (if asked)."""

    run: RunReport
    findings: list[Finding]
    repair: RunReport | None = None


#: Kinds whose repair goes through the store and a push.
_PUSHED = frozenset({FindingKind.DRIFT, FindingKind.MISSING})


def describe(finding: Finding) -> str:
    """What a finding means, in a line."""
    match finding.kind:
        case FindingKind.ORPHAN:
            owner = (
                "a catalogue SKU" if finding.known_sku else "a SKU not in the catalogue"
            )
            return f"listed only on the marketplace, with {owner}"
        case FindingKind.MISSING:
            return "wanted here, not on the marketplace"
        case FindingKind.NO_SKU:
            return (
                f"listing {finding.external_id} has no seller SKU: nothing can "
                "match it; give it one on the marketplace"
            )
        case FindingKind.DUPLICATE:
            if finding.repairable_duplicate:
                return (
                    f"another active listing {finding.external_id} of the SKU "
                    f"besides {finding.kept}, the one kept; repair deactivates it"
                )
            if finding.shared:
                return (
                    f"another active listing {finding.external_id} of the SKU "
                    f"besides {finding.kept}, the one kept, in a listing that also "
                    "sells other variants; repair leaves it (deactivating it could "
                    "take them off sale): fix it on the marketplace"
                )
            return (
                f"another active variant of listing {finding.kept} with the same "
                "SKU; repair leaves it (deactivating it could take the kept one "
                "off sale): fix it on the marketplace"
            )
        case _:
            return "; ".join(
                f"{name}: ours {ours}, theirs {theirs}"
                for name, (ours, theirs) in sorted(finding.fields.items())
            )


def _deactivate_duplicates(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    recorder: RunRecorder,
    changes: Sequence[ListingChange],
) -> None:
    """Send the deactivations; one ``deactivate`` item each in the run."""
    if not changes:
        return
    try:
        results = connector.apply_listing_changes(changes)
    except ConnectorError as exc:  # outside the contract (or auth): each one failed
        results = [ChangeResult(c.draft.sku, False, error=exc) for c in changes]
    if len(results) != len(changes):
        wrong = ConnectorError(
            f"the connector returned {len(results)} results for {len(changes)} items"
        )
        results = [ChangeResult(c.draft.sku, False, error=wrong) for c in changes]
    items = []
    for change, result in zip(changes, results, strict=True):
        error: Exception | None = None
        if not result.ok:
            error = result.error or ConnectorError("no outcome reported")
        items.append(recorder.item(change.draft.sku, "deactivate", error))
        log.info(
            "reconcile.duplicate_deactivated"
            if error is None
            else "reconcile.duplicate_not_deactivated",
            sku=change.draft.sku,
            external_id=change.external_id,
            reason=None if error is None else error_text(error),
        )
    account = recorder.account
    assert account is not None  # noqa: S101  (account runs only)
    with uow_factory() as uow:
        recorder.add(uow, items)
        uow.audit.record(
            *(
                AuditEvent(
                    actions.LISTING_REPAIRED,
                    actions.listing(account, change.draft.sku),
                    after={
                        "repair": "deactivate_duplicate",
                        "external_id": change.external_id,
                        "ok": item.ok,
                    },
                    account=account,
                )
                for change, item in zip(changes, items, strict=True)
            )
        )
        uow.commit()


def _repaired_events(
    account: AccountId, findings: Sequence[Finding], repaired: Sequence[Listing]
) -> list[AuditEvent]:
    """One ``listing.repaired`` per listing the repair stored (the new values are
    in its ``listing.changed``): which findings it answers."""
    fixed = {sku_key(listing.sku) for listing in repaired}
    found: dict[str, list[str]] = {}
    for finding in findings:
        if sku_key(finding.sku) in fixed:
            found.setdefault(sku_key(finding.sku), []).append(finding.kind.value)
    return [
        AuditEvent(
            actions.LISTING_REPAIRED,
            actions.listing(account, key),
            after={"repair": "store_values", "findings": kinds},
            account=account,
        )
        for key, kinds in sorted(found.items())
    ]


def reconcile_account(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    clock: Clock,
    *,
    trigger: str,
    repair: bool = False,
    stop: StopRequest | None = None,
) -> ReconcileReport:
    """Report ``account``'s drift, orphans, missing listings, duplicates and listings
    without a SKU; with ``repair``, deactivate the duplicates and push the store's
    values back. The marketplace's failures end the run ``failed`` (``partial`` when
    only deactivations failed); nothing is raised for them. When ``stop`` is requested
    while the shop is read, the run ends ``interrupted`` and nothing is compared."""
    stop = stop or StopRequest()
    recorder = RunRecorder(uow_factory, clock, SyncKind.RECONCILE, account.id, trigger)
    recorder.start()
    with structlog.contextvars.bound_contextvars(
        run_id=recorder.run_id, account=account.id
    ):
        handover = account.handover
        if handover is not None and not handover.publishes(account.id):
            # the shop is the successor's now: comparing (or repairing) it from
            # here would undo what the successor publishes
            log.info(
                "reconcile.handed_over",
                successor=handover.successor,
                since=handover.at.isoformat(),
            )
            recorder.counts["handed_over"] = 1
            outcome = recorder.finish(RunOutcome.SUCCEEDED)
            return ReconcileReport(recorder.report(outcome), [])
        try:
            remote = []
            for listing in connector.fetch_listings():
                stop.check()
                remote.append(listing)
        except RunInterruptedError as exc:
            outcome = recorder.interrupted(exc)
            return ReconcileReport(recorder.report(outcome, str(exc)), [])
        except ConnectorError as exc:
            reason = error_text(exc)
            log.error("sync_run.account_failed", reason=reason)  # noqa: TRY400
            outcome = recorder.finish(RunOutcome.FAILED, reason)
            return ReconcileReport(recorder.report(outcome, reason), [])
        with uow_factory() as uow:
            plan = load_plan(uow, account, capabilities=connector.capabilities)
            listings = uow.listings.for_account(account.id)
            catalogue = uow.products.get_many(
                key for key in {sku_key(r.sku) for r in remote} if key
            )
            findings = find_drift(plan, listings, remote, catalogue)
            now = clock.now()
            items = []
            for finding in findings:
                recorder.counts[finding.kind.value] += 1
                items.append(
                    RunItem(
                        subject=finding.sku,
                        operation=finding.kind.value,
                        ok=False,
                        at=now,
                        error_code=finding.kind.value,
                        error_message=describe(finding),
                    )
                )
            recorder.add(uow, items)
            if repair:
                fixed = repaired_listings(findings, listings, account.id)
                uow.listings.save_many(account.id, fixed, clock.now())
                uow.audit.record(*_repaired_events(account.id, findings, fixed))
            uow.commit()
        recorder.counts["listings_seen"] = len(remote)
        log.info("reconcile.compared", **recorder.counts)
        if repair:
            _deactivate_duplicates(
                uow_factory,
                connector,
                recorder,
                duplicate_deactivations(findings, catalogue),
            )
        outcome = RunOutcome.PARTIAL if recorder.failed else RunOutcome.SUCCEEDED
        run = recorder.report(recorder.finish(outcome))
    repaired = None
    if repair and any(f.kind in _PUSHED for f in findings):
        repaired = push_account(
            uow_factory,
            connector,
            account,
            clock,
            trigger=f"{trigger} (repair)",
            stop=stop,
        )
    return ReconcileReport(run, findings, repaired)
