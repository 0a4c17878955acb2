"""``ikm-sync report``: programme figures and top products, on screen or as a file.

What counts and how is :mod:`core.domain.programme`'s: sales only (paid to
completed), an order's time is when it was placed (else first seen), months are
WIB. On the command line a time without an offset is WIB too, so ``--since
2026-01-01 --until 2026-01-31`` is exactly January's bucket. As everywhere on the
command line, ``--until`` is excluded, but a bare date given to it covers that whole
day. The command line reads every producer (no user scope)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from core.domain.catalogue import ProducerKind
from core.domain.programme import REPORT_ZONE, Dimension, Ranking
from core.errors import InputIssue, InputRejectedError
from ikm_sync._context import state
from ikm_sync._output import console, emit_json, table

app = typer.Typer(
    help="Programme reports: orders, units and rupiah sold.", no_args_is_help=True
)

TIME_HELP = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], WIB unless an offset is given"
Since = Annotated[str, typer.Option(help=f"Sales from this time on: {TIME_HELP}.")]
Until = Annotated[
    str,
    typer.Option(help=f"Sales before this time (a date: to its end): {TIME_HELP}."),
]
Marketplace = Annotated[
    str | None, typer.Option(help="Only this marketplace (its key, e.g. shopee).")
]
Province = Annotated[str | None, typer.Option(help="Only producers of this province.")]
Kind = Annotated[ProducerKind | None, typer.Option(help="Only producers of this kind.")]
CsvFile = Annotated[
    Path | None, typer.Option("--csv", help="Write the report to this CSV file.")
]
XlsxFile = Annotated[
    Path | None, typer.Option("--xlsx", help="Write the report to this XLSX file.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _instant(text: str, option: str, *, end: bool = False) -> datetime:
    """The instant ``text`` names; without an offset, in WIB. With ``end``, a bare
    date is the start of the next day (the end of a period that holds that day).

    Raises:
        InputRejectedError: ``text`` is not a date or time, naming the option.
    """
    value = text.strip()
    instant: datetime | None = None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            instant = datetime.combine(day, time(), REPORT_ZONE)
        elif len(value) >= 16:  # not "2026-01-01T10" and the like
            instant = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        instant = None
    if instant is None:
        raise InputRejectedError(
            [InputIssue("command line", None, option, text, TIME_HELP)]
        )
    return instant if instant.tzinfo else instant.replace(tzinfo=REPORT_ZONE)


def _one_file(csv_file: Path | None, xlsx_file: Path | None) -> None:
    if csv_file is not None and xlsx_file is not None:
        raise typer.BadParameter("give --csv or --xlsx, not both")


def _write(report: Any, csv_file: Path | None, xlsx_file: Path | None) -> bool:
    """Write ``report`` to the file asked for; False when none was."""
    from core.csvfile import replacing
    from core.services.programme import write_csv, write_xlsx

    if csv_file is not None:
        with (
            replacing(csv_file) as temporary,
            temporary.open("w", encoding="utf-8-sig", newline="") as handle,
        ):
            count = write_csv(report, handle)
        console().print(f"wrote {count} rows to {csv_file}", markup=False)
        return True
    if xlsx_file is not None:
        count = write_xlsx(report, xlsx_file)
        console().print(f"wrote {count} rows to {xlsx_file}", markup=False)
        return True
    return False


def _show(title: str, report: Any, as_json: bool) -> None:
    from core.services.programme import table as report_table

    header, rows = report_table(report)
    if as_json:
        emit_json({"report": title, "columns": header, "rows": rows})
    else:
        console().print(table(title, header, rows))


@app.command("programme")
def programme(
    ctx: typer.Context,
    since: Since,
    until: Until,
    by: Annotated[Dimension, typer.Option(help="Group by this.")] = Dimension.PROVINCE,
    marketplace: Marketplace = None,
    province: Province = None,
    kind: Kind = None,
    csv_file: CsvFile = None,
    xlsx_file: XlsxFile = None,
    as_json: Json = False,
) -> None:
    """Orders, units and rupiah sold, grouped by kind, institution, province,
    marketplace, month (WIB) or producer, with the total."""
    from core.services.programme import programme_figures

    app_state = state(ctx)
    app_state.json_errors = as_json
    _one_file(csv_file, xlsx_file)
    report = programme_figures(
        app_state.runtime().programme_reader(),
        by=by,
        since=_instant(since, "--since"),
        until=_instant(until, "--until", end=True),
        producer_ids=None,
        marketplace=marketplace,
        province=province,
        kind=kind,
    )
    if not _write(report, csv_file, xlsx_file):
        _show(f"Programme figures by {by.value}", report, as_json)


@app.command("top")
def top(
    ctx: typer.Context,
    since: Since,
    until: Until,
    by: Annotated[Ranking, typer.Option(help="Rank by this.")] = Ranking.UNITS,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many.")] = 10,
    marketplace: Marketplace = None,
    province: Province = None,
    kind: Kind = None,
    csv_file: CsvFile = None,
    xlsx_file: XlsxFile = None,
    as_json: Json = False,
) -> None:
    """The products that sold most, by units or by rupiah."""
    from core.services.programme import top_products

    app_state = state(ctx)
    app_state.json_errors = as_json
    _one_file(csv_file, xlsx_file)
    report = top_products(
        app_state.runtime().programme_reader(),
        since=_instant(since, "--since"),
        until=_instant(until, "--until", end=True),
        producer_ids=None,
        ranking=by,
        limit=limit,
        marketplace=marketplace,
        province=province,
        kind=kind,
    )
    if not _write(report, csv_file, xlsx_file):
        _show(f"Top products by {by.value}", report, as_json)
