"""The officer's day in a real browser, against served simulators: a shop's
allocation edited (a bad value refused, the preview read, the policy saved), the plan
reviewed, the shop synced now (the page follows the job), the listings on the
simulator and the run; buyers' orders pulled by the next sync shown among the orders.

The module's site (tests/e2e/sites.py): ``ikm-sync simulate`` on free ports, the demo
catalogue imported, the Shopee and Bukalapak shops authorised, nothing published; the
console users added with ``users add --password-stdin``; ``ikm-sync serve`` on it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, screenshot, serve, sign_in
from tests.conftest import Cli
from tests.e2e.sites import Site, _site
from tests.e2e.test_simulate import IKM_SYNC
from tests.web.conftest import NTT
from tests.web.kit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db, pytest.mark.e2e]

SHOP = "shopee-ntt-flores"
#: ``users add`` arguments of the NTT officer (who reads English).
OFFICER = ("officer.ntt", "--role", "officer", "--province", NTT, "--language", "en")
#: How long a sync started in the console may take on a loaded machine.
SYNC_WITHIN_MS = 120_000


@pytest.fixture(scope="module")
def site(
    chromium: str, tmp_path_factory: pytest.TempPathFactory, database_backend: Any
) -> Iterator[Site]:
    """Authorised shops, nothing published, and an NTT officer."""
    tmp = tmp_path_factory.mktemp("browser-acceptance")
    url: str = database_backend.create(tmp)
    try:
        for built in _site(tmp / "site", url):
            done = subprocess.run(  # noqa: S603  (our own console script)
                [
                    IKM_SYNC,
                    "--config",
                    str(built.config),
                    "users",
                    "add",
                    *OFFICER,
                    "--password-stdin",
                ],
                input=PASSWORD + "\n",
                capture_output=True,
                text=True,
                env=built.env,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            yield built
    finally:
        database_backend.drop(url)


@pytest.fixture(scope="module")
def console(site: Site) -> Iterator[Served]:
    yield from serve(site.database_url, site.workdir, site.config, site.env)


def available(page: Page) -> dict[str, int]:
    """SKU -> the "Available" cell of the allocation preview."""
    rows = page.locator("#preview tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    return {str(sku).strip(): int(str(n).replace(",", "")) for sku, n in rows}


def would_show(page: Page) -> dict[str, str]:
    """SKU -> the "Would show" cell of the allocation preview."""
    rows = page.locator("#preview tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[4].innerText])"
    )
    return {str(sku).strip(): str(shown).strip() for sku, shown in rows}


def sync_now(page: Page, console: Served) -> str:
    """Press Sync now on the shop's plan; wait for the job; the page's text."""
    page.goto(f"{console.url}/sync/{SHOP}")
    page.click(f"form[action='/sync/{SHOP}/now'] button[type=submit]")
    job = page.locator("#job")
    expect(job).to_have_attribute("data-state", "finished", timeout=SYNC_WITHIN_MS)
    return job.inner_text()


def test_an_officer_sets_the_allocation_reviews_the_plan_syncs_and_sees_orders(
    page: Page, console: Served, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(page, console.url, "officer.ntt")

    # the allocation: a bad share is refused naming the field, nothing saved
    page.goto(f"{console.url}/shops/{SHOP}")
    before = would_show(page)
    assert before
    page.fill("#share_percent", "seratus")
    page.click("form.shops-policy button:not(.secondary)")
    expect(page.locator("#share_percent")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "acceptance-allocation-refused")
    page.goto(f"{console.url}/shops/{SHOP}")
    expect(page.locator("#share_percent")).to_have_value("60")

    # the preview of a larger share, then the policy saved
    page.fill("#share_percent", "100")
    page.click("form.shops-policy button.secondary")
    expect(page.locator("#preview h2")).to_contain_text("not saved")
    previewed = would_show(page)
    assert previewed.keys() == before.keys()
    assert previewed != before
    screenshot(page, "acceptance-allocation-preview")
    page.click("form.shops-policy button:not(.secondary)")
    page.wait_for_url(f"{console.url}/shops/{SHOP}*")
    expect(page.locator("#share_percent")).to_have_value("100")

    # the plan: every product of the shop to create, nothing sent yet
    page.click("nav a[href='/sync']")
    page.wait_for_url(f"{console.url}/sync")
    page.click(f"main a[href='/sync/{SHOP}']")
    page.wait_for_url(f"{console.url}/sync/{SHOP}")
    creates = page.locator("tr[data-change]")
    expect(creates.first).to_be_visible()
    planned = creates.count()
    assert site.shown()["shopee"] == []
    screenshot(page, "acceptance-plan")

    # sync now: the job's page follows it; the listings are on the simulator
    text = sync_now(page, console)
    assert "failed" not in text
    screenshot(page, "acceptance-sync-job")
    listed = site.shown()["shopee"]
    assert len(listed) == planned
    run_link = page.locator("#job a[href^='/sync/runs/']").first
    run_link.click()
    expect(page.locator("h1")).to_contain_text(run_link_text(page))
    screenshot(page, "acceptance-run")

    # buyers order on Shopee; the next sync pulls their orders into the console
    placed = site.buyers("shopee", 2)
    assert "failed" not in sync_now(page, console)
    page.goto(f"{console.url}/orders?shop={SHOP}")
    for order in placed:
        expect(page.locator(f"tr[data-order='{order}']")).to_be_visible()
    screenshot(page, "acceptance-orders")

    # the workshop's stock runs out (counted by hand); a buyer orders what the
    # marketplace still shows: the order is oversold, and the officer settles it
    for name in [n for n in os.environ if n.upper().startswith("IKMSYNC_")]:
        monkeypatch.delenv(name)  # the in-process command reads only the site's
    cli = Cli(site.database_url, site.workdir, site.env)  # in-process: quicker
    for sku, units in available(page_of_shop(page, console)).items():
        if units > 0:
            adjust = ("stock", "adjust", sku, str(-units), "--reason", "stocktake")
            done = cli("--config", str(site.config), *adjust)
            assert done.exit_code == 0, done.output
    oversold = site.buyers("shopee", 1)
    assert "failed" not in sync_now(page, console)
    page.goto(f"{console.url}/orders")
    page.click("a[href='/orders/oversold']")
    row = page.locator(f"tr[data-order='{oversold[0]}']")
    expect(row).to_contain_text("open")
    screenshot(page, "acceptance-oversold")
    row.locator("textarea[name=note]").fill("Dikirim dari stok gudang Kupang")
    row.locator("form[action='/orders/oversold/settle'] button").click()
    expect(page.locator("[role=status]")).to_contain_text(oversold[0])
    expect(page.locator(f"tr[data-order='{oversold[0]}']")).to_have_count(0)
    page.goto(f"{console.url}/orders/oversold?all=1")  # settled ones too
    row = page.locator(f"tr[data-order='{oversold[0]}']")
    expect(row).to_contain_text("Dikirim dari stok gudang Kupang")
    expect(row).to_contain_text("console:officer.ntt")
    expect(row.locator("form")).to_have_count(0)


def page_of_shop(page: Page, console: Served) -> Page:
    page.goto(f"{console.url}/shops/{SHOP}")
    return page


def run_link_text(page: Page) -> str:
    """The run number in the run page's address (``/sync/runs/<n>``)."""
    return page.url.rsplit("/", 1)[-1]
