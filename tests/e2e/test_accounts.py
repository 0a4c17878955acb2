"""Accounts against running simulators: authorise each shop, then check them all."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from core.clock import SystemClock
from core.domain.accounts import ChannelAccount
from core.domain.ids import AccountId
from core.domain.remote import Secret
from core.ports import TokenSet
from core.store.crypto import TokenCipher, generate_key
from core.store.db import make_session_factory
from core.store.tokens import SqlTokenStore
from ikm_sync.bootstrap import Connections
from tests.conftest import Cli
from tests.e2e.test_simulate import IKM_SYNC, _read_announcement
from tests.fakes import sql_token_store

pytestmark = [pytest.mark.e2e, pytest.mark.db]


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """All three simulators in one real ``ikm-sync simulate`` process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "120"]
    command += ["--pictures-port", "0"]
    for key in ("shopee", "tokopedia", "bukalapak"):  # only these, on free ports
        command += ["-m", key, "--port", f"{key}=0"]
    with (tmp_path / "simulate.log").open("w") as errors:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=environment
        )
        try:
            announced = _read_announcement(process)
            yield {s["marketplace"]: s for s in announced["simulators"]}
        finally:
            process.kill()
            process.wait(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


def _settings(servers: dict[str, dict[str, Any]]) -> tuple[str, dict[str, str]]:
    shopee, tokopedia, bukalapak = (
        servers[k]["credentials"] for k in ("shopee", "tokopedia", "bukalapak")
    )
    urls = {k: servers[k]["url"] for k in servers}
    toml = f"""
environment = "development"

[marketplaces.shopee]
base_url = "{urls["shopee"]}"
options = {{ partner_id = {shopee["partner_id"]} }}

[marketplaces.tokopedia]
base_url = "{urls["tokopedia"]}"
options = {{ fs_id = {tokopedia["fs_id"]}, token_url = "{urls["tokopedia"]}/token" }}

[marketplaces.bukalapak]
base_url = "{urls["bukalapak"]}"
options = {{ accounts_base_url = "{urls["bukalapak"]}" }}

[[accounts]]
id = "shopee-ntt"
marketplace = "shopee"
shop_id = "{shopee["shop_id"]}"
producers = ["IKM-NTT-001"]
credentials = "shopee_sim"

[[accounts]]
id = "tokopedia-lapas"
marketplace = "tokopedia"
shop_id = "{tokopedia["shop_id"]}"
producers = ["WBP-KALBAR-001"]
credentials = "tokopedia_sim"

[[accounts]]
id = "bukalapak-ikm"
marketplace = "bukalapak"
shop_id = "{bukalapak["store_id"]}"
producers = ["IKM-NTT-001"]
credentials = "bukalapak_sim"
"""
    secrets = {
        "IKMSYNC_CREDENTIALS__SHOPEE_SIM__PARTNER_KEY": shopee["partner_key"],
        "IKMSYNC_CREDENTIALS__TOKOPEDIA_SIM__CLIENT_ID": tokopedia["client_id"],
        "IKMSYNC_CREDENTIALS__TOKOPEDIA_SIM__CLIENT_SECRET": tokopedia["client_secret"],
        "IKMSYNC_CREDENTIALS__BUKALAPAK_SIM__CLIENT_ID": bukalapak["client_id"],
        "IKMSYNC_CREDENTIALS__BUKALAPAK_SIM__CLIENT_SECRET": bukalapak["client_secret"],
    }
    return toml, secrets


def test_authorise_then_check_every_account(
    cli: Cli, demo_dir: Path, simulators: dict[str, dict[str, Any]]
) -> None:
    toml, secrets = _settings(simulators)
    (cli.workdir / "ikm-sync.toml").write_text(toml)
    cli.env.update(secrets)
    imported = cli("catalog", "import", str(demo_dir / "producers.csv"))
    assert imported.exit_code == 0, imported.output
    assert cli("accounts", "apply").exit_code == 0

    before = cli("accounts", "check", "--json")
    assert before.exit_code == 1  # the OAuth shops are not authorised yet
    verdicts = {
        r["account"]: r["result"] for r in json.loads(before.stdout)["accounts"]
    }
    assert verdicts == {
        "shopee-ntt": "needs re-authorisation",
        "tokopedia-lapas": "ok",  # client credentials: nothing to authorise
        "bukalapak-ikm": "needs re-authorisation",
    }
    reasons = {r["account"]: r["reason"] for r in json.loads(before.stdout)["accounts"]}
    for account in ("shopee-ntt", "bukalapak-ikm"):  # what to do next, by name
        assert f"run `ikm-sync accounts authorize {account}`" in reasons[account]

    for account in ("shopee-ntt", "bukalapak-ikm"):
        printed = cli("accounts", "authorize", account)
        assert printed.exit_code == 0
        assert "Open this link" in printed.stdout
        done = cli("accounts", "authorize", account, "--follow")
        assert done.exit_code == 0, done.output
        assert f"{account}: authorised" in done.stdout

    after = cli("accounts", "check", "--json")
    assert after.exit_code == 0, after.output
    rows = json.loads(after.stdout)["accounts"]
    assert {r["account"]: r["result"] for r in rows} == dict.fromkeys(verdicts, "ok")
    # Shopee reports when the shop's authorisation ends (a year after approval);
    # the others have no such end.
    ends = {r["account"]: r["authorisation"] for r in rows}
    assert ends["shopee-ntt"]["state"] == "valid"
    assert ends["shopee-ntt"]["days_left"] in (364, 365)
    assert ends["tokopedia-lapas"]["state"] == "unknown"
    assert ends["bukalapak-ikm"]["state"] == "unknown"
    table = cli("accounts", "check")
    assert "needs re-authorisation" not in table.stdout
    everything = after.stdout + after.stderr + table.stdout + table.stderr
    for secret in secrets.values():
        assert secret not in everything

    # The simulator's admin endpoint brings the end within the warning window.
    shopee = simulators["shopee"]
    shop_id = int(shopee["credentials"]["shop_id"])
    soon = int(time.time()) + 10 * 86_400 + 3_600  # an hour's margin: 10 whole days
    set_end = httpx.post(
        f"{shopee['url']}/_sim/authorisation",
        json={"shop_id": shop_id, "expire_time": soon},
        timeout=10,
    )
    assert set_end.status_code == 200, set_end.text
    warned = cli("accounts", "check", "--json", "--account", "shopee-ntt")
    assert warned.exit_code == 0, warned.output
    (row,) = json.loads(warned.stdout)["accounts"]
    assert row["authorisation"]["state"] == "expires_soon"
    assert row["authorisation"]["days_left"] == 10
    assert "authorisation.expires_soon" in warned.stderr
    ends_on = datetime.fromtimestamp(soon, UTC).date().isoformat()
    checked = cli("accounts", "check", "--account", "shopee-ntt")
    assert checked.exit_code == 0, checked.output
    checked_text = " ".join(checked.stdout.split())
    assert f"expires on {ends_on} (in 10 days): renew soon" in checked_text
    status = cli("status", "--json")
    shown = {a["id"]: a["authorisation"] for a in json.loads(status.stdout)["accounts"]}
    assert shown["shopee-ntt"]["state"] == "expires_soon"
    shown_text = " ".join(cli("status").stdout.split())
    assert f"expires on {ends_on} (in 10 days): renew soon" in shown_text

    # Once it has ended, Shopee refuses the shop: the account needs authorising.
    httpx.post(
        f"{shopee['url']}/_sim/authorisation",
        json={"shop_id": shop_id, "expire_time": int(time.time()) - 60},
        timeout=10,
    ).raise_for_status()
    ended = cli("accounts", "check", "--json", "--account", "shopee-ntt")
    assert ended.exit_code == 1
    (row,) = json.loads(ended.stdout)["accounts"]
    assert row["result"] == "needs re-authorisation"
    status = cli("status", "--json")
    shown = {a["id"]: a["authorisation"] for a in json.loads(status.stdout)["accounts"]}
    assert shown["shopee-ntt"]["needs_reauthorisation"] is True


def test_a_wrong_app_secret_is_reported_per_account(
    cli: Cli, demo_dir: Path, simulators: dict[str, dict[str, Any]]
) -> None:
    toml, secrets = _settings(simulators)
    (cli.workdir / "ikm-sync.toml").write_text(toml)
    cli.env.update(
        {**secrets, "IKMSYNC_CREDENTIALS__TOKOPEDIA_SIM__CLIENT_SECRET": "wrong-secret"}
    )
    assert cli("catalog", "import", str(demo_dir / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    result = cli("accounts", "check", "--json", "--account", "tokopedia-lapas")
    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)["accounts"]
    assert row["result"] == "credentials refused"
    unknown = cli("accounts", "check", "--account", "nope")
    assert unknown.exit_code == 3
    assert "no such account" in unknown.stderr


def test_a_tokopedia_shop_linked_again_is_cleared_by_authorize(
    cli: Cli,
    demo_dir: Path,
    simulators: dict[str, dict[str, Any]],
    engine: sa.Engine,
) -> None:
    toml, secrets = _settings(simulators)
    (cli.workdir / "ikm-sync.toml").write_text(toml)
    cli.env.update(secrets)
    assert cli("catalog", "import", str(demo_dir / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    # The shop was once unlinked from the fs_id: the store remembers it.
    store = sql_token_store(make_session_factory(engine), SystemClock())
    with store.refreshing(AccountId("tokopedia-lapas")) as held:
        held.save(
            replace(held.current, needs_reauthorisation=True, reason="RBAC_MDLW_001")
        )

    def verdict() -> str:
        checked = cli("accounts", "check", "--json", "--account", "tokopedia-lapas")
        (row,) = json.loads(checked.stdout)["accounts"]
        return str(row["result"])

    assert verdict() == "needs re-authorisation"
    cleared = cli("accounts", "authorize", "tokopedia-lapas")
    assert cleared.exit_code == 0, cleared.output
    assert "re-authorisation mark is cleared" in cleared.stdout
    assert not store.load(AccountId("tokopedia-lapas")).needs_reauthorisation
    assert verdict() == "ok"


def test_a_tokopedia_token_under_a_lost_key_is_replaced_by_authorize(
    cli: Cli,
    demo_dir: Path,
    simulators: dict[str, dict[str, Any]],
    engine: sa.Engine,
) -> None:
    toml, secrets = _settings(simulators)
    (cli.workdir / "ikm-sync.toml").write_text(toml)
    cli.env.update(secrets)
    assert cli("catalog", "import", str(demo_dir / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    # A token stored under a key that is no longer listed (and lost).
    lost = SqlTokenStore(
        make_session_factory(engine), SystemClock(), TokenCipher([generate_key()])
    )
    with lost.refreshing(AccountId("tokopedia-lapas")) as held:
        held.save(TokenSet(access_token=Secret("c:old"), access_expires_at=None))

    refused = cli("accounts", "check", "--json", "--account", "tokopedia-lapas")
    (row,) = json.loads(refused.stdout)["accounts"]
    assert row["result"] == "error"
    assert "cannot be decrypted" in row["reason"]
    assert "ikm-sync accounts authorize" in row["reason"]

    authorised = cli("accounts", "authorize", "tokopedia-lapas")
    assert authorised.exit_code == 0, authorised.output
    checked = cli("accounts", "check", "--json", "--account", "tokopedia-lapas")
    assert checked.exit_code == 0, checked.output
    (row,) = json.loads(checked.stdout)["accounts"]
    assert row["result"] == "ok"
    stored = sql_token_store(make_session_factory(engine), SystemClock())
    token = stored.load(AccountId("tokopedia-lapas")).access_token
    assert token is not None
    assert token.reveal() != "c:old"


def test_one_account_failing_unexpectedly_never_stops_the_others(
    cli: Cli,
    demo_dir: Path,
    simulators: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    toml, secrets = _settings(simulators)
    (cli.workdir / "ikm-sync.toml").write_text(toml)
    cli.env.update(secrets)
    assert cli("catalog", "import", str(demo_dir / "producers.csv")).exit_code == 0
    assert cli("accounts", "apply").exit_code == 0
    real = Connections.connector

    def connector(self: Connections, account: ChannelAccount) -> Any:
        if account.id == "shopee-ntt":
            raise RuntimeError("[stock] a bug in one connector [/b]")
        return real(self, account)

    monkeypatch.setattr(Connections, "connector", connector)
    checked = cli("accounts", "check", "--json")
    assert checked.exit_code == 1
    verdicts = {
        r["account"]: (r["result"], r["reason"])
        for r in json.loads(checked.stdout)["accounts"]
    }
    assert verdicts["shopee-ntt"] == ("error", "[stock] a bug in one connector [/b]")
    assert verdicts["tokopedia-lapas"] == ("ok", "")
    assert verdicts["bukalapak-ikm"][0] == "needs re-authorisation"
    # The table prints the reason as written: brackets are text, not markup.
    table = cli("accounts", "check")
    assert "[stock] a bug in one connector [/b]" in table.stdout
