"""Users: the admins' page and ``ikm-sync users``; both record who changed what."""

from __future__ import annotations

import pytest

from core.audit.query import EventFilter
from core.domain.users import Role, User
from tests.conftest import Cli
from tests.web.conftest import NTT, ConsoleWorld
from tests.web.kit import PASSWORD, csrf_of, sign_in

pytestmark = pytest.mark.db


def _user(world: ConsoleWorld, name: str) -> User | None:
    with world.console.units() as uow:
        return uow.users.get(name)


def _existing(world: ConsoleWorld, name: str) -> User:
    found = _user(world, name)
    assert found is not None
    return found


def test_an_admin_adds_an_officer_who_can_then_sign_in(
    console_world: ConsoleWorld,
) -> None:
    admin = console_world.client
    token = sign_in(admin, "admin")
    answer = admin.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "rina.kupang",
            "role": "officer",
            "password": "kupang-sandi-2026",
            "institutions": "Lapas Kelas IIA Kupang",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    added = _existing(console_world, "rina.kupang")
    assert added.role is Role.OFFICER
    assert added.scope.institutions == frozenset({"Lapas Kelas IIA Kupang"})
    rina = console_world.browser()
    sign_in(rina, "rina.kupang", "kupang-sandi-2026")
    assert "shopee-ntt-flores" not in rina.get("/").text  # shares the shop with IKM
    events = list(
        console_world.console.runtime.audit_reader().events(
            EventFilter(kind="user.added")
        )
    )
    assert [
        (e.actor, e.subject) for e in events if e.subject == "user:rina.kupang"
    ] == [("console:admin", "user:rina.kupang")]


def test_a_bad_field_is_named_and_nothing_is_added(console_world: ConsoleWorld) -> None:
    admin = console_world.client
    token = sign_in(admin, "admin")
    for data, named in (
        (
            {"username": "Bad Name", "role": "auditor", "password": "long-enough-1"},
            "user name",
        ),
        ({"username": "short.pw", "role": "auditor", "password": "short"}, "password"),
        (
            {"username": "no.scope", "role": "officer", "password": "long-enough-1"},
            "scope",
        ),
        ({"username": "bad.role", "role": "root", "password": "long-enough-1"}, "role"),
    ):
        answer = admin.post("/users", data={"csrf_token": token, **data})
        assert answer.status_code == 422
        assert named in answer.text
        assert _user(console_world, data["username"]) is None


def test_changing_a_role_ends_the_users_sessions(console_world: ConsoleWorld) -> None:
    officer = console_world.client
    sign_in(officer, "officer.ntt")
    admin = console_world.browser()
    token = sign_in(admin, "admin")
    admin.post(
        "/users/officer.ntt/role",
        data={
            "csrf_token": token,
            "role": "officer",
            "provinces": f"{NTT}\nJawa Barat",
        },
    )
    assert _existing(console_world, "officer.ntt").scope.provinces == {
        NTT,
        "Jawa Barat",
    }
    assert officer.get("/", follow_redirects=False).status_code == 303


def test_only_admins_reach_the_users_page(console_world: ConsoleWorld) -> None:
    for name in ("officer.ntt", "auditor"):
        client = console_world.browser()
        token = sign_in(client, name)
        assert client.get("/users").status_code == 403
        answer = client.post(
            "/users/admin/password",
            data={"csrf_token": token, "password": "taken-over-123"},
        )
        assert answer.status_code == 403
    admin = console_world.browser()
    page = admin.get("/login")
    signed = admin.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303  # the admin's password is unchanged


def test_the_command_line_manages_users(console_world: ConsoleWorld) -> None:
    cli: Cli = console_world.cli
    added = cli(
        "users", "add", "budi.jabar", "--role", "officer", "--province", "Jawa Barat",
        "--password-stdin", "--actor", "officer:pusat",
        input="jabar-sandi-2026\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "jabar-sandi-2026" not in added.output
    assert _existing(console_world, "budi.jabar").scope.provinces == {"Jawa Barat"}
    refused = cli(
        "users", "add", "tanpa.cakupan", "--role", "officer", "--password-stdin",
        input="long-enough-pw\n",
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "scope" in refused.output
    assert _user(console_world, "tanpa.cakupan") is None
    assert (
        cli("users", "disable", "budi.jabar", "--actor", "officer:pusat").exit_code == 0
    )
    assert _existing(console_world, "budi.jabar").disabled
    listed = cli("users", "list", "--json")
    assert '"budi.jabar"' in listed.output
    assert "argon2" not in listed.output
    events = console_world.console.runtime.audit_reader().events(
        EventFilter(kind="user")
    )
    assert {(e.action, e.actor) for e in events if e.subject == "user:budi.jabar"} == {
        ("user.added", "officer:pusat"),
        ("user.disabled", "officer:pusat"),
    }
