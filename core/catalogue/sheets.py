"""Reading catalogue spreadsheets (CSV and XLSX) into sheets of raw cells.

This module knows file formats, not products: it turns a file into :class:`Sheet`
objects (a header and numbered rows) and reports file-level problems (not UTF-8,
malformed CSV, empty, merged, formula or error cells) as
:class:`~core.errors.InputIssue` values. The header is the first row, among the first
few non-blank ones, that holds a sheet's required columns
(:mod:`core.catalogue.columns`), so a title above it is skipped; without such a row it
is the first that names a ``sku`` or ``producer_code`` column, else the first non-blank
row. Row numbers are the ones a spreadsheet program shows.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from core.catalogue.columns import (
    HEADER_SEARCH_ROWS,
    PRODUCER_SHEET,
    PRODUCT_SHEET,
    canonical_column,
    header_kind,
    names_key_column,
    normalise_header,
    sheet_kind_named,
)
from core.errors import InputIssue

Cell = str | int | float | bool | datetime | date | time | None

_DELIMITERS = (",", ";", "\t")


Row = tuple[int, tuple[Cell, ...]]


class SheetReadError(Exception):
    """A sheet's rows could not be read to the end; carries the issue to report."""

    def __init__(self, issue: InputIssue) -> None:
        self.issue = issue
        super().__init__(issue.describe())


@dataclass(frozen=True)
class Sheet:
    """One table of a catalogue file: header cells and numbered data rows.

    ``rows`` may be read lazily (CSV files are streamed, never held whole); iterating
    it can raise :class:`SheetReadError`. ``size`` is the number of data rows, or an
    estimate for a streamed file (for progress bars). ``marked`` is true for a CSV
    file, whose text may carry the mark :func:`core.csvfile.neutralise` adds; a
    workbook's text cells are text already and carry none.
    """

    source: str
    header: tuple[str, ...]
    rows: Iterable[Row]
    name: str | None = None
    size: int | None = None
    header_row: int = 1
    marked: bool = False

    def __len__(self) -> int:
        if self.size is not None:
            return self.size
        return len(self.rows) if isinstance(self.rows, Sized) else 0


def _issue(
    source: str,
    expected: str,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
) -> InputIssue:
    return InputIssue(
        source=source, row=row, column=column, value=value, expected=expected
    )


def _is_blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_catalogue_file(path: Path) -> tuple[list[Sheet], list[InputIssue]]:
    """Read a CSV or XLSX catalogue file; returns its sheets and file-level issues."""
    source = path.name
    if not path.is_file():
        return [], [_issue(str(path), "expected an existing CSV or XLSX file")]
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _read_csv(path, source)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, source)
    return [], [
        _issue(
            source, f"expected a .csv or .xlsx file, got a {suffix or 'nameless'} file"
        )
    ]


# ----------------------------------------------------------------------------- CSV


_CHUNK = 1 << 20


def _check_utf8(path: Path, source: str) -> tuple[int, bool, InputIssue | None]:
    """One streaming pass: (line count, has any non-blank text, decoding issue)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines, seen, has_text = 0, 0, False
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                position = max(exc.start - len(decoder.getstate()[0]), 0)
                line = lines + chunk[:position].count(b"\n") + 1
                bad = chunk[position : position + 1].hex().upper() or "??"
                return (
                    lines,
                    has_text,
                    _issue(
                        source,
                        f"expected UTF-8 text, found byte 0x{bad} on line {line}; "
                        "save the file as 'CSV UTF-8' in the spreadsheet program",
                        row=line,
                    ),
                )
            lines += chunk.count(b"\n")
            seen += len(chunk)
            has_text = has_text or bool(text.strip(" \t\r\n\ufeff"))
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return (
                lines,
                has_text,
                _issue(
                    source,
                    "expected UTF-8 text; the file ends inside a character",
                    row=lines,
                ),
            )
    return lines, has_text, None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _CsvRows:
    """The data rows of a CSV file, read from disk each time they are iterated."""

    def __init__(
        self, path: Path, source: str, delimiter: str, header_row: int
    ) -> None:
        self._path, self._source = path, source
        self._delimiter, self._header_row = delimiter, header_row

    def __iter__(self) -> Iterator[Row]:
        with self._path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=self._delimiter, strict=True)
            number, line = 0, 0  # the last record read, and its last line
            try:
                for number, record in enumerate(reader, start=1):
                    line = reader.line_num
                    if number > self._header_row and not _is_blank(record):
                        yield number, tuple(record)
            except csv.Error as exc:
                raise SheetReadError(
                    _malformed(self._source, exc, number + 1, line + 1)
                ) from None


def _malformed(source: str, exc: csv.Error, row: int, line: int) -> InputIssue:
    """The issue for a CSV record that cannot be read; ``line`` is where it starts."""
    reason = str(exc)
    if "field larger than" in reason:
        found = (
            f"a cell in this row (which starts on line {line}) runs past "
            f'{csv.field_size_limit():,} characters, usually because a quote (") '
            "opened there is never closed"
        )
        fix = 'close the quote, or write a quote inside a cell as two quotes ("")'
    elif "unexpected end of data" in reason:
        found = (
            f'a quote (") opened in this row (which starts on line {line}) is never '
            "closed, so the rest of the file reads as one cell"
        )
        fix = (
            'close the quote, or write a quote inside a cell as two quotes (""); '
            "saving the sheet again as CSV from the spreadsheet program does both"
        )
    elif "expected after" in reason:
        found = (
            f'a quote (") in a quoted cell of this row (which starts on line '
            f"{line}) is followed by more text"
        )
        fix = 'write a quote inside a quoted cell as two quotes ("")'
    else:
        found, fix = f"{reason} (row starting on line {line})", "save the file again"
    return _issue(source, f"expected well-formed CSV; {found}: {fix}", row=row)


_Malformed = tuple[csv.Error, int, int]  # the error, its row and its first line


def _top_records(
    path: Path, delimiter: str
) -> tuple[list[tuple[int, tuple[str, ...]]], _Malformed | None]:
    """The first non-blank records (as many as a header is searched in), numbered."""
    found: list[tuple[int, tuple[str, ...]]] = []
    read, line = 0, 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            for read, record in enumerate(reader, start=1):
                if not _is_blank(record):
                    found.append((read, tuple(record)))
                    if len(found) == HEADER_SEARCH_ROWS:
                        break
                line = reader.line_num
        except csv.Error as exc:
            return found, (exc, read + 1, line + 1)
    return found, None


def _read_csv(path: Path, source: str) -> tuple[list[Sheet], list[InputIssue]]:
    lines, has_text, problem = _check_utf8(path, source)
    if problem is not None:
        return [], [problem]
    if not has_text:
        return [], [
            _issue(source, "the file is empty; expected a header row, then data rows")
        ]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first_line = next((line for line in handle if line.strip()), "")
    preferred = _delimiter(first_line)
    # The header is the first row, within the first few, that has the required
    # columns (a title may stand above it); a title may also hide the delimiter.
    # Without such a row, it is the first that names a sku or producer_code column
    # (so a missing column is reported where the header is), else the first row.
    guess: tuple[str, tuple[int, tuple[str, ...]]] | None = None
    for delimiter in (preferred, *(d for d in _DELIMITERS if d != preferred)):
        records, error = _top_records(path, delimiter)
        if delimiter == preferred:
            fallback = records, error
        found = next(((n, r) for n, r in records if header_kind(r)), None)
        if found is not None:
            break
        if guess is None:
            named = next(((n, r) for n, r in records if names_key_column(r)), None)
            guess = None if named is None else (delimiter, named)
    else:
        records, error = fallback
        if guess is not None:
            delimiter, found = guess
        elif not records and error is not None:
            return [], [_malformed(source, *error)]
        elif not records:
            return [], [
                _issue(
                    source,
                    "the file has no values; expected a header row, then data rows",
                )
            ]
        else:
            delimiter, found = preferred, records[0]
    header_row, header = found
    rows = _CsvRows(path, source, delimiter, header_row)
    size = max(lines - header_row, 0)  # an estimate, for progress bars
    sheet = Sheet(source, header, rows, size=size, header_row=header_row, marked=True)
    return [sheet], []


# ---------------------------------------------------------------------------- XLSX


def _read_xlsx(path: Path, source: str) -> tuple[list[Sheet], list[InputIssue]]:
    from openpyxl import load_workbook  # deferred: only XLSX imports need it

    try:
        workbook = load_workbook(path, data_only=False, read_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return [], [
            _issue(source, f"expected a valid XLSX workbook ({type(exc).__name__})")
        ]
    try:
        # Every sheet of a known kind is read ('Produk' and 'products' both), the
        # producers first, so none is dropped unseen.
        named: dict[str, list[object]] = {PRODUCER_SHEET: [], PRODUCT_SHEET: []}
        for worksheet in workbook.worksheets:
            kind = sheet_kind_named(worksheet.title)
            if kind is not None:
                named[kind].append(worksheet)
        known = [*named[PRODUCER_SHEET], *named[PRODUCT_SHEET]]
        chosen = known or workbook.worksheets[:1]
        if not known and len(workbook.worksheets) > 1:
            titles = ", ".join(repr(ws.title) for ws in workbook.worksheets)
            return [], [
                _issue(
                    source,
                    "expected sheets named 'producers' and/or 'products' (or "
                    f"'produsen' and/or 'produk'); found {titles}",
                )
            ]
        sheets: list[Sheet] = []
        issues: list[InputIssue] = []
        for worksheet in chosen:
            sheet, sheet_issues = _read_worksheet(
                worksheet, f"{source}[{getattr(worksheet, 'title', '')}]"
            )
            issues.extend(sheet_issues)
            if sheet is not None:
                sheets.append(sheet)
        return sheets, issues
    finally:
        workbook.close()


def _cell_value(value: object) -> Cell:
    if value is None or isinstance(
        value, str | int | float | bool | datetime | date | time
    ):
        return value
    return str(value)


#: Cells that hold no value to import (by openpyxl data type), and what to do.
_NOT_VALUES = {
    "f": "a formula is not accepted; expected a plain value (copy the column and "
    "paste values only)",
    "e": "an error value (such as #N/A or #REF!) is not accepted; expected a plain "
    "value (correct the formula it was copied from, or type the value)",
}


def _read_worksheet(
    worksheet: object, source: str
) -> tuple[Sheet | None, list[InputIssue]]:
    kind = _title(worksheet)
    not_values: list[tuple[int, InputIssue]] = []  # (column index, issue)
    filled: list[Row] = []
    for row in worksheet.iter_rows():  # type: ignore[attr-defined]
        cells: list[Cell] = []
        for position, cell in enumerate(row):
            if cell.data_type in _NOT_VALUES:
                not_values.append(
                    (
                        position,
                        _issue(
                            source,
                            _NOT_VALUES[cell.data_type],
                            row=cell.row,
                            column=cell.coordinate,
                            value=str(cell.value),
                        ),
                    )
                )
                cells.append(None)
            else:
                cells.append(_cell_value(cell.value))
        if row and not _is_blank(cells):
            filled.append((row[0].row, tuple(cells)))
    if not filled:
        return None, [
            _issue(source, "the sheet is empty; expected a header row, then data rows")
        ]
    # The header is the first row, within the first few, that has the required
    # columns: a title above it is skipped, merged or not. Without one, it is the
    # first that names a sku or producer_code column, else the first row.
    top = filled[:HEADER_SEARCH_ROWS]
    at = next((i for i, (_, c) in enumerate(top) if header_kind(c, kind)), None)
    if at is None:
        at = next((i for i, (_, c) in enumerate(top) if names_key_column(c, kind)), 0)
    header_row, header_cells = filled[at]
    header = tuple("" if c is None else str(c) for c in header_cells)
    issues = [
        _issue(
            source,
            f"merged cells {merged.coord} are not accepted; "
            "unmerge them and fill every cell",
            row=merged.min_row,
        )
        for merged in sorted(
            worksheet.merged_cells.ranges,  # type: ignore[attr-defined]
            key=lambda r: (r.min_row, r.min_col),
        )
        if merged.max_row >= header_row
    ]
    ignored = _ignored_columns(header_cells, kind)
    issues.extend(
        issue
        for position, issue in not_values
        if (issue.row is None or issue.row >= header_row) and position not in ignored
    )
    sheet = Sheet(source, header, filled[at + 1 :], name=kind, header_row=header_row)
    return sheet, issues


def _ignored_columns(header: Sequence[Cell], kind: str | None) -> frozenset[int]:
    """Positions of the columns whose header names no column of the sheet's kind:
    their values are not read (a notice says so), so a formula or an error value there
    harms nothing.
    A column without a header is not among them (its values are refused)."""
    kind = kind or header_kind(header)
    if kind is None:
        return frozenset()
    names = [normalise_header(cell) for cell in header]
    return frozenset(
        i for i, name in enumerate(names) if name and not canonical_column(name, kind)
    )


def _title(worksheet: object) -> str | None:
    return sheet_kind_named(str(getattr(worksheet, "title", "")))
