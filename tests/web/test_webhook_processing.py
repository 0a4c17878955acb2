"""Processing stored deliveries: coalesced per account into one order pull through
the account-job runner (against a served simulator), a deauthorisation marks the
account at once, a reserved stock change pushes, nothing is processed twice."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col
from starlette.testclient import TestClient

from config import load_settings
from core.domain.ids import AccountId
from core.store.tables import OrderRow, StockMovementRow
from ikm_sync.bootstrap import build_runtime
from scheduler.leases import lease_holder
from scheduler.ops import metrics
from scheduler.webhooks import WebhookProcessor, WebhookWorker
from tests.e2e.test_simulate import IKM_SYNC, _read_announcement
from tests.fakes import TEST_TOKEN_KEY
from tests.web.conftest import CONFIG, DEMO, ConsoleWorld
from tests.web.test_webhooks import (
    SHOPEE_ORDER,
    TOKOPEDIA_STATUS,
    _rows,
    _shopee,
    _tokopedia,
)
from web.app import create_app
from web.console import Console
from web.webhooks import webhook_processor, webhooks_only_app

pytestmark = pytest.mark.db

NTT_SHOP = "shopee-ntt-flores"
LAPAS_SHOP = "tokopedia-karya-lapas"
#: Where the marketplaces not served in a test point: nothing listens there.
CLOSED = "http://127.0.0.1:9"


def _runs(kind: str) -> float:
    total = 0.0
    for outcome in ("succeeded", "partial", "failed", "skipped", "cancelled"):
        value = metrics.REGISTRY.get_sample_value(
            "ikm_sync_runs_total", {"kind": kind, "outcome": outcome}
        )
        total += value or 0.0
    return total


def _lags() -> float:
    total = 0.0
    for marketplace in ("shopee", "tokopedia"):
        value = metrics.REGISTRY.get_sample_value(
            "ikm_sync_webhook_lag_seconds_count", {"marketplace": marketplace}
        )
        total += value or 0.0
    return total


def _orders(world: ConsoleWorld) -> list[tuple[str, str]]:
    with world.console.runtime.session_factory() as session:
        rows = session.execute(
            sa.select(col(OrderRow.external_id), col(OrderRow.status))
        ).all()
    return sorted((str(r[0]), str(r[1])) for r in rows)


def _processor(console: Console) -> WebhookProcessor:
    return webhook_processor(console)


@dataclass
class Served:
    """A console whose Tokopedia is a served simulator, its settings file and URL."""

    console: Console
    config: Path
    url: str


@pytest.fixture
def served_tokopedia(console_world: ConsoleWorld, tmp_path: Path) -> Iterator[Served]:
    """A console on the test's store whose Tokopedia is a served simulator (the
    other marketplaces on a closed port: nothing else is written to)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "600"]
    command += ["--no-rate-limits", "--latency-ms", "2", "--pictures-port", "0"]
    command += ["-m", "tokopedia", "--port", "tokopedia=0"]
    with (tmp_path / "simulate.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
    console: Console | None = None
    try:
        announced = _read_announcement(process)
        (url,) = [s["url"] for s in announced["simulators"]]
        settings = CONFIG.read_text(encoding="utf-8")
        settings = settings.replace("http://127.0.0.1:8702", url)
        for port in ("8701", "8703"):
            settings = settings.replace(f"http://127.0.0.1:{port}", CLOSED)
        settings = settings.replace('"secrets"', json.dumps(str(DEMO / "secrets")))
        config = tmp_path / "ikm-sync.toml"
        config.write_text(settings, encoding="utf-8")
        loaded = load_settings(
            config,
            environ={
                "IKMSYNC_DATABASE_URL": console_world.cli.database_url,
                "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
            },
        )
        console = Console(loaded, build_runtime(loaded))
        yield Served(console, config, url)
    finally:
        if console is not None:
            console.close()
        process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.slow
def test_deliveries_coalesce_into_one_pull_of_the_account(
    console_world: ConsoleWorld, served_tokopedia: Served
) -> None:
    app = create_app(served_tokopedia.console, seal_every=None)
    with TestClient(app) as client:
        for status in (400, 220, 500, 220):  # an older status after a newer, a repeat
            body, signature = _tokopedia(
                console_world, {**TOKOPEDIA_STATUS, "order_status": status}
            )
            client.post(
                "/webhooks/tokopedia",
                content=body,
                headers={"Authorization-Hmac": signature},
            )
        stranger = {**TOKOPEDIA_STATUS, "shop_id": 1}
        body, signature = _tokopedia(console_world, stranger)
        client.post(
            "/webhooks/tokopedia",
            content=body,
            headers={"Authorization-Hmac": signature},
        )
    assert len(_rows(console_world)) == 4  # the repeated 220 was a duplicate

    pulls, lags = _runs("orders"), _lags()
    done = _processor(served_tokopedia.console).process_once()
    assert done == {"pulled:succeeded": 3, "unknown_shop": 1}
    assert _runs("orders") == pulls + 1  # one pull for three deliveries
    assert _lags() == lags + 4
    rows = _rows(console_world)
    assert all(r.processed_at is not None for r in rows)
    assert sorted(str(r.outcome) for r in rows) == [
        "pulled:succeeded",
        "pulled:succeeded",
        "pulled:succeeded",
        "unknown_shop",
    ]
    with console_world.console.runtime.uow() as uow:
        runs = uow.runs.recent(10, account=AccountId(LAPAS_SHOP))
    assert {r.trigger for r in runs} <= {"webhook:tokopedia"}
    # nothing is processed twice
    assert _processor(served_tokopedia.console).process_once() == {}
    assert _runs("orders") == pulls + 1


def test_a_deauthorisation_marks_the_account_at_once(
    console_world: ConsoleWorld,
) -> None:
    console = console_world.console
    tokens = console.runtime.token_store()
    assert not tokens.load(AccountId(NTT_SHOP)).needs_reauthorisation
    for message in (
        {"shop_id": 265220111, "code": 2, "timestamp": 1, "data": {}},
        {"shop_id": 265220111, "code": 10, "timestamp": 2, "data": {}},
    ):
        body, signature = _shopee(console_world, message)
        answer = console_world.client.post(
            "/webhooks/shopee", content=body, headers={"Authorization": signature}
        )
        assert answer.status_code == 200
    pulls, pushes = _runs("orders"), _runs("publish")
    done = _processor(console).process_once()
    assert done == {"reauthorisation_marked": 1, "ignored": 1}
    marked = tokens.load(AccountId(NTT_SHOP))
    assert marked.needs_reauthorisation
    assert "deauthorisation" in marked.reason
    # no read, no push: the body alone changes nothing else
    assert (_runs("orders"), _runs("publish")) == (pulls, pushes)


def test_a_reserved_stock_change_pushes_the_account_only(
    console_world: ConsoleWorld,
) -> None:
    message = {
        "shop_id": 265220111,
        "code": 8,
        "timestamp": 3,
        "data": {"item_id": 1, "model_id": 2, "update_time": 3},
    }
    body, signature = _shopee(console_world, message)
    console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    pulls, pushes = _runs("orders"), _runs("publish")
    done = _processor(console_world.console).process_once()
    (outcome,) = done
    assert outcome.startswith("pushed:")
    assert done[outcome] == 1
    assert _runs("publish") == pushes + 1
    assert _runs("orders") == pulls


def test_an_order_push_is_processed_through_a_pull_not_from_its_body(
    console_world: ConsoleWorld,
) -> None:
    """The body's status is never written: the order pull (here refused: the demo
    Shopee account has no authorisation) is the only thing that happens."""
    body, signature = _shopee(console_world, SHOPEE_ORDER)
    console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    before = _orders(console_world)
    pulls = _runs("orders")
    done = _processor(console_world.console).process_once()
    (outcome,) = done
    assert outcome.startswith("pulled:")
    assert _runs("orders") == pulls + 1
    assert _orders(console_world) == before


def test_the_worker_processes_when_woken() -> None:
    processed = threading.Event()
    rounds: list[int] = []

    def process() -> dict[str, int]:
        rounds.append(1)
        if len(rounds) == 1:
            processed.set()
            return {"pulled:succeeded": 1}
        return {}

    worker = WebhookWorker(process, every=3600.0)
    worker.start()
    try:
        worker.wake()
        assert processed.wait(timeout=30), "the worker did not process when woken"
    finally:
        worker.stop()
    assert len(rounds) >= 2  # it drained: processed until a batch came back empty


def test_the_receivers_served_alone_store_and_process(
    console_world: ConsoleWorld,
) -> None:
    """``serve --webhooks-only``: no console pages, the receivers at /webhooks, the
    worker running with the application (woken by the delivery)."""
    processed = threading.Event()
    processor = webhook_processor(console_world.console)

    def process() -> dict[str, int]:
        done = processor.process_once()
        if done:
            processed.set()
        return done

    worker = WebhookWorker(process, every=3600.0)
    app = webhooks_only_app(console_world.console, worker=worker)
    message = {"shop_id": 265220111, "code": 2, "timestamp": 9, "data": {}}
    body, signature = _shopee(console_world, message)
    with TestClient(app) as client:
        assert client.get("/").status_code == 404
        assert client.get("/login").status_code == 404
        answer = client.post(
            "/webhooks/shopee", content=body, headers={"Authorization": signature}
        )
        assert answer.json() == {"result": "stored"}
        assert processed.wait(timeout=60), "the worker did not process the delivery"
    (row,) = _rows(console_world)
    assert row.outcome == "reauthorisation_marked"
    tokens = console_world.console.runtime.token_store()
    assert tokens.load(AccountId(NTT_SHOP)).needs_reauthorisation


def test_one_account_failing_does_not_hold_up_the_others(
    console_world: ConsoleWorld,
) -> None:
    """An account configured but not in the store: its deauthorisation cannot be
    marked (outcome ``failed:…``, not retried forever); the others are processed."""
    processor = webhook_processor(console_world.console)
    ghost = replace(processor.accounts[AccountId(NTT_SHOP)], id=AccountId("ghost"))
    processor.accounts = {**processor.accounts, ghost.id: ghost}
    received = console_world.console.clock.now()
    for key, account in (("a", "ghost"), ("b", NTT_SHOP)):
        processor.store.record(
            marketplace="shopee",
            delivery_key=key,
            account_key=account,
            shop_id="1",
            kind="shop_deauthorisation",
            body=b"{}",
            received_at=received,
        )
    assert processor.process_once() == {
        "failed:StoreError": 1,
        "reauthorisation_marked": 1,
    }
    assert processor.process_once() == {}
    tokens = console_world.console.runtime.token_store()
    assert tokens.load(AccountId(NTT_SHOP)).needs_reauthorisation


def test_an_account_held_elsewhere_keeps_its_deliveries_pending(
    console_world: ConsoleWorld,
) -> None:
    """While another process holds the account (e.g. the daemon's cycle), its
    deliveries wait for the next batch instead of being marked done unread."""
    message = {
        "shop_id": 265220111,
        "code": 8,
        "timestamp": 4,
        "data": {"item_id": 1, "model_id": 2, "update_time": 4},
    }
    body, signature = _shopee(console_world, message)
    console_world.client.post(
        "/webhooks/shopee", content=body, headers={"Authorization": signature}
    )
    leases = console_world.console.runtime.lease_store()
    fence = leases.acquire(
        AccountId(NTT_SHOP), f"{lease_holder()}:elsewhere", timedelta(minutes=5)
    )
    assert fence is not None
    processor = webhook_processor(console_world.console)
    lags = _lags()
    assert processor.process_once() == {}
    (row,) = _rows(console_world)
    assert row.processed_at is None
    assert _lags() == lags  # nothing processed, no lag recorded
    leases.release(fence)
    (outcome,) = processor.process_once()
    assert outcome.startswith("pushed:")
    assert _lags() == lags + 1


def _movements(world: ConsoleWorld) -> list[tuple[str, int, int]]:
    with world.console.runtime.session_factory() as session:
        rows = session.execute(
            sa.select(
                col(StockMovementRow.idempotency_key),
                col(StockMovementRow.on_hand_delta),
                col(StockMovementRow.reserved_delta),
            ).where(col(StockMovementRow.reason).like("order%"))
        ).all()
    return sorted((str(r[0]), int(r[1]), int(r[2])) for r in rows)


@pytest.mark.slow
def test_a_webhook_brings_a_buyers_order_in_once(
    console_world: ConsoleWorld, served_tokopedia: Served
) -> None:
    """Listings at the served Tokopedia, buyers order, a signed delivery names one
    of the orders: the pull it triggers stores every new order once and reserves
    their stock once; further deliveries (another status, a replay) read again and
    change nothing."""
    published = console_world.cli(
        "--config", str(served_tokopedia.config), "sync", "push",
        "--account", LAPAS_SHOP, "--actor", "officer:test",
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    answer = httpx.post(
        f"{served_tokopedia.url}/_sim/buyers", json={"orders": 2}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    placed = {str(i) for i in answer.json()["placed"]}
    assert len(placed) == 2
    first = sorted(placed)[0]
    processor = _processor(served_tokopedia.console)
    orders_before = _orders(console_world)

    app = create_app(served_tokopedia.console, seal_every=None)
    with TestClient(app) as client:
        message = {**TOKOPEDIA_STATUS, "order_id": int(first), "order_status": 220}
        body, signature = _tokopedia(console_world, message)
        stored = client.post(
            "/webhooks/tokopedia",
            content=body,
            headers={"Authorization-Hmac": signature},
        )
        assert stored.json() == {"result": "stored"}
        done = processor.process_once()
        assert done == {"pulled:succeeded": 1}
        taken = {o for o, _ in _orders(console_world)} - {o for o, _ in orders_before}
        assert placed <= taken
        movements = _movements(console_world)
        assert movements, "the orders reserved their stock"
        assert len({k for k, _, _ in movements}) == len(movements)

        for again in (400, 220):  # a newer status, then the first one replayed
            message = {
                **TOKOPEDIA_STATUS,
                "order_id": int(first),
                "order_status": again,
            }
            body, signature = _tokopedia(console_world, message)
            client.post(
                "/webhooks/tokopedia",
                content=body,
                headers={"Authorization-Hmac": signature},
            )
        assert processor.process_once() == {"pulled:succeeded": 1}
    assert _movements(console_world) == movements
    assert {o for o, _ in _orders(console_world)} - {
        o for o, _ in orders_before
    } == taken
