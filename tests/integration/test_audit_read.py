"""The auditor's readers on a real database: every filter of ``audit log``
selects exactly its events, the trace of a SKU adds up to the ledger's level and
names every cause, the runs archive holds every item and the values sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.audit.query import EventFilter, Period, StoredEvent
from core.domain.sync import SyncKind
from core.errors import StoreError, UnknownSkuError
from core.services.audit_read import event_row
from core.services.trace import trace_stock
from core.store.audit_read import (
    SqlAuditReader,
    SqlRunArchive,
    events_statement,
    orders_by_code_point,
)
from core.store.db import make_session_factory
from tests.auditkit import (
    EVENTS,
    HOSTILE,
    SHOPEE,
    SKU,
    TOKOPEDIA,
    Factory,
    at,
    drop_event_of,
    seed_events,
    seed_runs,
    stock_story,
)

pytestmark = pytest.mark.db


def _reader(engine: sa.Engine) -> SqlAuditReader:
    return SqlAuditReader(make_session_factory(engine))


#: Each filter and the positions in ``EVENTS`` it must select, written out by hand.
CASES = [
    (EventFilter(), [0, 1, 2, 3, 4, 5, 6, 7, 8]),
    (EventFilter(Period(since=at(1))), [2, 3, 4, 5, 6, 7, 8]),
    (EventFilter(Period(until=at(1))), [0, 1]),  # until is exclusive
    (EventFilter(Period(at(1), at(2, 23))), [2, 3, 4]),
    (EventFilter(actor="officer:ani"), [0, 1, 8]),
    (EventFilter(actor="officer"), []),  # exact, not a prefix
    (EventFilter(subject="sku:KOPI-1"), [0]),
    (EventFilter(subject="sku:KOPI"), []),  # exact without the *
    (EventFilter(subject="sku:KOPI*"), [0, 1, 2, 7]),  # not sku:kopi-3
    (EventFilter(subject="sku:KOPI_*"), [2]),  # _ is no wildcard
    (EventFilter(subject="order:*"), [3]),
    (EventFilter(subject="+=HYPERLINK*"), [8]),
    (EventFilter(kind="product"), [1, 8]),
    (EventFilter(account="shopee-main"), [2, 3]),
    (EventFilter(account="tokopedia-main"), [5, 7]),
    (EventFilter(kind="stock"), [0, 2, 6, 7]),  # not stocktake.done
    (EventFilter(kind="stock.moved"), [0, 2, 6, 7]),
    (EventFilter(kind="stocktake"), [4]),
    (EventFilter(kind="run.started"), [5]),
    (EventFilter(kind="run.start"), []),
    (
        EventFilter(Period(since=at(1)), actor="marketplace:shopee", kind="stock"),
        [2],
    ),
    (EventFilter(subject="sku:*", account="tokopedia-main", kind="stock"), [7]),
    (EventFilter(limit=3), [0, 1, 2]),
    (EventFilter(Period(since=at(2)), limit=2), [4, 5]),
]


@pytest.mark.parametrize(("selection", "expected"), CASES)
def test_each_filter_selects_exactly_its_events(
    sql_uow: Factory, engine: sa.Engine, selection: EventFilter, expected: list[int]
) -> None:
    ids = seed_events(sql_uow)
    found = list(_reader(engine).events(selection))
    assert [e.id for e in found] == [ids[i] for i in expected]
    # the pure filter agrees with the database's (the fake's and exports' rule)
    every = list(_reader(engine).events(EventFilter()))
    unlimited = EventFilter(
        selection.period,
        selection.actor,
        selection.subject,
        selection.account,
        selection.kind,
    )
    assert [e.id for e in every if unlimited.selects(e)][: selection.limit] == [
        e.id for e in found
    ]


@pytest.mark.parametrize(("selection", "expected"), CASES)
def test_without_index_ranges_prefixes_select_the_same(
    sql_uow: Factory, engine: sa.Engine, selection: EventFilter, expected: list[int]
) -> None:
    """On a PostgreSQL database with a linguistic collation prefixes are LIKE
    alone (SQLite's LIKE ignores case, so SQLite always has the ranges)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite orders by code point: prefixes always have ranges")
    ids = seed_events(sql_uow)
    with engine.connect() as connection:
        found = connection.execute(events_statement(selection, ranges=False))
        assert [row[0] for row in found] == [ids[i] for i in expected]


def test_the_test_databases_order_text_by_code_point(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        assert orders_by_code_point(connection)


def test_events_come_back_as_written(sql_uow: Factory, engine: sa.Engine) -> None:
    seed_events(sql_uow)
    found = list(_reader(engine).events(EventFilter(subject="sku:TENUN-1")))
    assert len(found) == 1
    event = found[0]
    source = EVENTS[6]
    assert (event.seq, event.at, event.actor, event.action, event.reason) == (
        None,
        source.at,
        "officer:budi",
        "stock.moved",
        HOSTILE,
    )
    assert event.before == '{"note":"=HYPERLINK(\\"http://evil.example\\",\\"klik\\")"}'
    row = event_row(event)
    assert row[0] == "unsealed"
    assert row[8] == event.before


def test_the_stream_reads_in_batches_not_all_at_once(
    sql_uow: Factory, engine: sa.Engine
) -> None:
    seed_events(sql_uow)
    stream = _reader(engine).events(EventFilter())
    first = next(stream)  # the rest is still in the cursor
    assert isinstance(first, StoredEvent)
    assert len(list(stream)) == len(EVENTS) - 1


def test_trace_adds_up_to_the_ledger_and_names_every_cause(
    sql_uow: Factory, engine: sa.Engine
) -> None:
    story = stock_story(sql_uow)
    trace = trace_stock(_reader(engine), SKU.lower())
    with sql_uow() as uow:
        level = uow.stock.level(SKU)
    assert trace.level == level
    assert (level.on_hand, level.reserved, level.available) == (46, 0, 46)
    assert [(s.level.on_hand, s.level.reserved) for s in trace.steps] == [
        (on_hand, reserved) for _, on_hand, reserved in story.figures
    ]
    causes = [
        (s.movement.reason.value, s.order, s.marketplace, s.run_id) for s in trace.steps
    ]
    assert causes == [
        ("receipt", None, None, None),
        ("receipt", None, None, None),
        ("order_reserved", "2412A", "shopee", story.order_run),
        ("order_shipped", "2412A", "shopee", story.order_run),
        ("order_reserved", "TP-9", "tokopedia", story.cancel_run),
        ("order_released", "TP-9", "tokopedia", story.cancel_run),
        ("adjustment", None, None, None),
    ]
    assert [s.account for s in trace.steps][2:6] == [
        SHOPEE,
        SHOPEE,
        TOKOPEDIA,
        TOKOPEDIA,
    ]
    assert "initial stock from catalogue import" in trace.steps[0].cause
    assert "products.csv, row 2" in trace.steps[0].cause
    assert trace.steps[6].cause == f"adjustment ({HOSTILE})"
    assert [s.movement.actor for s in trace.steps] == [
        "officer:ani",
        "officer:ani",
        "marketplace:shopee",
        "marketplace:shopee",
        "marketplace:tokopedia",
        "marketplace:tokopedia",
        "officer:budi",
    ]
    assert trace.unrecorded == ()
    assert trace.orphan_events == ()


def test_trace_at_a_time_gives_the_figure_then(
    sql_uow: Factory, engine: sa.Engine
) -> None:
    story = stock_story(sql_uow)
    reader = _reader(engine)
    for when, on_hand, reserved in story.figures:
        trace = trace_stock(reader, SKU, when + timedelta(minutes=30))
        assert (trace.level.on_hand, trace.level.reserved) == (on_hand, reserved)
    before = trace_stock(reader, SKU, story.figures[0][0] - timedelta(seconds=1))
    assert (before.level.on_hand, before.steps) == (0, ())


def test_trace_names_a_movement_without_its_event(
    sql_uow: Factory, engine: sa.Engine
) -> None:
    story = stock_story(sql_uow)
    drop_event_of(sql_uow, story.adjustment_key)
    trace = trace_stock(_reader(engine), SKU)
    assert [s.movement.idempotency_key for s in trace.unrecorded] == [
        story.adjustment_key
    ]
    assert trace.level.on_hand == 46  # the figure is the ledger's all the same


def test_trace_of_an_unknown_sku_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(UnknownSkuError, match="NOPE"):
        trace_stock(_reader(engine), "NOPE")


def test_the_archive_holds_every_run_item_and_value_sent(
    sql_uow: Factory, engine: sa.Engine
) -> None:
    push, publish, orders = seed_runs(sql_uow)
    archive = SqlRunArchive(make_session_factory(engine))
    runs = list(archive.runs(Period()))
    assert [r.id for r in runs] == [push, publish, orders]
    assert [(i.subject, i.ok, i.sent) for i in runs[0].items] == [
        ("KOPI-1", True, {"stock": 12}),
        ("KOPI-2", False, {"external_id": "998877665544", "stock": 0}),
    ]
    assert runs[0].items[1].error_message == HOSTILE
    assert runs[1].items[0].sent == {"content_hash": "ab12", "price": 90000}
    assert runs[2].items == ()
    assert [r.id for r in archive.runs(Period(since=at(2)))] == [publish, orders]
    assert [r.id for r in archive.runs(Period(until=at(2)))] == [push]
    assert [r.id for r in archive.runs(Period(), account=SHOPEE)] == [push, orders]
    assert [r.id for r in archive.runs(Period(), kind=SyncKind.PUBLISH)] == [publish]
    with pytest.raises(StoreError, match="nowhere"):
        archive.runs(Period(), account="nowhere")  # type: ignore[arg-type]


def test_runs_recent_takes_a_period(sql_uow: Factory) -> None:
    push, publish, orders = seed_runs(sql_uow)
    with sql_uow() as uow:
        assert [r.id for r in uow.runs.recent(10, period=Period(since=at(2)))] == [
            orders,
            publish,
        ]
        assert [r.id for r in uow.runs.recent(10, period=Period(at(1), at(3)))] == [
            publish,
            push,
        ]


def test_event_filters_are_served_by_their_indexes(engine: sa.Engine) -> None:
    """PostgreSQL can answer each filter from an index of migration 0013 (with
    sequential scans priced out, as on a table of millions)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    expected = {
        "actor": (EventFilter(actor="officer:ani"), "ix_audit_events_actor_at"),
        "subject": (EventFilter(subject="sku:KOPI-1"), "ix_audit_events_subject_at"),
        "prefix": (EventFilter(subject="sku:KOPI*"), "ix_audit_events_subject_at"),
        "account": (EventFilter(account="shopee-main"), "ix_audit_events_account_at"),
        "kind": (EventFilter(kind="stock.moved"), "ix_audit_events_action_at"),
        "period": (EventFilter(Period(since=at(1), until=at(2))), "ix_audit_events_at"),
    }
    with engine.connect() as connection:
        connection.execute(sa.text("SET enable_seqscan = off"))
        for name, (selection, index) in expected.items():
            compiled = events_statement(selection).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
            plan = "\n".join(
                row[0] for row in connection.execute(sa.text(f"EXPLAIN {compiled}"))
            )
            assert index in plan, f"{name}: {plan}"
