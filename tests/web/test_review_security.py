"""Review findings on the console's request handling: a request body is bounded
before anyone is signed in or any form is parsed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest
from starlette.types import Message, Scope

from core.audit.query import EventFilter
from core.errors import DomainError
from core.services.users import LOCK_AFTER, LOGIN_REFUSED, log_in
from tests.web.conftest import ConsoleWorld
from tests.web.kit import PASSWORD, csrf_of
from web.security import MAX_BODY_BYTES, AddressThrottle

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


def test_sign_ins_in_flight_count_against_the_address_throttle(
    console_world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guesses sent at once may not all pass the throttle before the first of
    them has failed: each attempt counts as it starts."""
    world = console_world
    world.app.state.throttle = AddressThrottle(most=2)
    state = threading.Condition()
    entered: list[str] = []
    refused: list[int] = []
    release = threading.Event()

    def slow_refusal(*args: object, **kwargs: object) -> None:
        with state:
            entered.append(str(args[2]))
            state.notify_all()
        release.wait(30)
        raise DomainError(LOGIN_REFUSED)

    monkeypatch.setattr("web.pages.auth.log_in", slow_refusal)
    browsers = [world.browser() for _ in range(4)]
    tokens = [csrf_of(b.get("/login").text) for b in browsers]

    def guess(n: int) -> None:
        answer = browsers[n].post(
            "/login",
            data={
                "username": "admin",
                "password": f"guess{n}",
                "csrf_token": tokens[n],
            },
        )
        if answer.status_code == 429:
            with state:
                refused.append(n)
                state.notify_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    with state:
        assert state.wait_for(lambda: len(entered) + len(refused) == 4, timeout=30)
    release.set()
    for thread in threads:
        thread.join(30)
    assert len(entered) == 2
    assert len(refused) == 2


def test_wrong_passwords_sent_at_once_each_count_towards_the_lock(
    console_world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt reads the user's count of failures before any of them writes
    it: each failure still counts, and the user ends locked."""
    world = console_world
    if world.console.runtime.session_factory.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite runs one writing unit of work at a time")
    attempts = LOCK_AFTER + 1
    all_read = threading.Barrier(attempts)

    def verify_after_all_read(stored: str, password: str) -> bool:
        all_read.wait(30)
        return False

    monkeypatch.setattr("core.services.users._verify", verify_after_all_read)

    def attempt(n: int) -> None:
        with pytest.raises(DomainError):
            log_in(world.console.units, world.console.clock, "officer.ntt", f"x{n}")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with world.console.units() as uow:
        found = uow.users.credentials("officer.ntt")
    assert found is not None
    assert found.failed_logins == attempts
    assert found.locked_until is not None
    monkeypatch.undo()
    with pytest.raises(DomainError):
        log_in(world.console.units, world.console.clock, "officer.ntt", PASSWORD)


def test_the_server_stops_reading_a_body_once_it_is_too_large(
    console_world: ConsoleWorld,
) -> None:
    """Straight through ASGI: the chunks asked for stop at the bound."""
    chunk = b"x" * (1 << 20)
    offered = MAX_BODY_BYTES // len(chunk) + 20
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        if pulled == 1:
            head = (
                f"--{_BOUNDARY}\r\nContent-Disposition: form-data; "
                'name="products"; filename="big.csv"\r\n\r\n'
            ).encode()
            return {"type": "http.request", "body": head, "more_body": True}
        return {"type": "http.request", "body": chunk, "more_body": pulled < offered}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/catalogue/import",
        "raw_path": b"/catalogue/import",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={_BOUNDARY}".encode())
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(console_world.app, scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled <= MAX_BODY_BYTES // len(chunk) + 2
