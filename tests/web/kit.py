"""Signing in to the console in tests, and reading its forms."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

#: Passwords of the users :func:`tests.web.conftest.console_app` adds.
PASSWORD = "kata-sandi-uji-123"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _CSRF.search(html)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign ``username`` in; the CSRF token of the session's forms."""
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    if answer.status_code != 303:
        raise AssertionError(f"{username} could not sign in: {answer.status_code}")
    return csrf_of(client.get("/").text)
