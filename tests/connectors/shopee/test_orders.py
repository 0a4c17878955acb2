"""Orders on the wire: 15-day windows by update time, opaque cursors, details in
batches of 50 with the optional fields, statuses and money mapped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors.shopee import mapping
from core.domain.orders import CancelReason
from core.domain.remote import OrderWindow
from core.domain.sync import OrderStatus
from core.errors import (
    ConnectorError,
    ContractError,
    OutcomeUnknownError,
    RejectedError,
    Where,
)
from tests.connectors.shopee._support import BASE, NOW, TS, body, fail, ok, params, rig

LIST = "/api/v2/order/get_order_list"
DETAIL = "/api/v2/order/get_order_detail"
WHERE: Where = {"marketplace": "shopee", "account": "shopee-ntt"}


def detail(
    order_sn: str, status: str = "READY_TO_SHIP", **extra: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "order_sn": order_sn,
        "region": "ID",
        "currency": "IDR",
        "order_status": status,
        "create_time": TS - 7_200,
        "update_time": TS - 3_600,
        "pay_time": TS - 7_000,
        "total_amount": 170_000.0,
        "item_list": [
            {
                "item_id": 30_001,
                "item_sku": "KOPI-FLR-001",
                "model_id": 0,
                "model_sku": "",
                "model_quantity_purchased": 2,
                "model_original_price": 90_000.0,
                "model_discounted_price": 85_000.0,
            }
        ],
    }
    values.update(extra)
    return values


def details_for(request: httpx.Request) -> httpx.Response:
    numbers = params(request)["order_sn_list"][0].split(",")
    return ok({"order_list": [detail(sn) for sn in numbers]})


def test_a_long_window_is_cut_into_15_day_pieces_by_update_time() -> None:
    setup = rig()
    since = datetime(2025, 5, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    until = since + timedelta(days=20)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(LIST).mock(
            return_value=ok({"more": False, "next_cursor": "", "order_list": []})
        )
        assert list(setup.connector.fetch_orders(OrderWindow(since, until))) == []
    start = int(since.timestamp())  # the floor of since
    end = int(until.timestamp()) + 1  # the ceiling of until
    pieces = [
        (params(c.request)["time_from"], params(c.request)["time_to"])
        for c in route.calls
    ]
    assert pieces == [
        ([str(start)], [str(start + 15 * 86_400)]),
        ([str(start + 15 * 86_400)], [str(end)]),
    ]
    first = params(route.calls[0].request)
    assert first["time_range_field"] == ["update_time"]
    assert first["page_size"] == ["100"]
    assert "cursor" not in first


def test_pages_follow_the_opaque_cursor_and_details_come_in_fifties() -> None:
    setup = rig()
    first = [f"2506{n:06d}A" for n in range(100)]
    second = [f"2506{n:06d}B" for n in range(30)] + [first[0]]  # one repeat
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        pages = router.get(LIST).mock(
            side_effect=[
                ok(
                    {
                        "more": True,
                        "next_cursor": "opaque==/+",
                        "order_list": [{"order_sn": sn} for sn in first],
                    }
                ),
                ok(
                    {
                        "more": False,
                        "next_cursor": "",
                        "order_list": [{"order_sn": sn} for sn in second],
                    }
                ),
            ]
        )
        details = router.get(DETAIL).mock(side_effect=details_for)
        window = OrderWindow(NOW - timedelta(days=1), NOW)
        orders = list(setup.connector.fetch_orders(window))
    assert params(pages.calls[1].request)["cursor"] == ["opaque==/+"]
    asked = [params(c.request)["order_sn_list"][0].split(",") for c in details.calls]
    assert [len(a) for a in asked] == [50, 50, 30]
    assert all(
        params(c.request)["response_optional_fields"]
        == ["item_list,total_amount,pay_time"]
        for c in details.calls
    )
    assert len(orders) == 130  # the repeated order once
    order = orders[0]
    assert order.status is OrderStatus.PAID
    assert order.raw_status == "READY_TO_SHIP"
    assert order.placed_at == NOW - timedelta(hours=2)
    assert order.updated_at == NOW - timedelta(hours=1)
    assert order.placed_at.tzinfo is UTC
    assert order.total_amount == 170_000
    (line,) = order.lines
    assert (line.sku, line.quantity, line.unit_price, line.external_item_id) == (
        "KOPI-FLR-001",
        2,
        85_000,
        "30001",
    )


def test_an_empty_page_with_more_goes_on_and_a_repeated_cursor_stops() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(LIST).mock(
            side_effect=[
                ok({"more": True, "next_cursor": "c1", "order_list": []}),
                ok({"more": True, "next_cursor": "c1", "order_list": []}),
                ok({"more": True, "next_cursor": "c1", "order_list": []}),
            ]
        )
        window = OrderWindow(NOW - timedelta(days=1), NOW)
        with pytest.raises(ContractError, match="twice"):
            list(setup.connector.fetch_orders(window))
        assert route.call_count == 3  # c1 sent back once is followed once more


def test_a_listed_order_without_details_is_a_contract_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(LIST).mock(
            return_value=ok(
                {"more": False, "order_list": [{"order_sn": "A"}, {"order_sn": "B"}]}
            )
        )
        router.get(DETAIL).mock(return_value=ok({"order_list": [detail("A")]}))
        with pytest.raises(ContractError, match="left out 1"):
            list(
                setup.connector.fetch_orders(OrderWindow(NOW - timedelta(days=1), NOW))
            )


def test_fetch_order_reads_one_detail_or_refuses() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(DETAIL).mock(
            side_effect=[
                ok({"order_list": [detail("250602ABC", "SHIPPED")]}),
                ok({"order_list": []}),
            ]
        )
        order = setup.connector.fetch_order("250602ABC")
        with pytest.raises(RejectedError, match="no order"):
            setup.connector.fetch_order("NOPE")
    assert order.status is OrderStatus.SHIPPED
    assert params(route.calls[0].request)["order_sn_list"] == ["250602ABC"]


@pytest.mark.parametrize(
    ("raw", "paid", "expected"),
    [
        ("UNPAID", False, OrderStatus.PENDING_PAYMENT),
        ("PENDING", False, OrderStatus.PENDING_PAYMENT),
        ("READY_TO_SHIP", True, OrderStatus.PAID),
        ("INVOICE_PENDING", True, OrderStatus.PAID),
        ("PROCESSED", True, OrderStatus.READY_TO_SHIP),
        ("RETRY_SHIP", True, OrderStatus.READY_TO_SHIP),
        ("SHIPPED", True, OrderStatus.SHIPPED),
        ("TO_CONFIRM_RECEIVE", True, OrderStatus.DELIVERED),
        ("COMPLETED", True, OrderStatus.COMPLETED),
        ("IN_CANCEL", True, OrderStatus.PAID),
        ("IN_CANCEL", False, OrderStatus.PENDING_PAYMENT),
        ("CANCELLED", False, OrderStatus.CANCELLED),
        ("TO_RETURN", True, OrderStatus.RETURNED),
    ],
)
def test_every_documented_status_is_mapped(
    raw: str, paid: bool, expected: OrderStatus
) -> None:
    assert mapping.order_status(raw, paid, WHERE) is expected


def test_an_unknown_status_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="LOST_IN_SPACE"):
        mapping.order_status("LOST_IN_SPACE", True, WHERE)


def test_fractional_rupiah_from_shopee_is_a_contract_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(
            return_value=ok({"order_list": [detail("X", total_amount=10.5)]})
        )
        with pytest.raises(ContractError, match="whole rupiah"):
            setup.connector.fetch_order("X")


def test_units_are_converted() -> None:
    assert mapping.grams_to_kg(270) == 0.27
    assert mapping.from_unix(TS) == NOW


# ------------------------------------------------------------------ cancel_order

CANCEL = "/api/v2/order/cancel_order"


def test_an_out_of_stock_cancel_names_every_line_of_the_order() -> None:
    setup = rig()
    lines = [
        {"item_id": 30_001, "model_id": 0, "model_quantity_purchased": 1},
        {"item_id": 30_002, "model_id": 40_001, "model_quantity_purchased": 2},
        {"item_id": 30_002, "model_id": 40_001, "model_quantity_purchased": 1},
    ]
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(
            return_value=ok({"order_list": [detail("2506A", item_list=lines)]})
        )
        cancel = router.post(CANCEL).mock(return_value=ok({"update_time": TS}))
        setup.connector.cancel_order("2506A", CancelReason.OUT_OF_STOCK)
    (call,) = cancel.calls
    assert body(call.request) == {
        "order_sn": "2506A",
        "cancel_reason": "OUT_OF_STOCK",
        "item_list": [
            {"item_id": 30_001, "model_id": 0},
            {"item_id": 30_002, "model_id": 40_001},
        ],
    }
    signed = params(call.request)
    assert {"shop_id", "access_token", "sign"} <= signed.keys()


def test_a_buyer_request_cancel_sends_no_item_list() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(side_effect=details_for)
        cancel = router.post(CANCEL).mock(return_value=ok({"update_time": TS}))
        setup.connector.cancel_order("2506A", CancelReason.BUYER_REQUEST)
    assert body(cancel.calls[0].request) == {
        "order_sn": "2506A",
        "cancel_reason": "CUSTOMER_REQUEST",
    }


def test_a_cancel_refused_with_error_param_is_a_rejection_sent_once() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(
            return_value=ok({"order_list": [detail("2506A", "SHIPPED")]})
        )
        cancel = router.post(CANCEL).mock(
            return_value=fail(
                "order.error_param",
                "Wrong parameters, detail: an order in status SHIPPED cannot be "
                "cancelled; cancellation is allowed only before shipping.",
            )
        )
        with pytest.raises(RejectedError) as caught:
            setup.connector.cancel_order("2506A", CancelReason.OUT_OF_STOCK)
    assert cancel.call_count == 1
    assert caught.value.code == "error_param"
    assert "status SHIPPED" in str(caught.value)
    assert "only before shipping" in str(caught.value)


def test_a_cancel_of_an_order_the_shop_does_not_have_sends_nothing() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=False, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(return_value=ok({"order_list": []}))
        cancel = router.post(CANCEL).mock(return_value=ok({"update_time": TS}))
        with pytest.raises(RejectedError, match="no order '2506Z'"):
            setup.connector.cancel_order("2506Z", CancelReason.OUT_OF_STOCK)
        assert not cancel.called


def test_a_lost_cancel_answer_is_not_sent_again() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(side_effect=details_for)
        cancel = router.post(CANCEL).mock(side_effect=httpx.ReadTimeout("lost"))
        with pytest.raises(OutcomeUnknownError):
            setup.connector.cancel_order("2506A", CancelReason.OUT_OF_STOCK)
    assert cancel.call_count == 1


def test_a_cancel_answered_order_error_limit_is_a_rejection_not_the_daily_quota() -> (
    None
):
    """``order.error_limit`` is cancel_order's own "Can not cancel this order"
    (reference error list), not the gateway's daily quota (``error_limit``)."""
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(DETAIL).mock(side_effect=details_for)
        cancel = router.post(CANCEL).mock(
            return_value=fail("order.error_limit", "Can not cancel this order")
        )
        with pytest.raises(ConnectorError) as caught:
            setup.connector.cancel_order("2506A", CancelReason.OUT_OF_STOCK)
    assert cancel.call_count == 1
    assert type(caught.value) is RejectedError
    assert caught.value.code == "error_limit"
    assert "Can not cancel this order" in str(caught.value)
