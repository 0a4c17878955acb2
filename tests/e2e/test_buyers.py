"""``ikm-sync buyers`` against simulators served over real HTTP on free ports."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ikm_sync.cli import app
from simulators.bukalapak.simulator import BukalapakSimulator
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.pictures import PictureHost
from simulators.kit.server import SimulatorServer
from simulators.tokopedia.simulator import TokopediaSimulator

pytestmark = pytest.mark.e2e

START = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
PAYING = BuyerSettings(unpaid_share=0.0, cancel_share=0.0, return_share=0.0)
EXIT_CONFIG = 3


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``ikm-sync`` in process, with a clean environment and a wide terminal."""
    for name in list(os.environ):
        if name.upper().startswith("IKMSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def servers() -> Iterator[Callable[[Simulator], SimulatorServer]]:
    """Start simulators on free ports; all are stopped afterwards."""
    started: list[SimulatorServer] = []

    def serve(simulator: Simulator) -> SimulatorServer:
        server = SimulatorServer(simulator, "127.0.0.1", 0)
        server.start()
        started.append(server)
        return server

    yield serve
    for server in started:
        server.stop()


def tokopedia(stock: int = 50) -> TokopediaSimulator:
    sim = TokopediaSimulator(
        clock=SimClock(START, frozen=True), seed=3, rate_limits=False, buyers=PAYING
    )
    sim.seed_product(sku="KOPI-FLR-001", stock=stock)
    return sim


def bukalapak(stock: int = 50) -> BukalapakSimulator:
    sim = BukalapakSimulator(
        clock=SimClock(START, frozen=True), seed=3, rate_limits=False, buyers=PAYING
    )
    sim.add_product(name="Tenun Ikat", sku_name="TENUN-SKA-001", price=1, stock=stock)
    return sim


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_buyers_order_at_each_simulator_and_the_orders_are_printed_as_json(
    run: Callable[..., Result],
    servers: Callable[[Simulator], SimulatorServer],
) -> None:
    toko, buka = tokopedia(), bukalapak()
    first, second = servers(toko), servers(buka)
    result = run(
        "buyers",
        "--orders",
        "3",
        "--url",
        first.url,
        "--url",
        second.url + "/",
        "--json",
    )
    assert result.exit_code == 0, result.output
    placed = json.loads(result.stdout)["placed"]
    assert list(placed) == [first.url, second.url + "/"]
    toko_orders = {str(o["order_id"]): o["status"] for o in toko.inspect_orders()}
    buka_orders = {str(o["id"]): o["status"] for o in buka.inspect_orders()}
    assert sorted(placed[first.url]) == sorted(toko_orders)
    assert sorted(placed[second.url + "/"]) == sorted(buka_orders)
    assert len(toko_orders) == len(buka_orders) == 3
    assert set(toko_orders.values()) == {220}  # paid when the command returns
    assert set(buka_orders.values()) == {"paid"}


def test_buyers_prints_a_table_of_the_orders_placed(
    run: Callable[..., Result],
    servers: Callable[[Simulator], SimulatorServer],
) -> None:
    sim = tokopedia()
    server = servers(sim)
    result = run("buyers", "--orders", "2", "--url", server.url)
    assert result.exit_code == 0, result.output
    orders = [str(o["order_id"]) for o in sim.inspect_orders()]
    assert len(orders) == 2
    assert "Simulated buyers' orders" in result.stdout
    (row,) = [line for line in result.stdout.splitlines() if server.url in line]
    assert " 2 " in row
    assert all(order in row for order in orders)


def test_buyers_with_nothing_left_to_buy_places_no_order(
    run: Callable[..., Result],
    servers: Callable[[Simulator], SimulatorServer],
) -> None:
    server = servers(tokopedia(stock=0))
    result = run("buyers", "--url", server.url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"placed": {server.url: []}}


def test_a_url_where_no_simulator_listens_is_a_clear_configuration_error(
    run: Callable[..., Result],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run("buyers", "--url", url)
    assert result.exit_code == EXIT_CONFIG
    assert "configuration error" in result.stderr
    assert f"--url {url}: no simulator answered" in result.stderr
    assert "ikm-sync simulate" in result.stderr
    assert "Traceback" not in result.output


def test_a_url_that_is_not_a_simulator_is_a_configuration_error(
    run: Callable[..., Result],
    servers: Callable[[Simulator], SimulatorServer],
) -> None:
    sim = tokopedia()
    server = servers(sim)
    pictures = PictureHost("127.0.0.1", 0)  # answers, but has no /_sim/buyers
    pictures.start()
    try:
        result = run("buyers", "--url", server.url, "--url", pictures.url)
    finally:
        pictures.stop()
    assert result.exit_code == EXIT_CONFIG
    assert (
        f"--url {pictures.url}: expected a simulator's answer, got HTTP"
        in result.stderr
    )


@pytest.mark.parametrize("orders", ["0", "1001"])
def test_an_order_count_out_of_range_is_a_usage_error(
    run: Callable[..., Result], orders: str
) -> None:
    result = run("buyers", "--orders", orders, "--url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "--orders" in result.stderr
