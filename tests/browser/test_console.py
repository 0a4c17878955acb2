"""The console's foundation in a real browser: signing in and out (also by keyboard
only), the home page in the officer's scope, the language switch, a 375 px wide
screen, and the Content-Security-Policy refusing injected script."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Served, screenshot, sign_in
from tests.web.kit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.db]

#: The elements reaching past 375 px outside a scrolling table wrapper.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 376)
  .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
    + Math.round(e.getBoundingClientRect().right))"""

#: Script that would mark the page as taken over, were it ever run.
PWNED = "<script>window.__pwned = 1</script>"


def pwned(page: Page) -> object:
    return page.evaluate("() => window.__pwned")


def test_an_officer_signs_in_sees_their_shops_switches_language_and_signs_out(
    page: Page, console: Served
) -> None:
    page.goto(f"{console.url}/")
    page.wait_for_url(f"{console.url}/login?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("h1")).to_have_text("Masuk")
    screenshot(page, "login")

    sign_in(page, console.url, "officer.ntt")

    expect(page.locator("h1")).to_have_text("Perlu ditangani")
    expect(page.locator(".who")).to_contain_text("officer.ntt")
    shops = page.locator("table tbody tr td:first-child a")
    expect(shops).to_have_text(["shopee-ntt-flores"])  # the Lapas' shop is not theirs
    expect(page.locator("a[href='/'][aria-current=page]")).to_be_visible()
    screenshot(page, "home-id")

    page.select_option("#lang-choice", "en")
    page.click("form[action='/language'] button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Needs attention")
    expect(page.locator("button", has_text="Sign out")).to_be_visible()
    screenshot(page, "home-en")

    page.reload()  # the choice is kept with the user, not only in this page
    expect(page.locator("h1")).to_have_text("Needs attention")

    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_url(f"{console.url}/login*")
    page.goto(f"{console.url}/")
    page.wait_for_url(f"{console.url}/login?next=/")
    expect(page.locator(".who")).to_have_count(0)

    # back to Indonesian, for the other tests on this console
    sign_in(page, console.url, "officer.ntt")
    page.select_option("#lang-choice", "id")
    page.click("form[action='/language'] button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "id")


def test_a_wrong_password_is_refused_with_a_message_and_no_session(
    page: Page, console: Served
) -> None:
    page.goto(f"{console.url}/login")
    page.fill("#username", "officer.ntt")
    page.fill("#password", PASSWORD + "-salah")
    page.click("form[action='/login'] button[type=submit]")

    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#username")).to_have_value("officer.ntt")
    expect(page.locator("#password")).to_have_value("")
    screenshot(page, "login-refused")
    page.goto(f"{console.url}/")
    page.wait_for_url(f"{console.url}/login?next=/")


def test_signing_in_with_the_keyboard_only(page: Page, console: Served) -> None:
    page.goto(f"{console.url}/login")
    focused = "() => document.activeElement && document.activeElement.id"
    assert page.evaluate(focused) == "username"  # the form takes the focus

    page.keyboard.type("officer.lapas")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_url(f"{console.url}/")
    expect(page.locator(".who")).to_contain_text("officer.lapas")
    expect(page.locator("table tbody tr td:first-child a")).to_have_text(
        ["tokopedia-karya-lapas"]
    )

    # the first Tab of a fresh page reaches the skip link, and it leads to the content
    page.goto(f"{console.url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#main"


@pytest.mark.parametrize("who", ["admin", "officer.ntt"])
def test_at_375_pixels_wide_the_page_does_not_scroll_sideways(
    browser: Browser, console: Served, who: str
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"{console.url}/login")
        width = "() => document.documentElement.scrollWidth"
        assert page.evaluate(width) <= 375
        screenshot(page, "login-375")

        sign_in(page, console.url, who)
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(width) <= 375, "the body scrolls sideways at 375 px"
        # a wide table scrolls inside its wrapper, not the page
        wraps = page.evaluate(
            "() => [...document.querySelectorAll('table')].map(t =>"
            " t.parentElement.classList.contains('table-wrap'))"
        )
        assert wraps
        assert all(wraps)
        screenshot(page, f"home-375-{who}")
    finally:
        context.close()


def test_the_content_security_policy_refuses_injected_script(
    page: Page, console: Served
) -> None:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    sign_in(page, console.url, "admin")

    blocked = page.evaluate(
        """() => new Promise(resolve => {
             document.addEventListener('securitypolicyviolation',
               e => resolve(e.violatedDirective), {once: true});
             const s = document.createElement('script');
             s.textContent = 'window.__pwned = 1';
             document.body.appendChild(s);
           })"""
    )

    assert blocked.startswith("script-src")
    assert pwned(page) is None
    assert any("Content Security Policy" in text for text in violations)


def test_a_planted_script_in_a_sign_in_name_shows_as_text_and_runs_nothing(
    page: Page, console: Served
) -> None:
    page.goto(f"{console.url}/login")
    page.fill("#username", f'">{PWNED}')
    page.fill("#password", "wrong")
    page.click("form[action='/login'] button[type=submit]")

    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#username")).to_have_value(f'">{PWNED}')
    assert page.locator("main script").count() == 0
    assert pwned(page) is None


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/"),
        ("admin", "/reports"),
        ("admin", "/users"),
        ("admin", "/catalogue"),
        ("admin", "/catalogue/import"),
        ("admin", "/shops"),
        ("officer.ntt", "/shops/shopee-ntt-flores"),
        ("admin", "/sync"),
        ("officer.ntt", "/sync/shopee-ntt-flores"),
        ("admin", "/orders"),
        ("admin", "/orders/oversold"),
        ("auditor", "/audit"),
        ("auditor", "/audit/verify"),
        ("auditor", "/audit/trace?sku=KOPI-FLR-001"),
        ("officer.lapas", "/reports"),
    ],
)
def test_every_page_fits_375_pixels_and_has_labelled_inputs(
    browser: Browser, console: Served, who: str, path: str
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, console.url, who)
        answer = page.goto(f"{console.url}{path}")
        assert answer is not None
        assert answer.status == 200
        name = path.split("?")[0].strip("/").replace("/", "-") or "home"
        screenshot(page, f"{name}-375-{who}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, (path, width, page.evaluate(WIDEST))
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll(
                 'input:not([type=hidden]), select, textarea')]
               .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`)))
               .map(e => e.name || e.outerHTML.slice(0, 60))"""
        )
        assert unlabelled == []
        outside = page.evaluate(
            "() => [...document.querySelectorAll('table')]"
            ".filter(t => !t.parentElement.classList.contains('table-wrap')).length"
        )
        assert outside == 0
    finally:
        context.close()
