"""``ikm-sync sync``: plan, push, pull orders, or run a whole cycle."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from core.domain.accounts import ChannelAccount
from core.domain.runs import SyncRun
from core.domain.sync import RunOutcome, SyncKind
from core.errors import ConfigError
from core.services.orders import PullOptions
from core.services.publish import Progress as ProgressCallback
from core.services.report import account_reports
from core.services.runs import RunReport
from core.services.stopping import StopRequest
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import AppState, state
from ikm_sync._output import console, emit_json, table
from ikm_sync._signals import exit_if_stopped, stopping_on_signals
from ikm_sync.bootstrap import Connections
from scheduler.jobs import pull_job, push_job, run_cycle
from scheduler.plans import account_plan, plan_payload
from scheduler.runner import AccountJobRunner

app = typer.Typer(
    help="Publish listings, push price and stock, pull orders.", no_args_is_help=True
)

AccountOption = Annotated[
    str | None, typer.Option("--account", help="Only this account.")
]
AllOption = Annotated[
    bool, typer.Option("--all", help="Every enabled account (the default).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def chosen_accounts(
    app_state: AppState, account: str | None, every: bool, named: str = "--account"
) -> list[ChannelAccount]:
    """The accounts a command works on: one by id, or every enabled one; ``named``
    is how the command line gave the id, for the error when there is none."""
    if account is not None and every:
        raise typer.BadParameter("give --account or --all, not both")
    with app_state.runtime().uow() as uow:
        stored = uow.accounts.get_all()
    if account is None:
        return [a for a in stored if a.enabled]
    chosen = [a for a in stored if a.id == account]
    if not chosen:
        known = ", ".join(a.id for a in stored) or "none"
        raise ConfigError(
            f"{named} {account!r}: no such account in the store; known: {known} "
            "(run `ikm-sync accounts apply` after changing [[accounts]])"
        )
    return chosen


def pull_options(app_state: AppState) -> PullOptions:
    """How far order pulls reach, from the ``[sync]`` settings."""
    from ikm_sync.bootstrap import pull_options as from_settings

    return from_settings(app_state.settings())


def job_runner(
    app_state: AppState, connections: Connections, stop: StopRequest | None = None
) -> AccountJobRunner:
    """The account-job runner of this command (see
    :func:`ikm_sync.bootstrap.account_runner`); ``stop`` stops its jobs (see
    :mod:`ikm_sync._signals`)."""
    from ikm_sync.bootstrap import account_runner

    return account_runner(app_state.settings(), app_state.runtime(), connections, stop)


# ---------------------------------------------------------------- plan


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    account: AccountOption = None,
    every: AllOption = False,
    details: Annotated[
        bool, typer.Option("--details", help="List every change, not only counts.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show what a push would send to each account; changes nothing."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    accounts = chosen_accounts(app_state, account, every)
    factory = app_state.runtime().uow_factory()
    plans = [account_plan(factory, a) for a in accounts]
    if as_json:
        emit_json({"accounts": [plan_payload(p) for p in plans]})
        return
    columns = ("resolve", "create", "update", "deactivate", "price", "stock")
    console().print(
        table(
            "Plan (nothing is sent)",
            ("account", "marketplace", *columns),
            [
                (
                    p.account.id,
                    p.account.marketplace.value,
                    *map(p.counts().get, columns),
                )
                for p in plans
            ],
        )
    )
    for p in plans:
        if p.unsupported:
            kinds = sorted({kind.value for _, kind in p.unsupported})
            console().print(
                f"{p.account.id}: {len(p.unsupported)} change(s) kept back that "
                f"{p.account.marketplace.value} cannot make ({', '.join(kinds)}); "
                "the marketplace shows them as they are"
            )
    if details:
        rows: list[tuple[str, str, str, str]] = []
        for p in plans:
            payload = plan_payload(p)
            rows += [(p.account.id, "resolve", sku, "") for sku in payload["resolve"]]
            rows += [
                (p.account.id, kind, item["sku"], _detail(item))
                for kind in ("create", "update", "deactivate", "price", "stock")
                for item in payload[kind]
            ]
            rows += [
                (p.account.id, f"kept back: {item['change']}", item["sku"], "")
                for item in payload["unsupported"]
            ]
        console().print(table("Changes", ("account", "change", "sku", "value"), rows))


def _detail(item: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v}" for k, v in item.items() if k != "sku" and v is not None
    )


# ---------------------------------------------------------------- runs


def reports_payload(reports: Sequence[RunReport]) -> list[dict[str, Any]]:
    """Run reports as plain data."""
    return [
        {
            "account": r.account,
            "kind": r.kind.value,
            "run_id": r.run_id or None,
            "outcome": r.outcome.value,
            "counts": r.counts,
            "error": r.error or None,
            "window": None
            if r.window is None
            else {
                "since": r.window.since.isoformat(),
                "until": r.window.until.isoformat(),
            },
        }
        for r in reports
    ]


def print_reports(title: str, reports: Sequence[RunReport]) -> None:
    """A table of run reports."""
    console().print(
        table(
            title,
            ("account", "run", "outcome", "counts", "error"),
            [
                (
                    r.account,
                    r.run_id or "",
                    r.outcome.value,
                    ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())),
                    r.error,
                )
                for r in reports
            ],
        )
    )
    itemised = [
        str(r.run_id)
        for r in reports
        if r.run_id and r.outcome in (RunOutcome.FAILED, RunOutcome.PARTIAL)
    ]
    if itemised:
        console().print(
            f"not every item went through: `ikm-sync runs show RUN` lists each "
            f"item's error (run {', '.join(itemised)})",
            markup=False,
        )


def exit_for(reports: Sequence[RunReport]) -> None:
    """Exit 1 when any account failed or had failed items."""
    if any(r.outcome in (RunOutcome.FAILED, RunOutcome.PARTIAL) for r in reports):
        raise typer.Exit(1)


@contextmanager
def push_progress(total: int) -> Iterator[ProgressCallback | None]:
    """A progress bar on standard error (on a terminal) fed by push callbacks."""
    err = console(stderr=True)
    if not err.is_terminal or total == 0:
        yield None
        return
    bar = Progress(
        TextColumn("pushing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]}"),
        console=err,
        transient=True,
    )
    task = bar.add_task("push", total=total, phase="")
    lock = threading.Lock()

    def advance(phase: str, done: int) -> None:
        if phase == "intent":
            return
        with lock:
            bar.update(task, advance=done, phase=phase)

    with bar:
        yield advance


@app.command("push")
def push_command(
    ctx: typer.Context,
    account: AccountOption = None,
    every: AllOption = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish listings and push content, price and stock to each account.

    SIGTERM or SIGINT stops it between chunks: runs end ``interrupted``, exit code
    143 or 130."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    trigger = who_acts(app_state, actor).trigger
    with stopping_on_signals() as stop:  # from the start: the plans can take a while
        accounts = chosen_accounts(app_state, account, every)
        runtime = app_state.runtime()
        factory = runtime.uow_factory()
        total = sum(sum(account_plan(factory, a).counts().values()) for a in accounts)
        connections = Connections(app_state.settings(), runtime)
        try:
            with push_progress(total) as progress:
                reports = job_runner(app_state, connections, stop).run(
                    SyncKind.PUBLISH, accounts, push_job(trigger, progress)
                )
        finally:
            connections.close()
    if as_json:
        emit_json({"runs": reports_payload(reports)})
    else:
        print_reports("Push", reports)
    exit_if_stopped(stop)
    exit_for(reports)


@app.command("orders")
def orders_command(
    ctx: typer.Context,
    account: AccountOption = None,
    every: AllOption = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull each account's orders since its bookmark and move their stock.

    SIGTERM or SIGINT stops it between orders: runs end ``interrupted``, exit code
    143 or 130."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    trigger = who_acts(app_state, actor).trigger
    with stopping_on_signals() as stop:
        accounts = chosen_accounts(app_state, account, every)
        runtime = app_state.runtime()
        connections = Connections(app_state.settings(), runtime)
        try:
            reports = job_runner(app_state, connections, stop).run(
                SyncKind.ORDERS, accounts, pull_job(trigger, pull_options(app_state))
            )
        finally:
            connections.close()
    if as_json:
        emit_json({"runs": reports_payload(reports)})
    else:
        print_reports("Orders", reports)
    exit_if_stopped(stop)
    exit_for(reports)


@app.command("cycle")
def cycle_command(
    ctx: typer.Context,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Orders, then push, for every enabled account: the unit a schedule runs.

    SIGTERM or SIGINT stops it at the next safe point: runs end ``interrupted``,
    accounts not started are skipped, exit code 143 or 130."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    trigger = who_acts(app_state, actor).trigger
    with stopping_on_signals() as stop:
        accounts = chosen_accounts(app_state, None, True)
        runtime = app_state.runtime()
        connections = Connections(app_state.settings(), runtime)
        try:
            report = run_cycle(
                job_runner(app_state, connections, stop),
                accounts,
                trigger=trigger,
                pull=pull_options(app_state),
            )
        finally:
            connections.close()
    if as_json:
        emit_json(
            {
                "orders": reports_payload(report.pulls),
                "push": reports_payload(report.pushes),
            }
        )
    else:
        print_reports("Orders", report.pulls)
        print_reports("Push", report.pushes)
    exit_if_stopped(stop)
    exit_for([*report.pulls, *report.pushes])


def _run_source(run: SyncRun | None, what: str) -> str:
    if run is None:
        return f"no {what} run yet"
    at = run.finished_at or run.started_at
    return f"run #{run.id} ({run.outcome.value}, {at.isoformat(timespec='seconds')})"


@app.command("report")
def report_command(
    ctx: typer.Context,
    account: AccountOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per account: what is listed and what was sold, and the runs each figure
    comes from."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    accounts = chosen_accounts(app_state, account, False)
    with app_state.runtime().uow() as uow:
        reports = account_reports(uow, accounts)
    if as_json:
        emit_json(
            {
                "accounts": [
                    {
                        "account": r.account.id,
                        "marketplace": r.account.marketplace.value,
                        "listed": r.listed,
                        "units_shown": r.units_shown,
                        "not_listed": r.not_listed,
                        "orders": r.orders,
                        "cancelled": r.cancelled,
                        "units_sold": r.units_sold,
                        "listings_from_run": None
                        if r.last_push is None
                        else r.last_push.id,
                        "orders_from_run": None
                        if r.last_pull is None
                        else r.last_pull.id,
                    }
                    for r in reports
                ]
            }
        )
        return
    console().print(
        table(
            "Accounts",
            (
                "account",
                "listed",
                "units shown",
                "orders",
                "units sold",
                "listings as pushed by",
                "orders as pulled by",
            ),
            [
                (
                    f"{r.account.id} ({r.account.marketplace.value})",
                    f"{r.listed}" + (f" (+{r.not_listed} not)" if r.not_listed else ""),
                    r.units_shown,
                    f"{r.orders}"
                    + (f" ({r.cancelled} cancelled)" if r.cancelled else ""),
                    r.units_sold,
                    _run_source(r.last_push, "publish"),
                    _run_source(r.last_pull, "orders"),
                )
                for r in reports
            ],
        )
    )
    console().print(
        "listed / units shown: live listings and the stock last sent to them; "
        "units sold: units of paid orders not cancelled or returned, as the stock "
        "ledger holds them (`ikm-sync runs show RUN` for the details of a run)",
        markup=False,
    )
