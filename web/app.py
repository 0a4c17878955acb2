"""The console's ASGI application: routers of :mod:`web.pages`, the guard of
:mod:`web.security`, static files, and the answers to refused requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from core.domain.users import AccessDeniedError, NotVisibleError
from scheduler.webhooks import WebhookWorker
from web.console import Console
from web.pages import audit, auth, catalogue, home, orders, reports, shops, sync, users
from web.render import render
from web.sealing import Sealer
from web.security import (
    AddressThrottle,
    CsrfError,
    Guard,
    LoginRequiredError,
    check_routes,
)
from web.webhooks import create_webhooks_app

ROUTERS = (
    audit.router,
    auth.router,
    catalogue.router,
    home.router,
    orders.router,
    reports.router,
    shops.router,
    sync.router,
    users.router,
)


def create_app(
    console: Console,
    *,
    seal_every: float | None = 30.0,
    webhooks: WebhookWorker | None = None,
) -> FastAPI:
    """The console for ``console``'s store, with the webhook receivers mounted at
    ``/webhooks`` (:mod:`web.webhooks`); ``seal_every`` seconds a background
    sealer chains the audit events the console wrote (``None``: never, for tests
    that seal themselves); ``webhooks``, when given, processes the stored
    deliveries in the background while the application runs."""
    sealer = Sealer(console, seal_every)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sealer.start()
        if webhooks is not None:
            webhooks.start()
        try:
            yield
        finally:
            if webhooks is not None:
                webhooks.stop()
            sealer.stop()

    app = FastAPI(
        title="ikm-sync console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.console = console
    app.state.throttle = AddressThrottle()
    check_routes(ROUTERS)
    for router in ROUTERS:
        app.include_router(router)
    # Not browser forms: signed by the marketplace, no session or CSRF token.
    app.mount("/webhooks", create_webhooks_app(console, worker=webhooks))
    app.mount(
        "/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="static",
    )
    app.add_middleware(Guard, console=console)
    _answers(app)
    return app


def _answers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    def _login(request: Request, _exc: LoginRequiredError) -> Response:
        target = request.url.path + (
            f"?{request.url.query}" if request.url.query else ""
        )
        if request.method != "GET":
            target = "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(NotVisibleError)
    def _not_visible(request: Request, _exc: NotVisibleError) -> Response:
        return render(
            request,
            "error.html",
            {
                "heading": "Not found",
                "message": "What you asked for does not exist, or is not yours to see.",
            },
            status_code=404,
        )

    @app.exception_handler(AccessDeniedError)
    def _denied(request: Request, _exc: AccessDeniedError) -> Response:
        return render(
            request,
            "error.html",
            {"heading": "Not allowed", "message": "You may not do this."},
            status_code=403,
        )

    @app.exception_handler(CsrfError)
    def _csrf(request: Request, _exc: CsrfError) -> Response:
        return render(
            request,
            "error.html",
            {
                "heading": "Not allowed",
                "message": "The form has expired; reload the page and try again.",
            },
            status_code=403,
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted(
            {".".join(str(p) for p in e["loc"][1:]) or "request" for e in exc.errors()}
        )
        return render(
            request,
            "error.html",
            {
                "heading": "Not allowed",
                "message": "Invalid input in: " + ", ".join(fields),
            },
            status_code=422,
        )
