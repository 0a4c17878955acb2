"""A known secret never appears in a log line, an error, an export or the store."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from core.clock import SystemClock
from core.domain.accounts import Marketplace
from core.domain.remote import Secret
from core.ports import TokenSet
from core.store.crypto import TokenCipher
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from tests.conftest import Cli
from tests.e2e.helpers import snapshot, write_csv
from tests.fakes import sql_token_store
from tests.sync.world import SHOPEE, World

pytestmark = [pytest.mark.e2e, pytest.mark.db]

PARTNER_KEY = "pk-live-5ecre7-d0-not-leak"
FILE_SECRET = "tokped-client-secret-f1le-9d7c"
DB_PASSWORD = "db-passw0rd-never-shown"


def test_secrets_stay_out_of_logs_errors_exports_and_the_store(
    cli: Cli, demo_dir: Path, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "credentials__tokped__client_secret").write_text(FILE_SECRET)
    config = tmp_path / "ikm-sync.toml"
    config.write_text(
        'secrets_dir = "secrets"\n[logging]\nlevel = "DEBUG"\nformat = "json"\n'
        "[marketplaces.shopee.options]\npartner_id = 2001\n"
        "[marketplaces.tokopedia.options]\nfs_id = 13004\n"
        '[[accounts]]\nid = "shopee-ntt"\nmarketplace = "shopee"\nshop_id = "220011"\n'
        'producers = ["IKM-NTT-001"]\ncredentials = "shopee_main"\n'
        '[[accounts]]\nid = "tokped-lapas"\nmarketplace = "tokopedia"\n'
        'shop_id = "479573"\n'
        'producers = ["WBP-KALBAR-001"]\ncredentials = "tokped"\n'
    )
    cli.env.update(
        {
            "IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": PARTNER_KEY,
            "IKMSYNC_DATABASE__PASSWORD": DB_PASSWORD,
        }
    )
    bad = write_csv(  # the secret pasted into a cell that is then rejected
        tmp_path / "bad.csv",
        ["sku", "producer_code", "name", "price", "weight_grams"],
        [["X-1", "IKM-NTT-001", "Kopi", PARTNER_KEY, "1"]],
    )
    unreachable = f"postgresql+psycopg://ikm:{DB_PASSWORD}@127.0.0.1:1/none"
    commands: list[tuple[int, list[str], dict[str, str]]] = [
        (0, ["config", "check"], {}),
        (0, ["config", "check", "--json"], {}),
        (0, ["db", "upgrade"], {}),
        (0, ["catalog", "import", str(demo_dir / "producers.csv"),
             str(demo_dir / "products.csv")], {}),
        (0, ["accounts", "apply"], {}),
        (0, ["accounts", "apply", "--json"], {}),
        (0, ["status"], {}),
        (0, ["status", "--json"], {}),
        (0, ["stock", "adjust", "KOPI-FLR-001", "-1", "--reason", "sample"], {}),
        (1, ["stock", "adjust", "KOPI-FLR-001", "-1000", "--reason", "too many"], {}),
        (1, ["catalog", "import", str(bad)], {}),
        (1, ["catalog", "import", str(bad), "--json"], {}),
        (0, ["catalog", "export", str(tmp_path / "out.xlsx")], {}),
        (0, ["catalog", "export", str(tmp_path / "out.csv")], {}),
        (0, ["catalog", "export", str(tmp_path / "out-producers.csv"),
             "--kind", "producers"], {}),
        (1, ["stock", "show", "NOPE"], {}),
        (4, ["status"], {"IKMSYNC_DATABASE_URL": unreachable}),
        (3, ["config", "check"], {"IKMSYNC_LOGGING__LEVEL": "LOUD"}),
        (3, ["config", "check", "--json"],
         {"IKMSYNC_CREDENTIALS__SHOPEE_MAIN": PARTNER_KEY}),  # wrong shape, echoed?
    ]  # fmt: skip
    runs = [cli(*arguments, env=env) for _, arguments, env in commands]
    assert [r.exit_code for r in runs] == [code for code, _, _ in commands]
    logged = "\n".join(r.stdout + r.stderr for r in runs)
    assert sum(line.startswith("{") for line in logged.splitlines()) > 10
    assert json.loads(runs[1].stdout)["valid"] is True
    exports = b"".join(p.read_bytes() for p in tmp_path.glob("out*.*"))
    assert exports
    tables = snapshot(cli.database_url)
    assert tables["audit_events"]  # the events are among what must hold no secret
    stored = repr(tables)
    for secret in (PARTNER_KEY, FILE_SECRET, DB_PASSWORD):
        assert secret not in logged
        assert secret.encode() not in exports
        assert secret not in stored
    assert "**********" in runs[0].stdout
    assert "**********" in runs[10].stderr  # the rejected cell is shown, masked


def _refuse_token_writes(engine: sa.Engine, account_row: int, *, marks: bool) -> None:
    """The database refuses to update the account's tokens (``marks``: unless the
    update marks the account for re-authorisation)."""
    unless = " AND NOT NEW.needs_reauthorisation" if marks else ""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tokens BEFORE UPDATE ON account_tokens "
                f"WHEN NEW.account_id = {account_row}{unless} "
                "BEGIN SELECT RAISE(ABORT, 'token writes refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_tokens() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'token writes refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tokens BEFORE UPDATE ON account_tokens "
                f"FOR EACH ROW WHEN (NEW.account_id = {account_row}{unless}) "
                "EXECUTE FUNCTION refuse_tokens()"
            )


def _issued_tokens(world: World) -> set[str]:
    shopee = world.sims[Marketplace.SHOPEE]
    issued = {*shopee.grants_by_access, *shopee.grants_by_refresh}  # type: ignore[attr-defined]
    assert issued
    return issued


@pytest.mark.parametrize("marks", [True, False], ids=["marked", "refused-all"])
def test_refreshed_tokens_the_database_refuses_stay_out_of_run_errors(
    cli: Cli, engine: sa.Engine, marks: bool
) -> None:
    world = World.build(engine)
    world.authorise()
    assert world.cycle().ok
    with engine.connect() as connection:
        row_id = connection.execute(
            sa.text("SELECT id FROM channel_accounts WHERE account_key = :key"),
            {"key": SHOPEE},
        ).scalar_one()
    _refuse_token_writes(engine, row_id, marks=marks)
    world.sims[Marketplace.SHOPEE].revoke_access_tokens()  # type: ignore[attr-defined]

    with capture_logs() as logs:
        report = world.cycle()  # Shopee refreshes; the new pair is refused

    issued = _issued_tokens(world)  # every token Shopee ever issued, the new ones too
    failed = [r for r in report.pulls if r.account == SHOPEE]
    assert [r.outcome.value for r in failed] == ["failed"]
    assert "cannot save the tokens of account 'shopee-ntt'" in failed[0].error
    assert "token writes refused" in failed[0].error
    with engine.connect() as connection:
        stored_errors = [
            str(e)
            for (e,) in connection.execute(
                sa.text("SELECT error FROM sync_runs WHERE error IS NOT NULL")
            )
        ]
        stored_errors += [
            str(e)
            for (e,) in connection.execute(
                sa.text(
                    "SELECT error_message FROM sync_run_items "
                    "WHERE error_message IS NOT NULL"
                )
            )
        ]
        marked, reason = connection.execute(
            sa.text(
                "SELECT needs_reauthorisation, reason FROM account_tokens "
                "WHERE account_id = :id"
            ),
            {"id": row_id},
        ).one()
    assert any("cannot save the tokens" in e for e in stored_errors)
    run_ids = [str(r.run_id) for r in failed if r.run_id]
    shown = [cli("runs", "list"), *(cli("runs", "show", i) for i in run_ids)]
    assert all(r.exit_code == 0 for r in shown)
    printed = "\n".join(r.stdout + r.stderr for r in shown)
    assert "cannot save the tokens" in printed
    texts = [*stored_errors, printed, *(r.error for r in failed), repr(logs)]
    for text in texts:
        assert "parameters" not in text
        for token in issued:
            assert token not in text
    # Not stranded silently: logged with its reason and, where the database still
    # takes the mark, marked for re-authorisation.
    (unsaved,) = [e for e in logs if e["event"] == "tokens.unsaved"]
    assert unsaved["refresh_token_spent"] is True
    assert unsaved["marked_for_reauthorisation"] is marks
    assert bool(marked) is marks
    if marks:
        assert "authorised again" in reason
        (pull,) = [r for r in world.cycle().pulls if r.account == SHOPEE]
        assert "needs re-authorisation" in pull.error  # nothing is sent any more


def test_debug_logs_show_no_stored_token(cli: Cli, engine: sa.Engine) -> None:
    config = cli.workdir / "ikm-sync.toml"
    config.write_text(
        '[marketplaces.shopee]\nbase_url = "http://127.0.0.1:9"\nretry_attempts = 1\n'
        "options = { partner_id = 2001 }\n"
        '[[accounts]]\nid = "shopee-ntt"\nmarketplace = "shopee"\n'
        'shop_id = "220011"\nproducers = ["IKM-NTT-001"]\ncredentials = "main"\n'
    )
    cli.env["IKMSYNC_CREDENTIALS__MAIN__PARTNER_KEY"] = PARTNER_KEY
    assert cli("catalog", "import", str(REPO_DEMO / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    store = sql_token_store(make_session_factory(engine), SystemClock())
    with store.refreshing(SHOPEE) as held:
        held.save(TokenSet(access_token=Secret(ACCESS), refresh_token=Secret(REFRESH)))
    checked = cli("--log-level", "debug", "--log-format", "json", "accounts", "check")
    logged = checked.stdout + checked.stderr
    assert '"sqlalchemy.engine' in logged  # statements are logged at DEBUG
    assert ACCESS not in logged
    assert REFRESH not in logged
    events = [json.loads(x)["event"] for x in logged.splitlines() if x[:1] == "{"]
    assert not [e for e in events if e.startswith("Row ")]


ACCESS = "at-5ecre7-access-token-0001"
REFRESH = "rt-5ecre7-refresh-token-0001"
REPO_DEMO = Path(__file__).resolve().parents[2] / "demo"


def test_secret_like_keys_are_refused_anywhere_in_a_settings_file(cli: Cli) -> None:
    config = cli.workdir / "ikm-sync.toml"
    config.write_text(
        "[marketplaces.shopee.options]\npartner_id = 2001\n"
        f'partner_key = "{PARTNER_KEY}"\n[marketplaces.tokopedia]\n'
        f'options = {{ auth = {{ client_secret = "{FILE_SECRET}" }} }}\n'
    )
    for arguments in (["config", "check"], ["config", "check", "--json"]):
        checked = cli(*arguments)
        shown = checked.stdout + checked.stderr
        assert checked.exit_code == 3
        for secret in (PARTNER_KEY, FILE_SECRET):
            assert secret not in shown
    problems = cli("config", "check").stderr
    assert "marketplaces.shopee.options.partner_key: named like a secret" in problems
    assert "IKMSYNC_CREDENTIALS__<SET>__PARTNER_KEY" in problems
    assert "marketplaces.tokopedia.options.auth.client_secret" in problems
    # Options given in the environment are refused the same way, unechoed.
    config.write_text("")
    options = json.dumps({"partner_id": 2001, "partner_key": PARTNER_KEY})
    from_env = cli(
        "config", "check", env={"IKMSYNC_MARKETPLACES__SHOPEE__OPTIONS": options}
    )
    assert from_env.exit_code == 3
    assert "partner_key: named like a secret" in from_env.stderr
    assert PARTNER_KEY not in from_env.stdout + from_env.stderr


def test_options_named_like_settings_not_secrets_are_accepted(cli: Cli) -> None:
    (cli.workdir / "ikm-sync.toml").write_text(
        '[marketplaces.tokopedia.options]\nfs_id = 1\ntoken_url = "https://t.example"\n'
        '[[accounts]]\nid = "t"\nmarketplace = "tokopedia"\nshop_id = "1"\n'
        'producers = ["P"]\n[accounts.allocation.overrides.KUNCI-KEY]\ncap = 1\n'
    )
    assert cli("config", "check").exit_code == 0


def test_the_token_key_is_required_outside_development_and_never_shown(
    cli: Cli, engine: sa.Engine
) -> None:
    key = cli.env.pop("IKMSYNC_TOKEN_KEYS")
    missing = cli("status")
    assert missing.exit_code == 3
    assert "IKMSYNC_TOKEN_KEYS" in missing.stderr
    development = cli("status", env={"IKMSYNC_ENVIRONMENT": "development"})
    assert development.exit_code == 0
    assert "tokens.development_key_used" in development.stderr
    bad = cli("status", env={"IKMSYNC_TOKEN_KEYS": "not-a-fernet-key-5ecre7"})
    assert bad.exit_code == 3
    assert "token_keys" in bad.stderr
    assert "not a Fernet key" in bad.stderr
    assert "5ecre7" not in bad.stdout + bad.stderr
    (cli.workdir / "ikm-sync.toml").write_text(f'token_keys = "{key}"\n')
    in_file = cli("config", "check")
    assert in_file.exit_code == 3
    assert "token_keys: secrets are not read from settings files" in in_file.stderr
    assert key not in in_file.stdout + in_file.stderr
    (cli.workdir / "ikm-sync.toml").write_text("")
    cli.env["IKMSYNC_TOKEN_KEYS"] = key
    checked = cli("config", "check", "--json")
    rows = {r["key"]: r["value"] for r in json.loads(checked.stdout)["settings"]}
    assert rows["token_keys"] == "**********"
    assert key not in checked.stdout + checked.stderr


def test_rotation_through_the_command_line(cli: Cli, engine: sa.Engine) -> None:
    old = cli.env["IKMSYNC_TOKEN_KEYS"]
    (cli.workdir / "ikm-sync.toml").write_text(
        '[[accounts]]\nid = "shopee-ntt"\nmarketplace = "shopee"\n'
        'shop_id = "220011"\nproducers = ["IKM-NTT-001"]\n'
    )
    assert cli("catalog", "import", str(REPO_DEMO / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    store = sql_token_store(make_session_factory(engine), SystemClock())
    with store.refreshing(SHOPEE) as held:
        held.save(TokenSet(access_token=Secret(ACCESS), refresh_token=Secret(REFRESH)))
    printed = cli("db", "token-key")
    assert printed.exit_code == 0
    new = printed.stdout.strip()
    assert len(new) == 44
    assert new != cli("db", "token-key").stdout.strip()  # a new one every time
    rotated = cli("db", "reencrypt-tokens", env={"IKMSYNC_TOKEN_KEYS": f"{new},{old}"})
    assert rotated.exit_code == 0, rotated.stderr
    assert "tokens of 1 account(s) encrypted again" in rotated.stdout
    after = SqlTokenStore(
        make_session_factory(engine), SystemClock(), TokenCipher([new])
    )
    assert after.load(SHOPEE).refresh_token == Secret(REFRESH)
    stale = cli("db", "reencrypt-tokens")  # the old key alone reads nothing now
    assert stale.exit_code == 3
    assert "cannot be decrypted with any key of token_keys" in stale.stderr
    assert ACCESS not in snapshot(cli.database_url).__repr__()


@pytest.mark.parametrize(
    "options",
    [
        f'{{ partner_id = 2001, partnerKey = "{PARTNER_KEY}" }}',
        f'{{ auth = {{ clientSecret = "{PARTNER_KEY}" }} }}',
        f'{{ partnerkey = "{PARTNER_KEY}" }}',
        f'{{ "access token" = "{PARTNER_KEY}" }}',
        f'{{ overrides = {{ client_secret = "{PARTNER_KEY}" }} }}',
    ],
    ids=["camelCase", "nested-camelCase", "compound", "spaced", "under-overrides"],
)
def test_secret_names_however_written_are_refused_in_options(
    cli: Cli, options: str
) -> None:
    config = cli.workdir / "ikm-sync.toml"
    config.write_text(f"[marketplaces.shopee]\noptions = {options}\n")
    checked = cli("config", "check")
    assert checked.exit_code == 3
    assert "named like a secret" in checked.stderr
    assert PARTNER_KEY not in checked.stdout + checked.stderr
    # The same options from the environment are refused by the options' own check.
    config.write_text("")
    as_json = json.dumps(tomllib.loads(f"options = {options}\n")["options"])
    from_env = cli(
        "config", "check", env={"IKMSYNC_MARKETPLACES__SHOPEE__OPTIONS": as_json}
    )
    assert from_env.exit_code == 3
    assert "named like a secret" in from_env.stderr
    assert PARTNER_KEY not in from_env.stdout + from_env.stderr


def test_a_secret_put_in_a_wrong_typed_setting_is_not_echoed(cli: Cli) -> None:
    secrets = cli.workdir / "secrets"
    secrets.mkdir()
    (secrets / "credentials__tokped__client_secret").write_text(FILE_SECRET)
    key = cli.env["IKMSYNC_TOKEN_KEYS"]
    (cli.workdir / "ikm-sync.toml").write_text(
        f'secrets_dir = "secrets"\n[sync]\nworkers = "{FILE_SECRET}"\n'
    )
    checked = cli(
        "config",
        "check",
        env={
            "IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY": PARTNER_KEY,
            "IKMSYNC_DATABASE__ECHO": PARTNER_KEY,
            "IKMSYNC_LOGGING__FORMAT": key,
        },
    )
    shown = checked.stdout + checked.stderr
    assert checked.exit_code == 3
    for setting in ("sync.workers", "database.echo", "logging.format"):
        assert setting in checked.stderr  # each wrong setting is still named
    for secret in (PARTNER_KEY, FILE_SECRET, key):
        assert secret not in shown
    assert "(got '**********')" in checked.stderr
    assert (
        "(got 'LOUD')"
        in cli(  # values that are no secret are still echoed
            "config", "check", env={"IKMSYNC_LOGGING__LEVEL": "LOUD"}
        ).stderr
    )


def test_config_check_masks_a_secret_pasted_under_another_setting(cli: Cli) -> None:
    (cli.workdir / "ikm-sync.toml").write_text(
        "[marketplaces.shopee.options]\npartner_id = 2001\n"
        f'location_id = "{PARTNER_KEY}"\n'
        "logistics = [{ logistic_id = 8003 }]\n"
        '[[accounts]]\nid = "shopee-ntt"\nmarketplace = "shopee"\n'
        f'shop_id = "{PARTNER_KEY}"\nproducers = ["IKM-NTT-001"]\n'
        'credentials = "main"\n'
    )
    cli.env["IKMSYNC_CREDENTIALS__MAIN__PARTNER_KEY"] = PARTNER_KEY
    shown = cli("config", "check")
    as_json = cli("config", "check", "--json")
    assert (shown.exit_code, as_json.exit_code) == (0, 0)
    for run in (shown, as_json):
        assert PARTNER_KEY not in run.stdout + run.stderr
    rows = {r["key"]: r["value"] for r in json.loads(as_json.stdout)["settings"]}
    assert rows["accounts[0].shop_id"] == "**********"
    assert rows["marketplaces.shopee.options.location_id"] == "**********"
    assert rows["marketplaces.shopee.options.partner_id"] == 2001  # the rest as is


def test_a_malformed_json_variable_is_a_configuration_error_unechoed(
    cli: Cli,
) -> None:
    checked = cli(
        "config",
        "check",
        env={
            "IKMSYNC_CREDENTIALS": f'{{"main": {{"partner_key": {PARTNER_KEY}}}}}',
            "IKMSYNC_MARKETPLACES__SHOPEE__OPTIONS": f"{{partner_id: {FILE_SECRET}",
        },
    )
    shown = checked.stdout + checked.stderr
    assert checked.exit_code == 3, shown
    assert "environment variable IKMSYNC_CREDENTIALS: not valid JSON" in shown
    assert "IKMSYNC_MARKETPLACES__SHOPEE__OPTIONS: not valid JSON" in shown
    assert "Traceback" not in shown
    for secret in (PARTNER_KEY, FILE_SECRET):
        assert secret not in shown


def test_a_secret_pasted_into_a_bad_marketplace_option_is_never_echoed(
    cli: Cli,
) -> None:
    """``config check`` names the option its marketplace refuses, not its value."""
    (cli.workdir / "ikm-sync.toml").write_text(
        f'[marketplaces.shopee.options]\npartner_id = "{PARTNER_KEY}"\n'
        f'days_to_ship = "{PARTNER_KEY}"\n'
        '[[accounts]]\nid = "shopee-ntt"\nmarketplace = "shopee"\n'
        'shop_id = "1"\nproducers = ["IKM-NTT-001"]\n'
    )
    for arguments in (["config", "check"], ["config", "check", "--json"]):
        refused = cli(*arguments)
        assert refused.exit_code == 3, refused.output
        shown = refused.stdout + refused.stderr
        assert "marketplaces.shopee.options.partner_id" in shown
        assert "marketplaces.shopee.options.days_to_ship" in shown
        assert PARTNER_KEY not in shown
