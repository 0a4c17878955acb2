"""Typed, layered settings for ikm-sync.

Layers, lowest precedence first; each is a nested mapping, deep-merged into the next:

1. ``config/defaults.toml`` (checked in, non-secret defaults);
2. the operator's settings file (``ikm-sync.toml`` in the working directory, or the
   path given by ``--config`` / ``IKMSYNC_CONFIG_FILE``);
3. the secrets directory (``secrets_dir``): one file per secret key, named like the
   environment variable without its prefix (``credentials__shopee_main__partner_key``);
4. ``IKMSYNC_DATABASE_URL``, a shorthand for the database URL;
5. ``IKMSYNC_*`` environment variables, nested with ``__`` (``IKMSYNC_DATABASE__URL``);
6. explicit overrides (tests, command-line flags).

Every model forbids unknown keys, so a typo fails loudly. Secret values
(``database.password``, ``token_keys`` and every ``credentials`` entry) are refused in
settings files: they come only from the environment or from secret files; so is any
key named like a secret (``partner_key``, ``client_secret``, ``*_token`` …) anywhere in
a settings file or in a marketplace's ``options``. Each error names the key, where the
value came from and what was expected.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.fernet import Fernet
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.logging import MASK

ENV_PREFIX = "IKMSYNC_"
NESTED_DELIMITER = "__"
CONFIG_FILE_ENV = "IKMSYNC_CONFIG_FILE"
#: Test-only: seconds this process's clock is moved by (playing a machine whose clock
#: is off), e.g. ``600``; read by the command line's wiring, not a setting.
CLOCK_OFFSET_ENV = "IKMSYNC_TEST_CLOCK_OFFSET_SECONDS"
DATABASE_URL_SHORTHAND_ENV = "IKMSYNC_DATABASE_URL"
DEFAULT_CONFIG_FILE = Path("ikm-sync.toml")
DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")

#: The entry-point group each marketplace plugin registers its descriptor in.
MARKETPLACE_GROUP = "ikm_sync.connectors"


@lru_cache(maxsize=1)
def installed_marketplaces() -> tuple[str, ...]:
    """Keys of the installed marketplace plugins (their entry points), sorted; read
    once per process."""
    return tuple(sorted({ep.name for ep in entry_points(group=MARKETPLACE_GROUP)}))


def _installed_marketplace(key: str) -> str:
    known = installed_marketplaces()
    if key not in known:
        raise ValueError(
            f"unknown marketplace {key!r}; expected one of: "
            f"{', '.join(known) or 'none installed'}"
        )
    return key


#: A marketplace key that an installed plugin answers to.
Marketplace = Annotated[str, AfterValidator(_installed_marketplace)]
Environment = Literal["development", "test", "production"]

_PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "secret",
        "password",
        "xxx",
        "todo",
        "replace-me",
    }
)
_SLUG = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
#: Who acts (the ``actor`` setting): as core.domain.triggers.check_actor judges it.
_ACTOR = re.compile(r"[^\s\x00-\x1f\x7f]{1,120}")
#: Bytes of an Ed25519 private key (``audit_key``).
_ED25519_KEY_BYTES = 32
#: A key named like this holds a secret, wherever it is and however it is written
#: (``partner_key``, ``partnerKey``, ``client-secret``, ``clientsecret``,
#: ``access token``, ``api_key``, ``password`` …): the name, camelCase split into
#: words, ends with one of these words ...
_SECRET_NAME = re.compile(
    r"(?:^|[^a-z0-9])(?:secret|password|passwd|passphrase|token|key|keys|apikey|sign|"
    r"signature|authorization)$"
)
#: ... or with one of these, written as one word.
_SECRET_SUFFIX = re.compile(
    r"(?:secret|password|passwd|passphrase|token|apikey|signature|authorization|"
    r"(?:partner|client|app|access|secret|private|shop|sign)keys?)$"
)
#: Where settings keys are SKUs, not setting names (an account's allocation).
_SKU_KEYED = ("allocation", "overrides")


def _snake(name: str) -> str:
    """``name`` in lower case, its words (camelCase too) joined by ``_``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip()).lower()
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_")


def is_secret_name(name: str) -> bool:
    """True when a settings key called ``name`` looks like it holds a secret."""
    words = _snake(name)
    return bool(_SECRET_NAME.search(words) or _SECRET_SUFFIX.search(words))


def _secret_names(
    values: Any, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Paths of the keys under ``values`` named like secrets."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            path = (*prefix, str(key))
            if prefix[-2:] == _SKU_KEYED:  # keyed by SKU, not by setting
                yield from _secret_names(value, path)
            elif is_secret_name(str(key)):
                yield path
            else:
                yield from _secret_names(value, path)
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _secret_names(value, (*prefix, index))


class ConfigurationError(Exception):
    """Settings could not be loaded; ``problems`` lists one line per bad key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems)
        )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where the canonical store lives."""

    url: str = "sqlite:///var/ikm-sync.db"
    password: SecretStr | None = None
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                "expected a database URL such as sqlite:///var/ikm-sync.db or "
                "postgresql+psycopg://user@host:5432/name"
            ) from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(
                "expected a sqlite or postgresql URL, "
                f"got backend {url.get_backend_name()!r}"
            )
        return value


class LoggingSettings(_Section):
    """How log lines are written (always to standard error)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "console", "json"] = "auto"


class SyncSettings(_Section):
    """How sync runs go: the account pool and the reach of order pulls."""

    #: Accounts worked on at once (each within its own rate budget).
    workers: int = Field(default=8, ge=1, le=256)
    #: Each order pull reads this far before the account's bookmark.
    order_overlap_minutes: int = Field(default=10, ge=0, le=24 * 60)
    #: An account's first order pull starts this many hours before now.
    first_pull_hours: int = Field(default=72, ge=1, le=24 * 90)
    #: Orders stored per transaction.
    order_batch: int = Field(default=500, ge=1, le=10_000)
    #: Open orders re-read one by one per pull where the marketplace lists orders by
    #: creation time only.
    reread_limit: int = Field(default=1000, ge=0, le=100_000)
    #: How long an account's lease lasts without renewal (a running job renews it
    #: every third of this); a holder stopped longer than this loses the account,
    #: and its writes are refused from then on.
    lease_seconds: int = Field(default=900, ge=1, le=24 * 3600)


class SchedulerSettings(_Section):
    """How ``ikm-sync run`` schedules account work (see README, "Running on a
    schedule")."""

    #: An account's cycle interval unless its marketplace or the account sets one.
    cycle_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    #: Each next due time moves by up to this share of the interval either way, so
    #: thousands of shops do not fire together.
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    #: How often a daemon looks for due accounts.
    tick_seconds: float = Field(default=5.0, gt=0, le=3600)
    #: A failing account waits backoff_base_seconds x 2^(failures - 1), at most
    #: backoff_max_seconds, before its next cycle.
    backoff_base_seconds: int = Field(default=60, ge=1, le=24 * 3600)
    backoff_max_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    #: On SIGTERM/SIGINT: how long the cycles in hand may take to finish before
    #: they are asked to stop at their next safe point.
    stop_deadline_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: How often a daemon closes runs left ``running`` by a dead process.
    sweep_seconds: float = Field(default=60.0, gt=0, le=24 * 3600)
    #: Reconcile report interval per account (0: none); repair only when set.
    reconcile_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    reconcile_repair: bool = False
    #: How often, and how far ahead of expiry, access tokens are refreshed.
    token_check_seconds: float = Field(default=600.0, gt=0, le=24 * 3600)
    token_margin_seconds: int = Field(default=1800, ge=0, le=7 * 24 * 3600)
    #: A shop whose authorisation of the app ends within this many days is warned
    #: about (``authorisation.expires_soon``, ``status``, the metrics).
    authorisation_warning_days: int = Field(default=14, ge=1, le=365)
    #: The operations port of `ikm-sync run` (/healthz, /readyz, /metrics); 0: none.
    ops_port: int = Field(default=0, ge=0, le=65535)
    ops_host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _backoff_order(self) -> SchedulerSettings:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError(
                "backoff_max_seconds is below backoff_base_seconds; expected "
                "backoff_max_seconds >= backoff_base_seconds"
            )
        return self


class AuditSettings(_Section):
    """How the audit chain is kept: sealing and checkpoints (README, "The audit
    trail")."""

    #: How often ``ikm-sync run`` seals the events written since (every command
    #: that wrote seals at its end as well).
    seal_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    #: Where ``ikm-sync run`` writes a signed checkpoint every
    #: ``checkpoint_hours`` (needs ``audit_key``); unset: none.
    checkpoint_dir: Path | None = None
    checkpoint_hours: float = Field(default=24.0, gt=0, le=24 * 366)


class MarketplaceSettings(_Section):
    """One marketplace's endpoint and non-secret options."""

    enabled: bool = True
    #: This marketplace's accounts' cycle interval (default: [scheduler]).
    cycle_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    base_url: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    #: Requests a second and burst per budget key (the marketplace's metering unit);
    #: unset: the connector's documented default.
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000)
    rate_burst: int | None = Field(default=None, ge=1, le=100_000)
    retry_attempts: int = Field(default=5, ge=1, le=20)
    retry_max_seconds: float = Field(default=120.0, gt=0, le=3_600)
    #: Marketplace-specific options, validated by the connector's own Settings model.
    options: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _no_secrets(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        found = [_dotted(path) for path in _secret_names(value)]
        if found:
            raise ValueError(
                f"{', '.join(found)}: named like a secret; options hold no secrets, "
                "expected it in a credential set "
                f"({ENV_PREFIX}CREDENTIALS__<SET>__<NAME> or a file in the secrets "
                "directory) referenced by the account's credentials"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value


class AllocationOverrideSettings(_Section):
    """Per-SKU allocation values; unset fields inherit the account's policy."""

    share_percent: int | None = Field(default=None, ge=0, le=100)
    safety_buffer: int | None = Field(default=None, ge=0)
    cap: int | None = Field(default=None, ge=0)
    min_to_list: int | None = Field(default=None, ge=0)


class AllocationSettings(_Section):
    """How much of a SKU's available stock one account may sell."""

    share_percent: int = Field(default=100, ge=0, le=100)
    safety_buffer: int = Field(default=0, ge=0)
    cap: int | None = Field(default=None, ge=0)
    min_to_list: int = Field(default=0, ge=0)
    overrides: dict[str, AllocationOverrideSettings] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)


class AccountSettings(_Section):
    """One shop on one marketplace."""

    id: str = Field(pattern=_SLUG)
    marketplace: Marketplace
    shop_id: str = Field(min_length=1, max_length=64)
    producers: list[str] = Field(min_length=1)
    credentials: str | None = Field(default=None, pattern=_SLUG)
    enabled: bool = True
    #: This account's cycle interval (default: its marketplace's, then [scheduler]).
    cycle_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    allocation: AllocationSettings = Field(default_factory=AllocationSettings)
    #: The account whose shop this one serves from ``handover_at`` on (a Tokopedia
    #: shop bound to TikTok Shop): that account publishes no more and follows only
    #: the orders placed before; this one publishes and takes the orders after.
    takes_over: str | None = Field(default=None, pattern=_SLUG)
    handover_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _handover_complete(self) -> AccountSettings:
        if (self.takes_over is None) != (self.handover_at is None):
            raise ValueError(
                "takes_over and handover_at: give both (the account taken over and "
                "the moment, with its time zone, e.g. 2026-12-08T00:00:00+07:00) or "
                "neither"
            )
        if self.takes_over == self.id:
            raise ValueError(f"takes_over: {self.id!r} cannot take over itself")
        return self


class Settings(BaseSettings):
    """The whole effective configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    environment: Environment = "production"
    secrets_dir: Path | None = None
    #: Who acts when a command is given no ``--actor`` (``IKMSYNC_ACTOR``), e.g.
    #: ``officer:ani``; recorded on runs as ``manual:<actor>``.
    actor: str | None = None
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    marketplaces: dict[Marketplace, MarketplaceSettings] = Field(default_factory=dict)
    accounts: list[AccountSettings] = Field(default_factory=list)
    credentials: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)
    #: Keys that encrypt the marketplace tokens in the database: Fernet keys separated
    #: by commas, newest first (it encrypts; every key decrypts).
    token_keys: SecretStr | None = None
    audit: AuditSettings = Field(default_factory=AuditSettings)
    #: The Ed25519 private key that signs audit checkpoints (base64url, as
    #: ``ikm-sync audit key`` prints); from the secrets only, never the database.
    audit_key: SecretStr | None = None

    @field_validator("actor")
    @classmethod
    def _actor(cls, value: str | None) -> str | None:
        if value is not None and not _ACTOR.fullmatch(value):
            raise ValueError(
                "expected who acts, e.g. officer:ani (no spaces, 1 to 120 characters)"
            )
        return value

    @field_validator("token_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = _split_keys(value.get_secret_value())
        if not keys:
            raise ValueError(
                "empty; expected one or more Fernet keys separated by commas "
                "(`ikm-sync db token-key` prints a new one)"
            )
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ValueError(
                    f"key {position} is not a Fernet key; expected 32 URL-safe "
                    "base64-encoded bytes (44 characters, as `ikm-sync db token-key` "
                    "prints)"
                ) from None
        return value

    @field_validator("audit_key")
    @classmethod
    def _ed25519_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(value.get_secret_value().strip())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != _ED25519_KEY_BYTES:
            raise ValueError(
                "not an Ed25519 private key; expected 44 base64url characters "
                "(32 bytes), as `ikm-sync audit key` prints (the value is not shown)"
            )
        return value

    def token_key_list(self) -> list[str]:
        """The token keys, newest first (empty when none is configured)."""
        if self.token_keys is None:
            return []
        return _split_keys(self.token_keys.get_secret_value())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003  (pydantic-settings' hook)
        init_settings: Any,
        env_settings: Any,  # noqa: ARG003  (layers are read by load_settings)
        dotenv_settings: Any,  # noqa: ARG003  (no .env files)
        file_secret_settings: Any,  # noqa: ARG003  (secrets dir read by load_settings)
    ) -> tuple[Any, ...]:
        """Only explicit values: :func:`load_settings` assembles the layers."""
        return (init_settings,)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        problems: list[str] = []
        seen_ids: dict[str, int] = {}
        seen_shops: dict[tuple[str, str], int] = {}
        for index, account in enumerate(self.accounts):
            if account.id in seen_ids:
                problems.append(
                    f"accounts[{index}].id: {account.id!r} is already used by "
                    f"accounts[{seen_ids[account.id]}]; expected unique account ids"
                )
            seen_ids.setdefault(account.id, index)
            shop = (account.marketplace, account.shop_id)
            if shop in seen_shops:
                problems.append(
                    f"accounts[{index}].shop_id: {account.marketplace} shop "
                    f"{account.shop_id!r} is already accounts[{seen_shops[shop]}]"
                )
            seen_shops.setdefault(shop, index)
            if (
                account.credentials is not None
                and account.credentials not in self.credentials
            ):
                variable = (
                    f"{ENV_PREFIX}CREDENTIALS__{account.credentials.upper()}__<NAME>"
                )
                problems.append(
                    f"accounts[{index}].credentials: no credential set "
                    f"{account.credentials!r} is configured; expected {variable} "
                    f"in the environment or a file in the secrets directory"
                )
        problems.extend(self._handover_problems())
        if self.environment != "development":
            for path, secret in self.secret_values():
                if secret.strip().lower() in _PLACEHOLDER_SECRETS or re.fullmatch(
                    r"<.*>", secret.strip()
                ):
                    problems.append(
                        f"{path}: holds a placeholder secret; expected the real value "
                        "(placeholders are accepted only when "
                        "environment = 'development')"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _handover_problems(self) -> list[str]:
        """An account taken over must be configured, and taken over once only; an
        account taking over is not itself taken over."""
        problems: list[str] = []
        ids = {a.id for a in self.accounts}
        takers: dict[str, int] = {}
        for index, account in enumerate(self.accounts):
            taken = account.takes_over
            if taken is None:
                continue
            if taken not in ids:
                problems.append(
                    f"accounts[{index}].takes_over: no account {taken!r} is "
                    "configured; expected the id of the account whose shop this one "
                    "serves now"
                )
            elif taken in takers:
                problems.append(
                    f"accounts[{index}].takes_over: {taken!r} is already taken over "
                    f"by accounts[{takers[taken]}]"
                )
            takers.setdefault(taken, index)
        for index, account in enumerate(self.accounts):
            if account.takes_over is not None and account.id in takers:
                problems.append(
                    f"accounts[{index}].takes_over: {account.id!r} is itself taken "
                    f"over by accounts[{takers[account.id]}]; expected one handover "
                    "per shop"
                )
        return problems

    def secret_values(self) -> Iterator[tuple[str, str]]:
        """Yield ``(key, value)`` for every secret, for redaction and validation."""
        if self.database.password is not None:
            yield "database.password", self.database.password.get_secret_value()
        password = make_url(self.database.url).password
        if password:
            yield "database.url", str(password)
        for set_name, entries in sorted(self.credentials.items()):
            for name, value in sorted(entries.items()):
                yield f"credentials.{set_name}.{name}", value.get_secret_value()
        for position, key in enumerate(self.token_key_list(), start=1):
            yield f"token_keys[{position}]", key
        if self.audit_key is not None:
            yield "audit_key", self.audit_key.get_secret_value().strip()

    def database_url(self) -> str:
        """The database URL with ``database.password`` filled in (engine only)."""
        url = make_url(self.database.url)
        if self.database.password is not None and url.get_backend_name() != "sqlite":
            url = url.set(password=self.database.password.get_secret_value())
        return url.render_as_string(hide_password=False)

    def database_url_for_display(self) -> str:
        """The database URL with any password masked."""
        return make_url(self.database.url).render_as_string(hide_password=True)


def _split_keys(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]


# --------------------------------------------------------------------------- layers

#: Keys whose values are secrets: refused in settings files, masked on display.
_SECRET_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("database", "password"),
    ("credentials",),
    ("token_keys",),
    ("audit_key",),
)


def is_secret_key(path: tuple[str | int, ...]) -> bool:
    """True when the settings key at ``path`` holds a secret."""
    return any(tuple(path[: len(prefix)]) == prefix for prefix in _SECRET_PREFIXES)


@dataclass(frozen=True)
class Layer:
    """One source of settings values and how to name it in an error."""

    label: str
    values: Mapping[str, Any]
    env_prefix: str | None = None

    def describe(self, path: tuple[str | int, ...]) -> str:
        if self.env_prefix is None:
            return self.label
        top = [str(part) for part in path if isinstance(part, str)]
        # Lists arrive as one JSON variable; nested mappings as one variable per leaf.
        name = NESTED_DELIMITER.join(top[: _env_depth(self.values, path)]).upper()
        return f"environment variable {self.env_prefix}{name}"


def _env_depth(values: Mapping[str, Any], path: tuple[str | int, ...]) -> int:
    depth = 0
    node: Any = values
    for part in path:
        if (
            not isinstance(part, str)
            or not isinstance(node, Mapping)
            or part not in node
        ):
            break
        node = node[part]
        depth += 1
        if not isinstance(node, Mapping):
            break
    return max(depth, 1)


@dataclass(frozen=True)
class LoadedSettings:
    """Validated settings plus the layers they were built from."""

    settings: Settings
    layers: tuple[Layer, ...] = field(default_factory=tuple)
    config_file: Path | None = None

    def origin(self, path: tuple[str | int, ...]) -> str:
        """Where the value at ``path`` came from (the highest layer that sets it)."""
        for layer in reversed(self.layers):
            if _lookup(layer.values, path) is not _MISSING:
                return layer.describe(path)
        return "built-in default"


_MISSING = object()


def _lookup(values: Any, path: tuple[str | int, ...]) -> Any:
    node = values
    for part in path:
        in_mapping = (
            isinstance(node, Mapping) and isinstance(part, str) and part in node
        )
        in_list = (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if in_mapping or in_list:
            node = node[part]
        else:
            return _MISSING
    return node


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: mappings merge by key, the rest replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigurationError([f"{path}: settings file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError([f"{path}: not valid TOML: {exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            [f"{path}: expected UTF-8 text, found byte 0x{exc.object[exc.start]:02X}"]
        ) from exc
    except OSError as exc:
        raise ConfigurationError([f"{path}: cannot be read: {exc.strerror}"]) from exc


def _refuse_secrets_in_file(path: Path, values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key_path, _value in _leaves(values):
        if is_secret_key(key_path):
            dotted = _dotted(key_path)
            variable = (
                ENV_PREFIX + NESTED_DELIMITER.join(str(p) for p in key_path).upper()
            )
            problems.append(
                f"{path}: {dotted}: secrets are not read from settings files; expected "
                f"{variable} in the environment or a file in the secrets directory"
            )
    for key_path in _secret_names(values):
        if is_secret_key(key_path):
            continue  # refused above, with its own variable
        name = _snake(str(key_path[-1])).upper()
        problems.append(
            f"{path}: {_dotted(key_path)}: named like a secret, and secrets are not "
            "read from settings files; expected it in a credential set: "
            f"{ENV_PREFIX}CREDENTIALS__<SET>__{name} in the environment or a file "
            f"credentials__<set>__{name.lower()} in the secrets directory"
        )
    url = _lookup(values, ("database", "url"))
    if isinstance(url, str):
        try:
            has_password = bool(make_url(url).password)
        except ArgumentError:
            has_password = False
        if has_password:
            problems.append(
                f"{path}: database.url: contains a password; expected the URL "
                f"without it and the password in {ENV_PREFIX}DATABASE__PASSWORD "
                "or a secret file"
            )
    return problems


def _leaves(
    values: Any, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(values, Mapping) and values:
        for key, value in values.items():
            yield from _leaves(value, (*prefix, str(key)))
    elif isinstance(values, list) and values:
        for index, value in enumerate(values):
            yield from _leaves(value, (*prefix, index))
    else:
        yield prefix, values


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _read_secrets_dir(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        raise ConfigurationError(
            [
                f"secrets_dir: {directory} is not a directory; "
                "expected a folder of secret files"
            ]
        )
    values: dict[str, Any] = {}
    for entry in sorted(directory.iterdir()):
        if not entry.is_file() or entry.name.startswith("."):
            continue
        parts = [p for p in entry.name.lower().split(NESTED_DELIMITER) if p]
        if not parts or not is_secret_key(tuple(parts)):
            raise ConfigurationError(
                [
                    f"{entry}: not a secret key; expected a name like "
                    f"credentials__<set>__<name> or database__password"
                ]
            )
        node = values
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        try:
            node[parts[-1]] = entry.read_text(encoding="utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise ConfigurationError(
                [f"{entry}: expected a UTF-8 text file holding one secret"]
            ) from exc
    return values


def _read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    source = EnvSettingsSource(
        Settings,
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        case_sensitive=False,
    )
    # EnvSettingsSource reads os.environ at construction; hand it our mapping instead.
    source.env_vars = {key.lower(): value for key, value in environ.items()}
    try:
        return dict(source())
    except SettingsError:  # its message names a field only; the value stays unshown
        raise ConfigurationError(_unparsable_environment(environ)) from None


#: Settings given as one JSON value when set by a single variable.
_STRUCTURED = frozenset(
    {
        "database",
        "logging",
        "sync",
        "audit",
        "marketplaces",
        "accounts",
        "credentials",
    }
)


def _unparsable_environment(environ: Mapping[str, str]) -> list[str]:
    """One problem per ``IKMSYNC_*`` variable meant as JSON that is not JSON (its
    value, perhaps a secret, is never shown)."""
    problems = []
    for name, value in sorted(environ.items()):
        key = name.upper()
        if not key.startswith(ENV_PREFIX) or key in {
            DATABASE_URL_SHORTHAND_ENV,
            CONFIG_FILE_ENV,
            CLOCK_OFFSET_ENV,
        }:
            continue
        path = key[len(ENV_PREFIX) :].lower()
        structured = path in _STRUCTURED or value.lstrip()[:1] in {"{", "["}
        if not structured:
            continue
        try:
            json.loads(value)
        except ValueError:
            problems.append(
                f"environment variable {name}: not valid JSON; expected a JSON object "
                "or list, or one variable per key (IKMSYNC_SECTION__KEY); the value "
                "is not shown"
            )
    return problems or [
        "environment variables: a value could not be read as JSON; expected JSON for "
        "sections given as one variable (the value is not shown)"
    ]


def _unknown_environment(environ: Mapping[str, str]) -> list[str]:
    known = set(Settings.model_fields) | {"config_file"}
    problems = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in {
            DATABASE_URL_SHORTHAND_ENV,
            CONFIG_FILE_ENV,
            CLOCK_OFFSET_ENV,
        }:
            continue
        top = name[len(ENV_PREFIX) :].lower().split(NESTED_DELIMITER, 1)[0]
        if top not in known:
            problems.append(
                f"environment variable {name}: unknown setting {top!r}; "
                "expected one of " + ", ".join(sorted(Settings.model_fields))
            )
    return problems


def _explain(error: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; check its spelling against config/example.env"
    if kind == "missing":
        return "required but not set"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    value = error.get("input")
    if is_secret_key(path):  # never echo what was given for a secret
        return message
    if isinstance(value, str | int | float | bool) and kind not in {"value_error"}:
        return f"{message} (got {value!r})"
    return message


def _format_validation(exc: ValidationError, layers: tuple[Layer, ...]) -> list[str]:
    loaded = LoadedSettings(
        settings=Settings.model_construct(), layers=layers, config_file=None
    )
    problems = []
    for error in exc.errors():
        path = tuple(error["loc"])
        if not path:
            problems.extend(
                str(error["msg"]).removeprefix("Value error, ").splitlines()
            )
            continue
        origin = loaded.origin(path)
        problems.append(f"{_dotted(path)} (from {origin}): {_explain(error, path)}")
    return problems


def _given_secrets(values: Mapping[str, Any]) -> list[str]:
    """The secret values given in ``values`` (not yet validated), longest first."""
    found: set[str] = set()
    for path, value in _leaves(values):
        if is_secret_key(path) and isinstance(value, str):
            found.add(value.strip())
            if path == ("token_keys",):
                found.update(_split_keys(value))
    url = _lookup(values, ("database", "url"))
    if isinstance(url, str):
        with contextlib.suppress(ArgumentError):  # the URL's own error says why
            found.add(str(make_url(url).password or ""))
    return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)


def _mask_secrets(problems: list[str], values: Mapping[str, Any]) -> list[str]:
    """``problems`` with every secret given in ``values`` masked: a secret pasted
    into another setting as well is not echoed by that setting's error."""
    secrets = _given_secrets(values)
    masked = []
    for problem in problems:
        for secret in secrets:
            problem = problem.replace(secret, MASK)
        masked.append(problem)
    return masked


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Read every layer, validate, and return the settings with their origins.

    ``config_file`` wins over ``IKMSYNC_CONFIG_FILE``; without either, ``ikm-sync.toml``
    in the working directory is read when it exists. A named file that is missing is an
    error. Raises :class:`ConfigurationError` listing every problem found.
    """
    environ = dict(os.environ if environ is None else environ)
    problems = _unknown_environment(environ)
    layers: list[Layer] = [Layer("built-in default", _read_toml(DEFAULTS_FILE))]

    named = config_file or (
        Path(environ[CONFIG_FILE_ENV]) if environ.get(CONFIG_FILE_ENV) else None
    )
    path = named or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    if path is not None:
        file_values = _read_toml(path)
        problems.extend(_refuse_secrets_in_file(path, file_values))
        layers.append(Layer(str(path), file_values))

    shorthand = environ.get(DATABASE_URL_SHORTHAND_ENV)
    if shorthand:
        layers.append(
            Layer(
                f"environment variable {DATABASE_URL_SHORTHAND_ENV}",
                {"database": {"url": shorthand}},
            )
        )
    try:
        env_values = _read_environment(environ)
    except ConfigurationError as exc:
        raise ConfigurationError([*problems, *exc.problems]) from None
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer.values)
    merged = deep_merge(merged, env_values)
    if overrides:
        merged = deep_merge(merged, overrides)

    secrets_dir = merged.get("secrets_dir")
    if secrets_dir:
        directory = Path(str(secrets_dir))
        if not directory.is_absolute() and path is not None:
            directory = path.parent / directory
        layers.append(
            Layer(f"secrets directory {directory}", _read_secrets_dir(directory))
        )
        merged = deep_merge(merged, layers[-1].values)
        merged = deep_merge(merged, env_values)
        if overrides:
            merged = deep_merge(merged, overrides)
        merged["secrets_dir"] = str(directory)

    layers.append(Layer("environment", env_values, env_prefix=ENV_PREFIX))
    if overrides:
        layers.append(Layer("command-line option", overrides))
    if problems:
        raise ConfigurationError(problems)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        problems = _format_validation(exc, tuple(layers))
        raise ConfigurationError(_mask_secrets(problems, merged)) from None
    return LoadedSettings(settings=settings, layers=tuple(layers), config_file=path)


@lru_cache(maxsize=8)
def get_settings(config_file: Path | None = None) -> LoadedSettings:
    """The process-wide settings, read once per settings file (entrypoints only)."""
    return load_settings(config_file)
