"""The ``ikm-sync`` command line.

Exit codes: 0 success; 1 input rejected or a business rule refused the change (nothing
was written); 2 usage error; 3 configuration error; 4 database unreachable, locked,
read-only or not migrated; 130 / 143 a sync command stopped by SIGINT / SIGTERM
(:mod:`ikm_sync._signals`).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.text import Text
from typer.core import TyperGroup

from core.errors import (
    ConfigError,
    DomainError,
    IkmSyncError,
    InputRejectedError,
    StoreError,
)
from ikm_sync import __version__
from ikm_sync._context import AppState
from ikm_sync._output import (
    ISSUE_COLUMNS,
    console,
    emit_json,
    issue_json,
    issue_rows,
    table,
)
from ikm_sync.commands import (
    accounts,
    audit,
    audit_read,
    catalog,
    config_cmd,
    db,
    orders,
    reconcile,
    report,
    run,
    runs,
    serve,
    simulate,
    status,
    stock,
    sync,
    users,
)

EXIT_REJECTED = 1
EXIT_CONFIG = 3
EXIT_STORE = 4


class _ErrorReportingGroup(TyperGroup):
    """Turns ikm-sync's errors into clear messages and exit codes, in one place."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except Exception as exc:
            _report(ctx, exc)  # exits for the errors it knows
            raise
        finally:
            app_state = ctx.find_object(AppState)
            if app_state is not None:
                app_state.close()


def _report(ctx: Any, exc: Exception) -> None:
    """Exit with a message and code for ``exc`` if it is one of ikm-sync's errors.

    The settings and SQLAlchemy errors are looked at only when their modules are
    loaded: an exception of a module never imported cannot have been raised, and the
    command line starts without them.
    """
    if "config.settings" in sys.modules:
        from config.settings import ConfigurationError

        if isinstance(exc, ConfigurationError):
            _fail(ctx, EXIT_CONFIG, "configuration error", exc.problems)
    if isinstance(exc, ConfigError):
        _fail(ctx, EXIT_CONFIG, "configuration error", [str(exc)])
    if isinstance(exc, InputRejectedError):
        _reject(ctx, exc)
    if isinstance(exc, DomainError):
        _fail(ctx, EXIT_REJECTED, "refused", [str(exc)])
    if isinstance(exc, StoreError):
        _fail(ctx, EXIT_STORE, "database error", [str(exc)])
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import IntegrityError, SQLAlchemyError

        if isinstance(exc, IntegrityError):
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            _fail(
                ctx,
                EXIT_REJECTED,
                "refused: the change conflicts with stored data; nothing was written",
                [
                    *detail[:1],
                    "another change to the same records may have been committed "
                    "first: check `ikm-sync status` and run the command again",
                ],
            )
        if isinstance(exc, SQLAlchemyError):
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            _fail(ctx, EXIT_STORE, "database error", detail[:1] or [type(exc).__name__])
    if isinstance(exc, IkmSyncError):
        _fail(ctx, EXIT_REJECTED, "error", [str(exc)])


def _fail(ctx: Any, code: int, title: str, lines: list[str]) -> NoReturn:
    import structlog

    app_state = ctx.find_object(AppState) or AppState()
    masked = [app_state.redactor.redact_text(line) for line in lines]
    structlog.get_logger(__name__).error(
        "command.failed", error=title, detail=masked, exit_code=code
    )
    if app_state.json_errors:
        emit_json({"error": title, "detail": masked, "exit_code": code})
    else:
        err = console(stderr=True)
        err.print(Text(title, style="bold red"))
        for line in masked:
            err.print(f"  {line}", markup=False)
    raise typer.Exit(code)


def _reject(ctx: Any, exc: InputRejectedError) -> NoReturn:
    import structlog

    app_state = ctx.find_object(AppState) or AppState()
    structlog.get_logger(__name__).warning("input.rejected", issues=len(exc.issues))
    mask = app_state.redactor.redact_text
    exc = InputRejectedError(
        [
            replace(
                issue,
                value=None if issue.value is None else mask(issue.value),
                expected=mask(issue.expected),
            )
            for issue in exc.issues
        ]
    )
    if app_state.json_errors:
        emit_json(
            {
                "error": "input rejected",
                "issues": [issue_json(i) for i in exc.issues],
                "exit_code": EXIT_REJECTED,
            }
        )
    else:
        err = console(stderr=True)
        noun = "problem" if len(exc.issues) == 1 else "problems"
        err.print(
            f"[bold red]input rejected: {len(exc.issues)} {noun}; nothing was written"
            "[/bold red]"
        )
        err.print(table(None, ISSUE_COLUMNS, issue_rows(exc.issues)))
    raise typer.Exit(EXIT_REJECTED)


class LogLevel(StrEnum):
    """Log levels the command line accepts."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    """Log formats the command line accepts."""

    AUTO = "auto"
    CONSOLE = "console"
    JSON = "json"


app = typer.Typer(
    name="ikm-sync",
    cls=_ErrorReportingGroup,
    help="Keep marketplace shops in step with one IKM catalogue and stock ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ikm-sync {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Settings file (default: $IKMSYNC_CONFIG_FILE, else ./ikm-sync.toml).",
            dir_okay=False,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel | None,
        typer.Option(
            "--log-level",
            help="Log level (overrides the settings).",
            case_sensitive=False,
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option("--log-format", help="Log format (overrides the settings)."),
    ] = None,
    version: Annotated[  # noqa: ARG001  (handled by its eager callback)
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Keep marketplace shops in step with one IKM catalogue and stock ledger."""
    import structlog

    structlog.contextvars.clear_contextvars()  # nothing of an earlier invocation
    ctx.obj = AppState(
        config_file=config,
        log_level=None if log_level is None else log_level.value,
        log_format=None if log_format is None else log_format.value,
    )
    from ikm_sync.bootstrap import init_early_logging

    init_early_logging(ctx.obj.log_level, ctx.obj.log_format)


def _register() -> None:
    app.add_typer(db.app, name="db")
    app.add_typer(catalog.app, name="catalog")
    app.add_typer(stock.app, name="stock")
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(accounts.app, name="accounts")
    app.add_typer(sync.app, name="sync")
    app.add_typer(runs.app, name="runs")
    app.add_typer(orders.app, name="orders")
    app.add_typer(users.app, name="users")
    app.add_typer(report.app, name="report")
    from ikm_sync.commands import audit_chain  # noqa: F401  (adds audit's commands)

    audit_read.register(audit.app)
    app.add_typer(audit.app, name="audit")
    app.command("reconcile")(reconcile.reconcile)
    app.command("status")(status.status)
    app.command("run")(run.run)
    app.command("simulate")(simulate.simulate)
    app.command("serve")(serve.serve)
    app.command("buyers")(simulate.buyers)


_register()
