"""Settings and logging setup for ikm-sync; imports no other project package."""

from __future__ import annotations

from config.logging import SecretRedactor, configure_logging
from config.settings import (
    AccountSettings,
    AllocationOverrideSettings,
    AllocationSettings,
    ConfigurationError,
    LoadedSettings,
    MarketplaceSettings,
    Settings,
    SyncSettings,
    get_settings,
    is_secret_key,
    load_settings,
)

__all__ = [
    "AccountSettings",
    "AllocationOverrideSettings",
    "AllocationSettings",
    "ConfigurationError",
    "LoadedSettings",
    "MarketplaceSettings",
    "SecretRedactor",
    "Settings",
    "SyncSettings",
    "configure_logging",
    "get_settings",
    "is_secret_key",
    "load_settings",
]
