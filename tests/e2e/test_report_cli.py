"""``ikm-sync report`` end to end on the programme world (:mod:`tests.programmekit`):
WIB dates on the command line, the same figures as the service, files written
whole, bad periods refused naming the option and writing nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core.store.db import make_session_factory
from tests.conftest import Cli
from tests.programmekit import HOSTILE, NTT, seed

pytestmark = [pytest.mark.e2e, pytest.mark.db]

#: January and February (WIB): a date given to --until covers that day.
PERIOD = ("--since", "2026-01-01", "--until", "2026-02-28")


@pytest.fixture
def world_cli(cli: Cli, engine: sa.Engine) -> Cli:
    with make_session_factory(engine)() as session:
        seed(session)
    return cli


def test_figures_by_month_as_json(world_cli: Cli) -> None:
    result = world_cli("report", "programme", "--by", "month", *PERIOD, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "report": "Programme figures by month",
        "columns": ["month", "orders", "units", "rupiah"],
        "rows": [
            ["2026-01", 3, 6, 900_000],
            ["2026-02", 2, 5, 170_000],
            ["(unmatched)", 1, 2, 20_000],
            ["(total)", 5, 13, 1_090_000],
        ],
    }


def test_a_bare_date_is_midnight_in_wib(world_cli: Cli) -> None:
    """O2 (31 January 18:00 UTC) is February's in WIB, so not January's."""
    january = ("--since", "2026-01-01", "--until", "2026-01-31")
    result = world_cli("report", "programme", "--by", "month", *january, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][0] == ["2026-01", 3, 6, 900_000]
    utc = ("--since", "2026-01-01", "--until", "2026-01-31T18:00:01Z")
    result = world_cli("report", "programme", "--by", "province", *utc, "--json")
    assert ["Kalimantan Barat", 1, 3, 90_000] in json.loads(result.stdout)["rows"]


def test_filters_and_the_table(world_cli: Cli) -> None:
    result = world_cli(
        "report", "programme", *PERIOD, "--kind", "ikm", "--marketplace", "shopee"
    )
    assert result.exit_code == 0, result.output
    assert "Programme figures by province" in result.stdout
    assert NTT in result.stdout
    assert "Kalimantan" not in result.stdout


def test_top_products_to_csv(world_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "top.csv"
    result = world_cli(
        "report", "top", *PERIOD, "--by", "rupiah", "--limit", "2", "--csv", str(out)
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 2 rows to {out}" in result.stdout
    with out.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle))
    assert [row[0] for row in read] == ["sku", "TENUN-1", "KOPI-1"]
    assert read[1][-3:] == ["3", "4", "800000"]


def test_figures_by_producer_to_xlsx(world_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "figures.xlsx"
    result = world_cli(
        "report", "programme", "--by", "producer", *PERIOD, "--xlsx", str(out)
    )
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out, read_only=True)
    rows = [list(r) for r in workbook["report"].iter_rows(values_only=True)]
    workbook.close()
    assert rows[0] == ["producer", "name", "orders", "units", "rupiah"]
    assert rows[2] == ["WBP-KB", HOSTILE, 2, 4, 120_000]
    assert rows[-1] == ["(total)", None, 5, 13, 1_090_000]


@pytest.mark.parametrize(
    ("period", "named"),
    [
        (("--since", "2026-02-01", "--until", "2026-01-01"), "until"),
        (("--since", "2026-01-02", "--until", "2026-01-01"), "until"),  # [2 Jan, 2 Jan)
        (("--since", "2026-13-01", "--until", "2026-02-01"), "--since"),
        (("--since", "2026-01-01", "--until", "soon"), "--until"),
    ],
)
def test_a_bad_period_is_refused_and_writes_nothing(
    world_cli: Cli, tmp_path: Path, period: tuple[str, ...], named: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "never.xlsx"
    result = world_cli("report", "programme", *period, "--xlsx", str(out), "--json")
    assert result.exit_code == 1
    refusal = json.loads(result.stdout)
    assert refusal["error"] == "input rejected"
    assert refusal["issues"][0]["column"] == named
    assert list(folder.iterdir()) == []  # not even a partial file


def test_csv_and_xlsx_together_are_a_usage_error(
    world_cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    result = world_cli(
        "report",
        "top",
        *PERIOD,
        "--csv",
        str(folder / "a.csv"),
        "--xlsx",
        str(folder / "a.xlsx"),
    )
    assert result.exit_code == 2
    assert "--csv or --xlsx" in result.output
    assert list(folder.iterdir()) == []
