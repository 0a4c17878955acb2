"""The connector's options: documented defaults, typos refused, bad values named."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.bukalapak.settings import Settings
from core.errors import ConfigError
from tests.connectors.bukalapak._support import make


def test_every_option_has_a_default() -> None:
    settings = Settings()
    assert settings.accounts_base_url == "https://accounts.bukalapak.com"
    assert settings.category_for("Kopi") is None
    assert settings.images_for(("https://img.example/a.jpg",)) == []
    make(options={})  # a connector can be built without options


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"category_id": {"Kopi": 1}}, "category_id"),  # a typo
        ({"default_category_id": 0}, "default_category_id"),
        ({"default_image_ids": [1, 2, 3, 4, 5, 6]}, "default_image_ids"),
        ({"accounts_base_url": "accounts.bukalapak.com"}, "accounts_base_url"),
        ({"category_ids": {"Kopi": "kopi"}}, "category_ids.Kopi"),
    ],
)
def test_bad_options_are_a_config_error_naming_the_option(
    options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        make(options=options)


def test_categories_match_without_case_and_images_map_by_url() -> None:
    settings = Settings(
        category_ids={" Kopi ": 501},
        default_category_id=999,
        image_attachment_ids={"https://img.example/k.jpg": 7001},
        default_image_ids=[7100, 7101],
    )
    assert settings.category_for("kopi") == 501
    assert settings.category_for("Tenun") == 999
    assert settings.images_for(("https://img.example/k.jpg", "x")) == [7001]
    assert settings.images_for(("unknown",)) == [7100, 7101]
