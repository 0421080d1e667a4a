"""GET /search?q=: the search page (the box in every page's header sends here)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailgate.http.api_search import run_search
from mailgate.http.auth import services_of, session_caller
from mailgate.http.pages import render
from mailgate.search import QueryError

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/search")
async def search_page(request: Request, q: str = "", page: int = 1) -> Response:
    me = await session_caller(request)
    if me is None:
        return RedirectResponse("/login", status_code=303)
    services = services_of(request)
    q = q.strip()[:1000]
    page = max(1, min(page, 200))
    result, error = None, ""
    if q:
        try:
            result = await services.read(run_search, services.settings, me, q, PAGE_SIZE, (page - 1) * PAGE_SIZE, True)
        except QueryError as exc:
            error = str(exc)
    return render(request, "web/search.html.j2", me=me, q=q, result=result, error=error, page=page,
                  more=bool(result and len(result["hits"]) == PAGE_SIZE), status=422 if error else 200)
