"""§2 authentication, §2.3 shop access and §10.1 items 1-3."""

from __future__ import annotations

import base64

from simulators.kit.clock import SimClock
from tests.simulators.tokopedia.conftest import (
    ACCOUNTS,
    API,
    Toko,
    error,
    make_toko,
    ok,
)

TWO_WEEKS = 1_209_600


def test_client_credentials_token_is_returned_as_documented(toko: Toko) -> None:
    answer = toko.request_token()
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == TWO_WEEKS
    assert body["access_token"] == toko.token


def test_same_token_while_valid_with_remaining_lifetime(toko: Toko) -> None:
    toko.clock.advance(days=3)
    body = toko.request_token().json()
    assert body["access_token"] == toko.token
    assert body["expires_in"] == TWO_WEEKS - 3 * 86_400


def test_new_token_only_after_expiry_and_old_one_is_refused(toko: Toko) -> None:
    product = ok(toko.info({"shop_id": toko.shop_id, "page": 1}))
    assert product == []
    toko.clock.advance(seconds=TWO_WEEKS)
    error(toko.info({"shop_id": toko.shop_id, "page": 1}), 401, "OPENAPI_MDLW_401")
    fresh = toko.request_token().json()
    assert fresh["access_token"] != toko.token
    assert fresh["expires_in"] == TWO_WEEKS
    answer = toko.call(
        "GET",
        f"/inventory/v1/fs/{toko.fs_id}/product/info",
        params={"shop_id": toko.shop_id, "page": 1},
        token=fresh["access_token"],
    )
    assert ok(answer) == []


def test_token_lifetime_is_configurable(sim_clock: SimClock) -> None:
    for toko in make_toko(sim_clock, token_lifetime=2_592_000):
        assert toko.request_token().json()["expires_in"] == 2_592_000


def test_unauthorized_answer_shape(toko: Toko) -> None:
    answer = toko.info({"shop_id": toko.shop_id, "page": 1})
    assert answer.status_code == 200
    unknown = toko.call(
        "GET",
        f"/inventory/v1/fs/{toko.fs_id}/product/info",
        params={"shop_id": toko.shop_id, "page": 1},
        token="c:not-a-token",
    )
    header = error(unknown, 401, "OPENAPI_MDLW_401")
    assert header["messages"] == "unauthorized"
    missing = toko.http.get(
        f"{API}/inventory/v1/fs/{toko.fs_id}/product/info",
        params={"shop_id": toko.shop_id, "page": 1},
    )
    assert error(missing, 401, "OPENAPI_MDLW_401")["messages"] == "unauthorized"
    basic_instead = toko.http.get(
        f"{API}/inventory/v1/fs/{toko.fs_id}/product/info",
        params={"shop_id": toko.shop_id, "page": 1},
        headers={"Authorization": f"Basic {toko.token}"},
    )
    error(basic_instead, 401, "OPENAPI_MDLW_401")


def test_wrong_client_credentials_are_refused(toko: Toko) -> None:
    wrong_secret = toko.request_token(secret="0" * 32)
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    assert "access_token" not in wrong_secret.json()
    unknown_client = toko.request_token(client_id="nobody")
    assert unknown_client.status_code == 401
    garbage = toko.http.post(
        f"{ACCOUNTS}/token",
        params={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic %%%"},
    )
    assert garbage.status_code == 401
    no_header = toko.http.post(
        f"{ACCOUNTS}/token", params={"grant_type": "client_credentials"}
    )
    assert no_header.status_code == 401


def test_grant_type_must_be_client_credentials(toko: Toko) -> None:
    basic = base64.b64encode(f"{toko.client_id}:{toko.client_secret}".encode())
    answer = toko.http.post(
        f"{ACCOUNTS}/token",
        params={"grant_type": "authorization_code"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_token_endpoint_answers_on_either_host(toko: Toko) -> None:
    basic = base64.b64encode(f"{toko.client_id}:{toko.client_secret}".encode())
    for host in (ACCOUNTS, API):
        answer = toko.http.post(
            f"{host}/token",
            params={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
        assert answer.json()["access_token"] == toko.token


def test_token_expiry_mid_run_fault(toko: Toko) -> None:
    ok(toko.info({"shop_id": toko.shop_id, "page": 1}))
    toko.sim.expire_tokens()
    error(toko.info({"shop_id": toko.shop_id, "page": 1}), 401, "OPENAPI_MDLW_401")
    toko.login()
    ok(toko.info({"shop_id": toko.shop_id, "page": 1}))


def test_path_fs_id_must_belong_to_the_token(toko: Toko) -> None:
    other = toko.sim.add_app()
    answer = toko.call(
        "GET",
        f"/inventory/v1/fs/{other.fs_id}/product/info",
        params={"shop_id": toko.shop_id, "page": 1},
    )
    error(answer, 403, "RBAC_MDLW_001")
    bad = toko.call(
        "GET", "/inventory/v1/fs/abc/product/info", params={"shop_id": toko.shop_id}
    )
    error(bad, 400, "PRD_DLV_042")
    no_fs = toko.call("GET", "/v2/order/list", params={"shop_id": toko.shop_id})
    error(no_fs, 400, "ORD_DLV_001")


def test_shop_not_linked_to_the_fs_id_is_forbidden(toko: Toko) -> None:
    other_app = toko.sim.add_app()
    foreign = toko.sim.add_shop(fs_id=other_app.fs_id)
    unlinked = toko.sim.add_shop(fs_id=0)
    for shop_id in (foreign.shop_id, unlinked.shop_id, 999_999_999):
        answer = toko.info({"shop_id": shop_id, "page": 1})
        header = error(answer, 403, "RBAC_MDLW_001")
        assert str(shop_id) in header["reason"]
    toko.sim.link_shop(unlinked.shop_id, int(toko.fs_id))
    assert ok(toko.info({"shop_id": unlinked.shop_id, "page": 1})) == []


def test_migrated_shop_is_forbidden_everywhere(toko: Toko) -> None:
    product_id = toko.sim.seed_product(sku="M-1").product_id
    order_id = toko.paid_order(product_id)
    toko.sim.set_migrated(int(toko.shop_id))
    now = toko.clock.timestamp()
    answers = [
        toko.info({"shop_id": toko.shop_id, "page": 1}),
        toko.info({"product_id": product_id}),
        toko.stock([{"sku": "M-1", "new_stock": 3}]),
        toko.orders(from_date=now - 10, to_date=now, page=1, per_page=10),
        toko.order(order_id=order_id),
        toko.action(order_id, "ack"),
    ]
    for answer in answers:
        error(answer, 403, "RBAC_MDLW_001")
    assert toko.sim.inspect_listings()[0]["stock"] == 9
    toko.sim.set_migrated(int(toko.shop_id), migrated=False)
    ok(toko.action(order_id, "ack"))


def test_shops_helper_endpoint_links_and_migrates(toko: Toko) -> None:
    created = toko.http.post(f"{API}/_sim/shops", json={"name": "Toko Kedua"})
    shop = created.json()
    assert shop["fs_id"] == int(toko.fs_id)
    assert ok(toko.info({"shop_id": shop["shop_id"], "page": 1})) == []
    toko.http.post(
        f"{API}/_sim/shops", json={"shop_id": shop["shop_id"], "linked": False}
    )
    error(toko.info({"shop_id": shop["shop_id"], "page": 1}), 403, "RBAC_MDLW_001")
    creds = toko.http.get(f"{API}/_sim/credentials").json()
    assert creds["client_id"] == toko.client_id
    assert creds["fs_id"] == toko.fs_id


def test_unknown_path_and_method_use_the_envelope(toko: Toko) -> None:
    error(toko.call("GET", "/v9/nothing"), 404, "OPENAPI_DLV_404")
    wrong_method = toko.call("GET", f"/v3/products/fs/{toko.fs_id}/create")
    error(wrong_method, 405, "OPENAPI_DLV_405")
