"""Connectors on in-process simulators, wired as production wires them.

The one wiring of "a simulator plus an authorised connector": the contract suite,
the sync world, the benchmarks and the plugin checks all build it here, for any
installed marketplace. Each marketplace's simulator-side facts come from its test kit
(``ikm_sync.testkits``), its connector and default rate from its descriptor
(``ikm_sync.connectors``); nothing here names a marketplace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import httpx

from core.domain.accounts import (
    AllocationPolicy,
    ChannelAccount,
    Marketplace,
)
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.ports import MarketplaceConnector, TokenStore
from ikm_sync.bootstrap import default_rate
from simulators.kit.base import Simulator
from simulators.kit.buyers import BuyerSettings
from simulators.kit.clock import SimClock
from simulators.kit.pictures import picture_response
from simulators.kit.testkit import PICTURE_HOST, MarketplaceKit, ShopAccess

if TYPE_CHECKING:
    from connectors._http import RateBudget, RetryPolicy

#: Secret names that a "wrong credentials" connector gets wrong (its app secret
#: or key); ids stay right, so the shop and the app are still found.
_SECRET_WORDS = ("secret", "key")


class SimulatedMarkets:
    """Simulators of the chosen marketplaces behind one transport (with the picture
    host their drafts point at), and connectors for their main shops.

    Every wait (rate budgets, retry back-off, simulated latency) goes through
    ``sleep`` and ``monotonic``, so a caller on a frozen clock never really sleeps.
    """

    def __init__(
        self,
        keys: Sequence[str],
        *,
        clock: SimClock,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rate_limits: bool = False,
        budgets: bool | None = None,
        buyers: BuyerSettings | None = None,
        seeds: Mapping[str, int] | None = None,
    ) -> None:
        """``rate_limits``: the simulators meter requests as documented;
        ``budgets`` (default: as ``rate_limits``): the connectors pace themselves
        as production does (:func:`ikm_sync.bootstrap.default_rate`)."""
        from connectors._http import RateBudget
        from simulators import load_testkit

        self.clock, self.sleep, self.monotonic = clock, sleep, monotonic
        self.kits: dict[str, MarketplaceKit] = {k: load_testkit(k) for k in keys}
        self.sims: dict[str, Simulator] = {
            key: kit.simulator(
                clock=clock,
                seed=(seeds or {}).get(key, number),
                sleep=sleep,
                rate_limits=rate_limits,
                buyers=buyers,
            )
            for number, (key, kit) in enumerate(self.kits.items(), start=1)
        }
        self._by_host: dict[str, Simulator] = {}
        for key, sim in self.sims.items():
            for host in self.kits[key].hosts(sim):
                self._by_host[host] = sim
        paced = rate_limits if budgets is None else budgets
        self.budgets: dict[str, RateBudget] = {}
        for key in self.kits:
            rate, burst = default_rate(key)
            self.budgets[key] = RateBudget(
                rate, burst, monotonic=monotonic, sleep=sleep, enabled=paced
            )

    # ------------------------------------------------------------ transport

    def owner(self, request: httpx.Request) -> str | None:
        """The key of the marketplace whose simulator answers ``request``."""
        sim = self._by_host.get(request.url.host)
        return None if sim is None else sim.key

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The answer of whichever simulator (or the picture host) owns the host."""
        host = request.url.host
        if host == PICTURE_HOST:
            return picture_response(request)
        sim = self._by_host.get(host)
        if sim is None:
            return httpx.Response(
                502, text=f"no simulator answers for {host!r}", request=request
            )
        return sim.handler(request)

    def client(self) -> httpx.Client:
        """An HTTP client whose every request goes to :meth:`handler`."""
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    # ------------------------------------------------------------ shops

    def access(self, key: str) -> ShopAccess:
        """The settings that reach ``key``'s main shop."""
        return self.kits[key].access(self.sims[key])

    def account(
        self,
        key: str,
        account_id: str,
        producers: Sequence[ProducerCode],
        policy: AllocationPolicy | None = None,
        credentials_ref: str | None = None,
    ) -> ChannelAccount:
        """An account on ``key``'s main shop."""
        return ChannelAccount(
            AccountId(account_id),
            Marketplace(key),
            self.access(key).shop_id,
            tuple(producers),
            policy or AllocationPolicy(),
            credentials_ref,
        )

    def connector(
        self,
        account: ChannelAccount,
        *,
        http: httpx.Client,
        tokens: TokenStore,
        wrong_secrets: bool = False,
        policy: RetryPolicy | None = None,
        budget: RateBudget | None = None,
    ) -> MarketplaceConnector:
        """A connector for ``account`` (on its marketplace's main shop), built as
        production builds one: the registry's class, the kit's settings.
        ``wrong_secrets``: the app's secret or key is wrong (ids stay right);
        ``budget``: a rate budget of the caller's (default: the marketplace's)."""
        import connectors
        from connectors._context import ConnectorContext
        from connectors._http import RetryPolicy

        key = account.marketplace.value
        access = self.access(key)
        secrets = {
            name: Secret(
                f"not-the-{name}"
                if wrong_secrets and any(w in name for w in _SECRET_WORDS)
                else value
            )
            for name, value in access.secrets.items()
        }
        context = ConnectorContext(
            account=account,
            base_url=access.base_url,
            http=http,
            clock=self.clock,
            tokens=tokens,
            budget=budget or self.budgets[key],
            credentials=secrets,
            options=dict(access.options),
            policy=policy or RetryPolicy(),
            sleep=self.sleep,
        )
        connector: MarketplaceConnector = connectors.load(key)(context)
        return connector

    def authorise(self, connector: MarketplaceConnector, http: httpx.Client) -> None:
        """The shop approves the app with no browser: the simulators approve a
        consent link at once and redirect with a code, which the connector
        exchanges; a marketplace that links shops another way needs no code."""
        kit = self.kits[connector.key]
        link = connector.authorization_url(kit.redirect_uri, "simulated")
        if link is None:
            connector.authorize("", kit.redirect_uri)
            return
        answer = http.get(link)
        location = answer.headers.get("location")
        if answer.status_code not in (301, 302, 303, 307) or location is None:
            raise RuntimeError(
                f"{connector.key}: the consent link answered {answer.status_code} "
                f"without a redirect: {answer.text[:200]}"
            )
        connector.authorize(httpx.URL(location).params["code"], kit.redirect_uri)

    # ------------------------------------------------------------ observing

    def write_calls(self, key: str) -> int:
        """Requests ``key``'s simulator counted on routes that change something
        (asked per request by benchmarks: the kit is at hand, not looked up)."""
        return _counted(self.sims[key], self.kits[key].write_routes)


def write_calls(sim: Simulator) -> int:
    """Requests ``sim`` counted on routes that change what its marketplace holds
    (its kit's ``write_routes``)."""
    from simulators import load_testkit

    return _counted(sim, load_testkit(sim.key).write_routes)


def _counted(sim: Simulator, routes: frozenset[str]) -> int:
    return sum(n for name, n in sim.requests.items() if name in routes)
