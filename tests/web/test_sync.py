"""The sync pages: the plan per shop as ``sync plan`` shows it, "sync now" against
a served simulator, the runs and their items, in scope."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from config import load_settings
from core.domain.ids import AccountId
from core.domain.runs import RunItem
from core.domain.sync import SyncKind
from core.services.runs import RunRecorder
from ikm_sync.bootstrap import build_runtime
from tests.e2e.test_simulate import IKM_SYNC, _read_announcement
from tests.fakes import TEST_TOKEN_KEY
from tests.web.conftest import CONFIG, DEMO, ConsoleWorld
from tests.web.kit import sign_in
from web.app import create_app
from web.console import Console
from web.i18n import SHOWN_ZONE
from web.sync_jobs import SyncJob, SyncJobs

pytestmark = pytest.mark.db

NTT_SHOP = AccountId("shopee-ntt-flores")
LAPAS_SHOP = AccountId("tokopedia-karya-lapas")
EVERYONE_SHOP = AccountId("bukalapak-esmart-ikm")
ACCOUNTS = (NTT_SHOP, LAPAS_SHOP, EVERYONE_SHOP)
CHANGES = ("resolve", "create", "update", "deactivate", "price", "stock")
SCRIPT = "<script>alert(1)</script>"
#: Seconds a "sync now" against the simulator may take before the test fails.
SYNC_TIMEOUT = 120


def cli_plan(world: ConsoleWorld, account: str) -> dict[str, Any]:
    result = world.cli(
        "--config", str(world.config), "sync", "plan", "--account", account, "--json"
    )
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.output)["accounts"]
    return dict(plan)


def page_counts(html: str) -> dict[str, int]:
    """The plan counts of a shop's row (``/sync/{account}/counts``)."""
    cells = re.findall(r'data-change="(\w+)">([\d.]+)<', html)
    return {change: int(value.replace(".", "")) for change, value in cells}


def run_ids(world: ConsoleWorld) -> list[int]:
    with world.console.runtime.uow() as uow:
        return [r.id for r in uow.runs.recent(1000)]


def test_the_plan_page_shows_what_sync_plan_shows(console_world: ConsoleWorld) -> None:
    client = console_world.client
    sign_in(client, "admin")
    page = client.get("/sync")
    assert page.status_code == 200
    for account in ACCOUNTS:
        # the row loads its counts on its own
        assert f'hx-get="/sync/{account}/counts"' in page.text
        row = client.get(f"/sync/{account}/counts")
        assert row.status_code == 200
        assert row.text.lstrip().startswith(f'<tr id="plan-{account}"')
        assert page_counts(row.text) == cli_plan(console_world, account)["counts"]
    assert sum(cli_plan(console_world, LAPAS_SHOP)["counts"].values()) > 0
    assert run_ids(console_world) == []  # planning sends and records nothing


def test_the_plan_details_list_every_change_with_sku_and_value(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.lapas")
    expected = cli_plan(console_world, LAPAS_SHOP)
    page = client.get(f"/sync/{LAPAS_SHOP}")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr data-change="(\w+)"><td>[^<]*</td><td>([^<]+)</td><td>([^<]*)</td></tr>',
        page.text,
    )
    shown = sorted((kind, sku) for kind, sku, _ in rows)
    wanted = sorted(
        [("resolve", sku) for sku in expected["resolve"]]
        + [(kind, item["sku"]) for kind in CHANGES[1:] for item in expected[kind]]
    )
    assert wanted
    assert shown == wanted
    assert 'href="/sync/tokopedia-karya-lapas?offset=' not in page.text  # one page
    bad = client.get(f"/sync/{LAPAS_SHOP}", params={"offset": "-1"})
    assert bad.status_code == 400
    assert "offset: expected a whole number from 0" in bad.text
    creates = {sku: value for kind, sku, value in rows if kind == "create"}
    for item in expected["create"]:
        assert creates[item["sku"]] == f"price {item['price']}, stock {item['stock']}"


def test_an_officer_sees_and_plans_only_shops_in_scope(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.lapas")
    page = client.get("/sync")
    assert f'href="/sync/{LAPAS_SHOP}"' in page.text
    assert f'href="/sync/{NTT_SHOP}"' not in page.text
    assert f'href="/sync/{EVERYONE_SHOP}"' not in page.text
    for account in (NTT_SHOP, EVERYONE_SHOP, "no-such-shop"):
        assert client.get(f"/sync/{account}").status_code == 404
        assert client.get(f"/sync/{account}/counts").status_code == 404
    assert client.get("/sync/runs", params={"shop": NTT_SHOP}).status_code == 404


def test_sync_now_out_of_scope_or_by_an_auditor_runs_nothing(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = sign_in(client, "officer.lapas")
    for account in (NTT_SHOP, EVERYONE_SHOP):
        answer = client.post(f"/sync/{account}/now", data={"csrf_token": token})
        assert answer.status_code == 404
    auditor = console_world.browser()
    token = sign_in(auditor, "auditor")
    assert "/now" not in auditor.get("/sync").text
    answer = auditor.post(f"/sync/{LAPAS_SHOP}/now", data={"csrf_token": token})
    assert answer.status_code == 403
    assert getattr(console_world.app.state, "sync_jobs", None) is None
    assert run_ids(console_world) == []


def test_sync_now_while_the_daemon_holds_the_shop_says_it_is_busy(
    console_world: ConsoleWorld,
) -> None:
    leases = console_world.console.runtime.lease_store()
    held = leases.acquire(LAPAS_SHOP, "daemon@elsewhere", timedelta(minutes=10))
    assert held is not None
    client = console_world.client
    token = sign_in(client, "officer.lapas")
    answer = client.post(
        f"/sync/{LAPAS_SHOP}/now", data={"csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    key = answer.headers["location"].removeprefix("/sync/jobs/")
    jobs: SyncJobs = console_world.app.state.sync_jobs
    job = jobs.get(key)
    assert job is not None
    assert job.wait(SYNC_TIMEOUT)
    page = client.get(f"/sync/jobs/{key}")
    assert 'data-state="busy"' in page.text
    assert "hx-trigger" not in page.text  # finished: the page stops looking
    part = client.get(f"/sync/jobs/{key}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<section id="job"')  # htmx swaps it in
    assert run_ids(console_world) == []
    # another officer's scope does not reach the job's page
    other = console_world.browser()
    sign_in(other, "officer.ntt")
    assert other.get(f"/sync/jobs/{key}").status_code == 404


def _recorded_run(world: ConsoleWorld, account: AccountId | None) -> int:
    console = world.console
    factory = console.runtime.uow_factory()
    recorder = RunRecorder(
        factory, console.clock, SyncKind.PUBLISH, account, "manual:officer:test"
    )
    run_id = recorder.start()
    with factory() as uow:
        recorder.add(
            uow,
            [
                RunItem(
                    subject="AKARJATI-PTK-001",
                    operation="create",
                    ok=False,
                    at=console.clock.now(),
                    error_code="invalid",
                    error_message=f"name refused: {SCRIPT}",
                )
            ],
        )
        uow.commit()
    recorder.finish()
    return run_id


def test_a_run_shows_its_items_escaped_and_only_in_scope(
    console_world: ConsoleWorld,
) -> None:
    lapas_run = _recorded_run(console_world, LAPAS_SHOP)
    ntt_run = _recorded_run(console_world, NTT_SHOP)
    client = console_world.client
    sign_in(client, "officer.lapas")
    page = client.get(f"/sync/runs/{lapas_run}")
    assert page.status_code == 200
    assert "AKARJATI-PTK-001" in page.text
    assert SCRIPT not in page.text
    assert "name refused: &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert client.get(f"/sync/runs/{ntt_run}").status_code == 404
    listed = client.get("/sync/runs")
    assert f'href="/sync/runs/{lapas_run}"' in listed.text
    assert f'href="/sync/runs/{ntt_run}"' not in listed.text


def test_runs_of_no_account_are_for_admins_and_auditors_only(
    console_world: ConsoleWorld,
) -> None:
    run_id = _recorded_run(console_world, None)
    officer = console_world.client
    sign_in(officer, "officer.lapas")
    assert officer.get(f"/sync/runs/{run_id}").status_code == 404
    assert f'href="/sync/runs/{run_id}"' not in officer.get("/sync/runs").text
    auditor = console_world.browser()
    sign_in(auditor, "auditor")
    assert auditor.get(f"/sync/runs/{run_id}").status_code == 200


def test_runs_filter_and_refuse_bad_filters(console_world: ConsoleWorld) -> None:
    lapas_run = _recorded_run(console_world, LAPAS_SHOP)
    ntt_run = _recorded_run(console_world, NTT_SHOP)
    client = console_world.client
    sign_in(client, "admin")

    def listed(**params: str) -> set[int]:
        page = client.get("/sync/runs", params=params)
        assert page.status_code == 200
        return {int(i) for i in re.findall(r'href="/sync/runs/(\d+)"', page.text)}

    assert listed() == {lapas_run, ntt_run}
    assert listed(shop=NTT_SHOP) == {ntt_run}
    assert listed(kind="publish", outcome="partial") == set()
    assert listed(kind="orders") == set()
    assert listed(trigger="officer:test") == {lapas_run, ntt_run}
    assert listed(trigger="schedule") == set()
    # days are Jakarta days
    today = console_world.console.clock.now().astimezone(SHOWN_ZONE).date()
    assert listed(**{"from": str(today), "to": str(today)}) == {lapas_run, ntt_run}
    yesterday = str(today - timedelta(days=1))
    assert listed(**{"from": yesterday, "to": yesterday}) == set()
    assert listed(**{"from": str(today + timedelta(days=1))}) == set()
    bad = client.get("/sync/runs", params={"kind": "everything"})
    assert bad.status_code == 400
    assert "kind: expected one of" in bad.text
    assert client.get("/sync/runs", params={"to": "soon"}).status_code == 400


# ------------------------------------------------------------ sync now, served


@pytest.fixture
def served_console(
    console_world: ConsoleWorld, tmp_path: Path
) -> Iterator[tuple[TestClient, str, Any]]:
    """A console on ``console_world``'s store whose Tokopedia is a served
    ``ikm-sync simulate``: its client, the simulator's URL and the application."""
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
        app = create_app(console, seal_every=None)
        with TestClient(app) as client:
            yield client, url, app
    finally:
        if console is not None:
            console.close()
        process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.slow
def test_sync_now_creates_the_listings_as_the_officer(
    console_world: ConsoleWorld, served_console: tuple[TestClient, str, Any]
) -> None:
    client, url, app = served_console
    planned = cli_plan(console_world, LAPAS_SHOP)
    assert planned["counts"]["create"] > 0
    token = sign_in(client, "officer.lapas")
    answer = client.post(
        f"/sync/{LAPAS_SHOP}/now", data={"csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/sync/jobs/")
    job = app.state.sync_jobs.get(location.removeprefix("/sync/jobs/"))
    assert job is not None
    assert job.wait(SYNC_TIMEOUT), "the sync did not finish"
    page = client.get(location)
    assert 'data-state="finished"' in page.text, page.text
    assert [(r.kind.value, r.outcome.value) for r in job.reports] == [
        ("orders", "succeeded"),
        ("publish", "succeeded"),
    ]
    with console_world.console.runtime.uow() as uow:
        runs = uow.runs.recent(10, account=LAPAS_SHOP)
    assert {r.trigger for r in runs} == {"manual:console:officer.lapas"}
    assert {r.id for r in runs} == {r.run_id for r in job.reports}
    for report in job.reports:
        assert f'href="/sync/runs/{report.run_id}"' in page.text
    listings = httpx.get(f"{url}/_sim/listings", timeout=30).json()["listings"]
    assert sorted(str(x["sku"]) for x in listings) == sorted(
        item["sku"] for item in planned["create"]
    )
    assert cli_plan(console_world, LAPAS_SHOP)["counts"]["create"] == 0
    mine = client.get("/sync/runs", params={"trigger": "console:officer.lapas"})
    assert all(f'href="/sync/runs/{r.id}"' in mine.text for r in runs)


def _sync_now(client: TestClient, app: Any, token: str, account: str) -> list[Any]:
    answer = client.post(
        f"/sync/{account}/now", data={"csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    job = app.state.sync_jobs.get(
        answer.headers["location"].removeprefix("/sync/jobs/")
    )
    assert job is not None
    assert job.wait(SYNC_TIMEOUT), "the sync did not finish"
    assert not job.error, job.error
    return list(job.reports)


@pytest.mark.slow
def test_an_oversold_order_is_cancelled_on_the_marketplace_from_the_console(
    console_world: ConsoleWorld, served_console: tuple[TestClient, str, Any]
) -> None:
    client, url, app = served_console
    token = sign_in(client, "officer.lapas")
    _sync_now(client, app, token, LAPAS_SHOP)  # the listings are created
    placed = httpx.post(f"{url}/_sim/buyers", json={"orders": 1}, timeout=30)
    assert placed.status_code == 200, placed.text
    (order_id,) = [str(i) for i in placed.json()["placed"]]
    shown = httpx.get(f"{url}/_sim/orders", timeout=30).json()["orders"]
    (order,) = [o for o in shown if str(o["order_id"]) == order_id]
    (line,) = order["lines"]
    sku = str(line["sku"])
    # the store has none of it left: the order reserves beyond what is on hand
    result = console_world.cli("stock", "show", sku, "--json")
    assert result.exit_code == 0, result.output
    on_hand = int(json.loads(result.output)["on_hand"])
    removed = console_world.cli(
        "stock",
        "adjust",
        sku,
        str(-on_hand),
        "--reason",
        "count",
        "--actor",
        "officer:test",
    )
    assert removed.exit_code == 0, removed.output
    _sync_now(client, app, token, LAPAS_SHOP)  # the order is pulled, oversold
    queue = client.get("/orders/oversold")
    assert f'data-order="{order_id}"' in queue.text
    assert 'action="/orders/oversold/cancel"' in queue.text
    answer = client.post(
        "/orders/oversold/cancel",
        data={
            "csrf_token": token,
            "account": LAPAS_SHOP,
            "order": order_id,
            "reason": "out_of_stock",
            "note": "none left",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    with console_world.console.runtime.uow() as uow:
        stored = uow.orders.get_many(LAPAS_SHOP, [order_id])[order_id]
    assert stored.settlement is not None
    assert stored.settlement.kind.value == "cancelled"
    assert stored.settlement.actor == "console:officer.lapas"
    assert stored.status.value == "cancelled"
    again = client.post(
        "/orders/oversold/cancel",
        data={"csrf_token": token, "account": LAPAS_SHOP, "order": order_id},
    )
    assert again.status_code == 409
    assert "already settled" in again.text


def test_a_running_sync_is_polled_and_not_started_twice(
    console_world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def held_run(_jobs: SyncJobs, job: SyncJob) -> None:  # the cycle, held open
        release.wait(SYNC_TIMEOUT)
        job.done.set()

    monkeypatch.setattr(SyncJobs, "_run", held_run)
    client = console_world.client
    token = sign_in(client, "officer.lapas")
    first = client.post(
        f"/sync/{LAPAS_SHOP}/now", data={"csrf_token": token}, follow_redirects=False
    )
    second = client.post(
        f"/sync/{LAPAS_SHOP}/now", data={"csrf_token": token}, follow_redirects=False
    )
    assert first.headers["location"] == second.headers["location"]
    running = client.get(first.headers["location"])
    assert 'data-state="running"' in running.text
    assert 'hx-trigger="every 2s"' in running.text
    release.set()
    job = console_world.app.state.sync_jobs.get(
        first.headers["location"].removeprefix("/sync/jobs/")
    )
    assert job.wait(SYNC_TIMEOUT)
    done = client.get(first.headers["location"])
    assert 'data-state="running"' not in done.text
    assert "hx-trigger" not in done.text
