"""``POST /_sim/sellers``: a seller with a store and image attachments of its own."""

from __future__ import annotations

from tests.simulators.bukalapak._support import Market, bearer


def test_an_added_seller_authorises_and_sees_only_its_own_store(
    market: Market,
) -> None:
    answer = market.api.post("/_sim/sellers", json={"username": "armada-01"})
    assert answer.status_code == 201, answer.text
    seller = answer.json()["data"]
    assert str(seller["store_id"]) != market.creds["store_id"]
    assert len(seller["attachment_ids"]) == 10
    again = market.api.post("/_sim/sellers", json={"username": "armada-01"})
    assert again.json()["data"]["store_id"] == seller["store_id"]  # the same seller
    token = market.seller_token(sim_seller="armada-01")
    products = market.api.get("/stores/me/products", headers=bearer(token))
    assert products.status_code == 200, products.text
    assert products.json()["data"] == []
