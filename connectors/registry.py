"""Finding connectors through the ``ikm_sync.connectors`` entry-point group.

A connector is reached only through :func:`load`, never by importing its package, so a
missing installation fails loudly and adding a marketplace is one package plus one line
in ``pyproject.toml``.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from core.errors import ConfigError

GROUP = "ikm_sync.connectors"


@cache
def _entry_points(group: str = GROUP) -> dict[str, EntryPoint]:
    """The group's entry points, read once per process: reading them scans every
    installed distribution's metadata, and a connector is built per account job."""
    return {ep.name: ep for ep in entry_points(group=group)}


def available() -> list[str]:
    """Keys of every installed connector, sorted."""
    return sorted(_entry_points())


def load(key: str) -> type:
    """The connector class registered under ``key``.

    Raises:
        ConfigError: no connector has that key, or the registered object is not a class
            whose ``key`` attribute equals its entry-point name.
    """
    found = _entry_points().get(key)
    if found is None:
        known = ", ".join(available()) or "none installed"
        raise ConfigError(f"unknown connector {key!r}; expected one of: {known}")
    loaded = found.load()
    if not isinstance(loaded, type) or getattr(loaded, "key", None) != key:
        raise ConfigError(
            f"entry point {key!r} ({found.value}) is not a connector class "
            f"with key {key!r}"
        )
    return loaded
