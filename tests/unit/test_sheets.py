"""Reading catalogue files: encodings, delimiters, empty files, XLSX cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from core.catalogue.sheets import read_catalogue_file

HEADER = "sku,producer_code,name,price,weight_grams\n"


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "A-1,IKM-1,Kopi,1000,10\n\nA-2,IKM-1,Teh,2000,20\n")
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert [n for n, _ in list(sheets[0].rows)] == [2, 4]
    assert sheets[0].header[0] == "sku"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        delimiter.join(["sku", "name", "price"])
        + "\n"
        + delimiter.join(["A", "x", "1"])
        + "\n"
    )
    sheets, _ = read_catalogue_file(path)
    assert sheets[0].header == ("sku", "name", "price")
    assert next(iter(sheets[0].rows))[1] == ("A", "x", "1")


def test_csv_with_a_utf8_bom_reads_clean_headers(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeffsku,name\nA,Kain Tenun Ikat Sikka\n".encode())
    sheets, _ = read_catalogue_file(path)
    assert sheets[0].header == ("sku", "name")


def test_non_utf8_csv_names_the_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER.encode() + "A,IKM,Kopi caf\xe9,1,1\n".encode("latin-1"))
    sheets, issues = read_catalogue_file(path)
    assert sheets == []
    assert len(issues) == 1
    assert issues[0].row == 2
    assert "UTF-8" in issues[0].expected
    assert "0xE9" in issues[0].expected


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_csv_is_an_issue(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    sheets, issues = read_catalogue_file(path)
    assert sheets == []
    assert "empty" in issues[0].expected


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "p.ods"
    other.write_text("x")
    assert ".csv or .xlsx" in read_catalogue_file(other)[1][0].expected
    assert "existing" in read_catalogue_file(tmp_path / "none.csv")[1][0].expected


def _workbook(path: Path, **sheets: list[list[object]]) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def test_xlsx_reads_named_sheets_with_native_cell_types(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _workbook(
        path,
        producers=[["producer_code", "name"], ["IKM-1", "Koperasi"]],
        products=[["sku", "price"], ["A-1", 150000]],
        notes=[["anything"]],
    )
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert [s.source for s in sheets] == ["c.xlsx[producers]", "c.xlsx[products]"]
    assert list(sheets[1].rows) == [(2, ("A-1", 150000))]


def test_xlsx_merged_and_formula_cells_are_issues(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "products"
    sheet.append(["sku", "name", "price", "weight_grams"])
    sheet.append(["A-1", "Kopi", 1000, 250])
    sheet.append(["A-2", "Teh", "=C2*2", 250])
    sheet.merge_cells("B2:B3")
    workbook.save(path)
    _, issues = read_catalogue_file(path)
    merged = [i for i in issues if "merged" in i.expected]
    formula = [i for i in issues if "formula" in i.expected]
    assert merged[0].row == 2
    assert "B2:B3" in merged[0].expected
    assert formula[0].row == 3
    assert formula[0].column == "C3"
    assert formula[0].value == "=C2*2"


def test_xlsx_with_unnamed_sheets_needs_known_names(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    _workbook(path, Sheet1=[["sku"]], Sheet2=[["sku"]])
    _, issues = read_catalogue_file(path)
    assert "'producers'" in issues[0].expected


def test_a_corrupt_xlsx_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"not a zip")
    _, issues = read_catalogue_file(path)
    assert "valid XLSX" in issues[0].expected


def test_a_bad_byte_far_into_a_large_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    good_line = (
        "KOPI-000,IKM-1,Kopi Arabika Flores Bajawa Biji Sangrai 250 g,85000,270\n"
    )
    body = HEADER + good_line * 30_000  # about 2 MiB: the bad byte is past chunk one
    path.write_bytes(body.encode() + b"KOPI-X,IKM-1,Kopi caf\xe9,1,1\n")
    sheets, issues = read_catalogue_file(path)
    assert sheets == []
    assert issues[0].row == 30_002
    assert "0xE9 on line 30002" in issues[0].expected


def test_malformed_csv_found_while_streaming_is_an_issue(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    huge = "x" * 200_000  # over the csv module's field limit
    path.write_text(HEADER + f"A-1,IKM-1,Kopi,1000,10\nA-2,IKM-1,{huge},2000,20\n")
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    result = validate_sheets(sheets)
    assert [(i.row, "well-formed CSV" in i.expected) for i in result.issues] == [
        (3, True)
    ]


def test_rows_keep_their_spreadsheet_numbers_after_leading_blank_rows(
    tmp_path: Path,
) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    path.write_text("\n\n\n" + HEADER + "A-1,IKM-1,Kopi,Rp 5.5,10\n")
    sheets, _ = read_catalogue_file(path)
    assert sheets[0].header_row == 4
    assert [n for n, _ in sheets[0].rows] == [5]
    (issue,) = validate_sheets(sheets).issues
    assert (issue.row, issue.column) == (5, "price")
    xlsx = tmp_path / "c.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "products"
    sheet.append([])
    sheet.append(["sku", "producer_code", "name", "price", "weight_grams"])
    sheet.append(["A-1", "IKM-1", "Kopi", "Rp 5.5", 10])
    workbook.save(xlsx)
    sheets, issues = read_catalogue_file(xlsx)
    assert issues == []
    (issue,) = validate_sheets(sheets).issues
    assert (issue.row, issue.column) == (3, "price")


def test_an_unclosed_quote_is_a_malformed_csv_naming_the_row_it_opened(
    tmp_path: Path,
) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    path.write_text(
        "sku,producer_code,name,price,weight_grams,description\n"
        + 'A-1,IKM-1,Tenun,1000,10,"ikat\nmotif kuda"\n'  # a quoted line break is fine
        + 'A-2,IKM-1,"Kopi 5,2000,20,x\n'
        + "A-3,IKM-1,Teh,3000,30,y\n"
    )
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    (issue,) = validate_sheets(sheets).issues
    assert (issue.source, issue.row, issue.column) == ("p.csv", 3, None)
    assert "well-formed CSV" in issue.expected
    assert "never closed" in issue.expected
    assert "starts on line 4" in issue.expected
    assert "two quotes" in issue.expected
    assert "price" not in issue.expected


def test_an_unclosed_quote_in_the_header_is_a_malformed_csv(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('\nsku,"name,price\nA-1,Kopi,1000\n')
    sheets, issues = read_catalogue_file(path)
    assert sheets == []
    (issue,) = issues
    assert issue.row == 2
    assert "never closed" in issue.expected
    assert "starts on line 2" in issue.expected


def test_text_after_a_closing_quote_is_a_malformed_csv(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    path.write_text(HEADER + 'A-1,IKM-1,"Kain "Ikat" Sikka",1000,10\n')
    sheets, _ = read_catalogue_file(path)
    (issue,) = validate_sheets(sheets).issues
    assert issue.row == 2
    assert "followed by more text" in issue.expected
    assert "two quotes" in issue.expected


PRODUSEN: list[list[object]] = [
    ["kode_produsen", "nama", "jenis", "provinsi", "kabupaten", "tanggal_daftar"],
    ["IKM-NTT-001", "Koperasi Kopi Bajawa", "ikm", "NTT", "Ngada", "2026-01-05"],
]
PRODUK: list[list[object]] = [
    ["kode_produk", "kode_produsen", "nama", "harga", "berat_gram", "stok", "catatan"],
    ["KOPI-1", "IKM-NTT-001", "Kopi Arabika", "Rp 275.000", "1.250", "1.200", "x"],
    ["KOPI-2", "IKM-NTT-001", "Kopi Robusta", "85.000", 250, 12, ""],
]


def _officer_workbook(path: Path) -> None:
    """Sheets named in Indonesian, a merged title row above each header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in (("Produsen", PRODUSEN), ("Produk", PRODUK)):
        sheet = workbook.create_sheet(title)
        sheet.append([f"Daftar {title} IKM Binaan 2026"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def test_an_officers_workbook_is_read_as_it_is(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "ikm.xlsx"
    _officer_workbook(path)
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert [(s.source, s.name, s.header_row) for s in sheets] == [
        ("ikm.xlsx[Produsen]", "producers", 2),
        ("ikm.xlsx[Produk]", "products", 2),
    ]
    result = validate_sheets(sheets)
    assert result.issues == []
    assert [r.producer.code for r in result.producers] == ["IKM-NTT-001"]
    assert [
        (r.product.sku, r.product.price, r.product.weight_grams, r.stock, r.ref.row)
        for r in result.products
    ] == [("KOPI-1", 275_000, 1250, 1200, 3), ("KOPI-2", 85_000, 250, 12, 4)]
    assert [(n.source, n.row, n.column) for n in result.notices] == [
        ("ikm.xlsx[Produsen]", 2, "tanggal_daftar"),
        ("ikm.xlsx[Produk]", 2, "catatan"),
    ]
    assert all("not read" in n.expected for n in result.notices)


def test_a_csv_with_a_title_row_and_semicolons_is_read(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "produk.csv"
    lines = ["Daftar Produk IKM, Kabupaten Sikka", ""]
    lines += [";".join(str(c) for c in row) for row in PRODUK]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert sheets[0].header_row == 3
    result = validate_sheets(sheets)
    assert result.issues == []
    assert [(r.product.price, r.ref.row) for r in result.products] == [
        (275_000, 4),
        (85_000, 5),
    ]
    assert [n.column for n in result.notices] == ["catatan"]


def test_the_header_is_searched_in_the_first_ten_rows_only(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    path.write_text("".join(f"catatan {n}\n" for n in range(10)) + HEADER)
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert sheets[0].header == ("catatan 0",)
    (issue,) = validate_sheets(sheets).issues
    assert issue.row == 1
    assert "'sku' column" in issue.expected
    path.write_text(
        "".join(f"catatan {n}\n" for n in range(9)) + HEADER + "A,B,C,1,1\n"
    )
    sheets, _ = read_catalogue_file(path)
    assert (sheets[0].header_row, sheets[0].header[0]) == (10, "sku")


def test_a_merged_cell_below_the_title_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "ikm.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Produk"
    sheet.append(["Daftar Produk"])
    sheet.merge_cells("A1:C1")
    for row in PRODUK:
        sheet.append(row)
    sheet.merge_cells("C3:C4")
    workbook.save(path)
    _, issues = read_catalogue_file(path)
    assert [(i.row, "C3:C4" in i.expected) for i in issues] == [(3, True)]


APOSTROPHE_NAMES = ["'=Ndaru", "'-Ndaru-", "'+62 Kopi", "'Ndaru", "''@tenun"]


def test_an_xlsx_export_imports_back_names_that_start_with_an_apostrophe(
    tmp_path: Path,
) -> None:
    from core.catalogue.export import write_xlsx
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "c.xlsx"
    header = ["sku", "producer_code", "name", "price", "weight_grams"]
    rows: list[list[str | int]] = [
        [f"A-{n}", "IKM-1", name, 1000, 10] for n, name in enumerate(APOSTROPHE_NAMES)
    ]
    write_xlsx(path, {"products": (header, rows)})
    sheets, issues = read_catalogue_file(path)
    result = validate_sheets(sheets)
    assert (issues, result.issues) == ([], [])
    assert [r.product.name for r in result.products] == APOSTROPHE_NAMES


def test_a_csv_export_still_loses_only_its_own_mark(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets
    from core.csvfile import write_csv

    path = tmp_path / "c.csv"
    names = [*APOSTROPHE_NAMES, "=HYPERLINK(1)", "-Kopi"]
    write_csv(
        path,
        ["sku", "producer_code", "name", "price", "weight_grams"],
        [[f"A-{n}", "IKM-1", name, 1000, 10] for n, name in enumerate(names)],
    )
    result = validate_sheets(read_catalogue_file(path)[0])
    assert result.issues == []
    assert [r.product.name for r in result.products] == names


def _products_workbook(path: Path, *rows: list[object]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Produk"
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def test_formulas_in_columns_that_are_not_read_are_ignored(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "ikm.xlsx"
    _products_workbook(
        path,
        ["Daftar Produk IKM"],
        ["No", "kode_produk", "kode_produsen", "nama", "harga", "berat", "Total"],
        ["=ROW()-2", "A-1", "IKM-1", "Kopi", 1000, 10, "=E3*2"],
        ["=A3+1", "A-2", "IKM-1", "Teh", 2000, 20, "=E4*2"],
    )
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    result = validate_sheets(sheets)
    assert result.issues == []
    assert [(r.product.sku, r.product.price) for r in result.products] == [
        ("A-1", 1000),
        ("A-2", 2000),
    ]
    assert [n.column for n in result.notices] == ["No", "Total"]


def test_formulas_in_read_or_unnamed_columns_are_still_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ikm.xlsx"
    _products_workbook(
        path,
        ["No", "kode_produk", "kode_produsen", "nama", "harga", "berat", None],
        ["=ROW()-1", "A-1", "IKM-1", "Kopi", "=1000*2", 10, "=E2"],
    )
    _, issues = read_catalogue_file(path)
    assert [(i.row, i.column) for i in issues] == [(2, "E2"), (2, "G2")]
    assert all("formula" in i.expected for i in issues)


def test_a_header_missing_a_column_below_a_title_is_named_where_it_is(
    tmp_path: Path,
) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "produk.csv"
    path.write_text(
        "Daftar Produk IKM Kabupaten Sikka\n\n"
        "kode_produk,kode_produsen,nama,harga\nA-1,IKM-1,Kopi,Rp 1.000\n"
    )
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert sheets[0].header_row == 3
    (issue,) = validate_sheets(sheets).issues
    assert (issue.source, issue.row) == ("produk.csv", 3)
    assert "missing required column(s) weight_grams" in issue.expected
    book = tmp_path / "ikm.xlsx"
    _products_workbook(
        book,
        ["Daftar Produk IKM"],
        ["kode_produk", "kode_produsen", "nama", "harga"],
        ["A-1", "IKM-1", "Kopi", 1000],
    )
    sheets, issues = read_catalogue_file(book)
    assert issues == []
    (issue,) = validate_sheets(sheets).issues
    assert (issue.source, issue.row) == ("ikm.xlsx[Produk]", 2)
    assert "missing required column(s) weight_grams" in issue.expected


def test_error_values_are_refused_like_formulas(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "ikm.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Produk"
    sheet.append(["sku", "producer_code", "nama", "harga", "berat", "kategori", "cek"])
    sheet.append(["A-1", "IKM-1", "#N/A", 1000, 10, "#REF!", "#DIV/0!"])
    sheet.append(["A-2", "IKM-1", "Kopi", 1000, 10, "Minuman", "#N/A"])
    for cell in ("C2", "F2", "G2", "G3"):
        sheet[cell].data_type = "e"
    workbook.save(path)
    sheets, issues = read_catalogue_file(path)
    assert [(i.row, i.column, i.value) for i in issues] == [
        (2, "C2", "#N/A"),
        (2, "F2", "#REF!"),
    ]
    assert all("error value" in i.expected for i in issues)
    result = validate_sheets(sheets)
    assert [r.product.name for r in result.products] == ["Kopi"]


def test_text_read_back_without_its_mark_has_no_leading_blank(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "p.csv"
    path.write_text(
        HEADER + "A-1,IKM-1,' =Kopi,1000,10\nA-2,IKM-1,'\u00a0-Teh,1000,10\n"
    )
    result = validate_sheets(read_catalogue_file(path)[0])
    assert result.issues == []
    assert [r.product.name for r in result.products] == ["=Kopi", "-Teh"]


def test_every_sheet_of_a_known_kind_is_read(tmp_path: Path) -> None:
    from core.catalogue.validate import validate_sheets

    path = tmp_path / "ikm.xlsx"
    header: list[object] = ["sku", "producer_code", "name", "price", "weight_grams"]
    _workbook(
        path,
        Produk=[header, ["A-1", "IKM-1", "Kopi", 1000, 10]],
        products=[
            header,
            ["A-2", "IKM-1", "Teh", 2000, 20],
            ["a-1", "IKM-1", "Kopi", 1000, 10],
        ],
    )
    sheets, issues = read_catalogue_file(path)
    assert issues == []
    assert [s.source for s in sheets] == ["ikm.xlsx[Produk]", "ikm.xlsx[products]"]
    result = validate_sheets(sheets)
    assert [r.product.sku for r in result.products] == ["A-1", "A-2"]
    (issue,) = result.issues
    assert (issue.source, issue.row, issue.column) == ("ikm.xlsx[products]", 3, "sku")
    assert "ikm.xlsx[Produk], row 2" in issue.expected
