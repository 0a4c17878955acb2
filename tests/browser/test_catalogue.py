"""The catalogue in a real browser: an officer uploads a products spreadsheet (XLSX)
with a bad row, reads what is wrong, fixes it, previews, imports; a product name
carrying a script shows as text and runs nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served, screenshot, sign_in
from tests.web.conftest import DEMO

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db]

#: Script that would mark the page as taken over, were it ever run.
PLANTED = "<script>window.__pwned = 1</script>"
RENAMED = f"Kopi Arabika Flores Bajawa {PLANTED}"


def _products(path: Path, price_of_second: str) -> Path:
    """An XLSX of two NTT products of the demo: the first renamed, the second with
    ``price_of_second``."""
    with (DEMO / "products.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, by_sku = rows[0], {row[0]: row for row in rows[1:]}
    first, second = list(by_sku["KOPI-FLR-001"]), list(by_sku["KOPI-FLR-002"])
    first[header.index("name")] = RENAMED
    second[header.index("price")] = price_of_second
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in (first, second):
        sheet.append(
            [
                int(v) if v.isdigit() and h != "sku" else v
                for h, v in zip(header, row, strict=True)
            ]
        )
    book.save(path)
    return path


def test_an_officer_fixes_a_bad_row_previews_and_imports(
    page: Page, console: Served, tmp_path: Path
) -> None:
    sign_in(page, console.url, "officer.ntt")
    page.goto(f"{console.url}/catalogue/products/KOPI-FLR-001")
    before = page.locator("h1").inner_text()
    assert PLANTED not in before

    page.goto(f"{console.url}/catalogue/import")
    page.set_input_files("#up-products", str(_products(tmp_path / "bad.xlsx", "dua")))
    page.click("form[action='/catalogue/import'] button[type=submit]")
    issues = page.locator("table[aria-labelledby=h-issues] tbody tr")
    expect(issues).to_have_count(1)
    cells = issues.first.locator("td").all_inner_texts()
    assert cells[1:4] == ["3", "price", "dua"]  # row 3 of the sheet, its price
    assert page.locator("section[aria-labelledby=h-preview] form").count() == 0
    screenshot(page, "catalogue-import-issues")

    page.goto(f"{console.url}/catalogue/products/KOPI-FLR-001")
    expect(page.locator("h1")).to_have_text(before)  # nothing was imported

    page.goto(f"{console.url}/catalogue/import")
    page.set_input_files("#up-products", str(_products(tmp_path / "ok.xlsx", "92000")))
    page.click("form[action='/catalogue/import'] button[type=submit]")
    expect(page.locator("#products-updated")).to_have_text("2")
    expect(page.locator("#products-created")).to_have_text("0")
    screenshot(page, "catalogue-import-preview")
    page.click("section[aria-labelledby=h-preview] form button[type=submit]")
    page.wait_for_url(f"{console.url}/catalogue?*")
    expect(page.locator("[role=status]")).to_contain_text("2")  # products updated
    screenshot(page, "catalogue-imported")

    page.goto(f"{console.url}/catalogue/products/KOPI-FLR-001")
    expect(page.locator("h1")).to_contain_text(PLANTED)  # shown as text
    assert page.locator("main script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    page.goto(f"{console.url}/catalogue/products/KOPI-FLR-002")
    expect(page.locator("main")).to_contain_text("92.000")
    screenshot(page, "catalogue-product")
