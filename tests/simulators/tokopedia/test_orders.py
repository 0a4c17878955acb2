"""§6 orders: list window and paging, detail, actions and the state machine."""

from __future__ import annotations

import random

import pytest

from simulators.kit.buyers import BuyerEvent
from simulators.kit.clock import SimClock
from tests.simulators.tokopedia.conftest import Receiver, Toko, error, make_toko, ok

WINDOW = 259_200


def _statuses(toko: Toko) -> dict[int, int]:
    return {o["order_id"]: o["status"] for o in toko.sim.inspect_orders()}


def test_list_shows_only_orders_that_reached_220(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="O-1", stock=20).product_id
    paid = toko.paid_order(product_id, 2)
    unpaid = toko.sim.place_order(str(product_id), 1, "Budi")
    assert unpaid is not None
    now = toko.clock.timestamp()
    rows = ok(toko.orders(from_date=now - 60, to_date=now, page=1, per_page=10))
    assert [r["order_id"] for r in rows] == [paid]
    [row] = rows
    assert row["fs_id"] == toko.fs_id
    assert row["shop_id"] == int(toko.shop_id)
    assert row["order_status"] == 220
    assert row["invoice_ref_num"].startswith("INV/20250303/XXV/III/")
    [line] = row["products"]
    assert (line["id"], line["quantity"], line["sku"], line["currency"]) == (
        product_id,
        2,
        "O-1",
        "Rp",
    )
    assert line["total_price"] == 2 * line["price"]
    assert row["products_fulfilled"] == [
        {"product_id": product_id, "quantity_deliver": 2, "quantity_reject": 0}
    ]
    assert row["amt"]["ttl_product_price"] == 20_000
    error(toko.order(order_id=int(unpaid)), 400, "ORD_USC_002")


@pytest.mark.parametrize(
    ("span", "expected"),
    [(WINDOW - 1, None), (WINDOW, "ORD_DLV_013"), (WINDOW + 500, "ORD_DLV_013")],
)
def test_window_must_be_less_than_three_days(
    toko: Toko, span: int, expected: str | None
) -> None:
    answer = toko.orders(from_date=0, to_date=span, page=1, per_page=10)
    if expected is None:
        assert ok(answer) == []
    else:
        header = error(answer, 400, expected)
        assert header["reason"] == "Date Range must be less than 3 days"


@pytest.mark.parametrize(
    "params",
    [
        {"page": 0, "per_page": 10},
        {"page": 1, "per_page": 101},
        {"page": 1, "per_page": 0},
        {"per_page": 10},
        {"page": 1},
        {"page": "one", "per_page": 10},
    ],
)
def test_page_rules(toko: Toko, params: dict[str, object]) -> None:
    error(toko.orders(from_date=0, to_date=100, **params), 400, "ORD_DLV_001")


def test_per_page_100_is_allowed(toko: Toko) -> None:
    assert ok(toko.orders(from_date=0, to_date=100, page=1, per_page=100)) == []


def test_shop_id_xor_warehouse_id(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="W").product_id
    order_id = toko.paid_order(product_id)
    now = toko.clock.timestamp()
    base = {
        "fs_id": toko.fs_id,
        "from_date": now - 5,
        "to_date": now,
        "page": 1,
        "per_page": 5,
    }
    warehouse = toko.sim.credentials()["warehouse_id"]
    both = toko.call(
        "GET",
        "/v2/order/list",
        params={**base, "shop_id": toko.shop_id, "warehouse_id": warehouse},
    )
    error(both, 400, "ORD_DLV_001")
    neither = toko.call("GET", "/v2/order/list", params=base)
    error(neither, 400, "ORD_DLV_001")
    by_warehouse = ok(
        toko.call("GET", "/v2/order/list", params={**base, "warehouse_id": warehouse})
    )
    assert [r["order_id"] for r in by_warehouse] == [order_id]
    assert by_warehouse[0]["warehouse_id"] == int(warehouse)
    other = toko.call("GET", "/v2/order/list", params={**base, "warehouse_id": 1})
    error(other, 403, "RBAC_MDLW_001")


def test_walking_windows_and_pages_returns_every_order_exactly_once(toko: Toko) -> None:
    start = toko.clock.timestamp()
    product_id = toko.sim.seed_product(sku="MANY", stock=5_000).product_id
    rng = random.Random(7)  # noqa: S311 - order times, not cryptography
    offsets = sorted(
        {0, 1, WINDOW - 1, WINDOW, WINDOW + 1, 2 * WINDOW - 1, 2 * WINDOW}
        | {rng.randrange(0, 10 * 86_400) for _ in range(400)}
    )
    paid: set[int] = set()
    unpaid: set[int] = set()
    for index, offset in enumerate(offsets):
        toko.clock.advance(start + offset - toko.clock.timestamp())
        order = toko.sim.place_order(str(product_id), 1, "b")
        assert order is not None
        if index % 9 == 4:
            unpaid.add(int(order))
            continue
        toko.sim.buyer_event(order, BuyerEvent.PAY)
        paid.add(int(order))
    toko.clock.advance(3_600)
    seen: list[int] = []
    create_times: list[int] = []
    frm, end = start, start + 10 * 86_400
    pages = 0
    while frm <= end:
        to = frm + WINDOW - 1
        page = 1
        while True:
            rows = ok(toko.orders(from_date=frm, to_date=to, page=page, per_page=25))
            pages += 1
            for row in rows:
                assert frm <= row["create_time"] <= to
            seen.extend(r["order_id"] for r in rows)
            create_times.extend(r["create_time"] for r in rows)
            if len(rows) < 25:
                break
            page += 1
        frm = to + 1
    assert len(seen) == len(set(seen)), "an order came back twice"
    assert set(seen) == paid
    assert not set(seen) & unpaid
    assert create_times == sorted(create_times)
    assert pages > 4 * 3  # four windows, several pages each


def test_page_past_the_end_is_empty(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="E", stock=50).product_id
    for _ in range(3):
        toko.paid_order(product_id)
    now = toko.clock.timestamp()
    assert len(ok(toko.orders(from_date=now - 9, to_date=now, page=1, per_page=2))) == 2
    assert len(ok(toko.orders(from_date=now - 9, to_date=now, page=2, per_page=2))) == 1
    assert ok(toko.orders(from_date=now - 9, to_date=now, page=3, per_page=2)) == []


def test_status_filter(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="SF", stock=50).product_id
    accepted = toko.paid_order(product_id)
    toko.paid_order(product_id)
    ok(toko.action(accepted, "ack"))
    now = toko.clock.timestamp()
    rows = ok(
        toko.orders(from_date=now - 9, to_date=now, page=1, per_page=10, status=400)
    )
    assert [r["order_id"] for r in rows] == [accepted]


def test_pagination_faults_repeat_and_empty_pages(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="PG", stock=50).product_id
    for _ in range(6):
        toko.paid_order(product_id)
    now = toko.clock.timestamp()
    window = {"from_date": now - 9, "to_date": now, "per_page": 2}
    first = ok(toko.orders(page=1, **window))
    toko.sim.repeat_page_next()
    assert ok(toko.orders(page=2, **window)) == first
    toko.sim.empty_page_next()
    assert ok(toko.orders(page=2, **window)) == []
    assert len(ok(toko.orders(page=3, **window))) == 2


def test_detail_by_order_id_or_invoice(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="D", price=25_000).product_id
    order_id = toko.paid_order(product_id, 2)
    detail = ok(toko.order(order_id=order_id))
    assert detail["order_id"] == order_id
    assert detail["order_status"] == 220
    assert detail["seller_id"] == int(toko.shop_id)
    assert detail["item_price"] == 50_000
    assert detail["open_amt"] > 50_000
    assert set(detail["buyer_info"]) >= {
        "buyer_id",
        "buyer_fullname",
        "buyer_email",
        "buyer_phone",
    }
    assert detail["order_info"]["order_detail"][0]["sku"] == "D"
    by_invoice = ok(toko.order(invoice_num=detail["invoice_number"]))
    assert by_invoice == detail
    error(toko.order(), 400, "ORD_DLV_001")
    error(toko.order(order_id=1), 400, "ORD_USC_002")
    error(toko.order(invoice_num="INV/x"), 400, "ORD_USC_002")


def test_ack_only_from_220(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="ACK").product_id
    order_id = toko.paid_order(product_id)
    assert ok(toko.action(order_id, "ack")) == "success"
    assert _statuses(toko)[order_id] == 400
    header = error(toko.action(order_id, "ack"), 400, "ORD_USC_001")
    assert "400" in header["reason"]
    error(toko.action(999, "ack"), 400, "ORD_USC_002")


@pytest.mark.parametrize(("reason_code", "status"), [(1, 3), (0, 10), (4, 10), (8, 10)])
def test_nack_status_and_stock_given_back(
    toko: Toko, reason_code: int, status: int
) -> None:
    product_id = toko.sim.seed_product(sku="N", stock=5).product_id
    order_id = toko.paid_order(product_id, 2)
    assert toko.sim.inspect_listings()[0]["stock"] == 3
    body = {"reason_code": reason_code, "reason": "habis"}
    assert ok(toko.action(order_id, "nack", body)) == "success"
    assert _statuses(toko)[order_id] == status
    assert toko.sim.inspect_listings()[0]["stock"] == 5
    error(toko.action(order_id, "nack", body), 400, "ORD_USC_001")


def test_nack_reason_code_must_be_known(toko: Toko) -> None:
    order_id = toko.paid_order(toko.sim.seed_product(sku="NR").product_id)
    error(toko.action(order_id, "nack", {"reason_code": 6}), 400, "ORD_DLV_001")
    error(toko.action(order_id, "nack", {"reason": "x"}), 400, "ORD_DLV_001")
    error(toko.action(order_id, "nack", [1]), 400, "ORD_DLV_038")


def test_full_happy_path_through_the_state_machine(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="HP", stock=4).product_id
    order_id = toko.paid_order(product_id)
    ship = {"order_status": 500, "shipping_ref_num": "JNE123"}
    error(toko.action(order_id, "status", ship), 400, "ORD_USC_001")  # not accepted
    ok(toko.action(order_id, "ack"))
    pickup = toko.call(
        "POST",
        f"/inventory/v1/fs/{toko.fs_id}/pick-up",
        body={"order_id": order_id, "shop_id": int(toko.shop_id)},
    )
    assert ok(pickup)["result"] == "success"
    assert _statuses(toko)[order_id] == 450
    error(toko.action(order_id, "status", {"order_status": 500}), 400, "ORD_DLV_001")
    error(
        toko.action(order_id, "status", {"order_status": 600, "shipping_ref_num": "J"}),
        400,
        "ORD_DLV_001",
    )
    ok(toko.action(order_id, "status", ship))
    assert (
        ok(toko.order(order_id=order_id))["order_info"]["shipping_info"]["awb"]
        == "JNE123"
    )
    assert toko.sim.buyer_event(str(order_id), BuyerEvent.DELIVER)
    assert toko.sim.buyer_event(str(order_id), BuyerEvent.COMPLETE)
    assert not toko.sim.buyer_event(str(order_id), BuyerEvent.CANCEL)
    history = ok(toko.order(order_id=order_id))["order_info"]["order_history"]
    assert [h["hist_status_code"] for h in history] == [
        700,
        600,
        500,
        450,
        400,
        220,
        100,
    ]
    assert toko.sim.inspect_listings()[0]["stock"] == 3


def test_buyer_cancel_request_reject_and_expiry(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="CR", stock=6).product_id
    first = toko.paid_order(product_id)
    second = toko.paid_order(product_id)
    for order_id in (first, second):
        ok(toko.action(order_id, "ack"))
    error(toko.action(first, "reject-cancel", shop_id=toko.shop_id), 400, "ORD_USC_001")
    assert toko.sim.buyer_event(str(first), BuyerEvent.CANCEL)  # asks, not instant
    assert toko.sim.request_cancellation(second, "salah alamat")
    assert (
        ok(toko.order(order_id=second))["cancel_request_info"]["reason"]
        == "salah alamat"
    )
    assert ok(toko.action(first, "reject-cancel", shop_id=toko.shop_id)) == "success"
    toko.clock.advance(172_800)
    toko.sim.tick()
    statuses = _statuses(toko)
    assert (statuses[first], statuses[second]) == (400, 15)
    assert toko.sim.inspect_listings()[0]["stock"] == 5
    error(toko.action(first, "reject-cancel"), 400, "ORD_DLV_001")


def test_instant_buyer_cancel_before_acceptance(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="IC", stock=3).product_id
    order_id = toko.paid_order(product_id, 3)
    assert toko.sim.inspect_listings()[0]["status"] == "empty"
    assert toko.sim.buyer_event(str(order_id), BuyerEvent.CANCEL)
    assert _statuses(toko)[order_id] == 15
    listing = toko.sim.inspect_listings()[0]
    assert (listing["stock"], listing["status"]) == (3, "active")


def test_auto_cancel_releases_stock(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="AU", stock=2).product_id
    order_id = toko.paid_order(product_id)
    assert toko.sim.auto_cancel(order_id)
    assert _statuses(toko)[order_id] == 6
    assert toko.sim.inspect_listings()[0]["stock"] == 2
    error(toko.action(order_id, "ack"), 400, "ORD_USC_001")
    assert not toko.sim.auto_cancel(order_id)


def test_auto_cancel_after_a_delay(sim_clock: SimClock, receiver: Receiver) -> None:
    for toko in make_toko(
        sim_clock, receiver, rate_limits=False, auto_cancel_after=3_600
    ):
        product_id = toko.sim.seed_product(sku="AD").product_id
        waiting = toko.paid_order(product_id)
        accepted = toko.paid_order(product_id)
        ok(toko.action(accepted, "ack"))
        toko.clock.advance(3_600)
        now = toko.clock.timestamp()
        rows = ok(toko.orders(from_date=now - 7_200, to_date=now, page=1, per_page=10))
        statuses = {r["order_id"]: r["order_status"] for r in rows}
        assert statuses == {waiting: 6, accepted: 400}


@pytest.mark.parametrize("status", [501, 520, 530, 540, 550, 601, 690])
def test_shipping_problems_are_visible(toko: Toko, status: int) -> None:
    order_id = toko.paid_order(toko.sim.seed_product(sku="SP").product_id)
    assert not toko.sim.shipping_problem(order_id, status)  # not accepted yet
    ok(toko.action(order_id, "ack"))
    assert toko.sim.shipping_problem(order_id, status)
    assert ok(toko.order(order_id=order_id))["order_status"] == status
    assert not toko.sim.shipping_problem(order_id, 700)


def test_awb_can_be_resubmitted_after_invalid_awb(toko: Toko) -> None:
    order_id = toko.paid_order(toko.sim.seed_product(sku="AWB").product_id)
    ok(toko.action(order_id, "ack"))
    ok(
        toko.action(
            order_id, "status", {"order_status": 500, "shipping_ref_num": "BAD"}
        )
    )
    assert toko.sim.shipping_problem(order_id, 520)
    ok(
        toko.action(
            order_id, "status", {"order_status": 500, "shipping_ref_num": "GOOD"}
        )
    )
    assert ok(toko.order(order_id=order_id))["order_status"] == 500


def test_upstream_errors(toko: Toko) -> None:
    order_id = toko.paid_order(toko.sim.seed_product(sku="UP").product_id)
    toko.sim.upstream_error_next(endpoint="order_ack", code="ORD_USC_007")
    header = error(toko.action(order_id, "ack"), 500, "ORD_USC_007")
    assert (
        header["messages"] == "Our server encounters an error, please try again later"
    )
    assert _statuses(toko)[order_id] == 220
    toko.sim.upstream_error_next(2, endpoint="order_list")
    now = toko.clock.timestamp()
    for _ in range(2):
        error(
            toko.orders(from_date=now, to_date=now, page=1, per_page=1),
            500,
            "ORD_API_006",
        )
    assert len(ok(toko.orders(from_date=now, to_date=now, page=1, per_page=1))) == 1
    ok(toko.action(order_id, "ack"))


def test_injected_server_error_uses_the_envelope(toko: Toko) -> None:
    toko.sim.faults.fail_next(endpoint="order_list", status=503, retry_after=2)
    now = toko.clock.timestamp()
    answer = toko.orders(from_date=now, to_date=now, page=1, per_page=1)
    error(answer, 503, "ORD_API_006")
    assert answer.headers["Retry-After"] == "2"
    assert answer.headers["X-Ratelimit-Limit"] == "5 req/s (burst 5)"


def test_buyer_events_refuse_impossible_transitions(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="BE").product_id
    order = toko.sim.place_order(str(product_id), 1, "b")
    assert order is not None
    assert not toko.sim.buyer_event(order, BuyerEvent.SHIP)
    assert not toko.sim.buyer_event(order, BuyerEvent.DELIVER)
    assert not toko.sim.buyer_event(order, BuyerEvent.COMPLETE)
    assert not toko.sim.buyer_event("nope", BuyerEvent.PAY)
    assert toko.sim.buyer_event(order, BuyerEvent.PAY)
    assert not toko.sim.buyer_event(order, BuyerEvent.PAY)
    assert toko.sim.buyer_event(order, BuyerEvent.SHIP)  # the seller ships: 400, 500
    assert not toko.sim.buyer_event(order, BuyerEvent.COMPLETE)
    assert toko.sim.buyer_event(order, BuyerEvent.RETURN)
    assert _statuses(toko)[int(order)] == 550
    assert toko.sim.inspect_listings()[0]["stock"] == 9  # a return is not restocked
