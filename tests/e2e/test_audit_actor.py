"""The command line records who acts in every audit event of a changing command:
``--actor``, else the ``actor`` setting (``IKMSYNC_ACTOR``), else ``cli:<user>``;
and the binding ends with the command."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.audit.events import Acting, current
from tests.conftest import Cli
from tests.integration.test_audit_changes import events

pytestmark = [pytest.mark.e2e, pytest.mark.db]

ACCOUNTS = """
[[accounts]]
id = "shopee-ntt"
marketplace = "shopee"
shop_id = "220011"
producers = ["IKM-NTT-001"]
credentials = "shopee_main"

[accounts.allocation]
share_percent = {share}
"""


def test_changing_commands_record_their_actor_in_every_event(
    cli: Cli, demo_dir: Path, engine: sa.Engine
) -> None:
    config = cli.workdir / "ikm-sync.toml"
    cli.env["IKMSYNC_CREDENTIALS__SHOPEE_MAIN__PARTNER_KEY"] = "pk-planted-0123456789"
    imported = cli(
        "catalog",
        "import",
        str(demo_dir / "producers.csv"),
        str(demo_dir / "products.csv"),
        "--actor",
        "officer:ani",
    )
    assert imported.exit_code == 0, imported.output
    config.write_text(ACCOUNTS.format(share=60), encoding="utf-8")
    applied = cli("accounts", "apply", "--actor", "officer:ani")
    assert applied.exit_code == 0, applied.output
    assert current() == Acting()  # the command's binding ended with it

    config.write_text(ACCOUNTS.format(share=40), encoding="utf-8")
    changed = cli("accounts", "apply", env={"IKMSYNC_ACTOR": "officer:budi"})
    assert changed.exit_code == 0, changed.output

    found = events(engine)
    catalogue = [e for e in found if e["action"].startswith(("product.", "producer."))]
    assert catalogue
    assert {e["actor"] for e in catalogue} == {"officer:ani"}
    assert [
        (e["actor"], e["action"]) for e in found if e["action"].startswith("account.")
    ] == [("officer:ani", "account.applied"), ("officer:budi", "account.applied")]
    assert {e["actor"] for e in found} <= {"officer:ani", "officer:budi"}
    assert "pk-planted-0123456789" not in repr(found)
