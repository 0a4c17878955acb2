"""Who is asking, and what every answer carries: the session cookie, the CSRF check,
security headers (a strict Content-Security-Policy among them), the bound on a
request's body and the throttle on failed sign-ins from one address.

Deny by default: :class:`Guard` resolves the session cookie of every request to a
:class:`Viewer` (or none) and binds the user as the actor of every audit event the
request records; a page that needs a user takes :func:`viewer` as a dependency, and
a request without a live session is sent to the sign-in page. Every request that
can change something (any method but GET and HEAD) is refused unless it carries the
session's CSRF token (:func:`csrf_checked`), and :func:`check_routes` refuses to
build an application with a route that forgot it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.audit.events import acting
from core.domain.users import User, Visible
from core.services.users import signed_in, visible_to
from web.console import Console

log = structlog.get_logger(__name__)

SESSION_COOKIE = "ikm_session"
LOGIN_CSRF_COOKIE = "ikm_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The largest request body read (the catalogue import's two files of 5 MiB and
#: its form); a larger one is refused (413) before any of it is parsed.
MAX_BODY_BYTES = 12 * 1024 * 1024

#: Scripts, styles and images only from the console itself; no inline script or
#: style, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a request: who, what they may see, their forms' token."""

    user: User
    visible: Visible
    csrf_token: str
    token: str

    @property
    def language(self) -> str:
        """The language the console speaks to them."""
        return self.user.language


class BodyTooLargeError(Exception):
    """The request's body is larger than :data:`MAX_BODY_BYTES`."""


class LoginRequiredError(Exception):
    """The page needs a signed-in user (answered with a redirect to sign in)."""


class CsrfError(Exception):
    """A changing request without the right CSRF token (answered 403)."""


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name:
                    return str(cookie_value)
    return None


class Guard:
    """ASGI middleware: resolves the session, binds the actor, adds the headers."""

    def __init__(self, app: ASGIApp, console: Console) -> None:
        self._app = app
        self._console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        started = time.perf_counter()
        answered: dict[str, int] = {}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = int(message["status"])
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                message["headers"] = headers
            await send(message)

        too_large = _declared_length(scope) > MAX_BODY_BYTES
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLargeError
            return message

        token = _cookie(scope, SESSION_COOKIE)
        found = None
        if token and not too_large and not scope["path"].startswith("/static/"):
            found = await run_in_threadpool(self._resolve, token)
        scope.setdefault("state", {})["viewer"] = found
        try:
            if too_large:
                await _too_large(with_headers)
            elif found is None:
                await self._app(scope, bounded, with_headers)
            else:
                with acting(found.user.actor):
                    await self._app(scope, bounded, with_headers)
        except BodyTooLargeError:
            if "status" in answered:
                raise
            await _too_large(with_headers)
        finally:
            # The path only: a query string may carry an authorisation code.
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=answered.get("status", 500),
                ms=round((time.perf_counter() - started) * 1000, 1),
                user=found.user.username if found is not None else None,
            )

    def _resolve(self, token: str) -> Viewer | None:
        console = self._console
        session = signed_in(console.units, console.clock, token)
        if session is None:
            return None
        with console.units() as uow:
            visible = visible_to(uow, session.user)
        return Viewer(session.user, visible, session.csrf_token, token)


def _declared_length(scope: Scope) -> int:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else 0
    return 0


async def _too_large(send: Send) -> None:
    most = MAX_BODY_BYTES // (1024 * 1024)
    body = f"The request is too large: at most {most} MB is read.\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in user of the request, if any."""
    found: Viewer | None = getattr(request.state, "viewer", None)
    return found


def viewer(request: Request) -> Viewer:
    """Dependency: the signed-in user.

    Raises:
        LoginRequiredError: nobody is signed in.
    """
    found = current_viewer(request)
    if found is None:
        raise LoginRequiredError
    return found


def admin(request: Request) -> Viewer:
    """Dependency: the signed-in user, who must be an admin (checked before the
    form is read, so a refusal says nothing about the form).

    Raises:
        LoginRequiredError: nobody is signed in.
        AccessDeniedError: the user is not an admin.
    """
    found = viewer(request)
    found.visible.require_admin()
    return found


def changer(request: Request) -> Viewer:
    """Dependency: the signed-in user, who may change things (not an auditor).

    Raises:
        LoginRequiredError: nobody is signed in.
        AccessDeniedError: the user only reads.
    """
    found = viewer(request)
    found.visible.require_change()
    return found


def auditing(request: Request) -> Viewer:
    """Dependency: the signed-in user, who may read the audit (not an officer).

    Raises:
        LoginRequiredError: nobody is signed in.
        AccessDeniedError: the user is an officer.
    """
    found = viewer(request)
    found.visible.require_audit()
    return found


async def csrf_checked(request: Request) -> None:
    """Dependency of every changing route: the request carries the CSRF token of
    its session (form field ``csrf_token`` or header ``X-CSRF-Token``), or, with no
    session, of the sign-in form's cookie.

    Raises:
        CsrfError: it does not.
    """
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
    found = current_viewer(request)
    expected = (
        found.csrf_token
        if found is not None
        else request.cookies.get(LOGIN_CSRF_COOKIE)
    )
    if not given or not expected or not hmac.compare_digest(given, expected):
        raise CsrfError


#: Add to every router: ``APIRouter(dependencies=CSRF)``.
CSRF = [Depends(csrf_checked)]


def changing_routes(router: APIRouter) -> list[APIRoute]:
    """The routes of ``router`` that can change something (not GET or HEAD)."""
    return [
        route
        for route in router.routes
        if isinstance(route, APIRoute) and (route.methods or set()) - SAFE_METHODS
    ]


def check_routes(routers: Iterable[APIRouter]) -> None:
    """Refuse an application with a changing route that does not check CSRF (on
    the route or on its router).

    Raises:
        RuntimeError: naming the route.
    """
    for router in routers:
        guarded = any(d.dependency is csrf_checked for d in router.dependencies)
        for route in changing_routes(router):
            own = {d.call for d in route.dependant.dependencies}
            if not guarded and csrf_checked not in own:
                raise RuntimeError(
                    f"{sorted(route.methods or ())} {route.path}: a changing route "
                    "must depend on web.security.csrf_checked"
                )


def new_login_csrf() -> str:
    """A fresh token for the sign-in form (double-submitted with its cookie)."""
    return secrets.token_urlsafe(32)


class AddressThrottle:
    """At most ``most`` failed sign-ins per address within ``window`` seconds."""

    def __init__(self, most: int = 20, window: float = 900.0) -> None:
        self._most = most
        self._window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        found = self._failures.setdefault(address, deque())
        while found and found[0] <= now - self._window:
            found.popleft()
        return found

    def blocked(self, address: str) -> bool:
        """Whether this address has failed too often lately."""
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self._most

    def admit(self, address: str) -> bool:
        """Whether a sign-in from this address may be tried now; if so, it counts
        as failed until :meth:`forget` clears it (so attempts sent at once cannot
        all pass before the first of them has failed)."""
        with self._lock:
            now = time.monotonic()
            recent = self._recent(address, now)
            if len(recent) >= self._most:
                return False
            recent.append(now)
            return True

    def failed(self, address: str) -> None:
        """Count a failed sign-in from this address."""
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())

    def forget(self, address: str) -> None:
        """A success clears the address."""
        with self._lock:
            self._failures.pop(address, None)


def cookie_options(request: Request, console: Console) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, path /, and Secure behind TLS."""
    return {
        "httponly": True,
        "samesite": "lax",
        "path": "/",
        "secure": console.secure_cookies or request.url.scheme == "https",
    }
