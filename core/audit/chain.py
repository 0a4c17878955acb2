"""The audit chain's hashing: what one link covers and how it is checked (no I/O).

Link ``i`` is ``sha256(hash_{i-1} ‖ canonical JSON of event i)``, the previous hash
as its 64 hexadecimal ASCII characters (:data:`GENESIS` before the first event).
The canonical JSON (RFC 8785) is the object of the event's fields: ``seq``, ``id``,
``at`` (:func:`core.audit.canonical.timestamp`), ``actor``, ``action``,
``subject``, ``account``, ``run_id``, ``reason``, ``before`` and ``after`` (the
values their stored canonical text holds).

:func:`canonical` builds that text by joining the fields in RFC 8785's key order,
each string escaped as RFC 8785 escapes it (the same table as
:func:`json.dumps` with ``ensure_ascii=False``), and ``before``/``after`` as the
canonical text they are stored as: byte for byte what ``rfc8785.dumps`` of the
parsed object gives (:func:`reference_canonical`; the test suite proves it over
many varied events), about ten times faster, which is what lets ``audit verify``
walk a million events well inside its budget. A ``before``/``after`` edited into
other text that parses to the same value is still a different link: the stored
bytes are what is covered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

from core.audit.canonical import timestamp
from core.audit.findings import Finding

#: The "previous hash" of the first event.
GENESIS = "0" * 64

_string: Any = json.encoder.encode_basestring


@dataclass(frozen=True, slots=True)
class Link:
    """An event as the chain covers it: its place (``seq``) and stored fields
    (``at`` may be given already written as :func:`~core.audit.canonical.timestamp`
    writes it, as the database can do faster)."""

    seq: int
    id: int
    at: datetime | str
    actor: str
    action: str
    subject: str
    account: str | None
    run_id: int | None
    reason: str
    before: str | None
    after: str | None


def canonical(link: Link) -> bytes:
    """The RFC 8785 canonical JSON of ``link``'s fields (see the module)."""
    return _canonical(
        link.seq,
        link.id,
        _at(link.at),
        link.actor,
        link.action,
        link.subject,
        link.account,
        link.run_id,
        link.reason,
        link.before,
        link.after,
    )


def _canonical(
    seq: int,
    id_: int,
    at: str,
    actor: str,
    action: str,
    subject: str,
    account: str | None,
    run_id: int | None,
    reason: str,
    before: str | None,
    after: str | None,
) -> bytes:
    return (
        f'{{"account":{"null" if account is None else _string(account)},'
        f'"action":{_string(action)},"actor":{_string(actor)},'
        f'"after":{"null" if after is None else after},"at":"{at}",'
        f'"before":{"null" if before is None else before},"id":{int(id_)},'
        f'"reason":{_string(reason)},'
        f'"run_id":{"null" if run_id is None else int(run_id)},"seq":{int(seq)},'
        f'"subject":{_string(subject)}}}'
    ).encode()


def _at(at: datetime | str) -> str:
    return at if isinstance(at, str) else timestamp(at)


def document(link: Link) -> dict[str, Any]:
    """``link``'s fields as the JSON object the chain covers (``before`` and
    ``after`` parsed)."""
    return {
        "seq": link.seq,
        "id": link.id,
        "at": _at(link.at),
        "actor": link.actor,
        "action": link.action,
        "subject": link.subject,
        "account": link.account,
        "run_id": link.run_id,
        "reason": link.reason,
        "before": None if link.before is None else json.loads(link.before),
        "after": None if link.after is None else json.loads(link.after),
    }


def reference_canonical(link: Link) -> bytes:
    """:func:`canonical` as the ``rfc8785`` library writes it (slow; for tests)."""
    return rfc8785.dumps(document(link))


def next_hash(previous: str, link: Link) -> str:
    """The hash of ``link`` following the hash ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + canonical(link)).hexdigest()


def hashes(previous: str, links: Iterable[Link]) -> Iterator[str]:
    """The hash of each of ``links`` in turn, starting after ``previous``."""
    for link in links:
        previous = next_hash(previous, link)
        yield previous


class Walk:
    """Checks sealed events fed in ``seq`` order; keeps the first broken link.

    Starts after ``seq`` ``start`` whose hash is ``previous`` (the chain's beginning,
    or an archive's end). Each event must hold the next position and the hash that
    follows the one before it.
    """

    def __init__(self, start: int = 0, previous: str = GENESIS) -> None:
        self.seq = start
        self.hash = previous
        self.broken: Finding | None = None
        #: Hashes remembered at given positions (checkpoints), filled as walked.
        self.watch: dict[int, str | None] = {}

    def feed_rows(self, rows: Iterable[Sequence[Any]]) -> bool:
        """Check rows of ``(seq, stored hash, id, at as timestamp text, actor,
        action, subject, account, run_id, reason, before, after)`` in turn, as
        :meth:`feed` does, in one tight loop (a million rows are walked this way);
        False once a link is broken."""
        seq, previous = self.seq, self.hash
        watch = self.watch
        sha256 = hashlib.sha256
        for row in rows:
            expected = seq + 1
            computed = ""
            if row[0] == expected:
                computed = sha256(
                    previous.encode("ascii") + _canonical(row[0], *row[2:])
                ).hexdigest()
            if row[0] != expected or row[1] != computed:
                self.seq, self.hash = seq, previous
                return self.feed(Link(row[0], *row[2:]), row[1])
            seq, previous = expected, computed
            if seq in watch:
                watch[seq] = computed
        self.seq, self.hash = seq, previous
        return True

    def feed(self, link: Link, stored_hash: str | None) -> bool:
        """Check one event; False once a link is broken (stop feeding)."""
        if self.broken is not None:
            return False
        expected = self.seq + 1
        if link.seq != expected:
            problem = (
                f"expected the event at position {expected} next, found position "
                f"{link.seq} (event id {link.id}): "
                + (
                    f"{link.seq - expected} event(s) missing or moved"
                    if link.seq > expected
                    else "position repeated"
                )
            )
            self.broken = Finding(expected, f"event:{link.id}", problem)
            return False
        computed = next_hash(self.hash, link)
        if stored_hash != computed:
            self.broken = Finding(
                link.seq,
                f"event:{link.id}",
                f"hash does not follow from the previous link and this event's "
                f"fields: expected {computed}, stored {stored_hash or '(none)'}; "
                "the event (or the one before it) was changed, inserted or moved",
            )
            return False
        self.seq, self.hash = link.seq, computed
        if link.seq in self.watch:
            self.watch[link.seq] = computed
        return True
