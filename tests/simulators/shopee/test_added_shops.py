"""``POST /_sim/shops``: a shop of its own, authorised like the provisioned ones."""

from __future__ import annotations

import httpx

from simulators.shopee.simulator import ShopeeSimulator
from tests.simulators.shopee._client import BASE_URL, PageClient


def test_an_added_shop_is_new_and_can_be_authorised(
    sim: ShopeeSimulator, api: PageClient
) -> None:
    before = set(sim.shops)
    with httpx.Client(
        transport=httpx.MockTransport(sim.handler), base_url=BASE_URL
    ) as http:
        answer = http.post("/_sim/shops", json={"name": "Toko Armada"})
    assert answer.status_code == 200, answer.text
    shop_id = int(answer.json()["shop_id"])
    assert shop_id not in before
    assert sim.shops[shop_id].shop_name == "Toko Armada"
    assert api.session(shop_id) is not None
