"""GET /api/v1/reports/{monthly,sla,incidents} (JSON, as `mailgate report KIND --json`) and
/api/v1/reports/monthly.png (the chart). Staff only; a technician's reports cover the
queues they work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from mailgate.access.visibility import staff_queues
from mailgate.config import Settings
from mailgate.core.errors import Invalid
from mailgate.db.models import Person
from mailgate.http.api_tickets import PROBLEMS
from mailgate.http.auth import Caller, api_caller, services_of
from mailgate.http.problems import Problem
from mailgate.http.search_schemas import ReportOut
from mailgate.reports.build import Report, build_report

router = APIRouter(prefix="/reports", tags=["reports"], responses=PROBLEMS)
CallerDep = Annotated[Caller, Depends(api_caller)]
When = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}(-\d{2})?$",
                                   description="YYYY-MM (monthly, sla) or YYYY-MM-DD (incidents)")]


def report_for(settings: Settings, caller: Caller, kind: str, now: datetime, start: str | None, end: str | None,
               queue: str | None, by_queue: bool) -> Report:
    """In a reader thread. Raises Problem for a non-staff caller or options that cannot work."""
    queues = staff_queues(settings, Person.get_by_id(caller.person_id))
    if queues is None or caller.scope is not None:
        raise Problem(403, "reports are for staff (technicians and admins in [[person]])")
    try:
        return build_report(settings, kind, now, start, end, queue, by_queue, allowed=queues)
    except Invalid as exc:
        raise Problem(422, str(exc)) from None


@router.get("/monthly.png", summary="The monthly chart as a PNG", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
async def get_chart(request: Request, caller: CallerDep, start: When = None, end: When = None,
                    queue: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    from mailgate.reports.chart import png

    services = services_of(request)
    rep = await services.read(report_for, services.settings, caller, "monthly", services.env.now(), start, end,
                              queue, False)
    return Response(png(rep.rows), media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/{kind}", response_model=ReportOut, summary="A report's rows (docs/reports.md)")
async def get_report(request: Request, caller: CallerDep,
                     kind: Annotated[str, Path(pattern="^(monthly|sla|incidents)$")],
                     start: Annotated[str | None, Query(alias="from", max_length=10,
                                                        pattern=r"^\d{4}-\d{2}(-\d{2})?$")] = None,
                     end: Annotated[str | None, Query(alias="to", max_length=10,
                                                      pattern=r"^\d{4}-\d{2}(-\d{2})?$")] = None,
                     queue: Annotated[str | None, Query(max_length=200)] = None,
                     by_queue: bool = False) -> dict[str, Any]:
    services = services_of(request)
    rep = await services.read(report_for, services.settings, caller, kind, services.env.now(), start, end, queue,
                              by_queue)
    return rep.as_dict()
