"""Transactions: list windows and paging, detail, status changes, stock (page §5,
§8.1 items 6-9, §9 time filter and format)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from simulators.kit.buyers import BuyerEvent
from tests.simulators.bukalapak._support import (
    START,
    Market,
    assert_error,
    bearer,
    make_market,
)

WINDOW = timedelta(days=1)


def _sku(market: Market, stock: int = 100, price: int = 10_000) -> int:
    product = market.sim.add_product(
        name="Anyaman Bambu", sku_name=f"AB-{stock}-{price}", price=price, stock=stock
    )
    return int(market.sim.catalogue.products[product].sku_ids[0])


def _stock(market: Market, sku_id: int) -> int:
    listings = market.api.get("/_sim/listings").json()["listings"]
    stock: int = next(e["stock"] for e in listings if e["sku_id"] == sku_id)
    return stock


def _order(
    market: Market, sku_id: int, quantity: int = 1, *, paid: bool = False
) -> int:
    order = market.sim.place_order(str(sku_id), quantity, "buyer-0042")
    assert order is not None
    if paid:
        assert market.sim.buyer_event(order, BuyerEvent.PAY)
    return int(order)


def _list(market: Market, token: str, **params: Any) -> dict[str, Any]:
    response = market.api.get(
        "/transactions",
        params={"context": "sale", **params},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["meta"]["http_status"] == 200
    return body


def _status(market: Market, token: str, txn: int, body: dict[str, Any]) -> Any:
    return market.api.put(
        f"/transactions/{txn}/status", headers=bearer(token), json=body
    )


def _state(market: Market, token: str, txn: int) -> str:
    response = market.api.get(f"/transactions/{txn}", headers=bearer(token))
    state: str = response.json()["data"]["state"]
    return state


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def test_list_needs_context_sale(market: Market, token: str) -> None:
    _order(market, _sku(market))

    missing = market.api.get("/transactions", headers=bearer(token))
    wrong = market.api.get(
        "/transactions", params={"context": "all"}, headers=bearer(token)
    )

    assert_error(missing, 422)
    assert_error(wrong, 422)
    assert _list(market, token)["meta"]["total"] == 1


def test_every_transaction_once_across_windows_and_pages() -> None:
    market = make_market(pending_expires_after=None, seed=3)
    token = market.seller_token()
    sku = _sku(market, stock=10_000)
    placed: set[int] = set()
    rng = market.sim.rng
    for _ in range(420):
        market.clock.advance(seconds=rng.randrange(0, 4_000))
        placed.add(_order(market, sku))
    end = market.clock.now() + timedelta(seconds=1)
    # a fresh token: the first one lapsed while the orders arrived
    token = market.seller_token()
    seen: list[int] = []
    start = START
    while start < end:
        stop = min(start + WINDOW, end)
        offset = 0
        while True:
            body = _list(
                market,
                token,
                start_time=_iso(start),
                end_time=_iso(stop),
                limit=50,
                offset=offset,
            )
            rows = body["data"]
            assert len(rows) <= 50
            seen.extend(row["id"] for row in rows)
            offset += 50
            if offset >= body["meta"]["total"]:
                break
        start = stop

    assert len(seen) == len(set(seen)) == 420
    assert set(seen) == placed


def test_window_start_is_inclusive_and_end_exclusive(
    market: Market, token: str
) -> None:
    txn = _order(market, _sku(market))
    at = START

    inside = _list(market, token, start_time=_iso(at), end_time=_iso(at + WINDOW))
    before = _list(market, token, start_time=_iso(at - WINDOW), end_time=_iso(at))

    assert [row["id"] for row in inside["data"]] == [txn]
    assert before["data"] == []
    assert before["meta"]["total"] == 0


def test_queries_accept_any_offset_and_answers_use_wib(
    market: Market, token: str
) -> None:
    txn = _order(market, _sku(market))
    # 09:00 WIB = 02:00Z = 21:00 the day before at -05:00
    variants = [
        ("2024-06-03T02:00:00Z", "2024-06-03T02:00:01Z"),
        ("2024-06-03T09:00:00+07:00", "2024-06-03T09:00:01+07:00"),
        ("2024-06-02T21:00:00-05:00", "2024-06-02T21:00:01-05:00"),
        ("2024-06-03T09:00:00", "2024-06-03T09:00:01"),  # no offset: WIB
    ]
    for start, end in variants:
        body = _list(market, token, start_time=start, end_time=end)
        assert [row["id"] for row in body["data"]] == [txn], (start, end)

    row = _list(market, token)["data"][0]
    assert row["created_at"] == "2024-06-03T09:00:00+07:00"
    assert datetime.fromisoformat(row["created_at"]) == START


def test_bad_times_are_422(market: Market, token: str) -> None:
    for params in (
        {"start_time": "yesterday"},
        {"end_time": "2024-13-01T00:00:00Z"},
        {"start_time": "2024-06-04T00:00:00Z", "end_time": "2024-06-03T00:00:00Z"},
    ):
        response = market.api.get(
            "/transactions",
            params={"context": "sale", **params},
            headers=bearer(token),
        )
        assert_error(response, 422)


def test_states_filter_is_repeatable(market: Market, token: str) -> None:
    sku = _sku(market)
    pending = _order(market, sku)
    paid = _order(market, sku, paid=True)
    accepted = _order(market, sku, paid=True)
    assert _status(market, token, accepted, {"state": "accepted"}).is_success

    both = _list(market, token, **{"states[]": ["pending", "paid"]})
    only = _list(market, token, **{"states[]": ["accepted"]})
    everything = _list(market, token)

    assert {row["id"] for row in both["data"]} == {pending, paid}
    assert both["meta"]["total"] == 2
    assert [row["id"] for row in only["data"]] == [accepted]
    assert everything["meta"]["total"] == 3
    assert_error(
        market.api.get(
            "/transactions",
            params={"context": "sale", "states[]": ["shipped"]},
            headers=bearer(token),
        ),
        422,
    )


def test_states_filter_pages_every_match_once(market: Market, token: str) -> None:
    sku = _sku(market, stock=1_000)
    wanted: set[int] = set()
    for number in range(130):
        market.clock.advance(seconds=7)
        txn = _order(market, sku, paid=number % 3 != 0)
        if number % 3 != 0 or number % 2 == 0:
            wanted.add(txn)
    token = market.seller_token()
    seen: list[int] = []
    for offset in range(0, 200, 50):
        body = _list(
            market, token, offset=offset, limit=50, **{"states[]": ["paid", "pending"]}
        )
        seen.extend(row["id"] for row in body["data"])
    every = {row["id"] for row in _list(market, token, limit=50)["data"]}

    assert len(seen) == len(set(seen)) == 130
    assert len(every) == 50
    assert wanted <= set(seen)


def test_list_limit_is_at_most_50(market: Market, token: str) -> None:
    assert _list(market, token, limit=50)["meta"]["limit"] == 50
    for params in ({"limit": 51}, {"limit": 0}, {"offset": -3}):
        response = market.api.get(
            "/transactions",
            params={"context": "sale", **params},
            headers=bearer(token),
        )
        assert_error(response, 422)


def test_list_shows_only_the_tokens_store(market: Market, token: str) -> None:
    other = market.sim.add_product(
        name="Kopi",
        sku_name="KOPI",
        price=1,
        stock=5,
        store_id=int(market.creds["other_store_id"]),
    )
    other_sku = market.sim.catalogue.products[other].sku_ids[0]
    _order(market, other_sku)

    assert _list(market, token)["meta"]["total"] == 0


def test_detail_has_the_documented_fields(market: Market, token: str) -> None:
    sku = _sku(market, price=45_000)
    txn = _order(market, sku, 2)

    response = market.api.get(f"/transactions/{txn}", headers=bearer(token))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == txn
    assert isinstance(data["transaction_id"], str)
    assert data["transaction_id"] != str(txn)
    assert data["state"] == "pending"
    assert data["buyer"]["name"]
    seller = data["amount"]["seller"]
    assert seller["details"]["items"] == 90_000
    assert seller["total"] == 90_000 + seller["details"]["delivery"]
    assert seller["details"]["reductions"] == []
    consignee = data["delivery"]["consignee"]
    assert set(consignee) >= {
        "name",
        "phone",
        "address",
        "district",
        "city",
        "province",
        "country",
        "postal_code",
    }
    assert "Terkunci" not in consignee["phone"]
    assert data["delivery"]["requested_carrier"]
    assert "buyer_note" in data["options"]
    item = data["items"][0]
    assert (item["quantity"], item["price"], item["total_price"]) == (2, 45_000, 90_000)
    assert item["stuff"]["sku_name"] == "AB-100-45000"
    assert item["stuff"]["product"]["weight"] == 500


def test_detail_of_unknown_or_foreign_transaction(market: Market, token: str) -> None:
    other = market.sim.add_product(
        name="Kopi",
        sku_name="KOPI",
        price=1,
        stock=5,
        store_id=int(market.creds["other_store_id"]),
    )
    foreign = _order(market, market.sim.catalogue.products[other].sku_ids[0])

    assert_error(market.api.get("/transactions/1", headers=bearer(token)), 404)
    assert_error(market.api.get("/transactions/abc", headers=bearer(token)), 404)
    assert_error(market.api.get(f"/transactions/{foreign}", headers=bearer(token)), 403)


def test_accept_then_ship_with_carrier_and_tracking(market: Market, token: str) -> None:
    txn = _order(market, _sku(market), paid=True)

    accepted = _status(market, token, txn, {"state": "accepted"})
    shipped = _status(
        market,
        token,
        txn,
        {
            "state": "delivered",
            "state_options": {"carrier": "JNE", "tracking_number": "JNE123"},
        },
    )

    assert accepted.json()["data"]["state"] == "accepted"
    assert shipped.status_code == 200
    data = shipped.json()["data"]
    assert data["state"] == "delivered"
    assert data["delivery"]["tracking_number"] == "JNE123"
    orders = market.api.get("/_sim/orders").json()["orders"]
    assert [(o["status"], o["tracking_number"]) for o in orders] == [
        ("delivered", "JNE123")
    ]


@pytest.mark.parametrize(
    "options",
    [None, {}, {"carrier": "JNE"}, {"tracking_number": "X1"}, {"carrier": " "}],
)
def test_shipping_needs_carrier_and_tracking_number(
    market: Market, token: str, options: dict[str, str] | None
) -> None:
    txn = _order(market, _sku(market), paid=True)
    _status(market, token, txn, {"state": "accepted"})
    body: dict[str, Any] = {"state": "delivered"}
    if options is not None:
        body["state_options"] = options

    assert_error(_status(market, token, txn, body), 422)
    assert _state(market, token, txn) == "accepted"


def test_illegal_transitions_are_422(market: Market, token: str) -> None:
    sku = _sku(market)
    pending = _order(market, sku)
    paid = _order(market, sku, paid=True)

    cases: list[tuple[int, dict[str, Any]]] = [
        (pending, {"state": "accepted"}),
        (
            paid,
            {
                "state": "delivered",
                "state_options": {"carrier": "JNE", "tracking_number": "1"},
            },
        ),
        (paid, {"state": "received"}),
        (paid, {"state": "cancelled"}),
        (paid, {}),
    ]
    for txn, body in cases:
        error = assert_error(_status(market, token, txn, body), 422)
        assert error["errors"][0]["message"]
    assert _state(market, token, pending) == "pending"
    assert _state(market, token, paid) == "paid"
    assert _status(market, token, paid, {"state": "accepted"}).is_success
    assert_error(_status(market, token, paid, {"state": "accepted"}), 422)


def test_status_change_ignores_unknown_extra_fields(market: Market, token: str) -> None:
    txn = _order(market, _sku(market), paid=True)

    response = _status(market, token, txn, {"state": "accepted", "reason": "ok"})

    assert response.status_code == 200


def test_stock_is_reserved_when_paid_and_released_once(
    market: Market, token: str
) -> None:
    sku = _sku(market, stock=10)
    txn = _order(market, sku, 3)
    assert _stock(market, sku) == 10  # pending reserves nothing

    assert market.sim.buyer_event(str(txn), BuyerEvent.PAY)
    assert _stock(market, sku) == 7
    assert market.sim.set_transaction_state(txn, "rejected")
    assert _stock(market, sku) == 10
    assert market.sim.set_transaction_state(txn, "refunded")
    assert _stock(market, sku) == 10  # given back once only


@pytest.mark.parametrize("end_state", ["cancelled", "expired", "rejected"])
def test_each_releasing_state_gives_stock_back(
    market: Market, token: str, end_state: str
) -> None:
    sku = _sku(market, stock=4)
    txn = _order(market, sku, 4, paid=True)
    assert _stock(market, sku) == 0

    assert market.sim.set_transaction_state(txn, end_state)

    assert _stock(market, sku) == 4


def test_shipped_and_received_keep_the_stock_taken(market: Market, token: str) -> None:
    sku = _sku(market, stock=5)
    txn = _order(market, sku, 2, paid=True)
    for event in (BuyerEvent.SHIP, BuyerEvent.DELIVER, BuyerEvent.COMPLETE):
        assert market.sim.buyer_event(str(txn), event)

    assert _state(market, token, txn) == "remitted"
    assert _stock(market, sku) == 3
    assert not market.sim.buyer_event(str(txn), BuyerEvent.RETURN)
    assert not market.sim.set_transaction_state(txn, "refunded")


def test_payment_refused_when_stock_ran_out(market: Market, token: str) -> None:
    sku = _sku(market, stock=2)
    first, second = _order(market, sku, 2), _order(market, sku, 2)

    assert market.sim.buyer_event(str(first), BuyerEvent.PAY)
    assert not market.sim.buyer_event(str(second), BuyerEvent.PAY)

    assert _stock(market, sku) == 0
    assert _state(market, token, second) == "expired"


def test_unpaid_transactions_lapse_with_the_clock(market: Market) -> None:
    sku = _sku(market, stock=5)
    txn = _order(market, sku)
    market.clock.advance(hours=23, minutes=59)
    assert _state(market, market.seller_token(), txn) == "pending"

    market.clock.advance(minutes=1)

    assert _state(market, market.seller_token(), txn) == "expired"


def test_unaccepted_paid_transactions_lapse_and_release(market: Market) -> None:
    sku = _sku(market, stock=5)
    txn = _order(market, sku, 2, paid=True)
    assert _stock(market, sku) == 3

    market.clock.advance(hours=48)

    token = market.seller_token()
    assert _state(market, token, txn) == "expired"
    assert _stock(market, sku) == 5


def test_logistic_booking_needs_the_partner_user_agent(
    market: Market, token: str
) -> None:
    txn = _order(market, _sku(market), paid=True)
    body = {"transaction_id": txn, "courier_selection": "jne", "service_type": "REG"}
    agent = market.creds["user_agent"]

    missing = market.api.post(
        "/_partners/logistic-bookings", headers=bearer(token), json=body
    )
    wrong = market.api.post(
        "/_partners/logistic-bookings",
        headers={
            **bearer(token),
            "User-Agent": "Bukalapak/TUA(Partner;someone;+https://www.bukalapak.com)",
        },
        json=body,
    )
    booked = market.api.post(
        "/_partners/logistic-bookings",
        headers={**bearer(token), "User-Agent": agent},
        json=body,
    )

    assert_error(missing, 403)
    assert_error(wrong, 403)
    assert booked.status_code == 201
    assert booked.json()["data"]["transaction_id"] == txn
    assert market.api.get("/me", headers=bearer(token)).status_code == 200


def test_logistic_booking_validation(market: Market, token: str) -> None:
    sku = _sku(market)
    pending = _order(market, sku)
    paid = _order(market, sku, paid=True)
    code = market.api.get(f"/transactions/{paid}", headers=bearer(token)).json()[
        "data"
    ]["transaction_id"]
    headers = {**bearer(token), "User-Agent": market.creds["user_agent"]}

    def book(body: dict[str, Any]) -> Any:
        return market.api.post(
            "/_partners/logistic-bookings", headers=headers, json=body
        )

    assert_error(book({"transaction_id": paid}), 422)
    assert_error(
        book(
            {"transaction_id": pending, "courier_selection": "j", "service_type": "R"}
        ),
        422,
    )
    assert_error(
        book({"transaction_id": 5, "courier_selection": "j", "service_type": "R"}), 404
    )
    by_code = book(
        {"transaction_id": code, "courier_selection": "j", "service_type": "R"}
    )
    assert by_code.status_code == 201


def test_filtered_pages_match_the_full_record_in_order() -> None:
    market = make_market(pending_expires_after=None, paid_expires_after=None, seed=8)
    sku = _sku(market, stock=100_000)
    rng = market.sim.rng
    for _ in range(300):
        if rng.random() < 0.5:  # many transactions share a created_at
            market.clock.advance(seconds=rng.choice((1, 60, 600)))
        order = _order(market, sku)
        for state in rng.choice(([], ["paid"], ["paid", "accepted"], ["expired"])):
            assert market.sim.set_transaction_state(order, state)
    token = market.seller_token()
    orders = market.api.get("/_sim/orders").json()["orders"]
    start = START + timedelta(minutes=20)
    end = market.clock.now() - timedelta(minutes=20)
    for states in (["paid", "pending"], ["accepted", "expired", "pending"], ["paid"]):
        expected = [
            o["id"]
            for o in sorted(
                orders,
                key=lambda o: (datetime.fromisoformat(o["created_at"]), o["id"]),
                reverse=True,
            )
            if o["status"] in states
            and start <= datetime.fromisoformat(o["created_at"]) < end
        ]
        for offset, limit in ((0, 50), (7, 13), (len(expected) - 3, 50), (33, 1)):
            body = _list(
                market,
                token,
                offset=offset,
                limit=limit,
                start_time=_iso(start),
                end_time=_iso(end),
                **{"states[]": states},
            )
            assert body["meta"]["total"] == len(expected)
            got = [row["id"] for row in body["data"]]
            assert got == expected[offset : offset + limit], (states, offset)


def test_windows_have_no_maximum_length(market: Market, token: str) -> None:
    old = market.sim.create_transaction(
        _sku(market), created_at=START - timedelta(days=400)
    )
    new = _order(market, _sku(market, stock=3))

    body = _list(
        market,
        token,
        start_time=_iso(START - timedelta(days=500)),
        end_time=_iso(START + timedelta(days=1)),
    )

    assert [row["id"] for row in body["data"]] == [new, old]
