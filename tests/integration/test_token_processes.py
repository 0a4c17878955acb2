"""Two processes refresh one Shopee shop's single-use token at once: neither loses it.

Each process has its own interpreter, database connection and connector; both meet a
revoked access token at the same moment against one simulator served over HTTP. Exactly
one refresh reaches Shopee, the other process uses the pair it stored, and both succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors._context import ConnectorContext
from connectors._http import RateBudget
from connectors.shopee import ShopeeConnector
from core.clock import SystemClock
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.store.db import make_session_factory
from core.store.uow import SqlUnitOfWork
from simulators.kit.server import SimulatorServer
from simulators.shopee.simulator import ShopeeSimulator
from tests.fakes import TEST_TOKEN_KEY, sql_token_store

pytestmark = [pytest.mark.db, pytest.mark.slow]

ACCOUNT = AccountId("shopee-ntt")

CHILD = textwrap.dedent(
    """
    import json, sys
    import httpx
    from connectors._context import ConnectorContext
    from connectors._http import RateBudget
    from connectors.shopee import ShopeeConnector
    from core.clock import SystemClock
    from core.domain.accounts import ChannelAccount, Marketplace
    from core.domain.ids import AccountId, ProducerCode
    from core.domain.remote import Secret
    from core.store.db import make_engine, make_session_factory
    from core.store.crypto import TokenCipher
    from core.store.tokens import SqlTokenStore

    setup = json.loads(sys.argv[1])
    engine = make_engine(setup["database_url"])
    clock = SystemClock()
    with httpx.Client() as http:
        connector = ShopeeConnector(ConnectorContext(
            account=ChannelAccount(AccountId("shopee-ntt"), Marketplace.SHOPEE,
                                   setup["shop_id"], (ProducerCode("IKM-NTT-001"),)),
            base_url=setup["url"], http=http, clock=clock,
            tokens=SqlTokenStore(make_session_factory(engine), clock,
                                 TokenCipher([setup["token_key"]])),
            budget=RateBudget(100.0, 100),
            credentials={"partner_key": Secret(setup["partner_key"])},
            options={"partner_id": int(setup["partner_id"])},
        ))
        sys.stdin.readline()  # both processes start together
        try:
            connector.check()
            print(json.dumps({"ok": True}))
        except Exception as exc:  # reported to the test
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
    engine.dispose()
    """
)


@pytest.fixture
def served() -> Iterator[tuple[ShopeeSimulator, str]]:
    simulator = ShopeeSimulator(seed=5, rate_limits=False)
    server = SimulatorServer(simulator)
    server.start()
    try:
        yield simulator, server.url
    finally:
        server.stop()


def _authorised(
    simulator: ShopeeSimulator, url: str, database_url: str, engine: sa.Engine
) -> dict[str, Any]:
    credentials = simulator.credentials()
    now = datetime.now(UTC)
    with SqlUnitOfWork(make_session_factory(engine)) as uow:
        uow.producers.add_many(
            [Producer(ProducerCode("IKM-NTT-001"), "Koperasi", ProducerKind.IKM,
                      "NTT", "Ngada")],
            now,
        )  # fmt: skip
        account = ChannelAccount(
            ACCOUNT,
            Marketplace.SHOPEE,
            credentials["shop_id"],
            (ProducerCode("IKM-NTT-001"),),
        )
        uow.accounts.save(account, now)
        uow.commit()
    clock = SystemClock()
    with httpx.Client() as http:
        connector = ShopeeConnector(
            ConnectorContext(
                account=account,
                base_url=url,
                http=http,
                clock=clock,
                tokens=sql_token_store(make_session_factory(engine), clock),
                budget=RateBudget(100.0, 100),
                credentials={"partner_key": Secret(credentials["partner_key"])},
                options={"partner_id": int(credentials["partner_id"])},
            )
        )
        link = connector.authorization_url("https://ikm.example/cb", "s")
        assert link is not None
        code = httpx.URL(http.get(link).headers["location"]).params["code"]
        connector.authorize(code, "https://ikm.example/cb")
        connector.check()
    return {
        "database_url": database_url,
        "token_key": TEST_TOKEN_KEY,
        "url": url,
        "shop_id": credentials["shop_id"],
        "partner_id": credentials["partner_id"],
        "partner_key": credentials["partner_key"],
    }


def test_two_processes_refresh_one_token_and_both_carry_on(
    served: tuple[ShopeeSimulator, str], database_url: str, engine: sa.Engine
) -> None:
    simulator, url = served
    setup = _authorised(simulator, url, database_url, engine)
    store = sql_token_store(make_session_factory(engine), SystemClock())
    before = store.load(ACCOUNT)
    simulator.revoke_access_tokens()  # both processes will be refused, then refresh
    # A slow refresh: unless the store makes the second process wait, both refreshes
    # are in flight together and the second spends an already-spent refresh token.
    simulator.faults.set_latency(0.5, endpoint="auth.access_token.get")
    refreshes_before = simulator.requests["auth.access_token.get"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    children = [
        subprocess.Popen(  # noqa: S603  (this interpreter running the script above)
            [sys.executable, "-c", CHILD, json.dumps(setup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for _ in range(2)
    ]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outcomes = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    assert outcomes == [{"ok": True}, {"ok": True}], outcomes
    assert simulator.requests["auth.access_token.get"] - refreshes_before == 1
    after = store.load(ACCOUNT)
    assert after.version == before.version + 1
    assert after.refresh_token != before.refresh_token
    assert not after.needs_reauthorisation
