"""The webhook receivers ``POST /webhooks/<marketplace>``: a small ASGI application
of its own, mounted in the console and servable alone (``ikm-sync serve
--webhooks-only``) so it can face the internet while the console stays internal.

Not a browser form, so no session and no CSRF: a delivery is authenticated by its
signature alone (:mod:`core.domain.webhooks`), checked in constant time. Order of
work: size limit (413) → signature (401, nothing stored) → body (400) → stored,
unique per marketplace and delivery key (a duplicate answers ``duplicate``) → 200.
Nothing is processed in the request (see :mod:`scheduler.webhooks`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.domain.webhooks import (
    MAX_BODY,
    SUPPORTED,
    Keys,
    WebhookBodyError,
    distinct_keys,
    parse,
    signature_valid,
)
from core.store.webhooks import SqlWebhookStore
from scheduler.ops.metrics import record_webhook
from scheduler.webhooks import WebhookProcessor, WebhookWorker

if TYPE_CHECKING:
    from web.console import Console

log = structlog.get_logger(__name__)

#: The credential that signs each marketplace's deliveries (first one present),
#: and the app key that TikTok Shop puts before the body.
SECRET_NAMES = {
    "shopee": ("partner_key",),
    "tokopedia": ("webhook_secret", "client_secret"),
    "tiktok_shop": ("app_secret",),
}


@dataclass(frozen=True, slots=True)
class Receiving:
    """What the receivers know of the settings: per marketplace the signing keys,
    the shops of its accounts, and the callback URL it signs (Shopee)."""

    keys: dict[str, Keys]
    shops: dict[tuple[str, str], str]
    urls: dict[str, str]

    @classmethod
    def from_console(cls, console: Console) -> Receiving:
        """Built from the console's settings (secrets stay inside)."""
        settings = console.loaded.settings
        pairs: dict[str, set[tuple[str, str]]] = {m: set() for m in SUPPORTED}
        shops: dict[tuple[str, str], str] = {}
        for account in settings.accounts:
            market = account.marketplace
            if market not in pairs:
                continue
            shops[(market, str(account.shop_id))] = account.id
            entries = settings.credentials.get(account.credentials or "", {})
            for name in SECRET_NAMES[market]:
                if name in entries:
                    app_key = entries.get("app_key")
                    pairs[market].add(
                        (
                            entries[name].get_secret_value(),
                            "" if app_key is None else app_key.get_secret_value(),
                        )
                    )
                    break
        urls = {
            key: str(market.options.get("webhook_url", ""))
            for key, market in settings.marketplaces.items()
        }
        return cls({m: distinct_keys(p) for m, p in pairs.items()}, shops, urls)


def _answer(status: int, result: str) -> JSONResponse:
    return JSONResponse({"result": result}, status_code=status)


async def _bounded_body(request: Request) -> bytes | None:
    """The raw body, or ``None`` past :data:`MAX_BODY` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_worker(console: Console, every: float = 1.0) -> WebhookWorker:
    """The background worker processing ``console``'s stored deliveries (started by
    the application's lifespan), woken by each stored delivery and every ``every``
    seconds."""
    return WebhookWorker(webhook_processor(console).process_once, every)


def webhook_processor(console: Console) -> WebhookProcessor:
    """What processes ``console``'s stored deliveries through its account-job
    runner, for its configured accounts."""
    from ikm_sync.bootstrap import accounts_from_settings, pull_options

    loaded = console.loaded
    accounts = {a.id: a for a in accounts_from_settings(loaded.settings.accounts)}
    return WebhookProcessor(
        store=SqlWebhookStore(console.runtime.session_factory),
        runner=console.runner(),
        accounts=accounts,
        tokens=console.runtime.token_store(),
        clock=console.clock,
        pull=pull_options(loaded),
    )


def create_webhooks_app(
    console: Console, *, worker: WebhookWorker | None = None
) -> FastAPI:
    """The receivers for ``console``'s settings and store (mount at ``/webhooks``,
    or serve alone); ``worker`` is woken after each stored delivery and run by
    this application's lifespan when served alone."""
    receiving = Receiving.from_console(console)
    store = SqlWebhookStore(console.runtime.session_factory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="ikm-sync webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.receiving = receiving
    app.state.store = store
    app.state.worker = worker

    @app.post("/{marketplace}")
    async def receive(marketplace: str, request: Request) -> JSONResponse:
        if marketplace not in SUPPORTED:
            return _answer(404, "unknown marketplace")
        record_webhook(marketplace, "received")
        body = await _bounded_body(request)
        if body is None:
            record_webhook(marketplace, "refused")
            log.warning("webhook.refused", marketplace=marketplace, why="too large")
            return _answer(413, "too large")
        url = receiving.urls.get(marketplace) or str(request.url)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not signature_valid(
            marketplace, receiving.keys[marketplace], headers, body, url
        ):
            record_webhook(marketplace, "refused")
            log.warning("webhook.refused", marketplace=marketplace, why="signature")
            return _answer(401, "bad signature")
        record_webhook(marketplace, "verified")
        try:
            parsed = parse(marketplace, body)
        except WebhookBodyError as exc:
            record_webhook(marketplace, "refused")
            log.warning("webhook.refused", marketplace=marketplace, why=str(exc))
            return _answer(400, str(exc))
        account = (
            None
            if parsed.shop_id is None
            else receiving.shops.get((marketplace, parsed.shop_id))
        )
        fresh = await run_in_threadpool(
            store.record,
            marketplace=marketplace,
            delivery_key=parsed.delivery_key,
            account_key=account,
            shop_id=parsed.shop_id,
            kind=parsed.kind,
            body=body,
            received_at=console.clock.now(),
        )
        if not fresh:
            record_webhook(marketplace, "duplicate")
            return _answer(200, "duplicate")
        if worker is not None:
            worker.wake()
        log.info(
            "webhook.stored",
            marketplace=marketplace,
            kind=parsed.kind,
            account=account,
            shop_id=parsed.shop_id,
        )
        return _answer(200, "stored")

    return app


def webhooks_only_app(
    console: Console, *, worker: WebhookWorker | None = None
) -> FastAPI:
    """The receivers alone, at ``/webhooks`` as in the console (``ikm-sync serve
    --webhooks-only``); ``worker`` runs while the application runs."""
    receivers = create_webhooks_app(console, worker=worker)
    app = FastAPI(
        title="ikm-sync webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=receivers.router.lifespan_context,
    )
    app.mount("/webhooks", receivers)
    return app
