"""``audit verify``'s walk: the chain from its start to its head, against trusted
checkpoints, then the business records against their events.

One read-only snapshot (PostgreSQL ``REPEATABLE READ``; SQLite's read transaction
in WAL mode) holds the head and every sealed event together, so a sealer at work
meanwhile changes nothing the walk sees. The walk stops at the first broken link
(:class:`core.audit.chain.Walk`); then the head must be where the walk ended, and
every checkpoint's position must hold the checkpoint's hash (a chain recomputed
after an edit, or cut short, fails here, since the checkpoint's signing key is not
in the database). A chain whose first event is not at position 1 (older events
archived) must start right after a checkpoint, whose hash it continues.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.audit.chain import Walk
from core.audit.checkpoint import Checkpoint
from core.audit.findings import Finding
from core.store import audit_state
from core.store.audit_chain import (
    Head,
    first_sealed,
    read_head,
    sealed_rows,
    unsealed,
)
from core.store.db import READ_ONLY


@dataclass(frozen=True, slots=True)
class Verification:
    """What ``audit verify`` found."""

    head: Head
    #: Events walked (sealed events from the start to where the walk stopped).
    walked: int
    #: Events waiting for the sealer (not an error).
    unsealed: int
    #: Position the walk started after (0, or an archive's checkpoint).
    start: int = 0
    #: The first broken link, head or checkpoint problems, then record findings.
    findings: list[Finding] = field(default_factory=list)
    #: Each checkpoint's position and whether the chain holds its hash there
    #: (None: before the live chain's start, to be checked against its archive).
    checkpoints: list[tuple[int, bool | None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is broken."""
        return not self.findings


def _snapshot(engine: Engine) -> dict[str, object]:
    if engine.dialect.name == "postgresql":
        return {READ_ONLY: True, "isolation_level": "REPEATABLE READ"}
    return {READ_ONLY: True}


def verify_chain(
    engine: Engine,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    batch: int = 10_000,
) -> Verification:
    """Walk the chain (see the module); checkpoints must be trusted already
    (:func:`core.audit.checkpoint.check_signature`)."""
    with engine.connect().execution_options(**_snapshot(engine)) as connection:
        head = read_head(connection)
        waiting = unsealed(connection)
        first = first_sealed(connection)
        anchor = next(
            (c for c in checkpoints if first is not None and c.seq == first - 1),
            None,
        )
        walk = Walk() if anchor is None else Walk(anchor.seq, anchor.hash)
        start = walk.seq
        walk.watch = {c.seq: None for c in checkpoints if c.seq > start}
        with closing(sealed_rows(connection, after=0, batch=batch)) as batches:
            for rows in batches:
                if not walk.feed_rows(rows):
                    break
        connection.rollback()
    findings = [] if walk.broken is None else [walk.broken]
    if walk.broken is None:
        findings += _head_findings(walk, head)
    held = []
    for checkpoint in checkpoints:
        ok, finding = _checkpoint_finding(walk, checkpoint, start)
        held.append((checkpoint.seq, ok))
        if finding is not None:
            findings.append(finding)
    return Verification(
        head=head,
        walked=walk.seq - start,
        unsealed=waiting,
        start=start,
        findings=findings,
        checkpoints=held,
    )


def _head_findings(walk: Walk, head: Head) -> list[Finding]:
    if walk.seq < head.seq:
        return [
            Finding(
                walk.seq + 1,
                "chain:head",
                f"the head is at position {head.seq} but the chain ends at "
                f"{walk.seq}: events {walk.seq + 1}..{head.seq} are missing",
            )
        ]
    if walk.seq > head.seq:
        return [
            Finding(
                head.seq + 1,
                "chain:head",
                f"the head is at position {head.seq} but the chain goes on to "
                f"{walk.seq}: events after the head were inserted or the head "
                "was moved back",
            )
        ]
    if walk.hash != head.hash and walk.seq > 0:
        return [
            Finding(
                head.seq,
                "chain:head",
                f"the head's hash {head.hash} is not the chain's {walk.hash} at "
                f"position {head.seq}",
            )
        ]
    return []


def _checkpoint_finding(
    walk: Walk, checkpoint: Checkpoint, start: int
) -> tuple[bool | None, Finding | None]:
    seq = checkpoint.seq
    subject = f"checkpoint:{seq}"
    if seq == start:
        return True, None
    if seq < start:  # archived: the archive's own verify checks it
        return None, None
    if (
        walk.broken is not None
        and walk.broken.seq is not None
        and seq >= walk.broken.seq
    ):
        return False, None  # the broken link, reported first, comes before it
    if seq > walk.seq:
        return False, Finding(
            walk.seq + 1,
            subject,
            f"the checkpoint signed position {seq} (hash {checkpoint.hash}) but the "
            f"chain ends at {walk.seq}: events {walk.seq + 1}..{seq} are missing "
            "(the tail was cut)",
        )
    found = walk.watch.get(seq)
    if found != checkpoint.hash:
        return False, Finding(
            seq,
            subject,
            f"at position {seq} the chain's hash is {found}, the checkpoint signed "
            f"{checkpoint.hash}: events up to position {seq} were rewritten after "
            "the checkpoint",
        )
    return True, None


def record_findings(sessions: sessionmaker[Session], limit: int = 100) -> list[Finding]:
    """The business records their events contradict (:mod:`core.store.audit_state`)."""
    with sessions() as session:
        return audit_state.mismatches(session, limit)
