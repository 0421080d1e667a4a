"""The report pages, for staff: /reports/monthly (with its chart as SVG, and as a PNG at
/reports/monthly.png), /reports/sla, and /reports/incidents, the incident timeline (by
default the last 7 days)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from mailgate.http.api_reports import report_for
from mailgate.http.auth import services_of, session_caller
from mailgate.http.pages import render
from mailgate.http.problems import Problem
from mailgate.reports.chart import png, svg
from mailgate.reports.output import COLUMNS, SHORT
from mailgate.reports.timeline import timeline_svg

router = APIRouter(include_in_schema=False)


async def _report(request: Request, kind: str, start: str, end: str, queue: str, by_queue: bool = False):  # noqa: ANN202
    me = await session_caller(request)
    if me is None:
        return None, None, RedirectResponse("/login", status_code=303)
    services = services_of(request)
    try:
        rep = await services.read(report_for, services.settings, me, kind, services.env.now(), start or None,
                                  end or None, queue or None, by_queue)
    except Problem as problem:
        page = render(request, "web/error.html.j2", me=me, status=problem.status, title="No report",
                      detail=problem.detail)
        return me, None, page
    return me, rep, None


@router.get("/reports")
async def reports_start() -> Response:
    return RedirectResponse("/reports/monthly", status_code=303)


@router.get("/reports/monthly.png")
async def monthly_png(request: Request, start: str = "", end: str = "", queue: str = "") -> Response:
    _, rep, stop = await _report(request, "monthly", start, end, queue)
    if stop is not None:
        return stop
    return Response(png(rep.rows), media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/reports/{kind}")
async def report_page(request: Request, kind: str, start: str = "", end: str = "", queue: str = "",
                      by_queue: bool = False) -> Response:
    if kind not in COLUMNS:
        raise Problem(404, f"there is no report {kind!r}")
    me, rep, stop = await _report(request, kind, start, end, queue, by_queue)
    if stop is not None:
        return stop
    picture = None
    if kind == "monthly" and not by_queue:
        picture = Markup(svg(rep.rows, f"Tickets per month, {rep.start} to {rep.end}"))  # noqa: S704 - escaped by svg()
    elif kind == "incidents":
        since, until = (datetime.fromisoformat(v.rstrip("Z")) for v in (rep.start, rep.end))
        picture = Markup(timeline_svg(rep.rows, since, until))  # noqa: S704 - escaped by timeline_svg()
    queues = [q.name for q in services_of(request).settings.queues]
    return render(request, "web/report.html.j2", me=me, report=rep, kind=kind, picture=picture,
                  columns=COLUMNS[kind], short=SHORT, queues=queues, start=start, end=end, queue=queue)
