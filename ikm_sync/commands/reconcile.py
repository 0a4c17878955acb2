"""``ikm-sync reconcile``: compare each shop with the store; repair on request."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.domain.accounts import ChannelAccount
from core.domain.sync import RunOutcome, SyncKind
from core.reconcile import Finding, FindingKind
from core.services.cycle import for_each_account, leased
from core.services.reconcile import ReconcileReport, describe, reconcile_account
from core.services.runs import RunReport
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table
from ikm_sync._signals import exit_if_stopped, stopping_on_signals
from ikm_sync.bootstrap import Connections
from ikm_sync.commands.sync import (
    chosen_accounts,
    cycle_options,
    exit_for,
    print_reports,
    reports_payload,
    trigger,
)


def finding_payload(finding: Finding) -> dict[str, Any]:
    """A finding as plain data (``kept_external_id``: for a duplicate, the listing
    the SKU keeps)."""
    return {
        "kind": finding.kind.value,
        "sku": finding.sku,
        "external_id": finding.external_id,
        "external_variant_id": None
        if finding.remote is None
        else finding.remote.external_variant_id,
        "kept_external_id": finding.kept,
        "fields": {
            name: {"ours": ours, "theirs": theirs}
            for name, (ours, theirs) in sorted(finding.fields.items())
        },
        "known_sku": finding.known_sku,
    }


def difference(finding: Finding) -> str:
    """The table's "difference" cell of a finding."""
    if finding.fields:
        return "; ".join(
            f"{name}: ours {ours}, theirs {theirs}"
            for name, (ours, theirs) in sorted(finding.fields.items())
        )
    if finding.kind in (FindingKind.DUPLICATE, FindingKind.NO_SKU):
        return describe(finding)
    return "" if finding.known_sku else "SKU not in the catalogue"


def reconcile(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every enabled account (the default).")
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Push the store's values back where the shop differs and "
            "deactivate duplicate listings.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Report drift (changed on the marketplace), orphans (only there), missing
    listings (only here), duplicates (a second active listing of a SKU of ours) and
    listings without a SKU; exit code 1 when anything differs. SIGTERM or SIGINT
    stops it at the next safe point (exit code 143 or 130)."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    with stopping_on_signals() as stop:
        accounts = chosen_accounts(app_state, account, every)
        runtime = app_state.runtime()
        connections = Connections(app_state.settings(), runtime)
        options = cycle_options(app_state, stop)
        found: dict[str, ReconcileReport] = {}

        def skipped(chosen: ChannelAccount, why: str) -> RunReport:
            run = RunReport(
                chosen.id, SyncKind.RECONCILE, 0, RunOutcome.SKIPPED, {}, why
            )
            found[chosen.id] = ReconcileReport(run, [])
            return run

        def compared(chosen: ChannelAccount) -> RunReport:
            connector = connections.connector(chosen)
            try:
                report = reconcile_account(
                    runtime.uow_factory(),
                    connector,
                    chosen,
                    runtime.clock,
                    trigger=trigger(),
                    repair=repair,
                    stop=stop,
                )
            finally:
                connector.close()
            found[chosen.id] = report
            return report.run

        def one(chosen: ChannelAccount) -> RunReport:
            if stop.requested:
                return skipped(chosen, f"not started: stopping on {stop.reason}")
            if not repair:  # only reads the shop: no lease needed
                return compared(chosen)
            # A repair writes to the shop and the store: one writer per account.
            factory = runtime.uow_factory()
            with leased(factory, chosen, runtime.clock, options.holder) as held:
                if not held:
                    return skipped(chosen, "the account is held by another process")
                return compared(chosen)

        try:
            runs = for_each_account(accounts, one, options.workers)
        finally:
            connections.close()
    reports = [found[a.id] for a in accounts if a.id in found]
    repairs = [r.repair for r in reports if r.repair is not None]
    if as_json:
        emit_json(
            {
                "accounts": [
                    {
                        "account": r.run.account,
                        "run": reports_payload([r.run])[0],
                        "findings": [finding_payload(f) for f in r.findings],
                        "repair": None
                        if r.repair is None
                        else reports_payload([r.repair])[0],
                    }
                    for r in reports
                ]
            }
        )
    else:
        console().print(
            table(
                "Reconcile",
                ("account", "kind", "sku", "external id", "difference"),
                [
                    (
                        r.run.account,
                        f.kind.value,
                        f.sku,
                        f.external_id or "",
                        difference(f),
                    )
                    for r in reports
                    for f in r.findings
                ],
            )
        )
        if repairs:
            print_reports("Repair", repairs)
        not_run = [r for r in runs if r.outcome is RunOutcome.SKIPPED]
        if not_run:
            print_reports("Not reconciled", not_run)
    exit_if_stopped(stop)
    exit_for([*runs, *repairs])
    if any(r.findings for r in reports) and not repair:
        raise typer.Exit(1)
