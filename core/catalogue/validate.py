"""Validating catalogue sheets into producers and products.

Every row is checked and every problem is collected (not only the first), each naming
the sheet, row and column, the value found and what was expected. A sheet's kind comes
from its name (``products``/``produk``, ``producers``/``produsen``), else from its
header: a products sheet has a ``sku`` column, a producers sheet a ``producer_code`` one
and no ``sku`` (Indonesian column names count, see :mod:`core.catalogue.columns`).
Columns that are not read are reported as notices, not refused. Prices may be written
as Indonesians do (``Rp 275.000``); ambiguous numbers (``275,000``) are refused.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from core.catalogue.columns import (
    PRODUCER_COLUMNS,
    PRODUCER_REQUIRED,
    PRODUCERS,
    PRODUCT_COLUMNS,
    PRODUCT_OPTIONAL,
    PRODUCT_REQUIRED,
    PRODUCTS,
    canonical_column,
    header_kind,
    normalise_header,
)
from core.catalogue.sheets import Cell, Sheet, SheetReadError
from core.csvfile import MARK, restore
from core.domain.catalogue import (
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PRICE,
    MAX_WEIGHT_GRAMS,
    Condition,
    Dimensions,
    Producer,
    ProducerKind,
    Product,
    ProductStatus,
)
from core.domain.ids import ProducerCode, Sku, sku_key
from core.errors import InputIssue

MAX_SKU_LENGTH = 64
MAX_IMAGES = 9
MAX_STOCK = 1_000_000
MAX_DIMENSION_CM = 1_000
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
_DIGITS = re.compile(r"^[0-9]+$")
_NEGATIVE = re.compile(r"^-[0-9]+$")
#: Rupiah as Indonesians write them: ``Rp 275.000``, ``Rp275.000,-``, ``275.000``.
_RUPIAH = re.compile(
    r"^(?:rp\.?\s*)?([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,-|,00)?$", re.IGNORECASE
)
#: A whole number with id-ID thousands dots: ``1.500``.
_GROUPED = re.compile(r"^([0-9]{1,3}(?:\.[0-9]{3})+)$")
_COMMA_GROUPED = re.compile(r"^(?:rp\.?\s*)?[0-9]{1,3}(?:,[0-9]{3})+$", re.IGNORECASE)
_DECIMALS = re.compile(r"[0-9](?:,[0-9]+|\.[0-9]{1,2})$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Multi-line text may hold line breaks and tabs, and no other control character.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_IMAGE_SEPARATORS = re.compile(r"[\s|]+")
_BUSINESS_ID = re.compile(r"^[A-Za-z0-9./-]{1,32}$")

_CONDITIONS: Final = {
    "new": Condition.NEW,
    "baru": Condition.NEW,
    "used": Condition.USED,
    "bekas": Condition.USED,
}
_STATUSES: Final = {s.value: s for s in ProductStatus}
_KINDS: Final = {k.value: k for k in ProducerKind}

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class RowRef:
    """Where a record came from."""

    source: str
    row: int

    def __str__(self) -> str:
        return f"{self.source}, row {self.row}"


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """A validated producer row."""

    producer: Producer
    ref: RowRef


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """A validated product row; ``stock`` is the initial stock column, if filled.

    ``columns`` are the optional columns the sheet has: fields whose columns are absent
    keep their stored values when the product exists.
    """

    product: Product
    stock: int | None
    ref: RowRef
    columns: frozenset[str] = frozenset(PRODUCT_OPTIONAL)
    digest: str | None = None


@dataclass
class ValidatedCatalogue:
    """Everything read from the files: the good records and every issue found."""

    producers: list[ProducerRecord] = field(default_factory=list)
    products: list[ProductRecord] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    #: Problems that block nothing, such as columns that are not read.
    notices: list[InputIssue] = field(default_factory=list)
    rows_read: int = 0
    #: Product rows identical to the ones their products were last imported from.
    rows_known_unchanged: int = 0


#: Receives validated product records a chunk at a time (see :func:`validate_sheets`).
ProductSink = Callable[[list[ProductRecord]], None]


def row_digest(header: tuple[str, ...], cells: tuple[Cell, ...]) -> str:
    """Digest of a spreadsheet row together with its sheet's normalised header."""
    text = repr((header, cells)).encode("utf-8")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _is_empty(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _shown(value: Cell) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:57]}… ({len(text)} characters)"


class _Row:
    """Typed access to one row's cells; each failed check records an issue."""

    __slots__ = (
        "_issues",
        "_labels",
        "_marked",
        "_source",
        "_values",
        "number",
        "ok",
    )

    def __init__(
        self,
        source: str,
        number: int,
        cells: tuple[Cell, ...],
        names: tuple[str, ...],
        issues: list[InputIssue],
        labels: Mapping[str, str],
        marked: bool = False,
    ) -> None:
        self._source, self.number, self._marked = source, number, marked
        self._values: dict[str, Cell] = dict(zip(names, cells, strict=False))
        self._issues, self._labels, self.ok = issues, labels, True

    def fail(self, column: str, value: Cell, expected: str) -> None:
        self.ok = False
        shown = None if value is None or value == "" else _shown(value)
        label = self._labels.get(column, column)
        self._issues.append(
            InputIssue(self._source, self.number, label, shown, expected)
        )

    def raw(self, column: str) -> Cell:
        return self._values.get(column)

    def text(
        self, column: str, *, required: bool, max_length: int, multiline: bool = False
    ) -> str:
        value = self._values.get(column)
        control = _CONTROL_MULTILINE if multiline else _CONTROL
        if type(value) is str:  # the common case, checked without detours
            stripped = value.strip()
            if stripped[:1] == MARK and self._marked:  # a CSV export's formula mark
                stripped = restore(stripped).lstrip()
            if multiline and "\r" in stripped:
                stripped = stripped.replace("\r\n", "\n").replace("\r", "\n")
            if (
                stripped
                and len(stripped) <= max_length
                and not control.search(stripped)
            ):
                return stripped
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = "" if value is None else str(value).strip()
        if text[:1] == MARK and self._marked:
            text = restore(text).lstrip()
        if multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            if required:
                self.fail(column, value, "a value is required here")
            return ""
        if len(text) > max_length:
            self.fail(column, text, f"at most {max_length} characters")
        elif found := control.search(text):
            self.fail(
                column,
                text,
                (
                    "text without control characters (line breaks and tabs are fine)"
                    if multiline
                    else "a single line of text without control characters"
                )
                + f"; found U+{ord(found.group()):04X} at position {found.start() + 1}",
            )
        return text

    def integer(
        self,
        column: str,
        *,
        required: bool,
        minimum: int,
        maximum: int,
        expected: str,
        written: re.Pattern[str] | None = None,
    ) -> int | None:
        """A whole number; text matching ``written`` is read from its group 1 with
        the thousands dots taken out (only for values that are not plain digits)."""
        value = self._values.get(column)
        if type(value) is str and value.isascii() and value.isdigit():  # common case
            quick = int(value)
            if minimum <= quick <= maximum:
                return quick
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(column, value, f"a value is required here: {expected}")
            return None
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float):
            number = int(value) if value.is_integer() else None
        elif isinstance(value, str):
            stripped = value.strip()
            if _DIGITS.match(stripped) or _NEGATIVE.match(stripped):
                number = int(stripped)
            elif written is not None and (match := written.match(stripped)):
                number = int(match.group(1).replace(".", ""))
        if number is None:
            self.fail(column, value, expected + _number_hint(value))
            return None
        if not minimum <= number <= maximum:
            self.fail(column, value, f"{expected}, from {minimum:,} to {maximum:,}")
            return None
        return number

    def choice(
        self, column: str, options: Mapping[str, E], default: E | None
    ) -> E | None:
        value = self.raw(column)
        text = "" if value is None else str(value).strip().lower()
        if not text:
            if default is None:
                self.fail(column, value, "one of " + ", ".join(sorted(set(options))))
            return default
        if text not in options:
            self.fail(column, value, "one of " + ", ".join(sorted(set(options))))
            return default
        return options[text]


def _number_hint(value: Cell) -> str:
    """Why a number written as text was not read, when it looks like a number."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if _COMMA_GROUPED.match(text):
        return (
            f"; {text!r} is ambiguous (a comma marks decimals in Indonesian and "
            "thousands in English): write it without separators, or with dots "
            "between thousands"
        )
    if _DECIMALS.search(text):
        return f"; {text!r} has decimals (or a dot not followed by three digits)"
    return ""


def _check_header(
    sheet: Sheet, kind: str
) -> tuple[tuple[str, ...], list[InputIssue], list[InputIssue]]:
    """Canonical names of the header's columns (unknown ones keep their own), the
    issues that stop the sheet, and notices of the columns that are not read."""
    columns, required = (
        (PRODUCT_COLUMNS, PRODUCT_REQUIRED)
        if kind == PRODUCTS
        else (PRODUCER_COLUMNS, PRODUCER_REQUIRED)
    )
    issues: list[InputIssue] = []
    unknown: list[str] = []
    names: list[str] = []
    first: dict[str, str] = {}
    for raw in sheet.header:
        name = normalise_header(raw)
        column = canonical_column(name, kind) if name else None
        if not name:
            names.append("")
        elif column is None:
            unknown.append(raw)
            names.append(name)
        elif column in first:
            issues.append(
                InputIssue(
                    sheet.source,
                    sheet.header_row,
                    raw,
                    None,
                    f"each column only once; {first[column]!r} is the {column} "
                    "column already",
                )
            )
            names.append(f"{name}#{len(names) + 1}")  # read by no check
        else:
            first[column] = raw
            names.append(column)
    notices = [
        InputIssue(
            sheet.source,
            sheet.header_row,
            raw,
            None,
            f"a column that is not read: not a {kind[:-1]} column, so its values "
            f"are ignored (columns read: {', '.join(columns)}, or their Indonesian "
            "names, see README)",
        )
        for raw in unknown
    ]
    missing = [c for c in required if c not in first]
    if missing:
        others = (
            f"; columns not recognised: {', '.join(repr(u) for u in unknown)}"
            if unknown
            else ""
        )
        issues.append(
            InputIssue(
                sheet.source,
                sheet.header_row,
                None,
                None,
                f"missing required column(s) {', '.join(missing)} for a {kind[:-1]} "
                f"sheet (required: {', '.join(required)}){others}",
            )
        )
    return tuple(names), issues, notices


def sheet_kind(sheet: Sheet) -> str | None:
    """``"products"``, ``"producers"`` or ``None`` when the header says neither."""
    if sheet.name in {PRODUCTS, PRODUCERS}:
        return sheet.name
    found = header_kind(sheet.header)
    if found is not None:
        return found
    names = [normalise_header(h) for h in sheet.header]
    if any(canonical_column(n, PRODUCTS) == "sku" for n in names):
        return PRODUCTS
    if any(canonical_column(n, PRODUCERS) == "producer_code" for n in names):
        return PRODUCERS
    return None


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that prints as nothing or as a blank, named.

    ``"KOPI\u200b-1"`` → ``"U+200B ZERO WIDTH SPACE at position 5"``; ``None`` when
    every character is visible or an ordinary space.
    """
    for position, char in enumerate(text, start=1):
        if char != " " and (char.isspace() or unicodedata.category(char)[0] in "CZ"):
            name = unicodedata.name(char, "unnamed character")
            return f"U+{ord(char):04X} {name} at position {position}"
    return None


def lookalike_character(text: str) -> str | None:
    """The first non-ASCII character of ``text``, named: in a code it can only be a
    look-alike of an allowed one (``"KOPI\u20131"`` → ``"U+2013 EN DASH at position
    5"``)."""
    for position, char in enumerate(text, start=1):
        if not char.isascii():
            name = unicodedata.name(char, "unnamed character")
            return f"U+{ord(char):04X} {name} at position {position}"
    return None


def _invisible_hint(text: str) -> str:
    found = invisible_character(text)
    if found is not None:
        return (
            f"; found {found}, which prints as nothing or a blank (often pasted from "
            "a web page or chat): delete it or type the code again"
        )
    found = lookalike_character(text)
    if found is not None:
        return (
            f"; found {found}, which only looks like an allowed character (often "
            "put in by a word processor or a phone keyboard): type it again"
        )
    return ""


_CODE_RULE = "letters, digits, '.', '_' or '-', starting with a letter or digit"


def _validate_producer(row: _Row) -> Producer | None:
    code = row.text("producer_code", required=True, max_length=32).upper()
    if code and not _CODE.match(code):
        row.fail("producer_code", code, _CODE_RULE + _invisible_hint(code))
    name = row.text("name", required=True, max_length=MAX_NAME_LENGTH)
    kind = row.choice("kind", _KINDS, None)
    province = row.text("province", required=True, max_length=64)
    regency = row.text("regency", required=True, max_length=64)
    sentra = row.text("sentra", required=False, max_length=128)
    institution = row.text("institution", required=False, max_length=255)
    business_id = row.text("business_id", required=False, max_length=32)
    if business_id and not _BUSINESS_ID.match(business_id):
        row.fail("business_id", business_id, "letters, digits, '.', '/' or '-' only")
    if kind is ProducerKind.WBP and not institution:
        row.fail(
            "institution",
            None,
            "the institution of a WBP workshop, e.g. 'Lapas Kelas IIA Pontianak'",
        )
    if not row.ok or kind is None:
        return None
    return Producer(
        code=ProducerCode(code),
        name=name,
        kind=kind,
        province=province,
        regency=regency,
        sentra=sentra or None,
        institution=institution or None,
        business_id=business_id or None,
    )


_PRICE = (
    "whole rupiah, e.g. 150000, 150.000 or Rp 150.000 (dots between thousands; "
    "no decimals)"
)
_GRAMS = "grams as a whole number, e.g. 1500 or 1.500"
_CENTIMETRES = "centimetres as a whole number"


def _validate_product(row: _Row) -> tuple[Product, int | None] | None:
    raw_sku = row.raw("sku")
    sku = row.text("sku", required=True, max_length=MAX_SKU_LENGTH)
    if sku and not _SKU.match(sku):
        row.fail(
            "sku",
            raw_sku,
            "letters, digits, '.', '_', '/' or '-' only, no spaces"
            + _invisible_hint(sku),
        )
    # Codes and categories repeat across thousands of rows: keep one copy of each.
    producer = sys.intern(
        row.text("producer_code", required=True, max_length=32).upper()
    )
    if producer and not producer.isascii():  # no stored code can match it
        row.fail("producer_code", producer, _CODE_RULE + _invisible_hint(producer))
    name = row.text("name", required=True, max_length=MAX_NAME_LENGTH)
    price = row.integer(
        "price",
        required=True,
        minimum=1,
        maximum=MAX_PRICE,
        expected=_PRICE,
        written=_RUPIAH,
    )
    weight = row.integer(
        "weight_grams",
        required=True,
        minimum=1,
        maximum=MAX_WEIGHT_GRAMS,
        expected=_GRAMS,
        written=_GROUPED,
    )
    sizes = [
        row.integer(
            c,
            required=False,
            minimum=1,
            maximum=MAX_DIMENSION_CM,
            expected=_CENTIMETRES,
        )
        for c in ("length_cm", "width_cm", "height_cm")
    ]
    dimensions = None
    if all(s is not None for s in sizes):
        dimensions = Dimensions(*(s for s in sizes if s is not None))
    elif any(s is not None for s in sizes) and row.ok:
        row.fail("length_cm", None, "all of length_cm, width_cm and height_cm, or none")
    images_text = row.text(
        "image_urls", required=False, max_length=4000, multiline=True
    )
    images = tuple(u for u in _IMAGE_SEPARATORS.split(images_text) if u)
    for url in images:
        if not _URL.match(url):
            row.fail(
                "image_urls", url, "http:// or https:// addresses separated by '|'"
            )
            break
    if len(images) > MAX_IMAGES:
        row.fail("image_urls", images_text, f"at most {MAX_IMAGES} images")
    condition = row.choice("condition", _CONDITIONS, Condition.NEW)
    status = row.choice("status", _STATUSES, ProductStatus.ACTIVE)
    description = row.text(
        "description", required=False, max_length=MAX_DESCRIPTION_LENGTH, multiline=True
    )
    category = sys.intern(row.text("category", required=False, max_length=255))
    provenance = row.text("provenance", required=False, max_length=1000, multiline=True)
    stock = row.integer(
        "stock",
        required=False,
        minimum=0,
        maximum=MAX_STOCK,
        expected="initial stock as a whole number, 0 or more (e.g. 1200 or 1.200)",
        written=_GROUPED,
    )
    if not row.ok or price is None or weight is None:
        return None
    product = Product(
        sku=Sku(sku),
        producer_code=ProducerCode(producer),
        name=name,
        price=price,
        weight_grams=weight,
        description=description,
        category=category,
        dimensions=dimensions,
        image_urls=images,
        condition=condition or Condition.NEW,
        status=status or ProductStatus.ACTIVE,
        provenance=provenance,
    )
    return product, stock


class _Validator:
    """Validates rows sheet after sheet, remembering codes and SKUs across sheets."""

    def __init__(
        self,
        on_progress: Callable[[int], None] | None,
        known_rows: Mapping[str, str],
        on_products: ProductSink | None = None,
        chunk_rows: int = 10_000,
    ) -> None:
        self.result = ValidatedCatalogue()
        self._on_progress = on_progress
        self._known_rows = known_rows
        self._on_products, self._chunk_rows = on_products, chunk_rows
        self._producer_rows: dict[str, RowRef] = {}
        # Every SKU seen, good or known unchanged, kept compact (a million rows fit):
        # SKU key → where it was first seen, as sheet number << 32 | row number, and
        # the SKU as written there when it is not its own key.
        self._sources: list[str] = []
        self._sku_rows: dict[str, int] = {}
        self._sku_spellings: dict[str, str] = {}

    def sheet(self, sheet: Sheet) -> None:
        issues = self.result.issues
        kind = sheet_kind(sheet)
        if kind is None:
            issues.append(
                InputIssue(
                    sheet.source,
                    sheet.header_row,
                    None,
                    None,
                    "a header with a 'sku' column (products) or a 'producer_code' "
                    "column (producers); expected products columns: "
                    + ", ".join(PRODUCT_COLUMNS),
                )
            )
            return
        names, header_issues, notices = _check_header(sheet, kind)
        self.result.notices.extend(notices)
        if header_issues:
            issues.extend(header_issues)
            return
        present = frozenset(names) & frozenset(PRODUCT_OPTIONAL)
        # Issues name a column as the sheet does: "harga (price)".
        labels = {
            name: f"{str(raw).strip()} ({name})"
            for raw, name in zip(sheet.header, names, strict=True)
            if name and normalise_header(raw) != name
        }
        handle = self._producer if kind == "producers" else self._product
        rows_before = self.result.rows_read
        # Cells under a column without a header would be lost: they are refused.
        unnamed = [i for i, name in enumerate(names) if not name]
        width = len(names)
        self._sources.append(sheet.source)
        try:
            for number, cells in sheet.rows:
                self.result.rows_read += 1
                if self._on_progress is not None and self.result.rows_read % 1000 == 0:
                    self._on_progress(self.result.rows_read)
                row = _Row(
                    sheet.source, number, cells, names, issues, labels, sheet.marked
                )
                stray = (
                    (*unnamed, *range(width, len(cells)))
                    if unnamed or (len(cells) > width)
                    else ()
                )
                for position in stray:
                    if position < len(cells) and not _is_empty(cells[position]):
                        row.fail(
                            f"column {position + 1}",
                            cells[position],
                            "no value in a column without a header (name the "
                            "column or clear it)",
                        )
                        break
                handle(row, RowRef(sheet.source, number), present, names, cells)
        except SheetReadError as exc:
            issues.append(exc.issue)
            return
        if self.result.rows_read == rows_before:
            issues.append(
                InputIssue(
                    sheet.source,
                    None,
                    None,
                    None,
                    f"the {kind} sheet has a header but no rows; expected one row "
                    f"per {kind[:-1]}",
                )
            )

    def _producer(
        self,
        row: _Row,
        ref: RowRef,
        _present: frozenset[str],
        _names: tuple[str, ...],
        _cells: tuple[Cell, ...],
    ) -> None:
        producer = _validate_producer(row)
        if producer is None:
            return
        first = self._producer_rows.setdefault(producer.code, ref)
        if first is not ref:
            row.fail(
                "producer_code",
                producer.code,
                f"a code used once; {first} has it already",
            )
            return
        self.result.producers.append(ProducerRecord(producer, ref))

    def _first_with(self, key: str) -> tuple[RowRef, str] | None:
        where = self._sku_rows.get(key)
        if where is None:
            return None
        source = self._sources[where >> 32]
        return RowRef(source, where & 0xFFFFFFFF), self._sku_spellings.get(key, key)

    def _remember(self, key: str, sku: str, row: int) -> None:
        self._sku_rows[key] = (len(self._sources) - 1) << 32 | row
        if sku != key:
            self._sku_spellings[key] = sku

    def flush(self) -> None:
        """Hand the records held so far to the sink, if there is one."""
        if self._on_products is not None and self.result.products:
            records, self.result.products = self.result.products, []
            self._on_products(records)

    def _product(
        self,
        row: _Row,
        ref: RowRef,
        present: frozenset[str],
        names: tuple[str, ...],
        cells: tuple[Cell, ...],
    ) -> None:
        digest = row_digest(names, cells) if self._known_rows else None
        raw_sku = row.raw("sku")
        if digest is not None and isinstance(raw_sku, str):
            sku = raw_sku.strip()
            key = sku_key(sku)
            if self._known_rows.get(key) == digest and self._first_with(key) is None:
                self._remember(key, sku, ref.row)
                self.result.rows_known_unchanged += 1
                return
        parsed = _validate_product(row)
        if parsed is None:
            return
        product, stock = parsed
        seen = self._first_with(product.key)
        if seen is not None:
            first_ref, first_sku = seen
            how = "" if first_sku == product.sku else " (ignoring case and spaces)"
            row.fail(
                "sku",
                product.sku,
                f"a SKU used once; {first_ref} has {first_sku!r}{how}",
            )
            return
        self._remember(product.key, product.sku, ref.row)
        if digest is None:
            digest = row_digest(names, cells)
        self.result.products.append(ProductRecord(product, stock, ref, present, digest))
        if len(self.result.products) >= self._chunk_rows:
            self.flush()


def validate_sheets(
    sheets: Sequence[Sheet],
    on_progress: Callable[[int], None] | None = None,
    known_rows: Mapping[str, str] | None = None,
    on_products: ProductSink | None = None,
    chunk_rows: int = 10_000,
) -> ValidatedCatalogue:
    """Validate every row of every sheet; duplicates are checked across all sheets.

    ``known_rows`` maps SKU keys to the digest of the row each product was last
    imported from: an identical row was valid then and changes nothing now, so it is
    counted in ``rows_known_unchanged`` without being parsed again.

    With ``on_products``, good product records are handed to it in order, in lists of
    at most ``chunk_rows``, instead of being held in the result (whose ``products``
    is then empty): per row only its SKU and place are kept, to find duplicates.
    """
    validator = _Validator(
        on_progress, known_rows or {}, on_products, max(chunk_rows, 1)
    )
    for sheet in sheets:
        validator.sheet(sheet)
    validator.flush()
    if on_progress is not None:
        on_progress(validator.result.rows_read)
    return validator.result


__all__ = [
    "PRODUCER_COLUMNS",
    "PRODUCT_COLUMNS",
    "PRODUCT_OPTIONAL",
    "ProducerRecord",
    "ProductRecord",
    "RowRef",
    "ValidatedCatalogue",
    "invisible_character",
    "lookalike_character",
    "normalise_header",
    "row_digest",
    "sheet_kind",
    "validate_sheets",
]
