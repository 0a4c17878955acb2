"""Construction: options validated by Settings, credentials and shop id checked."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.shopee import ShopeeConnector
from connectors.shopee.settings import ShopeeSettings
from core.domain.marketplaces import Capability
from core.domain.remote import Secret
from core.errors import ConfigError
from tests.connectors.shopee._support import CATEGORY, options, rig


def test_the_connector_declares_its_contract() -> None:
    assert ShopeeConnector.key == "shopee"
    assert ShopeeConnector.Settings is ShopeeSettings
    limits = ShopeeConnector.limits
    assert (limits.create_per_call, limits.stock_per_call, limits.price_per_call) == (
        1,
        50,
        50,
    )
    assert limits.order_window.days == 15
    assert (limits.order_page_size, limits.order_details_per_call) == (100, 50)
    assert Capability.ORDERS_BY_UPDATE_TIME in ShopeeConnector.capabilities


def test_only_the_partner_id_is_required() -> None:
    settings = ShopeeSettings.model_validate({"partner_id": 7})
    assert settings.categories == {}
    assert settings.default_category is None
    assert settings.logistics == ()
    assert settings.category_for("anything") is None


def test_categories_match_ignoring_case_and_spaces() -> None:
    settings = ShopeeSettings.model_validate(options())
    choice = settings.category_for("  makanan &  minuman > KOPI ")
    assert choice is not None
    assert choice.category_id == 100_001
    assert settings.category_for(CATEGORY) == choice


@pytest.mark.parametrize(
    ("opts", "named"),
    [
        ({}, "partner_id"),
        ({"partner_id": "abc"}, "partner_id"),
        ({"partner_id": 1, "partner_key": "x"}, "partner_key"),  # extra keys refused
        (options(logistics=[{"logistic_id": 1, "enabled": False}]), "logistics"),
        (
            options(categories={"Kopi": {"category_id": 1, "attributes": []}}),
            "categories.Kopi.attributes",
        ),
        (
            options(
                default_category={
                    "category_id": 1,
                    "attributes": [{"attribute_id": 5, "values": [{"value_id": 0}]}],
                }
            ),
            "default_category.attributes.0.values.0",
        ),
    ],
)
def test_a_bad_option_is_a_config_error_naming_it(
    opts: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=f"options\\.{named}"):
        rig(opts=opts)


def test_the_partner_key_credential_is_required() -> None:
    with pytest.raises(ConfigError, match="partner_key"):
        rig(credentials={"client_secret": Secret("x")})


def test_the_shop_id_must_be_numeric() -> None:
    with pytest.raises(ConfigError, match="shop_id"):
        rig(shop_id="shop-abc")
