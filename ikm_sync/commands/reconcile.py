"""``ikm-sync reconcile``: compare each shop with the store; repair on request."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core.domain.sync import SyncKind
from core.reconcile import Finding, FindingKind
from core.services.reconcile import ReconcileReport, describe
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table
from ikm_sync._signals import exit_if_stopped, stopping_on_signals
from ikm_sync.bootstrap import Connections
from ikm_sync.commands.sync import (
    chosen_accounts,
    exit_for,
    job_runner,
    print_reports,
    reports_payload,
)
from scheduler.jobs import reconcile_job


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
    actor: ActorOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Report drift (changed on the marketplace), orphans (only there), missing
    listings (only here), duplicates (a second active listing of a SKU of ours) and
    listings without a SKU; exit code 1 when anything differs. Each account is
    reconciled (and repaired) under its lease: one another process holds is skipped
    and reported. SIGTERM or SIGINT stops it at the next safe point (exit code 143
    or 130)."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    trigger = who_acts(app_state, actor).trigger
    with stopping_on_signals() as stop:  # from the start, as the sync commands
        accounts = chosen_accounts(app_state, account, every)
        runtime = app_state.runtime()
        connections = Connections(app_state.settings(), runtime)
        found: dict[str, ReconcileReport] = {}
        try:
            runs = job_runner(app_state, connections, stop).run(
                SyncKind.RECONCILE,
                accounts,
                reconcile_job(trigger, repair=repair, found=found),
            )
        finally:
            connections.close()
    # an account not reconciled (held by another process, stopped, failed) is
    # reported with its run and no findings
    reports = [found.get(run.account) or ReconcileReport(run, []) for run in runs]
    not_done = [run for run in runs if run.account not in found]
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
        if not_done:
            print_reports("Not reconciled", not_done)
        if repairs:
            print_reports("Repair", repairs)
    exit_if_stopped(stop)
    exit_for([*runs, *repairs])
    if any(r.findings for r in reports) and not repair:
        raise typer.Exit(1)
