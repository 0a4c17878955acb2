"""The command line starts without the heavy libraries: each command imports its own.

Counted in modules, not seconds, so the check is the same on any machine: SQLAlchemy,
Alembic, HTTP, the connectors, the settings models and spreadsheets cost most of a
second to import, and neither importing the command line nor asking it for help may
load them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

#: Modules (with their submodules) that only a command's own work may import.
HEAVY = (
    "alembic",
    "connectors",
    "config.settings",
    "core.store",
    "httpcore",
    "httpx",
    "openpyxl",
    "psycopg",
    "pydantic_settings",
    "sqlalchemy",
    "sqlmodel",
    "tenacity",
)

#: Runs the command line in a fresh interpreter, then prints what it imported as the
#: last line of standard error.
PROBE = """
import json, sys
from ikm_sync.cli import app
try:
    app(sys.argv[1:], prog_name="ikm-sync")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported_by(*arguments: str) -> tuple[int, list[str]]:
    """Exit code and modules loaded by ``ikm-sync ARGUMENTS`` in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    env["COLUMNS"] = "120"
    done = subprocess.run(  # noqa: S603  (this interpreter running the probe above)
        [sys.executable, "-c", PROBE, *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["exit"], report["modules"]


def heavy(modules: list[str]) -> list[str]:
    """The modules of ``HEAVY`` (or inside one) among ``modules``."""
    return [
        m for m in modules if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY))
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["--help"],
        ["--version"],
        ["status", "--help"],
        ["stock", "show", "--help"],
        ["sync", "push", "--help"],
        ["catalog", "import", "--help"],
    ],
    ids=lambda arguments: " ".join(arguments) or "(none)",
)
def test_help_loads_no_heavy_module(arguments: list[str]) -> None:
    code, modules = imported_by(*arguments)
    assert code in {0, 2}  # help, version; no arguments shows help with exit code 2
    assert "ikm_sync.cli" in modules
    assert heavy(modules) == []


def test_the_probe_sees_what_a_command_imports(tmp_path: Path) -> None:
    """The same probe run on a command that reads settings and the store finds them
    loaded: the check above would notice them."""
    env_file = tmp_path / "ikm-sync.toml"
    env_file.write_text(
        'environment = "development"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "missing.sqlite3"}"\n'
    )
    code, modules = imported_by("--config", str(env_file), "status")
    assert code == 4  # no database there
    assert {"config.settings", "sqlalchemy", "core.store.db"} <= set(heavy(modules))
