"""A small audited store for the chain's tests: events written, sealed, tampered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.audit.chain import GENESIS, Link, hashes
from core.audit.checkpoint import new_private_key
from core.audit.events import AuditEvent, acting
from core.store.audit import record
from core.store.audit_chain import EVENTS, HEAD, LINK_COLUMNS, seal
from core.store.db import make_engine, make_session_factory
from tests.conftest import Cli

#: The operator's checkpoint key in these tests.
AUDIT_KEY = new_private_key()
START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def event(number: int) -> AuditEvent:
    """The ``number``-th event of a realistic mix (every field set on some)."""
    kind = number % 4
    if kind == 0:
        return AuditEvent(
            "stock.counted",  # no record check: the chain alone is tested
            f"sku:KURSI-{number:03d}",
            after={"key": f"adjust:{number}", "on_hand": number, "note": "rak é"},
            account=None,
            at=START + timedelta(seconds=number),
        )
    if kind == 1:
        return AuditEvent(
            "listing.changed",
            f"listing:shopee-main:KURSI-{number:03d}",
            before={"price": 150_000, "stock": 4},
            after={"price": 155_000, "stock": 3},
            account="shopee-main",
            run_id=40 + number,
            reason="cycle",
            at=START + timedelta(seconds=number),
        )
    if kind == 2:
        return AuditEvent(
            "product.updated",
            f"sku:ROTAN-{number:03d}",
            before={"name": "Kursi Rotan"},
            after={"name": "Kursi Rotan Sintetis «Teras»"},
            at=START + timedelta(seconds=number),
        )
    return AuditEvent(
        "order.noted",  # no record check: the chain alone is tested
        f"order:tokopedia:{2412000 + number}",
        before={"status": "paid"},
        after={"status": "cancelled"},
        account="tokopedia-main",
        at=START + timedelta(seconds=number),
    )


def write(
    sessions: sessionmaker[Session], count: int, *, per_transaction: int = 3
) -> None:
    """Write ``count`` events, ``per_transaction`` per commit."""
    with acting("officer:ani"):
        for first in range(0, count, per_transaction):
            with sessions() as session:
                record(
                    session,
                    *(
                        event(n)
                        for n in range(first, min(count, first + per_transaction))
                    ),
                )
                session.commit()


@contextmanager
def store(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def sealed_store(database_url: str, count: int) -> None:
    """``count`` events written and sealed."""
    with store(database_url) as sessions:
        write(sessions, count)
        assert seal(sessions).events == count


def execute(database_url: str, *statements: Any) -> None:
    """Run ``statements`` in one transaction (the tamperer's ``psql``)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)
    finally:
        engine.dispose()


def rows(database_url: str) -> list[Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(EVENTS.c.seq, EVENTS.c.hash, *LINK_COLUMNS).order_by(
                        EVENTS.c.seq
                    )
                )
            )
    finally:
        engine.dispose()


def rehash(database_url: str) -> None:
    """Recompute every hash and the head from the rows as they now are: what a
    tamperer who knows the algorithm (not the checkpoint key) can do."""
    found = rows(database_url)
    links = [Link(r[0], *r[2:]) for r in found]
    new = list(hashes(GENESIS, links))
    updates = [
        sa.update(EVENTS).where(EVENTS.c.id == link.id).values(hash=value)
        for link, value in zip(links, new, strict=True)
    ]
    head = sa.update(HEAD).values(seq=links[-1].seq, hash=new[-1])
    execute(database_url, *updates, head)


def verify(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    """``audit verify --json`` in-process; its exit code and report."""
    result = cli(
        "audit", "verify", "--json", *args, env={"IKMSYNC_AUDIT_KEY": AUDIT_KEY}
    )
    return result.exit_code, json.loads(result.stdout)


def checkpoint(cli: Cli, path: str) -> None:
    result = cli(
        "audit", "checkpoint", "--out", path, env={"IKMSYNC_AUDIT_KEY": AUDIT_KEY}
    )
    assert result.exit_code == 0, result.output
