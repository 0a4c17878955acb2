"""Writers and sealers in separate processes: every event sealed exactly once.

On PostgreSQL 8 writers first each insert a long transaction's events and hold it
open (the lowest ids), then commit short transactions (higher ids) while 2 sealers
seal; only after those are sealed do the long transactions commit: their events,
committed out of id order, must still be sealed, once, and the chain verify.
SQLite admits one writing transaction at a time, so there the writers hold
nothing: 4 writers and 2 sealers interleave their transactions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

import pytest
import sqlalchemy as sa

from core.store.audit_chain import EVENTS, seal
from core.store.audit_verify import verify_chain
from core.store.db import make_engine, make_session_factory
from tests.conftest import REPO

pytestmark = [pytest.mark.slow]

SHORTS = 12
HELD = 25


class Child:
    """A writer or sealer process and its line-by-line conversation."""

    def __init__(self, role: str, setup: dict[str, object]) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (this interpreter, our module)
            [sys.executable, "-m", "tests.audit.processes", role, json.dumps(setup)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @property
    def _out(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, line: str | None = None) -> str:
        got = self._out.readline().strip()
        if line is not None:
            assert got == line, (
                f"expected {line!r}, got {got!r} (exit {self.process.poll()})"
            )
        return got

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=60)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@contextmanager
def children(role: str, setups: list[dict[str, object]]) -> Iterator[list[Child]]:
    with ExitStack() as stack:
        found = []
        for setup in setups:
            child = Child(role, setup)
            stack.callback(child.close)
            found.append(child)
        yield found


def _sizes(writer: int) -> list[int]:
    return [1 + (writer * 7 + i * 13) % 40 for i in range(SHORTS)]


def test_writers_and_sealers_at_once_seal_every_event_once(database_url: str) -> None:
    postgres = database_url.startswith("postgresql")
    writers = 8 if postgres else 4
    hold = postgres
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with (
            children(
                "writer",
                [
                    {"url": database_url, "writer": w, "shorts": SHORTS, "hold": hold}
                    for w in range(writers)
                ],
            ) as writing,
            children(
                "sealer", [{"url": database_url, "batch": 50} for _ in range(2)]
            ) as sealing,
        ):
            for child in writing:
                child.expect("held")  # every long transaction holds its low ids
            for child in writing:
                child.say("go")
            for child in writing:
                child.expect("shorts")  # the first short transactions committed
            before = seal(sessions).head.seq  # all of them sealed; held ones unseen
            for child in writing:
                child.say("commit")
            for child in writing:
                child.expect("done")
            for child in sealing:
                child.say("stop")
            by_sealer = [json.loads(child.expect())["sealed"] for child in sealing]
            for child in [*writing, *sealing]:
                assert child.process.wait(timeout=60) == 0
        seal(sessions)
        expected = sum(sum(_sizes(w)) for w in range(writers)) + (
            writers * HELD if hold else 0
        )
        with engine.connect() as connection:
            found = connection.execute(
                sa.select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.subject).order_by(
                    EVENTS.c.id
                )
            ).all()
        assert len(found) == expected
        assert [r.id for r in found if r.seq is None] == []  # none left behind
        assert sorted(r.seq for r in found) == list(range(1, expected + 1))
        assert len({r.subject for r in found}) == expected  # none written twice
        assert sum(by_sealer) <= expected
        result = verify_chain(engine)
        assert result.ok, result.findings
        assert (result.walked, result.unsealed) == (expected, 0)
        if hold:  # the held events: lowest ids, sealed after higher ones
            held = [r for r in found if "--1-" in r.subject]
            assert len(held) == writers * HELD
            assert all(r.seq > before for r in held)
            assert min(r.id for r in held) < min(r.id for r in found if r.seq <= before)
    finally:
        engine.dispose()
