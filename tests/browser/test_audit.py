"""The auditor in a real browser: verifies the audit chain (the page follows the
verification running in the background), traces a SKU, exports a period's events;
an officer is refused the audit pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db]


def test_the_auditor_verifies_the_chain_and_the_page_follows_it(
    page: Page, console: Served
) -> None:
    sign_in(page, console.url, "auditor")
    page.click("nav a[href='/audit']")
    page.click("nav.audit-tabs a[href='/audit/verify']")
    page.wait_for_url(f"{console.url}/audit/verify")
    expect(page.locator(".verify-ok")).to_have_count(0)

    page.click("form[action='/audit/verify'] button[type=submit]")
    # shown at once, or by htmx polling (under the CSP) while it still runs
    expect(page.locator(".verify-ok")).to_be_visible(timeout=60_000)
    expect(page.locator(".verify-broken")).to_have_count(0)
    expect(page.locator("#verify-state")).to_contain_text("auditor")
    screenshot(page, "audit-verify")


def test_the_auditor_traces_a_sku_and_is_told_of_an_unknown_one(
    page: Page, console: Served
) -> None:
    sign_in(page, console.url, "auditor")
    page.goto(f"{console.url}/audit/trace")
    page.fill("#t-sku", "KOPI-FLR-001")
    page.click("form[action='/audit/trace'] button[type=submit]")
    expect(page.locator(".on-hand")).to_have_text("48")  # the demo's initial stock
    steps = page.locator("table.audit-trace tbody tr")
    expect(steps).to_have_count(1)
    expect(steps.first).to_contain_text("48")
    screenshot(page, "audit-trace")

    page.fill("#t-sku", "TIDAK-ADA-001")
    page.click("form[action='/audit/trace'] button[type=submit]")
    alert = page.locator("[role=alert]")
    expect(alert).to_contain_text("sku")
    expect(alert).to_contain_text("TIDAK-ADA-001")
    expect(page.locator("table.audit-trace")).to_have_count(0)


def test_the_auditor_exports_a_periods_events(page: Page, console: Served) -> None:
    today = datetime.now(UTC).date()
    since, until = (today - timedelta(days=1)).isoformat(), today.isoformat()
    sign_in(page, console.url, "auditor")
    page.goto(f"{console.url}/audit")
    page.fill("#f-since", since)
    page.fill("#f-until", until)
    page.fill("#f-subject", "sku:KOPI*")
    page.click("form[action='/audit'] button[type=submit]")
    shown = page.locator("table.audit-log tbody tr")
    expect(shown.first).to_be_visible()
    count = shown.count()
    screenshot(page, "audit-log")

    with page.expect_download() as downloading:
        page.click("a:text-is('CSV')")
    download = downloading.value
    assert since in download.suggested_filename
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text("utf-8"))))
    assert rows
    assert all(row["subject"].startswith("sku:KOPI") for row in rows)
    assert len(rows) >= count


def test_an_officer_is_refused_the_audit_pages(page: Page, console: Served) -> None:
    sign_in(page, console.url, "officer.ntt")
    expect(page.locator("nav a[href='/audit']")).to_have_count(0)
    for path in ("/audit", "/audit/verify", "/audit/trace?sku=KOPI-FLR-001"):
        answer = page.goto(f"{console.url}{path}")
        assert answer is not None
        assert answer.status == 403, path
