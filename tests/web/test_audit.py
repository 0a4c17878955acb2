"""The audit pages: the event log and its keyset paging, verification, the trace
of a SKU, exports equal to the command line's, and officers kept out."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from starlette.testclient import TestClient

from core.audit.query import EventFilter, Period, StoredEvent, parse_instant
from core.store.views.audit import Cursor, page_statement
from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in
from web import verifying
from web.console import Console
from web.exports import CHUNK_ROWS, Counted, csv_chunks
from web.pages.audit import recorded_export
from web.verifying import Verifier

pytestmark = pytest.mark.db

_ROW = re.compile(r'<tr data-id="(\d+)">')


def _cli(world: ConsoleWorld, *args: str) -> str:
    done = world.cli("--config", str(world.config), *args)
    assert done.exit_code == 0, done.output
    return done.stdout


def _adjust(world: ConsoleWorld, sku: str, delta: int, reason: str, actor: str) -> None:
    _cli(
        world, "stock", "adjust", sku, str(delta), "--reason", reason, "--actor", actor
    )


def _seal(world: ConsoleWorld) -> None:
    _cli(world, "audit", "seal")


def _all_events(world: ConsoleWorld) -> list[StoredEvent]:
    return list(world.console.runtime.audit_reader().events(EventFilter()))


def _newest_first(events: list[StoredEvent]) -> list[int]:
    return [e.id for e in sorted(events, key=lambda e: (e.at, e.id), reverse=True)]


def _ids(html: str) -> list[int]:
    return [int(found) for found in _ROW.findall(html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(f'<a href="([^"]+)" rel="{rel}">', html)
    return None if found is None else found.group(1).replace("&amp;", "&")


def _walk(client: TestClient, start: str, rel: str) -> list[list[int]]:
    pages = []
    url: str | None = start
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200, page.text
        pages.append(_ids(page.text))
        url = _link(page.text, rel)
    return pages


def _verifier(world: ConsoleWorld) -> Verifier:
    found = world.app.state.audit_verifier
    assert isinstance(found, Verifier)
    return found


# ------------------------------------------------------------------ the log


def test_the_log_filters_select_exactly_the_events_the_filter_defines(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    _adjust(world, "KOPI-FLR-001", 5, "count after the fair", "officer:ani")
    _adjust(world, "KOPI-FLR-002", -1, "broken bag", "officer:budi")
    _seal(world)
    sign_in(world.client, "auditor")
    everything = _all_events(world)
    accounts = sorted({e.account for e in everything if e.account is not None})
    assert accounts, "the seeded accounts recorded events of their own"
    first, last = min(e.at for e in everything), max(e.at for e in everything)
    cases: list[tuple[dict[str, str], EventFilter]] = [
        ({"actor": "officer:ani"}, EventFilter(actor="officer:ani")),
        ({"subject": "sku:kopi-flr-002"}, EventFilter(subject="sku:KOPI-FLR-002")),
        ({"subject": "sku:KOPI*"}, EventFilter(subject="sku:KOPI*")),
        ({"kind": "stock"}, EventFilter(kind="stock")),
        ({"kind": "stock.moved", "actor": "officer:budi"},
         EventFilter(kind="stock.moved", actor="officer:budi")),
        ({"account": accounts[0]}, EventFilter(account=accounts[0])),
        ({"since": first.isoformat(), "until": last.isoformat()},
         EventFilter(period=Period(first, last))),
    ]  # fmt: skip
    for params, selection in cases:
        expected = _newest_first([e for e in everything if selection.selects(e)])
        assert expected, params
        page = world.client.get("/audit", params=params)
        assert page.status_code == 200, page.text
        assert _ids(page.text) == expected[:50], params
    ani = world.client.get("/audit", params={"actor": "officer:ani"}).text
    assert "count after the fair" in ani
    assert "sku:KOPI-FLR-001" in ani
    assert "sku:KOPI-FLR-002" not in ani
    products = world.client.get("/audit", params={"kind": "product.created"}).text
    assert 'class="audit-fold"' in products  # a whole product's JSON is folded


def test_a_bad_filter_is_refused_naming_the_field(console_world: ConsoleWorld) -> None:
    sign_in(console_world.client, "auditor")
    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ({"subject": "sku:*KOPI*"}, "subject"),
        ({"older": "not-a-place"}, "older"),
    ):
        page = console_world.client.get("/audit", params=params)
        assert page.status_code == 400, params
        assert f"<strong>{field}</strong>" in page.text, params
        assert _ids(page.text) == []


def test_keyset_paging_walks_every_event_exactly_once_both_ways(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    for n in range(3):
        _adjust(world, "KOPI-FLR-001", 1, f"receipt {n}", "officer:ani")
    sign_in(world.client, "admin")
    everything = _newest_first(_all_events(world))
    assert len(everything) > 100, "enough events for three pages"
    older = _walk(world.client, "/audit", "next")
    assert len(older) == -(-len(everything) // 50)
    assert all(len(ids) == 50 for ids in older[:-1])
    assert [i for ids in older for i in ids] == everything
    last_page = world.client.get("/audit").text
    while (url := _link(last_page, "next")) is not None:
        last_page = world.client.get(url).text
    assert _link(last_page, "next") is None
    newer_start = _link(last_page, "prev")
    assert newer_start is not None
    newer = _walk(world.client, newer_start, "prev")
    walked_back = [i for ids in reversed(newer) for i in ids] + _ids(last_page)
    assert sorted(walked_back) == sorted(everything)
    assert len(walked_back) == len(set(walked_back))
    assert walked_back == everything


def test_planted_script_in_an_event_is_shown_as_text(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    planted = "<script>alert('x')</script>"
    _adjust(world, "KOPI-FLR-001", 2, planted, "officer:ani")
    sign_in(world.client, "auditor")
    for url, params in (
        ("/audit", {"subject": "sku:KOPI-FLR-001"}),
        ("/audit/trace", {"sku": "KOPI-FLR-001"}),
    ):
        page = world.client.get(url, params=params)
        assert page.status_code == 200
        assert planted not in page.text
        assert "&lt;script&gt;alert(" in page.text


# ------------------------------------------------------------ verification


def test_verify_shows_an_intact_chain_then_the_tampered_position(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    _adjust(world, "KOPI-FLR-001", 4, "stocktake", "officer:ani")
    _seal(world)
    token = sign_in(world.client, "auditor")
    before = world.client.get("/audit/verify")
    assert before.status_code == 200
    assert "Belum diverifikasi sejak konsol dijalankan." in before.text
    started = world.client.post(
        "/audit/verify", data={"csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303
    _verifier(world).join()
    intact = world.client.get("/audit/verify").text
    assert 'class="notice verify-ok"' in intact
    assert "Dijalankan oleh <strong>auditor</strong>" in intact
    shown = re.search(r'class="walked">([\d.,]+)<', intact)
    assert shown is not None
    walked = int(re.sub(r"\D", "", shown.group(1)))
    sealed = [e for e in _all_events(world) if e.seq is not None]
    assert walked == len(sealed)

    victim = next(e for e in sealed if e.action == "stock.moved")
    with world.console.runtime.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_events SET after = :after WHERE id = :id"),
            {"after": '{"on_hand":4000}', "id": victim.id},
        )
    world.client.post("/audit/verify", data={"csrf_token": token})
    _verifier(world).join()
    broken = world.client.get("/audit/verify").text
    assert 'class="error verify-broken"' in broken
    assert f'class="broken-seq">{victim.seq}<' in broken


def test_no_csrf_no_verification(console_world: ConsoleWorld) -> None:
    sign_in(console_world.client, "auditor")
    refused = console_world.client.post("/audit/verify", data={})
    assert refused.status_code == 403
    assert getattr(console_world.app.state, "audit_verifier", None) is None


# ------------------------------------------------------------------ trace


def test_the_trace_is_the_command_lines(console_world: ConsoleWorld) -> None:
    world = console_world
    _adjust(world, "KOPI-FLR-003", 7, "received from the roaster", "officer:ani")
    _adjust(world, "KOPI-FLR-003", -2, "tasting samples", "officer:budi")
    sign_in(world.client, "auditor")
    _seal(world)
    expected = json.loads(_cli(world, "audit", "trace", "KOPI-FLR-003", "--json"))
    answer = world.client.get(
        "/audit/trace", params={"sku": "kopi-flr-003", "format": "json"}
    )
    assert answer.status_code == 200
    assert answer.json() == expected
    page = world.client.get("/audit/trace", params={"sku": "KOPI-FLR-003"}).text
    assert f'class="on-hand">{expected["on_hand"]}<' in page
    assert "tasting samples" in page
    assert page.count("<tr>") - 1 == len(expected["movements"])  # minus the head
    for step in expected["movements"]:
        assert f"→ {step['on_hand']}</td>" in page


def test_an_unknown_sku_is_not_found(console_world: ConsoleWorld) -> None:
    sign_in(console_world.client, "auditor")
    page = console_world.client.get("/audit/trace", params={"sku": "NOPE-404"})
    assert page.status_code == 404
    assert "no product has the SKU" in page.text
    bad = console_world.client.get(
        "/audit/trace", params={"sku": "KOPI-FLR-001", "at": "soon"}
    )
    assert bad.status_code == 400
    assert "<strong>at</strong>" in bad.text


# ------------------------------------------------------------------ exports


def _exported(world: ConsoleWorld) -> list[dict[str, object]]:
    reader = world.console.runtime.audit_reader()
    return [
        {"actor": e.actor, "subject": e.subject, **json.loads(e.after or "{}")}
        for e in reader.events(EventFilter(kind="audit.exported"))
    ]


def test_exports_equal_the_command_lines_files_and_are_recorded(
    console_world: ConsoleWorld, tmp_path: Path
) -> None:
    world = console_world
    _adjust(world, "KOPI-FLR-001", 3, "recount, ok", "officer:ani")
    _adjust(world, "KOPI-FLR-002", 2, 'quoted "reason"', "officer:budi")
    sign_in(world.client, "auditor")
    _seal(world)
    period = ("--since", "2000-01-01", "--until", "2100-12-31")
    filters = {"since": "2000-01-01", "until": "2100-12-31", "kind": "stock"}
    files = {
        ("events", "csv"): ("audit", "log", *period, "--kind", "stock", "--csv"),
        ("events", "jsonl"): ("audit", "log", *period, "--kind", "stock", "--json"),
        ("runs", "csv"): ("runs", "export", *period, "--csv"),
        ("runs", "jsonl"): ("runs", "export", *period, "--json"),
    }
    for (what, fmt), args in files.items():
        out = tmp_path / f"{what}.{fmt}"
        _cli(world, *args, "--out", str(out))
        params = {**filters, "what": what, "format": fmt}
        if what == "runs":
            del params["kind"]
        answer = world.client.get("/audit/export", params=params)
        assert answer.status_code == 200, answer.text
        assert answer.content == out.read_bytes(), (what, fmt)
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="ikm-sync-{what}-2000-01-01-to-2100-12-31.{fmt}"'
        )
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2
    assert {json.loads(line)["action"] for line in lines} <= {"stock.moved", "stock"}
    recorded = _exported(world)
    assert [(r["actor"], r["subject"], r["format"]) for r in recorded] == [
        ("console:auditor", "export:events", "csv"),
        ("console:auditor", "export:events", "jsonl"),
        ("console:auditor", "export:runs", "csv"),
        ("console:auditor", "export:runs", "jsonl"),
    ]
    assert recorded[0]["rows"] == len(lines)
    assert recorded[0]["filters"] == filters
    assert recorded[0]["complete"] is True


def test_a_bad_export_request_exports_nothing(console_world: ConsoleWorld) -> None:
    sign_in(console_world.client, "admin")
    for params in (
        {"what": "secrets", "format": "csv"},
        {"what": "events", "format": "xlsx"},
        {"what": "events", "format": "csv", "since": "last week"},
        {"what": "runs", "format": "csv", "kind": "everything"},
        {"what": "runs", "format": "csv", "account": "no-such-shop"},
    ):
        answer = console_world.client.get("/audit/export", params=params)
        assert answer.status_code == 400, params
        assert "attachment" not in answer.headers.get("content-disposition", "")
    assert _exported(console_world) == []


# ------------------------------------------------------------------ access


def test_officers_get_403_on_every_audit_route_and_no_data(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    _adjust(world, "KOPI-FLR-001", 1, "for the log", "officer:ani")
    for name in ("officer.ntt", "officer.lapas"):
        client = world.browser()
        token = sign_in(client, name)
        for url, params in (
            ("/audit", {}),
            ("/audit", {"subject": "sku:KOPI*"}),
            ("/audit/verify", {}),
            ("/audit/trace", {"sku": "KOPI-FLR-001"}),
            ("/audit/trace", {"sku": "KOPI-FLR-001", "format": "json"}),
            ("/audit/export", {"what": "events", "format": "csv"}),
            ("/audit/export", {"what": "events", "format": "jsonl"}),
            ("/audit/export", {"what": "runs", "format": "csv"}),
        ):
            answer = client.get(url, params=params)
            assert answer.status_code == 403, (name, url, params)
            assert "for the log" not in answer.text
            assert "stock.moved" not in answer.text
            assert "seq,at,actor" not in answer.text
        posted = client.post("/audit/verify", data={"csrf_token": token})
        assert posted.status_code == 403
        home = client.get("/").text
        assert 'href="/audit"' not in home
    assert getattr(world.app.state, "audit_verifier", None) is None
    assert _exported(world) == []


def test_the_log_shows_times_and_parses_them_as_the_command_line(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    sign_in(world.client, "auditor")
    everything = _all_events(world)
    day = min(e.at for e in everything).date().isoformat()
    selection = EventFilter(
        period=Period(parse_instant(day), parse_instant(day, end=True))
    )
    expected = _newest_first([e for e in everything if selection.selects(e)])
    page = world.client.get("/audit", params={"since": day, "until": day})
    assert _ids(page.text) == expected[:50]


def _with_checkpoints(world: ConsoleWorld, directory: Path, key: str) -> None:
    loaded = world.console.loaded
    settings = loaded.settings
    world.console.loaded = replace(
        loaded,
        settings=settings.model_copy(
            update={
                "audit_key": SecretStr(key),
                "audit": settings.audit.model_copy(
                    update={"checkpoint_dir": directory}
                ),
            }
        ),
    )


def _new_key(world: ConsoleWorld) -> str:
    return str(json.loads(_cli(world, "audit", "key", "--json"))["private_key"])


def test_verify_checks_the_latest_checkpoint_with_the_configured_key(
    console_world: ConsoleWorld, tmp_path: Path
) -> None:
    world = console_world
    key, other = _new_key(world), _new_key(world)
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    older = directory / "checkpoint-000000000001-a.json"
    latest = directory / "checkpoint-000000000002-b.json"
    for path, signer in ((older, other), (latest, key)):
        done = world.cli(
            "--config", str(world.config), "audit", "checkpoint", "--out", str(path),
            env={"IKMSYNC_AUDIT_KEY": signer},
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    signed = json.loads(latest.read_text(encoding="utf-8"))
    _with_checkpoints(world, directory, key)
    token = sign_in(world.client, "admin")
    world.client.post("/audit/verify", data={"csrf_token": token})
    _verifier(world).join()
    report = _verifier(world).last
    assert report is not None
    assert report.checkpoint is not None
    assert (report.checkpoint.seq, report.checkpoint.holds) == (signed["seq"], True)
    page = world.client.get("/audit/verify").text
    assert f'posisi {signed["seq"]}: <span class="good">sesuai</span>' in page

    _with_checkpoints(world, directory, other)  # the latest is not signed by it
    world.client.post("/audit/verify", data={"csrf_token": token})
    _verifier(world).join()
    refused = _verifier(world).last
    assert refused is not None
    assert refused.checkpoint is not None
    assert refused.checkpoint.holds is None
    assert "refused" in (refused.checkpoint.problem or "")
    assert refused.ok  # the chain itself still holds


def test_an_export_stopped_part_way_is_recorded_as_incomplete(
    console_world: ConsoleWorld,
) -> None:
    world = console_world
    counted = Counted()
    chunks = csv_chunks(["n"], ([n] for n in range(CHUNK_ROWS * 3)), counted)
    stream = recorded_export(
        world.console,
        "console:auditor",
        "events",
        "csv",
        {"kind": "x"},
        chunks,
        counted,
    )
    next(stream)
    stream.close()  # the browser went away
    [recorded] = _exported(world)
    assert recorded["actor"] == "console:auditor"
    assert recorded["complete"] is False
    assert recorded["rows"] == CHUNK_ROWS


def test_one_verification_at_a_time_and_the_page_says_it_runs(
    console_world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = console_world
    release = threading.Event()
    calls: list[str] = []
    real = verifying.verify

    def held(console: Console, by: str) -> verifying.VerifyReport:
        calls.append(by)
        release.wait()
        return real(console, by)

    monkeypatch.setattr(verifying, "verify", held)
    token = sign_in(world.client, "auditor")
    other = world.browser()
    other_token = sign_in(other, "admin")
    try:
        world.client.post("/audit/verify", data={"csrf_token": token})
        other.post("/audit/verify", data={"csrf_token": other_token})
        running = other.get("/audit/verify").text
        assert "Sedang memverifikasi, dimulai oleh auditor" in running
        assert 'hx-get="/audit/verify"' in running
        assert '<button type="submit" disabled>' in running
    finally:
        release.set()
    _verifier(world).join()
    assert calls == ["auditor"]  # the admin's request started no second run
    done = other.get("/audit/verify").text
    assert 'class="notice verify-ok"' in done
    assert "hx-get" not in done


def test_a_page_of_the_log_is_served_by_the_filters_index(
    console_world: ConsoleWorld,
) -> None:
    """PostgreSQL answers each filter's page, past a cursor, from its index (with
    sequential scans priced out, as on a table of millions)."""
    engine = console_world.console.runtime.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    cursor = Cursor(parse_instant("2026-12-01T08:00"), 1000)
    expected = {
        "none": (EventFilter(), "ix_audit_events_at"),
        "actor": (EventFilter(actor="officer:ani"), "ix_audit_events_actor_at"),
        "subject": (EventFilter(subject="sku:KOPI-1"), "ix_audit_events_subject_at"),
        "account": (EventFilter(account="shopee-main"), "ix_audit_events_account_at"),
        "kind": (EventFilter(kind="stock.moved"), "ix_audit_events_action_at"),
    }
    with engine.connect() as connection:
        connection.execute(sa.text("SET enable_seqscan = off"))
        for name, (selection, index) in expected.items():
            for older in (True, False):
                compiled = page_statement(selection, cursor, older=older).compile(
                    dialect=engine.dialect, compile_kwargs={"literal_binds": True}
                )
                plan = "\n".join(
                    row[0] for row in connection.execute(sa.text(f"EXPLAIN {compiled}"))
                )
                assert index in plan, f"{name}: {plan}"
                assert "Seq Scan" not in plan, f"{name}: {plan}"
