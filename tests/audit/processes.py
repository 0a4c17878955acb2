"""Writer and sealer processes for the chain's concurrency test.

Run as ``python -m tests.audit.processes writer|sealer SETUP_JSON`` from the
repository. They talk to the test over their standard streams, one line each way
per step, so every step is ordered by a handshake, never by a sleep:

writer: (``hold``: inserts its long transaction's events, uncommitted) prints
``held``; waits for ``go``; commits its short transactions one by one; prints
``shorts``; waits for ``commit``; commits the long transaction; commits more short
ones; prints ``done``.

sealer: seals again and again until a line ``stop`` arrives, then seals once more
and prints how many events it sealed.
"""

from __future__ import annotations

import json
import sys
import threading

from core.audit.events import AuditEvent, acting
from core.store.audit import record, write_pending
from core.store.audit_chain import seal
from core.store.db import make_engine, make_session_factory

#: Bound on a sealer's rounds (it stops at ``stop`` long before).
MAX_ROUNDS = 1_000_000


def _events(writer: int, batch: int, size: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            "stock.counted",  # no record check: the chain alone is tested
            f"sku:W{writer}-{batch}-{n}",
            after={"writer": writer, "batch": batch, "n": n, "note": "rotan é"},
            account=f"acct-{writer}",
        )
        for n in range(size)
    ]


def _expect(line: str) -> None:
    got = sys.stdin.readline().strip()
    if got != line:
        raise SystemExit(f"expected {line!r} from the test, got {got!r}")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def writer(setup: dict[str, object]) -> None:
    engine = make_engine(str(setup["url"]))
    sessions = make_session_factory(engine)
    number = int(str(setup["writer"]))
    sizes = [1 + (number * 7 + i * 13) % 40 for i in range(int(str(setup["shorts"])))]
    with acting(f"officer:w{number}"):
        held = sessions()
        if setup["hold"]:
            record(held, *_events(number, -1, 25))
            write_pending(held)  # inserted (ids given), not committed
        _say("held")
        _expect("go")
        for batch, size in enumerate(sizes[: len(sizes) // 2]):
            with sessions() as session:
                record(session, *_events(number, batch, size))
                session.commit()
        _say("shorts")
        _expect("commit")
        held.commit()
        held.close()
        for batch, size in enumerate(sizes[len(sizes) // 2 :], start=len(sizes) // 2):
            with sessions() as session:
                record(session, *_events(number, batch, size))
                session.commit()
    engine.dispose()
    _say("done")


def sealer(setup: dict[str, object]) -> None:
    engine = make_engine(str(setup["url"]))
    sessions = make_session_factory(engine)
    stop = threading.Event()

    def listen() -> None:
        _expect("stop")
        stop.set()

    threading.Thread(target=listen, daemon=True).start()
    total = rounds = 0
    while not stop.is_set() and rounds < MAX_ROUNDS:
        total += seal(sessions, batch=int(str(setup["batch"]))).events
        rounds += 1
    total += seal(sessions).events
    engine.dispose()
    _say(json.dumps({"sealed": total, "rounds": rounds}))


if __name__ == "__main__":
    role, raw = sys.argv[1], sys.argv[2]
    {"writer": writer, "sealer": sealer}[role](json.loads(raw))
