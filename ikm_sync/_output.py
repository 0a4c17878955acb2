"""Terminal output: rich tables for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.errors import InputIssue


def console(*, stderr: bool = False) -> Console:
    """A console on the current stdout/stderr (built per call, for capture in tests)."""
    stream = sys.stderr if stderr else sys.stdout
    interactive = stream.isatty()
    width = None if interactive else int(os.environ.get("COLUMNS", "160"))
    return Console(file=stream, width=width, soft_wrap=not interactive, highlight=False)


def emit_json(payload: Any) -> None:
    """Write one JSON document to standard output."""
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


#: Control characters other than line breaks and tabs (C0, DEL and C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with control characters written out (``\x1b``), so a cell from a file
    or a marketplace can neither hide them nor drive the terminal with them."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Table:
    """A plain rich table; cells are shown as written, never read as markup.

    Cell text comes from files and marketplaces: a reason such as ``[stock] locked``
    prints as is instead of vanishing as a style tag (or failing the command, for a
    stray closing tag such as ``[/b]``), and control characters are written out
    (:func:`visible`) instead of reaching the terminal.
    """
    result = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(
            *(Text("" if cell is None else visible(str(cell))) for cell in row)
        )
    return result


def issue_rows(issues: Iterable[InputIssue]) -> list[list[str]]:
    """Rows of file, row, column, value and expectation for an issues table."""
    return [
        [
            issue.source,
            "" if issue.row is None else str(issue.row),
            issue.column or "",
            "" if issue.value is None else issue.value,
            issue.expected,
        ]
        for issue in issues
    ]


ISSUE_COLUMNS = ("file", "row", "column", "value", "expected")


def issue_json(issue: InputIssue) -> dict[str, Any]:
    """An issue as a JSON object."""
    return {
        "file": issue.source,
        "row": issue.row,
        "column": issue.column,
        "value": issue.value,
        "expected": issue.expected,
    }
