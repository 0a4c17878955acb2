"""What ``audit verify`` reports: a broken link or a record its events contradict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing verification found wrong.

    ``seq`` is the chain position involved (the first broken link, or the event
    that describes a record which no longer matches it), None when no event is
    involved (a record no event describes); ``subject`` what it concerns
    (``event:12``, ``run:17``, ``movement:order:shopee:…``); ``problem`` in plain
    words, naming what was expected.
    """

    seq: int | None
    subject: str
    problem: str
