"""Per-invocation state of the command line, shared by every command.

Settings, logging and the database are imported when a command first asks for them,
so the command line starts without them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from config import LoadedSettings, SecretRedactor
    from ikm_sync.bootstrap import Runtime


def _no_secrets() -> SecretRedactor:
    from config.logging import SecretRedactor

    return SecretRedactor()


@dataclass
class AppState:
    """Per-invocation state: global options, then settings and runtime on first use."""

    config_file: Path | None = None
    log_level: str | None = None
    log_format: str | None = None
    json_errors: bool = False
    #: Seal the audit events this command wrote when it ends (``audit verify``
    #: turns it off: it reports and changes nothing).
    seal_on_close: bool = True
    _schema_checked: bool = False
    _wrote_events: bool = False
    _loaded: LoadedSettings | None = None
    _runtime: Runtime | None = None
    redactor: SecretRedactor = field(default_factory=_no_secrets)
    _held: ExitStack = field(default_factory=ExitStack)

    def hold(self, context: AbstractContextManager[object]) -> None:
        """Enter ``context`` for the rest of the command (left by :meth:`close`)."""
        self._held.enter_context(context)

    def settings(self) -> LoadedSettings:
        """Load and validate settings once; configures logging with secret masking."""
        if self._loaded is None:
            from config import load_settings
            from ikm_sync.bootstrap import init_logging

            self._loaded = load_settings(self.config_file)
            self.redactor = init_logging(
                self._loaded, level=self.log_level, fmt=self.log_format
            )
        return self._loaded

    def runtime(self, *, check_schema: bool = True) -> Runtime:
        """The database runtime; refuses a database that is not migrated."""
        if self._runtime is None:
            from ikm_sync.bootstrap import build_runtime

            self._runtime = build_runtime(self.settings(), check_schema=check_schema)
            self._schema_checked = check_schema
            self._watch_event_writes()
        return self._runtime

    def _watch_event_writes(self) -> None:
        """Note when this command inserts audit events (it opened the store for
        writing), so that it seals them when it ends; a reader seals nothing."""
        from sqlalchemy import event

        if self._runtime is None:
            return

        def noted(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            if not self._wrote_events and statement.lstrip()[:6].upper() == "INSERT":
                self._wrote_events = "audit_events" in statement

        event.listen(self._runtime.engine, "before_cursor_execute", noted)

    def close(self) -> None:
        """Seal the audit events the command wrote (when it opened a migrated
        store), release what was opened, and leave what :meth:`hold` entered."""
        if self._runtime is not None:
            if self.seal_on_close and self._schema_checked and self._wrote_events:
                from ikm_sync.commands.audit_chain import seal_on_close

                seal_on_close(self._runtime)
            self._runtime.close()
            self._runtime = None
        self._held.close()


def state(ctx: typer.Context) -> AppState:
    """The :class:`AppState` of this invocation."""
    found = ctx.find_object(AppState)
    if found is None:  # a command invoked without the root callback (tests)
        found = ctx.ensure_object(AppState)
    return found
