"""A stand-in picture host: sample catalogues point their product images here.

Marketplaces that copy a listing's pictures (Shopee downloads and re-uploads each one)
need URLs that answer. ``ikm-sync simulate`` serves this host beside the simulators, and
tests mount :func:`picture_response` on an ``httpx.MockTransport``. Any path ending in
``.jpg``/``.jpeg`` answers a small JPEG, ``.png`` a small PNG; anything else is 404, so
a broken picture link can be tried too.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

#: A 1x1 baseline JPEG (white).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909"
    "080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30"
    "313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403"
    "050504040000017d01020300041105122131410613516107227114328191a1082342b1c115"
    "52d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a53"
    "5455565758595a636465666768696a737475767778797a838485868788898a929394959697"
    "98999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8"
    "d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)
#: A 1x1 PNG (white).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000b4944415478da63f80f040009fb03fd68fa1ccc0000000049454e44ae426082"
)


def picture(path: str) -> tuple[bytes, str] | None:
    """The picture served at ``path`` and its content type, or None (404)."""
    name = path.split("?", 1)[0].lower()
    if name.endswith((".jpg", ".jpeg")):
        return JPEG, "image/jpeg"
    if name.endswith(".png"):
        return PNG, "image/png"
    return None


def picture_response(request: httpx.Request) -> httpx.Response:
    """Answer ``request`` as the picture host does (for ``httpx.MockTransport``)."""
    found = picture(request.url.path) if request.method == "GET" else None
    if found is None:
        return httpx.Response(404, text="no such picture")
    content, content_type = found
    return httpx.Response(200, content=content, headers={"Content-Type": content_type})


class _PictureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ikm-sync-picture-host"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        found = picture(self.path)
        content, content_type = found or (b"no such picture", "text/plain")
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class PictureHost:
    """The picture host on ``host:port``, served from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = ThreadingHTTPServer((host, port), _PictureHandler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL pictures are under."""
        return (
            f"http://{self._httpd.server_address[0]!s}:{self._httpd.server_address[1]}"
        )

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
