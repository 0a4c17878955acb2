"""Finding marketplace simulators through the ``ikm_sync.simulators`` entry-point group.

The simulators' own registry, apart from the connectors' one: neither room imports the
other, so a connector's misreading of a page can never be mirrored by its simulator.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from core.errors import ConfigError
from simulators.kit.base import Simulator
from simulators.kit.testkit import MarketplaceKit

SIMULATOR_GROUP = "ikm_sync.simulators"


def _load(found: EntryPoint, what: str) -> object:
    """The object an entry point names; a plugin that cannot be loaded is a
    configuration error naming it."""
    try:
        return found.load()
    except Exception as exc:
        raise ConfigError(
            f"{what} {found.name!r}: its entry point ({found.value}) cannot be "
            f"loaded: {type(exc).__name__}: {exc}"
        ) from exc


@cache
def _entry_points(group: str = SIMULATOR_GROUP) -> dict[str, EntryPoint]:
    """The group's entry points, read once per process."""
    return {ep.name: ep for ep in entry_points(group=group)}


def available_simulators() -> list[str]:
    """Keys of every installed marketplace simulator, sorted."""
    return sorted(_entry_points(SIMULATOR_GROUP))


def load_simulator(key: str) -> type[Simulator]:
    """The simulator class registered under ``key``.

    Raises:
        ConfigError: no simulator has that key, or the registered object is not a
            :class:`~simulators.kit.base.Simulator` subclass with that ``key``.
    """
    found = _entry_points(SIMULATOR_GROUP).get(key)
    if found is None:
        known = ", ".join(available_simulators()) or "none installed"
        raise ConfigError(f"unknown simulator {key!r}; expected one of: {known}")
    loaded = _load(found, "simulator")
    if not (isinstance(loaded, type) and issubclass(loaded, Simulator)) or (
        getattr(loaded, "key", None) != key
    ):
        raise ConfigError(
            f"entry point {key!r} ({found.value}) is not a {key} simulator"
        )
    return loaded


TESTKIT_GROUP = "ikm_sync.testkits"


def available_testkits() -> list[str]:
    """Keys of every installed marketplace test kit, sorted."""
    return sorted(_entry_points(TESTKIT_GROUP))


def load_testkit(key: str) -> MarketplaceKit:
    """The test kit registered under ``key``.

    Raises:
        ConfigError: no kit has that key, or the registered object is not a
            :class:`~simulators.kit.testkit.MarketplaceKit` with that ``key``.
    """
    found = _entry_points(TESTKIT_GROUP).get(key)
    if found is None:
        known = ", ".join(available_testkits()) or "none installed"
        raise ConfigError(f"unknown test kit {key!r}; expected one of: {known}")
    loaded = _load(found, "test kit")
    if not isinstance(loaded, MarketplaceKit) or loaded.key != key:
        raise ConfigError(f"entry point {key!r} ({found.value}) is not a {key} kit")
    return loaded
