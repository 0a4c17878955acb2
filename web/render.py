"""Templates: Jinja2 with autoescaping (marketplace text such as buyer names and
error messages is always shown as text), the user's language and formatters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from core.domain.users import Role
from web import i18n
from web.security import LOGIN_CSRF_COOKIE, current_viewer

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.autoescape = True

#: The navigation: path, label, roles that see it.
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/", "Home", frozenset(Role)),
    ("/catalogue", "Catalogue", frozenset(Role)),
    ("/shops", "Shops", frozenset(Role)),
    ("/sync", "Sync", frozenset(Role)),
    ("/orders", "Orders", frozenset(Role)),
    ("/audit", "Audit", frozenset({Role.ADMIN, Role.AUDITOR})),
    ("/reports", "Reports", frozenset(Role)),
    ("/users", "Users", frozenset({Role.ADMIN})),
)


def language_of(request: Request) -> str:
    """The signed-in user's language, else the ``lang`` cookie, else Indonesian."""
    found = current_viewer(request)
    if found is not None:
        return found.language
    chosen = request.cookies.get("lang", i18n.DEFAULT_LANGUAGE)
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` with the frame's context: the viewer, ``_``, the CSRF
    token, the navigation for the viewer's role and the formatters."""
    language = language_of(request)
    found = current_viewer(request)
    nav = []
    if found is not None:
        nav = [
            (path, label)
            for path, label, roles in NAVIGATION
            if found.user.role in roles
        ]
    csrf = (
        found.csrf_token
        if found is not None
        else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )
    full: dict[str, Any] = {
        "viewer": found,
        "lang": language,
        "_": i18n.translator(language),
        "csrf_token": csrf,
        "nav": nav,
        "path": request.url.path,
        "rupiah": lambda amount: i18n.rupiah(amount, language),
        "number": lambda value: i18n.number(value, language),
        "when": lambda value: i18n.when(value, language),
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)
