"""The sync engine's commands end to end: ``sync plan|push|orders|cycle|report``,
``orders``, ``reconcile`` and ``runs``, run as an officer runs them against a real
``ikm-sync simulate`` process (see :mod:`tests.e2e.sites`).

One site serves the whole module and the tests run in file order, each continuing
from where the previous one left the store and the marketplaces: the demo catalogue
is planned and reconciled before publishing, published, drifted on a marketplace and
repaired, pushed while one marketplace is unreachable, ordered from by simulated buyers
and cycled, reported on, and finally oversold. What each account should carry is
derived from demo/products.csv and demo/ikm-sync.toml, not copied from the output.
"""

from __future__ import annotations

import csv
import functools
import os
import socket
import tomllib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import httpx
import pytest
import sqlalchemy as sa

from core.store.db import make_engine
from simulators.registry import load_simulator
from tests.e2e.helpers import snapshot, write_csv
from tests.e2e.sites import DEMO, MARKETPLACES, Site, _site

pytestmark = [pytest.mark.e2e, pytest.mark.db, pytest.mark.slow]

SHOPEE = "shopee-ntt-flores"
TOKOPEDIA = "tokopedia-karya-lapas"
BUKALAPAK = "bukalapak-esmart-ikm"
ACCOUNTS = (BUKALAPAK, SHOPEE, TOKOPEDIA)  # the order commands report them in
WIDE = {"COLUMNS": "200"}  # tables are not cut to 80 columns
#: Non-GET routes that write nothing at the shop: obtaining tokens.
TOKEN_ROUTES = frozenset(
    {"auth.token.get", "auth.access_token.get", "token", "oauth.token"}
)


# ---------------------------------------------------------------- the demo, derived


@functools.cache
def _settings() -> dict[str, Any]:
    with (DEMO / "ikm-sync.toml").open("rb") as handle:
        return tomllib.load(handle)


def _account(account_id: str) -> dict[str, Any]:
    (found,) = [a for a in _settings()["accounts"] if a["id"] == account_id]
    return found  # type: ignore[no-any-return]


def marketplace_of(account_id: str) -> str:
    return str(_account(account_id)["marketplace"])


def account_of(marketplace: str) -> str:
    (found,) = [a for a in ACCOUNTS if marketplace_of(a) == marketplace]
    return found


@functools.cache
def _products() -> list[dict[str, str]]:
    with (DEMO / "products.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def allocate(account_id: str, sku: str, available: int) -> int | None:
    """What ``account_id`` should show of ``available`` units (None: not listed),
    from the demo settings' ``[accounts.allocation]``: ``min(cap, (available -
    safety_buffer) * share_percent / 100)`` rounded down, 0 below ``min_to_list``."""
    policy = _account(account_id).get("allocation", {})
    if sku.upper() in {s.upper() for s in policy.get("exclude", [])}:
        return None
    fields = ("share_percent", "safety_buffer", "cap", "min_to_list")
    rule = {k: policy[k] for k in fields if k in policy}
    rule.update(policy.get("overrides", {}).get(sku, {}))
    sellable = max(available - int(rule.get("safety_buffer", 0)), 0)
    listed = sellable * int(rule.get("share_percent", 100)) // 100
    if rule.get("cap") is not None:
        listed = min(listed, int(rule["cap"]))
    return 0 if listed < int(rule.get("min_to_list", 0)) else listed


def wanted(account_id: str) -> dict[str, tuple[int, int]]:
    """SKU → (price, stock to show) of every listing the account should carry on a
    fresh import of the demo catalogue."""
    producers = set(_account(account_id)["producers"])
    result = {}
    for row in _products():
        if (row["status"] or "active") != "active":
            continue
        if row["producer_code"] not in producers:
            continue
        shown = allocate(account_id, row["sku"], int(row["stock"] or 0))
        if shown is not None:
            result[row["sku"]] = (int(row["price"]), shown)
    return result


@functools.cache
def write_routes() -> dict[str, frozenset[str]]:
    """Per marketplace, the simulator's routes that change something at the shop."""
    return {
        key: frozenset(
            route.name
            for route in load_simulator(key)().router.routes
            if route.method != "GET"
            and not route.name.startswith("_sim.")
            and route.name not in TOKEN_ROUTES
        )
        for key in MARKETPLACES
    }


def writes_between(
    before: dict[str, Counter[str]], after: dict[str, Counter[str]]
) -> dict[str, int]:
    """``marketplace route`` → write requests answered between two counts."""
    return {
        f"{key} {name}": after[key][name] - before[key][name]
        for key in MARKETPLACES
        for name in sorted(write_routes()[key])
        if after[key][name] != before[key][name]
    }


# ---------------------------------------------------------------- store and shops


def query(site: Site, statement: str) -> list[tuple[Any, ...]]:
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(statement))]
    finally:
        engine.dispose()


def execute(site: Site, statement: str, **params: Any) -> None:
    """Run one statement in a transaction of its own and commit it."""
    engine = make_engine(site.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def order_movements(site: Site) -> list[tuple[str, str, str, int, int]]:
    """(reference, SKU key, reason, on-hand change, reserved change) of every stock
    movement an order made."""
    return [
        (str(ref), str(key), str(reason), int(on_hand), int(reserved))
        for ref, key, reason, on_hand, reserved in query(
            site,
            "SELECT m.reference, p.sku_key, m.reason, m.on_hand_delta, "
            "m.reserved_delta FROM stock_movements m "
            "JOIN products p ON p.id = m.product_id WHERE m.reason LIKE 'order%'",
        )
    ]


class Line(NamedTuple):
    """One stored order line."""

    account: str
    order: str
    status: str
    stock_state: str
    sku_key: str
    quantity: int


def stored_lines(site: Site) -> list[Line]:
    """Every stored order line, with its order's account, id, status and stock."""
    return [
        Line(str(a), str(o), str(status), str(state), str(key), int(quantity))
        for a, o, status, state, key, quantity in query(
            site,
            "SELECT a.account_key, o.external_id, o.status, o.stock_state, "
            "p.sku_key, l.quantity FROM order_lines l "
            "JOIN orders o ON o.id = l.order_id "
            "JOIN channel_accounts a ON a.id = o.account_id "
            "JOIN products p ON p.id = l.product_id",
        )
    ]


def api_calls(site: Site) -> dict[str, Counter[str]]:
    """Per marketplace, requests answered so far, the simulator's own
    ``/_sim/`` inspection endpoints left out."""
    return {
        key: Counter({k: n for k, n in counts.items() if not k.startswith("_sim.")})
        for key, counts in site.requests().items()
    }


def available(site: Site) -> dict[str, int]:
    """Available stock (on hand minus reserved) per SKU key, from the ledger."""
    return {
        str(key): int(on_hand) - int(reserved)
        for key, on_hand, reserved in query(
            site,
            "SELECT p.sku_key, SUM(m.on_hand_delta), SUM(m.reserved_delta) "
            "FROM stock_movements m JOIN products p ON p.id = m.product_id "
            "GROUP BY p.sku_key",
        )
    }


def stock_on(site: Site, marketplace: str) -> dict[str, int]:
    """SKU → the stock a marketplace shows buyers now."""
    return {sku: stock for sku, _price, stock, _status in site.shown()[marketplace]}


ORDER_ID = {"shopee": "order_sn", "tokopedia": "order_id", "bukalapak": "id"}


def sim_orders(site: Site, marketplace: str) -> list[dict[str, Any]]:
    """The orders a seller can see at ``marketplace``, as its simulator has them."""
    orders = httpx.get(f"{site.urls[marketplace]}/_sim/orders", timeout=30)
    return [o for o in orders.json()["orders"] if o.get("listed", True)]


def cancelled(order: dict[str, Any]) -> bool:
    status = order["status"]
    if isinstance(status, int):  # Tokopedia: 0, 3, 5, 6, 10, 15 are cancellations
        return status in {0, 3, 5, 6, 10, 15}
    return "cancel" in str(status).lower()


def plan_counts(site: Site) -> dict[str, dict[str, int]]:
    plan = site.json_of("sync", "plan")
    return {a["account"]: a["counts"] for a in plan["accounts"]}


def by_account(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {r["account"]: r for r in runs}
    assert len(found) == len(runs), runs
    return found


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tokopedia_sets_price(site: Site, sku: str, price: int) -> None:
    """Change a price at Tokopedia the way a seller's other tool would: through the
    marketplace's own API, not through ikm-sync."""
    with httpx.Client(base_url=site.urls["tokopedia"], timeout=30) as http:
        given = http.get("/_sim/credentials").json()
        token = http.post(
            "/token",
            params={"grant_type": "client_credentials"},
            auth=(given["client_id"], given["client_secret"]),
        ).json()["access_token"]
        answer = http.post(
            f"/inventory/v1/fs/{given['fs_id']}/price/update",
            params={"shop_id": given["shop_id"]},
            json=[{"sku": sku, "new_price": price}],
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["succeed_rows"] == 1, answer.text


def lease_every_account(site: Site, holder: str, until: datetime) -> None:
    """Every account leased by ``holder`` until ``until``, in place of any lease."""
    execute(site, "DELETE FROM account_leases")
    execute(
        site,
        "INSERT INTO account_leases (account_id, holder, expires_at) "
        "SELECT id, :holder, :until FROM channel_accounts",
        holder=holder,
        until=until,
    )


# ---------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, database_backend: Any
) -> Iterator[Site]:
    """The module's site: the demo catalogue imported, accounts authorised, nothing
    published yet."""
    tmp = tmp_path_factory.mktemp("sync-cli")
    url: str = database_backend.create(tmp)
    try:
        yield from _site(tmp / "site", url)
    finally:
        database_backend.drop(url)


@pytest.fixture(scope="module")
def published(site: Site) -> Site:
    """The site once everything is published (the push test does it in file order;
    a test run on its own gets it here)."""
    if any(sum(c.values()) for c in plan_counts(site).values()):
        site.json_of("sync", "push")
    return site


# ---------------------------------------------------------------- before publishing


def test_plan_before_publishing_lists_every_create_and_changes_nothing(
    site: Site,
) -> None:
    requests, stored = api_calls(site), snapshot(site.database_url)

    plan = site.json_of("sync", "plan")

    assert [a["account"] for a in plan["accounts"]] == list(ACCOUNTS)
    for account in plan["accounts"]:
        want = wanted(account["account"])
        assert account["marketplace"] == marketplace_of(account["account"])
        assert account["counts"] == {
            "resolve": 0,
            "create": len(want),
            "update": 0,
            "deactivate": 0,
            "price": 0,
            "stock": 0,
        }
        assert {c["sku"]: (c["price"], c["stock"]) for c in account["create"]} == want
    # the demo's own figures (`make demo` shows them), should the derivation slip
    assert {a["account"]: a["counts"]["create"] for a in plan["accounts"]} == {
        BUKALAPAK: 54,
        SHOPEE: 17,
        TOKOPEDIA: 14,
    }
    assert api_calls(site) == requests  # not even a read at any marketplace
    assert snapshot(site.database_url) == stored


def test_plan_for_one_account_and_with_details(site: Site) -> None:
    plan = site.json_of("sync", "plan", "--account", TOKOPEDIA)
    (only,) = plan["accounts"]
    assert only["account"] == TOKOPEDIA
    assert only["counts"]["create"] == len(wanted(TOKOPEDIA))

    shown = site.run("sync", "plan", "--account", SHOPEE, "--details", env=WIDE)
    assert "Plan (nothing is sent)" in shown.stdout
    changes = [
        line
        for line in shown.stdout.splitlines()
        if SHOPEE in line and "create" in line
    ]
    assert len(changes) == len(wanted(SHOPEE))  # one row per SKU …
    for sku, (price, stock) in wanted(SHOPEE).items():  # … with what it will carry
        assert any(
            sku in line and f"price {price}, stock {stock}" in line for line in changes
        ), sku
    assert TOKOPEDIA not in shown.stdout


def test_plan_for_an_unknown_account_exits_3_naming_it(site: Site) -> None:
    error = site.json_of("sync", "plan", "--account", "nope", code=3)
    assert error["error"] == "configuration error"
    assert error["exit_code"] == 3
    (detail,) = error["detail"]
    assert "'nope'" in detail
    assert all(account in detail for account in ACCOUNTS)  # the ones that exist

    shown = site.run("sync", "plan", "--account", "nope", check=False)
    assert shown.returncode == 3
    assert "configuration error" in shown.stderr
    assert "--account 'nope': no such account" in shown.stderr
    assert shown.stdout == ""

    both = site.run("sync", "plan", "--account", SHOPEE, "--all", check=False)
    assert both.returncode == 2
    assert "give --account or --all, not both" in both.stderr


def test_reconcile_before_publishing_reports_every_wanted_listing_missing(
    site: Site,
) -> None:
    report = site.json_of("reconcile", code=1)

    assert [a["account"] for a in report["accounts"]] == list(ACCOUNTS)
    for account in report["accounts"]:
        want = wanted(account["account"])
        assert account["run"]["outcome"] == "succeeded"
        assert account["run"]["counts"] == {"missing": len(want), "listings_seen": 0}
        assert {f["kind"] for f in account["findings"]} == {"missing"}
        assert {f["sku"] for f in account["findings"]} == set(want)
        assert account["repair"] is None
    assert all(not listings for _, listings in site.shown().items())


# ---------------------------------------------------------------- publishing


def test_push_publishes_every_account_then_nothing_is_left_to_send(
    site: Site,
) -> None:
    pushed = site.json_of("sync", "push")

    runs = by_account(pushed["runs"])
    assert list(runs) == list(ACCOUNTS)
    for account, run in runs.items():
        assert run["kind"] == "publish"
        assert run["outcome"] == "succeeded", run
        assert run["counts"] == {"create": len(wanted(account))}
        assert run["error"] is None
        assert isinstance(run["run_id"], int)
        listings = site.shown()[marketplace_of(account)]
        assert {sku: (price, stock) for sku, price, stock, _ in listings} == wanted(
            account
        )
    assert all(sum(c.values()) == 0 for c in plan_counts(site).values())

    requests = site.requests()
    again = site.json_of("sync", "push")
    assert [(r["outcome"], r["counts"]) for r in again["runs"]] == [
        ("succeeded", {})
    ] * 3
    assert writes_between(requests, site.requests()) == {}


@pytest.mark.parametrize("account", [BUKALAPAK, SHOPEE, TOKOPEDIA])
def test_reconcile_after_publishing_reports_nothing(
    published: Site, account: str
) -> None:
    report = published.json_of("reconcile", "--account", account, code=0)
    (only,) = report["accounts"]
    assert only["account"] == account
    assert only["findings"] == [], report
    assert only["run"]["outcome"] == "succeeded"
    assert only["run"]["counts"] == {"listings_seen": len(wanted(account))}


def test_reconcile_reports_a_price_changed_on_the_marketplace_and_repair_restores_it(
    published: Site,
) -> None:
    sku = next(s for s, (_p, stock) in sorted(wanted(TOKOPEDIA).items()) if stock)
    price = wanted(TOKOPEDIA)[sku][0]
    tokopedia_sets_price(published, sku, price + 1000)

    report = published.json_of("reconcile", "--account", TOKOPEDIA, code=1)
    (only,) = report["accounts"]
    (finding,) = [f for f in only["findings"] if f["sku"] == sku]
    assert finding["kind"] == "drift"
    assert finding["fields"] == {
        "price": {"ours": str(price), "theirs": str(price + 1000)}
    }
    assert finding["known_sku"] is True
    assert only["repair"] is None
    assert (sku, price + 1000) in {
        (s, p) for s, p, _, _ in published.shown()["tokopedia"]
    }

    repaired = published.json_of("reconcile", "--account", TOKOPEDIA, "--repair")
    (only,) = repaired["accounts"]
    assert any(f["sku"] == sku for f in only["findings"])
    assert only["repair"]["kind"] == "publish"
    assert only["repair"]["outcome"] == "succeeded"
    assert only["repair"]["counts"]["price"] == 1
    assert only["repair"]["run_id"] > only["run"]["run_id"]
    assert (sku, price) in {(s, p) for s, p, _, _ in published.shown()["tokopedia"]}
    assert plan_counts(published)[TOKOPEDIA] == dict.fromkeys(
        ("resolve", "create", "update", "deactivate", "price", "stock"), 0
    )


def test_an_archived_product_is_reported_as_an_orphan_until_a_push_delists_it(
    published: Site,
) -> None:
    only_bukalapak = sorted(
        set(wanted(BUKALAPAK)) - set(wanted(SHOPEE)) - set(wanted(TOKOPEDIA))
    )
    sku = only_bukalapak[0]
    (row,) = [r for r in _products() if r["sku"] == sku]
    columns = ["sku", "producer_code", "name", "price", "weight_grams", "status"]
    archive = write_csv(
        published.workdir / "archive.csv",
        columns,
        [[*(row[c] for c in columns[:-1]), "archived"]],
    )
    published.run("catalog", "import", str(archive))

    plan = published.json_of("sync", "plan", "--account", BUKALAPAK)
    (only,) = plan["accounts"]
    assert only["counts"]["deactivate"] == 1
    assert [d["sku"] for d in only["deactivate"]] == [sku]

    report = published.json_of("reconcile", "--account", BUKALAPAK, code=1)
    (only,) = report["accounts"]
    (finding,) = only["findings"]
    assert (finding["kind"], finding["sku"], finding["known_sku"]) == (
        "orphan",
        sku,
        True,
    )

    pushed = published.json_of("sync", "push", "--account", BUKALAPAK)
    (run,) = pushed["runs"]
    assert (run["outcome"], run["counts"]) == ("succeeded", {"deactivate": 1})
    (status,) = [s for k, _, _, s in published.shown()["bukalapak"] if k == sku]
    assert status != "active"
    report = published.json_of("reconcile", "--account", BUKALAPAK)
    assert report["accounts"][0]["findings"] == []


# ---------------------------------------------------------------- a shop unreachable


def test_an_unreachable_marketplace_fails_its_account_and_not_the_others(
    published: Site,
) -> None:
    tokopedia, bukalapak = (stock_on(published, m) for m in ("tokopedia", "bukalapak"))
    sku = next(s for s in sorted(tokopedia) if tokopedia[s] and bukalapak.get(s))
    stock = published.json_of("stock", "show", sku)
    assert stock["available"] == stock["on_hand"] - stock["reserved"]
    published.run(
        "stock",
        "adjust",
        sku,
        str(-stock["available"]),
        "--reason",
        "flood damage in the workshop store",
    )
    broken = published.workdir / "tokopedia-unreachable.toml"
    settings = published.config.read_text(encoding="utf-8")
    settings = settings.replace(
        f'base_url = "{published.urls["tokopedia"]}"',
        f'base_url = "{published.urls["tokopedia"]}"\nretry_attempts = 1',
    ).replace(published.urls["tokopedia"], f"http://127.0.0.1:{closed_port()}")
    broken.write_text(settings, encoding="utf-8")

    pushed = published.json_of("sync", "push", config=broken, code=1)
    runs = by_account(pushed["runs"])
    assert (runs[BUKALAPAK]["outcome"], runs[BUKALAPAK]["counts"]) == (
        "succeeded",
        {"stock": 1},
    )
    assert (runs[SHOPEE]["outcome"], runs[SHOPEE]["counts"]) == ("succeeded", {})
    # a batch the marketplace never answered fails its items; with every item
    # failed the run failed, and the items keep the reason
    assert runs[TOKOPEDIA]["outcome"] == "failed"
    assert runs[TOKOPEDIA]["counts"] == {"stock_failed": 1}
    shown = published.json_of("runs", "show", str(runs[TOKOPEDIA]["run_id"]))
    (item,) = shown["items"]
    assert (item["subject"], item["operation"], item["ok"]) == (sku, "stock", False)
    assert "could not connect" in item["error_message"]
    assert stock_on(published, "bukalapak")[sku] == 0
    assert stock_on(published, "tokopedia")[sku] == tokopedia[sku]  # not reached

    pulled = published.json_of("sync", "orders", config=broken, code=1)
    runs = by_account(pulled["runs"])
    assert runs[TOKOPEDIA]["outcome"] == "failed"
    assert "could not connect" in runs[TOKOPEDIA]["error"]
    assert all(runs[a]["outcome"] == "succeeded" for a in (SHOPEE, BUKALAPAK))
    shown = published.json_of("runs", "show", str(runs[TOKOPEDIA]["run_id"]))
    assert (shown["kind"], shown["outcome"]) == ("orders", "failed")
    assert shown["error"] == runs[TOKOPEDIA]["error"]

    healed = published.json_of("sync", "push")
    runs = by_account(healed["runs"])
    assert (runs[TOKOPEDIA]["outcome"], runs[TOKOPEDIA]["counts"]) == (
        "succeeded",
        {"stock": 1},
    )
    assert stock_on(published, "tokopedia")[sku] == 0


# ---------------------------------------------------------------- orders and cycles


def test_a_cycle_pulls_the_buyers_orders_moves_stock_once_and_corrects_every_shop(
    published: Site,
) -> None:
    urls = [arg for url in published.urls.values() for arg in ("--url", url)]
    placed = published.json_of("buyers", *urls, "--orders", "3")["placed"]
    assert {url: len(ids) for url, ids in placed.items()} == dict.fromkeys(
        published.urls.values(), 3
    )

    cycle = published.json_of("sync", "cycle")

    pulls, pushes = by_account(cycle["orders"]), by_account(cycle["push"])
    assert list(pulls) == list(pushes) == list(ACCOUNTS)
    orders = {m: sim_orders(published, m) for m in MARKETPLACES}
    for account, run in pulls.items():
        seen = orders[marketplace_of(account)]
        assert (run["kind"], run["outcome"]) == ("orders", "succeeded"), run
        assert run["counts"]["orders_seen"] == len(seen)
        assert run["window"]["since"] < run["window"]["until"]
        assert pushes[account]["outcome"] == "succeeded", pushes[account]
    stored = {(line.account, line.order) for line in stored_lines(published)}
    assert stored == {
        (account_of(m), str(o[ORDER_ID[m]])) for m in MARKETPLACES for o in orders[m]
    }

    movements = order_movements(published)
    assert set(
        Counter((ref, key, why) for ref, key, why, _, _ in movements).values()
    ) == {1}  # one movement per order line and step, never two
    reserved = {(ref, key): units for ref, key, why, _, units in movements}
    sold: Counter[str] = Counter()
    for marketplace, seen in orders.items():
        for order in seen:
            if cancelled(order):
                continue
            reference = f"{marketplace} order {order[ORDER_ID[marketplace]]}"
            for line in order["lines"]:
                key = str(line["sku"]).upper()
                assert reserved[(reference, key)] == line["quantity"], reference
                sold[key] += line["quantity"]
    assert sold

    some = sorted(sold)[0]
    stock = published.json_of("stock", "show", some)
    reservations = [m for m in stock["movements"] if m["reason"] == "order_reserved"]
    assert sum(m["reserved_delta"] for m in reservations) >= sold[some]
    assert len({m["idempotency_key"] for m in reservations}) == len(reservations)

    left, skus = available(published), {r["sku"].upper(): r["sku"] for r in _products()}
    for account in ACCOUNTS:
        shows = stock_on(published, marketplace_of(account))
        for key in sold:
            sku = skus[key]
            if sku in wanted(account):
                assert shows[sku] == allocate(account, sku, left[key]), (account, sku)
    assert all(sum(c.values()) == 0 for c in plan_counts(published).values())


def test_a_second_cycle_changes_nothing_and_sends_nothing(published: Site) -> None:
    requests, movements = published.requests(), order_movements(published)

    cycle = published.json_of("sync", "cycle")

    for run in cycle["orders"]:
        assert run["outcome"] == "succeeded"
        assert not {k for k in run["counts"] if k == "order" or k.startswith("move")}
    assert [(r["outcome"], r["counts"]) for r in cycle["push"]] == [
        ("succeeded", {})
    ] * 3
    assert writes_between(requests, published.requests()) == {}
    assert sorted(order_movements(published)) == sorted(movements)


def test_orders_are_counted_by_status_per_account(published: Site) -> None:
    counts = published.json_of("orders")["accounts"]

    assert list(counts) == list(ACCOUNTS)
    stored = {(x.account, x.order, x.status) for x in stored_lines(published)}
    for account, by_status in counts.items():
        assert sum(by_status.values()) == len(
            sim_orders(published, marketplace_of(account))
        )
        assert by_status == dict(Counter(s for a, _, s in stored if a == account))
    assert sum(sum(c.values()) for c in counts.values()) >= 9

    one = published.json_of("orders", "--account", SHOPEE)["accounts"]
    assert one == {SHOPEE: counts[SHOPEE]}
    assert published.json_of("orders", "--oversold") == {"oversold": []}


# ---------------------------------------------------------------- runs and report


def test_runs_list_and_show(published: Site) -> None:
    runs = published.json_of("runs", "list", "--limit", "1000")["runs"]

    ids = [r["id"] for r in runs]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert {r["kind"] for r in runs} == {"publish", "orders", "reconcile"}
    assert {r["account"] for r in runs} == set(ACCOUNTS)
    assert all(r["finished_at"] and r["outcome"] != "running" for r in runs)
    first_publish: dict[str, dict[str, Any]] = {}
    for r in reversed(runs):
        if r["kind"] == "publish":
            first_publish.setdefault(r["account"], r)
    assert {a: r["counts"] for a, r in first_publish.items()} == {
        a: {"create": len(wanted(a))} for a in ACCOUNTS
    }
    failed = [r for r in runs if r["outcome"] == "failed"]
    # newest first: the order pull, then the push whose every item failed
    assert [(r["kind"], r["account"]) for r in failed] == [
        ("orders", TOKOPEDIA),
        ("publish", TOKOPEDIA),
    ]
    assert "could not connect" in failed[0]["error"]
    assert failed[1]["counts"] == {"stock_failed": 1}
    assert all(r["items"] == [] for r in runs)  # the list leaves items out

    chosen = published.json_of(
        "runs", "list", "--account", TOKOPEDIA, "--kind", "reconcile"
    )["runs"]
    assert chosen == [
        r for r in runs if r["account"] == TOKOPEDIA and r["kind"] == "reconcile"
    ]
    drifted = next(r for r in chosen if r["counts"].get("drift"))
    shown = published.json_of("runs", "show", str(drifted["id"]))
    assert {k: v for k, v in shown.items() if k != "items"} == {
        k: v for k, v in drifted.items() if k != "items"
    }
    assert len(shown["items"]) == drifted["counts"]["drift"]
    assert any(
        item["error_code"] == "drift"
        and not item["ok"]
        and item["error_message"].startswith("price: ours ")
        for item in shown["items"]
    ), shown["items"]


def test_runs_show_of_an_unknown_run_exits_3_with_a_clear_error(site: Site) -> None:
    error = site.json_of("runs", "show", "99999", code=1)
    assert error == {
        "error": "refused",
        "detail": ["run 99999: no such run"],
        "exit_code": 1,
    }
    shown = site.run("runs", "show", "99999", check=False)
    assert shown.returncode == 1
    assert "run 99999: no such run" in shown.stderr


def test_sync_report_agrees_with_the_shops_the_ledger_and_the_runs(
    published: Site,
) -> None:
    cycle = published.json_of("sync", "cycle")  # the shops in step, just now
    report = published.json_of("sync", "report")["accounts"]
    runs = published.json_of("runs", "list", "--limit", "1000")["runs"]

    assert [r["account"] for r in report] == list(ACCOUNTS)
    # each figure comes from the account's latest run of its kind: this cycle's,
    # or, when it had nothing to do and so recorded no run, the one before
    latest: dict[tuple[str, str], int] = {}
    for run in runs:
        key = (run["account"], run["kind"])
        latest[key] = max(latest.get(key, 0), run["id"])
    for kind, field, done in (
        ("publish", "listings_from_run", cycle["push"]),
        ("orders", "orders_from_run", cycle["orders"]),
    ):
        assert [r[field] for r in report] == [
            d["run_id"] or latest.get((d["account"], kind)) for d in done
        ]
    lines = stored_lines(published)
    for figures in report:
        account, marketplace = figures["account"], figures["marketplace"]
        assert marketplace == marketplace_of(account)
        listings = httpx.get(
            f"{published.urls[marketplace]}/_sim/listings", timeout=30
        ).json()["listings"]
        live = [x for x in listings if x["status"] in ("active", "NORMAL", "empty")]
        assert figures["listed"] == len(live)
        assert figures["units_shown"] == sum(int(x["stock"]) for x in live)
        assert figures["not_listed"] == 0
        mine = [x for x in lines if x.account == account]
        assert figures["orders"] == len(sim_orders(published, marketplace))
        assert figures["orders"] == len({x.order for x in mine})
        assert figures["cancelled"] == len(
            {x.order for x in mine if x.status == "cancelled"}
        )
        assert figures["units_sold"] == sum(
            x.quantity for x in mine if x.stock_state in ("reserved", "shipped")
        )
        newest = {  # an account whose pulls never found an order has no run
            kind: max(
                (
                    r["id"]
                    for r in runs
                    if r["account"] == account and r["kind"] == kind
                ),
                default=None,
            )
            for kind in ("publish", "orders")
        }
        assert figures["listings_from_run"] == newest["publish"]
        assert figures["orders_from_run"] == newest["orders"]
    assert sum(f["units_sold"] for f in report) > 0


# ---------------------------------------------------------------- overselling


def test_orders_beyond_the_stock_on_two_marketplaces_are_listed_as_oversold(
    published: Site,
) -> None:
    shopee, bukalapak = (stock_on(published, m) for m in ("shopee", "bukalapak"))
    sku = next(s for s in sorted(shopee) if shopee[s] >= 2 and bukalapak.get(s, 0) >= 2)
    left = available(published)[sku.upper()]
    published.run(
        "stock", "adjust", sku, str(1 - left), "--reason", "jars broken in transit"
    )
    known = {
        m: {str(o[ORDER_ID[m]]) for o in sim_orders(published, m)} for m in MARKETPLACES
    }

    def new_orders_of_sku(marketplace: str) -> list[dict[str, Any]]:
        return [
            o
            for o in sim_orders(published, marketplace)
            if str(o[ORDER_ID[marketplace]]) not in known[marketplace]
            and not cancelled(o)
            and any(line["sku"] == sku for line in o["lines"])
        ]

    for _ in range(100):  # buyers rush both shops until each has sold the SKU
        waiting = [m for m in ("shopee", "bukalapak") if not new_orders_of_sku(m)]
        if not waiting:
            break
        for marketplace in waiting:
            published.buyers(marketplace, 5)
    rushed = {m: new_orders_of_sku(m) for m in ("shopee", "bukalapak")}
    assert all(rushed.values()), "buyers never ordered the SKU on both marketplaces"
    units = sum(
        line["quantity"]
        for orders in rushed.values()
        for o in orders
        for line in o["lines"]
        if line["sku"] == sku
    )
    assert units >= 2  # more than the one unit available

    cycle = published.json_of("sync", "cycle")
    assert sum(r["counts"].get("oversold", 0) for r in cycle["orders"]) >= 1

    oversold = published.json_of("orders", "--oversold")["oversold"]
    assert oversold
    ids = {
        (account_of(m), str(o[ORDER_ID[m]]))
        for m, orders in rushed.items()
        for o in orders
    }
    for order in oversold:
        assert (order["account"], order["external_id"]) in ids
        assert order["oversold"] is True
        assert order["stock_state"] == "reserved"
        assert [line["sku"] for line in order["lines"]] == [sku]
    assert published.json_of("orders", "--oversold", "--account", TOKOPEDIA) == {
        "oversold": []
    }
    held = sum(
        x.quantity
        for x in stored_lines(published)
        if x.sku_key == sku.upper() and (x.account, x.order) in ids
        if x.stock_state == "reserved"
    )
    stock = published.json_of("stock", "show", sku)
    assert stock["available"] == 1 - held < 0
    assert stock_on(published, "shopee")[sku] == 0
    assert stock_on(published, "bukalapak")[sku] == 0


def _oversold_on_shopee(published: Site) -> dict[str, Any]:
    """An open oversold Shopee order: the ledger loses the units of a SKU Shopee
    still shows, a buyer orders it there and a pull stores the order."""
    shown = stock_on(published, "shopee")
    stock = available(published)
    sku = next(s for s in sorted(shown) if shown[s] >= 1 and stock[s.upper()] >= 1)
    published.run(
        "stock", "adjust", sku, str(-stock[sku.upper()]), "--reason", "jars broken"
    )
    known = {str(o["order_sn"]) for o in sim_orders(published, "shopee")}
    for _ in range(100):  # buyers rush the shop until one orders the SKU
        if any(
            str(o["order_sn"]) not in known
            and o["status"] == "READY_TO_SHIP"
            and any(line["sku"] == sku for line in o["lines"])
            for o in sim_orders(published, "shopee")
        ):
            break
        published.buyers("shopee", 5)
    published.json_of("sync", "orders", "--account", SHOPEE)
    found = [
        o
        for o in published.json_of("orders", "--oversold", "--account", SHOPEE)[
            "oversold"
        ]
        if o["status"] == "paid" and any(line["sku"] == sku for line in o["lines"])
    ]
    assert found, "no paid oversold Shopee order of the SKU"
    return found[0]  # type: ignore[no-any-return]


def _refused(published: Site, *args: str) -> str:
    """Run a command that must be refused with exit 1, changing nothing."""
    before = snapshot(published.database_url)
    answer = published.json_of(*args, code=1)
    assert snapshot(published.database_url) == before, args
    return " ".join(answer["detail"])


def test_oversold_orders_are_settled_or_cancelled_on_the_marketplace(
    published: Site,
) -> None:
    order = _oversold_on_shopee(published)
    number = order["external_id"]
    holds = [
        x for x in stored_lines(published) if (x.account, x.order) == (SHOPEE, number)
    ]
    reserved_before = query(
        published,
        "SELECT COUNT(*) FROM stock_movements WHERE reason = 'order_released'",
    )[0][0]

    # where the marketplace documents no cancellation: refused, nothing changed
    assert "bukalapak documents no cancellation" in _refused(
        published, "orders", "cancel", BUKALAPAK, "100200300", "--actor", "officer:ani"
    )
    # unknown order, not oversold, an empty note: refused, nothing changed
    assert "no such order" in _refused(
        published, "orders", "settle", SHOPEE, "NO-SUCH-ORDER", "--note", "n"
    )
    account, fine = query(
        published,
        "SELECT a.account_key, o.external_id FROM orders o "
        "JOIN channel_accounts a ON a.id = o.account_id WHERE NOT o.oversold",
    )[0]
    assert "is not oversold" in _refused(
        published, "orders", "settle", str(account), str(fine), "--note", "n"
    )
    assert "note: expected a non-empty text" in _refused(
        published, "orders", "settle", SHOPEE, number, "--note", " "
    )

    cancel = published.json_of(
        "orders", "cancel", SHOPEE, number, "--reason", "out_of_stock",
        "--actor", "officer:ani",
    )  # fmt: skip

    assert cancel["read_back_error"] is None
    assert cancel["order"]["status"] == "cancelled"
    assert cancel["order"]["stock_state"] == "released"
    assert cancel["order"]["settlement"]["how"] == "cancelled"
    assert cancel["order"]["settlement"]["by"] == "officer:ani"
    (shown,) = [
        o for o in sim_orders(published, "shopee") if str(o["order_sn"]) == number
    ]
    assert shown["status"] == "CANCELLED"
    listed = published.json_of("orders", "--oversold", "--account", SHOPEE)
    assert number not in {o["external_id"] for o in listed["oversold"]}
    every = published.json_of("orders", "--oversold", "--all", "--account", SHOPEE)
    (kept,) = [o for o in every["oversold"] if o["external_id"] == number]
    assert kept["settlement"] == cancel["order"]["settlement"]
    # the next pull sees the cancellation again: released once
    published.json_of("sync", "orders", "--account", SHOPEE)
    released = [
        key
        for (key,) in query(
            published,
            "SELECT idempotency_key FROM stock_movements "
            "WHERE reason = 'order_released'",
        )
        if str(key).startswith(f"order:{SHOPEE}:{number}:")
    ]
    assert len(released) == len(holds)
    assert query(
        published,
        "SELECT COUNT(*) FROM stock_movements WHERE reason = 'order_released'",
    )[0][0] == reserved_before + len(holds)
    assert "already settled" in _refused(
        published, "orders", "cancel", SHOPEE, number, "--actor", "officer:budi"
    )

    # an open oversold order marked handled leaves the list, with who and why
    other = _oversold_on_shopee(published)
    settled = published.json_of(
        "orders", "settle", SHOPEE, other["external_id"],
        "--note", "buyer agreed to wait", "--actor", "officer:ani",
    )  # fmt: skip
    assert settled["order"]["settlement"]["how"] == "handled"
    assert settled["order"]["settlement"]["by"] == "officer:ani"
    assert settled["order"]["settlement"]["note"] == "buyer agreed to wait"
    assert settled["order"]["stock_state"] == "reserved"  # nothing else changes
    after = published.json_of("orders", "--oversold")["oversold"]
    assert other["external_id"] not in {o["external_id"] for o in after}
    assert "already settled" in _refused(
        published, "orders", "settle", SHOPEE, other["external_id"], "--note", "again"
    )
    wider = {"COLUMNS": "400"}  # ten columns, the notes not folded
    table = published.run("orders", "--oversold", "--all", env=wider).stdout
    assert "buyer agreed to wait" in table
    assert "cancelled on shopee: out_of_stock" in table


# ---------------------------------------------------------------- account leases


def test_accounts_another_live_process_holds_are_skipped_and_reported(
    published: Site,
) -> None:
    alive = f"{socket.gethostname()}:{os.getpid()}:tests"  # this very process
    lease_every_account(published, alive, datetime.now(UTC) + timedelta(hours=1))
    try:
        pushed = published.json_of("sync", "push")  # exit 0: nothing failed
        assert [
            (r["account"], r["outcome"], r["run_id"], r["error"])
            for r in pushed["runs"]
        ] == [
            (a, "skipped", None, "the account is held by another process")
            for a in ACCOUNTS
        ]
        held = query(published, "SELECT holder FROM account_leases WHERE holder <> ''")
        assert held == [(alive,)] * 3  # neither waited for nor taken over
    finally:
        execute(published, "DELETE FROM account_leases")


def test_reconcile_repair_skips_an_account_another_process_holds_and_writes_nothing(
    published: Site,
) -> None:
    sku = next(s for s, (_p, stock) in sorted(wanted(TOKOPEDIA).items()) if stock)
    price = wanted(TOKOPEDIA)[sku][0]
    tokopedia_sets_price(published, sku, price + 1000)
    runs_before = query(published, "SELECT COUNT(*) FROM sync_runs")
    calls = api_calls(published)
    alive = f"{socket.gethostname()}:{os.getpid()}:tests"  # this very process
    lease_every_account(published, alive, datetime.now(UTC) + timedelta(hours=1))
    try:
        held = published.json_of("reconcile", "--account", TOKOPEDIA, "--repair")
        (only,) = held["accounts"]
        assert (
            only["run"]["outcome"],
            only["run"]["run_id"],
            only["run"]["error"],
        ) == (
            "skipped",
            None,
            "the account is held by another process",
        )
        assert (only["findings"], only["repair"]) == ([], None)
        # nothing sent, nothing recorded, the lease neither waited for nor taken
        assert writes_between(calls, api_calls(published)) == {}
        assert (sku, price + 1000) in {
            (s, p) for s, p, _, _ in published.shown()["tokopedia"]
        }
        assert query(published, "SELECT COUNT(*) FROM sync_runs") == runs_before
        assert (
            query(published, "SELECT holder FROM account_leases WHERE holder <> ''")
            == [(alive,)] * 3
        )
        listed = published.run("reconcile", "--account", TOKOPEDIA, "--repair")
        assert "held by another process" in listed.stdout
    finally:
        execute(published, "DELETE FROM account_leases")

    repaired = published.json_of("reconcile", "--account", TOKOPEDIA, "--repair")
    assert repaired["accounts"][0]["repair"]["outcome"] == "succeeded"
    assert (sku, price) in {(s, p) for s, p, _, _ in published.shown()["tokopedia"]}
    assert (
        query(published, "SELECT holder FROM account_leases WHERE holder <> ''") == []
    )


def test_an_account_never_leased_is_worked_on_not_skipped(
    published: Site,
) -> None:
    execute(published, "DELETE FROM account_leases")  # as in a fresh database

    for _ in range(2):  # the first lease of each account, then a lease again
        pulled = published.json_of("sync", "orders")
        assert [(r["account"], r["outcome"]) for r in pulled["runs"]] == [
            (a, "succeeded") for a in ACCOUNTS
        ], pulled
        assert (
            query(published, "SELECT holder FROM account_leases WHERE holder <> ''")
            == []
        )
