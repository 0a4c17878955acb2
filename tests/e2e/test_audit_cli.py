"""The auditor's commands end to end: ``audit log``, ``audit trace``, ``runs list
--since/--until`` and ``runs export``, through the command line on a real
database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.csvfile import MARK
from core.services.audit_read import EVENT_COLUMNS, RUN_ITEM_COLUMNS
from core.store.db import make_engine, make_session_factory
from core.store.uow import SqlUnitOfWork
from tests.auditkit import (
    EVENTS,
    HOSTILE,
    SKU,
    drop_event_of,
    seed_events,
    seed_runs,
    stock_story,
)
from tests.conftest import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.db]


@pytest.fixture
def factory(database_url: str) -> Iterator[Callable[[], SqlUnitOfWork]]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    yield lambda: SqlUnitOfWork(sessions)
    engine.dispose()


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def subjects(cli: Cli, *args: str) -> list[str]:
    result = cli("audit", "log", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [event["subject"] for event in lines(result.stdout)]


def test_audit_log_filters_through_the_command_line(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    seed_events(factory)
    every = [e.subject for e in EVENTS]
    assert subjects(cli) == every
    assert subjects(cli, "--since", "2026-11-02") == every[2:]
    assert subjects(cli, "--until", "2026-11-02") == every[:4]  # a date: its whole day
    assert (
        subjects(cli, "--since", "2026-11-02T08:00", "--until", "2026-11-04 08:00")
        == every[2:6]
    )
    assert subjects(cli, "--since", "2026-11-04T15:00+07:00") == every[6:]
    assert subjects(cli, "--actor", "officer:budi") == ["sku:kopi-3", "sku:TENUN-1"]
    assert subjects(cli, "--subject", "sku:KOPI*") == [
        "sku:KOPI-1",
        "sku:KOPI-2",
        "sku:KOPI_9",
        "sku:KOPIA",
    ]
    assert subjects(cli, "--subject", "sku:KOPI-2") == ["sku:KOPI-2"]
    assert subjects(cli, "--subject", "sku:kopi-2") == ["sku:KOPI-2"]  # by its key
    assert subjects(cli, "--account", "shopee-main") == [
        "sku:KOPI_9",
        "order:shopee:1001",
    ]
    assert subjects(cli, "--kind", "stock") == [
        "sku:KOPI-1",
        "sku:KOPI_9",
        "sku:TENUN-1",
        "sku:KOPIA",
    ]
    assert subjects(cli, "--kind", "order.stored", "--limit", "5") == [
        "order:shopee:1001"
    ]
    assert subjects(cli, "--limit", "2") == every[:2]
    first = lines(cli("audit", "log", "--json", "--limit", "1").stdout)[0]
    assert set(first) == set(EVENT_COLUMNS)
    assert (first["seq"], first["after"], first["run"]) == (
        "unsealed",
        {"key": "k1"},
        None,
    )


def test_audit_log_table(cli: Cli, factory: Callable[[], SqlUnitOfWork]) -> None:
    seed_events(factory)
    result = cli("audit", "log", "--kind", "order")
    assert result.exit_code == 0, result.stderr
    assert "order:shopee:1001" in result.stdout
    assert "sku:KOPI-1" not in result.stdout
    assert "no audit event matches" in cli("audit", "log", "--actor", "x").stdout


@pytest.mark.parametrize(
    ("args", "option", "expected"),
    [
        (("--since", "2026-13-01"), "--since", "YYYY-MM-DD"),
        (("--until", "yesterday"), "--until", "YYYY-MM-DDTHH:MM"),
        (("--since", "2026-11-02T25:00"), "--since", "YYYY-MM-DD"),
        (("--since", "2026-11-03", "--until", "2026-11-02"), "--since", "empty"),
        (("--subject", "sku:*K*"), "--subject", "prefix ending in one *"),
        (("--subject", "*"), "--subject", "prefix ending in one *"),
        (("--kind", "stock."), "--kind", "kind of action"),
        (("--limit", "0"), "--limit", "1"),
        (("--json", "--csv"), "--json or --csv", "not both"),
        (("--out", "x.csv"), "--out", "--json or --csv"),
    ],
)
def test_audit_log_rejects_bad_filters_and_prints_no_data(
    cli: Cli,
    factory: Callable[[], SqlUnitOfWork],
    args: tuple[str, ...],
    option: str,
    expected: str,
) -> None:
    seed_events(factory)
    result = cli("audit", "log", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = " ".join(result.stderr.split()).replace("│", "")
    message = " ".join(message.split())
    assert option in message
    assert expected in message
    assert not Path(cli.workdir / "x.csv").exists()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_audit_log_csv_neutralises_hostile_cells(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    seed_events(factory)
    result = cli("audit", "log", "--csv", "--since", "2026-11-04T08:00")
    assert result.exit_code == 0, result.stderr
    header, tenun, kopia, evil = csv_rows(result.stdout)
    assert header == list(EVENT_COLUMNS)
    row = dict(zip(header, tenun, strict=True))
    assert row["seq"] == "unsealed"
    assert row["subject"] == "sku:TENUN-1"
    assert row["reason"] == MARK + HOSTILE
    assert row["before"].startswith('{"note":"=HYPERLINK')  # JSON text, starts with {
    assert dict(zip(header, kopia, strict=True))["actor"] == MARK + "-officer:eve"
    hostile = dict(zip(header, evil, strict=True))
    assert hostile["subject"] == MARK + "+" + HOSTILE
    assert hostile["reason"] == MARK + "@import"
    assert (
        hostile["after"]
        == '{"name":"=HYPERLINK(\\"http://evil.example\\",\\"klik\\")"}'
    )
    written = cli(
        "audit", "log", "--csv", "--since", "2026-11-04T08:00", "--out", "events.csv"
    )
    assert written.exit_code == 0, written.stderr
    assert written.stdout == ""
    on_file = csv_rows((cli.workdir / "events.csv").read_text(encoding="utf-8"))
    assert on_file == [header, tenun, kopia, evil]


def stock_show(cli: Cli) -> dict[str, Any]:
    result = cli("stock", "show", SKU, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def trace(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("audit", "trace", SKU, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_audit_trace_adds_up_to_stock_show_and_names_every_cause(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    story = stock_story(factory)
    shown, traced = stock_show(cli), trace(cli)
    figure = ("on_hand", "reserved", "available")
    assert [traced[k] for k in figure] == [shown[k] for k in figure] == [46, 0, 46]
    assert [m["movement"] for m in traced["movements"]] == sorted(
        m["id"] for m in shown["movements"]
    )
    last = traced["movements"][-1]
    assert [last[k] for k in figure] == [46, 0, 46]
    causes = [
        (m["reason"], m["marketplace"], m["order"], m["run"], m["actor"])
        for m in traced["movements"]
    ]
    assert causes == [
        ("receipt", None, None, None, "officer:ani"),
        ("receipt", None, None, None, "officer:ani"),
        ("order_reserved", "shopee", "2412A", story.order_run, "marketplace:shopee"),
        ("order_shipped", "shopee", "2412A", story.order_run, "marketplace:shopee"),
        (
            "order_reserved",
            "tokopedia",
            "TP-9",
            story.cancel_run,
            "marketplace:tokopedia",
        ),
        (
            "order_released",
            "tokopedia",
            "TP-9",
            story.cancel_run,
            "marketplace:tokopedia",
        ),
        ("adjustment", None, None, None, "officer:budi"),
    ]
    assert traced["movements"][0]["note"] == "initial stock from catalogue import"
    assert traced["movements"][-1]["note"] == HOSTILE
    assert all(m["event"] is not None for m in traced["movements"])
    assert traced["findings"] == []
    text = cli("audit", "trace", SKU.lower())
    assert text.exit_code == 0, text.stderr
    assert "on hand 46   reserved 0   available 46" in text.stdout
    assert "shopee order 2412A" in text.stdout
    assert "tokopedia order TP-9" in text.stdout
    assert "every movement is recorded by an audit event" in text.stdout


def test_audit_trace_at_a_time(cli: Cli, factory: Callable[[], SqlUnitOfWork]) -> None:
    stock_story(factory)
    then = trace(cli, "--at", "2026-11-02T10:30")  # Shopee order shipped, TP-9 not yet
    assert (then["on_hand"], then["reserved"], then["available"]) == (47, 0, 47)
    assert len(then["movements"]) == 4
    early = trace(cli, "--at", "2026-11-02T09:30")  # Shopee order reserved only
    assert (early["on_hand"], early["reserved"], early["available"]) == (50, 3, 47)
    cancelled = trace(cli, "--at", "2026-11-03T10:30:00Z")  # TP-9 reserved and released
    assert (cancelled["on_hand"], cancelled["reserved"]) == (47, 0)
    reserved = trace(cli, "--at", "2026-11-03T09:00")  # TP-9 reserved only
    assert (reserved["on_hand"], reserved["reserved"], reserved["available"]) == (
        47,
        2,
        45,
    )


def test_audit_trace_shows_a_movement_without_its_event(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    story = stock_story(factory)
    drop_event_of(factory, story.adjustment_key)
    traced = trace(cli)
    assert traced["movements"][-1]["event"] is None
    assert traced["findings"] == [
        f"movement {traced['movements'][-1]['movement']} ({story.adjustment_key}): "
        "no audit event records it"
    ]
    text = cli("audit", "trace", SKU)
    assert "MISSING" in text.stdout
    assert "1 finding(s)" in text.stdout


def test_audit_trace_refuses_an_unknown_sku_and_a_bad_time(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    stock_story(factory)
    unknown = cli("audit", "trace", "NOPE-1")
    assert unknown.exit_code == 1
    assert unknown.stdout == ""
    assert "unknown SKU 'NOPE-1'" in unknown.stderr
    bad = cli("audit", "trace", SKU, "--at", "last week")
    assert bad.exit_code == 2
    assert bad.stdout == ""
    assert "--at" in bad.stderr


def test_runs_list_takes_a_period(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    push, publish, orders = seed_runs(factory)

    def listed(*args: str) -> list[int]:
        result = cli("runs", "list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [run["id"] for run in json.loads(result.stdout)["runs"]]

    assert listed() == [orders, publish, push]
    assert listed("--since", "2026-11-03") == [orders, publish]
    assert listed("--until", "2026-11-02") == [push]
    assert listed("--since", "2026-11-03", "--until", "2026-11-03") == [publish]
    bad = cli("runs", "list", "--until", "2026-11-31")
    assert (bad.exit_code, bad.stdout) == (2, "")
    assert "--until" in bad.stderr


def test_runs_export_holds_every_item_and_the_values_sent(
    cli: Cli, factory: Callable[[], SqlUnitOfWork]
) -> None:
    push, publish, orders = seed_runs(factory)
    result = cli("runs", "export", "--csv")
    assert result.exit_code == 0, result.stderr
    header, *rows = csv_rows(result.stdout)
    assert header == list(RUN_ITEM_COLUMNS)
    found = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["run"], r["item_subject"], r["item_sent"]) for r in found] == [
        (str(push), "KOPI-1", '{"stock":12}'),
        (str(push), "KOPI-2", '{"external_id":"998877665544","stock":0}'),
        (str(publish), MARK + "@KOPI-3", '{"content_hash":"ab12","price":90000}'),
        (str(orders), "", ""),
    ]
    assert found[1]["item_error_message"] == MARK + HOSTILE
    assert found[1]["item_ok"] == "no"
    assert found[0]["account"] == found[1]["account"] == "shopee-main"
    assert found[0]["outcome"] == "partial"

    exported = cli("runs", "export", "--json", "--since", "2026-11-02")
    assert exported.exit_code == 0, exported.stderr
    runs = lines(exported.stdout)
    assert [r["id"] for r in runs] == [push, publish, orders]
    assert [i["sent"] for i in runs[0]["items"]] == [
        {"stock": 12},
        {"external_id": "998877665544", "stock": 0},
    ]
    assert runs[1]["items"][0]["subject"] == "@KOPI-3"  # JSON needs no marks

    def ids(*args: str) -> list[int]:
        out = cli("runs", "export", "--json", *args)
        assert out.exit_code == 0, out.stderr
        return [r["id"] for r in lines(out.stdout)]

    assert ids("--since", "2026-11-03") == [publish, orders]
    assert ids("--account", "shopee-main") == [push, orders]
    assert ids("--kind", "publish") == [publish]
    written = cli("runs", "export", "--csv", "--out", "runs.csv")
    assert (written.exit_code, written.stdout) == (0, "")
    on_file = csv_rows((cli.workdir / "runs.csv").read_text(encoding="utf-8"))
    assert on_file == [header, *rows]


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("--csv", "--since", "11/02/2026"), 2, "--since"),
        (("--since", "2026-11-02"), 2, "--json or --csv"),
        (("--json", "--kind", "nothing"), 2, "--kind"),
        (("--json", "--account", "nowhere"), 4, "'nowhere' is not in the store"),
    ],
)
def test_runs_export_rejects_bad_options_and_prints_no_data(
    cli: Cli,
    factory: Callable[[], SqlUnitOfWork],
    args: tuple[str, ...],
    code: int,
    expected: str,
) -> None:
    seed_runs(factory)
    result = cli("runs", "export", *args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert expected in " ".join(result.stderr.replace("│", " ").split())
