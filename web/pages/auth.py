"""Signing in and out, and the language the console speaks."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from core.errors import DomainError
from core.services.users import LOGIN_REFUSED, log_in, log_out, set_language
from web.i18n import LANGUAGES
from web.render import render
from web.security import (
    CSRF,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AddressThrottle,
    cookie_options,
    current_viewer,
    new_login_csrf,
)

router = APIRouter(dependencies=CSRF)
TOO_MANY = "Too many failed sign-ins from here; wait a few minutes."


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return "/"
    return target


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _login_page(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    request.cookies[LOGIN_CSRF_COOKIE] = token  # so the form carries it
    response = render(
        request,
        "login.html",
        {"next": next_path, "username": username, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        **cookie_options(request, request.app.state.console),
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in page (or home, for someone signed in)."""
    if current_viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the password; on success open a session and go where asked."""
    console = request.app.state.console
    address = _address(request)
    throttle: AddressThrottle = request.app.state.throttle
    if not throttle.admit(address):  # counted as failed unless it succeeds
        return _login_page(
            request,
            next_path=safe_next(next),
            username=username,
            error=TOO_MANY,
            status=429,
        )
    try:
        session = await run_in_threadpool(
            log_in, console.units, console.clock, username, password, address=address
        )
    except DomainError:
        return _login_page(
            request,
            next_path=safe_next(next),
            username=username,
            error=LOGIN_REFUSED,
            status=401,
        )
    throttle.forget(address)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.token, **cookie_options(request, console)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session."""
    found = current_viewer(request)
    if found is not None:
        log_out(request.app.state.console.units, found.token, found.user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
def choose_language(
    request: Request,
    language: Annotated[str, Form()],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Speak ``language`` (kept with the user, or in a cookie before signing in)."""
    chosen = language if language in LANGUAGES else LANGUAGES[0]
    found = current_viewer(request)
    console = request.app.state.console
    if found is not None:
        set_language(console.units, console.clock, found.user.username, chosen)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        "lang", chosen, max_age=365 * 86400, **cookie_options(request, console)
    )
    return response
