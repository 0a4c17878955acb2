"""The test gate counts only requests whose sender is still there: a killed
process's last request, read late, must not take the place of the next process's
Nth request (which would make a kill land before that process did anything)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.e2e.gate import Gate, _gone


@pytest.fixture
def target() -> Iterator[str]:
    class Answer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_socket_whose_peer_closed_reads_as_gone() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert not _gone(ours)
        theirs.close()
        assert _gone(ours)
    finally:
        ours.close()


def test_a_request_from_a_sender_that_is_gone_is_neither_counted_nor_held(
    target: str,
) -> None:
    gate = Gate({"m": target})
    try:
        gate.arm(1)
        host, port = gate.urls["m"].removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as dead:
            # the whole request, then the sender dies, before the gate counts it
            # (its lock held meanwhile: the server thread waits to count)
            with gate._lock:
                dead.sendall(b"GET /x HTTP/1.1\r\nHost: m\r\n\r\n")
                dead.shutdown(socket.SHUT_WR)
            assert dead.recv(1) == b""  # dropped: closed without an answer
        assert not gate.reached.is_set()
        # the next live request is the first one counted, and is held
        answers: list[int] = []
        client = threading.Thread(
            target=lambda: answers.append(
                httpx.get(f"{gate.urls['m']}/y", timeout=30).status_code
            )
        )
        client.start()
        assert gate.reached.wait(30)
        gate.release(forward=True)
        client.join(30)
        assert answers == [200]
    finally:
        gate.close()
