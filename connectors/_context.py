"""What every connector is built from; the wiring (``ikm_sync.bootstrap``) fills it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors._http import RateBudget, RetryPolicy
from core.domain.accounts import ChannelAccount
from core.domain.remote import Secret
from core.errors import ConfigError, Where
from core.ports import Clock, TokenStore


@dataclass(frozen=True)
class ConnectorContext:
    """One account's connection to its marketplace.

    ``options`` are the marketplace's settings options, validated by the connector's
    own ``Settings`` model; ``credentials`` the account's credential set (secrets);
    ``http`` an injected client (a ``MockTransport`` on a simulator in tests) that the
    connector never closes; ``budget`` is shared by every account of the marketplace.
    """

    account: ChannelAccount
    base_url: str
    http: httpx.Client
    clock: Clock
    tokens: TokenStore
    budget: RateBudget
    credentials: Mapping[str, Secret] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def where(self, operation: str = "") -> Where:
        """Error and log context for one operation of this account."""
        where: Where = {"marketplace": self.account.marketplace.value}
        where["account"] = self.account.id
        if operation:
            where["operation"] = operation
        return where

    def secret(self, name: str) -> str:
        """A credential's value, for signing or authenticating; never log it."""
        found = self.credentials.get(name)
        if found is None:
            raise missing_credential(self.account, name)
        return found.reveal()


def missing_credential(account: ChannelAccount, name: str) -> ConfigError:
    """The error for a credential the account's set lacks, saying where it goes."""
    where = (
        'the account names no credential set (`credentials = "SET"` in its '
        "[[accounts]] entry)"
        if not account.credentials_ref
        else f"expected IKMSYNC_CREDENTIALS__{account.credentials_ref.upper()}__"
        f"{name.upper()} in the environment or a file credentials__"
        f"{account.credentials_ref}__{name} in the secrets directory"
    )
    return ConfigError(
        f"account {account.id!r}: credential {name!r} is not configured; {where}"
    )
