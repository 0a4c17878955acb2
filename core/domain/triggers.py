"""Who or what started a run, as its ``trigger`` records it.

* ``schedule`` — the daemon or ``run --once``;
* ``manual:<actor>`` — a person at the command line (``--actor``, the ``actor``
  setting, ``IKMSYNC_ACTOR``), e.g. ``manual:officer:ani``;
* ``webhook:<marketplace>`` — a marketplace's push notification.

:func:`actor_of` maps a trigger to who acts in the run's audit events, so every
entrance (the command line, the daemon, later the console and webhooks) records
the same actor for the same trigger.
"""

from __future__ import annotations

import re

from core.audit.events import SCHEDULER

#: The trigger of scheduled runs.
SCHEDULE = "schedule"
#: Who acts in scheduled work (the daemon, ``run --once``).
SCHEDULER_ACTOR = SCHEDULER
#: The actor recorded when nobody could be named (the command says so).
UNKNOWN_ACTOR = "unknown"
#: The longest actor name (a trigger is stored in 128 characters).
ACTOR_MAX = 120

_ACTOR = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{ACTOR_MAX}}}")


def check_actor(actor: str) -> str:
    """``actor`` when it names someone (``officer:ani``, ``cli:budi``).

    Raises:
        ValueError: empty, longer than :data:`ACTOR_MAX`, or holding spaces or
            control characters.
    """
    if not _ACTOR.fullmatch(actor):
        raise ValueError(
            f"{actor!r} is not an actor; expected who acts, e.g. officer:ani "
            f"(no spaces, 1 to {ACTOR_MAX} characters)"
        )
    return actor


def manual(actor: str) -> str:
    """The trigger of a run a person started: ``manual:<actor>``."""
    return f"manual:{check_actor(actor)}"


def is_manual(trigger: str) -> bool:
    """True for a run a person started (always recorded, even when it found
    nothing to do: who asked for it is worth keeping)."""
    return trigger.startswith("manual:")


def webhook(marketplace: str) -> str:
    """The trigger of a run a marketplace's notification started."""
    return f"webhook:{marketplace}"


def actor_of(trigger: str) -> str:
    """Who acts in the work ``trigger`` started: ``system:scheduler`` for
    ``schedule``, the person for ``manual:<actor>``, ``webhook:<name>`` for a
    webhook's, :data:`UNKNOWN_ACTOR` for anything else."""
    if trigger == SCHEDULE:
        return SCHEDULER_ACTOR
    if is_manual(trigger):
        return trigger.removeprefix("manual:") or UNKNOWN_ACTOR
    if trigger.startswith("webhook:"):
        return trigger
    return UNKNOWN_ACTOR
