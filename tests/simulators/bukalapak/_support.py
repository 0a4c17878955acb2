"""Support for the Bukalapak contract tests: a frozen clock, the simulator behind
``httpx.MockTransport`` on the real hosts, and the OAuth2 dance as the page gives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from simulators.bukalapak.simulator import BukalapakSimulator
from simulators.kit.clock import SimClock

API = "https://api.bukalapak.com"
ACCOUNTS = "https://accounts.bukalapak.com"
#: Monday 3 June 2024, 09:00 WIB.
START = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


@dataclass
class Market:
    """The simulator, its clock and clients on both hosts."""

    sim: BukalapakSimulator
    clock: SimClock
    api: httpx.Client
    accounts: httpx.Client
    creds: dict[str, str] = field(default_factory=dict)

    def authorize(self, **extra: str) -> httpx.Response:
        """``GET /oauth/authorize`` as page §2.1 shows it."""
        params = {
            "client_id": self.creds["client_id"],
            "redirect_uri": self.creds["redirect_uri"],
            "scope": "public user store",
            "response_type": "code",
            **extra,
        }
        return self.accounts.get("/oauth/authorize", params=params)

    def code(self, **extra: str) -> str:
        """An authorisation code from the redirect's ``Location``."""
        response = self.authorize(**extra)
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return query["code"][0]

    def token_request(self, **form: str) -> httpx.Response:
        """``POST /oauth/token`` with a form body."""
        return self.accounts.post("/oauth/token", data=form)

    def exchange(self, code: str, redirect_uri: str | None = None) -> httpx.Response:
        """The ``authorization_code`` grant."""
        return self.token_request(
            grant_type="authorization_code",
            client_id=self.creds["client_id"],
            client_secret=self.creds["client_secret"],
            code=code,
            redirect_uri=redirect_uri or self.creds["redirect_uri"],
        )

    def tokens(self, **extra: str) -> dict[str, Any]:
        """A seller's token JSON (authorise, then exchange the code)."""
        response = self.exchange(self.code(**extra))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def refresh(self, refresh_token: str) -> httpx.Response:
        """The ``refresh_token`` grant (page §2.1: only the refresh token)."""
        return self.token_request(
            grant_type="refresh_token", refresh_token=refresh_token
        )

    def public_token(self) -> str:
        """A ``client_credentials`` token (scope ``public``)."""
        response = self.token_request(
            grant_type="client_credentials",
            client_id=self.creds["client_id"],
            client_secret=self.creds["client_secret"],
            scope="public",
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def seller_token(self, **extra: str) -> str:
        """An access token of the pre-provisioned seller."""
        token: str = self.tokens(**extra)["access_token"]
        return token

    def images(self) -> list[int]:
        """The seller's pre-provisioned attachment ids."""
        return [int(i) for i in self.creds["attachment_ids"].split(",")]


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header of page §2.3."""
    return {"Authorization": f"Bearer {token}"}


def product_body(market: Market, **override: Any) -> dict[str, Any]:
    """A valid ``POST /products`` body (page §9)."""
    body: dict[str, Any] = {
        "name": "Batik Tulis Pekalongan",
        "category_id": 1234,
        "price": 250_000,
        "weight": 400,
        "stock": 5,
        "description": "Kain batik tulis",
        "condition": "new",
        "images": market.images()[:1],
        "sku_name": "BTK-001",
    }
    body.update(override)
    return body


def make_market(**options: Any) -> Market:
    """A simulator on a frozen clock with clients on both real hosts."""
    clock = SimClock(START, frozen=True)
    options.setdefault("rate_limits", False)
    sim = BukalapakSimulator(clock=clock, sleep=lambda _s: None, **options)
    transport = httpx.MockTransport(sim.handler)
    return Market(
        sim=sim,
        clock=clock,
        api=httpx.Client(transport=transport, base_url=API),
        accounts=httpx.Client(transport=transport, base_url=ACCOUNTS),
        creds=sim.credentials(),
    )


def create_product(market: Market, token: str, **override: Any) -> dict[str, Any]:
    """Create a product through the API; returns ``data``."""
    response = market.api.post(
        "/products", headers=bearer(token), json=product_body(market, **override)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The envelope of an error: HTTP status mirrored, ``data`` null, ``errors[]``."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["meta"]["http_status"] == status
    assert body["data"] is None
    assert body["errors"]
    assert all(
        isinstance(e["code"], int) and isinstance(e["message"], str)
        for e in body["errors"]
    )
    return body
