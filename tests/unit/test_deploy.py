"""deploy/: the systemd unit is hardened and names a command that exists; the
crontab runs ``ikm-sync run --once``; neither holds a secret."""

from __future__ import annotations

import shlex
from collections import defaultdict
from pathlib import Path

import pytest
import typer.main

from config import Settings, is_secret_key
from ikm_sync.cli import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "ikm-sync.service"
CRON = DEPLOY / "ikm-sync.cron"

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """A systemd unit file: section → key → every value given (keys may repeat)."""
    unit: Unit = defaultdict(lambda: defaultdict(list))
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{UNIT.name}:{number}: not 'Key=value': {raw!r}"
        assert section, f"{UNIT.name}:{number}: a key before any [Section]"
        unit[section][key.strip()].append(value.strip())
    return unit


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


def one(service: dict[str, list[str]], key: str) -> str:
    values = service.get(key, [])
    assert len(values) == 1, f"{key}: expected one value, got {values}"
    return values[0]


def test_the_unit_runs_as_a_dedicated_user_with_hardening(
    service: dict[str, list[str]],
) -> None:
    assert one(service, "User") not in ("", "root", "0")
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "PrivateTmp") == "yes"
    assert one(service, "ProtectHome") == "yes"
    assert one(service, "CapabilityBoundingSet") == ""
    data_dir = one(service, "WorkingDirectory")
    writable = " ".join(service["ReadWritePaths"]).split()
    assert data_dir in writable, "the data directory must be writable"


def test_the_unit_restarts_on_failure_and_stops_with_sigterm(
    service: dict[str, list[str]],
) -> None:
    assert one(service, "Restart") == "on-failure"
    assert one(service, "KillSignal") == "SIGTERM"
    assert int(one(service, "TimeoutStopSec")) >= 60


def test_secrets_come_from_credentials_never_from_the_environment(
    service: dict[str, list[str]],
) -> None:
    assert one(service, "EnvironmentFile").startswith("/etc/ikm-sync/")
    assert "IKMSYNC_SECRETS_DIR=%d" in service["Environment"]
    loaded = [value.partition(":")[0] for value in service["LoadCredential"]]
    assert "token_keys" in loaded
    for name in loaded:
        assert is_secret_key(tuple(name.split("__"))), name
    for assignment in service["Environment"]:
        name = assignment.partition("=")[0].removeprefix("IKMSYNC_").lower()
        assert not is_secret_key(tuple(name.split("__"))), assignment


def test_the_stop_timeout_outlasts_the_daemons_stop_deadline(
    service: dict[str, list[str]],
) -> None:
    deadlines = [
        value
        for section in Settings().model_dump(mode="python").values()
        if isinstance(section, dict)
        for name, value in section.items()
        if "stop" in name and name.endswith("seconds")
    ]
    if not deadlines:
        pytest.skip("no stop deadline in the settings yet (the daemon adds it)")
    assert int(one(service, "TimeoutStopSec")) > max(deadlines)


def test_the_unit_starts_an_existing_command(service: dict[str, list[str]]) -> None:
    program, *arguments = shlex.split(one(service, "ExecStart"))
    assert program.endswith("/bin/ikm-sync")
    assert arguments == ["run"]
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    if "run" not in commands:
        pytest.skip("`ikm-sync run` does not exist yet")
    assert commands["run"].name == "run"


def test_the_crontab_runs_what_is_due_once_as_the_service_user() -> None:
    jobs = [
        line
        for line in CRON.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(jobs) == 1
    fields = jobs[0].split(maxsplit=6)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    assert fields[5] == "ikm-sync"
    assert "ikm-sync run --once" in fields[6]


def test_the_crontab_holds_no_secret() -> None:
    for line in CRON.read_text(encoding="utf-8").splitlines():
        name, sep, _ = line.partition("=")
        if not sep or line.startswith("#") or " " in name:
            continue
        key = name.removeprefix("IKMSYNC_").lower()
        assert not is_secret_key(tuple(key.split("__"))), line
