"""No secret, token or Basic credential in any log line or exception message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from core.domain.ids import Sku
from core.domain.remote import ChangeKind, ListingChange, StockUpdate
from core.errors import AuthError, ContractError
from tests.connectors.tokopedia.conftest import (
    BASIC,
    CLIENT_ID,
    CLIENT_SECRET,
    FRESH_TOKEN,
    FS_ID,
    STORED_TOKEN,
    Build,
    draft,
    fail,
    ok,
    token_answer,
)

SECRETS = (
    CLIENT_ID,
    CLIENT_SECRET,
    BASIC.removeprefix("Basic "),
    FRESH_TOKEN,
    STORED_TOKEN,
    "c:leaky-token",
)
INFO = f"/inventory/v1/fs/{FS_ID}/product/info"
CREATE = f"/v3/products/fs/{FS_ID}/create"
STOCK = f"/inventory/v1/fs/{FS_ID}/stock/update"


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def exception_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error)]
    cause = error.__cause__
    while cause is not None:
        texts += [str(cause), repr(cause)]
        cause = cause.__cause__
    return texts


def test_a_full_run_logs_and_raises_nothing_secret(build: Build) -> None:
    wire = build(stored_token=False, attempts=2)
    wire.token_route(token_answer(STORED_TOKEN), token_answer(FRESH_TOKEN))
    info = wire.router.get(INFO)
    info.side_effect = [
        fail(401, "OPENAPI_MDLW_401", "access token expired", "unauthorized"),
        ok([]),  # after the new token
        ok([]),  # the lookup before the create
    ]
    wire.router.post(CREATE).mock(side_effect=httpx.ReadTimeout("lost"))
    stock = wire.router.post(STOCK)
    stock.side_effect = [
        fail(500, "PRD_API_006", "upstream"),
        ok({"failed_rows": 0, "succeed_rows": 1, "failed_rows_data": []}),
        fail(403, "RBAC_MDLW_001", "shop is not connected to this fs_id"),
    ]
    texts: list[str] = []

    with capture_logs() as logs:
        wire.connector.check()
        results = wire.connector.apply_listing_changes(
            [ListingChange(ChangeKind.CREATE, draft("KOPI-001"))]
        )
        texts += [m for r in results if r.error for m in exception_texts(r.error)]
        wire.connector.push_stock([StockUpdate(Sku("KOPI-001"), "1", 3)])
        with pytest.raises(AuthError) as caught:
            wire.connector.push_stock([StockUpdate(Sku("KOPI-001"), "1", 4)])
        texts += exception_texts(caught.value)

    events = {entry["event"] for entry in logs}
    assert {"tokens.fetched", "tokens.refused", "http.retrying"} <= events
    assert "tokens.reauthorisation_needed" in events
    assert_clean([repr(entry) for entry in logs] + texts)


def test_an_unreadable_token_answer_does_not_quote_the_token(build: Build) -> None:
    wire = build(stored_token=False)
    leaky: dict[str, Any] = {"access_token": "c:leaky-token", "expires_in": "soon"}
    wire.token_route(httpx.Response(200, json=leaky))

    with capture_logs() as logs, pytest.raises(ContractError) as caught:
        wire.connector.check()

    assert caught.value.__cause__ is None
    assert "expires_in" in str(caught.value)
    assert_clean([repr(entry) for entry in logs] + exception_texts(caught.value))
