"""The Warung simulator's kit: Tokopedia's, on Warung's own hosts."""

from __future__ import annotations

from typing import ClassVar

import httpx

from simulators.kit.base import Simulator
from simulators.kit.testkit import ShopAccess
from simulators.tokopedia.testkit import TokopediaKit

from .simulator import WarungSimulator

API = "https://fs.warung.example"
TOKENS = "https://accounts.warung.example/token"


class WarungKit(TokopediaKit):
    """The ``warung`` kit."""

    key: ClassVar[str] = "warung"

    def simulator_class(self) -> type[Simulator]:
        return WarungSimulator

    def hosts(self, sim: Simulator) -> frozenset[str]:
        return frozenset(httpx.URL(url).host for url in (API, TOKENS))

    def access(self, sim: Simulator) -> ShopAccess:
        shop = super().access(sim)
        return ShopAccess(
            base_url=API,
            shop_id=shop.shop_id,
            secrets=shop.secrets,
            options={**shop.options, "token_url": TOKENS},
        )


KIT = WarungKit()
