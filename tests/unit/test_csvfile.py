"""CSV files written for spreadsheet programs: formulas kept inert, marks undone."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.csvfile import neutralise, restore, write_csv

RISKY = [
    '=HYPERLINK("http://evil.example/x","klik")',
    "+62 812 3456",
    "-Kopi Arabika-",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "'=already marked by hand",
    "''-twice",
    ' =HYPERLINK("http://evil.example/x")',
    "\u00a0\u00a0+1+1",
    "'  @SUM(A1)",
]
PLAIN = [
    "Kopi Arabika",
    "'Ndaru batik",
    "'",
    "''",
    "",
    " ",
    "Rp 5.000",
    "a=b",
    "x-y",
    " Kopi - Flores",
    "' Ndaru",
]


@pytest.mark.parametrize("text", RISKY)
def test_text_that_starts_like_a_formula_gets_one_quote(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert restore(neutralise(text)) == text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_written_and_read_as_it_is(text: str) -> None:
    assert neutralise(text) == text
    assert restore(text) == text


def test_numbers_stay_numbers() -> None:
    assert neutralise(-5) == -5
    assert neutralise(-1.5) == -1.5
    assert neutralise(None) is None


def test_write_csv_marks_every_risky_cell_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    rows: list[list[object]] = [[text, -3, text] for text in RISKY + PLAIN]
    assert write_csv(path, ["=name", "delta", "note"], rows) == len(rows)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *written = list(csv.reader(handle))
    assert header == ["'=name", "delta", "note"]
    for (text, delta, _), (cell, number, _) in zip(rows, written, strict=True):
        assert isinstance(text, str)
        assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}
        assert number == str(delta)
        assert restore(cell) == text
    assert not list(tmp_path.glob(".*partial"))


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"

    def rows() -> Iterator[list[object]]:
        yield ["written first"]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_csv(path, ["a"], rows())
    assert list(tmp_path.iterdir()) == []
