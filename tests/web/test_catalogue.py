"""The catalogue pages: lists within scope, a product's stock and listings, stock
adjustments and spreadsheet imports previewed before they are applied."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from starlette.testclient import TestClient

from core.audit.actions import PRODUCT_CREATED, PRODUCT_UPDATED
from core.audit.actions import sku as sku_subject
from core.audit.query import EventFilter
from core.domain.ids import AccountId, Sku
from core.domain.listings import Listing
from core.domain.stock import StockLevel
from core.domain.sync import ListingState
from tests.web.conftest import DEMO, ConsoleWorld
from tests.web.kit import csrf_of, sign_in
from web.uploads import MAX_FILE_BYTES, UploadStore

pytestmark = pytest.mark.db

PRODUCT_HEADER = "sku,producer_code,name,price,weight_grams,status,stock\n"
_SKU_LINK = re.compile(r'href="/catalogue/products/([^"]+)"')
_KEY = re.compile(r'name="key" value="([^"]+)"')
_IMPORT_TOKEN = re.compile(r'name="token" value="([A-Za-z0-9_-]+)"')


@pytest.fixture
def world(console_world: ConsoleWorld, tmp_path: Path) -> ConsoleWorld:
    """The console world with its uploads kept under the test's directory."""
    console_world.app.state.catalogue_uploads = tmp_path / "uploads"
    return console_world


def _skus(html: str) -> list[str]:
    return _SKU_LINK.findall(html)


def _level(world: ConsoleWorld, sku: str) -> StockLevel:
    with world.console.units() as uow:
        return uow.stock.level(sku)


def _movements(world: ConsoleWorld, sku: str) -> int:
    with world.console.units() as uow:
        return len(uow.stock.history(sku, 1000))


def _product_names(world: ConsoleWorld, *skus: str) -> dict[str, str]:
    with world.console.units() as uow:
        return {p.sku: p.name for p in uow.products.get_many(list(skus)).values()}


def _upload(
    client: TestClient, token: str, **files: tuple[str, bytes]
) -> tuple[int, str]:
    answer = client.post(
        "/catalogue/import",
        data={"csrf_token": token},
        files={field: (name, content) for field, (name, content) in files.items()},
    )
    return answer.status_code, answer.text


def _apply(client: TestClient, token: str, preview: str) -> int:
    found = _IMPORT_TOKEN.search(preview)
    assert found is not None, "the preview has no Import button"
    answer = client.post(
        "/catalogue/import/apply",
        data={"csrf_token": token, "token": found.group(1)},
        follow_redirects=False,
    )
    return int(answer.status_code)


# --------------------------------------------------------------------- the lists


def test_products_are_listed_fifty_a_page_searched_and_filtered(
    world: ConsoleWorld,
) -> None:
    client = world.client
    sign_in(client, "admin")
    first = client.get("/catalogue")
    assert first.status_code == 200
    assert len(_skus(first.text)) == 50
    assert _skus(first.text)[0] == "AKARJATI-PTK-001"  # by SKU
    assert "Rp 85.000" in client.get("/catalogue?q=KOPI-FLR-001").text
    second = client.get("/catalogue?page=2")
    assert len(_skus(second.text)) == 10  # 60 demo products
    assert not set(_skus(first.text)) & set(_skus(second.text))

    with (DEMO / "products.csv").open(encoding="utf-8") as stream:
        demo = list(csv.DictReader(stream))
    expected = sorted(
        row["sku"] for row in demo if "kopi" in (row["sku"] + row["name"]).lower()
    )
    kopi = _skus(client.get("/catalogue?q=kopi").text)
    assert kopi == expected  # by name or SKU, any case
    assert "AKARJATI-PTK-002" in kopi
    assert "KOPI-KPG-001" in kopi
    by_producer = _skus(client.get("/catalogue?producer=IKM-NTT-002").text)
    assert by_producer == [f"TENUN-SKA-00{n}" for n in range(1, 7)]
    ntt_wbp = _skus(
        client.get(
            "/catalogue", params={"province": "Nusa Tenggara Timur", "kind": "wbp"}
        ).text
    )
    assert sorted(ntt_wbp) == [
        "ANYAM-KPG-001",
        "ANYAM-KPG-002",
        "KOPI-KPG-001",
        "TENUN-KPG-001",
        "TENUN-KPG-002",
    ]
    assert _skus(client.get("/catalogue?status=archived").text) == [
        "BATIK-PKL-006",
        "KESET-SBT-005",
    ]
    drafts = sorted(row["sku"] for row in demo if row["status"] == "draft")
    assert drafts
    assert _skus(client.get("/catalogue?status=draft").text) == drafts
    assert client.get("/catalogue?page=0").status_code == 422


def test_producers_are_listed_with_product_counts_and_filtered(
    world: ConsoleWorld,
) -> None:
    client = world.client
    sign_in(client, "admin")
    page = client.get("/catalogue", params={"pq": "ntt"}).text
    rows = re.findall(r'<td><a href="/catalogue\?[^"]*">([^<]+)</a></td>', page)
    assert rows == ["IKM-NTT-001", "IKM-NTT-002", "WBP-NTT-001"]
    assert re.search(
        r"IKM-NTT-001</a></td>\s*<td>[^<]*</td>\s*<td>IKM</td>\s*<td>—</td>\s*"
        r"<td>Nusa Tenggara Timur</td>\s*<td class=\"num\">7</td>",
        page,
    )
    lapas = client.get(
        "/catalogue", params={"pinstitution": "Lapas Kelas I Cipinang"}
    ).text
    assert "WBP-DKI-001" in lapas
    assert "WBP-KALBAR-001</a>" not in lapas


def test_an_officer_sees_only_the_producers_and_products_of_their_scope(
    world: ConsoleWorld,
) -> None:
    client = world.client
    sign_in(client, "officer.lapas")
    page = client.get("/catalogue").text
    skus = _skus(page)
    assert skus
    assert not any(s.startswith(("KOPI-FLR", "TENUN-SKA")) for s in skus)
    assert "IKM-NTT-001" not in page  # not even among the filters' choices
    assert _skus(client.get("/catalogue?q=KOPI-FLR").text) == []
    assert _skus(client.get("/catalogue?producer=IKM-NTT-001").text) == []
    assert "WBP-KALBAR-001" in page


# ------------------------------------------------------------ the product page


def test_a_product_page_traces_its_stock_to_its_movements(world: ConsoleWorld) -> None:
    moved = world.cli(
        "--config", str(world.config), "stock", "adjust", "KOPI-FLR-001", "-2",
        "--reason", "tasting samples", "--actor", "officer:ani",
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    sign_in(world.client, "officer.ntt")
    page = world.client.get("/catalogue/products/KOPI-FLR-001")
    assert page.status_code == 200
    assert 'id="on-hand">46<' in page.text
    assert 'id="available">46<' in page.text
    table = page.text.split('aria-labelledby="h-movements"')[1].split("</table>")[0]
    rows = [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in row
    ]
    assert [r[2:] for r in rows] == [  # newest first
        ["-2", "0", "—", "officer:ani", "tasting samples"],
        [
            "+48",
            "0",
            "products.csv, row 2",
            "officer:test",
            "initial stock from catalogue import",
        ],
    ]
    assert "Belum terdaftar di toko mana pun." in page.text  # Indonesian


def test_a_product_page_shows_what_each_shop_was_last_told(
    world: ConsoleWorld,
) -> None:
    planted = "<img src=x onerror=alert(1)> price refused"
    with world.console.runtime.uow() as uow:
        uow.listings.save_many(
            AccountId("shopee-ntt-flores"),
            [
                Listing(
                    account=AccountId("shopee-ntt-flores"),
                    sku=Sku("KOPI-FLR-001"),
                    state=ListingState.FAILED,
                    external_id="9001",
                    last_price=85_000,
                    last_stock=41,
                    last_error=planted,
                )
            ],
            world.console.clock.now(),
        )
        uow.commit()
    sign_in(world.client, "officer.ntt")
    page = world.client.get("/catalogue/products/KOPI-FLR-001").text
    row = re.search(r"<tr>\s*<td>shopee-ntt-flores</td>(.*?)</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[0] == "shopee"
    assert "failed" in cells[1]
    assert cells[2:4] == ["Rp 85.000", "41"]
    assert planted not in page
    assert "&lt;img src=x onerror=alert(1)&gt; price refused" in cells[5]


def test_unknown_and_out_of_scope_products_are_not_found_and_nothing_moves(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "officer.lapas")
    before = _level(world, "KOPI-FLR-001")
    assert client.get("/catalogue/products/KOPI-FLR-001").status_code == 404
    assert client.get("/catalogue/products/NO-SUCH-SKU").status_code == 404
    posted = client.post(
        "/catalogue/products/KOPI-FLR-001/stock",
        data={
            "csrf_token": token,
            "delta": "-5",
            "reason": "adjustment",
            "note": "gone",
            "key": "k" * 32,
        },
    )
    assert posted.status_code == 404
    assert "Kopi" not in posted.text
    assert _level(world, "KOPI-FLR-001") == before
    own = client.get("/catalogue/products/AKARJATI-PTK-001")
    assert own.status_code == 200


def test_a_stock_adjustment_moves_once_however_often_the_form_is_sent(
    world: ConsoleWorld,
) -> None:
    client = world.client
    sign_in(client, "officer.ntt")
    page = client.get("/catalogue/products/KOPI-FLR-001").text
    key = _KEY.search(page)
    assert key is not None
    form = {
        "csrf_token": csrf_of(page),
        "delta": "-3",
        "reason": "adjustment",
        "note": "broken bags",
        "key": key.group(1),
    }
    movements = _movements(world, "KOPI-FLR-001")
    for _ in range(2):
        answer = client.post(
            "/catalogue/products/KOPI-FLR-001/stock", data=form, follow_redirects=False
        )
        assert answer.status_code == 303
    assert _level(world, "KOPI-FLR-001").on_hand == 45
    assert _movements(world, "KOPI-FLR-001") == movements + 1
    with world.console.units() as uow:
        latest = uow.stock.history("KOPI-FLR-001", 1)[0]
    assert (latest.actor, latest.note, latest.on_hand_delta) == (
        "console:officer.ntt",
        "broken bags",
        -3,
    )
    shown = client.get("/catalogue/products/KOPI-FLR-001").text
    assert "broken bags" in shown
    assert 'id="on-hand">45<' in shown


@pytest.mark.parametrize(
    ("delta", "reason", "note", "status", "message"),
    [
        ("-1000", "adjustment", "lost", 409, "expected the result to be 0 or more"),
        ("two", "adjustment", "lost", 422, "expected a whole number"),
        ("0", "adjustment", "lost", 409, "a change of 0 moves nothing"),
        ("-1", "adjustment", "  ", 422, "Alasan: tuliskan mengapa stok berubah"),
        ("-1", "order_shipped", "x", 422, "Kind: got"),
        ("-1", "receipt", "x", 409, "a positive on-hand change"),
    ],
)
def test_a_refused_stock_adjustment_says_why_and_moves_nothing(
    world: ConsoleWorld,
    delta: str,
    reason: str,
    note: str,
    status: int,
    message: str,
) -> None:
    client = world.client
    sign_in(client, "admin")
    page = client.get("/catalogue/products/KOPI-FLR-001").text
    key = _KEY.search(page)
    assert key is not None
    answer = client.post(
        "/catalogue/products/KOPI-FLR-001/stock",
        data={
            "csrf_token": csrf_of(page),
            "delta": delta,
            "reason": reason,
            "note": note,
            "key": key.group(1),
        },
    )
    assert answer.status_code == status
    assert message in answer.text.replace("&#39;", "'")
    assert _level(world, "KOPI-FLR-001").on_hand == 48
    assert _movements(world, "KOPI-FLR-001") == 1


def test_an_auditor_reads_but_may_not_adjust_or_import(world: ConsoleWorld) -> None:
    client = world.client
    token = sign_in(client, "auditor")
    page = client.get("/catalogue/products/KOPI-FLR-001")
    assert page.status_code == 200
    assert 'name="key"' not in page.text  # no form to send
    posted = client.post(
        "/catalogue/products/KOPI-FLR-001/stock",
        data={
            "csrf_token": token,
            "delta": "5",
            "reason": "receipt",
            "note": "found",
            "key": "k" * 32,
        },
    )
    assert posted.status_code == 403
    assert _level(world, "KOPI-FLR-001").on_hand == 48
    assert client.get("/catalogue/import").status_code == 403
    status, _ = _upload(
        client,
        token,
        products=(
            "p.csv",
            (PRODUCT_HEADER + "NEW-1,IKM-NTT-001,X,1000,10,,\n").encode(),
        ),
    )
    assert status == 403
    assert _product_names(world, "NEW-1") == {}


# ------------------------------------------------------------------- importing


def test_a_bad_row_is_named_and_nothing_changes_then_the_fixed_file_imports(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "officer.ntt")
    bad = PRODUCT_HEADER + (
        "KOPI-FLR-001,IKM-NTT-001,Kopi Baru,90000,270,active,\n"
        "KOPI-NEW-001,IKM-NTT-001,Kopi Hijau,sembilan ribu,270,active,12\n"
    )
    status, page = _upload(client, token, products=("produk.csv", bad.encode()))
    assert status == 422
    issue = re.search(r'<tr class="issue">(.*?)</tr>', page, re.S)
    assert issue is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", issue.group(1))
    assert cells[:4] == ["produk.csv", "3", "price", "sembilan ribu"]
    assert "whole rupiah" in cells[4]
    assert _IMPORT_TOKEN.search(page) is None
    assert _product_names(world, "KOPI-FLR-001", "KOPI-NEW-001") == {
        "KOPI-FLR-001": "Kopi Arabika Flores Bajawa Biji Sangrai 250 g"
    }

    fixed = bad.replace("sembilan ribu", "9000")
    status, page = _upload(client, token, products=("produk.csv", fixed.encode()))
    assert status == 200
    assert 'id="products-created">1<' in page
    assert 'id="products-updated">1<' in page
    assert len(_product_names(world, "KOPI-FLR-001", "KOPI-NEW-001")) == 1  # a preview
    assert _apply(client, token, page) == 303
    assert _product_names(world, "KOPI-FLR-001", "KOPI-NEW-001") == {
        "KOPI-FLR-001": "Kopi Baru",
        "KOPI-NEW-001": "Kopi Hijau",
    }
    assert _level(world, "KOPI-NEW-001").on_hand == 12
    reader = world.console.runtime.audit_reader()
    written = {
        (e.action, e.subject, e.actor)
        for e in reader.events(EventFilter(actor="console:officer.ntt"))
    }
    assert (PRODUCT_CREATED, sku_subject("KOPI-NEW-001"), "console:officer.ntt") in (
        written
    )
    assert (PRODUCT_UPDATED, sku_subject("KOPI-FLR-001"), "console:officer.ntt") in (
        written
    )
    assert _apply(client, token, page) == 409  # applied once


def test_a_workbook_of_producers_and_products_imports(world: ConsoleWorld) -> None:
    client = world.client
    token = sign_in(client, "admin")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "products"
    sheet.append(["sku", "producer_code", "name", "price", "weight_grams"])
    sheet.append(["SONGKET-1", "IKM-PLB-001", "Songket Palembang", 1500000, 400])
    producers = book.create_sheet("producers")
    producers.append(["producer_code", "name", "kind", "province", "regency"])
    producers.append(
        ["IKM-PLB-001", "Songket Cek Ipah", "ikm", "Sumatera Selatan", "Palembang"]
    )
    content = io.BytesIO()
    book.save(content)
    status, page = _upload(client, token, products=("katalog.xlsx", content.getvalue()))
    assert status == 200, page
    assert 'id="producers-created">1<' in page
    assert 'id="products-created">1<' in page
    assert _apply(client, token, page) == 303
    assert _product_names(world, "SONGKET-1") == {"SONGKET-1": "Songket Palembang"}


def test_an_officer_may_not_import_rows_of_producers_outside_their_scope(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "officer.lapas")
    rows = PRODUCT_HEADER + (
        "AKARJATI-PTK-001,WBP-KALBAR-001,Akar Jati Baru,10000,100,active,\n"
        "KOPI-FLR-001,IKM-NTT-001,Kopi Lapas,1000,100,active,\n"
    )
    producers = (
        "producer_code,name,kind,province,regency,institution\n"
        "IKM-NTT-002,Tenun Pindah,ikm,Nusa Tenggara Timur,Kabupaten Sikka,"
        "Lapas Kelas I Cipinang\n"
    )
    before = _product_names(world, "AKARJATI-PTK-001", "KOPI-FLR-001")
    status, page = _upload(
        client,
        token,
        products=("produk.csv", rows.encode()),
        producers=("produsen.csv", producers.encode()),
    )
    assert status == 422
    issues = re.findall(r'<tr class="issue">(.*?)</tr>', page, re.S)
    assert len(issues) == 2
    assert "produk.csv" in issues[1]
    assert ">3<" in issues[1]
    assert "IKM-NTT-001" in issues[1]
    assert "outside" in issues[1]
    assert "produsen.csv" in issues[0]
    assert "IKM-NTT-002" in issues[0]
    assert _IMPORT_TOKEN.search(page) is None
    assert _product_names(world, "AKARJATI-PTK-001", "KOPI-FLR-001") == before


def test_an_import_is_refused_when_the_catalogue_changed_since_its_preview(
    world: ConsoleWorld, tmp_path: Path
) -> None:
    client = world.client
    token = sign_in(client, "admin")
    rows = PRODUCT_HEADER + "KOPI-FLR-001,IKM-NTT-001,Kopi Sore,85000,270,active,\n"
    status, page = _upload(client, token, products=("p.csv", rows.encode()))
    assert status == 200
    other = tmp_path / "other.csv"
    other.write_text(
        PRODUCT_HEADER + "KOPI-FLR-001,IKM-NTT-001,Kopi Pagi,85000,270,active,\n"
    )
    done = world.cli(
        "--config", str(world.config), "catalog", "import", str(other),
        "--actor", "officer:ani",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    # The preview said "update the name": the same file would now update it back,
    # with the same summary; the plan digest still matches, so it is applied.
    assert _apply(client, token, page) == 303
    assert _product_names(world, "KOPI-FLR-001")["KOPI-FLR-001"] == "Kopi Sore"

    status, page = _upload(client, token, products=("p.csv", rows.encode()))
    assert status == 200
    assert 'id="products-unchanged">1<' in page
    other.write_text(
        PRODUCT_HEADER + "KOPI-FLR-001,IKM-NTT-001,Kopi Pagi,85000,270,active,\n"
    )
    done = world.cli(
        "--config", str(world.config), "catalog", "import", str(other),
        "--actor", "officer:ani",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _apply(client, token, page) == 409  # would now update, not nothing
    assert _product_names(world, "KOPI-FLR-001")["KOPI-FLR-001"] == "Kopi Pagi"


def test_a_preview_is_only_its_uploaders_and_only_for_unchanged_files(
    world: ConsoleWorld, tmp_path: Path
) -> None:
    client = world.client
    token = sign_in(client, "officer.ntt")
    rows = PRODUCT_HEADER + "KOPI-FLR-001,IKM-NTT-001,Kopi Sore,85000,270,active,\n"
    status, page = _upload(client, token, products=("p.csv", rows.encode()))
    assert status == 200
    other = world.browser()
    assert _apply(other, sign_in(other, "admin"), page) == 409
    kept = next((tmp_path / "uploads").glob("*/products/p.csv"))
    kept.write_text(rows.replace("Kopi Sore", "Kopi Malam"))
    assert _apply(client, token, page) == 409
    assert _product_names(world, "KOPI-FLR-001")["KOPI-FLR-001"] == (
        "Kopi Arabika Flores Bajawa Biji Sangrai 250 g"
    )


def test_a_file_too_large_or_none_is_refused_clearly(world: ConsoleWorld) -> None:
    client = world.client
    token = sign_in(client, "admin")
    status, page = _upload(
        client, token, products=("big.csv", b"x" * (MAX_FILE_BYTES + 1))
    )
    assert status == 413
    assert "big.csv" in page
    assert "larger than 5 MB" in page
    status, page = _upload(client, token)
    assert status == 422
    assert "Diharapkan berkas produsen atau produk" in page


def test_a_planted_script_in_an_imported_name_is_shown_as_text(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "officer.ntt")
    planted = "<script>alert(1)</script>"
    rows = PRODUCT_HEADER + f'XSS-1,IKM-NTT-001,"{planted}",1000,10,active,\n'
    status, page = _upload(client, token, products=("p.csv", rows.encode()))
    assert status == 200
    assert planted not in page
    assert "&lt;script&gt;" in page
    assert _apply(client, token, page) == 303
    assert _product_names(world, "XSS-1") == {"XSS-1": planted}
    for path in ("/catalogue?q=XSS", "/catalogue/products/XSS-1"):
        shown = client.get(path).text
        assert planted not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_an_import_is_applied_by_one_press_of_the_button_only(
    world: ConsoleWorld,
) -> None:
    client = world.client
    token = sign_in(client, "admin")
    rows = PRODUCT_HEADER + "ONCE-1,IKM-NTT-001,Sekali,1000,10,active,5\n"
    status, page = _upload(client, token, products=("p.csv", rows.encode()))
    assert status == 200
    store = UploadStore(world.app.state.catalogue_uploads)
    found = _IMPORT_TOKEN.search(page)
    assert found is not None
    store.claim(found.group(1), "admin")  # another request of the same user has it
    assert _apply(client, token, page) == 409
    assert _product_names(world, "ONCE-1") == {}
