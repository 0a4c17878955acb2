"""The chain's commands as an operator runs them: real ``ikm-sync`` processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.store.audit_chain import EVENTS, HEAD
from tests.audit import world
from tests.fakes import TEST_TOKEN_KEY

pytestmark = [pytest.mark.e2e]


def _run(
    tmp_path: Path, database_url: str, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IKMSYNC_")}
    env |= {"IKMSYNC_DATABASE_URL": database_url, "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY}
    if key is not None:
        env["IKMSYNC_AUDIT_KEY"] = key
    return subprocess.run(  # noqa: S603  (this interpreter running ikm-sync)
        [sys.executable, "-m", "ikm_sync", "--log-level", "ERROR", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_key_checkpoint_and_verify_find_a_cut_tail_and_a_rewritten_chain(
    tmp_path: Path, database_url: str
) -> None:
    keys = _run(tmp_path, database_url, "audit", "key", "--json")
    assert keys.returncode == 0, keys.stderr
    pair = json.loads(keys.stdout)
    key, public = pair["private_key"], pair["public_key"]

    world.sealed_store(database_url, 12)
    made = _run(
        tmp_path, database_url, "audit", "checkpoint", "--out", "cp.json", key=key
    )
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads((tmp_path / "cp.json").read_text())
    assert (checkpoint["seq"], checkpoint["public_key"]) == (12, public)
    assert key not in (tmp_path / "cp.json").read_text() + made.stdout + made.stderr

    # an auditor holding only the public key
    held = _run(
        tmp_path,
        database_url,
        "audit",
        "verify",
        "--checkpoint",
        "cp.json",
        "--public-key",
        public,
    )
    assert held.returncode == 0, held.stderr
    assert "verified: 12 event(s)" in held.stdout
    assert "checkpoint at position 12: holds" in held.stdout

    rows = world.rows(database_url)
    world.execute(
        database_url,
        sa.delete(EVENTS).where(EVENTS.c.seq > 9),
        sa.update(HEAD).values(seq=9, hash=rows[8].hash),
    )
    alone = _run(tmp_path, database_url, "audit", "verify")
    assert alone.returncode == 0  # consistent in itself
    cut = _run(
        tmp_path,
        database_url,
        "audit",
        "verify",
        "--checkpoint",
        "cp.json",
        "--public-key",
        public,
    )
    assert cut.returncode == 1
    assert "position 10" in cut.stderr
    assert "events 10..12 are missing" in cut.stderr

    world.sealed_store(database_url, 5)  # the chain goes on from 9: 10..14 anew
    world.rehash(database_url)
    rewritten = _run(
        tmp_path, database_url, "audit", "verify", "--checkpoint", "cp.json", key=key
    )
    assert rewritten.returncode == 1
    assert "position 12" in rewritten.stderr
    assert "rewritten" in rewritten.stderr


def test_a_checkpoint_without_a_key_is_a_configuration_error(
    tmp_path: Path, database_url: str
) -> None:
    result = _run(tmp_path, database_url, "audit", "checkpoint")
    assert result.returncode == 3
    assert "audit_key: not set" in result.stderr
    assert "IKMSYNC_AUDIT_KEY" in result.stderr
