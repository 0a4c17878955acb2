"""Settings and logging setup for ikm-sync; imports no other project package.

Names are imported from their modules on first use: the settings models cost
pydantic-settings and SQLAlchemy to load, which a command that never reads settings
(``--help``) need not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_LOGGING_NAMES = frozenset({"SecretRedactor", "configure_logging"})


def __getattr__(name: str) -> Any:
    """Import ``name`` from its module the first time it is asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "config.logging" if name in _LOGGING_NAMES else "config.settings"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
