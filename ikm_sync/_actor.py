"""Who acts: the ``--actor`` every changing command takes, and where it comes from
when it is not given.

In order: ``--actor``; the ``actor`` setting (``IKMSYNC_ACTOR`` or the settings
file); the operating-system user as ``cli:<user>``. When none names anyone the
actor is recorded as ``unknown`` and the command says so on standard error,
instead of recording it silently. The actor is bound to every log event of the
command (``actor=…``) and to every audit event it records (the acting context,
:func:`core.audit.events.acting`, held until the command ends), and runs record
it in their trigger (``manual:<actor>``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import structlog
import typer

from core.audit.events import acting
from core.domain.triggers import UNKNOWN_ACTOR, check_actor, manual
from core.errors import DomainError
from ikm_sync._context import AppState

log = structlog.get_logger(__name__)

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who acts, e.g. officer:ani (default: the actor setting or "
        "IKMSYNC_ACTOR, else cli:<user>).",
    ),
]

#: Where the actor came from, as the notice and the log name it.
FROM_OPTION = "--actor"
FROM_SETTINGS = "the actor setting"
FROM_USER = "the operating-system user"
NOT_KNOWN = "nowhere"

NOTICE = (
    "notice: who acts is not known, so this is recorded as done by {actor!r}; "
    "give --actor, or set actor in the settings or IKMSYNC_ACTOR"
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, and where that came from."""

    name: str
    source: str

    @property
    def known(self) -> bool:
        """False when nobody could be named."""
        return self.source != NOT_KNOWN

    @property
    def trigger(self) -> str:
        """The trigger of the runs this actor starts: ``manual:<actor>``."""
        return manual(self.name)


def _os_user() -> str | None:
    for variable in ("USER", "LOGNAME", "USERNAME"):
        user = os.environ.get(variable, "")
        if user:
            try:
                return check_actor(f"cli:{user}")
            except ValueError:
                return None
    return None


def who_acts(app_state: AppState, given: str | None, *, notice: bool = True) -> Actor:
    """The command's actor (see the module docstring); binds it to the logs and
    to the audit events until the command ends and, when nobody could be named
    and ``notice`` is true (the command will record something), says so on
    standard error.

    Raises:
        DomainError: ``given`` does not name anyone (exit 1, nothing done).
    """
    if given is not None:
        try:
            actor = Actor(check_actor(given), FROM_OPTION)
        except ValueError as exc:
            raise DomainError(f"--actor: {exc}") from None
    elif (configured := app_state.settings().settings.actor) is not None:
        actor = Actor(configured, FROM_SETTINGS)
    elif (user := _os_user()) is not None:
        actor = Actor(user, FROM_USER)
    else:
        actor = Actor(UNKNOWN_ACTOR, NOT_KNOWN)
    structlog.contextvars.bind_contextvars(actor=actor.name)
    app_state.hold(acting(actor.name))
    if not actor.known and notice:
        log.warning("actor.unknown", recorded_as=actor.name)
        typer.echo(NOTICE.format(actor=actor.name), err=True)
    return actor
