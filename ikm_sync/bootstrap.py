"""The only wiring: settings → logging → engine → unit of work → services' ports.

Nothing here runs at import. The CLI (and later the scheduler) call these factories once
per process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from config import AccountSettings, LoadedSettings, SecretRedactor, configure_logging
from config.settings import AllocationOverrideSettings, AllocationSettings
from core.clock import SystemClock
from core.domain.accounts import (
    AllocationPolicy,
    AllocationRule,
    ChannelAccount,
    Marketplace,
)
from core.domain.ids import AccountId, ProducerCode, sku_key
from core.errors import StoreError
from core.ports import Clock
from core.store.db import (
    ensure_current,
    make_engine,
    make_session_factory,
    missing_sqlite_file,
)
from core.store.uow import SqlUnitOfWork


def init_early_logging(level: str | None, fmt: str | None) -> None:
    """Logging to standard error before settings are read (their errors log too)."""
    configure_logging(
        level=level or "INFO",
        fmt=fmt if fmt in {"console", "json"} else "auto",  # type: ignore[arg-type]
    )


def init_logging(
    loaded: LoadedSettings, *, level: str | None = None, fmt: str | None = None
) -> SecretRedactor:
    """Configure logging from settings (command-line flags win) with secret masking."""
    settings = loaded.settings
    chosen_format = fmt or settings.logging.format
    if chosen_format not in {"auto", "console", "json"}:
        chosen_format = "auto"
    return configure_logging(
        level=level or settings.logging.level,
        fmt=chosen_format,  # type: ignore[arg-type]
        secret_values=[value for _key, value in settings.secret_values()],
    )


@dataclass
class Runtime:
    """What a command needs to work on the store."""

    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work (enter it with ``with``)."""
        return SqlUnitOfWork(self.session_factory)

    def uow_factory(self) -> Callable[[], SqlUnitOfWork]:
        """A factory of units of work, for services that open several."""
        return self.uow

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def build_runtime(loaded: LoadedSettings, *, check_schema: bool = True) -> Runtime:
    """Engine and sessions for the configured database; checks the schema is current."""
    settings = loaded.settings
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
    return Runtime(engine=engine, session_factory=make_session_factory(engine))


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
