"""Settings: layers, origins, unknown keys, and where secrets may come from."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from config import ConfigurationError, load_settings
from config.settings import Settings
from core.domain.ids import AccountId
from ikm_sync.commands.run import cycle_intervals

ACCOUNT = """
[[accounts]]
id = "shopee-ntt"
marketplace = "shopee"
shop_id = "220011"
producers = ["IKM-NTT-001"]
credentials = "shopee_main"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ikm-sync.toml"
    path.write_text(text)
    return path


def problems(
    config: Path | None = None, environ: dict[str, str] | None = None
) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(config, environ=environ or {})
    return caught.value.problems


def test_defaults_alone_are_valid() -> None:
    loaded = load_settings(None, environ={})
    assert loaded.settings.database.url == "sqlite:///var/ikm-sync.db"
    assert loaded.origin(("database", "url")) == "built-in default"
    assert set(loaded.settings.marketplaces) == {
        "shopee",
        "tokopedia",
        "bukalapak",
        "tiktok_shop",
    }


def test_file_then_environment_override_in_order(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[database]\nurl = "sqlite:///file.db"\n[logging]\nlevel = "DEBUG"\n'
    )
    loaded = load_settings(path, environ={"IKMSYNC_LOGGING__LEVEL": "ERROR"})
    assert loaded.settings.database.url == "sqlite:///file.db"
    assert loaded.origin(("database", "url")) == str(path)
    assert loaded.settings.logging.level == "ERROR"
    assert (
        loaded.origin(("logging", "level"))
        == "environment variable IKMSYNC_LOGGING__LEVEL"
    )


def test_database_url_shorthand(tmp_path: Path) -> None:
    loaded = load_settings(None, environ={"IKMSYNC_DATABASE_URL": "postgresql://db/x"})
    assert loaded.settings.database.url == "postgresql://db/x"
    both = load_settings(
        None,
        environ={
            "IKMSYNC_DATABASE_URL": "postgresql://db/x",
            "IKMSYNC_DATABASE__URL": "sqlite:///y.db",
        },
    )
    assert both.settings.database.url == "sqlite:///y.db"


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nformat = "json"\n')
    loaded = load_settings(None, environ={"IKMSYNC_CONFIG_FILE": str(path)})
    assert loaded.settings.logging.format == "json"
    assert loaded.config_file == path


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.toml") == [
        f"{tmp_path / 'nope.toml'}: settings file not found"
    ]


def test_bad_toml_names_the_file_and_position(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, "[database\nurl = 1\n"))
    assert problem.startswith(f"{tmp_path / 'ikm-sync.toml'}: not valid TOML")
    assert "line 1" in problem


def test_unknown_key_in_the_file_names_key_and_file(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, '[database]\nurll = "sqlite:///x.db"\n'))
    assert problem.startswith("database.urll")
    assert str(tmp_path / "ikm-sync.toml") in problem
    assert "unknown key" in problem


def test_unknown_environment_variable_is_an_error() -> None:
    (problem,) = problems(environ={"IKMSYNC_DATABSE__URL": "x"})
    assert "IKMSYNC_DATABSE__URL" in problem
    assert "unknown setting 'databse'" in problem


def test_wrong_value_names_key_source_and_expectation(tmp_path: Path) -> None:
    text = ACCOUNT + "[accounts.allocation]\nshare_percent = 150\n"
    (problem,) = problems(
        write(tmp_path, text),
        {"IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": "k-123456"},
    )
    assert problem.startswith("accounts[0].allocation.share_percent")
    assert str(tmp_path / "ikm-sync.toml") in problem
    assert "less than or equal to 100" in problem
    assert "150" in problem


def test_wrong_value_from_the_environment_names_the_variable() -> None:
    (problem,) = problems(environ={"IKMSYNC_LOGGING__LEVEL": "LOUD"})
    assert "logging.level (from environment variable IKMSYNC_LOGGING__LEVEL)" in problem


def test_a_database_url_must_be_sqlite_or_postgresql() -> None:
    (problem,) = problems(environ={"IKMSYNC_DATABASE__URL": "mysql://db/x"})
    assert "expected a sqlite or postgresql URL" in problem


def test_secrets_are_refused_in_settings_files(tmp_path: Path) -> None:
    text = (
        '[database]\nurl = "postgresql://ikm:hunter22@db/x"\npassword = "pw"\n'
        '[credentials.shopee_main]\npartner_key = "abc"\n'
    )
    found = problems(write(tmp_path, text))
    assert any(
        "database.password" in p and "IKMSYNC_DATABASE__PASSWORD" in p for p in found
    )
    assert any(
        "credentials.shopee_main.partner_key" in p
        and "IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY" in p
        for p in found
    )
    assert any("database.url: contains a password" in p for p in found)
    assert not any("hunter22" in p or "abc" in p.split(":")[-1] for p in found)


def test_credentials_come_from_the_environment(tmp_path: Path) -> None:
    loaded = load_settings(
        write(tmp_path, ACCOUNT),
        environ={"IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": "k-123456"},
    )
    secret = loaded.settings.credentials["shopee_main"]["partner_key"]
    assert secret.get_secret_value() == "k-123456"
    assert "k-123456" not in repr(loaded.settings)


def test_credentials_come_from_a_secrets_directory(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "credentials__shopee_main__partner_key").write_text("from-file-9876\n")
    (secrets / "database__password").write_text("db-pass-5555")
    path = write(tmp_path, 'secrets_dir = "secrets"\n' + ACCOUNT)
    loaded = load_settings(path, environ={})
    settings = loaded.settings
    assert (
        settings.credentials["shopee_main"]["partner_key"].get_secret_value()
        == "from-file-9876"
    )
    assert settings.database.password is not None
    assert loaded.origin(("database", "password")) == f"secrets directory {secrets}"


def test_a_file_in_the_secrets_directory_must_name_a_secret(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "logging__level").write_text("DEBUG")
    (problem,) = problems(environ={"IKMSYNC_SECRETS_DIR": str(secrets)})
    assert "not a secret key" in problem


def test_an_account_must_reference_configured_credentials(tmp_path: Path) -> None:
    (problem,) = problems(write(tmp_path, ACCOUNT))
    assert problem.startswith(
        "accounts[0].credentials: no credential set 'shopee_main'"
    )
    assert "IKMSYNC_CREDENTIALS__SHOPEE_MAIN__<NAME>" in problem


def test_duplicate_account_ids_and_shops(tmp_path: Path) -> None:
    found = problems(
        write(tmp_path, ACCOUNT + ACCOUNT),
        {"IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": "k-123456"},
    )
    assert any("accounts[1].id" in p for p in found)
    assert any("accounts[1].shop_id" in p for p in found)


def test_placeholder_secrets_only_in_development(tmp_path: Path) -> None:
    environ = {"IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": "changeme"}
    (problem,) = problems(write(tmp_path, ACCOUNT), environ)
    assert "placeholder" in problem
    loaded = load_settings(
        write(tmp_path, 'environment = "development"\n' + ACCOUNT), environ=environ
    )
    assert loaded.settings.environment == "development"


def test_database_password_is_joined_to_the_url_but_never_shown() -> None:
    loaded = load_settings(
        None,
        environ={
            "IKMSYNC_DATABASE__URL": "postgresql+psycopg://ikm@db:5432/ikm",
            "IKMSYNC_DATABASE__PASSWORD": "s3cr3t-pw",
        },
    )
    settings = loaded.settings
    assert "s3cr3t-pw" in settings.database_url()
    assert "s3cr3t-pw" not in settings.database_url_for_display()
    assert ("database.password", "s3cr3t-pw") in list(settings.secret_values())


def test_accounts_from_json_in_the_environment() -> None:
    environ = {
        "IKMSYNC_ACCOUNTS": '[{"id": "tokped-1", "marketplace": "tokopedia", '
        '"shop_id": "479573", "producers": ["WBP-DKI-001"]}]',
    }
    loaded = load_settings(None, environ=environ)
    assert loaded.settings.accounts[0].marketplace == "tokopedia"


def test_a_settings_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ikm-sync.toml"
    path.write_bytes('[logging]\nlevel = "INFO" # caf\xe9\n'.encode("latin-1"))
    (problem,) = problems(path)
    assert problem == f"{path}: expected UTF-8 text, found byte 0xE9"


def test_a_secret_file_that_is_not_utf8(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database__password").write_bytes(b"\xff\xfe")
    (problem,) = problems(environ={"IKMSYNC_SECRETS_DIR": str(secrets)})
    assert "expected a UTF-8 text file holding one secret" in problem


def test_a_secret_given_with_the_wrong_shape_is_never_echoed() -> None:
    found = problems(environ={"IKMSYNC_CREDENTIALS__SHOPEE_MAIN": "SuperSecret-123"})
    assert found
    assert not any("SuperSecret-123" in p for p in found)
    assert any(p.startswith("credentials.shopee_main") for p in found)


def test_scheduler_settings_and_interval_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[scheduler]\ncycle_seconds = 120\njitter = 0.2\n"
        "[marketplaces.shopee]\ncycle_seconds = 60\n",
    )
    settings = load_settings(path, environ={}).settings
    assert (settings.scheduler.cycle_seconds, settings.scheduler.jitter) == (120, 0.2)
    assert settings.marketplaces["shopee"].cycle_seconds == 60
    assert settings.scheduler.backoff_max_seconds == 3600  # from defaults.toml


def test_a_backoff_cap_below_its_base_is_refused_with_both_names() -> None:
    (problem,) = problems(
        environ={
            "IKMSYNC_SCHEDULER__BACKOFF_BASE_SECONDS": "600",
            "IKMSYNC_SCHEDULER__BACKOFF_MAX_SECONDS": "60",
        }
    )
    assert "scheduler" in problem
    assert "backoff_max_seconds" in problem
    assert "backoff_base_seconds" in problem


def test_a_jitter_beyond_half_the_interval_is_refused() -> None:
    (problem,) = problems(environ={"IKMSYNC_SCHEDULER__JITTER": "0.9"})
    assert "scheduler.jitter" in problem


def test_an_account_interval_comes_from_the_account_then_its_marketplace() -> None:
    account = (
        '[[accounts]]\nid = "{id}"\nmarketplace = "{m}"\nshop_id = "{shop}"\n'
        'producers = ["IKM-1"]\n{extra}\n'
    )
    text = (
        "[scheduler]\ncycle_seconds = 300\n[marketplaces.shopee]\ncycle_seconds = 60\n"
        + account.format(id="shopee-a", m="shopee", shop="1", extra="")
        + account.format(
            id="shopee-b", m="shopee", shop="2", extra="cycle_seconds = 30"
        )
        + account.format(id="tokopedia-a", m="tokopedia", shop="3", extra="")
    )
    settings = Settings.model_validate(tomllib.loads(text))
    intervals = cycle_intervals(settings)
    assert intervals.base(AccountId("shopee-a")) == timedelta(seconds=60)
    assert intervals.base(AccountId("shopee-b")) == timedelta(seconds=30)
    assert intervals.base(AccountId("tokopedia-a")) == timedelta(seconds=300)
