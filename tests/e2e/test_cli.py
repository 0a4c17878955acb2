"""The ikm-sync command line, end to end on a real database."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from core.store.db import head_revision
from ikm_sync.cli import app
from tests.conftest import Cli
from tests.e2e.helpers import snapshot, write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.db]

HEADER = ["sku", "producer_code", "name", "price", "weight_grams", "stock"]
GOOD = [
    "KOPI-FLR-001",
    "IKM-NTT-001",
    "Kopi Arabika Flores Bajawa Biji Sangrai 250 g",
    "90000",
    "270",
    "48",
]


@pytest.fixture
def demo_cli(cli: Cli, demo_dir: Path) -> Cli:
    """The CLI on a database holding the demo catalogue."""
    result = cli(
        "catalog",
        "import",
        str(demo_dir / "producers.csv"),
        str(demo_dir / "products.csv"),
        "--actor",
        "officer:test",
    )
    assert result.exit_code == 0, result.output
    return cli


def status(cli: Cli) -> dict[str, object]:
    result = cli("status", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_command_has_help() -> None:
    def walk(command: Any, path: list[str]) -> list[list[str]]:
        found = [path]
        if hasattr(command, "commands"):  # a group (typer carries its own click)
            for name, sub in command.commands.items():
                found.extend(walk(sub, [*path, name]))
        return found

    from typer.main import get_command
    from typer.testing import CliRunner

    paths = walk(get_command(app), [])
    assert len(paths) >= 14
    for path in paths:
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage" in result.output


def test_db_upgrade_is_safe_to_repeat(cli: Cli) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    assert f"already at revision {head_revision()}" in result.stdout
    current = json.loads(cli("db", "current", "--json").stdout)
    assert current["up_to_date"] is True


def test_an_unmigrated_database_is_refused_with_exit_4(
    cli: Cli, tmp_path: Path
) -> None:
    empty = f"sqlite:///{tmp_path / 'new' / 'empty.db'}"
    result = cli("status", env={"IKMSYNC_DATABASE_URL": empty})
    assert result.exit_code == 4
    assert "run `ikm-sync db upgrade`" in result.stderr
    assert not (tmp_path / "new").exists()  # a read-only command creates nothing
    assert cli("db", "upgrade", env={"IKMSYNC_DATABASE_URL": empty}).exit_code == 0
    assert cli("status", env={"IKMSYNC_DATABASE_URL": empty}).exit_code == 0


def test_import_then_status(demo_cli: Cli) -> None:
    report = status(demo_cli)
    assert report["producers"] == {"ikm": 6, "wbp": 6}
    assert report["products"] == {"draft": 4, "active": 54, "archived": 2}
    stock = report["stock"]
    assert isinstance(stock, dict)
    assert stock["skus_with_stock"] == 56
    assert stock["on_hand"] == stock["available"] > 0


def test_reimport_changes_nothing(demo_cli: Cli, demo_dir: Path) -> None:
    before = snapshot(demo_cli.database_url)
    result = demo_cli(
        "catalog",
        "import",
        str(demo_dir / "producers.csv"),
        str(demo_dir / "products.csv"),
        "--json",
    )
    assert result.exit_code == 0
    summary = json.loads(result.stdout)["summary"]
    assert summary["products_unchanged"] == 60
    assert summary["products_created"] == summary["products_updated"] == 0
    assert snapshot(demo_cli.database_url) == before


def test_a_changed_row_updates_that_sku(demo_cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", HEADER, [GOOD])
    before = snapshot(demo_cli.database_url)
    dry = demo_cli("catalog", "import", str(path), "--dry-run", "--json")
    assert dry.exit_code == 0
    planned = json.loads(dry.stdout)
    assert planned["applied"] is False
    assert planned["products"][0]["changed"] == ["price"]
    assert snapshot(demo_cli.database_url) == before  # a dry run writes nothing
    result = demo_cli("catalog", "import", str(path))
    assert result.exit_code == 0
    assert "updated" in result.stdout
    shown = json.loads(demo_cli("stock", "show", "KOPI-FLR-001", "--json").stdout)
    assert shown["on_hand"] == 48  # the stock column does not move stock once it exists


def _xlsx(
    path: Path, rows: Sequence[Sequence[object]], *, merge: str | None = None
) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "products"
    for row in [HEADER, *rows]:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


def _bad_file(case: str, tmp_path: Path) -> Path:
    """A file whose only problem is ``case``, plus a valid change that must not land."""
    valid_change = list(GOOD)
    csv_path = tmp_path / f"{case}.csv"

    def with_cell(column: str, value: str) -> Path:
        row = list(GOOD)
        row[0] = "KOPI-FLR-NEW"
        row[HEADER.index(column)] = value
        return write_csv(csv_path, HEADER, [valid_change, row])

    match case:
        case "price_ambiguous":
            return with_cell("price", "150,000")
        case "price_decimal":
            return with_cell("price", "Rp 150.000,50")
        case "missing_sku":
            return with_cell("sku", "")
        case "sku_invisible":
            return with_cell("sku", "KOPI\u200b-FLR-9")
        case "unclosed_quote":
            csv_path.write_text(
                ",".join(HEADER)
                + "\n"
                + ",".join(GOOD)
                + '\nKOPI-X,IKM-NTT-001,"Kopi 5,1000,10,1\n'
                + ",".join(GOOD)
                + "\n",
                encoding="utf-8",
            )
            return csv_path
        case "duplicate_sku":
            return write_csv(csv_path, HEADER, [valid_change, valid_change])
        case "sku_case":
            return write_csv(
                csv_path, HEADER, [valid_change, ["kopi-flr-001 ", *GOOD[1:]]]
            )
        case "sku_case_vs_store":
            return write_csv(csv_path, HEADER, [["kopi-flr-002", *GOOD[1:]]])
        case "empty_name":
            return with_cell("name", "")
        case "long_name":
            return with_cell("name", "Kopi " * 60)
        case "negative_stock":
            return with_cell("stock", "-5")
        case "unknown_producer":
            return with_cell("producer_code", "IKM-ATLANTIS-404")
        case "not_utf8":
            csv_path.write_bytes(
                (",".join(HEADER) + "\n").encode()
                + "KOPI-X,IKM-NTT-001,Kopi Caf\xe9,1000,10,1\n".encode("cp1252")
            )
            return csv_path
        case "xlsx_merged":
            return _xlsx(
                tmp_path / "m.xlsx", [GOOD, [*GOOD[:2], "", *GOOD[3:]]], merge="C2:C3"
            )
        case "xlsx_formula":
            return _xlsx(
                tmp_path / "f.xlsx",
                [GOOD, ["KOPI-X", "IKM-NTT-001", "Kopi", "=D2*2", "270", "1"]],
            )
        case "empty_file":
            csv_path.write_bytes(b"")
            return csv_path
        case "only_headers":
            return write_csv(csv_path, HEADER, [])
        case "wrong_headers":
            return write_csv(
                csv_path, ["kode", "produsen", "nama", "harga", "berat", "stok"], [GOOD]
            )
        case _:
            raise AssertionError(case)


BAD_CASES = {
    # case: (row, column, text expected in the table)
    "price_ambiguous": ("3", "price", "'150,000' is ambiguous"),
    "price_decimal": ("3", "price", "has decimals"),
    "missing_sku": ("3", "sku", "a value is required"),
    "sku_invisible": ("3", "sku", "U+200B ZERO WIDTH SPACE at position 5"),
    "unclosed_quote": ("3", "", "is never closed"),
    "duplicate_sku": ("3", "sku", "a SKU used once"),
    "sku_case": ("3", "sku", "ignoring case and spaces"),
    "sku_case_vs_store": ("2", "sku", "'KOPI-FLR-002'"),
    "empty_name": ("3", "name", "a value is required"),
    "long_name": ("3", "name", "at most 255 characters"),
    "negative_stock": ("3", "stock", "0 or more"),
    "unknown_producer": ("3", "producer_code", "IKM-ATLANTIS-404"),
    "not_utf8": ("2", "", "expected UTF-8"),
    "xlsx_merged": ("2", "", "merged cells C2:C3"),
    "xlsx_formula": ("3", "D3", "a formula is not accepted"),
    "empty_file": ("", "", "the file is empty"),
    "only_headers": ("", "", "header but no rows"),
    "wrong_headers": ("1", "", "'sku' column"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_rejected_clearly_and_changes_nothing(
    demo_cli: Cli, tmp_path: Path, case: str
) -> None:
    path = _bad_file(case, tmp_path)
    before = snapshot(demo_cli.database_url)
    result = demo_cli("catalog", "import", str(path))
    assert result.exit_code == 1, result.output
    assert "nothing was written" in result.stderr
    row, column, expected = BAD_CASES[case]
    assert path.name in result.stderr
    assert expected in result.stderr
    report = demo_cli("catalog", "import", str(path), "--json")
    assert report.exit_code == 1
    issues = json.loads(report.stdout)["issues"]
    assert any(
        path.name in issue["file"]
        and ((issue["row"] is None and row == "") or str(issue["row"]) == row)
        and (column == "" or issue["column"] == column)
        and expected in (issue["expected"] + (issue["value"] or ""))
        for issue in issues
    ), issues
    assert snapshot(demo_cli.database_url) == before


def test_csv_export_imports_back_unchanged(demo_cli: Cli, tmp_path: Path) -> None:
    products, producers = tmp_path / "out-products.csv", tmp_path / "out-producers.csv"
    assert demo_cli("catalog", "export", str(products)).exit_code == 0
    assert (
        demo_cli("catalog", "export", str(producers), "--kind", "producers").exit_code
        == 0
    )
    before = snapshot(demo_cli.database_url)
    result = demo_cli("catalog", "import", str(producers), str(products), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["products_unchanged"], summary["producers_unchanged"]) == (60, 12)
    assert summary["notices"] == 0
    assert snapshot(demo_cli.database_url) == before


RISKY_NAMES = {
    "KOPI-FLR-001": '=HYPERLINK("http://evil.example/x","klik")',
    "KOPI-FLR-002": "-Kopi Robusta- 250 g",
    "KOPI-FLR-003": "+62 Kopi Flores",
    "TENUN-SKA-001": "@Tenun Ikat Sikka",
    "TENUN-SKA-002": "'Ndaru tenun",
}


def test_csv_export_keeps_formulas_inert_and_imports_back_unchanged(
    demo_cli: Cli, tmp_path: Path
) -> None:
    exported = tmp_path / "out.csv"
    assert demo_cli("catalog", "export", str(exported)).exit_code == 0
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        by_sku = {row["sku"]: row for row in csv.DictReader(handle)}
    renamed = write_csv(
        tmp_path / "renamed.csv",
        ["sku", "producer_code", "name", "price", "weight_grams"],
        [
            [sku, by_sku[sku]["producer_code"], name, by_sku[sku]["price"], 1]
            for sku, name in RISKY_NAMES.items()
        ],
    )
    assert demo_cli("catalog", "import", str(renamed)).exit_code == 0
    assert demo_cli("catalog", "export", str(exported), "--force").exit_code == 0
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        names = {row["sku"]: row["name"] for row in csv.DictReader(handle)}
    for sku, name in RISKY_NAMES.items():
        written = names[sku]
        assert written[0] not in "=+-@", written
        assert written == (name if name.startswith("'N") else "'" + name)
    before = snapshot(demo_cli.database_url)
    result = demo_cli("catalog", "import", str(exported), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["products_unchanged"] == 60
    assert snapshot(demo_cli.database_url) == before


def test_an_officers_workbook_imports_and_exports_in_english(
    cli: Cli, tmp_path: Path
) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets: dict[str, list[list[object]]] = {
        "Produsen": [
            ["kode_produsen", "nama", "jenis", "provinsi", "kabupaten", "tgl_daftar"],
            ["IKM-NTT-001", "Koperasi Kopi", "ikm", "NTT", "Ngada", "2026-01-05"],
        ],
        "Produk": [
            ["kode_produk", "kode_produsen", "nama", "harga", "berat_gram", "stok"],
            ["KOPI-1", "IKM-NTT-001", "Kopi Arabika", "Rp 275.000", "1.250", 7],
        ],
    }
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append([f"Daftar {title} IKM Binaan"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=5)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "ikm.xlsx"
    workbook.save(path)
    result = cli("catalog", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "tgl_daftar" in result.stdout
    assert "not read" in result.stdout
    exported = tmp_path / "out.csv"
    assert cli("catalog", "export", str(exported)).exit_code == 0
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert (line["sku"], line["price"], line["weight_grams"], line["stock"]) == (
        "KOPI-1",
        "275000",
        "1250",
        "7",
    )
    again = cli("catalog", "import", str(exported), "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["summary"]["products_unchanged"] == 1


def test_xlsx_export_rebuilds_the_catalogue_in_an_empty_database(
    demo_cli: Cli, tmp_path: Path
) -> None:
    workbook = tmp_path / "catalogue.xlsx"
    assert demo_cli("catalog", "export", str(workbook)).exit_code == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert demo_cli("db", "upgrade", env={"IKMSYNC_DATABASE_URL": fresh}).exit_code == 0
    result = demo_cli(
        "catalog", "import", str(workbook), env={"IKMSYNC_DATABASE_URL": fresh}
    )
    assert result.exit_code == 0, result.output
    again = tmp_path / "again.csv"
    original = tmp_path / "original.csv"
    demo_cli("catalog", "export", str(again), env={"IKMSYNC_DATABASE_URL": fresh})
    demo_cli("catalog", "export", str(original))
    assert again.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")


def test_export_does_not_overwrite_without_force(demo_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "products.csv"
    target.write_text("keep me")
    result = demo_cli("catalog", "export", str(target))
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert target.read_text() == "keep me"
    assert demo_cli("catalog", "export", str(target), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8-sig").startswith("sku,producer_code,name")


def test_stock_adjust_and_show(demo_cli: Cli) -> None:
    result = demo_cli(
        "stock",
        "adjust",
        "KOPI-FLR-001",
        "-3",
        "--reason",
        "tasting",
        "--actor",
        "officer:ani",
        "--key",
        "tasting-2026-11",
        "--json",
    )
    assert result.exit_code == 0, result.output
    moved = json.loads(result.stdout)
    assert (moved["created"], moved["on_hand"]) == (True, 45)
    again = demo_cli(
        "stock",
        "adjust",
        "KOPI-FLR-001",
        "-3",
        "--reason",
        "tasting",
        "--key",
        "tasting-2026-11",
    )
    assert again.exit_code == 0
    assert "already recorded" in again.stdout
    shown = json.loads(demo_cli("stock", "show", "kopi-flr-001", "--json").stdout)
    assert shown["on_hand"] == 45
    assert [m["reason"] for m in shown["movements"]] == ["adjustment", "receipt"]
    assert shown["movements"][0]["actor"] == "officer:ani"
    table = demo_cli("stock", "show", "KOPI-FLR-001")
    assert "tasting" in table.stdout


def test_stock_adjust_refusals_exit_1_and_move_nothing(demo_cli: Cli) -> None:
    before = snapshot(demo_cli.database_url)
    too_much = demo_cli("stock", "adjust", "KOPI-FLR-001", "-49", "--reason", "x")
    assert too_much.exit_code == 1
    assert "on hand is 48" in too_much.stderr
    unknown = demo_cli("stock", "adjust", "NOPE-1", "5", "--reason", "x")
    assert unknown.exit_code == 1
    assert "unknown SKU 'NOPE-1'" in unknown.stderr
    assert (
        demo_cli("stock", "adjust", "KOPI-FLR-001", "2", "--reason", " ").exit_code == 1
    )
    assert (
        demo_cli("stock", "adjust", "KOPI-FLR-001", "2").exit_code == 2
    )  # no --reason
    assert snapshot(demo_cli.database_url) == before


def test_accounts_apply_and_status(demo_cli: Cli, demo_dir: Path) -> None:
    config = str(demo_dir / "ikm-sync.toml")
    dry = demo_cli("--config", config, "accounts", "apply", "--dry-run", "--json")
    assert json.loads(dry.stdout)["created"] == [
        "shopee-ntt-flores",
        "tokopedia-karya-lapas",
        "bukalapak-esmart-ikm",
    ]
    assert status(demo_cli)["accounts"] == []
    assert demo_cli("--config", config, "accounts", "apply").exit_code == 0
    accounts = status(demo_cli)["accounts"]
    assert isinstance(accounts, list)
    assert [a["marketplace"] for a in accounts] == ["bukalapak", "shopee", "tokopedia"]
    again = json.loads(
        demo_cli("--config", config, "accounts", "apply", "--json").stdout
    )
    assert len(again["unchanged"]) == 3


def test_config_check_shows_sources_and_masks_secrets(cli: Cli, demo_dir: Path) -> None:
    result = cli(
        "--config", str(demo_dir / "ikm-sync.toml"), "config", "check", "--json"
    )
    assert result.exit_code == 0, result.output
    rows = {row["key"]: row for row in json.loads(result.stdout)["settings"]}
    assert rows["credentials.shopee_demo.partner_key"]["value"] == "**********"
    assert rows["credentials.shopee_demo.partner_key"]["source"].startswith(
        "secrets directory"
    )
    assert rows["environment"]["source"].endswith("ikm-sync.toml")
    assert rows["database.url"]["source"] == "environment variable IKMSYNC_DATABASE_URL"
    for secret_file in (demo_dir / "secrets").iterdir():
        assert secret_file.read_text().strip() not in result.stdout


def test_a_bad_config_exits_3_naming_key_file_and_expectation(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "ikm-sync.toml"
    config.write_text('[logging]\nlevel = "LOUD"\n[databse]\nurl = "x"\n')
    result = cli("config", "check")  # ./ikm-sync.toml is picked up by default
    assert result.exit_code == 3
    assert "logging.level" in result.stderr
    assert "databse" in result.stderr
    assert str(config.name) in result.stderr
    assert "'DEBUG', 'INFO', 'WARNING' or 'ERROR'" in result.stderr


def test_config_check_checks_marketplace_options_with_their_own_model(
    cli: Cli, tmp_path: Path
) -> None:
    config = tmp_path / "ikm-sync.toml"
    config.write_text(
        '[marketplaces.tokopedia]\nbase_url = "http://127.0.0.1:1"\n'
        'options = { fs_idd = 65125, token_url = "http://127.0.0.1:1/token" }\n'
        "[marketplaces.shopee]\nenabled = false\noptions = { nothing = 1 }\n"
        "[marketplaces.bukalapak]\noptions = { nothing = 1 }\n"  # no account on it
        '[[accounts]]\nid = "lapas"\nmarketplace = "tokopedia"\nshop_id = "1"\n'
        'producers = ["WBP-KALBAR-001"]\n'
    )
    result = cli("config", "check")
    assert result.exit_code == 3, result.output
    assert "marketplaces.tokopedia.options.fs_id" in result.stderr
    assert "marketplaces.tokopedia.options.fs_idd" in result.stderr
    assert "Extra inputs are not permitted" in result.stderr
    assert config.name in result.stderr
    assert "shopee" not in result.stderr  # disabled: not checked
    assert "bukalapak" not in result.stderr  # no account on it: not checked


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("ikm-sync ")


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("missing-dir/products.csv", 1, "a path that can be written"),
        ("a-directory.csv", 2, "is a directory"),
    ],
)
def test_export_to_an_unwritable_path_is_a_clear_error(
    demo_cli: Cli, tmp_path: Path, target: str, code: int, message: str
) -> None:
    (tmp_path / "a-directory.csv").mkdir()
    result = demo_cli("catalog", "export", str(tmp_path / target), "--force")
    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())
    assert not list(tmp_path.rglob("*.partial"))


@pytest.mark.parametrize(
    "arguments",
    [
        ["99999999999999999999999"],
        ["3000000000"],
        ["5", "--key", "k" * 300],
        ["5", "--location", "gudang" * 8],
        ["5", "--actor", "officer:" + "a" * 200],
    ],
)
def test_out_of_range_adjustments_are_refused_before_the_database(
    demo_cli: Cli, arguments: list[str]
) -> None:
    before = snapshot(demo_cli.database_url)
    result = demo_cli("stock", "adjust", "KOPI-FLR-001", *arguments, "--reason", "x")
    assert result.exit_code == 1, result.output
    assert "refused" in result.stderr
    assert snapshot(demo_cli.database_url) == before


def test_a_unique_constraint_conflict_is_a_refusal_not_a_database_error(
    demo_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that lost a race to a unique key gets exit 1 and a clear message."""
    from sqlalchemy.exc import IntegrityError

    from ikm_sync.commands import status as status_command

    def lost_race(*_reads: object) -> object:
        raise IntegrityError(
            "INSERT INTO products ...",
            {},
            Exception("UNIQUE constraint failed: products.sku_key"),
        )

    monkeypatch.setattr(status_command, "catalogue_status", lost_race)
    result = demo_cli("status")
    assert result.exit_code == 1
    assert "conflicts with stored data; nothing was written" in result.stderr
    assert "UNIQUE constraint failed: products.sku_key" in result.stderr
    assert "run the command again" in result.stderr


def test_db_upgrade_to_an_unknown_revision(cli: Cli) -> None:
    result = cli("db", "upgrade", "--revision", "bogus")
    assert result.exit_code == 4
    assert "cannot migrate to revision 'bogus'" in result.stderr


def test_config_errors_keep_stdout_for_json(cli: Cli) -> None:
    result = cli("--log-format", "json", "status", "--json", env={"IKMSYNC_BOGUS": "1"})
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"] == "configuration error"
    log_lines = [json.loads(line) for line in result.stderr.splitlines() if line]
    assert [line["event"] for line in log_lines] == ["command.failed"]


def test_control_characters_from_a_file_are_shown_not_sent_to_the_terminal(
    cli: Cli, tmp_path: Path
) -> None:
    name = "\x1b]0;pwned\x07Kopi\x1b[2J"
    path = write_csv(tmp_path / "p.csv", HEADER, [[*GOOD[:2], name, *GOOD[3:]]])
    result = cli("catalog", "import", str(path))
    assert result.exit_code == 1
    printed = result.stdout + result.stderr
    assert "\x1b" not in printed
    assert "\x07" not in printed
    assert "\\x1b]0;pwned\\x07Kopi\\x1b[2J" in printed
    assert "U+001B at position 1" in printed


@pytest.mark.parametrize("command", ["settle", "cancel"])
def test_an_unknown_account_of_an_order_command_is_named_as_it_was_given(
    cli: Cli, command: str
) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("orders", command, "nope", "1001", "--note", "n")
    assert result.exit_code == 3
    assert "account 'nope': no such account in the store" in result.stderr
    assert "--account" not in result.stderr  # a positional argument, not an option
