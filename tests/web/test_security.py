"""Signing in, sessions, CSRF, headers, throttling and scope on the console."""

from __future__ import annotations

import pytest
import structlog
from fastapi import APIRouter

from core.audit.query import EventFilter
from core.services.users import LOCK_AFTER, set_disabled
from tests.web.conftest import ConsoleWorld
from tests.web.kit import PASSWORD, csrf_of, sign_in
from web.app import ROUTERS
from web.security import CONTENT_SECURITY_POLICY, SESSION_COOKIE, check_routes

pytestmark = pytest.mark.db


def _events(world: ConsoleWorld, action: str) -> list[tuple[str, str]]:
    reader = world.console.runtime.audit_reader()
    return [(e.actor, e.subject) for e in reader.events(EventFilter(kind=action))]


def test_a_page_without_a_session_sends_to_sign_in(console_world: ConsoleWorld) -> None:
    answer = console_world.client.get("/?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/%3Fx%3D1"


def test_signing_in_opens_a_session_with_safe_cookie_flags(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    page = client.get("/login")
    assert page.status_code == 200
    answer = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    home = client.get("/")
    assert home.status_code == 200
    assert "admin" in home.text
    assert _events(console_world, "user.login") == [("console:admin", "user:admin")]


def test_a_wrong_password_is_refused_alike_and_recorded(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = csrf_of(client.get("/login").text)
    wrong = client.post(
        "/login",
        data={"username": "admin", "password": "not-it-at-all", "csrf_token": token},
    )
    unknown = client.post(
        "/login",
        data={"username": "nobody", "password": "not-it-at-all", "csrf_token": token},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/", follow_redirects=False).status_code == 303
    failed = _events(console_world, "user.login_failed")
    assert sorted(failed) == [
        ("console:admin", "user:admin"),
        ("console:nobody", "user:nobody"),
    ]


def test_five_failures_lock_the_user_even_against_the_right_password(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = csrf_of(client.get("/login").text)
    for _ in range(LOCK_AFTER):
        client.post(
            "/login",
            data={
                "username": "admin",
                "password": "wrong-password",
                "csrf_token": token,
            },
        )
    right = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 401
    assert SESSION_COOKIE not in client.cookies


def test_sign_in_without_the_form_token_is_refused(console_world: ConsoleWorld) -> None:
    client = console_world.client
    client.get("/login")
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_changing_request_without_the_session_token_is_refused(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    refused = client.post("/language", data={"language": "en", "next": "/"})
    assert refused.status_code == 403
    forged = client.post("/language", data={"language": "en", "csrf_token": "forged"})
    assert forged.status_code == 403
    with console_world.console.units() as uow:
        user = uow.users.get("officer.ntt")
    assert user is not None
    assert user.language == "id"


def test_every_answer_carries_the_security_headers(console_world: ConsoleWorld) -> None:
    for path in ("/login", "/static/app.css", "/nowhere"):
        answer = console_world.client.get(path)
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_signing_out_ends_the_session_on_the_server(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = sign_in(client, "auditor")
    stolen = client.cookies[SESSION_COOKIE]
    client.post("/logout", data={"csrf_token": token})
    other = console_world.browser()
    other.cookies.set(SESSION_COOKIE, stolen)
    assert other.get("/", follow_redirects=False).status_code == 303


def test_disabling_a_user_ends_their_sessions_at_once(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    assert client.get("/", follow_redirects=False).status_code == 200
    console = console_world.console
    set_disabled(console.units, console.clock, "officer.ntt", True)
    assert client.get("/", follow_redirects=False).status_code == 303
    again = console_world.browser()
    token = csrf_of(again.get("/login").text)
    refused = again.post(
        "/login",
        data={"username": "officer.ntt", "password": PASSWORD, "csrf_token": token},
    )
    assert refused.status_code == 401


def test_after_sign_in_only_a_local_page_is_followed(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_an_officer_sees_only_the_shops_of_their_scope(
    console_world: ConsoleWorld,
) -> None:
    ntt = console_world.client
    sign_in(ntt, "officer.ntt")
    page = ntt.get("/").text
    assert "shopee-ntt-flores" in page
    assert "tokopedia-karya-lapas" not in page
    assert "bukalapak-esmart-ikm" not in page  # shared with producers outside NTT
    lapas = console_world.browser()
    sign_in(lapas, "officer.lapas")
    page = lapas.get("/").text
    assert "tokopedia-karya-lapas" in page
    assert "shopee-ntt-flores" not in page
    admin = console_world.browser()
    sign_in(admin, "admin")
    page = admin.get("/").text
    assert all(
        shop in page
        for shop in (
            "shopee-ntt-flores",
            "tokopedia-karya-lapas",
            "bukalapak-esmart-ikm",
        )
    )


def test_a_changing_route_without_the_csrf_check_is_refused_at_build() -> None:
    careless = APIRouter()

    @careless.post("/careless")
    def _careless() -> None: ...

    with pytest.raises(RuntimeError, match="/careless"):
        check_routes([careless])
    check_routes(ROUTERS)  # the console's own routers pass


def test_the_language_is_kept_with_the_user(console_world: ConsoleWorld) -> None:
    client = console_world.client
    token = sign_in(client, "officer.ntt")
    assert "Beranda" in client.get("/").text
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": token})
    assert ">Home<" in client.get("/").text


def test_many_failures_from_one_address_are_throttled(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    token = csrf_of(client.get("/login").text)
    answers = [
        client.post(
            "/login",
            data={
                "username": f"guess{n}",
                "password": "wrong-guess",
                "csrf_token": token,
            },
        ).status_code
        for n in range(20)
    ]
    assert answers == [401] * 20
    right = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 429
    assert SESSION_COOKIE not in client.cookies


def test_each_request_is_logged_by_path_without_its_query(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    with structlog.testing.capture_logs() as logs:
        client.get("/?code=SECRET-AUTH-CODE&state=xyz")
    requests = [e for e in logs if e["event"] == "http.request"]
    assert requests == [
        {
            "event": "http.request",
            "log_level": "info",
            "method": "GET",
            "path": "/",
            "status": 200,
            "ms": requests[0]["ms"],
            "user": "officer.ntt",
        }
    ]
    assert "SECRET-AUTH-CODE" not in repr(logs)
