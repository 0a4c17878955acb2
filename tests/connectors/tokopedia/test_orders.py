"""§6 orders: windows under 3 days, paging from 1, status mapping, single orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest

from connectors.tokopedia import TokopediaConnector, mapping
from connectors.tokopedia.schemas import OrderRow
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.remote import OrderWindow
from core.domain.sync import OrderStatus
from core.errors import ContractError, OutcomeUnknownError, RejectedError
from tests.connectors.tokopedia.conftest import (
    FS_ID,
    NOW,
    OPTIONS,
    SHOP_ID,
    STORED_TOKEN,
    Build,
    body,
    fail,
    ok,
)

LIST = "/v2/order/list"
DETAIL = f"/v2/fs/{FS_ID}/order"


def order_row(order_id: int, created: int, status: int = 220) -> dict[str, Any]:
    """An order list row (§6.1)."""
    return {
        "fs_id": str(FS_ID),
        "order_id": order_id,
        "invoice_ref_num": f"INV/20250301/XXV/III/{order_id}",
        "accept_partial": False,
        "is_cod_mitra": False,
        "products": [
            {
                "id": 15000001,
                "name": "Kopi",
                "quantity": 2,
                "notes": "",
                "weight": 0.25,
                "total_weight": 0.5,
                "price": 85_000,
                "total_price": 170_000,
                "currency": "Rp",
                "sku": "KOPI-001",
                "is_wholesale": False,
            }
        ],
        "shop_id": SHOP_ID,
        "order_status": status,
        "amt": {
            "ttl_product_price": 170_000,
            "shipping_cost": 9_000,
            "ttl_amount": 179_000,
        },
        "create_time": created,
    }


def test_limits_say_what_the_page_says() -> None:
    limits = TokopediaConnector.limits
    assert limits.order_window < timedelta(seconds=259_200)
    assert Capability.ORDERS_BY_UPDATE_TIME not in TokopediaConnector.capabilities
    assert (limits.order_page_size, limits.stock_per_call, limits.create_per_call) == (
        100,
        100,
        20,
    )


def test_a_week_is_split_into_windows_under_three_days_and_paged_from_one(
    build: Build,
) -> None:
    wire = build(
        rate=1000.0, burst=1000, options={**OPTIONS, "payment_lookback_hours": 0}
    )
    since = NOW - timedelta(days=7)
    first_from = int(since.timestamp())

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        start, page = int(params["from_date"]), int(params["page"])
        if start == first_from and page == 1:
            rows = [order_row(40_000_000 + i, start + i) for i in range(100)]
        elif start == first_from and page == 2:
            rows = [order_row(40_000_100 + i, start + 100 + i) for i in range(7)]
        elif page == 1:
            rows = [order_row(start, start + 5)]
        else:
            rows = []
        return ok(rows)

    route = wire.router.get(LIST).mock(side_effect=answer)

    orders = list(wire.connector.fetch_orders(OrderWindow(since, NOW)))

    asked = [dict(call.request.url.params) for call in route.calls]
    assert all(
        (a["fs_id"], a["shop_id"], a["per_page"]) == (str(FS_ID), str(SHOP_ID), "100")
        for a in asked
    )
    assert all(int(a["to_date"]) - int(a["from_date"]) < 259_200 for a in asked)
    windows = sorted({(int(a["from_date"]), int(a["to_date"])) for a in asked})
    assert windows[0][0] == first_from
    assert windows[-1][1] == int(NOW.timestamp())
    assert all(b[0] <= a[1] for a, b in pairwise(windows))
    assert len(windows) == 3
    pages_of_first = [a["page"] for a in asked if int(a["from_date"]) == first_from]
    assert pages_of_first == ["1", "2"]
    assert len(orders) == 107 + 2
    assert route.call_count == 4


@pytest.mark.parametrize(("option", "hours"), [(None, 48), (12, 12), (0, 0)])
def test_the_list_reads_back_the_payment_lookback_before_the_window(
    build: Build, option: int | None, hours: int
) -> None:
    # Listed by creation time once paid: an order created before the window and
    # paid inside it is only found by reading back.
    options = (
        OPTIONS if option is None else {**OPTIONS, "payment_lookback_hours": option}
    )
    wire = build(options=options)
    route = wire.router.get(LIST).mock(return_value=ok([]))
    since = NOW - timedelta(minutes=5)

    assert list(wire.connector.fetch_orders(OrderWindow(since, NOW))) == []

    (call,) = route.calls
    params = call.request.url.params
    assert int(params["from_date"]) == int((since - timedelta(hours=hours)).timestamp())
    assert int(params["to_date"]) == int(NOW.timestamp())


def test_an_order_row_is_mapped_to_the_canonical_order(build: Build) -> None:
    wire = build()
    created = int(NOW.timestamp()) - 60
    wire.router.get(LIST).mock(return_value=ok([order_row(41_000_001, created, 400)]))

    (order,) = wire.connector.fetch_orders(OrderWindow(NOW - timedelta(hours=1), NOW))

    assert order.external_id == "41000001"
    assert order.status is OrderStatus.READY_TO_SHIP
    assert order.raw_status == "400"
    assert order.placed_at == datetime.fromtimestamp(created, UTC)
    assert order.placed_at.tzinfo is UTC
    assert order.updated_at == order.placed_at
    assert order.total_amount == 170_000
    (line,) = order.lines
    assert (line.sku, line.quantity, line.unit_price) == ("KOPI-001", 2, 85_000)


def test_a_repeated_order_page_is_a_contract_error(build: Build) -> None:
    wire = build()
    start = int(NOW.timestamp()) - 3_000
    page = [order_row(40_000_000 + i, start + i) for i in range(100)]
    wire.router.get(LIST).mock(return_value=ok(page))
    with pytest.raises(ContractError, match="twice"):
        list(wire.connector.fetch_orders(OrderWindow(NOW - timedelta(hours=1), NOW)))


def test_fetch_order_reads_one_order_in_utc(build: Build) -> None:
    wire = build()
    route = wire.router.get(DETAIL).mock(
        return_value=ok(
            {
                "order_id": 41_000_001,
                "order_status": 700,
                "invoice_number": "INV/20250303/XXV/III/41000001",
                "item_price": 170_000,
                "order_info": {
                    "order_detail": [
                        {
                            "product_id": 15000001,
                            "product_name": "Kopi",
                            "product_price": 85_000,
                            "quantity": 2,
                            "sku": "KOPI-001",
                        }
                    ]
                },
                "create_time": "2025-03-01T08:00:00+07:00",
                "update_time": "2025-03-03 07:30:00",  # no zone: WIB
            }
        )
    )

    order = wire.connector.fetch_order("41000001")

    assert dict(route.calls[0].request.url.params) == {"order_id": "41000001"}
    assert order.status is OrderStatus.COMPLETED
    assert order.placed_at == datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 3, 3, 0, 30, tzinfo=UTC)
    assert order.total_amount == 170_000
    assert [(x.sku, x.quantity, x.unit_price) for x in order.lines] == [
        ("KOPI-001", 2, 85_000)
    ]


def test_fetch_order_refuses_an_id_that_is_not_tokopedias(build: Build) -> None:
    wire = build()  # no route: nothing may be sent
    with pytest.raises(RejectedError):
        wire.connector.fetch_order("INV/20250303/XXV/III/1")


STATUS_TABLE = {
    0: OrderStatus.CANCELLED,
    3: OrderStatus.CANCELLED,
    5: OrderStatus.CANCELLED,
    6: OrderStatus.CANCELLED,
    10: OrderStatus.CANCELLED,
    15: OrderStatus.CANCELLED,
    100: OrderStatus.PENDING_PAYMENT,
    103: OrderStatus.PENDING_PAYMENT,
    220: OrderStatus.PAID,
    221: OrderStatus.PAID,
    400: OrderStatus.READY_TO_SHIP,
    450: OrderStatus.READY_TO_SHIP,
    500: OrderStatus.SHIPPED,
    501: OrderStatus.SHIPPED,
    520: OrderStatus.SHIPPED,
    530: OrderStatus.SHIPPED,
    540: OrderStatus.SHIPPED,
    550: OrderStatus.RETURNED,
    600: OrderStatus.DELIVERED,
    601: OrderStatus.DELIVERED,
    690: OrderStatus.DELIVERED,
    700: OrderStatus.COMPLETED,
}


@pytest.mark.parametrize(("code", "expected"), sorted(STATUS_TABLE.items()))
def test_every_documented_status_maps(code: int, expected: OrderStatus) -> None:
    assert mapping.order_status(code) is expected
    assert mapping.is_known_status(code)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (7, OrderStatus.CANCELLED),
        (150, OrderStatus.PENDING_PAYMENT),
        (230, OrderStatus.PAID),
        (460, OrderStatus.READY_TO_SHIP),
        (545, OrderStatus.SHIPPED),
        (560, OrderStatus.RETURNED),
        (650, OrderStatus.DELIVERED),
        (800, OrderStatus.COMPLETED),
    ],
)
def test_unknown_statuses_fall_back_to_their_group(
    code: int, expected: OrderStatus
) -> None:
    assert mapping.order_status(code) is expected
    assert not mapping.is_known_status(code)


def test_a_row_without_create_time_is_placed_at_the_window_start() -> None:
    row = OrderRow.model_validate(
        {"order_id": 1, "order_status": 220, "products": [], "amt": None}
    )
    start = NOW - timedelta(hours=2)
    order = mapping.order_from_row(row, start)
    assert order.placed_at == start
    assert order.total_amount == 0


# ------------------------------------------------------------------ cancel_order

NACK = f"/v1/order/880001/fs/{FS_ID}/nack"


@pytest.mark.parametrize(
    ("reason", "code", "text"),
    [
        (CancelReason.OUT_OF_STOCK, 1, "Out of stock"),
        (CancelReason.BUYER_REQUEST, 8, "Buyer request"),
    ],
)
def test_a_cancel_is_a_nack_with_the_documented_reason_code(
    build: Build, reason: CancelReason, code: int, text: str
) -> None:
    wire = build()
    route = wire.router.post(NACK).mock(return_value=ok("success"))

    wire.connector.cancel_order("880001", reason)

    (call,) = route.calls
    assert body(call) == {"reason_code": code, "reason": text}
    assert call.request.headers["Authorization"] == f"Bearer {STORED_TOKEN}"


def test_a_nack_refused_as_not_eligible_is_a_rejection_sent_once(build: Build) -> None:
    wire = build()
    route = wire.router.post(NACK).mock(
        return_value=fail(
            400, "ORD_USC_001", "order status 400 is not eligible for reject"
        )
    )

    with pytest.raises(RejectedError) as caught:
        wire.connector.cancel_order("880001", CancelReason.OUT_OF_STOCK)

    assert route.call_count == 1
    assert "refused to reject order 880001" in str(caught.value)
    assert "not eligible" in str(caught.value)


def test_a_lost_nack_answer_is_not_sent_again(build: Build) -> None:
    wire = build()
    route = wire.router.post(NACK).mock(side_effect=httpx.ReadTimeout("lost"))

    with pytest.raises(OutcomeUnknownError):
        wire.connector.cancel_order("880001", CancelReason.OUT_OF_STOCK)

    assert route.call_count == 1


def test_a_cancel_of_an_id_that_is_not_tokopedias_sends_nothing(build: Build) -> None:
    wire = build()  # no route: nothing may be sent
    with pytest.raises(RejectedError, match="not a Tokopedia order id"):
        wire.connector.cancel_order("INV/1", CancelReason.OUT_OF_STOCK)
