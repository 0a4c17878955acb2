"""Review findings on the catalogue import: an officer's import may not take or
change a product whose stored producer is outside their scope."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.domain.ids import AccountId, Sku
from core.domain.listings import Listing
from core.domain.sync import ListingState
from tests.web.conftest import ConsoleWorld
from tests.web.kit import csrf_of, sign_in
from web.uploads import MAX_FILE_BYTES, MAX_UNPACKED_BYTES

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


def test_a_product_page_shows_no_listing_of_a_shop_out_of_scope(
    world: ConsoleWorld,
) -> None:
    now = world.console.clock.now()
    with world.console.runtime.uow() as uow:
        for account, external in (
            ("shopee-ntt-flores", "9001"),
            ("bukalapak-esmart-ikm", "7007"),
        ):
            uow.listings.save_many(
                AccountId(account),
                [
                    Listing(
                        account=AccountId(account),
                        sku=Sku("KOPI-FLR-001"),
                        state=ListingState.FAILED,
                        external_id=external,
                        last_price=85_000,
                        last_stock=41,
                        last_error=f"refused on {account}",
                    )
                ],
                now,
            )
        uow.commit()
    sign_in(world.client, "officer.ntt")
    page = world.client.get("/catalogue/products/KOPI-FLR-001")
    assert page.status_code == 200
    assert "<td>shopee-ntt-flores</td>" in page.text
    assert "bukalapak-esmart-ikm" not in page.text
    assert "7007" not in page.text
    assert "refused on bukalapak" not in page.text

    admin = world.browser()
    sign_in(admin, "admin")
    seen = admin.get("/catalogue/products/KOPI-FLR-001").text
    assert "<td>bukalapak-esmart-ikm</td>" in seen
    assert "<td>shopee-ntt-flores</td>" in seen


def test_a_product_whose_sku_has_a_slash_has_a_page_and_takes_adjustments(
    world: ConsoleWorld,
) -> None:
    admin = world.browser()
    admin_token = sign_in(admin, "admin")
    rows = PRODUCT_HEADER + "TENUN/IKAT-01,IKM-NTT-002,Tenun Ikat,250000,400,active,5\n"
    preview = admin.post(
        "/catalogue/import",
        data={"csrf_token": admin_token},
        files={"products": ("produk.csv", rows.encode())},
    )
    assert preview.status_code == 200, preview.text
    found = _IMPORT_TOKEN.search(preview.text)
    assert found is not None
    applied = admin.post(
        "/catalogue/import/apply",
        data={"csrf_token": admin_token, "token": found.group(1)},
        follow_redirects=False,
    )
    assert applied.status_code == 303

    client = world.client
    sign_in(client, "officer.ntt")
    listed = client.get("/catalogue?q=TENUN").text
    link = re.search(r'href="(/catalogue/products/TENUN(?:/|%2F)IKAT-01)"', listed)
    assert link is not None
    page = client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    assert "Tenun Ikat" in page.text
    action = re.search(r'action="(/catalogue/products/[^"]+/stock)"', page.text)
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert action is not None
    assert key is not None
    answer = client.post(
        action.group(1),
        data={
            "csrf_token": csrf_of(page.text),
            "delta": "-2",
            "reason": "adjustment",
            "note": "two frayed",
            "key": key.group(1),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with world.console.units() as uow:
        assert uow.stock.level("TENUN/IKAT-01").on_hand == 3

    lapas = world.browser()
    sign_in(lapas, "officer.lapas")
    assert lapas.get(link.group(1)).status_code == 404


def _workbook_unpacking_to(size: int) -> bytes:
    """A valid products workbook with a further part of ``size`` zero bytes (a few
    hundred KB packed)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "products"
    sheet.append(["sku", "producer_code", "name", "price", "weight_grams"])
    sheet.append(["BOM-1", "IKM-NTT-001", "Bom", 1000, 10])
    packed = io.BytesIO()
    book.save(packed)
    zeros = bytes(1 << 20)
    with (
        zipfile.ZipFile(packed, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("xl/padding.bin", "w") as part,
    ):
        for _ in range(size >> 20):
            part.write(zeros)
    return packed.getvalue()


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "officer.ntt")
    content = _workbook_unpacking_to(MAX_UNPACKED_BYTES + (1 << 20))
    assert len(content) < MAX_FILE_BYTES
    answer = client.post(
        "/catalogue/import",
        data={"csrf_token": token},
        files={"products": ("bom.xlsx", content)},
    )
    assert answer.status_code == 413
    assert "bom.xlsx" in answer.text
    assert "unpacks to more than" in answer.text
    assert _IMPORT_TOKEN.search(answer.text) is None
    uploads = world.app.state.catalogue_uploads
    assert not uploads.exists() or not any(uploads.iterdir())
    with world.console.units() as uow:
        assert uow.products.get_many(["BOM-1"]) == {}

    small = _workbook_unpacking_to(1 << 20)
    answer = client.post(
        "/catalogue/import",
        data={"csrf_token": token},
        files={"products": ("small.xlsx", small)},
    )
    assert answer.status_code == 200
    assert _IMPORT_TOKEN.search(answer.text) is not None
