"""``ikm-sync serve``: the officers' and auditors' console (ASGI, served by uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from ikm_sync._context import state


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on (0: any free one).")
    ] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="Mark cookies Secure (behind a TLS proxy that sends no "
            "X-Forwarded-Proto).",
        ),
    ] = False,
) -> None:
    """Serve the console until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from web.app import create_app
    from web.console import Console

    app_state = state(ctx)
    loaded = app_state.settings()
    runtime = app_state.runtime()
    app_state.seal_on_close = False  # the console's own sealer seals as it goes
    console = Console(loaded, runtime, secure_cookies=secure_cookies)
    app = create_app(console)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        # The console logs each request itself (web.security.Guard), without the
        # query string, which may carry an authorisation code.
        access_log=False,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        console.close()
