"""The console in a real browser: a Chromium driven by Playwright against a real
``ikm-sync serve`` process on a copy of the seeded demo database.

Chromium is Debian's (``apt-get install chromium``), found through
``IKMSYNC_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on ``PATH``; without
one every browser test is skipped with that reason. One console process serves a
whole test module; each test gets a fresh browser context (its own cookies).
Screenshots go to ``var/screenshots/`` (or ``IKMSYNC_SCREENSHOTS``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import REPO
from tests.e2e.test_simulate import IKM_SYNC
from tests.fakes import TEST_TOKEN_KEY
from tests.web.conftest import CONFIG, seeded_database
from tests.web.kit import PASSWORD

__all__ = ["seeded_database"]  # the seeded demo world of the console tests

#: Flags without which Chromium reaches for Google's services; this network
#: refuses those connections, and a test browser has no use for them.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: How long the console may take to answer its first request.
READY_WITHIN = 60.0
SCREENSHOTS = Path(os.environ.get("IKMSYNC_SCREENSHOTS") or REPO / "var/screenshots")


#: ``IKMSYNC_CHROMIUM``, read once and taken out of the environment: the settings
#: loader refuses ``IKMSYNC_`` variables it does not know, and commands run in-process
#: by the tests read this environment.
NAMED_CHROMIUM = os.environ.pop("IKMSYNC_CHROMIUM", "")


def find_chromium() -> str | None:
    """The Chromium to drive: ``IKMSYNC_CHROMIUM``, Debian's, or one on ``PATH``."""
    named = NAMED_CHROMIUM
    if named:
        return named if Path(named).is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def free_port() -> int:
    """A TCP port nobody listens on now (the console binds it right after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running console: where it answers, its database, its command line."""

    url: str
    database_url: str
    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    config: Path = CONFIG

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``ikm-sync --config <settings> *args`` on the console's database."""
        done = subprocess.run(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(self.config), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:  # waits a little, and notices a console that died
            process.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the console exited: {log.read_text()[-2000:]}")
    raise AssertionError(f"the console did not answer in {READY_WITHIN} s: {log}")


def console_environment(database_url: str) -> dict[str, str]:
    """This environment without its ``IKMSYNC_`` settings, on ``database_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IKMSYNC_")}
    return env | {
        "IKMSYNC_DATABASE_URL": database_url,
        "IKMSYNC_TOKEN_KEYS": TEST_TOKEN_KEY,
    }


def serve(
    database_url: str,
    workdir: Path,
    config: Path = CONFIG,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """``ikm-sync serve`` with ``config`` on ``database_url`` until the generator is
    closed; ``env`` instead of :func:`console_environment`."""
    env = env or console_environment(database_url)
    port = free_port()
    log = workdir / "console.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603  (our own console script)
            [IKM_SYNC, "--config", str(config), "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url, log)
        yield Served(url, database_url, workdir, env, process, config)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable; the module is skipped when there is none."""
    found = find_chromium()
    if found is None:
        pytest.skip("no Chromium found (apt-get install chromium, or IKMSYNC_CHROMIUM)")
    return found


@pytest.fixture(scope="module")
def console(
    chromium: str,
    seeded_database: str,
    database_backend: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """One console process per module, on its own copy of the seeded database."""
    workdir = tmp_path_factory.mktemp("console")
    url = database_backend.clone(seeded_database, workdir)
    try:
        yield from serve(url, workdir)
    finally:
        database_backend.drop(url)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """Chromium, headless, with a fresh profile of its own (Playwright's)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context of its own (no cookies shared with other tests)."""
    made = browser.new_context(viewport={"width": 1280, "height": 800})
    made.set_default_timeout(15_000)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    """Fill in the sign-in form as a person would, and wait for the home page."""
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{url}/")


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``<name>.png`` among the test artefacts."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
