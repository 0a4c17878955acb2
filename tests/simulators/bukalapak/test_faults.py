"""Rate limits (page §9) and the faults of page §8.2, specific and generic."""

from __future__ import annotations

import httpx
import pytest

from simulators.kit.buyers import BuyerEvent
from tests.simulators.bukalapak._support import (
    Market,
    assert_error,
    bearer,
    create_product,
    make_market,
    product_body,
)


def _sku(market: Market, stock: int = 50) -> tuple[str, int]:
    product = market.sim.add_product(
        name="Keramik", sku_name="KRM-1", price=30_000, stock=stock
    )
    return product, market.sim.catalogue.products[product].sku_ids[0]


def _stock(market: Market, sku_id: int) -> int:
    listings = market.api.get("/_sim/listings").json()["listings"]
    stock: int = next(e["stock"] for e in listings if e["sku_id"] == sku_id)
    return stock


# ---------------------------------------------------------------------- rate limits


def test_eleventh_call_in_a_second_is_429_without_retry_after() -> None:
    market = make_market(rate_limits=True)
    token = market.seller_token()
    answers = [market.api.get("/me", headers=bearer(token)) for _ in range(11)]

    assert [a.status_code for a in answers[:10]] == [200] * 10
    error = assert_error(answers[10], 429)
    assert len(error["errors"]) == 1
    assert "retry-after" not in answers[10].headers


def test_tokens_come_back_as_the_clock_advances() -> None:
    market = make_market(rate_limits=True)
    token = market.seller_token()
    for _ in range(10):
        assert market.api.get("/me", headers=bearer(token)).status_code == 200
    assert market.api.get("/me", headers=bearer(token)).status_code == 429

    # 0.1 s would do, but the shared bucket refills from float epoch seconds, whose
    # rounding can leave 0.999999 of a token; 0.15 s is one whole token either way.
    market.clock.advance(seconds=0.15)
    assert market.api.get("/me", headers=bearer(token)).status_code == 200
    assert market.api.get("/me", headers=bearer(token)).status_code == 429

    market.clock.advance(seconds=5)  # the bucket holds 10, no more
    codes = [
        market.api.get("/me", headers=bearer(token)).status_code for _ in range(11)
    ]
    assert codes == [200] * 10 + [429]


def test_rate_limit_is_per_access_token() -> None:
    market = make_market(rate_limits=True)
    first, second = market.seller_token(), market.seller_token()
    for _ in range(10):
        market.api.get("/me", headers=bearer(first))

    assert market.api.get("/me", headers=bearer(first)).status_code == 429
    assert market.api.get("/me", headers=bearer(second)).status_code == 200


def test_rate_limits_can_be_switched_off(market: Market, token: str) -> None:
    codes = {
        market.api.get("/me", headers=bearer(token)).status_code for _ in range(40)
    }

    assert codes == {200}


# ---------------------------------------------------------------------- token faults


def test_token_expiry_fault_then_refresh_and_retry(market: Market) -> None:
    tokens = market.tokens()
    market.sim.expire_access_tokens()

    assert_error(market.api.get("/me", headers=bearer(tokens["access_token"])), 401)
    renewed = market.refresh(tokens["refresh_token"]).json()
    assert market.api.get("/me", headers=bearer(renewed["access_token"])).is_success


def test_refresh_rejected_fault(market: Market) -> None:
    tokens = market.tokens()
    market.sim.reject_refresh_next()

    rejected = market.refresh(tokens["refresh_token"])

    assert rejected.status_code == 400
    assert rejected.json()["error"] == "invalid_grant"
    assert rejected.json()["meta"]["http_status"] == 400


# ---------------------------------------------------------------------- envelope


def test_envelope_mismatch_is_http_200_with_an_error_body(
    market: Market, token: str
) -> None:
    product, sku = _sku(market, stock=8)
    market.sim.envelope_mismatch_next(endpoint="skus.update", status=503)

    response = market.api.patch(
        f"/products/{product}/skus/{sku}", headers=bearer(token), json={"stock": 1}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["http_status"] == 503
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert _stock(market, sku) == 8  # nothing applied
    again = market.api.patch(
        f"/products/{product}/skus/{sku}", headers=bearer(token), json={"stock": 1}
    )
    assert again.json()["meta"]["http_status"] == 200
    assert _stock(market, sku) == 1


def test_envelope_mismatch_with_a_client_error_status(
    market: Market, token: str
) -> None:
    market.sim.envelope_mismatch_next(2, status=422)

    answers = [market.api.get("/me", headers=bearer(token)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["meta"]["http_status"] for a in answers] == [422, 422, 200]


# ---------------------------------------------------------------------- masked phone


def test_masked_phone_for_every_transaction() -> None:
    market = make_market(mask_phones=True)
    _product, sku = _sku(market)
    order = market.sim.place_order(str(sku), 1, "buyer-1")
    token = market.seller_token()

    row = market.api.get(
        "/transactions", params={"context": "sale"}, headers=bearer(token)
    ).json()["data"][0]
    detail = market.api.get(f"/transactions/{order}", headers=bearer(token)).json()

    assert "Terkunci" in row["delivery"]["consignee"]["phone"]
    assert "Terkunci" in detail["data"]["delivery"]["consignee"]["phone"]


def test_masked_phone_for_one_transaction(market: Market, token: str) -> None:
    _product, sku = _sku(market)
    masked = market.sim.place_order(str(sku), 1, "buyer-1")
    clear = market.sim.place_order(str(sku), 1, "buyer-2")
    assert masked is not None
    assert clear is not None
    market.sim.mask_phone(int(masked))

    def phone(order: str) -> str:
        data = market.api.get(f"/transactions/{order}", headers=bearer(token)).json()
        value: str = data["data"]["delivery"]["consignee"]["phone"]
        return value

    assert "Terkunci" in phone(masked)
    assert "Terkunci" not in phone(clear)
    assert phone(clear).startswith("08")


# ---------------------------------------------------------------------- shifting


def test_shifting_pages_repeat_a_row_and_overlap_dedupe_recovers_all(
    market: Market,
) -> None:
    _product, sku = _sku(market, stock=500)
    before: set[int] = set()
    for _ in range(120):
        market.clock.advance(seconds=30)
        order = market.sim.place_order(str(sku), 1, "buyer-1")
        assert order is not None
        before.add(int(order))
    token = market.seller_token()
    market.sim.shift_pages_next(2)

    seen: list[int] = []
    totals: list[int] = []
    for offset in (0, 50, 100, 150):
        body = market.api.get(
            "/transactions",
            params={"context": "sale", "offset": offset, "limit": 50},
            headers=bearer(token),
        ).json()
        seen.extend(row["id"] for row in body["data"])
        totals.append(body["meta"]["total"])

    assert totals[0] == 120
    assert totals[-1] == 122  # two transactions arrived while paging
    assert len(seen) > len(set(seen))  # a row came twice: pages shifted
    assert before <= set(seen)  # deduplicated by id, nothing lost
    orders = market.api.get("/_sim/orders").json()["orders"]
    assert len(orders) == 122


def test_shifting_pages_inside_a_past_window(market: Market, token: str) -> None:
    _product, sku = _sku(market, stock=500)
    start = market.clock.now()
    for _ in range(60):
        market.clock.advance(seconds=10)
        assert market.sim.place_order(str(sku), 1, "buyer-1") is not None
    end = market.clock.now()
    market.clock.advance(hours=2)
    token = market.seller_token()
    market.sim.shift_pages_next()
    params: dict[str, str | int] = {
        "context": "sale",
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        "limit": 50,
    }

    first = market.api.get("/transactions", params=params, headers=bearer(token))
    second = market.api.get(
        "/transactions", params={**params, "offset": 50}, headers=bearer(token)
    )

    assert first.json()["meta"]["total"] == 59  # end is exclusive
    assert second.json()["meta"]["total"] == 60
    assert second.json()["data"][0]["id"] == first.json()["data"][-1]["id"]


# ---------------------------------------------------------------------- state race


def test_state_race_between_list_and_detail(market: Market, token: str) -> None:
    _product, sku = _sku(market, stock=5)
    order = market.sim.place_order(str(sku), 2, "buyer-1")
    assert order is not None
    assert market.sim.buyer_event(order, BuyerEvent.PAY)
    listed = market.api.get(
        "/transactions", params={"context": "sale"}, headers=bearer(token)
    ).json()["data"][0]
    assert listed["state"] == "paid"
    market.sim.race_next(endpoint="transactions.status")

    accept = market.api.put(
        f"/transactions/{order}/status",
        headers=bearer(token),
        json={"state": "accepted"},
    )

    assert_error(accept, 422)
    detail = market.api.get(f"/transactions/{order}", headers=bearer(token)).json()
    assert detail["data"]["state"] == "cancelled"
    assert _stock(market, sku) == 5


def test_state_race_on_detail_read(market: Market, token: str) -> None:
    _product, sku = _sku(market, stock=5)
    order = market.sim.place_order(str(sku), 1, "buyer-1")
    market.sim.race_next()

    detail = market.api.get(f"/transactions/{order}", headers=bearer(token)).json()

    assert detail["data"]["state"] == "paid"
    assert _stock(market, sku) == 4


# ---------------------------------------------------------------------- closed


def test_closed_marketplace_refuses_product_writes(market: Market, token: str) -> None:
    product, sku = _sku(market, stock=6)
    market.sim.set_closed()

    create = market.api.post(
        "/products", headers=bearer(token), json=product_body(market)
    )
    patch = market.api.patch(
        f"/products/{product}/skus/{sku}", headers=bearer(token), json={"stock": 1}
    )

    assert "physical" in assert_error(create, 403)["errors"][0]["message"]
    assert assert_error(patch, 403)["errors"][0]["message"]
    assert _stock(market, sku) == 6
    assert len(market.api.get("/_sim/listings").json()["listings"]) == 1
    read = market.api.get(f"/products/{product}", headers=bearer(token))
    assert read.status_code == 200


def test_closed_marketplace_takes_no_new_orders_but_serves_old_ones() -> None:
    market = make_market(closed=False)
    _product, sku = _sku(market, stock=6)
    old = market.sim.place_order(str(sku), 1, "buyer-1")
    assert old is not None
    assert market.sim.buyer_event(old, BuyerEvent.PAY)
    market.sim.set_closed()
    token = market.seller_token()

    assert market.sim.buyable_listings() == []
    assert market.sim.place_order(str(sku), 1, "buyer-2") is None
    accepted = market.api.put(
        f"/transactions/{old}/status", headers=bearer(token), json={"state": "accepted"}
    )
    assert accepted.status_code == 200
    assert len(market.api.get("/_sim/orders").json()["orders"]) == 1

    market.sim.set_closed(False)
    assert create_product(market, token)["id"]


# ---------------------------------------------------------------------- plumbing


def test_server_error_fault_uses_the_envelope(market: Market, token: str) -> None:
    market.sim.faults.fail_next(endpoint="me", status=503, retry_after=2)

    response = market.api.get("/me", headers=bearer(token))

    assert_error(response, 503)
    assert response.headers["retry-after"] == "2"
    assert market.api.get("/me", headers=bearer(token)).status_code == 200


def test_planned_throttling_uses_the_envelope(market: Market, token: str) -> None:
    market.sim.faults.rate_limit_next(endpoint="me")

    response = market.api.get("/me", headers=bearer(token))

    assert len(assert_error(response, 429)["errors"]) == 1
    assert "retry-after" not in response.headers


def test_timeout_applies_nothing(market: Market, token: str) -> None:
    market.sim.faults.timeout_next(endpoint="products.create")

    with pytest.raises(httpx.ReadTimeout):
        market.api.post("/products", headers=bearer(token), json=product_body(market))

    assert market.api.get("/_sim/listings").json()["listings"] == []


def test_lost_response_after_create_leaves_the_product(
    market: Market, token: str
) -> None:
    market.sim.faults.lose_response_next(endpoint="products.create")

    with pytest.raises(httpx.ReadTimeout):
        market.api.post("/products", headers=bearer(token), json=product_body(market))

    found = market.api.get(
        "/stores/me/products", params={"keywords": "BTK-001"}, headers=bearer(token)
    ).json()
    assert found["meta"]["total"] == 1


def test_malformed_body_fault(market: Market, token: str) -> None:
    market.sim.faults.malformed_next(endpoint="me")

    response = market.api.get("/me", headers=bearer(token))

    with pytest.raises(ValueError, match="Expecting value"):
        response.json()
