"""The shop's authorisation end: ``expire_time`` of ``shop/get_shop_info``, read from
the answer's top level (shopee.md §2.3, §3.1; the reference's
``v2.shop.get_shop_info`` sample)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from core.errors import AuthError, ContractError
from tests.connectors.shopee._support import (
    ACCOUNT,
    BASE,
    EXPIRE_TIME,
    fail,
    rig,
    shop_info,
)

SHOP_INFO = "/api/v2/shop/get_shop_info"


def _expiry(answer: httpx.Response) -> datetime:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(SHOP_INFO).mock(return_value=answer)
        return setup.connector.authorisation_expiry()


def test_the_expiry_is_read_from_the_top_level() -> None:
    expires = _expiry(shop_info(expire_time=1_773_503_999))
    assert expires == datetime(2026, 3, 14, 15, 59, 59, tzinfo=UTC)
    assert expires.tzinfo is UTC
    assert _expiry(shop_info()) == datetime.fromtimestamp(EXPIRE_TIME, UTC)


def test_the_reference_sample_is_read_as_it_stands() -> None:
    sample: dict[str, Any] = {
        "error": "",
        "message": "",
        "request_id": "e3e3e7f3314a5c09fbf56b4649990b01",
        "auth_time": 1741944925,
        "expire_time": 1773503999,
        "shop_name": "mysipuat",
        "region": "MY",
        "status": "NORMAL",
        "shop_fulfillment_flag": "Others",
        "is_cb": False,
        "is_upgraded_cbsc": False,
        "merchant_id": None,
        "is_sip": True,
        "sip_affi_shops": [],
        "is_main_shop": True,
        "is_direct_shop": False,
        "linked_direct_shop_list": [
            {"direct_shop_id": 223009454, "direct_shop_region": "SG"}
        ],
        "linked_main_shop_id": 0,
    }
    assert _expiry(httpx.Response(200, json=sample)) == datetime.fromtimestamp(
        1773503999, UTC
    )


def test_an_answer_wrapped_in_response_has_no_expiry() -> None:
    """A ``response`` object is not where Shopee puts these fields: reading it would
    report an empty shop, so the connector says the field is missing."""
    wrapped = httpx.Response(
        200,
        json={
            "error": "",
            "message": "",
            "request_id": "r",
            "response": {"expire_time": EXPIRE_TIME},
        },
    )
    with pytest.raises(ContractError, match="expire_time is missing"):
        _expiry(wrapped)


def test_a_missing_expire_time_is_a_contract_error_naming_it() -> None:
    with pytest.raises(ContractError, match="expire_time is missing") as raised:
        _expiry(shop_info(omit=("expire_time",)))
    assert raised.value.operation == "shop.get_shop_info"
    assert raised.value.account == ACCOUNT


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("1773503999", "expire_time"),
        ("soon", "expire_time"),
        (1.5, "expire_time"),
        (True, "expire_time"),
        ({"at": 1}, "expire_time"),
    ],
)
def test_a_malformed_expire_time_is_a_contract_error_naming_it(
    value: object, names: str
) -> None:
    with pytest.raises(ContractError, match=names):
        _expiry(shop_info(expire_time=value))


@pytest.mark.parametrize("value", [0, -1, None])
def test_an_expire_time_that_is_no_time_is_a_contract_error(value: object) -> None:
    with pytest.raises(ContractError, match="expire_time is"):
        _expiry(shop_info(expire_time=value))


def test_a_malformed_answer_changes_no_stored_tokens() -> None:
    setup = rig()
    before = setup.store.load(ACCOUNT)
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(SHOP_INFO).mock(return_value=shop_info(expire_time="soon"))
        with pytest.raises(ContractError, match="expire_time"):
            setup.connector.authorisation_expiry()
    assert setup.store.load(ACCOUNT) == before


def test_an_unlinked_shop_is_an_auth_error() -> None:
    setup = rig()
    with respx.mock(
        base_url=BASE, assert_all_called=True, assert_all_mocked=True
    ) as router:
        router.get(SHOP_INFO).mock(
            return_value=fail("shop_no_linked", "Partner and shop has no linked.", 403)
        )
        with pytest.raises(AuthError):
            setup.connector.authorisation_expiry()
    assert setup.store.load(ACCOUNT).needs_reauthorisation
