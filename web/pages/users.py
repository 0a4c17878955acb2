"""Users (admins only): add, role and scope, disable or enable, reset a password.
The same services as ``ikm-sync users``; each change is an audit event with the
admin as actor and ends the changed user's sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import col

from core.domain.users import Role, Scope, User
from core.errors import DomainError
from core.services.users import add_user, reset_password, set_disabled, set_role
from core.store.tables import ProducerRow
from web.render import render
from web.security import CSRF, Viewer, admin

router = APIRouter(dependencies=CSRF)

Text = Annotated[str, Form(max_length=4000)]


def _names(text: str) -> frozenset[str]:
    """One name per line (or separated by semicolons), blanks ignored."""
    return frozenset(
        part.strip()
        for line in text.splitlines()
        for part in line.split(";")
        if part.strip()
    )


def _scope(provinces: str, institutions: str, producers: str) -> Scope:
    return Scope(_names(provinces), _names(institutions), _names(producers))


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise DomainError(
            f"role {value!r}: expected admin, officer or auditor"
        ) from None


def _known(request: Request) -> dict[str, list[str]]:
    """Provinces, institutions and producer codes of the catalogue, to pick from."""
    with request.app.state.console.runtime.session_factory() as session:
        rows = session.execute(
            select(
                col(ProducerRow.province),
                col(ProducerRow.institution),
                col(ProducerRow.code),
            )
        ).all()
    return {
        "provinces": sorted({p for p, _, _ in rows}),
        "institutions": sorted({i for _, i, _ in rows if i}),
        "producers": sorted({c for _, _, c in rows}),
    }


def _page(
    request: Request,
    *,
    error: str = "",
    notice: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with request.app.state.console.units() as uow:
        users: list[User] = uow.users.get_all()
    return render(
        request,
        "users/list.html",
        {
            "users": users,
            "roles": [r.value for r in Role],
            "known": _known(request),
            "error": error,
            "notice": notice,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, _admin: Annotated[Viewer, Depends(admin)]) -> Response:
    """Every user with role, scope and state."""
    return _page(request, notice=request.query_params.get("done", "")[:200])


@router.post("/users")
def add(
    request: Request,
    _admin: Annotated[Viewer, Depends(admin)],
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=128)] = "",
    provinces: Text = "",
    institutions: Text = "",
    producers: Text = "",
) -> Response:
    """Add a user."""
    console = request.app.state.console
    try:
        add_user(
            console.units,
            console.clock,
            username=username.strip(),
            role=_role(role),
            password=password,
            scope=_scope(provinces, institutions, producers),
            display_name=display_name.strip(),
        )
    except DomainError as exc:
        form = {
            "username": username,
            "role": role,
            "display_name": display_name,
            "provinces": provinces,
            "institutions": institutions,
            "producers": producers,
        }
        return _page(request, error=str(exc), form=form, status_code=422)
    return RedirectResponse(f"/users?done=added+{username.strip()}", status_code=303)


@router.post("/users/{username}/role")
def change_role(
    request: Request,
    username: str,
    _admin: Annotated[Viewer, Depends(admin)],
    role: Annotated[str, Form(max_length=16)],
    provinces: Text = "",
    institutions: Text = "",
    producers: Text = "",
) -> Response:
    """Give a user a role and scope (ends their sessions)."""
    console = request.app.state.console
    try:
        set_role(
            console.units,
            console.clock,
            username,
            _role(role),
            _scope(provinces, institutions, producers),
        )
    except DomainError as exc:
        return _page(request, error=f"{username}: {exc}", status_code=422)
    return RedirectResponse(f"/users?done=role+set+for+{username}", status_code=303)


@router.post("/users/{username}/disabled")
def change_disabled(
    request: Request,
    username: str,
    who: Annotated[Viewer, Depends(admin)],
    disabled: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """Disable (ending their sessions) or enable a user; an admin cannot disable
    themselves."""
    if username == who.user.username and disabled == "yes":
        return _page(request, error="you cannot disable yourself", status_code=422)
    console = request.app.state.console
    try:
        set_disabled(console.units, console.clock, username, disabled == "yes")
    except DomainError as exc:
        return _page(request, error=str(exc), status_code=422)
    return RedirectResponse(f"/users?done={username}+updated", status_code=303)


@router.post("/users/{username}/password")
def change_password(
    request: Request,
    username: str,
    _admin: Annotated[Viewer, Depends(admin)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Set a new password (ends the user's sessions, clears a lock)."""
    console = request.app.state.console
    try:
        reset_password(console.units, console.clock, username, password)
    except DomainError as exc:
        return _page(request, error=f"{username}: {exc}", status_code=422)
    return RedirectResponse(
        f"/users?done=password+reset+for+{username}", status_code=303
    )
