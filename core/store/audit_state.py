"""``audit verify``'s record checks: the business records (runs, run items, stock
movements, orders) compared with the audit events that describe them, so a record
edited, deleted or inserted behind the application's back is found even though
the chain of events itself is intact.

The checks are set-based: stock movements and orders are joined to their events
in SQL (the events' JSON read by the database), and only the rows that disagree
come back; runs and their items are streamed in run order beside their events and
compared run by run, so memory holds one run at a time. Events count whether
sealed or not; a record's *latest* event is the one inserted last (a record's
changes take its row lock, so their events are inserted in commit order).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlmodel import Session, col

from core.audit import actions
from core.audit.canonical import dumps, plain
from core.audit.findings import Finding
from core.store.runs import run_state, run_state_columns
from core.store.tables import (
    AuditEventRow,
    AuditHeadRow,
    ChannelAccountRow,
    OrderRow,
    ProductRow,
    StockMovementRow,
    SyncRunItemRow,
    SyncRunRow,
    table_of,
)

_EVENT = table_of(AuditEventRow).alias("event")
#: Rows fetched at a time when streaming runs, items and their events.
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class _Before:
    """The last movement, order and run made before the trail began (see
    ``AuditHeadRow``): a record up to these has no event to be asked for."""

    movements: int = 0
    orders: int = 0
    runs: int = 0


def _before(session: Session) -> _Before:
    row = session.execute(
        select(
            col(AuditHeadRow.movements_through),
            col(AuditHeadRow.orders_through),
            col(AuditHeadRow.runs_through),
        ).where(col(AuditHeadRow.id) == 1)
    ).first()
    return _Before() if row is None else _Before(*(int(v or 0) for v in row))


def mismatches(session: Session, limit: int = 100) -> list[Finding]:
    """Up to ``limit`` records that their events contradict, or that no event
    describes (records made before the trail began excepted), in chain order."""
    before = _before(session)
    found = [
        *_movements(session, limit, before.movements),
        *_orders(session, limit, before.orders),
        *_runs(session, limit, before.runs),
        *_items(session, limit, before.runs),
    ]
    found.sort(key=lambda f: (f.seq is None, f.seq or 0, f.subject))
    return found[:limit]


# ---------------------------------------------------------------- helpers


def _after(session: Session) -> Any:
    """The events' ``after`` as JSON the database reads (``->>`` on PostgreSQL,
    ``json_extract`` on SQLite)."""
    column = _EVENT.c.after
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(column, sa.JSON)
    return sa.type_coerce(column, sa.JSON)


def _differences(expected: dict[str, Any], stored: dict[str, Any]) -> str:
    """``field: stored X, event says Y`` for each field that differs."""
    return "; ".join(
        f"{name} is {dumps(plain(stored.get(name)))}, its event says "
        f"{dumps(plain(value))}"
        for name, value in expected.items()
        if plain(stored.get(name)) != plain(value)
    )


def _disagrees(
    described: Any, records: Any, events: Any, compared: Sequence[str], through: int
) -> Any:
    """The condition on a record outer-joined to its event (``described`` is
    null when none): no event describes it though it was made after the trail
    began (its ``id`` above ``through``), or a ``compared`` value differs."""
    return sa.or_(
        sa.and_(described.is_(None), records.c.id > through),
        sa.and_(
            described.is_not(None),
            sa.or_(*(records.c[n].is_distinct_from(events.c[n]) for n in compared)),
        ),
    )


def _stream(session: Session, statement: Any) -> Iterator[Any]:
    """``statement``'s rows, fetched in batches (a server-side cursor on
    PostgreSQL)."""
    result = session.connection().execute(
        statement, execution_options={"stream_results": True, "max_row_buffer": _BATCH}
    )
    yield from result


# ---------------------------------------------------------------- movements

_MOVEMENT_FIELDS = (
    "key",
    "sku",
    "reason",
    "on_hand",
    "reserved",
    "reference",
    "actor",
    "note",
    "location",
    "at",
)


def _movements(session: Session, limit: int, through: int) -> list[Finding]:
    """Every stock movement after ``through`` has exactly one ``stock.moved``
    event with its key and values (and every movement with one, its values), and
    every such event its movement."""
    after = _after(session)
    key = after["key"].as_string()
    events = (
        select(
            _EVENT.c.id,
            _EVENT.c.seq,
            key.label("key"),
            _EVENT.c.subject.label("subject"),
            after["reason"].as_string().label("reason"),
            after["on_hand"].as_integer().label("on_hand"),
            after["reserved"].as_integer().label("reserved"),
            after["reference"].as_string().label("reference"),
            after["actor"].as_string().label("actor"),
            after["note"].as_string().label("note"),
            after["location"].as_string().label("location"),
            _EVENT.c.at.label("at"),
        )
        .where(_EVENT.c.action == actions.STOCK_MOVED)
        .cte("moved")
        # computed once and joined by key (SQLite indexes a materialised view
        # for the join; folded into it, the key would be re-read per movement)
        .prefix_with("MATERIALIZED")
    )
    movements = (
        select(
            col(StockMovementRow.id).label("id"),
            col(StockMovementRow.idempotency_key).label("key"),
            (sa.literal("sku:") + col(ProductRow.sku_key)).label("subject"),
            col(StockMovementRow.reason).label("reason"),
            col(StockMovementRow.on_hand_delta).label("on_hand"),
            col(StockMovementRow.reserved_delta).label("reserved"),
            col(StockMovementRow.reference).label("reference"),
            col(StockMovementRow.actor).label("actor"),
            col(StockMovementRow.note).label("note"),
            col(StockMovementRow.location).label("location"),
            col(StockMovementRow.at).label("at"),
        )
        .join(ProductRow, col(ProductRow.id) == col(StockMovementRow.product_id))
        .subquery("movement")
    )
    compared = ("subject", *_MOVEMENT_FIELDS[2:])
    differ = _disagrees(events.c.id, movements, events, compared, through)
    found: list[Finding] = []
    # a movement edited, or inserted with no event
    rows = session.execute(
        select(movements, events.c.seq, *(events.c[n] for n in compared))
        .outerjoin(events, events.c.key == movements.c.key)
        .where(differ)
        .limit(limit)
    ).all()
    width = len(movements.c)
    for row in rows:
        stored = dict(zip(movements.c.keys(), row[:width], strict=True))
        seq, *said = row[width:]
        subject = f"movement:{stored['key']}"
        if all(v is None for v in said):
            found.append(
                Finding(None, subject, "no stock.moved event describes this movement")
            )
            continue
        expected = dict(zip(compared, said, strict=True))
        found.append(Finding(seq, subject, _differences(expected, stored)))
    # an event whose movement is gone
    for seq, key, subject in session.execute(
        select(events.c.seq, events.c.key, events.c.subject)
        .outerjoin(
            StockMovementRow,
            col(StockMovementRow.idempotency_key) == events.c.key,
        )
        .where(col(StockMovementRow.id).is_(None))
        .limit(limit)
    ):
        found.append(
            Finding(
                seq,
                f"movement:{key}",
                f"the movement its stock.moved event records ({subject}) is missing",
            )
        )
    # a key recorded twice
    for key, count, seq in session.execute(
        select(events.c.key, sa.func.count(), sa.func.max(events.c.seq))
        .group_by(events.c.key)
        .having(sa.func.count() > 1)
        .limit(limit)
    ):
        found.append(
            Finding(
                seq,
                f"movement:{key}",
                f"{count} stock.moved events record this movement; expected one",
            )
        )
    return found


# ---------------------------------------------------------------- orders

_ORDER_ACTIONS = (actions.ORDER_STORED, actions.ORDER_CHANGED, actions.ORDER_SETTLED)


def _orders(session: Session, limit: int, through: int) -> list[Finding]:
    """Every order matches its latest order event (status, stock state, oversold,
    settlement, total), and every order event's order exists."""
    after = _after(session)
    latest = (
        select(sa.func.max(_EVENT.c.id).label("id"))
        .where(_EVENT.c.action.in_(_ORDER_ACTIONS))
        .group_by(_EVENT.c.subject)
        .subquery("latest")
    )
    events = (
        select(
            _EVENT.c.seq.label("seq"),
            _EVENT.c.subject.label("subject"),
            after["status"].as_string().label("status"),
            after["stock_state"].as_string().label("stock_state"),
            after["oversold"].as_boolean().label("oversold"),
            after["settlement"].as_string().label("settlement"),
            after["total"].as_integer().label("total"),
        )
        .join(latest, latest.c.id == _EVENT.c.id)
        .cte("order_event")
        .prefix_with("MATERIALIZED")  # joined by subject both ways (see moved)
    )
    orders = (
        select(
            (
                sa.literal("order:")
                + col(ChannelAccountRow.marketplace)
                + ":"
                + col(OrderRow.external_id)
            ).label("subject"),
            col(OrderRow.id).label("id"),
            col(OrderRow.status).label("status"),
            col(OrderRow.stock_state).label("stock_state"),
            col(OrderRow.oversold).label("oversold"),
            col(OrderRow.settlement).label("settlement"),
            col(OrderRow.total_amount).label("total"),
        )
        .join(ChannelAccountRow, col(ChannelAccountRow.id) == col(OrderRow.account_id))
        .cte("stored_order")
        .prefix_with("MATERIALIZED")
    )
    compared = ("status", "stock_state", "oversold", "settlement", "total")
    found: list[Finding] = []
    rows = session.execute(
        select(orders, events.c.seq, events.c.subject.label("event_subject"))
        .add_columns(*(events.c[n].label(f"event_{n}") for n in compared))
        .outerjoin(events, events.c.subject == orders.c.subject)
        .where(_disagrees(events.c.subject, orders, events, compared, through))
        .limit(limit)
    ).all()
    for row in rows:
        stored = {n: getattr(row, n) for n in compared}
        if row.event_subject is None:
            found.append(
                Finding(None, row.subject, "no order event describes this order")
            )
            continue
        expected = {n: getattr(row, f"event_{n}") for n in compared}
        if expected["oversold"] is not None:
            expected["oversold"] = bool(expected["oversold"])
        stored["oversold"] = bool(stored["oversold"])
        found.append(Finding(row.seq, row.subject, _differences(expected, stored)))
    # an event whose order is gone: events' and orders' subjects together, grouped
    # in one pass (sorted or hashed), kept where no order holds the subject (an
    # outer join or NOT EXISTS against the orders is not indexed by SQLite, which
    # then scans every order once per event)
    keyed = sa.union_all(
        select(
            events.c.subject.label("subject"),
            events.c.seq.label("seq"),
            sa.literal(0, sa.Integer).label("held"),
        ),
        select(
            orders.c.subject,
            sa.cast(sa.null(), sa.BigInteger),
            sa.literal(1, sa.Integer),
        ),
    ).subquery("keyed")
    for seq, subject in session.execute(
        select(sa.func.max(keyed.c.seq), keyed.c.subject)
        .group_by(keyed.c.subject)
        .having(sa.func.max(keyed.c.held) == 0)
        .limit(limit)
    ):
        found.append(Finding(seq, subject, "the order its events record is missing"))
    return found


# ---------------------------------------------------------------- runs

_RUN_ACTIONS = (actions.RUN_STARTED, actions.RUN_FINISHED)


def _merged(
    left: Iterator[Any], right: Iterator[Any]
) -> Iterator[tuple[int, Any | None, Any | None]]:
    """Two streams of rows whose first column is an ascending run id, joined on
    it: (run id, left row or None, right row or None)."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and int(a[0]) < int(b[0])):
            yield int(a[0]), a, None  # type: ignore[index]
            a = next(left, None)
        elif a is None or int(b[0]) < int(a[0]):
            yield int(b[0]), None, b
            b = next(right, None)
        else:
            yield int(a[0]), a, b
            a, b = next(left, None), next(right, None)


def _runs(session: Session, limit: int, through: int) -> list[Finding]:
    """Every run row matches its latest ``run.started`` / ``run.finished`` event
    (kind, account, trigger, outcome, counts, times, error)."""
    runs = (
        select(
            col(SyncRunRow.id),
            *run_state_columns(col(ChannelAccountRow.account_key)),
        )
        .outerjoin(
            ChannelAccountRow, col(ChannelAccountRow.id) == col(SyncRunRow.account_id)
        )
        .order_by(col(SyncRunRow.id))
    )
    latest = (
        select(sa.func.max(_EVENT.c.id).label("id"))
        .where(_EVENT.c.action.in_(_RUN_ACTIONS))
        .group_by(_EVENT.c.run_id)
        .subquery("latest")
    )
    events = (
        select(_EVENT.c.run_id, _EVENT.c.seq, _EVENT.c.after)
        .join(latest, latest.c.id == _EVENT.c.id)
        .order_by(_EVENT.c.run_id)
    )
    found: list[Finding] = []
    for run_id, row, event in _merged(_stream(session, runs), _stream(session, events)):
        subject = actions.run(run_id)
        if event is None:
            if run_id > through:
                found.append(Finding(None, subject, "no run event describes this run"))
        elif row is None:
            found.append(
                Finding(event.seq, subject, "the run its events record is missing")
            )
        else:
            stored = run_state(*row[1:])
            expected = json.loads(event.after)
            if stored != expected:
                found.append(
                    Finding(event.seq, subject, _differences(expected, stored))
                )
        if len(found) >= limit:
            break
    return found


# ---------------------------------------------------------------- run items


def _item_text(
    subject: str,
    operation: str,
    ok: bool,
    error_code: str | None,
    error_message: str | None,
    at: Any,
    sent: str | None,
) -> str:
    """A stored item in its event's canonical form."""
    return dumps(
        {
            "subject": subject,
            "operation": operation,
            "ok": bool(ok),
            "error_code": error_code,
            "error_message": error_message,
            "at": at,
            "sent": None if sent is None else json.loads(sent),
        }
    )


def _grouped(rows: Iterator[Any]) -> Iterator[tuple[int, list[Any]]]:
    """Rows ordered by run id (their first column), a run's together."""
    current: int | None = None
    batch: list[Any] = []
    for row in rows:
        if current is not None and int(row[0]) != current:
            yield current, batch
            batch = []
        current = int(row[0])
        batch.append(row)
    if current is not None:
        yield current, batch


def _items(session: Session, limit: int, through: int) -> list[Finding]:
    """Every run's items are exactly the union of its ``run.items`` events."""
    items = select(
        col(SyncRunItemRow.run_id),
        col(SyncRunItemRow.subject),
        col(SyncRunItemRow.operation),
        col(SyncRunItemRow.ok),
        col(SyncRunItemRow.error_code),
        col(SyncRunItemRow.error_message),
        col(SyncRunItemRow.at),
        col(SyncRunItemRow.sent),
    ).order_by(col(SyncRunItemRow.run_id), col(SyncRunItemRow.id))
    events = (
        select(_EVENT.c.run_id, _EVENT.c.seq, _EVENT.c.after)
        .where(_EVENT.c.action == actions.RUN_ITEMS)
        .order_by(_EVENT.c.run_id, _EVENT.c.id)
    )
    found: list[Finding] = []
    for run_id, stored_rows, event_rows in _merged(
        _grouped(_stream(session, items)), _grouped(_stream(session, events))
    ):
        subject = actions.run(run_id)
        if not event_rows and run_id <= through:
            continue  # a run made before the trail began
        stored = Counter(
            _item_text(*row[1:]) for row in (stored_rows[1] if stored_rows else [])
        )
        expected: Counter[str] = Counter()
        seq_of: dict[str, int | None] = {}
        last_seq = None
        for event in event_rows[1] if event_rows else []:
            last_seq = event.seq
            for item in json.loads(event.after)["items"]:
                text = dumps(item)
                expected[text] += 1
                seq_of.setdefault(text, event.seq)
        missing, unrecorded = expected - stored, stored - expected
        if missing or unrecorded:
            parts = [
                *(
                    f"expected {text} (x{count}), not stored as recorded"
                    for text, count in sorted(missing.items())
                ),
                *(
                    f"stored {text} (x{count}), recorded by no run.items event"
                    for text, count in sorted(unrecorded.items())
                ),
            ]
            seq = seq_of[min(missing)] if missing else last_seq
            found.append(
                Finding(
                    seq,
                    subject,
                    "items missing or changed: " + "; ".join(parts),
                )
            )
        if len(found) >= limit:
            break
    return found
