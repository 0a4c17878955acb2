"""Programme reports on a real database: every figure of a small seeded world
(:mod:`tests.programmekit`, whose table the expectations are worked out from),
under every grouping, scope and filter; a scope never lets a line of another
producer through; exports read back as written.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core.csvfile import restore
from core.domain.catalogue import ProducerKind
from core.domain.programme import (
    Dimension,
    FigureRow,
    Figures,
    Ranking,
    Selection,
    month_start,
)
from core.errors import InputRejectedError
from core.services.programme import (
    programme_figures,
    table,
    top_products,
    write_csv,
    write_xlsx,
)
from core.store.db import make_session_factory
from core.store.programme import SqlProgrammeReader
from tests.programmekit import (
    HOSTILE,
    KALBAR,
    NTT,
    SINCE,
    UNTIL,
    World,
    seed,
)

pytestmark = pytest.mark.db


@pytest.fixture
def world(engine: sa.Engine) -> World:
    factory = make_session_factory(engine)
    with factory() as session:
        producers = seed(session)
    return World(SqlProgrammeReader(factory), producers)


def figures(world: World, by: Dimension, **options: Any) -> Any:
    options.setdefault("producer_ids", None)
    return programme_figures(world.reader, by=by, since=SINCE, until=UNTIL, **options)


def rows(*values: tuple[str | None, int, int, int]) -> tuple[FigureRow, ...]:
    return tuple(
        FigureRow(v, orders, units, rupiah) for v, orders, units, rupiah in values
    )


EVERYTHING = Figures(orders=5, units=13, rupiah=1_090_000)
UNMATCHED = Figures(orders=1, units=2, rupiah=20_000)

#: Each grouping of the whole world, worked out by hand from the table above.
GROUPINGS = {
    Dimension.KIND: rows(("ikm", 2, 3, 150_000), ("wbp", 5, 8, 920_000)),
    Dimension.PROVINCE: rows((KALBAR, 2, 4, 120_000), (NTT, 4, 7, 950_000)),
    Dimension.INSTITUTION: rows(
        ("Lapas Kupang", 3, 4, 800_000),
        ("Lapas Pontianak", 2, 4, 120_000),
        (None, 2, 3, 150_000),  # the IKM has none; last
    ),
    Dimension.MARKETPLACE: rows(
        ("shopee", 2, 5, 380_000),
        ("tokopedia", 3, 6, 690_000),  # O7's unmatched line is in no group
    ),
    Dimension.MONTH: rows(
        ("2026-01", 3, 6, 900_000),  # O0 at the first instant of January (WIB)
        ("2026-02", 2, 5, 170_000),  # O2: 31 January 18:00 UTC is 1 February WIB
    ),
}


@pytest.mark.parametrize("by", list(GROUPINGS))
def test_each_grouping_of_the_world(world: World, by: Dimension) -> None:
    result = figures(world, by)
    assert result.rows == GROUPINGS[by]
    assert result.total == EVERYTHING
    assert result.unmatched == UNMATCHED
    assert result.by is by


def test_by_producer_names_each_producer(world: World) -> None:
    result = figures(world, Dimension.PRODUCER)
    assert result.rows == (
        FigureRow("IKM-NTT", 2, 3, 150_000, name="Kopi Flores"),
        FigureRow("WBP-KB", 2, 4, 120_000, name=HOSTILE),
        FigureRow("WBP-NTT", 3, 4, 800_000, name="Tenun Lapas Kupang"),
    )


def test_a_multi_producer_order_counts_once_per_group_and_once_in_total(
    world: World,
) -> None:
    by_kind = figures(world, Dimension.KIND)
    # O1 and O3 hold lines of both kinds: each kind counts them, the total once
    assert sum(row.orders for row in by_kind.rows) == 7
    assert by_kind.total.orders == 5
    # units and rupiah do add up, with the unmatched part
    assert sum(row.units for row in by_kind.rows) + UNMATCHED.units == EVERYTHING.units
    assert (
        sum(row.rupiah for row in by_kind.rows) + UNMATCHED.rupiah == EVERYTHING.rupiah
    )


def test_a_period_without_sales_is_all_zero(world: World) -> None:
    result = programme_figures(
        world.reader,
        by=Dimension.MONTH,
        since=month_start(2026, 4),
        until=month_start(2026, 5),
        producer_ids=None,
    )
    assert result.rows == ()
    assert result.total == Figures() == result.unmatched


def test_one_month_only(world: World) -> None:
    result = programme_figures(
        world.reader,
        by=Dimension.MONTH,
        since=month_start(2026, 2),
        until=month_start(2026, 3),
        producer_ids=None,
    )
    assert result.rows == rows(("2026-02", 2, 5, 170_000))
    assert result.total == Figures(2, 5, 170_000)
    assert result.unmatched == Figures()


# ------------------------------------------------------------------ scope


#: A province officer's scope, each grouping: nothing of the other province.
NTT_ONLY = {
    Dimension.KIND: rows(("ikm", 2, 3, 150_000), ("wbp", 3, 4, 800_000)),
    Dimension.PROVINCE: rows((NTT, 4, 7, 950_000)),
    Dimension.INSTITUTION: rows(("Lapas Kupang", 3, 4, 800_000), (None, 2, 3, 150_000)),
    Dimension.MARKETPLACE: rows(
        ("shopee", 2, 4, 350_000),  # O3's ANYAM line is Kalimantan Barat's
        ("tokopedia", 2, 3, 600_000),  # O2 is not NTT's; O7's unmatched line no one's
    ),
    Dimension.MONTH: rows(("2026-01", 3, 6, 900_000), ("2026-02", 1, 1, 50_000)),
}
KALBAR_ONLY = {
    Dimension.KIND: rows(("wbp", 2, 4, 120_000)),
    Dimension.PROVINCE: rows((KALBAR, 2, 4, 120_000)),
    Dimension.INSTITUTION: rows(("Lapas Pontianak", 2, 4, 120_000)),
    Dimension.MARKETPLACE: rows(("shopee", 1, 1, 30_000), ("tokopedia", 1, 3, 90_000)),
    Dimension.MONTH: rows(("2026-02", 2, 4, 120_000)),
}


@pytest.mark.parametrize("by", list(NTT_ONLY))
def test_a_scope_counts_only_its_producers_lines(world: World, by: Dimension) -> None:
    ntt = figures(world, by, producer_ids=world.ids("IKM-NTT", "WBP-NTT"))
    assert ntt.rows == NTT_ONLY[by]
    assert ntt.total == Figures(4, 7, 950_000)
    assert ntt.unmatched == Figures()  # a line of no producer is in no scope

    kalbar = figures(world, by, producer_ids=world.ids("WBP-KB"))
    assert kalbar.rows == KALBAR_ONLY[by]
    assert kalbar.total == Figures(2, 4, 120_000)
    assert kalbar.unmatched == Figures()


def test_a_province_filter_is_the_same_as_its_scope(world: World) -> None:
    for by in KALBAR_ONLY:
        filtered = figures(world, by, province=KALBAR)
        assert filtered.rows == KALBAR_ONLY[by]
        assert filtered.total == Figures(2, 4, 120_000)
        assert filtered.unmatched == Figures()


def test_a_filter_inside_a_scope_cannot_widen_it(world: World) -> None:
    result = figures(
        world, Dimension.PRODUCER, producer_ids=world.ids("WBP-KB"), province=NTT
    )
    assert result.rows == ()
    assert result.total == Figures()


def test_an_unknown_producer_id_scopes_to_nothing(world: World) -> None:
    unknown = frozenset({max(world.producers.values()) + 100})
    result = figures(world, Dimension.KIND, producer_ids=unknown)
    assert result.rows == ()
    assert result.total == Figures()


def test_an_empty_scope_gives_nothing(world: World) -> None:
    for by in Dimension:
        result = figures(world, by, producer_ids=frozenset())
        assert result.rows == ()
        assert result.total == Figures() == result.unmatched
    for ranking in Ranking:
        top = top_products(
            world.reader,
            since=SINCE,
            until=UNTIL,
            producer_ids=frozenset(),
            ranking=ranking,
        )
        assert top.rows == ()


def test_marketplace_and_kind_filters(world: World) -> None:
    shopee = figures(world, Dimension.KIND, marketplace="shopee")
    assert shopee.rows == rows(("ikm", 2, 3, 150_000), ("wbp", 2, 2, 230_000))
    assert shopee.total == Figures(2, 5, 380_000)
    assert shopee.unmatched == Figures()

    tokopedia = figures(world, Dimension.MONTH, marketplace="tokopedia")
    assert tokopedia.rows == rows(("2026-01", 2, 3, 600_000), ("2026-02", 1, 3, 90_000))
    assert tokopedia.total == Figures(3, 8, 710_000)
    assert tokopedia.unmatched == UNMATCHED  # not filtered by producer: it counts

    ikm = figures(world, Dimension.PROVINCE, kind=ProducerKind.IKM)
    assert ikm.rows == rows((NTT, 2, 3, 150_000))
    assert ikm.total == Figures(2, 3, 150_000)

    nobody = figures(world, Dimension.KIND, marketplace="bukalapak")
    assert nobody.rows == ()
    assert nobody.total == Figures()


# ----------------------------------------------------------- top products


def top(
    world: World, ranking: Ranking, **options: Any
) -> list[tuple[str, int, int, int]]:
    options.setdefault("producer_ids", None)
    found = top_products(
        world.reader, since=SINCE, until=UNTIL, ranking=ranking, **options
    )
    assert found.ranking is ranking
    return [(p.sku, p.orders, p.units, p.rupiah) for p in found.rows]


def test_top_products_by_units_and_by_rupiah(world: World) -> None:
    # TENUN and ANYAM both sold 4 units: rupiah breaks the tie
    assert top(world, Ranking.UNITS) == [
        ("TENUN-1", 3, 4, 800_000),
        ("ANYAM-1", 2, 4, 120_000),
        ("KOPI-1", 2, 3, 150_000),
    ]
    assert top(world, Ranking.RUPIAH) == [
        ("TENUN-1", 3, 4, 800_000),
        ("KOPI-1", 2, 3, 150_000),
        ("ANYAM-1", 2, 4, 120_000),
    ]
    assert top(world, Ranking.UNITS, limit=1) == [("TENUN-1", 3, 4, 800_000)]


def test_top_products_name_their_producer(world: World) -> None:
    found = top_products(
        world.reader, since=SINCE, until=UNTIL, producer_ids=None, limit=1
    ).rows[0]
    assert (found.name, found.producer_code, found.producer_name) == (
        "Selendang Tenun Ikat",
        "WBP-NTT",
        "Tenun Lapas Kupang",
    )
    assert (found.kind, found.province) == (ProducerKind.WBP, NTT)


def test_top_products_keep_to_the_scope(world: World) -> None:
    ntt = world.ids("IKM-NTT", "WBP-NTT")
    assert top(world, Ranking.UNITS, producer_ids=ntt) == [
        ("TENUN-1", 3, 4, 800_000),
        ("KOPI-1", 2, 3, 150_000),
    ]
    assert top(world, Ranking.RUPIAH, producer_ids=world.ids("WBP-KB")) == [
        ("ANYAM-1", 2, 4, 120_000)
    ]
    assert top(world, Ranking.UNITS, province=KALBAR) == [("ANYAM-1", 2, 4, 120_000)]
    assert top(world, Ranking.UNITS, marketplace="shopee") == [
        ("KOPI-1", 2, 3, 150_000),
        ("TENUN-1", 1, 1, 200_000),
        ("ANYAM-1", 1, 1, 30_000),
    ]


# ---------------------------------------------------------------- requests


class Unread:
    """A reader that must not be asked: a bad request fails before reading."""

    def figures(self, *args: object) -> Any:
        raise AssertionError("read despite a bad request")

    top_products = figures


@pytest.mark.parametrize(
    ("since", "until", "field", "expected"),
    [
        (UNTIL, SINCE, "until", "a time after since"),
        (SINCE, SINCE, "until", "the period [since, until) is empty"),
        (datetime(2026, 1, 1), UNTIL, "since", "a timezone-aware instant"),  # noqa: DTZ001
        (SINCE, datetime(2026, 3, 1), "until", "a timezone-aware instant"),  # noqa: DTZ001
    ],
)
def test_a_bad_period_is_refused_naming_the_field(
    since: datetime, until: datetime, field: str, expected: str
) -> None:
    for call in (
        lambda: programme_figures(
            Unread(), by=Dimension.KIND, since=since, until=until, producer_ids=None
        ),
        lambda: top_products(Unread(), since=since, until=until, producer_ids=None),
    ):
        with pytest.raises(InputRejectedError) as caught:
            call()
        (issue,) = caught.value.issues
        assert issue.column == field
        assert expected in issue.expected
        assert field in str(caught.value)


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_a_limit_out_of_range_is_refused(limit: int) -> None:
    with pytest.raises(InputRejectedError, match="limit") as caught:
        top_products(Unread(), since=SINCE, until=UNTIL, producer_ids=None, limit=limit)
    assert caught.value.issues[0].expected == "a number from 1 to 1000"


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        ({"by": "regency"}, "by", "one of kind, institution, province"),
        ({"by": "kind", "kind": "umkm"}, "kind", "one of ikm, wbp"),
    ],
)
def test_an_unknown_choice_is_refused_naming_it(
    options: dict[str, str], field: str, expected: str
) -> None:
    with pytest.raises(InputRejectedError) as caught:
        programme_figures(
            Unread(),
            since=SINCE,
            until=UNTIL,
            producer_ids=None,
            **options,  # type: ignore[arg-type]
        )
    (issue,) = caught.value.issues
    assert (issue.column, issue.value) == (field, options[field])
    assert issue.expected.startswith(expected)
    with pytest.raises(InputRejectedError, match="ranking"):
        top_products(
            Unread(),
            since=SINCE,
            until=UNTIL,
            producer_ids=None,
            ranking="orders",  # type: ignore[arg-type]
        )


def test_choices_may_be_given_as_text(world: World) -> None:
    """As a form sends them."""
    result = programme_figures(
        world.reader,
        by="province",  # type: ignore[arg-type]
        since=SINCE,
        until=UNTIL,
        producer_ids=None,
        kind="ikm",  # type: ignore[arg-type]
    )
    assert result.by is Dimension.PROVINCE
    assert result.selection.kind is ProducerKind.IKM
    assert result.rows == rows((NTT, 2, 3, 150_000))


def test_a_malformed_marketplace_is_refused() -> None:
    with pytest.raises(InputRejectedError, match="marketplace"):
        Selection(SINCE, UNTIL, None, marketplace="Shopee; DROP TABLE orders")


# ----------------------------------------------------------------- exports


def test_csv_holds_every_row_total_and_unmatched(world: World) -> None:
    result = figures(world, Dimension.PRODUCER)
    stream = io.StringIO(newline="")
    assert write_csv(result, stream) == 5
    read = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert read == [
        ["producer", "name", "orders", "units", "rupiah"],
        ["IKM-NTT", "Kopi Flores", "2", "3", "150000"],
        ["WBP-KB", "'" + HOSTILE, "2", "4", "120000"],  # kept as text
        ["WBP-NTT", "Tenun Lapas Kupang", "3", "4", "800000"],
        ["(unmatched)", "", "1", "2", "20000"],
        ["(total)", "", "5", "13", "1090000"],
    ]
    assert restore(read[2][1]) == HOSTILE


def test_csv_of_a_scope_has_no_unmatched_row(world: World) -> None:
    result = figures(world, Dimension.INSTITUTION, producer_ids=world.ids("WBP-KB"))
    stream = io.StringIO(newline="")
    write_csv(result, stream)
    assert list(csv.reader(io.StringIO(stream.getvalue(), newline=""))) == [
        ["institution", "orders", "units", "rupiah"],
        ["Lapas Pontianak", "2", "4", "120000"],
        ["(total)", "2", "4", "120000"],
    ]


def _sheet(source: Path | io.BytesIO, title: str) -> list[list[Any]]:
    workbook = load_workbook(source, read_only=True)
    try:
        return [list(row) for row in workbook[title].iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_xlsx_round_trips_with_whole_rupiah(world: World, tmp_path: Path) -> None:
    result = figures(world, Dimension.PRODUCER)
    header, expected = table(result)
    path = tmp_path / "programme.xlsx"
    assert write_xlsx(result, path) == 5
    read = _sheet(path, "report")
    blank = [[None if cell == "" else cell for cell in row] for row in expected]
    assert read == [header, *blank]  # an empty cell is blank
    assert read[2][1] == HOSTILE  # text, never a formula
    assert read[-1] == ["(total)", None, 5, 13, 1_090_000]
    assert all(type(cell) is int for cell in read[-1][2:])
    about = dict(_sheet(path, "about"))
    assert about["report"] == "figures by producer"
    assert about["since"] == "2026-01-01T00:00:00+07:00"
    assert about["until (excluded)"] == "2026-03-01T00:00:00+07:00"
    assert about["scope"] == "every producer"


def test_xlsx_of_top_products_to_a_stream(world: World) -> None:
    result = top_products(
        world.reader,
        since=SINCE,
        until=UNTIL,
        producer_ids=world.ids("IKM-NTT", "WBP-NTT"),
        ranking=Ranking.RUPIAH,
    )
    stream = io.BytesIO()
    assert write_xlsx(result, stream) == 2
    stream.seek(0)
    assert _sheet(stream, "report") == [
        [
            "sku",
            "name",
            "producer",
            "producer_name",
            "kind",
            "province",
            "orders",
            "units",
            "rupiah",
        ],
        [
            "TENUN-1",
            "Selendang Tenun Ikat",
            "WBP-NTT",
            "Tenun Lapas Kupang",
            "wbp",
            NTT,
            3,
            4,
            800_000,
        ],
        [
            "KOPI-1",
            "Kopi Arabika Flores",
            "IKM-NTT",
            "Kopi Flores",
            "ikm",
            NTT,
            2,
            3,
            150_000,
        ],
    ]
    stream.seek(0)
    assert dict(_sheet(stream, "about"))["scope"] == "2 producers"


def test_reading_is_a_fixed_number_of_queries(world: World, engine: sa.Engine) -> None:
    """Set-based: the statements do not grow with the orders."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        figures(world, Dimension.MONTH)
        top(world, Ranking.UNITS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "order_lines" in s]) == 3
