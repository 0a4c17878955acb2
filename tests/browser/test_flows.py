"""Officers, auditors and the admin at work in a real browser, on a console whose
shops were published to served simulators and have taken buyers' orders.

The module's site (tests/e2e/sites.py): ``ikm-sync simulate`` on free ports, the demo
catalogue imported, the Shopee and Bukalapak shops authorised and published, simulated
buyers' orders pulled by one sync cycle; the console users added with the command line
(``users add --password-stdin``); then ``ikm-sync serve`` on it all.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Served, screenshot, serve, sign_in
from tests.e2e.sites import Site, _site
from tests.e2e.test_simulate import IKM_SYNC
from tests.web.conftest import LAPAS, NTT
from tests.web.kit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db, pytest.mark.e2e]

#: Script that would mark the page as taken over, were it ever run.
PLANTED = "<script>window.__pwned = 1</script>"

#: The Lapas officer's scope, as ``users add`` options.
INSTITUTIONS = tuple(x for name in LAPAS for x in ("--institution", name))


@pytest.fixture(scope="module")
def site(
    chromium: str, tmp_path_factory: pytest.TempPathFactory, database_backend: Any
) -> Iterator[Site]:
    """Published shops with buyers' orders pulled, and the console's users."""
    tmp = tmp_path_factory.mktemp("browser-site")
    url: str = database_backend.create(tmp)
    try:
        for built in _site(tmp / "site", url):
            built.run("sync", "push")
            built.buyers("shopee", 3)
            built.buyers("bukalapak", 6)
            built.run("sync", "cycle")
            users = (
                ("admin", "--role", "admin"),
                ("auditor", "--role", "auditor"),
                ("officer.ntt", "--role", "officer", "--province", NTT),
                ("officer.lapas", "--role", "officer", *INSTITUTIONS),
            )
            for user in users:
                _add_user(built, *user)
            yield built
    finally:
        database_backend.drop(url)


def _add_user(site: Site, *args: str) -> None:
    done = subprocess.run(  # noqa: S603  (our own console script)
        [
            IKM_SYNC,
            "--config",
            str(site.config),
            "users",
            "add",
            *args,
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=site.env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def console(site: Site) -> Iterator[Served]:
    """The console on the site's database and settings."""
    yield from serve(site.database_url, site.workdir, site.config, site.env)


def rows_of(page: Page, table: str) -> list[list[str]]:
    """The body cells of ``table`` (a selector), row by row."""
    return [
        [cell.strip() for cell in row]
        for row in page.locator(f"{table} tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
        )
    ]


def test_home_shows_the_published_shops_in_the_officers_scope(
    page: Page, console: Served
) -> None:
    sign_in(page, console.url, "officer.ntt")
    shops = rows_of(page, "table")
    assert [row[0] for row in shops] == ["shopee-ntt-flores"]
    listed = int(shops[0][2].replace(".", "").replace(",", ""))
    assert listed > 0
    assert "succeeded" in shops[0][4]
    screenshot(page, "flows-home-officer")


def test_reports_show_an_officer_their_producers_sales_only_and_export_them(
    page: Page, console: Served
) -> None:
    sign_in(page, console.url, "admin")
    page.goto(f"{console.url}/reports?by=province")
    everyone = rows_of(page, "table[aria-labelledby=h-figures]")
    provinces = {row[0] for row in everyone}
    assert NTT in provinces
    admin_orders = int(
        page.locator("table[aria-labelledby=h-figures] tfoot th").nth(1).inner_text()
    )
    page.click("form[action='/logout'] button[type=submit]")

    sign_in(page, console.url, "officer.ntt")
    page.click("nav a[href='/reports']")
    page.wait_for_url(f"{console.url}/reports")
    expect(page.locator("svg.chart")).to_be_visible()
    mine = rows_of(page, "table[aria-labelledby=h-figures]")
    assert [row[0] for row in mine] == [NTT]
    officer_orders = int(
        page.locator("table[aria-labelledby=h-figures] tfoot th").nth(1).inner_text()
    )
    assert 0 < officer_orders <= admin_orders
    screenshot(page, "flows-reports-officer")

    with page.expect_download() as downloading:
        page.click("section[aria-labelledby=h-figures] a:text('CSV')")
    download = downloading.value
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    text = path.read_text(encoding="utf-8")
    exported = list(csv.reader(io.StringIO(text)))
    assert any(NTT in row for row in exported)
    others = provinces - {NTT}
    assert others  # the Bukalapak buyers bought beyond NTT too
    assert not any(p in text for p in others)


def test_reports_at_375_pixels_scroll_inside_their_tables_only(
    browser: Browser, console: Served
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, console.url, "admin")
        page.goto(f"{console.url}/reports")
        expect(page.locator("h1")).to_be_visible()
        screenshot(page, "flows-reports-375")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"the reports page is {width} px wide at 375 px"
    finally:
        context.close()


def test_the_admin_adds_an_officer_who_then_signs_in_to_their_scope_only(
    page: Page, browser: Browser, console: Served
) -> None:
    sign_in(page, console.url, "admin")
    page.click("nav a[href='/users']")
    page.wait_for_url(f"{console.url}/users")

    # an officer without a scope is refused, naming what is missing; nobody is added
    page.fill("#new-username", "petugas.baru")
    page.select_option("#new-role", "officer")
    page.fill("#new-pw", PASSWORD)
    page.click("form[action='/users'] button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()
    assert "petugas.baru" not in [r[0] for r in rows_of(page, "table")]
    screenshot(page, "flows-users-refused")

    page.fill("#new-username", "petugas.baru")
    page.fill("#new-display", PLANTED)  # an officer-sourced text, shown as text
    page.select_option("#new-role", "officer")
    page.fill("#new-prov", NTT)
    page.fill("#new-pw", PASSWORD)
    page.click("form[action='/users'] button[type=submit]")
    expect(page.locator("table tbody")).to_contain_text("petugas.baru")
    expect(page.locator("table tbody")).to_contain_text(PLANTED)
    assert page.locator("main script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    screenshot(page, "flows-users")

    newcomer = browser.new_context()
    try:
        theirs = newcomer.new_page()
        sign_in(theirs, console.url, "petugas.baru")
        shops = [row[0] for row in rows_of(theirs, "table")]
        assert shops == ["shopee-ntt-flores"]
        expect(theirs.locator("nav a[href='/users']")).to_have_count(0)
        answer = theirs.goto(f"{console.url}/users")
        assert answer is not None
        assert answer.status == 403
    finally:
        newcomer.close()


def test_the_auditor_cannot_reach_the_users_page(page: Page, console: Served) -> None:
    sign_in(page, console.url, "auditor")
    expect(page.locator("nav a[href='/users']")).to_have_count(0)
    answer = page.goto(f"{console.url}/users")
    assert answer is not None
    assert answer.status == 403
