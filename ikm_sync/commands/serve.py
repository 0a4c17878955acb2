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
    webhooks_only: Annotated[
        bool,
        typer.Option(
            "--webhooks-only",
            help="Serve only the webhook receivers (POST /webhooks/<marketplace>), "
            "for exposure to the internet while the console stays internal.",
        ),
    ] = False,
    process_webhooks: Annotated[
        bool,
        typer.Option(
            "--process-webhooks/--no-process-webhooks",
            help="Process stored webhook deliveries in this process (order pulls "
            "through the account-job runner).",
        ),
    ] = True,
    ops_port: Annotated[
        int | None,
        typer.Option(
            "--ops-port",
            help="Also serve /healthz, /readyz and /metrics (the webhook deliveries "
            "and their lag among them) on this port of [scheduler] ops_host "
            "(default: none; 0: any free one).",
        ),
    ] = None,
) -> None:
    """Serve the console, with the webhook receivers at /webhooks, until stopped
    (Ctrl-C or SIGTERM); or only the receivers (--webhooks-only)."""
    import uvicorn

    from web.app import create_app
    from web.console import Console
    from web.webhooks import webhook_worker, webhooks_only_app

    app_state = state(ctx)
    loaded = app_state.settings()
    runtime = app_state.runtime()
    app_state.seal_on_close = False  # the console's own sealer seals as it goes
    console = Console(loaded, runtime, secure_cookies=secure_cookies)
    worker = webhook_worker(console) if process_webhooks else None
    if webhooks_only:
        app = webhooks_only_app(console, worker=worker)
    else:
        app = create_app(console, webhooks=worker)
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
    ops = None
    if ops_port is not None:
        from scheduler.ops.server import serve_ops

        ops = serve_ops(
            loaded.settings.scheduler.ops_host,
            ops_port,
            {"database": runtime.schema_problem},
        )
    try:
        server.run()
    finally:
        if ops is not None:
            ops.stop()
        console.close()
