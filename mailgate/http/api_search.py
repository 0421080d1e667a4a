"""GET /api/v1/search?q=: the hits the caller may see (a requester never another
requester's ticket, never an internal note), as `mailgate search --json` gives them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from mailgate.config import Settings
from mailgate.db.models import Person
from mailgate.http.api_tickets import PROBLEMS
from mailgate.http.auth import Caller, api_caller, services_of
from mailgate.http.problems import Problem
from mailgate.http.search_schemas import SearchOut
from mailgate.search import QueryError, group_by_ticket, search, viewer_for

router = APIRouter(tags=["search"], responses=PROBLEMS)
CallerDep = Annotated[Caller, Depends(api_caller)]


def run_search(settings: Settings, caller: Caller, q: str, limit: int, offset: int, group: bool) -> dict[str, Any]:
    """In a reader thread. Raises QueryError for an operator value that cannot work."""
    viewer = viewer_for(settings, Person.get_by_id(caller.person_id), caller.scope)
    result = search(q, viewer, limit=limit, offset=offset)
    hits = [h.as_dict() for h in result.hits]
    return {"query": q, "hits": hits, "tickets": group_by_ticket(result.hits) if group else None,
            "note": result.note or None}


@router.get("/search", response_model=SearchOut, summary="Messages matching a query, best first (docs/search.md)")
async def search_messages(
    request: Request, caller: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description='e.g. printer "paper jam" from:bob is:open')],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    group: Annotated[bool, Query(description="also give the hits grouped by ticket")] = False,
) -> dict[str, Any]:
    services = services_of(request)
    try:
        return await services.read(run_search, services.settings, caller, q, limit, offset, group)
    except QueryError as exc:
        raise Problem(422, f"q: {exc}", errors=[{"field": "q", "message": str(exc)}]) from None
