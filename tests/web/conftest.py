"""The console on the demo catalogue: admin, auditor and officers of two scopes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from config import load_settings
from core.domain.users import Role, Scope
from core.services.users import add_user
from ikm_sync.bootstrap import build_runtime
from tests.conftest import Cli
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


@pytest.fixture
def console_world(cli: Cli, demo_dir: Path) -> Iterator[ConsoleWorld]:
    """The demo catalogue and accounts in the test database, with users ``admin``,
    ``auditor``, ``officer.ntt`` (province NTT) and ``officer.lapas`` (the three
    Lapas of the Tokopedia shop), all with :data:`~tests.web.kit.PASSWORD`."""
    config = demo_dir / "ikm-sync.toml"
    imported = cli(
        "--config",
        str(config),
        "catalog",
        "import",
        str(demo_dir / "producers.csv"),
        str(demo_dir / "products.csv"),
        "--actor",
        "officer:test",
    )
    assert imported.exit_code == 0, imported.output
    applied = cli(
        "--config", str(config), "accounts", "apply", "--actor", "officer:test"
    )
    assert applied.exit_code == 0, applied.output
    loaded = load_settings(
        config,
        environ={
            "IKMSYNC_DATABASE_URL": cli.database_url,
            "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
        },
    )
    runtime = build_runtime(loaded)
    console = Console(loaded, runtime)
    for name, role, scope in (
        ("admin", Role.ADMIN, Scope()),
        ("auditor", Role.AUDITOR, Scope()),
        ("officer.ntt", Role.OFFICER, Scope(provinces=frozenset({NTT}))),
        ("officer.lapas", Role.OFFICER, Scope(institutions=frozenset(LAPAS))),
    ):
        add_user(
            console.units,
            console.clock,
            username=name,
            role=role,
            password=PASSWORD,
            scope=scope,
        )
    app = create_app(console, seal_every=None)
    with TestClient(app) as client:
        yield ConsoleWorld(console, client, cli, config, app)
    console.close()
