"""The only wiring: settings → logging → engine → unit of work → services' ports.

Nothing here runs at import. The CLI (and later the scheduler) call these factories once
per process. Settings, SQLAlchemy, the store, HTTP and the connectors are imported by
the factory that needs them, so importing this module loads none of them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

import structlog

from core.clock import SystemClock
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.ids import AccountId, ProducerCode, sku_key
from core.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    from config import AccountSettings, LoadedSettings, SecretRedactor, Settings
    from config.settings import AllocationOverrideSettings, AllocationSettings
    from connectors._http import RateBudget
    from core.ports import Clock, Fence, MarketplaceConnector
    from core.services.orders import PullOptions
    from core.services.stopping import StopRequest
    from core.store.audit_read import SqlAuditReader, SqlRunArchive
    from core.store.crypto import TokenCipher
    from core.store.leases import SqlLeaseStore
    from core.store.programme import SqlProgrammeReader
    from core.store.schedule import SqlScheduleStore
    from core.store.tokens import SqlTokenStore
    from core.store.uow import SqlUnitOfWork
    from core.store.watch import SqlAccountWatch
    from scheduler.runner import AccountJobRunner

log = structlog.get_logger(__name__)

#: The token key of ``environment = "development"`` when none is configured. It is
#: public (derived from a fixed phrase), so it hides tokens from a glance, not from
#: anyone: every other environment must configure its own ``token_keys``.
DEVELOPMENT_TOKEN_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"ikm-sync development token key").digest()
).decode("ascii")


def init_early_logging(level: str | None, fmt: str | None) -> None:
    """Logging to standard error before settings are read (their errors log too)."""
    from config.logging import configure_logging

    configure_logging(
        level=level or "INFO",
        fmt=fmt if fmt in {"console", "json"} else "auto",  # type: ignore[arg-type]
    )


def init_logging(
    loaded: LoadedSettings, *, level: str | None = None, fmt: str | None = None
) -> SecretRedactor:
    """Configure logging from settings (command-line flags win) with secret masking."""
    from config.logging import configure_logging

    settings = loaded.settings
    chosen_format = fmt or settings.logging.format
    if chosen_format not in {"auto", "console", "json"}:
        chosen_format = "auto"
    return configure_logging(
        level=level or settings.logging.level,
        fmt=chosen_format,  # type: ignore[arg-type]
        secret_values=[value for _key, value in settings.secret_values()],
    )


def token_cipher(settings: Settings) -> TokenCipher:
    """The cipher of stored tokens, from ``token_keys``.

    Raises:
        ConfigError: no key is configured outside ``environment = "development"``
            (which falls back to :data:`DEVELOPMENT_TOKEN_KEY`).
    """
    from core.store.crypto import TokenCipher

    keys = settings.token_key_list()
    if not keys:
        if settings.environment != "development":
            raise ConfigError(
                "token_keys: not set; marketplace tokens are stored encrypted, so "
                "outside environment = 'development' expected IKMSYNC_TOKEN_KEYS in "
                "the environment or a file token_keys in the secrets directory (Fernet "
                "keys, newest first, separated by commas; `ikm-sync db token-key` "
                "prints a new one)"
            )
        log.warning(
            "tokens.development_key_used",
            reason="token_keys is not set; tokens are encrypted with the public "
            "development key",
        )
        keys = [DEVELOPMENT_TOKEN_KEY]
    return TokenCipher(keys)


@dataclass
class Runtime:
    """What a command needs to work on the store."""

    engine: Engine
    session_factory: sessionmaker[Session]
    cipher: TokenCipher
    clock: Clock = field(default_factory=SystemClock)

    def token_store(self) -> SqlTokenStore:
        """The accounts' tokens, encrypted with :attr:`cipher`."""
        from core.store.tokens import SqlTokenStore

        return SqlTokenStore(self.session_factory, self.clock, self.cipher)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work (enter it with ``with``)."""
        from core.store.uow import SqlUnitOfWork

        return SqlUnitOfWork(self.session_factory)

    def uow_factory(self) -> Callable[[], SqlUnitOfWork]:
        """A factory of units of work, for services that open several."""
        return self.uow

    def lease_store(self) -> SqlLeaseStore:
        """Accounts' leases (one writer per account, across machines)."""
        from core.store.leases import SqlLeaseStore

        return SqlLeaseStore(self.session_factory)

    def account_watch(self) -> SqlAccountWatch:
        """Accounts' latest runs, leases and schedules, for ``status``."""
        from core.store.watch import SqlAccountWatch

        return SqlAccountWatch(self.session_factory)

    def audit_reader(self) -> SqlAuditReader:
        """The auditor's reading of the trail (``audit log``, ``audit trace``)."""
        from core.store.audit_read import SqlAuditReader

        return SqlAuditReader(self.session_factory)

    def run_archive(self) -> SqlRunArchive:
        """Runs of a period with their items (``runs export``)."""
        from core.store.audit_read import SqlRunArchive

        return SqlRunArchive(self.session_factory)

    def programme_reader(self) -> SqlProgrammeReader:
        """Programme figures and top products (``report``)."""
        from core.store.programme import SqlProgrammeReader

        return SqlProgrammeReader(self.session_factory)

    def schedule_store(self) -> SqlScheduleStore:
        """Due times of the scheduler's jobs (shared by every daemon)."""
        from core.store.schedule import SqlScheduleStore

        return SqlScheduleStore(self.session_factory)

    def fenced_units(self, fence: Fence) -> Callable[[], SqlUnitOfWork]:
        """Units of work whose commits are refused once ``fence`` has lost its
        account's lease."""
        from core.store.uow import fenced_units

        return fenced_units(self.session_factory, fence)

    def schema_problem(self) -> str | None:
        """``None`` when the database answers and is at the head migration,
        otherwise why not (a readiness check of the operations port)."""
        from core.store.db import ensure_current

        try:
            ensure_current(self.engine)
        except StoreError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def build_runtime(loaded: LoadedSettings, *, check_schema: bool = True) -> Runtime:
    """Engine, sessions and token cipher for the configured database; checks the
    schema is current and refuses to start without a token key (outside
    development)."""
    from core.store.db import (
        ensure_current,
        make_engine,
        make_session_factory,
        missing_sqlite_file,
    )

    settings = loaded.settings
    cipher = token_cipher(settings)
    missing = missing_sqlite_file(settings.database_url()) if check_schema else None
    if missing is not None:  # do not leave an empty file behind a read-only command
        raise StoreError(
            f"there is no database at {missing}; run `ikm-sync db upgrade` to create it"
        )
    engine = make_engine(settings.database_url(), echo=settings.database.echo)
    try:
        if check_schema:
            ensure_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return Runtime(
        engine=engine,
        session_factory=make_session_factory(engine),
        cipher=cipher,
        clock=SystemClock(clock_offset()),
    )


def clock_offset() -> timedelta:
    """The clock offset :data:`~config.settings.CLOCK_OFFSET_ENV` asks for (none
    when unset). Test-only: leases, due times and fencing follow the database's
    clock, so a process whose clock is off must cause no overlap.

    Raises:
        ConfigError: the variable is set but not a number of seconds.
    """
    from config.settings import CLOCK_OFFSET_ENV

    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        raise ConfigError(
            f"{CLOCK_OFFSET_ENV}={raw!r}: expected a number of seconds"
        ) from None


def _rule(
    base: AllocationSettings, override: AllocationOverrideSettings | None = None
) -> AllocationRule:
    def pick(name: str) -> int | None:
        value = getattr(override, name, None) if override is not None else None
        return value if value is not None else getattr(base, name)  # type: ignore[no-any-return]

    return AllocationRule(
        share_percent=pick("share_percent") or 0,
        safety_buffer=pick("safety_buffer") or 0,
        cap=pick("cap"),
        min_to_list=pick("min_to_list") or 0,
    )


def account_from_settings(settings: AccountSettings) -> ChannelAccount:
    """The domain account a settings entry describes."""
    allocation = settings.allocation
    return ChannelAccount(
        id=AccountId(settings.id),
        marketplace=Marketplace(settings.marketplace),
        shop_id=settings.shop_id,
        producer_codes=tuple(
            ProducerCode(c.strip().upper()) for c in settings.producers
        ),
        policy=AllocationPolicy(
            default=_rule(allocation),
            overrides=MappingProxyType(
                {
                    sku_key(sku): _rule(allocation, o)
                    for sku, o in allocation.overrides.items()
                }
            ),
            excluded=frozenset(sku_key(sku) for sku in allocation.exclude),
        ),
        credentials_ref=settings.credentials,
        enabled=settings.enabled,
    )


def accounts_from_settings(entries: Sequence[AccountSettings]) -> list[ChannelAccount]:
    """The domain accounts the settings describe, with their shops' handovers on
    both accounts of each (``takes_over``, ``handover_at``)."""
    from core.domain.accounts import Handover

    accounts = [account_from_settings(entry) for entry in entries]
    handovers: dict[str, Handover] = {}
    for entry in entries:
        if entry.takes_over is not None and entry.handover_at is not None:
            handover = Handover(
                AccountId(entry.takes_over), AccountId(entry.id), entry.handover_at
            )
            handovers[entry.takes_over] = handovers[entry.id] = handover
    return [replace(a, handover=handovers.get(a.id)) for a in accounts]


#: Share of a documented rate and burst that is used: requests leave paced but arrive
#: with jitter, and another process (or the last command) may have spent part of the
#: marketplace's bucket, so spending exactly the limit would draw refusals.
RATE_HEADROOM = 0.8


def default_rate(marketplace: str) -> tuple[float, int]:
    """The rate and burst used when the settings name none: the documented limit
    the marketplace's descriptor declares, with :data:`RATE_HEADROOM`.

    Raises:
        ConfigError: no marketplace has that key.
    """
    import connectors

    documented = connectors.descriptor(marketplace).rate
    return (
        documented.per_second * RATE_HEADROOM,
        max(1, int(documented.burst * RATE_HEADROOM)),
    )


class Connections:
    """Connectors for configured accounts, sharing one HTTP client and one rate budget
    per marketplace (budgets are per account and endpoint inside)."""

    def __init__(self, loaded: LoadedSettings, runtime: Runtime) -> None:
        import httpx

        self._settings = loaded.settings
        self._runtime = runtime
        self._http = httpx.Client(follow_redirects=False)
        self._budgets: dict[str, RateBudget] = {}
        self._tokens = runtime.token_store()

    def _budget(self, marketplace: str) -> RateBudget:
        from connectors._http import RateBudget

        if marketplace not in self._budgets:
            options = self._settings.marketplaces.get(marketplace)
            rate, burst = default_rate(marketplace)
            if options is not None:
                rate = options.rate_per_second or rate
                burst = options.rate_burst or burst
            self._budgets[marketplace] = RateBudget(rate, burst)
        return self._budgets[marketplace]

    def connector(self, account: ChannelAccount) -> MarketplaceConnector:
        """A connector for ``account``, built from its marketplace's settings.

        Raises:
            ConfigError: the marketplace is unknown, disabled or lacks a base URL, or
                the account's credential set is missing.
        """
        import connectors
        from connectors._context import ConnectorContext
        from connectors._http import RetryPolicy
        from core.domain.remote import Secret

        key = account.marketplace.value
        market = self._settings.marketplaces.get(key)
        if market is None or not market.enabled or not market.base_url:
            raise ConfigError(
                f"account {account.id!r}: marketplace {key!r} is not enabled with a "
                f"base_url in the settings"
            )
        secrets: dict[str, Secret] = {}
        if account.credentials_ref is not None:
            entries = self._settings.credentials.get(account.credentials_ref)
            if entries is None:
                raise ConfigError(
                    f"account {account.id!r}: credential set "
                    f"{account.credentials_ref!r} is not configured"
                )
            secrets = {
                name: Secret(v.get_secret_value()) for name, v in entries.items()
            }
        context = ConnectorContext(
            account=account,
            base_url=market.base_url,
            http=self._http,
            clock=self._runtime.clock,
            tokens=self._tokens,
            budget=self._budget(key),
            credentials=secrets,
            options=dict(market.options),
            timeout=market.timeout_seconds,
            policy=RetryPolicy(
                attempts=market.retry_attempts, max_seconds=market.retry_max_seconds
            ),
        )
        connector: MarketplaceConnector = connectors.load(key)(context)
        return connector

    def close(self) -> None:
        """Close the shared HTTP client."""
        self._http.close()


def pull_options(loaded: LoadedSettings) -> PullOptions:
    """How far order pulls reach, from the ``[sync]`` settings."""
    from core.services.orders import PullOptions

    sync = loaded.settings.sync
    return PullOptions(
        overlap=timedelta(minutes=sync.order_overlap_minutes),
        first_lookback=timedelta(hours=sync.first_pull_hours),
        batch_size=sync.order_batch,
        reread_limit=sync.reread_limit,
    )


def account_runner(
    loaded: LoadedSettings,
    runtime: Runtime,
    connections: Connections,
    stop: StopRequest | None = None,
) -> AccountJobRunner:
    """The account-job runner every entrance uses (command line, daemon, console):
    leases and fenced units of work on the store, connectors from ``connections``,
    pool size and lease length from the ``[sync]`` settings; ``stop`` stops its
    jobs."""
    from core.services.stopping import StopRequest
    from scheduler.leases import LeaseTerms
    from scheduler.runner import AccountJobRunner, RunnerOptions

    sync = loaded.settings.sync
    return AccountJobRunner(
        runtime.lease_store(),
        runtime.fenced_units,
        connections.connector,
        runtime.clock,
        RunnerOptions(
            workers=sync.workers,
            lease=LeaseTerms(duration=timedelta(seconds=sync.lease_seconds)),
            stop=stop or StopRequest(),
        ),
    )
