"""/api/v1/people/{address} and /api/v1/status: what `mailgate person show --json` and
`mailgate status --json` print, for staff (a person may also read their own history)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from mailgate.access.visibility import staff_queues
from mailgate.config import Settings
from mailgate.db.models import Person
from mailgate.http.api_tickets import PROBLEMS
from mailgate.http.auth import Caller, api_caller, services_of
from mailgate.http.problems import Problem
from mailgate.http.schemas import PersonOut, StatusOut
from mailgate.lifecycle.view import person_view
from mailgate.status_report import collect

router = APIRouter(responses=PROBLEMS)
CallerDep = Annotated[Caller, Depends(api_caller)]


def person_for_caller(settings: Settings, caller: Caller, address: str) -> dict[str, Any] | None:
    me = Person.get_by_id(caller.person_id)
    wanted = address.strip().lower()
    if wanted != me.address and staff_queues(settings, me) is None:
        return None  # a requester sees their own history only; others do not exist for them
    data = person_view(wanted)
    if data is None or staff_queues(settings, me) is None:
        return data
    queues = set(staff_queues(settings, me) or ())
    everything = {q.name for q in settings.queues}
    if queues != everything:  # a technician sees the person's tickets in their own queues
        data["tickets"] = [t for t in data["tickets"] if t["queue"] in queues]
        data["total"] = len(data["tickets"])
        data["open"] = sum(1 for t in data["tickets"] if t["status"] in ("new", "open", "stalled"))
    return data


@router.get("/people/{address}", response_model=PersonOut, tags=["people"],
            summary="A person's tickets, requested, owned or watched (as `mailgate person show --json`)")
async def get_person(request: Request, caller: CallerDep, address: str) -> dict[str, Any]:
    services = services_of(request)
    data = await services.read(person_for_caller, services.settings, caller, address)
    if data is None:
        raise Problem(404, f"no person {address!r} you may see")
    return data


def _status(env: Any, caller: Caller) -> dict[str, Any] | None:
    if staff_queues(env.settings, Person.get_by_id(caller.person_id)) is None:
        return None
    return collect(env)


@router.get("/status", response_model=StatusOut, tags=["status"],
            summary="Daemons, spool, quarantine, outbox, IMAP, jobs (as `mailgate status --json`); staff only")
async def get_status(request: Request, caller: CallerDep) -> dict[str, Any]:
    services = services_of(request)
    data = await services.read(_status, services.env, caller)
    if data is None:
        raise Problem(403, "only staff may read the gateway's status")
    return data
