"""The token store: one refresh at a time per account, saved before it is used."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.errors import StoreError
from core.ports import TokenSet
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from tests.fakes import FakeClock, FakeTokenStore

pytestmark = pytest.mark.db

ACCOUNT = AccountId("shopee-ntt")


class SingleUseRefresher:
    """A marketplace whose refresh tokens work once and rotate (as Shopee's do)."""

    def __init__(self) -> None:
        self.valid = "r0"
        self.spent: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._count = 0

    def refresh(self, token: str) -> str:
        with self._lock:
            if token != self.valid:
                self.refused.append(token)
                raise RuntimeError("refresh token spent")
            self.spent.append(token)
            self._count += 1
            self.valid = f"r{self._count}"
            return self.valid


@pytest.fixture(params=["sql", "fake"])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Any:
    if request.param == "fake":
        fake = FakeTokenStore()
        fake.tokens[ACCOUNT] = TokenSet(refresh_token=Secret("r0"))
        return fake
    engine = request.getfixturevalue("engine")
    uow_factory: Callable[[], Any] = request.getfixturevalue("sql_uow")
    with uow_factory() as uow:
        uow.producers.add_many(
            [
                Producer(
                    ProducerCode("IKM-1"), "Koperasi", ProducerKind.IKM, "NTT", "Ngada"
                )
            ],
            clock.now(),
        )
        uow.accounts.save(
            ChannelAccount(
                ACCOUNT, Marketplace.SHOPEE, "220011", (ProducerCode("IKM-1"),)
            ),
            clock.now(),
        )
        uow.commit()
    sql = SqlTokenStore(make_session_factory(engine), clock)
    with sql.refreshing(ACCOUNT) as held:
        held.save(TokenSet(refresh_token=Secret("r0")))
    return sql


def refresh_if_stale(
    store: Any, seen_version: int, marketplace: SingleUseRefresher
) -> None:
    """What a connector does: refresh only if nobody else did while it waited."""
    with store.refreshing(ACCOUNT) as held:
        if held.current.version != seen_version:
            return  # another holder refreshed: use what it saved
        token = held.current.refresh_token
        assert token is not None
        held.save(TokenSet(refresh_token=Secret(marketplace.refresh(token.reveal()))))


def test_concurrent_refreshes_spend_the_token_once_and_lose_nothing(store: Any) -> None:
    marketplace = SingleUseRefresher()
    seen = store.load(ACCOUNT).version
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            refresh_if_stale(store, seen, marketplace)
        except BaseException as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert marketplace.spent == ["r0"]
    assert marketplace.refused == []
    stored = store.load(ACCOUNT)
    assert stored.refresh_token == Secret(marketplace.valid)
    assert stored.version == seen + 1


def test_a_hold_without_save_changes_nothing_and_saves_only_once(store: Any) -> None:
    before = store.load(ACCOUNT)
    with store.refreshing(ACCOUNT) as held:
        assert held.current == before
    assert store.load(ACCOUNT) == before


def test_saved_tokens_are_read_back_whole(store: Any, clock: FakeClock) -> None:
    tokens = TokenSet(
        access_token=Secret("at-1"),
        refresh_token=Secret("r-1"),
        access_expires_at=clock.now(),
        refresh_expires_at=clock.now(),
        needs_reauthorisation=True,
        reason="shop_no_linked",
    )
    with store.refreshing(ACCOUNT) as held:
        saved = held.save(tokens)
    loaded = store.load(ACCOUNT)
    assert loaded == saved
    assert (loaded.access_token, loaded.reason) == (Secret("at-1"), "shop_no_linked")
    assert "at-1" not in repr(loaded)


def test_an_unknown_account_is_a_store_error(
    sql_uow: Any, engine: Any, clock: FakeClock
) -> None:
    store = SqlTokenStore(make_session_factory(engine), clock)
    with pytest.raises(StoreError, match="accounts apply"):
        store.load(AccountId("nope"))
