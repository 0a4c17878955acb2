"""A known secret never appears in a log line, an error, an export or the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.e2e.helpers import snapshot, write_csv

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
    stored = repr(snapshot(cli.database_url))
    for secret in (PARTNER_KEY, FILE_SECRET, DB_PASSWORD):
        assert secret not in logged
        assert secret.encode() not in exports
        assert secret not in stored
    assert "**********" in runs[0].stdout
    assert "**********" in runs[10].stderr  # the rejected cell is shown, masked
