"""Reading catalogue spreadsheets (CSV and XLSX) into sheets of raw cells.

This module knows file formats, not products: it turns a file into :class:`Sheet` objects
(a header and numbered rows) and reports file-level problems (not UTF-8, empty, merged or
formula cells) as :class:`~core.errors.InputIssue` values. Row numbers are the ones a
spreadsheet program shows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from core.errors import InputIssue

Cell = str | int | float | bool | datetime | date | time | None

PRODUCT_SHEET = "products"
PRODUCER_SHEET = "producers"
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Sheet:
    """One table of a catalogue file: header cells and numbered data rows."""

    source: str
    header: tuple[str, ...]
    rows: Sequence[tuple[int, tuple[Cell, ...]]]
    name: str | None = None

    def __len__(self) -> int:
        return len(self.rows)


def _issue(source: str, expected: str, row: int | None = None, column: str | None = None,
           value: str | None = None) -> InputIssue:  # fmt: skip
    return InputIssue(source=source, row=row, column=column, value=value, expected=expected)


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_catalogue_file(path: Path) -> tuple[list[Sheet], list[InputIssue]]:
    """Read a CSV or XLSX catalogue file; returns its sheets and any file-level issues."""
    source = path.name
    if not path.is_file():
        return [], [_issue(str(path), "expected an existing CSV or XLSX file")]
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _read_csv(path, source)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, source)
    return [], [
        _issue(source, f"expected a .csv or .xlsx file, got a {suffix or 'nameless'} file")
    ]


# ----------------------------------------------------------------------------- CSV


def _decode(data: bytes, source: str) -> tuple[str | None, list[InputIssue]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex().upper()
        return None, [
            _issue(
                source,
                f"expected UTF-8 text, found byte 0x{bad} on line {line}; save the file "
                f"as 'CSV UTF-8' in the spreadsheet program",
                row=line,
            )
        ]


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, source: str) -> tuple[list[Sheet], list[InputIssue]]:
    text, issues = _decode(path.read_bytes(), source)
    if text is None:
        return [], issues
    if not text.strip():
        return [], [_issue(source, "the file is empty; expected a header row, then data rows")]
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            if header is None:
                if _is_blank(record):
                    continue
                header = tuple(record)
                header_row = number
                continue
            if not _is_blank(record):
                rows.append((number, tuple(record)))
    except csv.Error as exc:
        return [], [_issue(source, f"expected well-formed CSV: {exc}", row=reader.line_num)]
    if header is None:
        return [], [_issue(source, "the file is empty; expected a header row, then data rows")]
    if header_row != 1:
        rows = [(n - header_row + 1, cells) for n, cells in rows]
    return [Sheet(source=source, header=header, rows=rows)], issues


# ---------------------------------------------------------------------------- XLSX


def _read_xlsx(path: Path, source: str) -> tuple[list[Sheet], list[InputIssue]]:
    from openpyxl import load_workbook  # deferred: only XLSX imports need it

    try:
        workbook = load_workbook(path, data_only=False, read_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return [], [_issue(source, f"expected a valid XLSX workbook ({type(exc).__name__})")]
    try:
        names = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
        known = [n for n in (PRODUCER_SHEET, PRODUCT_SHEET) if n in names]
        chosen = [names[n] for n in known] if known else workbook.worksheets[:1]
        if not known and len(workbook.worksheets) > 1:
            titles = ", ".join(repr(ws.title) for ws in workbook.worksheets)
            return [], [
                _issue(
                    source,
                    f"expected sheets named 'producers' and/or 'products'; found {titles}",
                )
            ]
        sheets: list[Sheet] = []
        issues: list[InputIssue] = []
        for worksheet in chosen:
            sheet, sheet_issues = _read_worksheet(worksheet, f"{source}[{worksheet.title}]")
            issues.extend(sheet_issues)
            if sheet is not None:
                sheets.append(sheet)
        return sheets, issues
    finally:
        workbook.close()


def _cell_value(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    return str(value)


def _read_worksheet(worksheet: object, source: str) -> tuple[Sheet | None, list[InputIssue]]:
    issues: list[InputIssue] = [
        _issue(
            source,
            f"merged cells {merged.coord} are not accepted; unmerge them and fill every cell",
            row=merged.min_row,
        )
        for merged in sorted(
            worksheet.merged_cells.ranges,  # type: ignore[attr-defined]
            key=lambda r: (r.min_row, r.min_col),
        )
    ]
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    for row in worksheet.iter_rows():  # type: ignore[attr-defined]
        cells: list[Cell] = []
        for cell in row:
            if cell.data_type == "f":
                issues.append(
                    _issue(
                        source,
                        "a formula is not accepted; expected a plain value (copy the "
                        "column and paste values only)",
                        row=cell.row,
                        column=cell.coordinate,
                        value=str(cell.value),
                    )
                )
                cells.append(None)
            else:
                cells.append(_cell_value(cell.value))
        number = row[0].row if row else 0
        if _is_blank(cells):
            continue
        if header is None:
            if number != 1:
                issues.append(
                    _issue(source, "expected the header in row 1", row=number)
                )
            header = tuple("" if c is None else str(c) for c in cells)
            continue
        rows.append((number, tuple(cells)))
    if header is None:
        issues.append(_issue(source, "the sheet is empty; expected a header row, then data rows"))
        return None, issues
    return Sheet(source=source, header=header, rows=rows, name=_title(worksheet)), issues


def _title(worksheet: object) -> str:
    return str(getattr(worksheet, "title", "")).strip().lower()
