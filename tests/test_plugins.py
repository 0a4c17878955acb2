"""A fourth and a fifth marketplace, found from their entry points alone.

``tests/plugins/markets`` is a folder as an installer leaves it: two plugin packages
and their distribution's ``entry_points.txt``. A child process with that folder on its
path has the two marketplaces everywhere marketplaces are listed: the registries, the
settings, the contract suite and a sync world built by the same code as every other
test's; nothing outside the folder names them. This process, without the folder,
knows nothing of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import connectors
import simulators
from config.settings import Settings
from core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
PLUGINS = REPO / "tests" / "plugins" / "markets"
ADDED = ("pasar", "warung")


def _with_plugins(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python *args`` in a child whose environment has the plugins installed."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PLUGINS), os.environ.get("PYTHONPATH")])
        ),
    }
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return _with_plugins("-c", textwrap.dedent(code))


def test_without_the_plugins_their_keys_are_refused_and_named_as_unknown() -> None:
    assert not set(ADDED) & set(connectors.available())
    assert not set(ADDED) & set(simulators.available_testkits())
    with pytest.raises(ConfigError, match="unknown marketplace 'pasar'; expected one"):
        connectors.descriptor("pasar")
    with pytest.raises(ValueError, match="unknown marketplace 'warung'"):
        Settings.model_validate({"marketplaces": {"warung": {}}})


def test_the_plugins_are_listed_everywhere_marketplaces_are() -> None:
    found = _python(
        """
        import connectors, simulators
        from config.settings import Settings
        from ikm_sync.bootstrap import default_rate
        from ikm_sync.commands.simulate import default_ports

        for key in ("pasar", "warung"):
            d = connectors.descriptor(key)
            print(key, d.display_name, d.connector.key, default_rate(key))
        print("connectors", *connectors.available())
        print("simulators", *simulators.available_simulators())
        print("kits", *simulators.available_testkits())
        print("ports", default_ports(simulators.available_simulators()))
        settings = Settings.model_validate(
            {
                "marketplaces": {"pasar": {"base_url": "https://api.pasar.example"}},
                "accounts": [
                    {
                        "id": "pasar-1",
                        "marketplace": "pasar",
                        "shop_id": "1",
                        "producers": ["IKM-NTT-001"],
                    }
                ],
            }
        )
        print("settings", settings.accounts[0].marketplace)
        """
    )
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "pasar Pasar (test plugin) pasar (8.0, 8)"
    assert lines[1] == "warung Warung (test plugin) warung (4.0, 4)"
    every = "bukalapak pasar shopee tiktok_shop tokopedia warung"
    assert lines[2:5] == [f"connectors {every}", f"simulators {every}", f"kits {every}"]
    # the shipped simulators keep their ports; the plugins take the next free ones
    assert lines[5] == (
        "ports {'bukalapak': 8703, 'pasar': 8710, 'shopee': 8701, "
        "'tiktok_shop': 8704, 'tokopedia': 8702, 'warung': 8711}"
    )
    assert lines[6] == "settings pasar"


@pytest.mark.slow
def test_the_plugins_pass_the_connector_contract_suite() -> None:
    ran = _with_plugins(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/contract",
        "-k",
        "pasar or warung",
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    summary = ran.stdout.strip().splitlines()[-1]
    # every contract test ran on both (24 each), and none failed or errored
    assert re.fullmatch(r"48 passed, \d+ deselected in .*", summary), summary


def test_the_plugins_sync_end_to_end_in_the_shared_world(database_url: str) -> None:
    """Published, ordered from, orders stored once and stock corrected, through the
    same runner, services and store as every marketplace."""
    ran = _python(
        f"""
        from core.domain.accounts import Marketplace
        from core.store.db import make_engine
        from tests.sync.world import World, default_accounts

        added = ("pasar", "warung")
        accounts = [a for a in default_accounts() if a.marketplace in added]
        assert [a.id for a in accounts] == ["pasar-shop", "warung-shop"], accounts
        world = World.build(make_engine({database_url!r}), accounts=accounts)
        first = world.cycle()
        assert first.ok, first
        assert world.converged()
        listed = {{m.value: len(world.shown(m)) for m in world.marketplaces}}
        placed = {{m.value: len(world.buy(m, 3)) for m in world.marketplaces}}
        world.advance(60)
        assert world.cycle().ok
        assert world.converged()
        stored = {{(a, o) for a, o, *_ in world.stored_orders()}}
        assert len(stored) == len(world.stored_orders())  # each order once
        seen = {{
            (f"{{m.value}}-shop", order)
            for m in world.marketplaces
            for order in world.markets.kits[m.value].seller_order_ids(world.sims[m])
        }}
        assert stored == seen, (stored, seen)
        print("listed", sorted(listed.items()))
        print("placed", sorted(placed.items()))
        print("accounts", sorted({{a for a, _ in stored}}))
        """
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    lines = dict(line.split(" ", 1) for line in ran.stdout.splitlines())
    assert lines["listed"] == "[('pasar', 12), ('warung', 12)]"
    assert lines["placed"] == "[('pasar', 3), ('warung', 3)]"
    assert lines["accounts"] == "['pasar-shop', 'warung-shop']"
