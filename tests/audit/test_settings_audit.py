"""The ``[audit]`` settings and the ``audit_key`` secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigurationError, load_settings
from config.logging import MASK
from core.audit.checkpoint import new_private_key


def _problems(config: Path | None, environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(config, environ=environ)
    return caught.value.problems


def test_the_audit_key_comes_from_a_secrets_directory_and_is_masked(
    tmp_path: Path,
) -> None:
    key = new_private_key()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "audit_key").write_text(key + "\n")
    config = tmp_path / "ikm-sync.toml"
    config.write_text('secrets_dir = "secrets"\n[audit]\nseal_seconds = 5\n')
    settings = load_settings(config, environ={}).settings
    assert settings.audit_key is not None
    assert settings.audit_key.get_secret_value() == key
    assert settings.audit.seal_seconds == 5
    assert ("audit_key", key) in list(settings.secret_values())  # so logs mask it
    assert key not in repr(settings)
    assert MASK  # the mask logs use


def test_the_audit_key_is_refused_in_a_settings_file(tmp_path: Path) -> None:
    key = new_private_key()
    config = tmp_path / "ikm-sync.toml"
    config.write_text(f'audit_key = "{key}"\n')
    found = _problems(config, {})
    assert any("audit_key" in p and "IKMSYNC_AUDIT_KEY" in p for p in found)
    assert not any(key in p for p in found)


def test_a_bad_audit_key_or_interval_names_the_setting_and_hides_the_value() -> None:
    found = _problems(
        None,
        {"IKMSYNC_AUDIT_KEY": "not-a-key-at-all", "IKMSYNC_AUDIT__SEAL_SECONDS": "0"},
    )
    assert any(
        p.startswith("audit_key (from environment variable IKMSYNC_AUDIT_KEY)")
        and "Ed25519" in p
        for p in found
    )
    assert any("audit.seal_seconds" in p and "greater than 0" in p for p in found)
    assert not any("not-a-key-at-all" in p for p in found)
