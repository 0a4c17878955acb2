"""Audit events are written with the transaction they describe, and only then."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from core.audit.canonical import dumps, plain
from core.audit.events import AuditEvent, acting, bind_run, current
from core.store.audit import record
from core.store.db import make_engine, make_session_factory, upgrade


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _events(sessions: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with sessions() as session:
        return [
            tuple(r)
            for r in session.execute(
                text(
                    "SELECT actor, subject, run_id, after FROM audit_events ORDER BY id"
                )
            )
        ]


def test_events_are_written_with_the_commit_and_carry_the_acting_context(
    sessions: sessionmaker[Session],
) -> None:
    with acting("officer:ani", reason="stock count"):
        with sessions() as session:
            record(session, AuditEvent("stock.moved", "sku:A", after={"n": 3}))
            assert _events(sessions) == []  # not before the commit
            bind_run(7)
            session.commit()
        assert current().run_id == 7
    assert current().actor == "system:unnamed"
    assert _events(sessions) == [("officer:ani", "sku:A", 7, '{"n":3}')]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_events_of_a_transaction_that_does_not_commit_are_dropped(
    sessions: sessionmaker[Session],
    end: str,
) -> None:
    with sessions() as session:
        record(session, AuditEvent("stock.moved", "sku:B"))
        getattr(session, end)()
        if end == "rollback":
            session.commit()  # a later commit writes nothing left over
    assert _events(sessions) == []


def test_canonical_json_is_rfc8785_and_refuses_floats() -> None:
    assert (
        dumps({"b": [1, "x"], "a": None, "é": True})
        == '{"a":null,"b":[1,"x"],"é":true}'
    )
    with pytest.raises(TypeError, match="float"):
        plain({"price": 1.5})
