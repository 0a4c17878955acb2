"""§5.7 product info as the Get Product page shows it: every documented block present
(``wholesale``, ``GMStats``, ``stats``, ``campaign``, ``volume``, ``extraAttribute``,
``categoryTree``, ``pictures``), read by the connector's schema and mapping.

``fixtures/product_info.json`` follows the page's sample response: its blocks, their
order, key casing (``Name``, ``GMStats``, ``OriginalURL``, ``StartDate``) and value
types; the values are this project's own.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors._parsing import parse
from connectors.tokopedia import mapping
from connectors.tokopedia.schemas import Envelope, ProductInfo
from core.domain.ids import Sku
from core.errors import ContractError
from tests.connectors.tokopedia.conftest import FS_ID, Build, ok

SAMPLE_PATH = Path(__file__).parent / "fixtures" / "product_info.json"
INFO = f"/inventory/v1/fs/{FS_ID}/product/info"
BLOCKS = (
    "wholesale",
    "GMStats",
    "stats",
    "campaign",
    "volume",
    "extraAttribute",
    "categoryTree",
    "pictures",
)


def sample() -> dict[str, Any]:
    """The sample answer (a fresh copy)."""
    loaded: dict[str, Any] = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))
    return loaded


def parsed(document: dict[str, Any]) -> list[ProductInfo]:
    answer = httpx.Response(200, content=json.dumps(document).encode())
    envelope = parse(Envelope[list[ProductInfo] | None], answer, {})
    return envelope.data or []


def test_the_sample_holds_every_documented_block() -> None:
    (item,) = sample()["data"]
    assert set(BLOCKS) <= set(item)
    # a picture's address is its folder and file under the image host
    (picture,) = item["pictures"]
    assert picture["OriginalURL"].endswith(
        f"/{picture['filePath']}/{picture['fileName']}"
    )


def test_the_sample_is_read_as_a_listing() -> None:
    (info,) = parsed(sample())
    listing = mapping.listing(info)
    assert listing.sku == Sku("KOPI-GAYO-250")
    assert listing.external_id == "15341594"
    assert listing.name == "Kopi Arabika Gayo 250 g"
    assert listing.price == 85_000
    assert listing.stock == 9  # main_stock: the 3 reserved for a campaign excluded
    assert listing.active is True
    assert listing.raw_status == "1"


def test_an_older_sample_spelling_name_in_lower_case_reads_the_same() -> None:
    document = sample()
    basic = document["data"][0]["basic"]
    basic["name"] = basic.pop("Name")
    (info,) = parsed(document)
    assert info.basic.name == "Kopi Arabika Gayo 250 g"


@pytest.mark.parametrize("block", BLOCKS)
def test_empty_blocks_change_nothing(block: str) -> None:
    document = sample()
    item = document["data"][0]
    item[block] = [] if isinstance(item[block], list) else {}
    (info,) = parsed(document)
    (expected,) = parsed(sample())
    assert mapping.listing(info) == mapping.listing(expected)


def test_a_sample_missing_its_identity_is_a_contract_error_naming_the_field() -> None:
    document = copy.deepcopy(sample())
    del document["data"][0]["basic"]["productID"]
    with pytest.raises(ContractError, match=r"basic\.productID"):
        parsed(document)


def test_the_connector_finds_a_listing_in_the_sample_answer(build: Build) -> None:
    wire = build()
    route = wire.router.get(INFO).mock(return_value=ok(sample()["data"]))
    found = wire.connector.find_listings(["KOPI-GAYO-250"])
    assert route.called
    listing = found["KOPI-GAYO-250"]
    assert (listing.external_id, listing.stock, listing.price) == (
        "15341594",
        9,
        85_000,
    )
