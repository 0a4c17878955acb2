"""Reading list filters from a query string: a choice among known values, a day
(``YYYY-MM-DD``, a day in Jakarta time), a page offset; a bad value is refused with
an error naming the field and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from core.domain.users import NotVisibleError
from web.i18n import SHOWN_ZONE


class FilterError(ValueError):
    """A filter's value is not what the field takes."""


def text(value: str | None) -> str | None:
    """A free-text filter: stripped, ``None`` when empty."""
    cleaned = (value or "").strip()
    return cleaned or None


def choice(field: str, value: str | None, allowed: Iterable[str]) -> str | None:
    """``value`` when it is one of ``allowed`` (``None`` when empty).

    Raises:
        FilterError: it is not.
    """
    cleaned = text(value)
    known = sorted(allowed)
    if cleaned is not None and cleaned not in known:
        raise FilterError(f"{field}: expected one of {', '.join(known)}")
    return cleaned


def day(field: str, value: str | None, *, end: bool = False) -> datetime | None:
    """The start of day ``value`` in Jakarta time (of the next day with ``end``, so
    the day is included).

    Raises:
        FilterError: not a date written YYYY-MM-DD.
    """
    cleaned = text(value)
    if cleaned is None:
        return None
    try:
        found = date.fromisoformat(cleaned)
    except ValueError:
        raise FilterError(f"{field}: expected a date as YYYY-MM-DD") from None
    if end:
        found += timedelta(days=1)
    return datetime.combine(found, time(), SHOWN_ZONE)


def offset(value: str | None) -> int:
    """A page offset: a whole number from 0.

    Raises:
        FilterError: anything else.
    """
    cleaned = text(value)
    if cleaned is None:
        return 0
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise FilterError("offset: expected a whole number from 0")
    return int(cleaned)


def visible_choice(field: str, value: str | None, visible: Iterable[str]) -> str | None:
    """``value`` when it is one of the ``visible`` names (``None`` when empty).

    Raises:
        NotVisibleError: it names something unknown or out of scope (answered
            404, as a missing page: a scope's edges cannot be probed).
    """
    cleaned = text(value)
    if cleaned is not None and cleaned not in set(visible):
        raise NotVisibleError(f"{field} {cleaned!r}: not found")
    return cleaned
