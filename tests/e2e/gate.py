"""A gate between ``ikm-sync`` processes and the simulators: it forwards every request,
and, once armed, holds the Nth marketplace request (and every one after it) until the
test lets it go — so a test can signal or kill a process at a point defined by its
progress (N requests reached the marketplaces, the Nth is in flight), not by time.

A held request is then forwarded (the marketplace applies it; a killed process never
reads the answer) or dropped (it never reached the marketplace).
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

#: Longest a held request waits for the test before it is forwarded anyway.
HOLD_LIMIT = 120.0
#: Headers not copied between the two connections.
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
_HOP_REQUEST = _HOP | {"host", "accept-encoding"}


class Gate:
    """Forwarding servers, one per simulator, sharing one request count."""

    def __init__(self, targets: dict[str, str]) -> None:
        self._targets = targets
        self._client = httpx.Client(timeout=60)
        self._lock = threading.Lock()
        self._seen = 0
        self._hold_at: int | None = None
        self._forward = True
        self._holding = 0
        self._settled = threading.Condition(self._lock)
        #: Set when the request the gate was armed for arrived (and is held).
        self.reached = threading.Event()
        #: That request's method and path (``None`` until it arrived).
        self.held: tuple[str, str] | None = None
        self._released = threading.Event()
        self._servers: list[ThreadingHTTPServer] = []
        self.urls: dict[str, str] = {}
        for key, target in targets.items():
            server = _QuietServer(("127.0.0.1", 0), self._handler(target))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self._servers.append(server)
            self.urls[key] = f"http://127.0.0.1:{server.server_address[1]}"

    def arm(self, nth: int) -> None:
        """Hold the ``nth`` request from now on (1 = the next one) and every later
        one, until :meth:`release`."""
        with self._lock:
            self._seen = 0
            self._hold_at = nth
            self.held = None
            self.reached.clear()
            self._released.clear()

    def release(self, *, forward: bool = True) -> None:
        """Let held requests go (``forward``: to the marketplace, else dropped),
        wait until the marketplace has answered them, and forward everything from
        now on."""
        with self._lock:
            self._forward = forward
            self._hold_at = None
        self._released.set()
        with self._settled:
            if not self._settled.wait_for(lambda: self._holding == 0, HOLD_LIMIT):
                raise TimeoutError("held requests were not answered in time")

    def close(self) -> None:
        self.release(forward=False)
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._client.close()

    @contextmanager
    def _admitted(
        self, client: socket.socket, method: str = "", path: str = ""
    ) -> Iterator[bool]:
        """Count a request and wait while it is held; yields whether to forward it.
        A held request counts as held until the block ends (answered or dropped).

        A request whose sender is already gone (a killed process's last request,
        read late by a busy server thread, possibly after the gate was armed again
        for the next process) is dropped without being counted: counted, it would
        take the place of the next process's Nth request. The check and the count
        are one step under the lock, so :meth:`arm` cannot come between them."""
        with self._lock:
            if _gone(client):
                yield False
                return
            self._seen += 1
            held = self._hold_at is not None and self._seen >= self._hold_at
            if held:
                self._holding += 1
                if self.held is None:
                    self.held = (method, path)
                self.reached.set()
        if not held:
            yield True
            return
        try:
            self._released.wait(HOLD_LIMIT)
            with self._lock:
                forward = self._forward
            yield forward
        finally:
            with self._settled:
                self._holding -= 1
                self._settled.notify_all()

    def _handler(self, target: str) -> type[BaseHTTPRequestHandler]:
        gate = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with gate._admitted(
                    self.connection, self.command, self.path
                ) as forward:
                    if not forward:
                        self.close_connection = True  # dropped: no answer at all
                        return
                    answer = gate._client.request(
                        self.command,
                        target + self.path,
                        content=body,
                        headers={
                            k: v
                            for k, v in self.headers.items()
                            if k.lower() not in _HOP_REQUEST
                        },
                    )
                try:
                    self.send_response(answer.status_code)
                    for name, value in answer.headers.multi_items():
                        if name.lower() not in _HOP | {"content-encoding"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:  # the client is gone (killed)
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay  # noqa: N815

        return Forward


def _gone(client: socket.socket) -> bool:
    """True when the peer of ``client`` has closed its end (or reset it): the socket
    reads as ready with nothing to read. A live client waiting for its answer sends
    nothing more, so its socket is not readable."""
    try:
        readable, _, _ = select.select([client], [], [], 0)
        return bool(readable) and client.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _QuietServer(ThreadingHTTPServer):
    """A forwarding server that does not print a traceback when a killed client's
    connection is reset under it (expected here, not an error)."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet for connections the client reset or abandoned; loud otherwise."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def gated(config: Path, targets: dict[str, str]) -> Iterator[Gate]:
    """A :class:`Gate` in front of ``targets``, with the settings file ``config``
    pointed at it for as long as the block runs."""
    gate = Gate(targets)
    original = config.read_text(encoding="utf-8")
    settings = original
    for key, url in targets.items():  # "URL" and "URL/path", not a longer port
        settings = settings.replace(f'"{url}"', f'"{gate.urls[key]}"')
        settings = settings.replace(f'"{url}/', f'"{gate.urls[key]}/')
    config.write_text(settings, encoding="utf-8")
    try:
        yield gate
    finally:
        config.write_text(original, encoding="utf-8")
        gate.close()
