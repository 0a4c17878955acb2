"""The connector contract, for every registered connector, against its simulator.

``tests/contract/harness.py`` builds each marketplace's simulator and an
authorised connector; everything below is the same for all of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

import connectors
from connectors._http import RetryPolicy
from core.domain.ids import Sku, sku_key
from core.domain.marketplaces import Capability
from core.domain.orders import CancelReason
from core.domain.remote import (
    ChangeKind,
    ListingChange,
    OrderWindow,
    PriceUpdate,
    StockUpdate,
)
from core.domain.sync import OrderStatus
from core.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    TransientError,
    UnreadableAnswerError,
)
from simulators.kit.buyers import BuyerEvent
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build


@pytest.fixture(params=connectors.available())
def market(request: pytest.FixtureRequest) -> Iterator[Harness]:
    harness = build(request.param, FakeTime())
    yield harness
    harness.connector.close()


def create(market: Harness, *skus: str) -> dict[str, str]:
    changes = [ListingChange(ChangeKind.CREATE, market.draft(s)) for s in skus]
    results = market.connector.apply_listing_changes(changes)
    assert [r.sku for r in results] == list(skus)
    assert all(r.ok and r.external_id for r in results), [r.error for r in results]
    return {r.sku: str(r.external_id) for r in results}


def stock_updates(
    market: Harness, ids: dict[str, str], quantity: int
) -> list[StockUpdate]:
    listings = market.connector.find_listings(list(ids))
    return [
        StockUpdate(
            Sku(sku),
            ids[sku],
            quantity,
            external_variant_id=listings[sku_key(sku)].external_variant_id,
        )
        for sku in ids
    ]


def test_check_passes_and_wrong_credentials_are_an_auth_error(market: Harness) -> None:
    market.connector.check()
    with pytest.raises(AuthError):
        market.connector_with_wrong_credentials().check()


def test_created_listings_round_trip_by_sku(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001", "TENUN-SKA-001")
    found = market.connector.find_listings(["kopi-flr-001", "TENUN-SKA-001", "NOPE-1"])
    assert set(found) == {"KOPI-FLR-001", "TENUN-SKA-001"}
    kopi = found["KOPI-FLR-001"]
    assert (kopi.external_id, kopi.price, kopi.stock) == (
        ids["KOPI-FLR-001"],
        85_000,
        5,
    )
    listed = {sku_key(item.sku) for item in market.connector.fetch_listings()}
    assert {"KOPI-FLR-001", "TENUN-SKA-001"} <= listed


def test_creating_the_same_listing_twice_binds_instead_of_duplicating(
    market: Harness,
) -> None:
    changes = [ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-001"))]
    (first,) = market.connector.apply_listing_changes(changes)
    (again,) = market.connector.apply_listing_changes(changes)
    assert (first.ok, first.bound) == (True, False)
    assert (again.ok, again.bound) == (True, True)
    assert again.external_id == first.external_id
    shown = [
        x for x in market.simulator.inspect_listings() if x["sku"] == "KOPI-FLR-001"
    ]
    assert len(shown) == 1


def test_stock_and_price_updates_are_visible(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001", "TENUN-SKA-001")
    results = market.connector.push_stock(stock_updates(market, ids, 17))
    assert all(r.ok for r in results), [r.error for r in results]
    prices = [PriceUpdate(Sku(s), ids[s], 91_000) for s in ids]
    listings = market.connector.find_listings(list(ids))
    prices = [
        PriceUpdate(p.sku, p.external_id, p.price, listings[p.sku].external_variant_id)
        for p in prices
    ]
    assert all(r.ok for r in market.connector.push_prices(prices))
    after = market.connector.find_listings(list(ids))
    assert {(x.stock, x.price) for x in after.values()} == {(17, 91_000)}


def test_a_refused_item_fails_alone(market: Harness) -> None:
    changes = [
        ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-001")),
        ListingChange(ChangeKind.CREATE, market.invalid_draft("KOPI-FLR-002")),
        ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-003")),
    ]
    results = market.connector.apply_listing_changes(changes)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, RejectedError)


def test_a_partial_stock_failure_is_per_item(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001", "TENUN-SKA-001")
    market.fail_stock_item("TENUN-SKA-001")
    results = market.connector.push_stock(stock_updates(market, ids, 9))
    assert {r.sku: r.ok for r in results} == {
        "KOPI-FLR-001": True,
        "TENUN-SKA-001": False,
    }
    assert results[1].error is not None


def test_rate_limits_are_waited_out(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001")
    market.simulator.faults.rate_limit_next(
        2, endpoint=market.stock_endpoint, retry_after=2.0
    )
    results = market.connector.push_stock(stock_updates(market, ids, 4))
    assert all(r.ok for r in results)
    assert market.simulator.requests[market.stock_endpoint] >= 3


def test_persistent_server_errors_end_as_transient(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001")
    market.simulator.faults.fail_next(50, endpoint=market.stock_endpoint, status=503)
    results = market.connector.push_stock(stock_updates(market, ids, 4))
    assert [isinstance(r.error, TransientError) for r in results] == [True]
    assert not results[0].ok


@pytest.mark.parametrize("fault", ["lost", "malformed", "truncated"])
def test_a_lost_create_answer_is_outcome_unknown_and_never_a_duplicate(
    market: Harness, fault: str
) -> None:
    # The create was applied; its answer never came, or came unreadable.
    planned = {
        "lost": market.simulator.faults.lose_response_next,
        "malformed": market.simulator.faults.malformed_next,
        "truncated": market.simulator.faults.truncated_next,
    }[fault]
    planned(endpoint=market.create_endpoint)
    changes = [ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-001"))]
    (result,) = market.connector.apply_listing_changes(changes)
    assert not result.ok
    assert isinstance(result.error, OutcomeUnknownError)
    assert "KOPI-FLR-001" in market.connector.find_listings(["KOPI-FLR-001"])
    create(market, "KOPI-FLR-001")  # resolving it binds the listing
    shown = [
        x for x in market.simulator.inspect_listings() if x["sku"] == "KOPI-FLR-001"
    ]
    assert len(shown) == 1


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_an_unreadable_look_up_before_a_create_is_asked_again(
    market: Harness, fault: str
) -> None:
    # Before creating into a small shop, a connector that can read the whole shop
    # does (else it looks the first SKU up): that request comes back unreadable once.
    planned = {
        "malformed": market.simulator.faults.malformed_next,
        "truncated": market.simulator.faults.truncated_next,
    }[fault]
    first = market.scan_endpoint or market.lookup_endpoint
    planned(endpoint=first)
    skus = ["KOPI-FLR-001", "TENUN-SKA-001", "MADU-SBW-001"]
    with capture_logs() as logs:
        ids = create(market, *skus)
    assert (first, fault) in [
        (endpoint, kind.value) for endpoint, kind in market.simulator.faults.injected
    ]
    retries = [e for e in logs if e["event"] == "http.retrying"]
    assert [e["error"] for e in retries] == ["UnreadableAnswerError"]
    scans = [e["listings"] for e in logs if e["event"] == "listings.scanned"]
    assert scans == ([0] if market.scan_endpoint else [])
    listed = sorted(x["sku"] for x in market.simulator.inspect_listings())
    assert listed == sorted(skus)
    assert len(set(ids.values())) == 3


def test_a_look_up_that_stays_unreadable_fails_only_its_item(market: Harness) -> None:
    # Every attempt of the scan, then of the first SKU's own look-up (the fallback
    # when the scan fails), gets an answer that is not JSON.
    attempts = RetryPolicy().attempts
    if market.scan_endpoint:
        market.simulator.faults.malformed_next(attempts, endpoint=market.scan_endpoint)
    market.simulator.faults.malformed_next(attempts, endpoint=market.lookup_endpoint)
    skus = ["KOPI-FLR-001", "TENUN-SKA-001", "MADU-SBW-001"]
    changes = [ListingChange(ChangeKind.CREATE, market.draft(s)) for s in skus]
    with capture_logs() as logs:
        results = market.connector.apply_listing_changes(changes)
    failed_scans = [e["error"] for e in logs if e["event"] == "listings.scan_failed"]
    assert failed_scans == (["UnreadableAnswerError"] if market.scan_endpoint else [])
    assert [(r.sku, r.ok) for r in results] == [
        ("KOPI-FLR-001", False),
        ("TENUN-SKA-001", True),
        ("MADU-SBW-001", True),
    ]
    assert isinstance(results[0].error, UnreadableAnswerError)
    assert results[0].external_id is None
    assert all(r.external_id and not r.bound for r in results[1:])
    listed = sorted(x["sku"] for x in market.simulator.inspect_listings())
    assert listed == ["MADU-SBW-001", "TENUN-SKA-001"]  # never created blind
    (again,) = market.connector.apply_listing_changes(changes[:1])
    assert (again.ok, again.bound) == (True, False)
    assert len(market.simulator.inspect_listings()) == 3
    # Created in this connector's lifetime, each is bound when asked again.
    repeated = market.connector.apply_listing_changes(changes)
    assert [(r.ok, r.bound) for r in repeated] == [(True, True)] * 3
    assert len(market.simulator.inspect_listings()) == 3


def test_a_server_error_on_create_is_outcome_unknown_and_not_resent(
    market: Harness,
) -> None:
    market.simulator.faults.fail_next(endpoint=market.create_endpoint, status=500)
    changes = [ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-001"))]
    (result,) = market.connector.apply_listing_changes(changes)
    assert isinstance(result.error, OutcomeUnknownError)
    assert market.simulator.requests[market.create_endpoint] == 1
    # This simulator refused before applying: the look-up finds nothing to bind.
    assert market.connector.find_listings(["KOPI-FLR-001"]) == {}
    create(market, "KOPI-FLR-001")
    assert len(market.simulator.inspect_listings()) == 1


def test_an_expired_token_is_refreshed(market: Harness) -> None:
    ids = create(market, "KOPI-FLR-001")
    market.expire_access_token()
    assert all(r.ok for r in market.connector.push_stock(stock_updates(market, ids, 2)))


def test_a_withdrawn_authorisation_is_an_auth_error(market: Harness) -> None:
    create(market, "KOPI-FLR-001")
    market.revoke_authorisation()
    with pytest.raises(AuthError):
        market.connector.check()


def test_the_authorisation_end_is_read_where_the_marketplace_has_one(
    market: Harness,
) -> None:
    """Shopee reports when the shop's authorisation ends (``expire_time``, 365 days
    after approval in the simulator); the others document no such end."""
    expires = market.connector.authorisation_expiry()
    if market.connector.key != "shopee":
        assert expires is None
        return
    assert expires == market.clock.now().replace(microsecond=0) + timedelta(days=365)
    assert expires.utcoffset() == timedelta(0)


def test_every_order_in_a_window_is_fetched_once_across_pages(market: Harness) -> None:
    create(market, "KOPI-FLR-001", "TENUN-SKA-001")
    start = market.clock.now()
    spread = market.connector.limits.order_window * 2 + timedelta(hours=5)
    placed = market.place_paid_orders(["KOPI-FLR-001", "TENUN-SKA-001"], 150, spread)
    assert placed > market.connector.limits.order_page_size
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    orders = list(market.connector.fetch_orders(window))
    ids = [o.external_id for o in orders]
    assert len(set(ids)) == placed
    assert all(o.lines and o.lines[0].quantity >= 1 for o in orders)
    one = market.connector.fetch_order(ids[0])
    assert one.external_id == ids[0]


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_an_unreadable_order_page_is_asked_for_again(
    market: Harness, fault: str
) -> None:
    create(market, "KOPI-FLR-001")
    start = market.clock.now()
    placed = market.place_paid_orders(["KOPI-FLR-001"], 3, timedelta(hours=1))
    planned = {
        "malformed": market.simulator.faults.malformed_next,
        "truncated": market.simulator.faults.truncated_next,
    }[fault]
    planned(2, endpoint=market.orders_endpoint)
    window = OrderWindow(start, market.clock.now() + timedelta(seconds=1))
    orders = list(market.connector.fetch_orders(window))
    assert len({o.external_id for o in orders}) == len(orders) == placed
    hit = [e for e, _ in market.simulator.faults.injected]
    assert hit.count(market.orders_endpoint) == 2


def test_an_order_paid_after_the_window_it_was_placed_in_is_not_missed(
    market: Harness,
) -> None:
    """Placed in one poll's window, paid in the next: the second poll or a re-read
    of the open order shows it paid, whatever time the marketplace lists by."""
    create(market, "KOPI-FLR-001")
    first_start = market.clock.now()
    market.clock.advance(60)
    order = market.place_unpaid_order("KOPI-FLR-001")
    market.clock.advance(600)
    first_end = market.clock.now()
    first = {
        o.external_id: o
        for o in market.connector.fetch_orders(OrderWindow(first_start, first_end))
    }
    market.clock.advance(1_200)
    assert market.simulator.buyer_event(order, BuyerEvent.PAY)
    market.clock.advance(60)
    second = {
        o.external_id: o
        for o in market.connector.fetch_orders(
            OrderWindow(first_end, market.clock.now())
        )
    }
    if order in second:
        assert second[order].status is OrderStatus.PAID
    else:
        # Listed by creation time: seen unpaid in the first window, then re-read.
        assert Capability.ORDERS_BY_UPDATE_TIME not in market.connector.capabilities
        assert first[order].status is OrderStatus.PENDING_PAYMENT
        assert market.connector.fetch_order(order).status is OrderStatus.PAID


def test_a_paid_order_is_cancelled_only_where_the_marketplace_documents_it(
    market: Harness,
) -> None:
    """A connector that cancels has the marketplace show the order cancelled (and
    refuses a second cancel); one that cannot refuses and the order stays paid."""
    create(market, "KOPI-FLR-001")
    order = market.place_unpaid_order("KOPI-FLR-001")
    assert market.simulator.buyer_event(order, BuyerEvent.PAY)
    market.clock.advance(60)
    assert market.connector.fetch_order(order).status is OrderStatus.PAID

    if Capability.CANCEL_ORDERS not in market.connector.capabilities:
        with pytest.raises(RejectedError, match="documents no cancellation"):
            market.connector.cancel_order(order, CancelReason.OUT_OF_STOCK)
        assert market.connector.fetch_order(order).status is OrderStatus.PAID
        return
    market.connector.cancel_order(order, CancelReason.OUT_OF_STOCK)
    market.clock.advance(60)
    assert market.connector.fetch_order(order).status is OrderStatus.CANCELLED
    with pytest.raises(RejectedError):
        market.connector.cancel_order(order, CancelReason.OUT_OF_STOCK)


def test_no_secret_reaches_a_log_line_or_an_error(market: Harness) -> None:
    """Partner keys, client secrets, tokens and signed URLs never show: not in any
    log line, exception message or per-item error of a busy session with faults."""
    texts: list[str] = []
    stored_tokens: set[str] = set()

    def note(error: BaseException | None) -> None:
        if error is not None:
            texts.extend([str(error), repr(error)])

    with capture_logs() as logs:
        market.connector.check()
        ids = create(market, "KOPI-FLR-001", "TENUN-SKA-001")
        market.simulator.faults.rate_limit_next(endpoint=market.stock_endpoint)
        for result in market.connector.push_stock(stock_updates(market, ids, 3)):
            note(result.error)
        market.simulator.faults.fail_next(50, endpoint=market.stock_endpoint)
        for result in market.connector.push_stock(stock_updates(market, ids, 4)):
            note(result.error)
        market.simulator.faults.clear()
        market.simulator.faults.lose_response_next(endpoint=market.create_endpoint)
        changes = [ListingChange(ChangeKind.CREATE, market.draft("KOPI-FLR-009"))]
        for result in market.connector.apply_listing_changes(changes):
            note(result.error)
        for tokens in getattr(market.tokens, "tokens", {}).values():
            for secret in (tokens.access_token, tokens.refresh_token):
                if secret is not None:
                    stored_tokens.add(secret.reveal())
        market.expire_access_token()
        market.connector.push_stock(stock_updates(market, ids, 5))
        list(market.connector.fetch_orders(
            OrderWindow(market.clock.now() - timedelta(days=1), market.clock.now())
        ))  # fmt: skip
        try:
            market.connector_with_wrong_credentials().check()
        except AuthError as exc:
            note(exc)
        market.revoke_authorisation()
        try:
            market.connector.check()
        except AuthError as exc:
            note(exc)
    texts.extend(json.dumps(entry, default=str) for entry in logs)
    credentials = market.simulator.credentials()
    secrets = {
        value
        for name, value in credentials.items()
        if any(word in name for word in ("key", "secret", "password"))
        and len(value) >= 8
        and not name.endswith("_path")
    } | stored_tokens
    assert secrets  # the check below is about something
    assert len(texts) > 10
    for text in texts:
        assert "sign=" not in text
        for secret in secrets:
            assert secret not in text
