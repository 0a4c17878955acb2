"""``ikm-sync run``: the scheduler daemon (or, with ``--once``, one pass for cron)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import structlog
import typer

from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from ikm_sync._context import AppState, state
from ikm_sync._output import console, emit_json, table
from ikm_sync._signals import exit_if_stopped, exit_now, stopping_on_signals
from ikm_sync.bootstrap import Connections
from ikm_sync.commands.audit_chain import ChainKeeper
from ikm_sync.commands.sync import job_runner, pull_options
from scheduler.daemon import AccountResult, Daemon, DaemonOptions
from scheduler.timing import Backoff, Intervals

if TYPE_CHECKING:
    from config.settings import Settings

log = structlog.get_logger(__name__)


def cycle_intervals(settings: Settings) -> Intervals:
    """Each account's cycle interval: its own ``cycle_seconds``, else its
    marketplace's, else ``[scheduler] cycle_seconds``; jittered by
    ``[scheduler] jitter``."""
    sched = settings.scheduler
    per_account: dict[AccountId, timedelta] = {}
    for account in settings.accounts:
        market = settings.marketplaces.get(account.marketplace)
        seconds = account.cycle_seconds or (market and market.cycle_seconds)
        if seconds:
            per_account[AccountId(account.id)] = timedelta(seconds=seconds)
    return Intervals(timedelta(seconds=sched.cycle_seconds), per_account, sched.jitter)


def daemon_options(app_state: AppState) -> DaemonOptions:
    """The daemon's schedule from the ``[scheduler]``, ``[marketplaces.X]`` and
    ``[[accounts]]`` settings."""
    settings = app_state.settings().settings
    sched = settings.scheduler
    reconcile = None
    if sched.reconcile_hours > 0:
        reconcile = Intervals(timedelta(hours=sched.reconcile_hours), jitter=0.5)
    return DaemonOptions(
        cycles=cycle_intervals(settings),
        reconcile=reconcile,
        repair=sched.reconcile_repair,
        backoff=Backoff(
            timedelta(seconds=sched.backoff_base_seconds),
            timedelta(seconds=sched.backoff_max_seconds),
        ),
        tick=timedelta(seconds=sched.tick_seconds),
        sweep_every=timedelta(seconds=sched.sweep_seconds),
        token_every=timedelta(seconds=sched.token_check_seconds),
        token_margin=timedelta(seconds=sched.token_margin_seconds),
        authorisation_warning=timedelta(days=sched.authorisation_warning_days),
        stop_deadline=timedelta(seconds=sched.stop_deadline_seconds),
        pull=pull_options(app_state),
        seal_every=timedelta(seconds=settings.audit.seal_seconds),
        checkpoint_every=timedelta(hours=settings.audit.checkpoint_hours),
    )


def results_payload(results: list[AccountResult]) -> list[dict[str, Any]]:
    """``--once`` results as plain data."""
    return [
        {
            "account": r.account,
            "job": r.job,
            "outcome": r.outcome,
            "error": r.error or None,
            "runs": [
                {"kind": x.kind.value, "run_id": x.run_id or None, "outcome": x.outcome}
                for x in r.reports
            ],
        }
        for r in results
    ]


@contextmanager
def operations_port(
    app_state: AppState, daemon: Daemon, port: int | None
) -> Iterator[None]:
    """The daemon's /healthz, /readyz (database migrated, scheduler claiming) and
    /metrics while it runs, when a port is set."""
    sched = app_state.settings().settings.scheduler
    port = sched.ops_port if port is None else port
    if not port:
        yield
        return
    from scheduler.ops.server import serve_ops

    server = serve_ops(
        sched.ops_host,
        port,
        {
            "database": app_state.runtime().schema_problem,
            "scheduler": daemon.alive_problem,
        },
    )
    log.info("ops.serving", url=server.url)
    try:
        yield
    finally:
        server.stop()


def run(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run everything due now, then exit (for cron)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ops_port: Annotated[
        int | None,
        typer.Option(
            "--ops-port",
            help="Serve /healthz, /readyz and /metrics on this port (0: none; "
            "default [scheduler] ops_port).",
            min=0,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run every enabled account's cycle at its interval, a daily reconcile
    report, token refresh and the sweep of abandoned runs, sharing the accounts
    with every other `ikm-sync run` on the same database.

    SIGTERM or SIGINT: no more accounts are claimed, the cycles in hand get
    `[scheduler] stop_deadline_seconds` to finish (asked to stop at their next
    safe point for its last quarter), exit 0 within that deadline. With `--once`: exit 1
    when any account failed."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    with stopping_on_signals() as stop:
        runtime = app_state.runtime()
        connections = Connections(app_state.settings(), runtime)

        def accounts() -> list[ChannelAccount]:
            with runtime.uow() as uow:
                return [a for a in uow.accounts.get_all() if a.enabled]

        daemon = Daemon(
            job_runner(app_state, connections),
            runtime.schedule_store(),
            runtime.token_store(),
            accounts,
            daemon_options(app_state),
            watch=runtime.account_watch(),
            audit=ChainKeeper(runtime, app_state.settings()),
        )
        unfinished = 0
        try:
            if not once:
                with operations_port(app_state, daemon, ops_port):
                    unfinished = daemon.serve(stop)
                return
            results = daemon.run_once(stop)
        finally:
            connections.close()
            if unfinished:  # jobs still running at the stop deadline
                exit_now(0)
    if as_json:
        emit_json({"accounts": results_payload(results)})
    else:
        console().print(
            table(
                "Due accounts",
                ("account", "job", "outcome", "error"),
                [(r.account, r.job, r.outcome, r.error) for r in results],
            )
        )
    exit_if_stopped(stop)
    if any(r.failed for r in results):
        raise typer.Exit(1)
