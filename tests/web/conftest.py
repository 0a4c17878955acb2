"""The console on the demo catalogue: admin, auditor and officers of two scopes.

The demo catalogue, its accounts and the users are written once per session into
a seeded database; each test gets its own copy of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from config import load_settings
from core.audit.events import acting
from core.domain.users import Role, Scope
from core.services.users import add_user
from ikm_sync.bootstrap import build_runtime
from ikm_sync.cli import app as command_line
from tests.conftest import REPO, Cli
from tests.fakes import TEST_TOKEN_KEY
from tests.web.kit import PASSWORD
from web.app import create_app
from web.console import Console

NTT = "Nusa Tenggara Timur"
LAPAS = (
    "Lapas Kelas IIA Pontianak",
    "Lapas Kelas I Cipinang",
    "Lapas Perempuan Kelas IIA Tangerang",
)
DEMO = REPO / "demo"
CONFIG = DEMO / "ikm-sync.toml"
#: The users of every console test: name, role, scope.
USERS = (
    ("admin", Role.ADMIN, Scope()),
    ("auditor", Role.AUDITOR, Scope()),
    ("officer.ntt", Role.OFFICER, Scope(provinces=frozenset({NTT}))),
    ("officer.lapas", Role.OFFICER, Scope(institutions=frozenset(LAPAS))),
)


@dataclass
class ConsoleWorld:
    """The console's application and its store, for one test."""

    console: Console
    client: TestClient
    cli: Cli
    config: Path
    app: FastAPI

    def browser(self) -> TestClient:
        """Another browser on the same console (its own cookies)."""
        return TestClient(self.app)


def console_for(database_url: str) -> Console:
    """A console on ``database_url`` with the demo settings."""
    loaded = load_settings(
        CONFIG,
        environ={
            "IKMSYNC_DATABASE_URL": database_url,
            "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
        },
    )
    return Console(loaded, build_runtime(loaded))


@pytest.fixture(scope="session")
def seeded_database(
    database_backend: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database with the demo catalogue, its accounts and :data:`USERS`."""
    directory = tmp_path_factory.mktemp("console-seed")
    url = database_backend.create(directory)
    env: dict[str, str | None] = {
        name: None for name in os.environ if name.upper().startswith("IKMSYNC_")
    }
    env |= {"IKMSYNC_DATABASE_URL": url, "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY}

    def cli(*args: str) -> Result:
        return CliRunner().invoke(
            command_line, list(args), env=env, catch_exceptions=False
        )

    imported = cli(
        "--config", str(CONFIG), "catalog", "import",
        str(DEMO / "producers.csv"), str(DEMO / "products.csv"),
        "--actor", "officer:test",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    applied = cli(
        "--config", str(CONFIG), "accounts", "apply", "--actor", "officer:test"
    )
    assert applied.exit_code == 0, applied.output
    console = console_for(url)
    for name, role, scope in USERS:
        with acting("officer:test"):
            add_user(
                console.units,
                console.clock,
                username=name,
                role=role,
                password=PASSWORD,
                scope=scope,
            )
    console.close()
    yield url
    database_backend.drop(url)


@pytest.fixture
def console_world(
    cli: Cli, seeded_database: str, database_backend: Any, tmp_path: Path
) -> Iterator[ConsoleWorld]:
    """A copy of :func:`seeded_database` served by the console (no background
    sealer), the command line on the same copy, and a browser."""
    url = database_backend.clone(seeded_database, tmp_path)
    here = Cli(url, cli.workdir, cli.env)
    console = console_for(url)
    app = create_app(console, seal_every=None)
    try:
        with TestClient(app) as client:
            yield ConsoleWorld(console, client, here, CONFIG, app)
    finally:
        console.close()
        database_backend.drop(url)
