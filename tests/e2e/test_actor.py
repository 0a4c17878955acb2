"""Who did it: every changing command takes ``--actor``; without it the actor comes
from the ``actor`` setting (``IKMSYNC_ACTOR`` over the settings file), then the
operating-system user; when nobody can be named the command says so. Runs record
``manual:<actor>`` as their trigger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ikm_sync.cli import app
from tests.conftest import Cli
from tests.e2e.sites import Site, _site

pytestmark = [pytest.mark.e2e, pytest.mark.db]

#: No operating-system user either (click's runner removes variables set to None).
NOBODY: dict[str, str | None] = {"USER": None, "LOGNAME": None, "USERNAME": None}

#: Every command that changes something.
CHANGING = (
    ("sync", "push"),
    ("sync", "orders"),
    ("sync", "cycle"),
    ("reconcile",),
    ("orders", "settle"),
    ("orders", "cancel"),
    ("stock", "adjust"),
    ("catalog", "import"),
    ("accounts", "apply"),
    ("accounts", "check"),
    ("accounts", "authorize"),
    ("db", "upgrade"),
    ("db", "reencrypt-tokens"),
)


def test_every_changing_command_takes_actor() -> None:
    root = typer.main.get_command(app)
    for path in CHANGING:
        command: Any = root
        for name in path:
            command = command.commands[name]
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert "--actor" in options, " ".join(path)


@pytest.fixture
def stocked(cli: Cli, demo_dir: Path) -> Cli:
    result = cli(
        "catalog",
        "import",
        str(demo_dir / "producers.csv"),
        str(demo_dir / "products.csv"),
        "--actor",
        "officer:test",
    )
    assert result.exit_code == 0, result.output
    return cli


def adjust(cli: Cli, *args: str, env: dict[str, Any] | None = None) -> Any:
    return cli(
        "stock", "adjust", "KOPI-FLR-001", "1", "--reason", "recount", *args, env=env
    )


def last_actor(cli: Cli) -> str:
    result = cli("stock", "show", "KOPI-FLR-001", "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["movements"][0]["actor"])


def settings_with_actor(cli: Cli, actor: str) -> Path:
    path = cli.workdir / "ikm-sync.toml"
    path.write_text(f'actor = "{actor}"\n', encoding="utf-8")
    return path


def test_actor_option_wins(stocked: Cli) -> None:
    settings_with_actor(stocked, "officer:file")
    result = adjust(stocked, "--actor", "officer:budi", env={"IKMSYNC_ACTOR": "x:y"})
    assert result.exit_code == 0, result.output
    assert last_actor(stocked) == "officer:budi"
    assert "notice" not in result.stderr


def test_ikmsync_actor_wins_over_the_settings_file(stocked: Cli) -> None:
    settings_with_actor(stocked, "officer:file")
    result = adjust(stocked, env={"IKMSYNC_ACTOR": "officer:ani"})
    assert result.exit_code == 0, result.output
    assert last_actor(stocked) == "officer:ani"


def test_the_settings_file_actor_is_the_default(stocked: Cli) -> None:
    settings_with_actor(stocked, "officer:file")
    result = adjust(stocked, env=NOBODY)
    assert result.exit_code == 0, result.output
    assert last_actor(stocked) == "officer:file"
    assert "notice" not in result.stderr


def test_the_operating_system_user_comes_last(stocked: Cli) -> None:
    result = adjust(stocked, env={**NOBODY, "USER": "budi"})
    assert result.exit_code == 0, result.output
    assert last_actor(stocked) == "cli:budi"
    assert "notice" not in result.stderr


def test_an_actor_nobody_can_name_is_recorded_unknown_with_a_notice(
    stocked: Cli,
) -> None:
    result = adjust(stocked, "--json", env=NOBODY)
    assert result.exit_code == 0, result.output
    assert "who acts is not known" in result.stderr
    assert "give --actor, or set actor in the settings or IKMSYNC_ACTOR" in (
        result.stderr
    )
    json.loads(result.stdout)  # the notice stays off the JSON
    assert last_actor(stocked) == "unknown"


def test_a_bad_actor_option_is_refused_and_changes_nothing(stocked: Cli) -> None:
    before = last_actor(stocked)
    result = adjust(stocked, "--actor", "officer ani")
    assert result.exit_code == 1
    assert "refused" in result.stderr
    assert "--actor: 'officer ani' is not an actor" in result.stderr
    assert "expected who acts, e.g. officer:ani" in result.stderr
    assert last_actor(stocked) == before


def test_a_bad_ikmsync_actor_is_a_configuration_error(stocked: Cli) -> None:
    before = last_actor(stocked)
    result = adjust(stocked, env={"IKMSYNC_ACTOR": "officer\tani"})
    assert result.exit_code == 3
    assert "IKMSYNC_ACTOR" in result.stderr
    assert "expected who acts" in result.stderr
    assert last_actor(stocked) == before


# ---------------------------------------------------------------- runs' triggers


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, database_backend: Any
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("actor")
    url: str = database_backend.create(tmp)
    try:
        yield from _site(tmp / "site", url)
    finally:
        database_backend.drop(url)


def last_trigger(site: Site, account: str) -> str:
    runs = site.json_of("runs", "list", "--account", account, "--limit", "1")["runs"]
    return str(runs[0]["trigger"])


@pytest.mark.slow
def test_runs_record_who_started_them(site: Site) -> None:
    account = "shopee-ntt-flores"
    nobody = dict.fromkeys(NOBODY, "")

    site.run("sync", "orders", "--account", account, "--actor", "officer:budi")
    assert last_trigger(site, account) == "manual:officer:budi"

    site.run("sync", "orders", "--account", account)  # demo settings: officer:demo
    assert last_trigger(site, account) == "manual:officer:demo"

    found = site.run(
        "reconcile",
        "--account",
        account,
        check=False,
        env={"IKMSYNC_ACTOR": "officer:ani"},
    )
    assert found.returncode == 1, found.stderr  # nothing published yet: differences
    assert last_trigger(site, account) == "manual:officer:ani"

    bare = site.workdir / "no-actor.toml"
    bare.write_text(
        site.config.read_text(encoding="utf-8").replace('actor = "officer:demo"\n', ""),
        encoding="utf-8",
    )
    result = site.run("sync", "orders", "--account", account, config=bare, env=nobody)
    assert "who acts is not known" in result.stderr
    assert last_trigger(site, account) == "manual:unknown"
