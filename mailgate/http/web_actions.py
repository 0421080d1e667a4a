"""Acting from the ticket page: a reply, an internal note, and the email commands as form
controls. Each is what the same person's mail would do: the ticket service with source
"web", the same permission checks, history and alert mails. The answer is a redirect back
to the ticket (POST/redirect/GET), with the receipt shown once."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailgate.access.visibility import view_of
from mailgate.core.errors import Conflict, Forbidden, Invalid, NotFound
from mailgate.db.models import Person, Ticket
from mailgate.http.auth import Caller, services_of
from mailgate.http.pages import form_with_files, render
from mailgate.http.reads import MAX_ID
from mailgate.http.web_desk import signed_in
from mailgate.tickets import Receipt, TicketService

router = APIRouter(include_in_schema=False)
# the form controls, in the order their command lines are written
CONTROLS = ("status", "owner", "priority", "queue", "nosy_add", "nosy_remove", "parent", "sleep")


def command_text(form: dict[str, str]) -> str:
    """The command lines the filled-in controls stand for (what a mail would carry)."""
    lines = []
    for control in CONTROLS:
        value = " ".join(form.get(control, "").split())
        if not value:
            continue
        if control == "nosy_add":
            lines.append(f"nosy: +{value.lstrip('+')}")
        elif control == "nosy_remove":
            lines.append(f"nosy: -{value.lstrip('-')}")
        else:
            lines.append(f"{control}: {value}")
    more = [line.strip() for line in form.get("more", "").splitlines() if line.strip()]
    return "\n".join(lines + more)


def _act(services: Any, me: Caller, how: str, ticket_id: int, text: str,
         files: list[tuple[str, str, bytes]]) -> Receipt:
    """In the writer thread: 404 unless the person may read the ticket, then the service."""
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None or view_of(services.settings, Person.get_by_id(me.person_id), ticket, me.scope) is None:
        raise NotFound(f"there is no ticket #{ticket_id}")
    service = TicketService(services.env)
    if how == "command":
        return service.command(ticket_id, me.address, text, source="web")
    return getattr(service, how)(ticket_id, me.address, text, source="web", attachments=files)


def _flash(what: str, receipt: Receipt) -> str:
    data = receipt.as_dict()
    body = {"what": what, "applied": [a["result"] for a in data["applied"]], "refused": data["refused"],
            "mails": len(data["outbox"])}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


async def _post(request: Request, ticket_id: int, how: str) -> Response:
    me = await signed_in(request)
    fields, files = await form_with_files(request, me)
    text = command_text(fields) if how == "command" else fields.get("text", "")
    services = services_of(request)
    if ticket_id > MAX_ID:
        raise NotFound(f"there is no ticket #{ticket_id}")
    try:
        receipt = await services.write(_act, services, me, how, ticket_id, text, files)
    except (Invalid, Forbidden, Conflict) as exc:
        return render(request, "web/error.html.j2", me=me, status=422 if isinstance(exc, Invalid) else 403
                      if isinstance(exc, Forbidden) else 409, title="Not done", detail=str(exc))
    what = {"reply": "Reply sent", "note": "Internal note added", "command": "Commands run"}[how]
    response = RedirectResponse(f"/tickets/{receipt.ticket}#{'commands' if how == 'command' else 'reply'}",
                                status_code=303)
    response.set_cookie("mailgate_flash", _flash(what, receipt), max_age=60, httponly=True, samesite="lax",
                        path=f"/tickets/{receipt.ticket}")
    return response


@router.post("/tickets/{ticket_id}/reply")
async def reply(request: Request, ticket_id: int) -> Response:
    return await _post(request, ticket_id, "reply")


@router.post("/tickets/{ticket_id}/note")
async def note(request: Request, ticket_id: int) -> Response:
    return await _post(request, ticket_id, "note")


@router.post("/tickets/{ticket_id}/command")
async def command(request: Request, ticket_id: int) -> Response:
    return await _post(request, ticket_id, "command")
