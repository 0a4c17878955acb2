"""Reports: the programme's orders, units and rupiah by producer kind, institution,
province, marketplace, month or producer, top products, a bar chart, and CSV or
XLSX exports — all within the viewer's scope (the same service as
``ikm-sync report``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from core.domain.programme import REPORT_ZONE, Dimension, ProgrammeFigures, Ranking
from core.errors import InputIssue, InputRejectedError
from core.services.programme import (
    Report,
    programme_figures,
    top_products,
    write_csv,
    write_xlsx,
)
from web.render import render
from web.security import CSRF, Viewer, viewer

router = APIRouter(dependencies=CSRF)
SOURCE = "report form"
#: The chart's size: width, one bar's height, the label column.
CHART_WIDTH, BAR, LABEL = 640, 22, 220


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the chart (SVG coordinates, no style attributes)."""

    label: str
    value: int
    y: int
    width: int


def _day(text: str, field: str, *, end: bool) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputRejectedError(
            [InputIssue(SOURCE, None, field, text, "a date like 2026-12-31")]
        ) from None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), REPORT_ZONE)


def _default_period(now: datetime) -> tuple[str, str]:
    """This month so far, in WIB."""
    today = now.astimezone(REPORT_ZONE).date()
    return today.replace(day=1).isoformat(), today.isoformat()


def _bars(figures: ProgrammeFigures) -> list[Bar]:
    rows = [r for r in figures.rows if r.rupiah > 0]
    most = max((r.rupiah for r in rows), default=0)
    room = CHART_WIDTH - LABEL - 10
    return [
        Bar(
            (row.name or row.value or "—")[:32],
            row.rupiah,
            index * BAR,
            max(1, round(room * row.rupiah / most)) if most else 0,
        )
        for index, row in enumerate(rows)
    ]


def _selection(
    request: Request,
    who: Viewer,
    by: str,
    since: str,
    until: str,
    marketplace: str,
    province: str,
    kind: str,
    ranking: str,
) -> tuple[ProgrammeFigures, Report]:
    reader = request.app.state.console.runtime.programme_reader()
    common = {
        "since": _day(since, "since", end=False),
        "until": _day(until, "until", end=True),
        "producer_ids": who.visible.producer_ids,
        "marketplace": marketplace or None,
        "province": province or None,
        "kind": kind or None,
    }
    figures = programme_figures(reader, by=by, **common)  # type: ignore[arg-type]
    top = top_products(reader, ranking=ranking, limit=10, **common)  # type: ignore[arg-type]
    return figures, top


Field = Annotated[str, Query(max_length=64)]


@router.get("/reports")
def reports(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    by: Field = Dimension.PROVINCE.value,
    since: Field = "",
    until: Field = "",
    marketplace: Field = "",
    province: Field = "",
    kind: Field = "",
    ranking: Field = Ranking.UNITS.value,
) -> Response:
    """Figures, a chart and top products for a period (default: this month)."""
    if not since or not until:
        since, until = _default_period(request.app.state.console.clock.now())
    form = {
        "by": by,
        "since": since,
        "until": until,
        "marketplace": marketplace,
        "province": province,
        "kind": kind,
        "ranking": ranking,
    }
    context: dict[str, object] = {
        "form": form,
        "dimensions": [d.value for d in Dimension],
        "rankings": [r.value for r in Ranking],
        "chart_width": CHART_WIDTH,
        "label_width": LABEL,
        "bar_height": BAR,
    }
    try:
        figures, top = _selection(request, who, **form)
    except InputRejectedError as exc:
        context["issues"] = [issue.describe() for issue in exc.issues]
        return render(request, "reports/page.html", context, status_code=422)
    bars = _bars(figures)
    context |= {
        "figures": figures,
        "top": top,
        "bars": bars,
        "chart_height": max(BAR, len(bars) * BAR),
        "query": str(request.url.query),
    }
    return render(request, "reports/page.html", context)


@router.get("/reports/export")
def export(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    report: Annotated[str, Query(pattern="^(figures|top)$")] = "figures",
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    by: Field = Dimension.PROVINCE.value,
    since: Field = "",
    until: Field = "",
    marketplace: Field = "",
    province: Field = "",
    kind: Field = "",
    ranking: Field = Ranking.UNITS.value,
) -> Response:
    """The figures or the top products as CSV or XLSX, within the viewer's scope."""
    if not since or not until:
        since, until = _default_period(request.app.state.console.clock.now())
    try:
        figures, top = _selection(
            request, who, by, since, until, marketplace, province, kind, ranking
        )
    except InputRejectedError as exc:
        return Response(
            "\n".join(i.describe() for i in exc.issues),
            status_code=422,
            media_type="text/plain",
        )
    chosen: Report = figures if report == "figures" else top
    name = f"ikm-sync-{report}-{since.strip()}-{until.strip()}"  # dates, checked
    if format == "csv":
        text = io.StringIO()
        write_csv(chosen, text)
        body = text.getvalue().encode("utf-8")
        media = "text/csv; charset=utf-8"
    else:
        binary = io.BytesIO()
        write_xlsx(chosen, binary)
        body = binary.getvalue()
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return StreamingResponse(
        iter([body]),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}.{format}"'},
    )
