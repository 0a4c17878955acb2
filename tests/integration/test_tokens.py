"""The token store: one refresh at a time per account, saved before it is used."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from structlog.testing import capture_logs

from connectors._tokens import TokenKeeper
from core.domain.accounts import ChannelAccount, Marketplace
from core.domain.catalogue import Producer, ProducerKind
from core.domain.ids import AccountId, ProducerCode
from core.domain.remote import Secret
from core.errors import ConfigError, StoreError
from core.ports import AuthorisationView, TokenSet
from core.store.crypto import TokenCipher, generate_key
from core.store.db import (
    _alembic_config,
    current_revision,
    head_revision,
    make_session_factory,
    upgrade,
)
from core.store.tokens import SqlTokenStore
from core.store.watch import SqlAccountWatch
from tests.fakes import TEST_TOKEN_KEY, FakeClock, FakeTokenStore, sql_token_store

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
    sql = sql_token_store(make_session_factory(engine), clock)
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
    store = sql_token_store(make_session_factory(engine), clock)
    with pytest.raises(StoreError, match="accounts apply"):
        store.load(AccountId("nope"))


ACCESS = "at-plain-5ecre7-0001"
REFRESH = "rt-plain-5ecre7-0001"


def _raw_tokens(engine: sa.Engine) -> list[tuple[str | None, str | None]]:
    """The token columns as plain SQL reads them, without the store."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT access_token, refresh_token FROM account_tokens")
        )
        return [(r[0], r[1]) for r in rows]


def _sql_store(engine: sa.Engine, clock: FakeClock, *keys: str) -> SqlTokenStore:
    return SqlTokenStore(make_session_factory(engine), clock, TokenCipher(keys))


def test_tokens_are_encrypted_at_rest(
    store: Any, engine: sa.Engine, clock: FakeClock
) -> None:
    if not isinstance(store, SqlTokenStore):
        pytest.skip("the database store only")
    with store.refreshing(ACCOUNT) as held:
        held.save(TokenSet(access_token=Secret(ACCESS), refresh_token=Secret(REFRESH)))
    (raw,) = _raw_tokens(engine)
    for column in raw:
        assert column is not None
        assert column.startswith("fernet:")
        assert ACCESS not in column
        assert REFRESH not in column
    loaded = store.load(ACCOUNT)
    assert (loaded.access_token, loaded.refresh_token) == (
        Secret(ACCESS),
        Secret(REFRESH),
    )
    other = _sql_store(engine, clock, generate_key())
    with pytest.raises(ConfigError, match="cannot be decrypted with any key"):
        other.load(ACCOUNT)  # another key reads nothing, and says why


def test_rotation_reencrypts_with_the_new_key_and_old_keys_still_decrypt(
    store: Any, engine: sa.Engine, clock: FakeClock
) -> None:
    if not isinstance(store, SqlTokenStore):
        pytest.skip("the database store only")
    with store.refreshing(ACCOUNT) as held:
        held.save(TokenSet(access_token=Secret(ACCESS), refresh_token=Secret(REFRESH)))
    before = _raw_tokens(engine)
    new = generate_key()
    rotating = _sql_store(engine, clock, new, TEST_TOKEN_KEY)
    assert rotating.load(ACCOUNT).access_token == Secret(ACCESS)  # old key decrypts
    assert rotating.reencrypt() == 1
    after = _raw_tokens(engine)
    assert after != before
    assert _sql_store(engine, clock, new).load(ACCOUNT).refresh_token == Secret(REFRESH)
    with pytest.raises(ConfigError, match="token_keys"):
        _sql_store(engine, clock, TEST_TOKEN_KEY).load(ACCOUNT)


def _plain_row_at_0004(engine: sa.Engine, clock: FakeClock) -> None:
    command.downgrade(_alembic_config(engine), "0004")
    with engine.begin() as connection:
        now = clock.now()
        account_id = connection.execute(
            sa.text(
                "INSERT INTO channel_accounts (account_key, marketplace, shop_id, "
                "enabled, allocation, created_at, updated_at) VALUES "
                "(:key, 'shopee', '1', :yes, '{}', :now, :now) RETURNING id"
            ),
            {"key": ACCOUNT, "now": now, "yes": True},
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO account_tokens (account_id, access_token, refresh_token, "
                "version, needs_reauthorisation, reason, updated_at) VALUES "
                "(:id, :access, :refresh, 1, :no, '', :now)"
            ),
            {
                "id": account_id,
                "access": ACCESS,
                "refresh": REFRESH,
                "no": False,
                "now": now,
            },
        )


def test_migration_0005_encrypts_plain_tokens_and_refuses_without_a_key(
    engine: sa.Engine, clock: FakeClock
) -> None:
    _plain_row_at_0004(engine, clock)
    with pytest.raises(StoreError, match="IKMSYNC_TOKEN_KEYS"):
        upgrade(engine)  # without the key nothing changes
    assert current_revision(engine) == "0004"
    assert _raw_tokens(engine) == [(ACCESS, REFRESH)]

    cipher = TokenCipher([TEST_TOKEN_KEY])
    assert upgrade(engine, token_cipher=cipher) == ("0004", head_revision())
    ((access, refresh),) = _raw_tokens(engine)
    assert access is not None
    assert refresh is not None
    assert ACCESS not in access
    assert REFRESH not in refresh
    loaded = _sql_store(engine, clock, TEST_TOKEN_KEY).load(ACCOUNT)
    assert (loaded.access_token, loaded.refresh_token, loaded.version) == (
        Secret(ACCESS),
        Secret(REFRESH),
        1,
    )
    # Downgrading decrypts them again.
    command.downgrade(_alembic_config(engine, cipher), "0004")
    assert _raw_tokens(engine) == [(ACCESS, REFRESH)]


class _GoneAfter(sessionmaker[Session]):
    """Sessions of ``engine`` for the first ``holds`` holds; after that the database
    is gone (every connection refused)."""

    def __init__(self, engine: sa.Engine, holds: int) -> None:
        super().__init__(bind=engine, class_=Session, expire_on_commit=False)
        self.holds = holds
        self._gone = sa.create_engine(
            "sqlite:////nonexistent-ikm-sync-dir/gone.db", hide_parameters=True
        )

    def __call__(self, **local_kw: Any) -> Session:
        self.holds -= 1
        if self.holds < 0:
            return Session(bind=self._gone)
        return super().__call__(**local_kw)


def _refuse_token_updates(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tokens BEFORE UPDATE ON account_tokens "
                "BEGIN SELECT RAISE(ABORT, 'token writes refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_tokens() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'token writes refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tokens BEFORE UPDATE ON account_tokens "
                "FOR EACH ROW EXECUTE FUNCTION refuse_tokens()"
            )


def test_a_database_gone_after_the_refresh_is_logged_not_left_silent(
    store: Any, engine: sa.Engine, clock: FakeClock
) -> None:
    if not isinstance(store, SqlTokenStore):
        pytest.skip("the database store only")
    with store.refreshing(ACCOUNT) as held:  # expired, with a single-use refresh token
        held.save(
            TokenSet(
                access_token=Secret("at-0"),
                refresh_token=Secret("rt-0"),
                access_expires_at=clock.now() - timedelta(minutes=1),
            )
        )
    _refuse_token_updates(engine)  # the new pair is refused ...
    gone = SqlTokenStore(
        _GoneAfter(engine, holds=1), clock, TokenCipher([TEST_TOKEN_KEY])
    )
    spent: list[str] = []

    def refresh(tokens: TokenSet) -> TokenSet:
        assert tokens.refresh_token is not None
        spent.append(tokens.refresh_token.reveal())
        return TokenSet(
            access_token=Secret(ACCESS),
            refresh_token=Secret(REFRESH),
            access_expires_at=clock.now() + timedelta(hours=4),
        )

    keeper = TokenKeeper(gone, ACCOUNT, refresh, clock, {"account": ACCOUNT})
    with capture_logs() as logs, pytest.raises(StoreError) as raised:
        keeper.current()  # ... and the database is gone before it is tried again
    assert spent == ["rt-0"]
    message = str(raised.value)
    assert "refresh token they replace is spent" in message
    assert f"ikm-sync accounts authorize {ACCOUNT}" in message
    (unsaved,) = [e for e in logs if e["event"] == "tokens.unsaved"]
    assert unsaved["log_level"] == "error"
    assert unsaved["refresh_token_spent"] is True
    assert unsaved["marked_for_reauthorisation"] is False
    for text in (message, repr(logs)):
        assert "parameters" not in text
        assert ACCESS not in text
        assert REFRESH not in text


# ------------------------------------------------------------ authorisation end


def test_the_authorisation_end_round_trips_and_outlives_token_saves(
    store: Any, clock: FakeClock
) -> None:
    wib = timezone(timedelta(hours=7))
    ends = datetime(2026, 3, 14, 22, 59, 59, tzinfo=wib)
    before = store.load(ACCOUNT)
    assert before.authorisation_expires_at is None
    store.record_authorisation_expiry(ACCOUNT, ends)
    loaded = store.load(ACCOUNT)
    assert loaded.authorisation_expires_at == ends
    assert loaded.authorisation_expires_at.utcoffset() == timedelta(0)
    # The tokens and their version are left as they were.
    assert replace(loaded, authorisation_expires_at=None) == before
    # A refresh saves new tokens; the recorded end stays.
    with store.refreshing(ACCOUNT) as held:
        held.save(TokenSet(refresh_token=Secret("r1")))
    after = store.load(ACCOUNT)
    assert after.refresh_token == Secret("r1")
    assert after.authorisation_expires_at == ends
    later = ends + timedelta(days=365)
    store.record_authorisation_expiry(ACCOUNT, later)
    assert store.load(ACCOUNT).authorisation_expires_at == later


def test_the_authorisation_end_of_an_account_without_tokens_is_kept(
    sql_uow: Any, engine: sa.Engine, clock: FakeClock
) -> None:
    other = AccountId("shopee-bare")
    with sql_uow() as uow:
        uow.producers.add_many(
            [Producer(ProducerCode("IKM-2"), "Koperasi", ProducerKind.IKM, "NTT", "X")],
            clock.now(),
        )
        uow.accounts.save(
            ChannelAccount(
                other, Marketplace.SHOPEE, "220012", (ProducerCode("IKM-2"),)
            ),
            clock.now(),
        )
        uow.commit()
    store = sql_token_store(make_session_factory(engine), clock)
    ends = clock.now() + timedelta(days=3)
    store.record_authorisation_expiry(other, ends)
    loaded = store.load(other)
    assert (loaded.authorisation_expires_at, loaded.version) == (ends, 0)
    assert loaded.access_token is None
    views = SqlAccountWatch(make_session_factory(engine)).authorisations()
    assert views == {other: AuthorisationView(ends, False, "")}
    with pytest.raises(StoreError, match="accounts apply"):
        store.record_authorisation_expiry(AccountId("nope"), ends)


def test_status_reads_the_authorisation_end_and_the_mark(
    store: Any, engine: sa.Engine, clock: FakeClock
) -> None:
    if not isinstance(store, SqlTokenStore):
        pytest.skip("the database store only")
    ends = clock.now() - timedelta(seconds=1)
    store.record_authorisation_expiry(ACCOUNT, ends)
    with store.refreshing(ACCOUNT) as held:
        held.save(replace(held.current, needs_reauthorisation=True, reason="ended"))
    views = SqlAccountWatch(make_session_factory(engine)).authorisations()
    assert views == {ACCOUNT: AuthorisationView(ends, True, "ended")}
