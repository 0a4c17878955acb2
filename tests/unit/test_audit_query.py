"""The auditor's periods and filters: times read in UTC, empty periods and bad
filters refused with what was expected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.audit.query import EventFilter, Period, parse_instant, stored_subject


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-12-07", False, datetime(2026, 12, 7, tzinfo=UTC)),
        ("2026-12-07", True, datetime(2026, 12, 8, tzinfo=UTC)),
        ("2026-12-31", True, datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-12-07T10:15", True, datetime(2026, 12, 7, 10, 15, tzinfo=UTC)),
        ("2026-12-07 10:15:30", False, datetime(2026, 12, 7, 10, 15, 30, tzinfo=UTC)),
        ("2026-12-07T10:15:00Z", False, datetime(2026, 12, 7, 10, 15, tzinfo=UTC)),
        ("2026-12-07T17:15+07:00", False, datetime(2026, 12, 7, 10, 15, tzinfo=UTC)),
        (" 2026-12-07 ", False, datetime(2026, 12, 7, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_utc(text: str, end: bool, expected: datetime) -> None:
    found = parse_instant(text, end=end)
    assert found == expected
    assert found.utcoffset() is not None
    assert found.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2026-13-01", "2026-12-32", "07/12/2026", "2026-12-07T10", "1"],
)
def test_a_bad_time_names_the_expected_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"):
        parse_instant(text)


def test_an_empty_period_is_refused() -> None:
    day = datetime(2026, 12, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="the period is empty"):
        Period(day, day)
    assert Period(day, None).holds(day)
    assert not Period(None, day).holds(day)  # until is exclusive


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"subject": "*"}, "--subject"),
        ({"subject": "sku:*KOPI*"}, "--subject"),
        ({"subject": "sku:KOPI**"}, "--subject"),
        ({"kind": ""}, "--kind"),
        ({"kind": ".moved"}, "--kind"),
        ({"kind": "stock."}, "--kind"),
        ({"limit": 0}, "--limit"),
    ],
)
def test_a_bad_filter_names_its_option(given: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventFilter(**given)  # type: ignore[arg-type]


def test_subject_prefix() -> None:
    assert EventFilter(subject="sku:KOPI*").subject_prefix == "sku:KOPI"
    assert EventFilter(subject="sku:KOPI").subject_prefix is None


def test_a_sku_subject_is_compared_by_its_key() -> None:
    assert stored_subject("sku:kopi-flr 001") == "sku:KOPI-FLR001"
    assert stored_subject("sku:kopi*") == "sku:KOPI*"
    assert stored_subject("order:shopee:abc") == "order:shopee:abc"
    assert stored_subject("skus") == "skus"
