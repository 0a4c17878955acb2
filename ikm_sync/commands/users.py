"""``ikm-sync users``: the console's users, their role and scope."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from core.domain.users import Role, Scope, User
from core.errors import DomainError
from core.services.users import add_user, reset_password, set_disabled, set_role
from ikm_sync._actor import ActorOption, who_acts
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table

app = typer.Typer(
    help="The console's users: add, role and scope, disable, passwords.",
    no_args_is_help=True,
)

Username = Annotated[str, typer.Argument(help="The user name (e.g. ani.ntt).")]
Provinces = Annotated[
    list[str] | None,
    typer.Option("--province", help="An officer's province (repeatable)."),
]
Institutions = Annotated[
    list[str] | None,
    typer.Option(
        "--institution", help="An officer's institution, e.g. a Lapas (repeatable)."
    ),
]
Producers = Annotated[
    list[str] | None,
    typer.Option("--producer", help="An officer's producer code (repeatable)."),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (first line) instead of asking.",
    ),
]


def _scope(
    provinces: list[str] | None,
    institutions: list[str] | None,
    producers: list[str] | None,
) -> Scope:
    return Scope(
        frozenset(provinces or ()),
        frozenset(institutions or ()),
        frozenset(producers or ()),
    )


def _scope_text(user: User) -> str:
    return user.scope.describe() if user.role is Role.OFFICER else "everything"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise DomainError("password: standard input gave none")
        return line
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    ctx: typer.Context,
    username: Username,
    role: Annotated[Role, typer.Option("--role", help="admin, officer or auditor.")],
    province: Provinces = None,
    institution: Institutions = None,
    producer: Producers = None,
    name: Annotated[str, typer.Option("--name", help="Name shown to people.")] = "",
    language: Annotated[str, typer.Option("--language", help="id or en.")] = "id",
    password_stdin: PasswordStdin = False,
    actor: ActorOption = None,
) -> None:
    """Add a user; an officer needs a scope (province, institution or producer)."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    password = _password(password_stdin)
    runtime = app_state.runtime()
    user = add_user(
        runtime.uow,
        runtime.clock,
        username=username,
        role=role,
        password=password,
        scope=_scope(province, institution, producer),
        display_name=name,
        language=language,
    )
    console().print(
        f"added {user.username} ({user.role.value}; sees: {_scope_text(user)})"
    )


@app.command("set-role")
def set_role_command(
    ctx: typer.Context,
    username: Username,
    role: Annotated[Role, typer.Option("--role", help="admin, officer or auditor.")],
    province: Provinces = None,
    institution: Institutions = None,
    producer: Producers = None,
    actor: ActorOption = None,
) -> None:
    """Give a user a role and (an officer) a scope; ends the user's sessions."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    runtime = app_state.runtime()
    user = set_role(
        runtime.uow,
        runtime.clock,
        username,
        role,
        _scope(province, institution, producer),
    )
    console().print(f"{user.username}: {user.role.value}; sees: {_scope_text(user)}")


@app.command("disable")
def disable(ctx: typer.Context, username: Username, actor: ActorOption = None) -> None:
    """Disable a user and end their sessions."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    runtime = app_state.runtime()
    set_disabled(runtime.uow, runtime.clock, username, True)
    console().print(f"{username}: disabled")


@app.command("enable")
def enable(ctx: typer.Context, username: Username, actor: ActorOption = None) -> None:
    """Enable a disabled user."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    runtime = app_state.runtime()
    set_disabled(runtime.uow, runtime.clock, username, False)
    console().print(f"{username}: enabled")


@app.command("reset-password")
def reset_password_command(
    ctx: typer.Context,
    username: Username,
    password_stdin: PasswordStdin = False,
    actor: ActorOption = None,
) -> None:
    """Set a new password, clear a lock and end the user's sessions."""
    app_state = state(ctx)
    who_acts(app_state, actor)
    password = _password(password_stdin)
    runtime = app_state.runtime()
    reset_password(runtime.uow, runtime.clock, username, password)
    console().print(f"{username}: password reset; sessions ended")


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every user, with role, scope and whether disabled."""
    app_state = state(ctx)
    app_state.json_errors = as_json
    with app_state.runtime().uow() as uow:
        users = uow.users.get_all()
    if as_json:
        emit_json(
            {
                "users": [
                    {
                        "username": u.username,
                        "role": u.role.value,
                        "scope": u.scope.as_json(),
                        "disabled": u.disabled,
                        "language": u.language,
                    }
                    for u in users
                ]
            }
        )
        return
    console().print(
        table(
            "Users",
            ("user", "role", "scope", "disabled"),
            [
                (
                    u.username,
                    u.role.value,
                    _scope_text(u),
                    "yes" if u.disabled else "",
                )
                for u in users
            ],
        )
    )
