"""The orders pages: the orders of the shops in scope, filtered, and the oversold
queue settled through the console."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.audit.query import EventFilter
from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId, Sku
from core.domain.orders import StoredOrder
from core.domain.remote import RemoteOrder, RemoteOrderLine
from core.domain.sync import OrderStatus, SyncKind
from core.services.orders import OrderIngester
from core.services.runs import RunRecorder
from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in

pytestmark = pytest.mark.db

NTT_SHOP = AccountId("shopee-ntt-flores")
LAPAS_SHOP = AccountId("tokopedia-karya-lapas")
EVERYONE_SHOP = AccountId("bukalapak-esmart-ikm")
SCRIPT = "<script>alert(1)</script>"
#: The multiplication sign between a line's SKU and quantity.
TIMES = "\u00d7"


def _account(world: ConsoleWorld, key: AccountId) -> ChannelAccount:
    with world.console.units() as uow:
        return next(a for a in uow.accounts.get_all() if a.id == key)


def _remote(
    external_id: str,
    sku: str,
    quantity: int,
    placed: datetime,
    status: OrderStatus = OrderStatus.PAID,
    raw_status: str = "PAID",
) -> RemoteOrder:
    return RemoteOrder(
        external_id=external_id,
        status=status,
        raw_status=raw_status,
        placed_at=placed,
        updated_at=placed,
        lines=(RemoteOrderLine(Sku(sku), quantity, 10_000),),
        total_amount=quantity * 10_000,
    )


def ingest(world: ConsoleWorld, key: AccountId, *orders: RemoteOrder) -> None:
    """Store ``orders`` of account ``key`` as an order pull would."""
    console = world.console
    factory = console.runtime.uow_factory()
    recorder = RunRecorder(factory, console.clock, SyncKind.ORDERS, key, "test")
    recorder.start()
    OrderIngester(factory, _account(world, key), console.clock, recorder).ingest(
        list(orders)
    )
    recorder.finish()


def stored(world: ConsoleWorld, key: AccountId, external_id: str) -> StoredOrder:
    with world.console.runtime.uow() as uow:
        return uow.orders.get_many(key, [external_id])[external_id]


def _day(day: int) -> datetime:
    return datetime(2026, 11, day, 5, 0, tzinfo=UTC)


@pytest.fixture
def orders_world(console_world: ConsoleWorld) -> ConsoleWorld:
    """Orders in the NTT shop (one oversold), the Lapas shop and the shop of
    everyone (oversold)."""
    ingest(
        console_world,
        NTT_SHOP,
        _remote("NTT-A", "KOPI-FLR-001", 2, _day(1)),
        _remote("NTT-B", "TENUN-SKA-001", 1, _day(2), OrderStatus.SHIPPED, "SHIPPED"),
        _remote("NTT-OVER", "KOPI-FLR-001", 60, _day(3)),
    )
    ingest(
        console_world,
        LAPAS_SHOP,
        _remote("LAPAS-C", "AKARJATI-PTK-001", 1, _day(2), raw_status=SCRIPT),
    )
    ingest(
        console_world, EVERYONE_SHOP, _remote("ALL-OVER", "KOPI-FLR-002", 500, _day(4))
    )
    assert stored(console_world, NTT_SHOP, "NTT-OVER").oversold
    assert not stored(console_world, NTT_SHOP, "NTT-A").oversold
    return console_world


def _shown(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-order="')[1:]]


def test_orders_list_filters_by_shop_status_date_and_producer(
    orders_world: ConsoleWorld,
) -> None:
    client = orders_world.client
    sign_in(client, "admin")
    everything = client.get("/orders")
    assert everything.status_code == 200
    # latest placed first; LAPAS-C and NTT-B placed together: the later stored first
    assert _shown(everything.text) == [
        "ALL-OVER",
        "NTT-OVER",
        "LAPAS-C",
        "NTT-B",
        "NTT-A",
    ]
    assert "Rp 600.000" in everything.text  # NTT-OVER: 60 units at 10.000
    assert f"KOPI-FLR-001 {TIMES} 60" in everything.text
    by_shop = client.get("/orders", params={"shop": NTT_SHOP})
    assert _shown(by_shop.text) == ["NTT-OVER", "NTT-B", "NTT-A"]
    shipped = client.get("/orders", params={"status": "shipped"})
    assert _shown(shipped.text) == ["NTT-B"]
    # 2 November in Jakarta time: both orders placed at 05:00 UTC that day
    one_day = client.get("/orders", params={"from": "2026-11-02", "to": "2026-11-02"})
    assert sorted(_shown(one_day.text)) == ["LAPAS-C", "NTT-B"]
    weavers = client.get("/orders", params={"producer": "IKM-NTT-002"})
    assert _shown(weavers.text) == ["NTT-B"]


def test_a_bad_filter_is_refused_naming_the_field(orders_world: ConsoleWorld) -> None:
    client = orders_world.client
    sign_in(client, "admin")
    answer = client.get("/orders", params={"from": "02/11/2026"})
    assert answer.status_code == 400
    assert "from: expected a date as YYYY-MM-DD" in answer.text
    status = client.get("/orders", params={"status": "lost"})
    assert status.status_code == 400
    assert "status: expected one of" in status.text


def test_an_officer_sees_only_the_orders_of_shops_in_scope(
    orders_world: ConsoleWorld,
) -> None:
    client = orders_world.client
    sign_in(client, "officer.lapas")
    mine = client.get("/orders")
    assert mine.status_code == 200
    assert _shown(mine.text) == ["LAPAS-C"]
    assert client.get("/orders", params={"shop": NTT_SHOP}).status_code == 404
    assert client.get("/orders", params={"producer": "IKM-NTT-002"}).status_code == 404
    assert _shown(client.get("/orders/oversold").text) == []
    officer_ntt = orders_world.browser()
    sign_in(officer_ntt, "officer.ntt")
    # the shop of everyone is not theirs either: not all of its producers are
    assert _shown(officer_ntt.get("/orders/oversold").text) == ["NTT-OVER"]


def test_marketplace_text_is_shown_escaped(orders_world: ConsoleWorld) -> None:
    client = orders_world.client
    sign_in(client, "officer.lapas")
    page = client.get("/orders")
    assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_an_officer_settles_an_oversold_order_as_themself(
    orders_world: ConsoleWorld,
) -> None:
    client = orders_world.client
    token = sign_in(client, "officer.ntt")
    queue = client.get("/orders/oversold")
    assert _shown(queue.text) == ["NTT-OVER"]
    note = f"stock found in the store room {SCRIPT}"
    answer = client.post(
        "/orders/oversold/settle",
        data={
            "csrf_token": token,
            "account": NTT_SHOP,
            "order": "NTT-OVER",
            "note": note,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/orders/oversold?done=NTT-OVER"
    order = stored(orders_world, NTT_SHOP, "NTT-OVER")
    assert order.settlement is not None
    assert order.settlement.actor == "console:officer.ntt"
    assert order.settlement.note == note
    assert _shown(client.get("/orders/oversold").text) == []
    settled = client.get("/orders/oversold", params={"all": "1"})
    assert "console:officer.ntt" in settled.text
    assert SCRIPT not in settled.text
    assert "&lt;script&gt;" in settled.text
    events = orders_world.console.runtime.audit_reader().events(
        EventFilter(kind="order.settled")
    )
    assert [(e.actor, e.account) for e in events] == [("console:officer.ntt", NTT_SHOP)]
    again = client.post(
        "/orders/oversold/settle",
        data={
            "csrf_token": token,
            "account": NTT_SHOP,
            "order": "NTT-OVER",
            "note": "x",
        },
    )
    assert again.status_code == 409
    assert "already settled" in again.text
    assert stored(orders_world, NTT_SHOP, "NTT-OVER").settlement == order.settlement


def test_an_empty_note_is_refused_and_changes_nothing(
    orders_world: ConsoleWorld,
) -> None:
    client = orders_world.client
    token = sign_in(client, "officer.ntt")
    answer = client.post(
        "/orders/oversold/settle",
        data={
            "csrf_token": token,
            "account": NTT_SHOP,
            "order": "NTT-OVER",
            "note": " ",
        },
    )
    assert answer.status_code == 400
    assert "note: expected a non-empty text" in answer.text
    assert stored(orders_world, NTT_SHOP, "NTT-OVER").settlement is None


@pytest.mark.parametrize("action", ["settle", "cancel"])
def test_an_officer_cannot_settle_an_order_out_of_scope(
    orders_world: ConsoleWorld, action: str
) -> None:
    client = orders_world.client
    token = sign_in(client, "officer.lapas")
    for account, order in ((NTT_SHOP, "NTT-OVER"), (EVERYONE_SHOP, "ALL-OVER")):
        answer = client.post(
            f"/orders/oversold/{action}",
            data={"csrf_token": token, "account": account, "order": order, "note": "n"},
        )
        assert answer.status_code == 404
        assert stored(orders_world, AccountId(account), order).settlement is None


@pytest.mark.parametrize("action", ["settle", "cancel"])
def test_an_auditor_may_not_settle(orders_world: ConsoleWorld, action: str) -> None:
    client = orders_world.client
    token = sign_in(client, "auditor")
    queue = client.get("/orders/oversold")
    assert _shown(queue.text) == ["NTT-OVER", "ALL-OVER"]
    assert "/orders/oversold/settle" not in queue.text
    answer = client.post(
        f"/orders/oversold/{action}",
        data={
            "csrf_token": token,
            "account": NTT_SHOP,
            "order": "NTT-OVER",
            "note": "n",
        },
    )
    assert answer.status_code == 403
    assert stored(orders_world, NTT_SHOP, "NTT-OVER").settlement is None


def test_a_cancellation_where_the_marketplace_has_none_is_refused(
    orders_world: ConsoleWorld,
) -> None:
    client = orders_world.client
    token = sign_in(client, "admin")
    queue = client.get("/orders/oversold")
    # Shopee cancels; Bukalapak documents no cancellation: no button for it
    assert queue.text.count('action="/orders/oversold/cancel"') == 1
    answer = client.post(
        "/orders/oversold/cancel",
        data={"csrf_token": token, "account": EVERYONE_SHOP, "order": "ALL-OVER"},
    )
    assert answer.status_code == 400
    assert "documents no cancellation" in answer.text
    assert stored(orders_world, EVERYONE_SHOP, "ALL-OVER").settlement is None
