"""Reconciling an account: read the marketplace's own view, report drift, repair.

:func:`reconcile_account` reads every listing of the shop, compares it with the store
(:func:`core.reconcile.find_drift`) and records a run with one item per finding. With
``repair``, the store forgets the values the marketplace changed and a push sends the
store's values back (missing listings are created again; orphans are only reported:
ikm-sync never removes a listing it does not own).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from core.domain.accounts import ChannelAccount
from core.domain.ids import sku_key
from core.domain.runs import RunItem
from core.domain.sync import RunOutcome, SyncKind
from core.errors import ConnectorError
from core.ports import Clock, MarketplaceConnector
from core.reconcile import Finding, FindingKind, find_drift, repaired_listings
from core.services.publish import load_plan, push_account
from core.services.runs import RunRecorder, RunReport, UnitOfWorkFactory, error_text

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What reconciling found, and the push that repaired it (if asked)."""

    run: RunReport
    findings: list[Finding]
    repair: RunReport | None = None


def _describe(finding: Finding) -> str:
    if finding.kind is FindingKind.ORPHAN:
        owner = "a catalogue SKU" if finding.known_sku else "a SKU not in the catalogue"
        return f"listed only on the marketplace, with {owner}"
    if finding.kind is FindingKind.MISSING:
        return "wanted here, not on the marketplace"
    return "; ".join(
        f"{name}: ours {ours}, theirs {theirs}"
        for name, (ours, theirs) in sorted(finding.fields.items())
    )


def reconcile_account(
    uow_factory: UnitOfWorkFactory,
    connector: MarketplaceConnector,
    account: ChannelAccount,
    clock: Clock,
    *,
    trigger: str,
    repair: bool = False,
) -> ReconcileReport:
    """Report ``account``'s drift, orphans and missing listings; with ``repair``,
    push the store's values back. The marketplace's failures end the run
    ``failed``; nothing is raised for them."""
    recorder = RunRecorder(uow_factory, clock, SyncKind.RECONCILE, account.id, trigger)
    recorder.start()
    with structlog.contextvars.bound_contextvars(
        run_id=recorder.run_id, account=account.id
    ):
        try:
            remote = list(connector.fetch_listings())
        except ConnectorError as exc:
            reason = error_text(exc)
            log.error("sync_run.account_failed", reason=reason)  # noqa: TRY400
            outcome = recorder.finish(RunOutcome.FAILED, reason)
            return ReconcileReport(recorder.report(outcome, reason), [])
        with uow_factory() as uow:
            plan = load_plan(uow, account)
            listings = uow.listings.for_account(account.id)
            catalogue = uow.products.get_many(sku_key(r.sku) for r in remote)
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
                        error_message=_describe(finding),
                    )
                )
            recorder.add(uow, items)
            if repair:
                uow.listings.save_many(
                    account.id, repaired_listings(findings, listings), clock.now()
                )
            uow.commit()
        recorder.counts["listings_seen"] = len(remote)
        log.info("reconcile.compared", **recorder.counts)
        run = recorder.report(recorder.finish(RunOutcome.SUCCEEDED))
    repaired = None
    if repair and any(f.kind is not FindingKind.ORPHAN for f in findings):
        repaired = push_account(
            uow_factory, connector, account, clock, trigger=f"{trigger} (repair)"
        )
    return ReconcileReport(run, findings, repaired)
