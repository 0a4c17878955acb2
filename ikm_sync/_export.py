"""Streamed exports for the auditor: JSON Lines or CSV, to standard output or to a
file that appears whole or not at all.

CSV cells pass through :func:`core.csvfile.neutralise` (a cell that begins with
``= + - @``, a tab or a carriage return gets a leading ``'``), a file through
:func:`core.csvfile.write_csv` (UTF-8 with BOM, for spreadsheet programs). Rows
are written as they are read, so memory does not grow with the export.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from core.audit.query import TIME_FORMATS, Period, parse_instant
from core.csvfile import neutralise, replacing, write_csv


class ExportFormat(StrEnum):
    """How an export is written."""

    JSON = "json"  # JSON Lines: one object per line
    CSV = "csv"


def export_format(as_json: bool, as_csv: bool) -> ExportFormat | None:
    """The format chosen by ``--json``/``--csv`` (None: neither).

    Raises:
        typer.BadParameter: both were given.
    """
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    if as_json:
        return ExportFormat.JSON
    return ExportFormat.CSV if as_csv else None


def period_option(since: str | None, until: str | None) -> Period:
    """The period of ``--since``/``--until`` (see :mod:`core.audit.query`).

    Raises:
        typer.BadParameter: a value is not a time, or the period is empty; the
            message names the option and the expected format.
    """
    bounds: dict[str, datetime | None] = {}
    for name, text, end in (("--since", since, False), ("--until", until, True)):
        if text is None:
            bounds[name] = None
            continue
        try:
            bounds[name] = parse_instant(text, end=end)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=f"'{name}'") from None
    try:
        return Period(bounds["--since"], bounds["--until"])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--since'/'--until'") from None


def time_help(what: str) -> str:
    """The help text of a time option."""
    return f"{what}: {TIME_FORMATS}."


def write_json_lines(records: Iterable[dict[str, Any]], out: Path | None) -> int:
    """One JSON object per line; how many."""
    count = 0

    def lines(handle: Any) -> None:
        nonlocal count
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str))
            handle.write("\n")
            count += 1

    if out is None:
        lines(sys.stdout)
        sys.stdout.flush()
        return count
    with replacing(out) as temporary, temporary.open("w", encoding="utf-8") as handle:
        lines(handle)
    return count


def write_csv_rows(
    header: Iterable[str], rows: Iterable[Iterable[object]], out: Path | None
) -> int:
    """A header and rows, every cell neutralised; how many rows."""
    if out is not None:
        return write_csv(out, header, rows)
    writer = csv.writer(sys.stdout)
    writer.writerow([neutralise(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
    sys.stdout.flush()
    return count
