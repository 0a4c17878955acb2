"""``ikm-sync simulate``: the marketplace simulators on local ports."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

from core.errors import ConfigError
from ikm_sync._output import console, emit_json, table

if TYPE_CHECKING:
    from simulators.kit.base import Simulator
    from simulators.kit.pictures import PictureHost
    from simulators.kit.server import SimulatorServer

log = structlog.get_logger(__name__)

#: Where a simulator without a default port of its own listens: the next from here.
FIRST_FREE_PORT = 8710
#: Where the sample picture host listens by default (demo/products.csv points there).
PICTURES_PORT = 8700


def default_ports(keys: list[str]) -> dict[str, int]:
    """Each simulator's own default port (``Simulator.default_port``), or the next
    free one from :data:`FIRST_FREE_PORT`."""
    from simulators import load_simulator

    ports: dict[str, int] = {}
    spare = FIRST_FREE_PORT
    for key in keys:
        own = load_simulator(key).default_port
        if own is None:
            own, spare = spare, spare + 1
        ports[key] = own
    return ports


def _ports(keys: list[str], assigned: list[str]) -> dict[str, int]:
    ports = default_ports(keys)
    for item in assigned:
        key, _, number = item.partition("=")
        if key not in ports or not number.isdigit() or not 0 <= int(number) < 65536:
            raise ConfigError(
                f"--port {item!r}: expected MARKETPLACE=PORT for one of "
                f"{', '.join(keys)}, with a port from 0 (any free port) to 65535"
            )
        ports[key] = int(number)
    return ports


def state_file(base: Path | None, key: str, several: bool) -> Path | None:
    """The state file of one simulator: ``base`` itself, or ``base`` with the
    marketplace before its suffix when several simulators share the option."""
    if base is None:
        return None
    return base.with_name(f"{base.stem}.{key}{base.suffix}") if several else base


def build(
    key: str,
    *,
    seed: int,
    orders_per_hour: float,
    fault_rate: float,
    latency_ms: float,
    rate_limits: bool,
) -> Simulator:
    """One simulator with buyers and faults as the options ask."""
    from simulators import load_simulator
    from simulators.kit.buyers import BuyerSettings
    from simulators.kit.faults import FaultKind

    simulator = load_simulator(key)(
        seed=seed,
        rate_limits=rate_limits,
        buyers=BuyerSettings(orders_per_hour=orders_per_hour),
    )
    if fault_rate:
        simulator.faults.random_faults(
            fault_rate,
            (FaultKind.ERROR, FaultKind.RATE_LIMIT, FaultKind.TIMEOUT),
        )
    if latency_ms:
        simulator.faults.set_latency(latency_ms / 1000, jitter=latency_ms / 1000)
    return simulator


def simulate(
    marketplace: Annotated[
        list[str] | None,
        typer.Option(
            "--marketplace",
            "-m",
            help="Marketplace to simulate (repeat; default: all installed).",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        list[str] | None,
        typer.Option(help="MARKETPLACE=PORT (repeat); defaults 8701, 8702, 8703."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for ids, buyers and faults.")] = 0,
    orders_per_hour: Annotated[
        float, typer.Option(min=0, help="Simulated buyers' orders per hour, per shop.")
    ] = 0.0,
    fault_rate: Annotated[
        float,
        typer.Option(min=0, max=1, help="Share of requests answered with a fault."),
    ] = 0.0,
    latency_ms: Annotated[
        float,
        typer.Option(min=0, help="Added latency: this many ms plus up to as many."),
    ] = 0.0,
    rate_limits: Annotated[
        bool, typer.Option(help="Enforce the marketplaces' rate limits.")
    ] = True,
    pictures_port: Annotated[
        int,
        typer.Option(
            min=-1,
            max=65535,
            help="Port of the sample picture host that catalogue image URLs may "
            "point at (0: any free port; -1: do not serve pictures).",
        ),
    ] = PICTURES_PORT,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Keep state in this JSON file across restarts (one file per "
            "marketplace when several run: NAME.<marketplace>.json).",
            dir_okay=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=0, help="Stop after this many seconds (default: until Ctrl-C)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print where each listens as JSON.")
    ] = False,
) -> None:
    """Serve the marketplace simulators on local ports until stopped.

    Prints each simulator's address and the credentials to put in the settings. Each
    answers the marketplace's seller API as its page in shared/marketplaces describes,
    and shows what it holds under /_sim/listings, /_sim/orders and /_sim/requests.
    """
    from simulators import available_simulators
    from simulators.kit.pictures import PictureHost
    from simulators.kit.server import SimulatorServer

    keys = marketplace or available_simulators()
    unknown = [k for k in keys if k not in available_simulators()]
    if unknown or not keys:
        raise ConfigError(
            f"unknown simulator(s) {', '.join(unknown) or '(none installed)'}; "
            f"expected one of: {', '.join(available_simulators())}"
        )
    ports = _ports(keys, port or [])
    servers: list[SimulatorServer] = []
    pictures: PictureHost | None = None
    try:
        if pictures_port >= 0:
            try:
                pictures = PictureHost(host, pictures_port)
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {host}:{pictures_port} for the picture host: "
                    f"{exc.strerror} (--pictures-port -1 serves none)"
                ) from None
            pictures.start()
        for key in keys:
            simulator = build(
                key,
                seed=seed,
                orders_per_hour=orders_per_hour,
                fault_rate=fault_rate,
                latency_ms=latency_ms,
                rate_limits=rate_limits,
            )
            path = state_file(state, key, len(keys) > 1)
            if path is not None and path.exists():
                simulator.load_state(path)
            try:
                server = SimulatorServer(simulator, host, ports[key], state_file=path)
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {host}:{ports[key]} for {key}: {exc.strerror}"
                ) from None
            server.start()
            servers.append(server)
            log.info("simulator.started", marketplace=key, url=server.url)
        _announce(servers, pictures, as_json)
        _wait(duration)
    finally:
        if pictures is not None:
            pictures.stop()
        for server in servers:
            server.stop()
            log.info("simulator.stopped", marketplace=server.simulator.key)


def _announce(
    servers: list[SimulatorServer], pictures: PictureHost | None, as_json: bool
) -> None:
    pictures_url = None if pictures is None else pictures.url
    payload = [
        {
            "marketplace": s.simulator.key,
            "url": s.url,
            "credentials": s.simulator.credentials(),
            "state_file": None if s.state_file is None else str(s.state_file),
        }
        for s in servers
    ]
    if as_json:
        emit_json({"simulators": payload, "pictures": pictures_url})
        return
    out = console()
    for item in payload:
        credentials = item["credentials"]
        assert isinstance(credentials, dict)  # noqa: S101  (built just above)
        out.print(
            table(
                f"{item['marketplace']} simulator at {item['url']}",
                ("setting", "value"),
                sorted(credentials.items()),
            )
        )
    if pictures_url is not None:
        out.print(f"sample pictures: {pictures_url}/<any path>.jpg")
    out.print(
        "inspect: <url>/_sim/listings, /_sim/orders, /_sim/requests; Ctrl-C stops"
    )


def _wait(duration: float | None) -> None:
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {
        number: signal.signal(number, on_signal)
        for number in (signal.SIGINT, signal.SIGTERM)
        if threading.current_thread() is threading.main_thread()
    }
    try:
        stop.wait(duration)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def buyers(
    orders: Annotated[
        int, typer.Option(min=1, max=1000, help="Orders to place at each simulator.")
    ] = 3,
    url: Annotated[
        list[str] | None,
        typer.Option(
            help="A running simulator's base URL (repeat; default: every installed "
            "simulator's default port on 127.0.0.1)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the orders placed as JSON.")
    ] = False,
) -> None:
    """Let simulated buyers order now at running simulators (demonstrations, training).

    Each buyer pays at once (or lets the order lapse unpaid); shipping, delivery,
    cancellations and returns follow on the simulator's clock as usual.
    """
    import httpx

    from simulators import available_simulators

    targets = url or [
        f"http://127.0.0.1:{port}"
        for port in default_ports(available_simulators()).values()
    ]
    placed: dict[str, list[str]] = {}
    with httpx.Client(timeout=10) as http:
        for base in targets:
            try:
                answer = http.post(
                    f"{base.rstrip('/')}/_sim/buyers", json={"orders": orders}
                )
            except httpx.HTTPError as exc:
                raise ConfigError(
                    f"--url {base}: no simulator answered ({type(exc).__name__}); "
                    f"start one with `ikm-sync simulate`"
                ) from None
            try:
                body = answer.json() if answer.status_code == 200 else None
            except ValueError:
                body = None
            ids = body.get("placed") if isinstance(body, dict) else None
            if not isinstance(ids, list):
                raise ConfigError(
                    f"--url {base}: expected a simulator's answer, got HTTP "
                    f"{answer.status_code} without a list of placed orders"
                    + (f" (orders already placed: {placed})" if placed else "")
                )
            placed[base] = [str(i) for i in ids]
    if as_json:
        emit_json({"placed": placed})
        return
    console().print(
        table(
            "Simulated buyers' orders",
            ("simulator", "orders placed", "order ids"),
            [(base, str(len(ids)), ", ".join(ids)) for base, ids in placed.items()],
        )
    )
