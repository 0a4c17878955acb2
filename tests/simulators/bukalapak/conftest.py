"""Fixtures of the Bukalapak contract tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulators.bukalapak._support import Market, make_market


@pytest.fixture
def market() -> Iterator[Market]:
    """A fresh marketplace with rate limits off."""
    built = make_market()
    yield built
    built.api.close()
    built.accounts.close()


@pytest.fixture
def token(market: Market) -> str:
    """The seller's access token."""
    return market.seller_token()
