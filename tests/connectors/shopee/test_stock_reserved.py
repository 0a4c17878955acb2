"""Units reserved by open orders and promotions: ``seller_stock`` includes them.

``push_stock`` reads the units reserved now (``get_item_base_info``, and
``get_model_list`` for items with models) and sends ``seller_stock`` = wanted quantity
+ reserved; a listing's ``stock`` is the seller stock less the reserved units.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from core.domain.ids import Sku
from core.domain.remote import ChangeKind, ListingChange, StockUpdate
from core.errors import AuthError, RejectedError, TransientError
from simulators.shopee import ShopeeSimulator
from tests.connectors.shopee._support import (
    BASE,
    BASE_INFO_PATH,
    MODEL_LIST_PATH,
    FakeTime,
    body,
    fail,
    item_info,
    model_info,
    ok,
    params,
    rig,
    stock_reads,
)
from tests.contract.harness import build

UPDATE_STOCK = "/api/v2/product/update_stock"
ITEM_LIST = "/api/v2/product/get_item_list"
SEARCH = "/api/v2/product/search_item"


def accepted(request: httpx.Request) -> httpx.Response:
    """``update_stock`` accepting every row it was sent."""
    rows = body(request)["stock_list"]
    return ok(
        {
            "success_list": [
                {"model_id": r["model_id"], "stock": r["seller_stock"][0]["stock"]}
                for r in rows
            ],
            "failure_list": [],
        }
    )


def sent_stock(route: respx.Route) -> dict[tuple[int, int], int]:
    """(item_id, model_id) → the ``seller_stock`` sent, over every call."""
    sent: dict[tuple[int, int], int] = {}
    for call in route.calls:
        request = body(call.request)
        for row in request["stock_list"]:
            (entry,) = row["seller_stock"]
            sent[request["item_id"], row["model_id"]] = entry["stock"]
    return sent


# ---------------------------------------------------------------- push_stock


def test_seller_stock_sent_is_the_quantity_plus_the_units_reserved_now() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        reads = stock_reads(router, held={(123, 0): 3})  # item 124: none reserved
        route = router.post(UPDATE_STOCK).mock(side_effect=accepted)
        results = setup.connector.push_stock(
            [
                StockUpdate(Sku("KOPI-1"), "123", 7),
                StockUpdate(Sku("KOPI-2"), "124", 7),
            ]
        )
        order = [call.request.url.path for call in router.calls]
    assert [r.ok for r in results] == [True, True]
    assert reads.asked_items() == [[123, 124]]
    assert order == [BASE_INFO_PATH, UPDATE_STOCK, UPDATE_STOCK]  # read first
    assert sent_stock(route) == {(123, 0): 10, (124, 0): 7}


def test_each_model_gets_its_own_reserved_units_from_get_model_list() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        reads = stock_reads(
            router,
            models={77: [501, 502, 503]},
            held={(77, 501): 2, (77, 502): 0, (77, 503): 5, (88, 0): 1},
        )
        route = router.post(UPDATE_STOCK).mock(side_effect=accepted)
        results = setup.connector.push_stock(
            [
                StockUpdate(Sku("M-501"), "77", 4, "501"),
                StockUpdate(Sku("M-502"), "77", 6, "502"),
                StockUpdate(Sku("M-503"), "77", 0, "503"),
                StockUpdate(Sku("PLAIN"), "88", 2),
            ]
        )
    assert all(r.ok for r in results)
    assert reads.model_list is not None
    assert [params(c.request)["item_id"] for c in reads.model_list.calls] == [["77"]]
    assert sent_stock(route) == {
        (77, 501): 6,
        (77, 502): 6,
        (77, 503): 5,  # nothing more to sell, the reserved units stay
        (88, 0): 3,
    }


def test_a_failed_read_fails_only_its_items_rows_and_sends_nothing_for_them() -> None:
    setup = rig(attempts=2)
    item_ids = list(range(1_001, 1_053))  # 52 items: two reads of at most 50
    updates = [StockUpdate(Sku(f"S-{i}"), str(i), 4) for i in item_ids]
    updates.append(StockUpdate(Sku("BROKEN-ID"), "not-an-id", 4))
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        reads = stock_reads(router, reserved=1)
        answer = reads.base_info.side_effect
        assert callable(answer)

        def flaky(request: httpx.Request) -> Any:
            asked = params(request)["item_id_list"][0].split(",")
            if "1001" in asked:
                return fail("error_inner", "System error", 500)
            return answer(request)

        reads.base_info.mock(side_effect=flaky)
        route = router.post(UPDATE_STOCK).mock(side_effect=accepted)
        results = setup.connector.push_stock(updates)
    asked = reads.asked_items()
    assert {i for call in asked for i in call} == set(item_ids)
    assert all(len(call) <= 50 for call in asked)
    failing = [call for call in asked if 1_001 in call]
    assert len(failing) == 2  # both attempts of the failing read
    unread = set(failing[0])
    assert len(unread) == 50
    by_item = {
        update.external_id: result
        for update, result in zip(updates, results, strict=True)
    }
    failed = {int(i) for i, r in by_item.items() if i.isdigit() and not r.ok}
    assert failed == unread
    errors = {id(by_item[str(i)].error) for i in unread}
    assert len(errors) == 1  # the read's own error, shared by its rows
    assert isinstance(by_item["1001"].error, TransientError)
    sent = sent_stock(route)
    assert not unread & {item for item, _ in sent}  # nothing pushed blind
    assert sent == {(i, 0): 5 for i in item_ids if i not in unread}
    assert all(by_item[str(i)].ok for i in item_ids if i not in unread)
    bad = by_item["not-an-id"].error
    assert isinstance(bad, RejectedError)
    assert bad.code == "item_id_invalid"


@pytest.mark.parametrize("refused", ["base_info", "model_list"])
def test_an_auth_error_on_the_read_is_raised_and_no_stock_is_sent(
    refused: str,
) -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=False, assert_all_mocked=True
    ) as router:
        reads = stock_reads(router, models={77: [501]})
        gone = fail("shop_no_linked", "Partner and shop has no linked.", 403)
        if refused == "base_info":
            reads.base_info.mock(return_value=gone)
        else:
            assert reads.model_list is not None
            reads.model_list.mock(return_value=gone)
        route = router.post(UPDATE_STOCK).mock(side_effect=accepted)
        with pytest.raises(AuthError):
            setup.connector.push_stock(
                [
                    StockUpdate(Sku("PLAIN"), "12", 3),
                    StockUpdate(Sku("M-501"), "77", 3, "501"),
                ]
            )
    assert reads.base_info.called
    assert not route.called


# ---------------------------------------------------------------- listings read


def test_fetched_listings_show_seller_stock_less_reserved_never_below_zero() -> None:
    setup = rig()
    two_places = item_info(5, "D", stock=7, reserved=2)
    two_places["stock_info_v2"]["seller_stock"] = [
        {"location_id": "IDZ", "stock": 3},
        {"location_id": "WH-2", "stock": 4},
    ]
    no_summary = item_info(6, "E", stock=4)
    del no_summary["stock_info_v2"]["summary_info"]
    items = [
        item_info(1, "A", stock=5, reserved=2),
        item_info(2, "B", stock=1, reserved=4),  # more reserved than held
        item_info(3, "C", has_model=True, stock=8, reserved=3),
        two_places,
        no_summary,
    ]
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(ITEM_LIST).mock(
            return_value=ok(
                {
                    "item": [{"item_id": i["item_id"]} for i in items],
                    "total_count": len(items),
                    "has_next_page": False,
                }
            )
        )
        router.get(BASE_INFO_PATH).mock(return_value=ok({"item_list": items}))
        router.get(MODEL_LIST_PATH).mock(
            return_value=ok(
                {
                    "model": [
                        model_info(31, "C-RED", stock=6, reserved=1),
                        model_info(32, "C-BLUE", stock=2, reserved=2),
                    ]
                }
            )
        )
        found = {x.sku: x.stock for x in setup.connector.fetch_listings()}
    assert found == {"A": 3, "B": 0, "C-RED": 5, "C-BLUE": 0, "D": 5, "E": 4}


def test_a_found_listing_shows_seller_stock_less_reserved() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(SEARCH).mock(
            return_value=ok({"item_id_list": [41], "has_next_page": False})
        )
        router.get(BASE_INFO_PATH).mock(
            return_value=ok(
                {"item_list": [item_info(41, "KOPI-1", stock=8, reserved=3)]}
            )
        )
        found = setup.connector.find_listings(["KOPI-1"])
    assert found["KOPI-1"].stock == 5


# ---------------------------------------------------------------- on the simulator


def test_stock_below_what_open_orders_hold_is_pushed_on_the_simulator() -> None:
    built = build("shopee", FakeTime())
    connector, sim = built.connector, built.sim(ShopeeSimulator)
    (created,) = connector.apply_listing_changes(
        [ListingChange(ChangeKind.CREATE, built.draft("KOPI-RSV-1", stock=5))]
    )
    assert created.ok, created.error
    assert created.external_id is not None
    item_id = created.external_id

    def shown() -> tuple[int, int, int]:
        (entry,) = [x for x in sim.inspect_listings() if x["sku"] == "KOPI-RSV-1"]
        return entry["stock"], entry["reserved_stock"], entry["seller_stock"]

    order = sim.place_order(f"{item_id}:0", 2, "buyer-0001")
    assert order is not None
    assert shown() == (3, 2, 5)  # (available, reserved, seller stock)

    (pushed,) = connector.push_stock([StockUpdate(Sku("KOPI-RSV-1"), item_id, 4)])
    assert pushed.ok, pushed.error
    assert shown() == (4, 2, 6)

    # Fewer than the open order holds: the seller stock still covers the order.
    (below,) = connector.push_stock([StockUpdate(Sku("KOPI-RSV-1"), item_id, 1)])
    assert below.ok, below.error
    assert shown() == (1, 2, 3)
    (listing,) = [x for x in connector.fetch_listings() if x.sku == "KOPI-RSV-1"]
    assert listing.stock == 1
    assert connector.find_listings(["KOPI-RSV-1"])["KOPI-RSV-1"].stock == 1
