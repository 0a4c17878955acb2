"""No secret, token, signature or signed URL in any log line or error message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from core.domain.ids import Sku
from core.domain.remote import ChangeKind, ListingChange, StockUpdate
from core.errors import ConnectorError
from tests.connectors.shopee._support import (
    BASE,
    IMAGE_HOST,
    JPEG,
    SECRETS,
    draft,
    fail,
    ok,
    params,
    rig,
    shop_info,
    stock_reads,
    token_answer,
)


def flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={flatten(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(flatten(v) for v in value)
    return repr(value) + " " + str(value)


def test_nothing_secret_is_logged_or_raised() -> None:
    setup = rig(attempts=2)
    errors: list[BaseException] = []
    with (
        capture_logs() as logs,
        respx.mock(
            base_url=BASE, assert_all_called=True, assert_all_mocked=True
        ) as router,
    ):
        refresh = router.post("/api/v2/auth/access_token/get").mock(
            return_value=token_answer()
        )
        shop = router.get("/api/v2/shop/get_shop_info").mock(
            side_effect=[fail("error_auth", "Invalid access_token.", 403), shop_info()]
        )
        scan = router.get("/api/v2/product/get_item_list").mock(
            return_value=ok({"item": [], "total_count": 0})
        )
        router.get(host=IMAGE_HOST).mock(return_value=httpx.Response(200, content=JPEG))
        upload = router.post("/api/v2/media_space/upload_image").mock(
            return_value=ok({"image_info": {"image_id": "img-1"}})
        )
        add = router.post("/api/v2/product/add_item").mock(
            return_value=fail("product.error_param", "Image not exist.")
        )
        reads = stock_reads(router, reserved=2)
        stock = router.post("/api/v2/product/update_stock").mock(
            return_value=fail("error_inner", "System error", 500)
        )
        setup.connector.check()
        results = setup.connector.apply_listing_changes(
            [ListingChange(ChangeKind.CREATE, draft())]
        )
        results += setup.connector.push_stock([StockUpdate(Sku("A"), "9", 1)])
        errors += [r.error for r in results if r.error is not None]
        router.get("/api/v2/order/get_order_detail").mock(
            return_value=fail("error_sign", "Wrong sign.", 403)
        )
        with pytest.raises(ConnectorError) as raised:
            setup.connector.fetch_order("X")
        errors.append(raised.value)
    assert len(errors) == 3
    routes = (refresh, shop, scan, upload, add, reads.base_info, stock)
    requests = [call.request for route in routes for call in route.calls]
    signatures = {params(r)["sign"][0] for r in requests}
    urls = {str(r.url) for r in requests}
    assert len(signatures) >= 6
    text = "\n".join(flatten(event) for event in logs)
    text += "\n".join(f"{e!r} {e}" for e in errors)
    assert logs  # something was logged
    for secret in (*SECRETS, *signatures, *urls):
        assert secret not in text
