"""Packaging: entry points match connector packages; top-level packages live here."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from pydantic import BaseModel

import connectors
import simulators
from core.domain.marketplaces import MarketplaceDescriptor, RateDefault
from core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "ikm_sync",
    "scheduler",
    "connectors",
    "simulators",
    "core",
    "config",
    "web",
)


def _marketplace_folders(room: str, module: str) -> set[str]:
    """Marketplace folders of ``room`` (not plumbing, not the kit) with ``module``."""
    return {
        p.name
        for p in (REPO / room).iterdir()
        if p.is_dir()
        and not p.name.startswith("_")
        and p.name != "kit"
        and (p / f"{module}.py").exists()
    }


@pytest.mark.parametrize(
    ("group", "room", "module", "listed"),
    [
        ("ikm_sync.connectors", "connectors", "connector", connectors.available),
        (
            "ikm_sync.simulators",
            "simulators",
            "simulator",
            simulators.available_simulators,
        ),
        ("ikm_sync.testkits", "simulators", "testkit", simulators.available_testkits),
    ],
)
def test_declared_entry_points_equal_marketplace_folders(
    group: str, room: str, module: str, listed: Callable[[], list[str]]
) -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "entry-points"
    ][group]
    folders = _marketplace_folders(room, module)
    assert set(declared) == folders
    assert {ep.name for ep in entry_points(group=group)} == folders
    assert listed() == sorted(folders)


def test_an_unknown_connector_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown marketplace 'lazada'"):
        connectors.load("lazada")
    with pytest.raises(ConfigError, match="unknown simulator 'lazada'"):
        simulators.load_simulator("lazada")
    with pytest.raises(ConfigError, match="unknown test kit 'lazada'"):
        simulators.load_testkit("lazada")


def test_each_descriptor_names_its_own_connector_and_a_documented_rate() -> None:
    for descriptor in connectors.descriptors():
        assert descriptor.connector.key == descriptor.key
        assert connectors.load(descriptor.key) is descriptor.connector
        assert descriptor.rate.per_second > 0
        assert descriptor.display_name
        assert simulators.load_simulator(descriptor.key).key == descriptor.key
        assert simulators.load_testkit(descriptor.key).key == descriptor.key


def test_a_descriptor_that_contradicts_itself_is_refused_with_the_reason() -> None:
    shopee = connectors.descriptor("shopee")
    with pytest.raises(ValueError, match="its connector's key is 'shopee'"):
        MarketplaceDescriptor(
            "lazada", "Lazada", shopee.connector, BaseModel, shopee.rate
        )
    with pytest.raises(ValueError, match="expected lower-case letters"):
        MarketplaceDescriptor(
            "Shopee!", "Shopee", shopee.connector, BaseModel, shopee.rate
        )
    with pytest.raises(ValueError, match="at most 16"):
        MarketplaceDescriptor(
            "a_very_long_marketplace", "Long", shopee.connector, BaseModel, shopee.rate
        )
    with pytest.raises(ValueError, match="per_second > 0"):
        RateDefault(0, 1)


@pytest.mark.parametrize("name", PACKAGES)
def test_top_level_packages_resolve_inside_the_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(REPO)


def test_wheel_lists_exactly_the_top_level_packages() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert (
        tuple(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
        == PACKAGES
    )


def _contract(name: str) -> dict[str, object]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = project["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"] == name)


def _marketplace_packages(room: str) -> list[str]:
    """The packages of the installed marketplaces shipped in ``room``."""
    return sorted(
        f"{room}.{key}"
        for key in connectors.available()
        if (REPO / room / key / "__init__.py").exists()
    )


def test_the_import_contracts_list_every_installed_marketplace() -> None:
    """The marketplaces the import contracts keep apart are the registry's."""
    shipped = _marketplace_packages("connectors")
    assert shipped == [f"connectors.{key}" for key in connectors.available()]
    independent = _contract("marketplace packages are independent of each other")
    assert sorted(independent["modules"]) == shipped  # type: ignore[call-overload]
    through_registry = _contract(
        "the front door and the scheduler reach connectors only through the registry"
    )
    assert sorted(through_registry["forbidden_modules"]) == shipped  # type: ignore[call-overload]
    simulators_apart = _contract("simulators of different marketplaces are independent")
    assert sorted(simulators_apart["modules"]) == _marketplace_packages("simulators")  # type: ignore[call-overload]


def test_a_plugin_that_cannot_be_loaded_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import EntryPoint

    import connectors.registry as market_registry
    import simulators.registry as sim_registry

    broken = {
        "broken": EntryPoint("broken", "no_such_plugin_module:DESCRIPTOR", "x"),
        "wrong": EntryPoint("wrong", "core.domain.marketplaces:RateDefault", "x"),
    }
    monkeypatch.setattr(market_registry, "_entry_points", lambda group="": broken)
    monkeypatch.setattr(sim_registry, "_entry_points", lambda group="": broken)
    market_registry.descriptor.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"'broken'.*no_such_plugin_module"):
            connectors.descriptor("broken")
        with pytest.raises(ConfigError, match="is not a marketplace descriptor"):
            connectors.descriptor("wrong")
        with pytest.raises(ConfigError, match=r"simulator 'broken'.*cannot be loaded"):
            simulators.load_simulator("broken")
        with pytest.raises(ConfigError, match=r"test kit 'broken'.*cannot be loaded"):
            simulators.load_testkit("broken")
    finally:
        market_registry.descriptor.cache_clear()
