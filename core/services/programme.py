"""Programme reports: orders, units and rupiah of the programme's producers, for
officers and auditors (what counts and how: :mod:`core.domain.programme`).

The public surface, which the console calls with the signed-in user's scope:

- :func:`programme_figures` — figures grouped by a :class:`Dimension` (kind,
  institution, province, marketplace, month, producer), with the total and the
  unmatched part of it;
- :func:`top_products` — the best-selling products by units or by rupiah;
- :func:`write_csv` / :func:`write_xlsx` — either result as a sheet with a header
  row; :func:`table` gives the same header and rows to show on a page.

Both read through a :class:`~core.ports.ProgrammeReader` (services reach the
database only through ports: ``core.store.programme.SqlProgrammeReader`` on a
session factory, as ``Runtime.programme_reader()`` builds it). Both take
``producer_ids`` (``producers.id``): ``None`` is every producer, an empty set none;
no line of a producer outside it is ever counted, in any figure. ``by``,
``ranking`` and ``kind`` may be given as their text (as a form sends them). A bad
request (a naive time, ``since`` not before ``until``, an unknown choice, a limit
out of range, a malformed marketplace key) raises
:class:`~core.errors.InputRejectedError`, whose issues name the field, before
anything is read.

In a sheet, rupiah are whole numbers; a figures sheet ends with an
``(unmatched)`` row (only when some line matched no product) and a ``(total)``
row, whose orders are distinct orders, so they need not be the sum of the rows'.
A CSV cell of text that starts like a formula gets the mark :mod:`core.csvfile`
describes; an XLSX cell of text is stored as text, never as a formula. A workbook
also has an ``about`` sheet naming the period (WIB), scope and filters.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TextIO, TypeVar

from core.csvfile import neutralise, replacing
from core.domain.catalogue import ProducerKind
from core.domain.programme import (
    REPORT_ZONE,
    SOURCE,
    Dimension,
    FigureRow,
    Figures,
    ProgrammeFigures,
    Ranking,
    Selection,
    TopProducts,
)
from core.errors import InputIssue, InputRejectedError
from core.ports import ProgrammeReader

#: The most products :func:`top_products` returns.
MAX_LIMIT = 1000
#: The labels of a figures sheet's closing rows.
UNMATCHED_LABEL = "(unmatched)"
TOTAL_LABEL = "(total)"

Report = ProgrammeFigures | TopProducts
E = TypeVar("E", bound=StrEnum)
Cell = str | int


def programme_figures(
    reader: ProgrammeReader,
    *,
    by: Dimension,
    since: datetime,
    until: datetime,
    producer_ids: frozenset[int] | None,
    marketplace: str | None = None,
    province: str | None = None,
    kind: ProducerKind | None = None,
) -> ProgrammeFigures:
    """Sales in ``[since, until)`` within the scope and filters, grouped ``by``.

    Raises:
        InputRejectedError: the request is malformed (see the module).
    """
    dimension = _choice(Dimension, by, "by")
    selection = Selection(
        since, until, producer_ids, marketplace, province, _kind(kind)
    )
    rows, total, unmatched = reader.figures(selection, dimension)
    return ProgrammeFigures(dimension, selection, tuple(rows), total, unmatched)


def top_products(
    reader: ProgrammeReader,
    *,
    since: datetime,
    until: datetime,
    producer_ids: frozenset[int] | None,
    ranking: Ranking = Ranking.UNITS,
    limit: int = 10,
    marketplace: str | None = None,
    province: str | None = None,
    kind: ProducerKind | None = None,
) -> TopProducts:
    """The ``limit`` products that sold most (by ``ranking``) in ``[since,
    until)`` within the scope and filters, best first.

    Raises:
        InputRejectedError: the request is malformed (see the module).
    """
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InputRejectedError(
            [
                InputIssue(
                    SOURCE, None, "limit", str(limit), f"a number from 1 to {MAX_LIMIT}"
                )
            ]
        )
    rank = _choice(Ranking, ranking, "ranking")
    selection = Selection(
        since, until, producer_ids, marketplace, province, _kind(kind)
    )
    rows = reader.top_products(selection, rank, limit)
    return TopProducts(rank, selection, tuple(rows))


def _choice(kind: type[E], value: E | str, field: str) -> E:
    """``value`` as a member of ``kind`` (a form sends text).

    Raises:
        InputRejectedError: it is none of them, naming ``field`` and the choices.
    """
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InputRejectedError(
            [InputIssue(SOURCE, None, field, str(value), f"one of {choices}")]
        ) from None


def _kind(value: ProducerKind | str | None) -> ProducerKind | None:
    return None if value is None else _choice(ProducerKind, value, "kind")


def _figure_cells(label: str | None, figures: Figures | FigureRow) -> list[Cell]:
    return [label or "", figures.orders, figures.units, figures.rupiah]


def table(report: Report) -> tuple[list[str], list[list[Cell]]]:
    """The header and rows of ``report`` as its sheets hold them (unneutralised)."""
    if isinstance(report, TopProducts):
        header = [
            "sku",
            "name",
            "producer",
            "producer_name",
            "kind",
            "province",
            "orders",
            "units",
            "rupiah",
        ]
        rows: list[list[Cell]] = [
            [
                p.sku,
                p.name,
                p.producer_code,
                p.producer_name,
                p.kind.value,
                p.province,
                p.orders,
                p.units,
                p.rupiah,
            ]
            for p in report.rows
        ]
        return header, rows
    named = report.by is Dimension.PRODUCER
    header = [
        report.by.value,
        *(["name"] if named else []),
        "orders",
        "units",
        "rupiah",
    ]
    rows = []
    for row in report.rows:
        cells = _figure_cells(row.value, row)
        rows.append([cells[0], row.name, *cells[1:]] if named else cells)
    closing: list[tuple[str, Figures]] = []
    if report.unmatched.orders:
        closing.append((UNMATCHED_LABEL, report.unmatched))
    closing.append((TOTAL_LABEL, report.total))
    for label, figures in closing:
        cells = _figure_cells(label, figures)
        rows.append([cells[0], "", *cells[1:]] if named else cells)
    return header, rows


def write_csv(report: Report, stream: TextIO) -> int:
    """Write ``report`` as CSV to ``stream`` (opened with ``newline=""``); returns
    the rows written after the header."""
    header, rows = table(report)
    writer = csv.writer(stream)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return len(rows)


def _about(report: Report) -> list[tuple[str, str]]:
    """What a workbook's ``about`` sheet says of the selection behind it."""
    selection = report.selection
    if selection.producer_ids is None:
        scope = "every producer"
    else:
        scope = f"{len(selection.producer_ids)} producers"
    what = (
        f"figures by {report.by.value}"
        if isinstance(report, ProgrammeFigures)
        else f"top products by {report.ranking.value}"
    )
    return [
        ("report", what),
        ("since", selection.since.astimezone(REPORT_ZONE).isoformat()),
        ("until (excluded)", selection.until.astimezone(REPORT_ZONE).isoformat()),
        ("scope", scope),
        ("marketplace", selection.marketplace or "every"),
        ("province", selection.province or "every"),
        ("kind", selection.kind.value if selection.kind else "every"),
        ("month", "YYYY-MM in WIB (UTC+7)"),
        ("orders counted", "paid, ready to ship, shipped, delivered, completed"),
    ]


def write_xlsx(report: Report, target: Path | IO[bytes]) -> int:
    """Write ``report`` as a workbook: sheet ``report`` (header and rows) and
    sheet ``about`` (the selection). A path is replaced whole or not at all.
    Returns the rows written after the header."""
    from openpyxl import Workbook  # deferred: only XLSX exports need it

    header, rows = table(report)
    workbook = Workbook(write_only=True)
    sheets: list[tuple[str, list[list[Cell]]]] = [
        ("report", [list(header), *rows]),
        ("about", [list(pair) for pair in _about(report)]),
    ]
    for title, lines in sheets:
        sheet = workbook.create_sheet(title)
        for line in lines:
            sheet.append(_cells(sheet, line))
    if isinstance(target, Path):
        with replacing(target) as temporary:
            workbook.save(temporary)
    else:
        workbook.save(target)
    return len(rows)


def _cells(sheet: object, line: Sequence[Cell]) -> list[object]:
    from openpyxl.cell import WriteOnlyCell

    cells: list[object] = []
    for value in line:
        cell = WriteOnlyCell(sheet, None if value == "" else value)  # blank, not text
        if isinstance(value, str):
            cell.data_type = "s"  # text stays text, even when it starts with "="
        cells.append(cell)
    return cells
