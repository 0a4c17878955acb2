"""Transactions on the wire: one-day windows on ``created_at``, offset pages that
overlap and are topped up when rows arrive meanwhile, details only when a row lacks
them, the ten states mapped, times in UTC, money in whole rupiah."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors.bukalapak import mapping
from connectors.bukalapak.connector import BukalapakConnector
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.remote import OrderWindow
from core.domain.sync import OrderStatus
from core.errors import ContractError, RejectedError
from tests.connectors.bukalapak._support import (
    API,
    envelope,
    failure,
    make,
    transaction,
)

SINCE = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(
        base_url=API, assert_all_called=True, assert_all_mocked=True
    ) as mocked:
        yield mocked


def params(call: Any) -> dict[str, str]:
    return dict(call.request.url.params)


def test_the_limits_are_one_per_call_and_orders_follow_creation_time() -> None:
    limits = BukalapakConnector.limits
    assert (limits.stock_per_call, limits.price_per_call, limits.create_per_call) == (
        1,
        1,
        1,
    )
    assert limits.order_page_size == 50
    assert limits.order_details_per_call == 1
    assert Capability.ORDERS_BY_UPDATE_TIME not in BukalapakConnector.capabilities


def test_a_window_is_split_by_day_and_each_piece_paged_by_offset(
    router: respx.MockRouter,
) -> None:
    day_one = [transaction(1000 + i) for i in range(60)]
    day_two = [transaction(2000 + i) for i in range(3)]

    def respond(request: httpx.Request) -> httpx.Response:
        query = request.url.params
        rows = day_one if query["start_time"].startswith("2026-11-20") else day_two
        offset, limit = int(query["offset"]), int(query["limit"])
        return httpx.Response(
            200, json=envelope(rows[offset : offset + limit], total=len(rows))
        )

    route = router.get("/transactions").mock(side_effect=respond)
    window = OrderWindow(SINCE, SINCE + timedelta(days=1, hours=6))
    orders = list(make().connector.fetch_orders(window))
    assert len(orders) == 63
    assert len({o.external_id for o in orders}) == 63
    assert [params(c) for c in route.calls] == [
        {
            "context": "sale",
            "start_time": "2026-11-20T00:00:00+00:00",
            "end_time": "2026-11-21T00:00:00+00:00",
            "offset": str(offset),
            "limit": "50",
        }
        for offset in (0, 40)
    ] + [
        {
            "context": "sale",
            "start_time": "2026-11-21T00:00:00+00:00",
            "end_time": "2026-11-21T06:00:00+00:00",
            "offset": "0",
            "limit": "50",
        }
    ]


def test_rows_arriving_while_paging_are_deduplicated_and_caught(
    router: respx.MockRouter,
) -> None:
    rows = [transaction(5000 - i) for i in range(55)]  # newest first
    served = {"calls": 0}

    def respond(request: httpx.Request) -> httpx.Response:
        served["calls"] += 1
        if served["calls"] == 2:  # a new transaction lands on top before page 2
            rows.insert(0, transaction(9999))
        offset, limit = int(request.url.params["offset"]), 50
        return httpx.Response(
            200, json=envelope(rows[offset : offset + limit], total=len(rows))
        )

    route = router.get("/transactions").mock(side_effect=respond)
    window = OrderWindow(SINCE, SINCE + timedelta(hours=1))
    ids = [o.external_id for o in make().connector.fetch_orders(window)]
    assert len(ids) == len(set(ids)) == 56
    assert "9999" in ids
    # walk 0, 40; total changed → top-up from 0 finds 9999, then 40 brings nothing
    assert [c.request.url.params["offset"] for c in route.calls] == [
        "0",
        "40",
        "0",
        "40",
    ]


def test_a_single_page_is_never_topped_up(router: respx.MockRouter) -> None:
    route = router.get("/transactions").respond(
        200, json=envelope([transaction(1)], total=1)
    )
    assert (
        len(
            list(
                make().connector.fetch_orders(
                    OrderWindow(SINCE, SINCE + timedelta(hours=1))
                )
            )
        )
        == 1
    )
    assert route.call_count == 1


def test_rows_without_items_are_read_in_detail(router: respx.MockRouter) -> None:
    router.get("/transactions").respond(
        200, json=envelope([transaction(7, items=False)], total=1)
    )
    detail = router.get("/transactions/7").respond(
        200, json=envelope(transaction(7, state="accepted"))
    )
    (order,) = make().connector.fetch_orders(
        OrderWindow(SINCE, SINCE + timedelta(hours=1))
    )
    assert detail.call_count == 1
    assert order.status is OrderStatus.READY_TO_SHIP


def test_an_order_is_mapped_to_utc_whole_rupiah_and_seller_skus(
    router: respx.MockRouter,
) -> None:
    router.get("/transactions/42").respond(200, json=envelope(transaction(42)))
    order = make().connector.fetch_order("42")
    assert order.external_id == "42"
    assert order.placed_at == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    assert order.updated_at == order.placed_at
    assert order.total_amount == 185_000
    assert order.currency == "IDR"
    (line,) = order.lines
    assert (line.sku, line.quantity, line.unit_price, line.external_item_id) == (
        "KOPI-FLR-001",
        2,
        85_000,
        "9001",
    )


def test_a_missing_or_malformed_order_is_refused(router: respx.MockRouter) -> None:
    router.get("/transactions/404").respond(
        404, json=failure(404, "transaction not found")
    )
    rig = make()
    with pytest.raises(RejectedError):
        rig.connector.fetch_order("404")
    with pytest.raises(RejectedError):
        rig.connector.fetch_order("BL261122ABC")  # not the numeric id: no call


@pytest.mark.parametrize(
    "change",
    [
        {"state": "shipped_by_drone"},
        {"amount": {"seller": {"total": 185_000.5}}},
        {"created_at": "yesterday"},
    ],
)
def test_answers_outside_the_contract_are_contract_errors(
    router: respx.MockRouter, change: dict[str, Any]
) -> None:
    router.get("/transactions/8").respond(
        200, json=envelope({**transaction(8), **change})
    )
    with pytest.raises(ContractError):
        make().connector.fetch_order("8")


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("pending", OrderStatus.PENDING_PAYMENT),
        ("paid", OrderStatus.PAID),
        ("accepted", OrderStatus.READY_TO_SHIP),
        ("delivered", OrderStatus.SHIPPED),
        ("received", OrderStatus.DELIVERED),
        ("remitted", OrderStatus.COMPLETED),
        ("rejected", OrderStatus.CANCELLED),
        ("expired", OrderStatus.CANCELLED),
        ("cancelled", OrderStatus.CANCELLED),
        ("refunded", OrderStatus.CANCELLED),
    ],
)
def test_the_ten_states_map_to_canonical_statuses(
    state: str, status: OrderStatus
) -> None:
    assert mapping.order_status(state) is status


def test_times_without_an_offset_are_wib() -> None:
    naive = datetime(2026, 11, 22, 9, 0)  # noqa: DTZ001  (an answer's naive time)
    assert mapping.to_utc(naive) == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def test_a_cancel_is_refused_without_a_call_as_the_page_documents_none(
    router: respx.MockRouter,
) -> None:
    assert Capability.CANCEL_ORDERS not in BukalapakConnector.capabilities
    rig = make()  # no route: nothing may be sent

    with pytest.raises(RejectedError, match="documents no cancellation") as caught:
        rig.connector.cancel_order("100200300", CancelReason.OUT_OF_STOCK)

    assert caught.value.code == "not_supported"
    assert not router.calls
