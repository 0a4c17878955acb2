"""Packaging: entry points match connector packages; top-level packages live here."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import connectors
import simulators
from core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ikm_sync", "scheduler", "connectors", "simulators", "core", "config")


def _marketplace_folders(room: str, module: str) -> set[str]:
    """Marketplace folders of ``room`` (not plumbing, not the kit) with ``module``."""
    return {
        p.name
        for p in (REPO / room).iterdir()
        if p.is_dir() and not p.name.startswith("_") and (p / f"{module}.py").exists()
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
