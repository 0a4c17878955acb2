"""Programme figures: what the programme's producers sold, and the rules that count it.

These types are shared by the reading port (:class:`core.ports.ProgrammeReader`),
the service (:mod:`core.services.programme`) and the store's queries
(:mod:`core.store.programme`). The rules:

- **Sales.** An order counts when its status is one of :data:`SALE_STATUSES` (paid,
  ready to ship, shipped, delivered, completed). ``pending_payment`` is no sale yet;
  ``cancelled`` and ``returned`` orders were undone (the money went back), so they
  count nowhere, not even when an earlier pull saw them paid.
- **When.** An order's time is ``placed_at``, or ``first_seen_at`` when the
  marketplace gave none. A period is half open, ``[since, until)``, of UTC instants.
- **Month.** ``YYYY-MM`` of the order's time in WIB (Asia/Jakarta, UTC+7, no daylight
  saving), the programme's reporting zone: an order placed 2026-01-31 20:00 UTC is
  February's. :func:`month_start` gives a month's first instant, for periods that
  match the buckets.
- **Lines.** Each order line counts for the producer of its product: ``units`` is its
  quantity, ``rupiah`` its quantity times its unit price (whole rupiah as the
  marketplace priced the line: no shipping, no vouchers). ``orders`` is the number of
  distinct orders with a counted line in the group, so an order with lines of two
  producers counts once in each group it touches and once in the total; the groups'
  orders need not add up to the total's.
- **Unmatched.** A line whose SKU matched no product belongs to no producer: it
  counts in the total and in ``unmatched`` only, never in a group, and only when the
  selection is neither scoped to producers nor filtered by province or kind.
- **Scope.** ``producer_ids`` (``producers.id``) ``None`` is every producer; an empty
  set is none (everything is zero); otherwise no line of another producer counts, in
  any figure: groups, totals and top products alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from core.domain.catalogue import ProducerKind
from core.domain.marketplaces import KEY_PATTERN
from core.domain.sync import OrderStatus
from core.errors import InputIssue, InputRejectedError

#: The statuses of an order that counts as a sale.
SALE_STATUSES: frozenset[OrderStatus] = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.READY_TO_SHIP,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    }
)

#: The reporting zone's offset from UTC: WIB (Asia/Jakarta) keeps no daylight saving.
REPORT_OFFSET = timedelta(hours=7)
REPORT_ZONE = timezone(REPORT_OFFSET, "WIB")

#: Where a selection's errors say they come from.
SOURCE = "programme report"


class Dimension(StrEnum):
    """What programme figures are grouped by."""

    KIND = "kind"  # ikm or wbp
    INSTITUTION = "institution"  # the producer's Lapas or Dinas; None when it has none
    PROVINCE = "province"
    MARKETPLACE = "marketplace"  # the account's marketplace key
    MONTH = "month"  # YYYY-MM in WIB
    PRODUCER = "producer"  # the producer's code (its name beside it)


class Ranking(StrEnum):
    """What top products are ranked by (the other measure breaks ties, then SKU)."""

    UNITS = "units"
    RUPIAH = "rupiah"


def month_start(year: int, month: int) -> datetime:
    """The first instant (UTC) of a reporting month: midnight WIB of its first day."""
    return datetime(year, month, 1, tzinfo=REPORT_ZONE).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which sales programme figures count (see the module for each rule).

    Raises:
        InputRejectedError: a time is naive, the period is empty, or the
            marketplace is not a marketplace key; every issue names its field.
    """

    since: datetime
    until: datetime
    producer_ids: frozenset[int] | None
    marketplace: str | None = None
    province: str | None = None
    kind: ProducerKind | None = None

    def __post_init__(self) -> None:
        issues = []
        for name in ("since", "until"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None:
                issues.append(
                    InputIssue(
                        SOURCE,
                        None,
                        name,
                        value.isoformat(),
                        "a timezone-aware instant",
                    )
                )
        if not issues and self.since >= self.until:
            issues.append(
                InputIssue(
                    SOURCE,
                    None,
                    "until",
                    self.until.isoformat(),
                    f"a time after since ({self.since.isoformat()}): the period "
                    "[since, until) is empty",
                )
            )
        if self.marketplace is not None and not KEY_PATTERN.fullmatch(self.marketplace):
            issues.append(
                InputIssue(
                    SOURCE,
                    None,
                    "marketplace",
                    self.marketplace,
                    "a marketplace key (lower case, such as shopee)",
                )
            )
        if issues:
            raise InputRejectedError(issues)

    @property
    def empty_scope(self) -> bool:
        """True when the scope holds no producer, so every figure is zero."""
        return self.producer_ids is not None and not self.producer_ids

    @property
    def producers_only(self) -> bool:
        """True when only lines of a known producer can count (unmatched lines
        belong to none): the selection is scoped or filters by producer."""
        return (
            self.producer_ids is not None
            or self.province is not None
            or self.kind is not None
        )


@dataclass(frozen=True, slots=True)
class Figures:
    """Distinct orders, units and rupiah of a set of counted lines."""

    orders: int = 0
    units: int = 0
    rupiah: int = 0


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One group: its dimension value and its figures.

    ``value`` is the kind, institution, province, marketplace key, month
    (``YYYY-MM``) or producer code; ``None`` for producers without an institution.
    ``name`` is the producer's name when grouped by producer, else empty.
    """

    value: str | None
    orders: int
    units: int
    rupiah: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    """Figures grouped by one dimension, ordered by value (``None`` last), with the
    total of every counted line and the part of it no product matched."""

    by: Dimension
    selection: Selection
    rows: tuple[FigureRow, ...]
    total: Figures = field(default_factory=Figures)
    unmatched: Figures = field(default_factory=Figures)


@dataclass(frozen=True, slots=True)
class ProductFigure:
    """One product's sales in a selection, with its producer."""

    sku: str
    name: str
    producer_code: str
    producer_name: str
    kind: ProducerKind
    province: str
    orders: int
    units: int
    rupiah: int


@dataclass(frozen=True, slots=True)
class TopProducts:
    """The best-selling products of a selection, best first."""

    ranking: Ranking
    selection: Selection
    rows: tuple[ProductFigure, ...]
