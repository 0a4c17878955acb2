"""Logging setup: structlog and the standard library through one processor chain.

Called once by the entrypoint, never at import. Lines go to standard error: a readable
console format on a terminal, JSON lines otherwise. A redaction processor masks the
values of secret-looking keys and every occurrence of a configured secret value, in
event fields, messages and rendered tracebacks alike. SQLAlchemy's row lines (its
DEBUG level) are never written: rows hold tokens; its statements are logged at DEBUG
with their values hidden by the engine (``hide_parameters``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "**********"

#: Field names whose values are always masked, whatever they hold.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "access_token",
        "refresh_token",
        "partner_key",
        "client_secret",
        "sign",
        "signature",
        "password",
        "secret",
        "api_key",
        "token",
    }
)


#: SQLAlchemy's loggers whose DEBUG lines print result rows (tokens among them).
ROW_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.orm")


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records (result rows), whatever a logger's level."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno < logging.INFO and record.name.startswith(ROW_LOGGERS)
        )


class SecretRedactor:
    """A structlog processor that masks secrets in every value of an event."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._values = sorted(
            {v for v in secret_values if len(v) >= 4}, key=len, reverse=True
        )

    def redact_text(self, text: str) -> str:
        """Return ``text`` with every configured secret value masked."""
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def _redact(self, key: str | None, value: Any) -> Any:
        if key is not None and key.lower() in SECRET_KEYS and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {k: self._redact(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._redact(None, item) for item in value]
        if isinstance(value, BaseException):
            return self.redact_text(repr(value))
        return value

    def __call__(
        self, _logger: WrappedLogger, _method_name: str, event_dict: EventDict
    ) -> EventDict:
        return {key: self._redact(key, value) for key, value in event_dict.items()}


def _pre_chain() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "console", "json"] = "auto",
    secret_values: Iterable[str] = (),
    stream: TextIO | None = None,
) -> SecretRedactor:
    """Configure structlog and stdlib logging once; returns the redactor in use."""
    stream = stream if stream is not None else sys.stderr
    redactor = SecretRedactor(secret_values)
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if use_console
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_pre_chain(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redactor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(_NoRows())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party chatter stays at WARNING unless the operator asks for DEBUG. The HTTP
    # libraries stay at WARNING even then: their debug lines carry signed URLs and
    # headers, which hold tokens and signatures the redactor cannot know.
    library_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in ("sqlalchemy", "alembic", "apscheduler"):
        logging.getLogger(name).setLevel(library_level)
    # SQLAlchemy prints every result row at DEBUG: its engine logs statements (INFO,
    # values hidden) and no further.
    for name in ROW_LOGGERS:
        logging.getLogger(name).setLevel(max(library_level, logging.INFO))
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)

    structlog.configure(
        processors=[
            *_pre_chain(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return redactor
