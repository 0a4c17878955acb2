"""The Pasar simulator's kit: Bukalapak's, on Pasar's own hosts."""

from __future__ import annotations

from typing import ClassVar

import httpx

from simulators.bukalapak.testkit import BukalapakKit
from simulators.kit.base import Simulator
from simulators.kit.testkit import ShopAccess

from .simulator import PasarSimulator

API = "https://api.pasar.example"
ACCOUNTS = "https://accounts.pasar.example"


class PasarKit(BukalapakKit):
    """The ``pasar`` kit."""

    key: ClassVar[str] = "pasar"

    def simulator_class(self) -> type[Simulator]:
        return PasarSimulator

    def hosts(self, sim: Simulator) -> frozenset[str]:
        return frozenset(httpx.URL(url).host for url in (API, ACCOUNTS))

    def access(self, sim: Simulator) -> ShopAccess:
        shop = super().access(sim)
        return ShopAccess(
            base_url=API,
            shop_id=shop.shop_id,
            secrets=shop.secrets,
            options={**shop.options, "accounts_base_url": ACCOUNTS},
        )


KIT = PasarKit()
