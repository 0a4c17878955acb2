"""The Shops pages: the accounts in scope, one account's detail, its allocation
policy edited (with its preview and its audit events, and how ``accounts apply``
treats it), the account check and the marketplace's approval flow."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from config import load_settings
from core.audit.query import EventFilter
from core.domain.accounts import AllocationPolicy, AllocationRule, ChannelAccount
from core.domain.ids import AccountId
from core.domain.remote import Secret
from ikm_sync.bootstrap import build_runtime
from tests.e2e.test_simulate import IKM_SYNC, _read_announcement
from tests.fakes import TEST_TOKEN_KEY
from tests.web.conftest import CONFIG, DEMO, ConsoleWorld
from tests.web.kit import sign_in
from web.app import create_app
from web.console import Console

pytestmark = pytest.mark.db

NTT_SHOP = "shopee-ntt-flores"
LAPAS_SHOP = "tokopedia-karya-lapas"
SHARED_SHOP = "bukalapak-esmart-ikm"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _stored(world: ConsoleWorld, account: str) -> ChannelAccount:
    with world.console.units() as uow:
        return next(a for a in uow.accounts.get_all() if a.id == account)


@dataclass(frozen=True)
class Event:
    """An audit event as the tests read it: actor, subject, before and after."""

    actor: str
    subject: str
    before: dict[str, Any]
    after: dict[str, Any]


def _events(world: ConsoleWorld, action: str) -> list[Event]:
    reader = world.console.runtime.audit_reader()
    return [
        Event(
            e.actor,
            e.subject,
            json.loads(e.before or "{}"),
            json.loads(e.after or "{}"),
        )
        for e in reader.events(EventFilter(kind=action))
    ]


def _policy_form(csrf: str, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "share_percent": "40",
        "safety_buffer": "2",
        "cap": "15",
        "min_to_list": "3",
        "overrides": "KOPI-FLR-001: cap=5, share_percent=100",
        "excluded": "TNN-NTT-002",
    }
    return form | values


# ------------------------------------------------------------------ the list


def test_the_list_shows_each_officer_the_shops_all_of_whose_producers_are_theirs(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    page = client.get("/shops")
    assert page.status_code == 200
    assert f'href="/shops/{NTT_SHOP}"' in page.text
    assert "265220111" in page.text  # the shop id
    assert "IKM-NTT-001, IKM-NTT-002, WBP-NTT-001" in page.text
    assert LAPAS_SHOP not in page.text
    assert SHARED_SHOP not in page.text  # shared with producers out of scope

    lapas = console_world.browser()
    sign_in(lapas, "officer.lapas")
    listed = lapas.get("/shops").text
    assert LAPAS_SHOP in listed
    assert "718046" in listed
    assert NTT_SHOP not in listed
    assert SHARED_SHOP not in listed

    admin = console_world.browser()
    sign_in(admin, "admin")
    everything = admin.get("/shops").text
    for shop in (NTT_SHOP, LAPAS_SHOP, SHARED_SHOP):
        assert f'href="/shops/{shop}"' in everything
    assert everything.count("belum ada token") == 3  # nothing authorised yet (id)


def test_the_list_and_detail_show_the_authorisation_state_and_escape_its_reason(
    console_world: ConsoleWorld,
) -> None:
    tokens = console_world.console.runtime.token_store()
    account = AccountId(NTT_SHOP)
    with tokens.refreshing(account) as held:
        held.save(
            replace(
                held.current,
                access_token=Secret("tok-access"),
                needs_reauthorisation=True,
                reason=f"shop said {SCRIPT}",
            )
        )
    ends = datetime.fromisoformat("2027-03-01T00:00:00+00:00")
    tokens.record_authorisation_expiry(account, ends)
    client = console_world.client
    sign_in(client, "officer.ntt")
    for path in ("/shops", f"/shops/{NTT_SHOP}"):
        page = client.get(path)
        assert page.status_code == 200
        assert "Perlu otorisasi ulang" in page.text
        assert ESCAPED in page.text
        assert SCRIPT not in page.text
        assert "2027" in page.text  # when it expires
        assert "tok-access" not in page.text


# ------------------------------------------------------------------ scope


def test_a_shop_out_of_scope_is_not_found_and_nothing_changes(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.lapas")
    before = _stored(console_world, NTT_SHOP)
    for shop in (NTT_SHOP, SHARED_SHOP, "no-such-shop"):
        assert client.get(f"/shops/{shop}").status_code == 404
        saved = client.post(
            f"/shops/{shop}/allocation",
            data=_policy_form(csrf),
            follow_redirects=False,
        )
        assert saved.status_code == 404
        previewed = client.post(
            f"/shops/{shop}/allocation/preview", data=_policy_form(csrf)
        )
        assert previewed.status_code == 404
        assert "KOPI-FLR" not in previewed.text  # no SKU of the shop shown
        for action in ("check", "authorise"):
            answer = client.post(
                f"/shops/{shop}/{action}",
                data={"csrf_token": csrf},
                follow_redirects=False,
            )
            assert answer.status_code == 404
        callback = client.get(
            f"/shops/{shop}/authorised", params={"code": "x", "state": "y"}
        )
        assert callback.status_code == 404
    assert _stored(console_world, NTT_SHOP) == before
    assert _events(console_world, "account.allocation") == []
    assert console_world.console.runtime.account_watch().authorisations() == {}


def test_an_auditor_reads_a_shop_but_changes_nothing(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    csrf = sign_in(client, "auditor")
    page = client.get(f"/shops/{SHARED_SHOP}")
    assert page.status_code == 200
    for action in ("check", "authorise"):
        assert f'action="/shops/{SHARED_SHOP}/{action}"' not in page.text
    assert "Save policy" not in page.text
    before = _stored(console_world, SHARED_SHOP)
    saved = client.post(
        f"/shops/{SHARED_SHOP}/allocation",
        data=_policy_form(csrf),
        follow_redirects=False,
    )
    assert saved.status_code == 403
    for action in ("check", "authorise"):
        answer = client.post(
            f"/shops/{SHARED_SHOP}/{action}",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert answer.status_code == 403
    assert (
        client.get(
            f"/shops/{SHARED_SHOP}/authorised", params={"code": "x", "state": "y"}
        ).status_code
        == 403
    )
    assert _stored(console_world, SHARED_SHOP) == before
    assert _events(console_world, "account.allocation") == []


def test_a_change_without_the_csrf_token_is_refused(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    sign_in(client, "officer.ntt")
    before = _stored(console_world, NTT_SHOP)
    answer = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form("not-the-token"),
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert _stored(console_world, NTT_SHOP) == before


# ------------------------------------------------------------------ the policy


def test_an_officer_saves_a_policy_recorded_before_and_after(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    page = client.get(f"/shops/{NTT_SHOP}")
    assert page.status_code == 200
    assert 'value="60"' in page.text  # the settings' share
    assert "KOPI-FLR-001: share_percent=60, safety_buffer=1, cap=20" in page.text
    saved = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form(csrf),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/shops/{NTT_SHOP}?done=saved"
    stored = _stored(console_world, NTT_SHOP)
    assert stored.policy == AllocationPolicy(
        default=AllocationRule(40, 2, 15, 3),
        overrides={"KOPI-FLR-001": AllocationRule(100, 2, 5, 3)},
        excluded=frozenset({"TNN-NTT-002"}),
    )
    assert stored.policy_edit is not None
    assert stored.policy_edit.by == "console:officer.ntt"
    assert stored.policy_edit.settings_policy.default == AllocationRule(60, 1, None, 1)
    (event,) = _events(console_world, "account.allocation")
    assert event.actor == "console:officer.ntt"
    assert event.subject == f"account:{NTT_SHOP}"
    assert event.before["policy"]["default"]["share_percent"] == 60
    assert event.before["set_in_console"] is False
    assert event.after["policy"]["default"] == {
        "share_percent": 40,
        "safety_buffer": 2,
        "cap": 15,
        "min_to_list": 3,
    }
    assert event.after["policy"]["excluded"] == ["TNN-NTT-002"]
    assert event.after["source"] == "console"
    shown = client.get(saved.headers["location"])
    assert "console:officer.ntt" in shown.text
    assert 'value="40"' in shown.text

    again = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form(csrf),
        follow_redirects=False,
    )
    assert again.headers["location"].endswith("done=unchanged")
    assert len(_events(console_world, "account.allocation")) == 1


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"share_percent": "150"}, "share_percent", "from 0 to 100, got 150"),
        ({"safety_buffer": "-1"}, "safety_buffer", "0 or more, got -1"),
        ({"cap": "lots"}, "cap", "empty for no cap, got lots"),
        ({"min_to_list": "2.5"}, "min_to_list", "0 or more, got 2.5"),
        ({"overrides": "KOPI-FLR-001 cap=5"}, "overrides line 1", "SKU: name=value"),
        (
            {"overrides": "A: cap=1\nKOPI-FLR-001: shares=5"},
            "overrides line 2",
            "shares=5: expected one of share_percent",
        ),
        (
            {"overrides": "KOPI-FLR-001: cap=x"},
            "overrides line 1: cap",
            "got x",
        ),
        (
            {"overrides": "A: cap=1\na: cap=2"},
            "overrides line 2",
            "SKU a is given twice",
        ),
        ({"excluded": "A B"}, "excluded", "got A B"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_saved(
    console_world: ConsoleWorld, values: dict[str, str], field: str, expected: str
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    client.post("/language", data={"csrf_token": csrf, "language": "en"})
    before = _stored(console_world, NTT_SHOP)
    answer = client.post(
        f"/shops/{NTT_SHOP}/allocation", data=_policy_form(csrf, **values)
    )
    assert answer.status_code == 422
    assert "Nothing was saved" in answer.text
    assert f"<strong>{field}</strong>" in answer.text
    assert expected in answer.text
    assert _stored(console_world, NTT_SHOP) == before
    assert _events(console_world, "account.allocation") == []


def test_officer_typed_text_is_shown_escaped(console_world: ConsoleWorld) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    answer = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form(csrf, overrides=SCRIPT, excluded=SCRIPT),
    )
    assert answer.status_code == 422
    assert SCRIPT not in answer.text
    assert ESCAPED in answer.text


def _apply(world: ConsoleWorld, config: Path, *extra: str) -> dict[str, Any]:
    done = world.cli("--config", str(config), "accounts", "apply", "--json", *extra)
    assert done.exit_code == 0, done.output
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_accounts_apply_keeps_the_console_policy_until_the_settings_change_it(
    console_world: ConsoleWorld, tmp_path: Path
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    saved = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form(csrf),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    edited = _stored(console_world, NTT_SHOP)

    # The same settings again: the officer's policy stays.
    kept = _apply(console_world, CONFIG)
    assert kept["console_policies"] == [NTT_SHOP]
    assert NTT_SHOP in kept["unchanged"]
    assert _stored(console_world, NTT_SHOP) == edited
    assert len(_events(console_world, "account.allocation")) == 1

    # The settings' allocation of the shop changes: the settings win.
    folder = tmp_path / "changed"
    shutil.copytree(DEMO / "secrets", folder / "secrets")
    text = CONFIG.read_text().replace(
        "share_percent = 60\nsafety_buffer = 1", "share_percent = 70\nsafety_buffer = 1"
    )
    assert "share_percent = 70" in text
    changed = folder / "ikm-sync.toml"
    changed.write_text(text)
    planned = _apply(console_world, changed, "--dry-run")
    assert planned["applied"] is False
    assert NTT_SHOP in planned["updated"]
    assert _stored(console_world, NTT_SHOP) == edited  # a dry run writes nothing
    applied = _apply(console_world, changed)
    assert applied["console_policies"] == []
    assert NTT_SHOP in applied["updated"]
    now = _stored(console_world, NTT_SHOP)
    assert now.policy_edit is None
    assert now.policy.default == AllocationRule(70, 1, None, 1)
    events = _events(console_world, "account.allocation")
    assert len(events) == 2
    ended = next(e for e in events if e.after["source"] == "settings")
    assert ended.before["set_in_console"] is True
    assert ended.after["set_in_console"] is False
    assert ended.after["policy"]["default"]["share_percent"] == 70


def test_saving_the_settings_policy_ends_the_console_edit(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    client.post(f"/shops/{NTT_SHOP}/allocation", data=_policy_form(csrf))
    assert _stored(console_world, NTT_SHOP).policy_edit is not None
    back = client.post(
        f"/shops/{NTT_SHOP}/allocation",
        data=_policy_form(
            csrf,
            share_percent="60",
            safety_buffer="1",
            cap="",
            min_to_list="1",
            overrides="KOPI-FLR-001: share_percent=60, safety_buffer=1, cap=20, "
            "min_to_list=1",
            excluded="",
        ),
        follow_redirects=False,
    )
    assert back.status_code == 303
    stored = _stored(console_world, NTT_SHOP)
    assert stored.policy_edit is None
    assert stored.policy.default == AllocationRule(60, 1, None, 1)


# ------------------------------------------------------------------ the preview


def _rows(html: str) -> dict[str, tuple[str, str, str]]:
    """SKU → (available, shown now, would show) of the preview table."""
    found = {}
    for row in re.findall(
        r"<tr>\s*<td>([^<]+)</td><td>[^<]*</td>(.*?)</tr>", html, re.S
    ):
        sku, rest = row
        cells = re.findall(r'<td class="num">(.*?)</td>', rest, re.S)
        found[sku] = tuple(re.sub(r"<[^>]+>", "", c).strip() for c in cells)
    return found  # type: ignore[return-value]


def test_the_preview_shows_what_each_sku_would_show_and_saves_nothing(
    console_world: ConsoleWorld,
) -> None:
    client = console_world.client
    csrf = sign_in(client, "officer.ntt")
    client.post("/language", data={"csrf_token": csrf, "language": "en"})
    now = _rows(client.get(f"/shops/{NTT_SHOP}").text)
    assert now, "the shop's products are listed"
    assert all(sku.startswith(("KOPI-FLR", "TNN-NTT", "WBP-NTT", "KRJ")) or sku
               for sku in now)  # fmt: skip
    stored = _stored(console_world, NTT_SHOP)
    for sku, (available, shown, would) in now.items():
        expected = stored.policy.allocate(sku, int(available.replace(".", "")))
        assert would == ("excluded" if expected is None else str(expected))
        assert shown == "not listed"  # never synced
    before = stored
    form = _policy_form(
        csrf,
        share_percent="100",
        safety_buffer="0",
        cap="",
        min_to_list="0",
        overrides="",
        excluded="KOPI-FLR-001",
    )
    preview = client.post(f"/shops/{NTT_SHOP}/allocation/preview", data=form)
    assert preview.status_code == 200
    assert "not saved" in preview.text
    rows = _rows(preview.text)
    assert rows.keys() == now.keys()
    for sku, (available, _shown, would) in rows.items():
        if sku == "KOPI-FLR-001":
            assert would == "excluded"
        else:
            assert would == str(max(int(available.replace(".", "")), 0))
    fragment = client.post(
        f"/shops/{NTT_SHOP}/allocation/preview",
        data=form,
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="preview">')
    assert "<html" not in fragment.text
    assert _rows(fragment.text) == rows
    wrong = client.post(
        f"/shops/{NTT_SHOP}/allocation/preview",
        data=form | {"share_percent": "x"},
    )
    assert wrong.status_code == 422
    assert "<strong>share_percent</strong>" in wrong.text
    wrong_fragment = client.post(
        f"/shops/{NTT_SHOP}/allocation/preview",
        data=form | {"cap": "-3"},
        headers={"HX-Request": "true"},
    )
    assert wrong_fragment.status_code == 200  # htmx swaps it in
    assert "<strong>cap</strong>" in wrong_fragment.text
    assert _rows(wrong_fragment.text) == {}
    assert _stored(console_world, NTT_SHOP) == before
    assert _events(console_world, "account.allocation") == []


# ------------------------------------------------------------------ approval, check


@pytest.fixture
def simulators() -> Iterator[dict[str, dict[str, Any]]]:
    """The Shopee and Tokopedia simulators in a real ``ikm-sync simulate`` process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    command = [IKM_SYNC, "simulate", "--json", "--duration", "120"]
    command += ["--pictures-port", "0"]
    for key in ("shopee", "tokopedia"):
        command += ["-m", key, "--port", f"{key}=0"]
    process = subprocess.Popen(  # noqa: S603  (our own console script)
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    try:
        announced = _read_announcement(process)
        yield {s["marketplace"]: s for s in announced["simulators"]}
    finally:
        process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


@pytest.fixture
def shopee(simulators: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The served Shopee simulator's announcement."""
    return simulators["shopee"]


@pytest.fixture
def served(
    console_world: ConsoleWorld, simulators: dict[str, dict[str, Any]]
) -> Iterator[Console]:
    """A console on the test's database whose Shopee and Tokopedia are the served
    simulators."""
    shopee, tokopedia = simulators["shopee"], simulators["tokopedia"]
    toko = tokopedia["credentials"]
    loaded = load_settings(
        CONFIG,
        environ={
            "IKMSYNC_DATABASE_URL": console_world.cli.database_url,
            "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
            "IKMSYNC_MARKETPLACES__SHOPEE__BASE_URL": shopee["url"],
            "IKMSYNC_CREDENTIALS__SHOPEE_DEMO__PARTNER_KEY": shopee["credentials"][
                "partner_key"
            ],
            "IKMSYNC_MARKETPLACES__TOKOPEDIA__BASE_URL": tokopedia["url"],
            "IKMSYNC_MARKETPLACES__TOKOPEDIA__OPTIONS__TOKEN_URL": (
                f"{tokopedia['url']}/token"
            ),
            "IKMSYNC_CREDENTIALS__TOKOPEDIA_DEMO__CLIENT_ID": toko["client_id"],
            "IKMSYNC_CREDENTIALS__TOKOPEDIA_DEMO__CLIENT_SECRET": toko["client_secret"],
        },
    )
    assert str(shopee["credentials"]["shop_id"]) == "265220111"
    assert loaded.settings.marketplaces["tokopedia"].options["fs_id"] == 65125
    console = Console(loaded, build_runtime(loaded))
    try:
        yield console
    finally:
        console.close()


@pytest.mark.slow
def test_a_shop_linked_outside_the_api_is_proved_and_checked(
    console_world: ConsoleWorld, served: Console
) -> None:
    app = create_app(served, seal_every=None)
    with TestClient(app) as client:
        csrf = sign_in(client, "officer.lapas")
        client.post("/language", data={"csrf_token": csrf, "language": "en"})
        linked = client.post(
            f"/shops/{LAPAS_SHOP}/authorise",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert linked.status_code == 303
        assert linked.headers["location"] == f"/shops/{LAPAS_SHOP}?done=linked"
        page = client.get(linked.headers["location"])
        assert "links shops outside its API" in page.text
        checked = client.post(f"/shops/{LAPAS_SHOP}/check", data={"csrf_token": csrf})
        assert checked.status_code == 200
        assert 'class="badge good">ok<' in checked.text


@pytest.mark.slow
def test_an_officer_authorises_a_shop_through_the_simulators_consent_then_checks_it(
    console_world: ConsoleWorld, served: Console, shopee: dict[str, Any]
) -> None:
    app = create_app(served, seal_every=None)
    with TestClient(app) as client, httpx.Client() as outside:
        csrf = sign_in(client, "officer.ntt")
        client.post("/language", data={"csrf_token": csrf, "language": "en"})
        before = client.post(f"/shops/{NTT_SHOP}/check", data={"csrf_token": csrf})
        assert before.status_code == 200
        assert "needs re-authorisation" in before.text
        assert f"ikm-sync accounts authorize {NTT_SHOP}" in before.text

        started = client.post(
            f"/shops/{NTT_SHOP}/authorise",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert started.status_code == 303
        consent = started.headers["location"]
        assert consent.startswith(shopee["url"])
        approved = outside.get(consent)  # the seller approves at the marketplace
        assert approved.status_code in (302, 303)
        back = httpx.URL(approved.headers["location"])
        assert back.path == f"/shops/{NTT_SHOP}/authorised"
        code, state = back.params["code"], back.params["state"]

        # The same approval brought to another session, or with a changed state,
        # is refused and stores nothing.
        other = TestClient(app)
        sign_in(other, "admin")
        stolen = other.get(back.path, params=dict(back.params))
        assert stolen.status_code == 400
        forged = client.get(back.path, params={"code": code, "state": state + "0"})
        assert forged.status_code == 400
        wrong_shop = client.get(
            f"/shops/{LAPAS_SHOP}/authorised", params={"code": code, "state": state}
        )
        assert wrong_shop.status_code == 404  # not officer.ntt's shop
        untouched = served.runtime.token_store().load(AccountId(NTT_SHOP))
        assert untouched.access_token is None
        assert untouched.needs_reauthorisation  # as the first check left it
        assert untouched.version == 1

        done = client.get(f"{back.path}?{back.query.decode()}", follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == f"/shops/{NTT_SHOP}?done=authorised"
        stored = served.runtime.token_store().load(AccountId(NTT_SHOP))
        assert stored.access_token is not None
        assert not stored.needs_reauthorisation
        assert stored.authorisation_expires_at is not None  # Shopee tells the end
        reader = served.runtime.audit_reader()
        (saved,) = reader.events(EventFilter(kind="account.authorised"))
        assert saved.actor == "console:officer.ntt"
        page = client.get(done.headers["location"])
        assert "Authorised" in page.text
        assert stored.access_token.reveal() not in page.text

        after = client.post(f"/shops/{NTT_SHOP}/check", data={"csrf_token": csrf})
        assert after.status_code == 200
        assert 'class="badge good">ok<' in after.text
        assert "valid" in after.text

        # A code used once is refused by the marketplace: its words, escaped.
        replayed = client.get(f"{back.path}?{back.query.decode()}")
        assert replayed.status_code == 502
        assert "authorisation failed" in replayed.text
