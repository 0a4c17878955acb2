"""An account check reads, records and judges the seller's authorisation end: the
Shopee connector on the simulator (set by the test), the service, the token store."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import pytest
import respx
from structlog.testing import capture_logs

from core.domain.authorisation import AuthorisationState
from core.errors import AuthError, ContractError
from core.services.authorisation import check_authorisation
from simulators.shopee import ShopeeSimulator
from tests.connectors.shopee._support import ACCOUNT as SHOP_ACCOUNT
from tests.connectors.shopee._support import BASE, EXPIRE_TIME, rig, shop_info
from tests.connectors.test_plumbing import FakeTime
from tests.contract.harness import Harness, build
from tests.fakes import FakeClock

WINDOW = timedelta(days=14)


@pytest.fixture
def shopee() -> Harness:
    return build("shopee", FakeTime())


def _ends_in(market: Harness, left: timedelta) -> None:
    now = market.clock.timestamp()
    market.sim(ShopeeSimulator).set_authorisation(
        expire_time=now + int(left.total_seconds())
    )


def _events(
    logs: list[MutableMapping[str, Any]], name: str
) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


def test_an_end_outside_the_window_is_recorded_without_a_warning(
    shopee: Harness,
) -> None:
    _ends_in(shopee, WINDOW + timedelta(seconds=1))
    with capture_logs() as logs:
        status = check_authorisation(
            shopee.connector,
            shopee.tokens,
            shopee.account_id,
            clock=shopee.clock,
            warning=WINDOW,
        )
    assert status.state is AuthorisationState.VALID
    assert status.days_left == 14
    expected = shopee.clock.now().replace(microsecond=0) + WINDOW + timedelta(seconds=1)
    assert status.expires_at == expected
    assert shopee.tokens.load(shopee.account_id).authorisation_expires_at == expected
    assert _events(logs, "authorisation.expires_soon") == []


def test_an_end_on_the_window_boundary_is_warned_about(shopee: Harness) -> None:
    _ends_in(shopee, WINDOW)
    with capture_logs() as logs:
        status = check_authorisation(
            shopee.connector,
            shopee.tokens,
            shopee.account_id,
            clock=shopee.clock,
            warning=WINDOW,
        )
    assert status.state is AuthorisationState.EXPIRES_SOON
    (warning,) = _events(logs, "authorisation.expires_soon")
    assert warning["log_level"] == "warning"
    assert warning["account"] == shopee.account_id
    assert warning["days_left"] == 14
    assert status.expires_at is not None
    assert warning["expires_at"] == status.expires_at.isoformat()
    tokens = shopee.tokens.load(shopee.account_id)
    assert tokens.authorisation_expires_at == status.expires_at
    assert not tokens.needs_reauthorisation


def test_an_authorisation_shopee_has_ended_marks_the_account(
    shopee: Harness,
) -> None:
    check_authorisation(
        shopee.connector,
        shopee.tokens,
        shopee.account_id,
        clock=shopee.clock,
        warning=WINDOW,
    )
    recorded = shopee.tokens.load(shopee.account_id).authorisation_expires_at
    _ends_in(shopee, timedelta(seconds=60))
    shopee.clock.advance(seconds=60)
    with pytest.raises(AuthError, match="shop_no_linked"):
        check_authorisation(
            shopee.connector,
            shopee.tokens,
            shopee.account_id,
            clock=shopee.clock,
            warning=WINDOW,
        )
    tokens = shopee.tokens.load(shopee.account_id)
    assert tokens.needs_reauthorisation
    assert tokens.authorisation_expires_at == recorded  # nothing read, nothing changed


def test_an_end_passed_by_our_clock_marks_the_account_for_re_authorisation(
    shopee: Harness,
) -> None:
    """Shopee still answers (its clock is behind ours), but the end it reports has
    passed: the account is marked as if Shopee had refused it."""
    _ends_in(shopee, timedelta(seconds=30))
    ahead = FakeClock(shopee.clock.now() + timedelta(seconds=30))
    with capture_logs() as logs:
        status = check_authorisation(
            shopee.connector,
            shopee.tokens,
            shopee.account_id,
            clock=ahead,
            warning=WINDOW,
        )
    assert status.state is AuthorisationState.EXPIRED
    tokens = shopee.tokens.load(shopee.account_id)
    assert tokens.needs_reauthorisation
    assert "authorisation ended" in tokens.reason
    (ended,) = _events(logs, "authorisation.expired")
    assert ended["log_level"] == "error"
    # Marked once: a second check saves nothing more, and the connector refuses.
    version = tokens.version
    with pytest.raises(AuthError, match="needs re-authorisation"):
        check_authorisation(
            shopee.connector,
            shopee.tokens,
            shopee.account_id,
            clock=ahead,
            warning=WINDOW,
        )
    assert shopee.tokens.load(shopee.account_id).version == version


def test_an_unreadable_end_changes_nothing() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        answers = iter([shop_info(), shop_info()])
        router.get("/api/v2/shop/get_shop_info").mock(
            # two good answers, then malformed ones however often it is asked
            side_effect=lambda _request: next(answers, shop_info(expire_time="x"))
        )
        first = check_authorisation(
            setup.connector,
            setup.store,
            SHOP_ACCOUNT,
            clock=setup.clock,
            warning=WINDOW,
        )
        before = setup.store.load(SHOP_ACCOUNT)
        with pytest.raises(ContractError, match="expire_time"):
            check_authorisation(
                setup.connector,
                setup.store,
                SHOP_ACCOUNT,
                clock=setup.clock,
                warning=WINDOW,
            )
    assert first.state is AuthorisationState.VALID
    assert before.authorisation_expires_at is not None
    assert before.authorisation_expires_at.timestamp() == EXPIRE_TIME
    assert setup.store.load(SHOP_ACCOUNT) == before
