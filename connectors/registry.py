"""Finding marketplaces through the ``ikm_sync.connectors`` entry-point group.

Each entry point names a marketplace package's
:class:`~core.domain.marketplaces.MarketplaceDescriptor` (key, display name, connector
class, settings model, default rate, capabilities). A connector is reached only
through this registry, never by importing its package, so a missing installation
fails loudly and adding a marketplace is one package plus its entry-point lines.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from core.domain.marketplaces import MarketplaceDescriptor
from core.errors import ConfigError

GROUP = "ikm_sync.connectors"


@cache
def _entry_points(group: str = GROUP) -> dict[str, EntryPoint]:
    """The group's entry points, read once per process: reading them scans every
    installed distribution's metadata, and a connector is built per account job."""
    return {ep.name: ep for ep in entry_points(group=group)}


def available() -> list[str]:
    """Keys of every installed marketplace, sorted."""
    return sorted(_entry_points())


@cache
def descriptor(key: str) -> MarketplaceDescriptor:
    """The descriptor registered under ``key``.

    Raises:
        ConfigError: no marketplace has that key, or the registered object is not a
            descriptor whose ``key`` equals its entry-point name.
    """
    found = _entry_points().get(key)
    if found is None:
        known = ", ".join(available()) or "none installed"
        raise ConfigError(f"unknown marketplace {key!r}; expected one of: {known}")
    try:
        loaded = found.load()
    except Exception as exc:
        raise ConfigError(
            f"marketplace {key!r}: its entry point ({found.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(loaded, MarketplaceDescriptor) or loaded.key != key:
        raise ConfigError(
            f"entry point {key!r} ({found.value}) is not a marketplace descriptor "
            f"with key {key!r}"
        )
    return loaded


def descriptors() -> list[MarketplaceDescriptor]:
    """Every installed marketplace's descriptor, by key."""
    return [descriptor(key) for key in available()]


def load(key: str) -> type:
    """The connector class of the marketplace ``key``.

    Raises:
        ConfigError: as :func:`descriptor`.
    """
    return descriptor(key).connector
