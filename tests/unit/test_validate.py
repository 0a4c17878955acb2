"""Row validation: every bad value is named by sheet, row and column."""

from __future__ import annotations

import pytest

from core.catalogue.sheets import Cell, Sheet
from core.catalogue.validate import PRODUCT_COLUMNS, validate_sheets
from core.domain.catalogue import Condition, Dimensions, ProducerKind, ProductStatus

PRODUCT_HEADER = ("sku", "producer_code", "name", "price", "weight_grams", "stock")
GOOD = ("KOPI-1", "ikm-ntt-001", "Kopi Arabika Flores", "85000", "300", "12")


def products(
    *rows: tuple[Cell, ...], header: tuple[str, ...] = PRODUCT_HEADER
) -> Sheet:
    return Sheet("p.csv", header, [(n, row) for n, row in enumerate(rows, start=2)])


def only_issue(sheet: Sheet) -> tuple[int | None, str | None, str | None, str]:
    result = validate_sheets([sheet])
    assert len(result.issues) == 1, [i.describe() for i in result.issues]
    issue = result.issues[0]
    return issue.row, issue.column, issue.value, issue.expected


def with_value(column: str, value: Cell) -> tuple[Cell, ...]:
    row: list[Cell] = list(GOOD)
    row[PRODUCT_HEADER.index(column)] = value
    return tuple(row)


def test_a_good_row_becomes_a_product_with_defaults() -> None:
    result = validate_sheets([products(GOOD)])
    assert result.issues == []
    (record,) = result.products
    assert record.product.producer_code == "IKM-NTT-001"
    assert record.product.price == 85000
    assert record.product.condition is Condition.NEW
    assert record.product.status is ProductStatus.ACTIVE
    assert record.stock == 12
    assert str(record.ref) == "p.csv, row 2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("150000.50", "has decimals"),
        ("150.000,50", "has decimals"),
        ("1.50", "has decimals"),
        ("Rp 1.50", "has decimals"),
        ("150,000", "ambiguous"),
        ("275,000", "ambiguous"),
        ("Rp 275,000", "ambiguous"),
        ("1.000.00", "whole rupiah, e.g. 150000, 150.000 or Rp 150.000"),
        ("15.0000", "whole rupiah"),
        ("Rp", "whole rupiah"),
        ("IDR 5.000", "whole rupiah"),
        ("Rp -5.000", "whole rupiah"),
        ("Rp 1.000 2.000", "whole rupiah"),
        (150000.5, "whole rupiah"),
        ("0", "from 1 to"),
        ("Rp 0", "from 1 to"),
        ("-5", "from 1 to"),
        ("", "a value is required"),
    ],
)
def test_bad_prices_are_named(value: Cell, expected: str) -> None:
    row, column, shown, message = only_issue(products(with_value("price", value)))
    assert (row, column) == (2, "price")
    assert expected in message
    if value not in ("", None):
        assert shown == str(value)


@pytest.mark.parametrize(
    ("value", "rupiah"),
    [
        ("Rp 275.000", 275_000),
        ("275.000", 275_000),
        ("Rp275.000", 275_000),
        ("rp. 275.000", 275_000),
        ("Rp\u00a0275.000", 275_000),
        ("Rp 1.250.000,-", 1_250_000),
        ("Rp 275.000,00", 275_000),
        ("Rp 500", 500),
        (" 85000 ", 85_000),
    ],
)
def test_rupiah_as_indonesians_write_them_are_read(value: str, rupiah: int) -> None:
    result = validate_sheets([products(with_value("price", value))])
    assert result.issues == []
    assert result.products[0].product.price == rupiah


@pytest.mark.parametrize(
    ("column", "value", "number"),
    [
        ("weight_grams", "1.500", 1500),
        ("stock", "1.200", 1200),
        ("stock", "0", 0),
    ],
)
def test_thousands_dots_in_weight_and_stock_are_read(
    column: str, value: str, number: int
) -> None:
    result = validate_sheets([products(with_value(column, value))])
    assert result.issues == []
    (record,) = result.products
    found = record.product.weight_grams if column == "weight_grams" else record.stock
    assert found == number


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("weight_grams", "1,5", "has decimals"),
        ("weight_grams", "1.5", "has decimals"),
        ("weight_grams", "1,500", "ambiguous"),
        ("weight_grams", "Rp 1.500", "grams as a whole number"),
        ("stock", "1,200", "ambiguous"),
        ("stock", "Rp 12", "0 or more"),
    ],
)
def test_ambiguous_weights_and_stock_are_refused(
    column: str, value: str, expected: str
) -> None:
    row, found, shown, message = only_issue(products(with_value(column, value)))
    assert (row, found, shown) == (2, column, value)
    assert expected in message


def test_whole_numbers_from_spreadsheet_cells_are_accepted() -> None:
    result = validate_sheets([products(with_value("price", 150000.0))])
    assert result.products[0].product.price == 150000


def test_missing_sku() -> None:
    row, column, _, expected = only_issue(products(with_value("sku", "  ")))
    assert (row, column) == (2, "sku")
    assert "required" in expected


@pytest.mark.parametrize("sku", ["KOPI 1", "KOPI*1", "-KOPI"])
def test_sku_with_spaces_or_symbols(sku: str) -> None:
    _, column, _, expected = only_issue(products(with_value("sku", sku)))
    assert column == "sku"
    assert "no spaces" in expected


def test_duplicate_sku_in_the_file_names_the_first_row() -> None:
    row, column, _, expected = only_issue(products(GOOD, GOOD))
    assert (row, column) == (3, "sku")
    assert "p.csv, row 2" in expected


@pytest.mark.parametrize("second", ["kopi-1", " KOPI-1 ", "Kopi-1"])
def test_sku_differing_only_by_case_or_spaces_is_a_duplicate(second: str) -> None:
    row, column, _, expected = only_issue(products(GOOD, with_value("sku", second)))
    assert (row, column) == (3, "sku")
    assert "row 2" in expected


def test_duplicates_are_found_across_sheets() -> None:
    result = validate_sheets(
        [products(GOOD), Sheet("q.csv", PRODUCT_HEADER, [(7, GOOD)])]
    )
    assert [(i.source, i.row) for i in result.issues] == [("q.csv", 7)]


def test_empty_name_and_name_over_the_limit() -> None:
    assert "required" in only_issue(products(with_value("name", "")))[3]
    row, column, shown, expected = only_issue(products(with_value("name", "K" * 256)))
    assert (row, column) == (2, "name")
    assert "at most 255 characters" in expected
    assert shown is not None
    assert "256 characters" in shown


def test_a_name_on_two_lines_is_refused() -> None:
    assert "single line" in only_issue(products(with_value("name", "Kopi\nArabika")))[3]


@pytest.mark.parametrize("stock", ["-1", -3, "lima", "2.5"])
def test_negative_or_non_numeric_stock(stock: Cell) -> None:
    row, column, _, expected = only_issue(products(with_value("stock", stock)))
    assert (row, column) == (2, "stock")
    assert "0 or more" in expected


def test_every_bad_cell_of_every_row_is_reported() -> None:
    bad = ("", "ikm", "", "Rp 5,5", "berat", "-1")
    result = validate_sheets([products(bad, bad)])
    columns = [(i.row, i.column) for i in result.issues]
    assert columns == [
        (r, c)
        for r in (2, 3)
        for c in ("sku", "name", "price", "weight_grams", "stock")
    ]
    assert result.products == []


def test_optional_columns_are_parsed() -> None:
    header = (
        *PRODUCT_HEADER[:5],
        "length_cm",
        "width_cm",
        "height_cm",
        "image_urls",
        "condition",
        "status",
        "description",
    )
    row = (
        *GOOD[:5],
        "20",
        "15",
        8,
        "https://a.example/1.jpg | https://a.example/2.jpg",
        "Bekas",
        "DRAFT",
        "Sangrai medium.\nPanen 2025.",
    )
    result = validate_sheets([products(row, header=header)])
    assert result.issues == []
    product = result.products[0].product
    assert product.dimensions == Dimensions(20, 15, 8)
    assert product.image_urls == ("https://a.example/1.jpg", "https://a.example/2.jpg")
    assert product.condition is Condition.USED
    assert product.status is ProductStatus.DRAFT
    assert "\n" in product.description


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("length_cm", "20", "all of length_cm"),
        ("image_urls", "ftp://x/y.jpg", "http:// or https://"),
        ("condition", "second-hand", "one of"),
        ("status", "live", "one of"),
    ],
)
def test_optional_column_errors(column: str, value: str, expected: str) -> None:
    header = (*PRODUCT_HEADER, column)
    assert expected in only_issue(products((*GOOD, value), header=header))[3]


def test_wrong_headers_name_the_missing_and_the_unrecognised_columns() -> None:
    sheet = products(
        GOOD, header=("sku", "producer", "nama", "harga", "weight_grams", "stock")
    )
    result = validate_sheets([sheet])
    (issue,) = result.issues
    assert (issue.row, issue.column) == (1, None)
    assert "missing required column(s) producer_code for a product sheet" in (
        issue.expected
    )
    assert "columns not recognised: 'producer'" in issue.expected
    (notice,) = result.notices
    assert (notice.row, notice.column) == (1, "producer")
    assert result.products == []


def test_a_header_that_is_neither_products_nor_producers() -> None:
    _, _, _, expected = only_issue(products(GOOD, header=("kode", "nama")))
    assert "'sku' column" in expected
    assert ", ".join(PRODUCT_COLUMNS) in expected


def test_a_sheet_with_only_headers() -> None:
    row, _, _, expected = only_issue(Sheet("p.csv", PRODUCT_HEADER, []))
    assert row is None
    assert "header but no rows" in expected


def test_header_names_are_case_and_space_insensitive() -> None:
    header = ("SKU", " Producer Code ", "Name", "PRICE", "weight-grams", "Stock")
    assert validate_sheets([products(GOOD, header=header)]).issues == []


def test_a_row_longer_than_the_header() -> None:
    _, column, shown, expected = only_issue(products((*GOOD, "extra")))
    assert (column, shown) == ("column 7", "extra")
    assert "column without a header" in expected


def test_data_under_a_blank_header_is_refused_not_dropped() -> None:
    header = ("sku", "producer_code", "", "name", "price", "weight_grams", "stock")
    row = (GOOD[0], GOOD[1], "IMPORTANT DATA", *GOOD[2:])
    _, column, shown, expected = only_issue(products(row, header=header))
    assert (column, shown) == ("column 3", "IMPORTANT DATA")
    assert "column without a header" in expected
    empty_under_blank = (GOOD[0], GOOD[1], " ", *GOOD[2:])
    assert validate_sheets([products(empty_under_blank, header=header)]).issues == []


PRODUCER_HEADER = (
    "producer_code",
    "name",
    "kind",
    "province",
    "regency",
    "institution",
)


def producers(*rows: tuple[Cell, ...]) -> Sheet:
    return Sheet(
        "producers.csv", PRODUCER_HEADER, [(n, r) for n, r in enumerate(rows, start=2)]
    )


def test_producers_are_validated() -> None:
    good = (
        "wbp-kalbar-001",
        "Bengkel Kerja Lapas Pontianak",
        "WBP",
        "Kalimantan Barat",
        "Kota Pontianak",
        "Lapas Kelas IIA Pontianak",
    )
    result = validate_sheets([producers(good)])
    assert result.issues == []
    producer = result.producers[0].producer
    assert producer.code == "WBP-KALBAR-001"
    assert producer.kind is ProducerKind.WBP


def test_a_wbp_producer_needs_its_institution_and_codes_are_unique() -> None:
    no_institution = ("WBP-1", "Bengkel", "wbp", "Banten", "Tangerang", "")
    assert "institution" in only_issue(producers(no_institution))[1:2]
    ikm = ("IKM-1", "Koperasi", "ikm", "NTT", "Ngada", "")
    row, column, _, expected = only_issue(producers(ikm, ("ikm-1", *ikm[1:])))
    assert (row, column) == (3, "producer_code")
    assert "row 2" in expected


def test_unknown_producer_kind() -> None:
    row = ("IKM-1", "Koperasi", "umkm", "NTT", "Ngada", "")
    assert only_issue(producers(row))[1] == "kind"


def test_a_row_identical_to_its_last_import_is_known_unchanged_unparsed() -> None:
    from core.catalogue.validate import row_digest

    names = tuple(PRODUCT_HEADER)
    bad_but_known = ("KOPI-1", "x", "", "Rp 1", "", "")  # would fail validation
    known = {"KOPI-1": row_digest(names, bad_but_known)}
    result = validate_sheets([products(bad_but_known)], known_rows=known)
    assert result.issues == []
    assert (result.rows_known_unchanged, result.products) == (1, [])


def test_a_changed_row_is_validated_and_carries_its_new_digest() -> None:
    from core.catalogue.validate import row_digest

    known = {"KOPI-1": row_digest(tuple(PRODUCT_HEADER), GOOD)}
    changed = with_value("price", "90000")
    result = validate_sheets([products(changed)], known_rows=known)
    assert result.rows_known_unchanged == 0
    (record,) = result.products
    assert record.digest == row_digest(tuple(PRODUCT_HEADER), changed)


def test_known_rows_still_count_as_duplicates() -> None:
    from core.catalogue.validate import row_digest

    known = {"KOPI-1": row_digest(tuple(PRODUCT_HEADER), GOOD)}
    result = validate_sheets([products(GOOD, GOOD)], known_rows=known)
    assert [(i.row, i.column) for i in result.issues] == [(3, "sku")]
    result = validate_sheets(
        [products(with_value("sku", "kopi-1"), GOOD)], known_rows=known
    )
    assert [(i.row, i.column) for i in result.issues] == [(3, "sku")]


@pytest.mark.parametrize("bad", ["Kopi\x00Bajawa", "Kopi\x01", "Kopi\x1b[31m"])
def test_control_characters_are_refused_in_multiline_text(bad: str) -> None:
    header = (*PRODUCT_HEADER, "description")
    row, column, _, expected = only_issue(products((*GOOD, bad), header=header))
    assert (row, column) == (2, "description")
    assert "control characters" in expected


def test_line_breaks_are_kept_and_normalised_in_multiline_text() -> None:
    header = (*PRODUCT_HEADER, "description", "provenance")
    row = (*GOOD, "Sangrai medium.\r\nPanen 2025.\tArabika", "Lapas\rKupang")
    result = validate_sheets([products(row, header=header)])
    assert result.issues == []
    product = result.products[0].product
    assert product.description == "Sangrai medium.\nPanen 2025.\tArabika"
    assert product.provenance == "Lapas\nKupang"


@pytest.mark.parametrize(
    ("sku", "found"),
    [
        ("KOPI\u200b-1", "U+200B ZERO WIDTH SPACE at position 5"),
        ("\ufeffKOPI-1", "U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1"),
        ("KOPI-1\u200d", "U+200D ZERO WIDTH JOINER at position 7"),
        ("KOPI\u00a01", "U+00A0 NO-BREAK SPACE at position 5"),
    ],
)
def test_an_invisible_character_in_a_sku_is_named(sku: str, found: str) -> None:
    row, column, shown, expected = only_issue(products(with_value("sku", sku)))
    assert (row, column, shown) == (2, "sku", sku)
    assert f"found {found}" in expected
    assert "no spaces" in expected


@pytest.mark.parametrize("sku", ["KOPI#1", "KOPI 1"])
def test_a_visible_bad_character_in_a_sku_names_no_invisible_one(sku: str) -> None:
    _, column, _, expected = only_issue(products(with_value("sku", sku)))
    assert column == "sku"
    assert "found" not in expected


@pytest.mark.parametrize(
    ("column", "code", "found"),
    [
        ("sku", "KOPI\u20131", "U+2013 EN DASH at position 5"),
        ("sku", "\uff2bOPI-1", "U+FF2B FULLWIDTH LATIN CAPITAL LETTER K at position 1"),
        ("producer_code", "IKM\u20111", "U+2011 NON-BREAKING HYPHEN at position 4"),
    ],
)
def test_a_look_alike_character_in_a_code_is_named(
    column: str, code: str, found: str
) -> None:
    row, named, shown, expected = only_issue(products(with_value(column, code)))
    assert (row, named) == (2, column)
    assert shown is not None
    assert shown.upper() == code.upper()
    assert f"found {found}, which only looks like an allowed character" in expected


def test_an_invisible_character_in_a_producer_code_is_named() -> None:
    code = "IKM-NTT\u200b-001"
    row, column, _, expected = only_issue(products(with_value("producer_code", code)))
    assert (row, column) == (2, "producer_code")
    assert "U+200B ZERO WIDTH SPACE at position 8" in expected
    sheet = producers(("IKM\u2060-1", "Koperasi", "ikm", "NTT", "Sikka", ""))
    (issue,) = validate_sheets([sheet]).issues
    assert issue.column == "producer_code"
    assert "U+2060 WORD JOINER at position 4" in issue.expected


def test_indonesian_column_names_are_read_as_their_english_columns() -> None:
    header = (
        "Kode Produk",
        "kode_produsen",
        "Nama",
        "Harga (Rp)",
        "Berat (gram)",
        "Stok",
    )
    result = validate_sheets([products(GOOD, header=header)])
    assert result.issues == result.notices == []
    (record,) = result.products
    assert (record.product.sku, record.product.price, record.stock) == (
        "KOPI-1",
        85000,
        12,
    )
    assert record.columns == frozenset({"stock"})


def test_a_column_named_twice_in_two_languages_is_refused() -> None:
    header = ("sku", "producer_code", "name", "price", "weight_grams", "nama")
    _, column, _, expected = only_issue(products(GOOD, header=header))
    assert column == "nama"
    assert "each column only once; 'name' is the name column already" in expected


def test_an_unknown_column_is_a_notice_and_its_values_are_ignored() -> None:
    header = (*PRODUCT_HEADER, "tanggal_daftar")
    result = validate_sheets([products((*GOOD, "=not read"), header=header)])
    assert result.issues == []
    assert len(result.products) == 1
    (notice,) = result.notices
    assert (notice.row, notice.column, notice.value) == (1, "tanggal_daftar", None)
    assert "its values are ignored" in notice.expected


def test_indonesian_producer_columns() -> None:
    header = ("kode_produsen", "nama", "jenis", "provinsi", "kabupaten", "institusi")
    sheet = Sheet(
        "produsen.csv",
        header,
        [(2, ("LPS-PTK", "Bengkel Lapas", "wbp", "Kalbar", "Pontianak", "Lapas IIA"))],
    )
    result = validate_sheets([sheet])
    assert result.issues == []
    assert result.producers[0].producer.institution == "Lapas IIA"


def test_issues_name_a_column_as_the_sheet_does() -> None:
    header = ("sku", "producer_code", "nama", "Harga (Rp)", "weight_grams", "stok")
    result = validate_sheets([products(with_value("price", "275,000"), header=header)])
    (issue,) = result.issues
    assert (issue.row, issue.column, issue.value) == (
        2,
        "Harga (Rp) (price)",
        "275,000",
    )
    assert "ambiguous" in issue.expected


def test_products_can_be_handed_on_in_chunks_instead_of_held() -> None:
    rows = [with_value("sku", f"KOPI-{n}") for n in range(5)]
    chunks: list[list[str]] = []
    result = validate_sheets(
        [products(*rows)],
        on_products=lambda records: chunks.append([r.product.sku for r in records]),
        chunk_rows=2,
    )
    assert chunks == [["KOPI-0", "KOPI-1"], ["KOPI-2", "KOPI-3"], ["KOPI-4"]]
    assert (result.products, result.issues, result.rows_read) == ([], [], 5)


def test_duplicates_are_found_across_chunks_handed_on() -> None:
    first = with_value("sku", "kopi-1")
    others = [with_value("sku", f"KOPI-{n}") for n in range(2, 6)]
    again = [with_value("sku", "KOPI-1"), with_value("sku", "KOPI-3")]
    handed: list[str] = []
    result = validate_sheets(
        [products(first, *others), Sheet("q.csv", PRODUCT_HEADER, [(9, again[0])])],
        on_products=lambda records: handed.extend(r.product.sku for r in records),
        chunk_rows=1,
    )
    (issue,) = result.issues
    assert (issue.source, issue.row, issue.column) == ("q.csv", 9, "sku")
    assert "p.csv, row 2 has 'kopi-1' (ignoring case and spaces)" in issue.expected
    assert handed == ["kopi-1", "KOPI-2", "KOPI-3", "KOPI-4", "KOPI-5"]
    result = validate_sheets(
        [products(*others, again[1])], on_products=lambda _: None, chunk_rows=2
    )
    (issue,) = result.issues
    assert (issue.row, issue.column) == (6, "sku")
    assert issue.expected.endswith("p.csv, row 3 has 'KOPI-3'")
