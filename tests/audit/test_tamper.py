"""Tampering with the audit chain, each caught by ``audit verify`` at its position.

Ten events are written and sealed (positions 1..10); the tamperer then works on the
database directly, as someone with ``psql`` or ``sqlite3`` would. Runs on SQLite
and, with ``IKMSYNC_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.store.audit_chain import EVENTS, HEAD
from tests.audit import world
from tests.conftest import Cli

COUNT = 10
EDITED = 3  # the position edited (a listing event: every column set)


@pytest.fixture
def chain(cli: Cli) -> Cli:
    world.sealed_store(cli.database_url, COUNT)
    code, report = world.verify(cli)
    assert (code, report["verified"], report["walked"]) == (0, True, COUNT)
    return cli


def _at(seq: int) -> Any:
    return EVENTS.c.seq == seq


def _first(report: dict[str, Any]) -> dict[str, Any]:
    assert report["verified"] is False
    finding: dict[str, Any] = report["findings"][0]
    return finding


EDITS: dict[str, dict[str, Any]] = {
    "id": {"id": EVENTS.c.id + 1000},
    "seq": {"seq": 1000},
    "hash": {"hash": "f" * 64},
    "at": {"at": sa.literal(world.START + timedelta(days=1), EVENTS.c.at.type)},
    "actor": {"actor": "officer:mallory"},
    "action": {"action": "listing.deleted"},
    "subject": {"subject": "listing:shopee-main:OTHER"},
    "account": {"account": "bukalapak-main"},
    "run_id": {"run_id": 999},
    "reason": {"reason": "repair"},
    "before": {"before": '{"price":1,"stock":4}'},
    "after": {"after": '{"price":155000,"stock":30}'},
}


def test_every_column_of_an_event_is_covered() -> None:
    assert set(EDITS) == {c.name for c in EVENTS.columns}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_an_edited_column_is_found_at_its_position(chain: Cli, column: str) -> None:
    world.execute(
        chain.database_url, sa.update(EVENTS).where(_at(EDITED)).values(EDITS[column])
    )
    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == EDITED


@pytest.mark.parametrize(("deleted", "position"), [(1, 1), (6, 6)])
def test_a_deleted_event_is_found_at_its_position(
    chain: Cli, deleted: int, position: int
) -> None:
    world.execute(chain.database_url, sa.delete(EVENTS).where(_at(deleted)))
    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == position
    assert "missing" in _first(report)["problem"]


def test_the_last_event_deleted_is_found_by_the_head(chain: Cli) -> None:
    world.execute(chain.database_url, sa.delete(EVENTS).where(_at(COUNT)))
    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == COUNT


def _checkpointed(chain: Cli, tmp_path: Path) -> str:
    path = str(tmp_path / "checkpoint.json")
    world.checkpoint(chain, path)
    return path


def _cut_to(database_url: str, last: int) -> None:
    """Delete every event after ``last`` and move the head back to it, as a
    tamperer hiding the tail would."""
    kept = next(r for r in world.rows(database_url) if r.seq == last)
    world.execute(
        database_url,
        sa.delete(EVENTS).where(EVENTS.c.seq > last),
        sa.update(HEAD).values(seq=last, hash=kept.hash),
    )


@pytest.mark.parametrize("last", [COUNT - 1, 4])
def test_a_cut_tail_with_its_head_moved_back_is_found_against_a_checkpoint(
    chain: Cli, tmp_path: Path, last: int
) -> None:
    path = _checkpointed(chain, tmp_path)
    _cut_to(chain.database_url, last)
    assert world.verify(chain)[0] == 0  # consistent in itself: only the key can tell
    code, report = world.verify(chain, "--checkpoint", path)
    assert code == 1
    assert _first(report)["seq"] == last + 1
    assert report["checkpoints"] == [{"seq": COUNT, "holds": False}]


def test_an_inserted_event_is_found_where_the_chain_breaks(chain: Cli) -> None:
    at = 4
    shifted = [
        sa.update(EVENTS).where(_at(seq)).values(seq=seq + 1)
        for seq in range(COUNT, at - 1, -1)
    ]
    forged = sa.insert(EVENTS).values(
        seq=at,
        hash="0" * 64,
        at=world.START,
        actor="officer:mallory",
        action="stock.moved",
        subject="sku:KURSI-001",
        reason="",
        after='{"on_hand":100}',
    )
    world.execute(chain.database_url, *shifted, forged)
    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == at


def test_two_swapped_events_are_found_at_the_first(chain: Cli) -> None:
    world.execute(
        chain.database_url,
        sa.update(EVENTS).where(_at(3)).values(seq=-1),
        sa.update(EVENTS).where(_at(7)).values(seq=3),
        sa.update(EVENTS).where(_at(-1)).values(seq=7),
    )
    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == 3


def test_a_chain_recomputed_after_an_edit_is_found_against_a_checkpoint(
    chain: Cli, tmp_path: Path
) -> None:
    path = _checkpointed(chain, tmp_path)
    world.execute(
        chain.database_url,
        sa.update(EVENTS).where(_at(EDITED)).values(actor="officer:mallory"),
    )
    world.rehash(chain.database_url)
    assert world.verify(chain)[0] == 0  # every link holds: only the key can tell
    code, report = world.verify(chain, "--checkpoint", path)
    assert code == 1
    assert _first(report)["seq"] == COUNT
    assert "rewritten" in _first(report)["problem"]


def test_a_checkpoint_holds_while_the_chain_grows(chain: Cli, tmp_path: Path) -> None:
    path = _checkpointed(chain, tmp_path)
    world.sealed_store(chain.database_url, 5)
    code, report = world.verify(chain, "--checkpoint", path)
    assert code == 0, report
    assert report["walked"] == COUNT + 5
    assert report["checkpoints"] == [{"seq": COUNT, "holds": True}]


def test_unsealed_events_are_counted_not_an_error(chain: Cli) -> None:
    with world.store(chain.database_url) as sessions:
        world.write(sessions, 4)
    code, report = world.verify(chain)
    assert (code, report["unsealed"], report["walked"]) == (0, 4, COUNT)


def test_a_checkpoint_by_another_key_or_edited_is_refused(
    chain: Cli, tmp_path: Path
) -> None:
    from core.audit.checkpoint import new_private_key

    forged = tmp_path / "forged.json"
    result = chain(
        "audit",
        "checkpoint",
        "--out",
        str(forged),
        env={"IKMSYNC_AUDIT_KEY": new_private_key()},
    )
    assert result.exit_code == 0
    result = chain(
        "audit",
        "verify",
        "--checkpoint",
        str(forged),
        env={"IKMSYNC_AUDIT_KEY": world.AUDIT_KEY},
    )
    assert result.exit_code == 1
    assert "checkpoint refused" in result.stderr
    assert "signed by key" in result.stderr

    edited = Path(_checkpointed(chain, tmp_path))
    edited.write_text(edited.read_text().replace('"seq":10', '"seq":9'))
    result = chain(
        "audit",
        "verify",
        "--checkpoint",
        str(edited),
        env={"IKMSYNC_AUDIT_KEY": world.AUDIT_KEY},
    )
    assert result.exit_code == 1
    assert "altered after it was signed" in result.stderr


def test_a_time_stored_in_another_text_form_is_read_as_the_sealer_reads_it(
    cli: Cli,
) -> None:
    """A row whose time was written by other means than the store (e.g. SQL's
    own timestamp text) is chained and verified alike: verify's fast reading of
    the stored time agrees with the sealer's typed one."""
    world.sealed_store(cli.database_url, 2)
    with world.store(cli.database_url) as sessions:
        world.write(sessions, 1)
    if cli.database_url.startswith("sqlite"):
        world.execute(
            cli.database_url,
            sa.text(
                "UPDATE audit_events SET at = '2026-12-07 08:00:01' WHERE seq IS NULL"
            ),
        )
    assert cli("audit", "seal").exit_code == 0
    code, report = world.verify(cli)
    assert (code, report["walked"]) == (0, 3), report


def test_an_archived_range_leaves_a_live_chain_anchored_by_its_checkpoint(
    chain: Cli, tmp_path: Path
) -> None:
    """The README's archive: checkpoint, keep a copy, delete the sealed range;
    the live part verifies from the checkpoint on, and only from it."""
    cut = _checkpointed(chain, tmp_path)
    world.sealed_store(chain.database_url, 5)
    later = _checkpointed(chain, tmp_path / "later")
    world.execute(chain.database_url, sa.delete(EVENTS).where(EVENTS.c.seq <= COUNT))

    code, report = world.verify(chain)
    assert code == 1
    assert _first(report)["seq"] == 1  # without its anchor: events 1.. missing

    code, report = world.verify(chain, "--checkpoint", cut, "--checkpoint", later)
    assert code == 0, report
    assert (report["start"], report["walked"]) == (COUNT, 5)
    assert report["checkpoints"] == [
        {"seq": COUNT, "holds": True},
        {"seq": COUNT + 5, "holds": True},
    ]

    world.execute(chain.database_url, sa.delete(EVENTS).where(_at(COUNT + 1)))
    code, report = world.verify(chain, "--checkpoint", cut)
    assert code == 1
    assert _first(report)["seq"] == 1  # the live part no longer joins the anchor
