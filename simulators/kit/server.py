"""Serving a simulator on a local port: the same handler, over real HTTP.

A request that the fault plan times out, or whose answer is lost, gets no answer at all:
the connection closes, as when a marketplace's response never arrives.
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from simulators.kit.base import Simulator


def _handler_class(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class SimulatorRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"ikm-sync-{simulator.key}-simulator"
        # Headers and body go out in two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK (about 40 ms a response).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the simulator counts requests itself (``/_sim/requests``)."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = str(self.headers.get("Host") or "127.0.0.1")
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=[
                    (k, v) for k, v in self.headers.items() if k.lower() != "host"
                ],
                content=body,
            )
            try:
                response = simulator.handler(request)
            except httpx.TimeoutException:
                self.close_connection = True  # no answer: the client sees it fail
                return
            content = response.content
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in {
                    "content-length",
                    "transfer-encoding",
                    "connection",
                }:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

    return SimulatorRequestHandler


class SimulatorServer:
    """One simulator on ``host:port``; a background thread lets buyers act and saves
    the state file every ``save_every`` seconds."""

    def __init__(
        self,
        simulator: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: Path | None = None,
        tick_seconds: float = 1.0,
        save_every: float = 10.0,
    ) -> None:
        self.simulator = simulator
        self.state_file = state_file
        self._httpd = ThreadingHTTPServer((host, port), _handler_class(simulator))
        self._httpd.daemon_threads = True
        self._stop = threading.Event()
        self._tick_seconds, self._save_every = tick_seconds, save_every
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """The base URL clients call."""
        host, port = self._httpd.server_address[:2]
        return (
            f"http://{host!s}:{port}"
            if isinstance(host, str)
            else f"http://127.0.0.1:{port}"
        )

    def start(self) -> None:
        """Serve in background threads."""
        serve = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        tick = threading.Thread(target=self._tick, daemon=True)
        self._threads = [serve, tick]
        for thread in self._threads:
            thread.start()

    def _tick(self) -> None:
        since_save = 0.0
        while not self._stop.wait(self._tick_seconds):
            self.simulator.tick()
            since_save += self._tick_seconds
            if self.state_file is not None and since_save >= self._save_every:
                self.simulator.save_state(self.state_file)
                since_save = 0.0

    def stop(self) -> None:
        """Stop serving, and write the state file one last time."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            with contextlib.suppress(RuntimeError):
                thread.join(timeout=5)
        if self.state_file is not None:
            self.simulator.save_state(self.state_file)
