"""Review findings on the catalogue import: an officer's import may not take or
change a product whose stored producer is outside their scope."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.conftest import ConsoleWorld
from tests.web.kit import sign_in

pytestmark = pytest.mark.db

PRODUCT_HEADER = "sku,producer_code,name,price,weight_grams,status,stock\n"
_IMPORT_TOKEN = re.compile(r'name="token" value="([A-Za-z0-9_-]+)"')


@pytest.fixture
def world(console_world: ConsoleWorld, tmp_path: Path) -> ConsoleWorld:
    """The console world with its uploads kept under the test's directory."""
    console_world.app.state.catalogue_uploads = tmp_path / "uploads"
    return console_world


def test_an_officer_may_not_move_a_product_out_of_scope_into_their_scope(
    world: ConsoleWorld,
) -> None:
    with world.console.units() as uow:
        before = uow.products.get_many(["KOPI-FLR-001"])["KOPI-FLR-001"]
    assert before.producer_code == "IKM-NTT-001"
    client = world.client
    token = sign_in(client, "officer.lapas")
    rows = PRODUCT_HEADER + "KOPI-FLR-001,WBP-KALBAR-001,Kopi Lapas,1000,100,active,\n"
    answer = client.post(
        "/catalogue/import",
        data={"csrf_token": token},
        files={"products": ("produk.csv", rows.encode())},
    )
    assert answer.status_code == 422
    issues = re.findall(r'<tr class="issue">(.*?)</tr>', answer.text, re.S)
    assert len(issues) == 1
    assert "produk.csv" in issues[0]
    assert ">2<" in issues[0]
    assert "KOPI-FLR-001" in issues[0]
    assert "outside" in issues[0]
    # the stored product's fields are not shown to someone who may not see it
    assert before.name not in answer.text
    assert _IMPORT_TOKEN.search(answer.text) is None
    with world.console.units() as uow:
        after = uow.products.get_many(["KOPI-FLR-001"])["KOPI-FLR-001"]
    assert after == before
