"""Review findings on the console's request handling: a request body is bounded
before anyone is signed in or any form is parsed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.audit.query import EventFilter
from tests.web.conftest import ConsoleWorld
from web.security import MAX_BODY_BYTES

pytestmark = pytest.mark.db

_BOUNDARY = "review-boundary"


def _multipart(size: int, pulled: list[int]) -> Iterator[bytes]:
    """A multipart body with one file part of ``size`` bytes, sent in chunks of
    1 MiB; ``pulled`` counts the chunks the server asked for."""
    yield (
        f"--{_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="products"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    chunk = b"x" * (1 << 20)
    for _ in range(size // len(chunk)):
        pulled.append(1)
        yield chunk
    yield f"\r\n--{_BOUNDARY}--\r\n".encode()


def _failed_logins(world: ConsoleWorld) -> int:
    reader = world.console.runtime.audit_reader()
    return len(list(reader.events(EventFilter(kind="user.login_failed"))))


def test_a_body_declared_too_large_is_refused_before_it_is_read(
    console_world: ConsoleWorld,
) -> None:
    before = _failed_logins(console_world)
    answer = console_world.client.post(
        "/login",
        content=b"username=admin&password=" + b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert "too large" in answer.text
    assert _failed_logins(console_world) == before


def test_a_streamed_body_growing_too_large_is_cut_off(
    console_world: ConsoleWorld,
) -> None:
    pulled: list[int] = []
    size = MAX_BODY_BYTES + 8 * (1 << 20)
    answer = console_world.client.post(
        "/catalogue/import",
        content=_multipart(size, pulled),
        headers={"content-type": f"multipart/form-data; boundary={_BOUNDARY}"},
    )
    assert answer.status_code == 413
    assert "too large" in answer.text


def test_a_body_within_the_bound_is_read_as_before(
    console_world: ConsoleWorld,
) -> None:
    pulled: list[int] = []
    answer = console_world.client.post(
        "/login",
        content=_multipart(2 << 20, pulled),
        headers={"content-type": f"multipart/form-data; boundary={_BOUNDARY}"},
    )
    assert answer.status_code == 403  # read, then refused for want of a CSRF token
    assert len(pulled) == 2
