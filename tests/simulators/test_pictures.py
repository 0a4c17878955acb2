"""The sample picture host: ``.jpg``/``.jpeg`` answer a JPEG, ``.png`` a PNG, anything
else 404; in process (``picture_response``) and over real HTTP (``PictureHost``)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest

from simulators.kit.pictures import (
    JPEG,
    PNG,
    PictureHost,
    picture,
    picture_response,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, each CRC checked."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        content = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + content) == crc, kind
        chunks.append((kind, content))
        at += 12 + length
    return chunks


def test_the_png_is_a_well_formed_one_pixel_image() -> None:
    chunks = png_chunks(PNG)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height, depth, colour) == (1, 1, 8, 6)  # 1x1 RGBA
    pixels = zlib.decompress(b"".join(c for k, c in chunks if k == b"IDAT"))
    assert pixels == b"\x00" + b"\xff" * 4  # no filter, one white opaque pixel


def test_the_jpeg_is_a_one_pixel_baseline_image() -> None:
    assert JPEG.startswith(b"\xff\xd8")  # SOI
    assert JPEG.endswith(b"\xff\xd9")  # EOI
    segments: dict[int, bytes] = {}
    at = 2
    while True:  # every marker segment's length lands on the next marker
        assert JPEG[at] == 0xFF, at
        marker = JPEG[at + 1]
        (length,) = struct.unpack(">H", JPEG[at + 2 : at + 4])
        segments.setdefault(marker, JPEG[at + 4 : at + 2 + length])
        at += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data up to EOI
            break
    assert {0xE0, 0xDB, 0xC0, 0xC4, 0xDA} <= segments.keys()
    precision, height, width, components = struct.unpack(">BHHB", segments[0xC0][:6])
    assert (precision, width, height, components) == (8, 1, 1, 1)
    assert at < len(JPEG) - 2  # some scan data before EOI


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/KOPI-FLR-001/1.jpg", "image/jpeg"),
        ("/a/b/c.JPEG", "image/jpeg"),
        ("/x.jpeg?v=2", "image/jpeg"),
        ("/tenun/2.png", "image/png"),
        ("/tenun/2.PNG?size=large", "image/png"),
    ],
)
def test_picture_paths_answer_their_kind(path: str, kind: str) -> None:
    found = picture(path)
    assert found is not None
    content, content_type = found
    assert content_type == kind
    assert content == (JPEG if kind == "image/jpeg" else PNG)


@pytest.mark.parametrize(
    "path", ["/", "/notes.txt", "/x.gif", "/x.jpg/", "/x.jpgx", "/x?name=a.jpg"]
)
def test_other_paths_have_no_picture(path: str) -> None:
    assert picture(path) is None


def test_picture_response_serves_a_mock_transport() -> None:
    with httpx.Client(
        transport=httpx.MockTransport(picture_response),
        base_url="https://img.ikm-sync.example",
    ) as http:
        jpeg = http.get("/KOPI-FLR-001/1.jpg")
        png = http.get("/p/1.png")
        missing = http.get("/KOPI-FLR-001/notes.txt")
        posted = http.post("/KOPI-FLR-001/1.jpg", content=b"x")
    assert (jpeg.status_code, jpeg.headers["content-type"]) == (200, "image/jpeg")
    assert jpeg.content == JPEG
    assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
    assert png.content == PNG
    assert missing.status_code == 404
    assert posted.status_code == 404  # pictures are only read


@pytest.fixture
def host() -> Iterator[PictureHost]:
    served = PictureHost("127.0.0.1", 0)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def test_the_picture_host_answers_over_real_http(host: PictureHost) -> None:
    url = httpx.URL(host.url)
    assert url.host == "127.0.0.1"
    assert url.port not in (None, 0)  # port 0: a free port was taken
    with httpx.Client(base_url=host.url, timeout=10) as http:
        jpeg = http.get("/KOPI-FLR-001/1.jpg")
        png = http.get("/tenun/2.png?size=large")
        missing = http.get("/KOPI-FLR-001/notes.txt")
    assert jpeg.status_code == 200
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert jpeg.headers["content-length"] == str(len(JPEG))
    assert jpeg.content == JPEG
    assert (png.status_code, png.content) == (200, PNG)
    assert png.headers["content-type"] == "image/png"
    assert missing.status_code == 404
    assert missing.text == "no such picture"


def test_a_stopped_picture_host_refuses_connections() -> None:
    served = PictureHost("127.0.0.1", 0)
    served.start()
    url = served.url
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{url}/a.jpg").status_code == 200
    served.stop()
    with httpx.Client(timeout=5) as http, pytest.raises(httpx.ConnectError):
        http.get(f"{url}/a.jpg")
