"""CSV files that spreadsheet programs open safely, written whole or not at all.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(some programs skip leading spaces first) is read as a formula by spreadsheet programs
(CSV injection): a product named ``=HYPERLINK("http://…","klik")`` would become a live
link. Every CSV the project
writes goes through :func:`write_csv`, which prefixes such text with a single quote
``'`` (the mark spreadsheet programs honour as "this is text"); :func:`restore` takes
the mark off again when a file is read back, so an export imports back unchanged.

Only text is marked: numbers (``int``, ``float``) are written as numbers, so a
negative quantity stays a number. Text that already starts with quotes followed by
one of those characters gets one more quote, so that :func:`restore` gives back
exactly what was written, and an ordinary leading apostrophe (``'Ndaru``) is left
alone in both directions.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, TypeVar

#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_STARTS: Final = frozenset("=+-@\t\r")
MARK: Final = "'"

T = TypeVar("T")


def _marked_or_dangerous(text: str) -> bool:
    """True for text that starts with quotes (zero or more), then a formula start,
    also after blanks: some spreadsheet programs drop leading spaces (and no-break
    spaces) before they look for a formula."""
    body = text.lstrip(MARK)
    return bool(body) and (
        body[0] in FORMULA_STARTS or body.lstrip()[:1] in FORMULA_STARTS
    )


def neutralise(value: T) -> T | str:
    """``value`` made safe for a CSV cell: risky text gets a leading ``'``."""
    if isinstance(value, str) and _marked_or_dangerous(value):
        return MARK + value
    return value


def restore(text: str) -> str:
    """``text`` without the mark :func:`neutralise` added (other text unchanged)."""
    if text[:1] == MARK and _marked_or_dangerous(text[1:]):
        return text[1:]
    return text


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it only once fully written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_csv(
    path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]
) -> int:
    """Write a UTF-8 CSV (with BOM, so spreadsheet programs read it right).

    Every cell passes through :func:`neutralise`. Returns the data rows written. The
    file appears whole or not at all; raises ``OSError`` when it cannot be written.
    """
    count = 0
    with (
        replacing(path) as temporary,
        temporary.open("w", encoding="utf-8-sig", newline="") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerow([neutralise(name) for name in header])
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
            count += 1
    return count


__all__ = ["FORMULA_STARTS", "MARK", "neutralise", "replacing", "restore", "write_csv"]
