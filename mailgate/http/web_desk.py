"""The web desk's pages: the queue (staff) or one's own tickets (requesters), a ticket, a
person, one's sessions. Server-rendered, readable without JavaScript; /static/desk.js adds
keyboard shortcuts and shows the command text a form control will send.

A page for a ticket the signed-in person may not read is 404, as in the API."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from mailgate.access.signin import end_session, live_sessions
from mailgate.access.visibility import is_admin, staff_queues
from mailgate.core.statuses import STATUSES
from mailgate.db.models import Person
from mailgate.http import reads, web_reads
from mailgate.http.api_misc import person_for_caller
from mailgate.http.api_tickets import HTML_CSP
from mailgate.http.auth import Caller, services_of, session_caller
from mailgate.http.downloads import download_headers
from mailgate.http.pages import form_of, render
from mailgate.http.problems import Problem
from mailgate.http.reads import MAX_ID

router = APIRouter(include_in_schema=False)
INLINE_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class NotSignedIn(Exception):  # noqa: N818 - turned into a redirect to /login
    pass


async def signed_in(request: Request) -> Caller:
    me = await session_caller(request)
    if me is None:
        raise NotSignedIn
    return me


def staff_roles(request: Request, me: Caller) -> dict[str, bool]:
    settings = services_of(request).settings
    person = Person(id=me.person_id, address=me.address)
    return {"is_staff": staff_queues(settings, person) is not None and me.scope is None,
            "is_admin": is_admin(settings, person) and me.scope is None}


def _filters(request: Request) -> web_reads.QueueFilters:
    q = request.query_params
    priority = q.get("priority", "")
    status = q.get("status", "active")
    return web_reads.QueueFilters(
        status=status if status in ("active", "any", *STATUSES) else "active", queue=q.get("queue", ""),
        owner=q.get("owner", "anyone") if q.get("owner") in ("me", "nobody", "anyone") else "anyone",
        priority=int(priority) if priority.isdigit() and 1 <= int(priority) <= 4 else None,
        requester=q.get("requester", "")[:254], sort=q.get("sort", "newest") if q.get("sort") in web_reads.SORTS else "newest")


@router.get("/")
async def home(request: Request) -> Response:
    me = await signed_in(request)
    if me.scope is not None:
        return RedirectResponse(f"/tickets/{me.scope}", status_code=303)
    services = services_of(request)
    f = _filters(request)
    page = await services.read(web_reads.queue_page, services.settings, me, f, request.query_params.get("after", ""))
    params = {k: v for k, v in request.query_params.items() if k != "after"}
    next_url = f"/?{urlencode({**params, 'after': page['next']})}" if page["next"] else ""
    return render(request, "web/queue.html.j2", me=me, page=page, f=f, next_url=next_url,
                  queues=[q.name for q in services.settings.queues], statuses=STATUSES, **staff_roles(request, me))


@router.get("/tickets/{ticket_id}")
async def ticket(request: Request, ticket_id: int) -> Response:
    me = await signed_in(request)
    services = services_of(request)
    data = await services.read(web_reads.ticket_page, services.settings, me, ticket_id) if ticket_id <= MAX_ID else None
    if data is None:
        return render(request, "web/error.html.j2", me=me, status=404, title="No such ticket",
                      detail=f"There is no ticket #{ticket_id} you may see.")
    flash = request.cookies.get("mailgate_flash", "")
    response = render(request, "web/ticket.html.j2", me=me, t=data, flash=_flash(flash), **staff_roles(request, me))
    if flash:
        response.delete_cookie("mailgate_flash", path=f"/tickets/{ticket_id}")
    return response


def _flash(value: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None


@router.get("/tickets/{ticket_id}/messages/{message_id}/html")
async def message_html(request: Request, ticket_id: int, message_id: int) -> Response:
    """A stored HTML part for the ticket page's sandboxed frame: remote images stay blocked
    (tracking pixels) until the reader asks for them with ?images=1."""
    me = await signed_in(request)
    services = services_of(request)
    html = await services.read(reads.message_html, services.settings, me, ticket_id, message_id)
    if html is None or ticket_id > MAX_ID:
        raise Problem(404, "no such message")
    policy = HTML_CSP.replace("img-src data: cid:", "img-src data: https:" if request.query_params.get("images")
                              else "img-src data:")
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "X-Frame-Options": "SAMEORIGIN",
                                       "Cache-Control": "private, no-store"})


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
async def attachment(request: Request, ticket_id: int, attachment_id: int) -> Response:
    me = await signed_in(request)
    services = services_of(request)
    found = None
    if ticket_id <= MAX_ID and attachment_id <= MAX_ID:
        found = await services.read(reads.attachment_file, services.settings, me, ticket_id, attachment_id)
    if found is None or not found[0].exists():
        raise Problem(404, "no such attachment")
    path, filename, content_type = found
    media, headers = download_headers(filename, content_type)
    if request.query_params.get("inline") and content_type in INLINE_IMAGES:
        media = content_type  # shown in the page: only raster images, never markup
        headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment;", "inline;", 1)
    return FileResponse(path, media_type=media, headers=headers)


@router.get("/people/{address}")
async def person(request: Request, address: str) -> Response:
    me = await signed_in(request)
    roles = staff_roles(request, me)
    services = services_of(request)
    data = await services.read(person_for_caller, services.settings, me, address) if roles["is_staff"] or \
        address.lower() == me.address else None
    if data is None:
        return render(request, "web/error.html.j2", me=me, status=404, title="No such person",
                      detail=f"Nobody called {address} that you may see.")
    return render(request, "web/person.html.j2", me=me, p=data, **roles)


@router.get("/sessions")
async def sessions(request: Request) -> Response:
    me = await signed_in(request)
    services = services_of(request)
    rows = await services.read(lambda: live_sessions(Person.get_by_id(me.person_id), services.env.now()))
    return render(request, "web/sessions.html.j2", me=me, sessions=rows, **staff_roles(request, me))


@router.post("/sessions/{session_id}/end")
async def end(request: Request, session_id: int) -> Response:
    me = await signed_in(request)
    await form_of(request, me)
    services = services_of(request)
    await services.write(lambda: end_session(session_id, Person.get_by_id(me.person_id), services.env.now()))
    return RedirectResponse("/sessions" if session_id != me.session_id else "/login", status_code=303)
