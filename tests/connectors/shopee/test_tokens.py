"""Tokens: refresh once after a refusal, rotation stored before use, lost shops."""

from __future__ import annotations

import httpx
import pytest
import respx

from connectors.shopee.errors import CredentialsRefusedError
from core.errors import AuthError, TransientError
from tests.connectors.shopee._support import (
    ACCESS,
    ACCOUNT,
    BASE,
    NEW_ACCESS,
    NEW_REFRESH,
    REFRESH,
    SHOP_ID,
    TS,
    body,
    fail,
    page_sign,
    params,
    rig,
    shop_info,
    token_answer,
)

SHOP_INFO = "/api/v2/shop/get_shop_info"
REFRESH_PATH = "/api/v2/auth/access_token/get"


def test_a_refused_access_token_is_refreshed_once_and_the_call_retried() -> None:
    setup = rig()
    stored_at_retry: list[str] = []
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        refresh = router.post(REFRESH_PATH).mock(return_value=token_answer())
        calls: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            calls.append(request)
            if len(calls) == 1:
                return fail("error_auth", "Invalid access_token.", 403)
            tokens = setup.store.load(ACCOUNT)
            assert tokens.access_token is not None
            stored_at_retry.append(tokens.access_token.reveal())
            return shop_info()

        router.get(SHOP_INFO).mock(side_effect=answer)
        setup.connector.check()
    assert len(refresh.calls) == 1
    assert body(refresh.calls.last.request) == {
        "refresh_token": REFRESH,
        "partner_id": 2_001_234,
        "shop_id": SHOP_ID,
    }
    first, retry = calls
    assert params(first)["access_token"] == [ACCESS]
    assert params(retry)["access_token"] == [NEW_ACCESS]
    assert params(retry)["sign"] == [page_sign(SHOP_INFO, TS, NEW_ACCESS, SHOP_ID)]
    # The new pair was durable before the retry used it.
    assert stored_at_retry == [NEW_ACCESS]
    saved = setup.store.load(ACCOUNT)
    assert saved.refresh_token is not None
    assert saved.refresh_token.reveal() == NEW_REFRESH
    assert saved.version == 2


@pytest.mark.parametrize("name", ["invalid_acceess_token", "invalid_access_token"])
def test_both_spellings_of_the_invalid_token_error_refresh(name: str) -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(REFRESH_PATH).mock(return_value=token_answer())
        route = router.get(SHOP_INFO).mock(
            side_effect=[fail(name, "invalid access token", 200), shop_info()]
        )
        setup.connector.check()
    assert len(route.calls) == 2


def test_a_second_refusal_after_the_refresh_is_an_auth_error_without_a_mark() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        refresh = router.post(REFRESH_PATH).mock(return_value=token_answer())
        route = router.get(SHOP_INFO).mock(
            return_value=fail("common.error_auth", "Invalid access_token.", 403)
        )
        with pytest.raises(AuthError, match="refused again after a refresh"):
            setup.connector.check()
    assert len(route.calls) == 2
    assert len(refresh.calls) == 1
    assert not setup.store.load(ACCOUNT).needs_reauthorisation


def test_an_unlinked_shop_marks_the_account_and_no_call_follows() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        route = router.get(SHOP_INFO).mock(
            return_value=fail("shop_no_linked", "Partner and shop has no linked.", 403)
        )
        with pytest.raises(AuthError, match="shop_no_linked"):
            setup.connector.check()
        with pytest.raises(AuthError, match="needs re-authorisation"):
            setup.connector.check()
    assert len(route.calls) == 1
    saved = setup.store.load(ACCOUNT)
    assert saved.needs_reauthorisation
    assert "shop_no_linked" in saved.reason


def test_a_spent_refresh_token_marks_the_account() -> None:
    setup = rig()
    setup.clock.advance(hours=4)  # the access token has ended
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(REFRESH_PATH).mock(
            return_value=fail("error_auth", "Invalid refresh_token.", 403)
        )
        with pytest.raises(AuthError, match="Invalid refresh_token"):
            setup.connector.check()
    assert setup.store.load(ACCOUNT).needs_reauthorisation


def test_an_unlinked_shop_on_refresh_marks_the_account() -> None:
    setup = rig()
    setup.clock.advance(hours=4)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(REFRESH_PATH).mock(
            return_value=fail("shop_no_linked", "Partner and shop has no linked.", 200)
        )
        with pytest.raises(AuthError):
            setup.connector.check()
    assert setup.store.load(ACCOUNT).needs_reauthorisation


def test_a_refresh_refused_for_the_app_credentials_does_not_mark_the_account() -> None:
    setup = rig()
    setup.clock.advance(hours=4)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(REFRESH_PATH).mock(
            return_value=fail("error_sign", "Wrong sign.", 403)
        )
        with pytest.raises(CredentialsRefusedError, match="error_sign"):
            setup.connector.check()
    assert not setup.store.load(ACCOUNT).needs_reauthorisation


def test_a_transient_refresh_failure_keeps_the_stored_pair() -> None:
    setup = rig(attempts=2)
    setup.clock.advance(hours=4)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.post(REFRESH_PATH).mock(return_value=httpx.Response(503, text="busy"))
        with pytest.raises(TransientError):
            setup.connector.check()
    saved = setup.store.load(ACCOUNT)
    assert not saved.needs_reauthorisation
    assert saved.refresh_token is not None
    assert saved.refresh_token.reveal() == REFRESH
