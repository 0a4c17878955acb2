"""The operations port: ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP.

A stdlib HTTP server in a thread of its own. ``/healthz`` answers 200 while the
process serves at all. ``/readyz`` runs the readiness checks the daemon passes in
(database reachable and migrated, scheduler alive, …): 200 when every check passes,
503 naming those that did not. ``/metrics`` is the Prometheus text of
:mod:`scheduler.ops.metrics`. Nothing else is served (404); only ``GET`` and
``HEAD`` are answered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import structlog

from scheduler.ops import metrics

log = structlog.get_logger(__name__)

#: A readiness check: ``None`` when ready, otherwise why not (shown in ``/readyz``;
#: it must carry no secret). A check that raises counts as not ready.
ReadyCheck = Callable[[], str | None]


def readiness(checks: Mapping[str, ReadyCheck]) -> dict[str, str]:
    """Run ``checks``; the name and reason of each that is not ready."""
    failing: dict[str, str] = {}
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as exc:  # a check that fails says "not ready", never crashes
            log.exception("ops.ready_check_failed", check=name)
            problem = f"check failed: {type(exc).__name__}"
        if problem is not None:
            failing[name] = problem
    return failing


class _Handler(BaseHTTPRequestHandler):
    checks: ClassVar[Mapping[str, ReadyCheck]] = {}
    server_version = "ikm-sync-ops"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        path = self.path.partition("?")[0]
        if path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8", body)
        elif path == "/readyz":
            failing = readiness(self.checks)
            status = HTTPStatus.SERVICE_UNAVAILABLE if failing else HTTPStatus.OK
            text = json.dumps(
                {
                    "ready": not failing,
                    "checks": sorted(self.checks),
                    "failing": failing,
                }
            )
            self._send(status, text.encode() + b"\n", "application/json", body)
        elif path == "/metrics":
            self._send(HTTPStatus.OK, metrics.exposition(), metrics.CONTENT_TYPE, body)
        else:
            self._send(
                HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", body
            )

    def _send(
        self, status: HTTPStatus, payload: bytes, content_type: str, body: bool
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged: probes come every few seconds."""


@dataclass(frozen=True, slots=True)
class OpsServer:
    """A running operations port; :meth:`stop` shuts it down."""

    host: str
    port: int
    _server: ThreadingHTTPServer
    _thread: threading.Thread
    _unwatch: Callable[[], None]

    @property
    def url(self) -> str:
        """The base address, e.g. ``http://127.0.0.1:9108``."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and counting marketplace requests; waits for the thread."""
        self._unwatch()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve_ops(
    host: str, port: int, ready_checks: Mapping[str, ReadyCheck]
) -> OpsServer:
    """Serve ``/healthz``, ``/readyz`` (running ``ready_checks``) and ``/metrics``
    on ``host``:``port`` (0: any free port, see :attr:`OpsServer.port`) from a
    daemon thread, and count marketplace requests while it runs."""
    handler = type("OpsHandler", (_Handler,), {"checks": dict(ready_checks)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="ops-http", daemon=True)
    unwatch = metrics.watch_requests()
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    log.info("ops.serving", host=str(bound_host), port=int(bound_port))
    return OpsServer(str(bound_host), int(bound_port), server, thread, unwatch)
