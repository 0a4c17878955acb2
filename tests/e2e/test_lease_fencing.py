"""A process paused past its lease (SIGSTOP) gets no write accepted when it wakes —
against real ``ikm-sync`` processes and a real ``ikm-sync simulate``.

A first ``sync orders`` is stopped while its first marketplace request is held at a
gate (its run started, the account's lease held), with a two-second lease
(``[sync] lease_seconds``). Once the lease has run out, a second ``sync orders``
takes the account and pulls the buyers' orders. The first process is then continued:
each write it tries is refused (``lease.write_refused`` in its log), its run stays as
it was, it ends with exit code 1, and the store is exactly what the second process
left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.gate import gated
from tests.e2e.sites import Site, _site
from tests.e2e.test_simulate import IKM_SYNC

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

SHOPEE = "shopee-ntt-flores"
#: Longest wait for a process to reach a point or to end, in seconds.
LIMIT = 120.0
SHORT_LEASE = {"IKMSYNC_SYNC__LEASE_SECONDS": "2"}


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    """The demo catalogue imported, accounts authorised, published."""
    for built in _site(tmp_path / "site", database_url):
        built.run("sync", "push")
        yield built


def _engine(site: Site) -> sa.Engine:
    return sa.create_engine(
        sa.make_url(site.database_url).set(
            drivername="postgresql+psycopg"
            if site.database_url.startswith("postgresql")
            else "sqlite"
        )
    )


def _store(site: Site) -> dict[str, list[tuple[Any, ...]]]:
    """What the sync writes: orders, stock movements, bookmarks, listings, runs."""
    statements = {
        "orders": "SELECT external_id, status, stock_state FROM orders",
        "movements": "SELECT idempotency_key, on_hand_delta, reserved_delta "
        "FROM stock_movements",
        "bookmarks": "SELECT account_id, position FROM order_bookmarks",
        "listings": "SELECT account_id, product_id, state, last_stock FROM listings",
        "runs": "SELECT id, kind, outcome FROM sync_runs",
    }
    engine = _engine(site)
    try:
        with engine.connect() as connection:
            return {
                name: sorted(
                    tuple(str(v) for v in row)
                    for row in connection.execute(sa.text(statement))
                )
                for name, statement in statements.items()
            }
    finally:
        engine.dispose()


def _lease_expiry(site: Site) -> datetime | None:
    engine = _engine(site)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text(
                    "SELECT l.expires_at FROM account_leases l JOIN channel_accounts a "
                    "ON a.id = l.account_id WHERE a.account_key = :account"
                ),
                {"account": SHOPEE},
            ).scalar()
    finally:
        engine.dispose()
    if found is None:
        return None
    if isinstance(found, str):  # SQLite keeps the text SQLAlchemy wrote
        found = datetime.fromisoformat(found)
    assert isinstance(found, datetime)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + LIMIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {LIMIT:.0f} s: {what}")
        time.sleep(0.05)  # polls a condition, with a deadline: noqa: sleep-ok


def test_a_process_paused_past_its_lease_gets_no_write_accepted(
    site: Site, tmp_path: Path
) -> None:
    site.buyers("shopee", 3)
    env = {**site.env, **SHORT_LEASE}
    log = tmp_path / "paused.log"
    out = tmp_path / "paused.json"
    with gated(site.config, site.urls) as gate:
        gate.arm(1)
        with log.open("w") as errors, out.open("w") as output:
            paused = subprocess.Popen(  # noqa: S603  (our own console script)
                [
                    IKM_SYNC,
                    "--config",
                    str(site.config),
                    "--log-format",
                    "json",
                    "sync",
                    "orders",
                    "--account",
                    SHOPEE,
                    "--json",
                ],
                stdout=output,
                stderr=errors,
                text=True,
                env=env,
            )
        try:
            _wait(
                lambda: gate.reached.is_set() or paused.poll() is not None,
                "the first marketplace request",
            )
            assert paused.poll() is None, log.read_text(encoding="utf-8")
            paused.send_signal(signal.SIGSTOP)
            gate.release()  # its request is answered; it reads it when continued

            # its lease runs out (by the database's clock: the same machine's)
            _wait(
                lambda: (
                    (expiry := _lease_expiry(site)) is not None
                    and expiry < datetime.now(UTC)
                ),
                "the paused process's lease to run out",
            )
            taker = subprocess.run(  # noqa: S603  (our own console script)
                [IKM_SYNC, "--config", str(site.config), "sync", "orders", "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=LIMIT,
                check=False,
            )
            assert taker.returncode == 0, taker.stderr
            taken = {r["account"]: r for r in json.loads(taker.stdout)["runs"]}
            assert taken[SHOPEE]["outcome"] == "succeeded"
            assert taken[SHOPEE]["counts"]["order"] == 3
            after_taker = _store(site)

            paused.send_signal(signal.SIGCONT)
            code = paused.wait(timeout=LIMIT)
        finally:
            if paused.poll() is None:
                paused.send_signal(signal.SIGCONT)
                paused.kill()
                paused.wait(timeout=LIMIT)

    events = [
        json.loads(line)
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]
    refused = [e for e in events if e["event"] == "lease.write_refused"]
    assert code == 1, log.read_text(encoding="utf-8")
    assert len(refused) >= 1  # every write it tried after waking, its run's end too
    assert {e["account"] for e in refused} == {SHOPEE}
    (run,) = json.loads(out.read_text(encoding="utf-8"))["runs"]
    assert run["outcome"] == "failed"
    assert "LeaseLostError" in run["error"]
    # nothing it tried after losing the lease reached the store, its run record
    # included: a person started it, so its row was written when it began, and it
    # stays as it was left (``running``, for the sweep to close ``abandoned``)
    assert _store(site) == after_taker
    outcomes = sorted(r[2] for r in after_taker["runs"] if r[1] == "orders")
    assert outcomes == ["running"] + ["succeeded"] * len(taken)
