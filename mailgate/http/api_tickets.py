"""/api/v1/tickets: list, show, open, and the three acts (notes, replies, commands), plus
attachment downloads. Every write goes through the ticket service with source "api"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from mailgate.access.visibility import staff_queues, view_of
from mailgate.core.statuses import STATUSES
from mailgate.db.models import Person, Ticket
from mailgate.http import reads
from mailgate.http.auth import Caller, api_caller, services_of
from mailgate.http.downloads import download_headers
from mailgate.http.idempotency import HEADER, check_key, fingerprint, run_once
from mailgate.http.problems import Problem
from mailgate.http.reads import MAX_ID
from mailgate.http.schemas import (
    CommandsIn,
    NoteIn,
    ProblemOut,
    ReceiptOut,
    TicketDetail,
    TicketIn,
    TicketPage,
)
from mailgate.tickets import TicketService
from mailgate.tickets.opening import OpenRequest

PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemOut, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 413, 422, 429)}
router = APIRouter(prefix="/tickets", tags=["tickets"], responses=PROBLEMS)
CallerDep = Annotated[Caller, Depends(api_caller)]
# row ids: PostgreSQL's serial columns hold up to 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
KeyHeader = Annotated[str | None, Header(alias=HEADER, description="makes a retried POST a no-op")]


@router.get("", response_model=TicketPage, summary="List tickets the caller may see, newest first")
async def list_tickets(
    request: Request, caller: CallerDep,
    status: Annotated[str | None, Query(description=f"one of {', '.join(STATUSES)}")] = None,
    queue: str | None = None,
    owner: Annotated[str | None, Query(description="an address, me or none")] = None,
    requester: str | None = None,
    updated_since: datetime | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    services = services_of(request)
    settings = services.settings
    if status is not None and status not in STATUSES:
        raise Problem(422, f"status: expected one of {', '.join(STATUSES)}", errors=[
            {"field": "status", "message": f"expected one of {', '.join(STATUSES)}"}])
    if queue is not None and settings.queue_named(queue) is None:
        raise Problem(422, f"queue: unknown queue {queue!r}", errors=[{"field": "queue", "message": "unknown queue"}])
    before = reads.decode_cursor(cursor) if cursor else None
    if cursor and before is None:
        raise Problem(422, "cursor: not a cursor this API gave", errors=[{"field": "cursor", "message": "invalid"}])
    size = min(limit or settings.api.page_size, settings.api.max_page_size)
    filters = reads.Filters(status, queue, owner, requester, updated_since)
    return await services.read(reads.ticket_page, settings, caller, filters, size, before)


@router.get("/{ticket_id}", response_model=TicketDetail, summary="One ticket: the `ticket show --json` contract")
async def get_ticket(request: Request, caller: CallerDep, ticket_id: Id) -> dict[str, Any]:
    services = services_of(request)
    data = await services.read(reads.ticket_view, services.settings, caller, ticket_id)
    if data is None:
        raise Problem(404, f"there is no ticket #{ticket_id}")
    return data


@router.get("/{ticket_id}/attachments/{attachment_id}", summary="An attachment's bytes",
            response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}}})
async def get_attachment(request: Request, caller: CallerDep, ticket_id: Id, attachment_id: Id) -> Response:
    services = services_of(request)
    found = await services.read(reads.attachment_file, services.settings, caller, ticket_id, attachment_id)
    if found is None or not found[0].exists():
        raise Problem(404, f"ticket #{ticket_id} has no attachment {attachment_id} you may see")
    path, filename, content_type = found
    media, headers = download_headers(filename, content_type)
    return FileResponse(path, media_type=media, headers=headers)


# a stored HTML part: sanitized when stored (nh3), and shown under a policy that runs
# nothing, loads nothing remote (tracking pixels) and cannot frame or navigate us
HTML_CSP = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"


@router.get("/{ticket_id}/messages/{message_id}/html", summary="A message's HTML part, sanitized",
            response_class=HTMLResponse, responses={200: {"content": {"text/html": {}}}})
async def get_message_html(request: Request, caller: CallerDep, ticket_id: Id, message_id: Id) -> Response:
    services = services_of(request)
    html = await services.read(reads.message_html, services.settings, caller, ticket_id, message_id)
    if html is None:
        raise Problem(404, f"ticket #{ticket_id} has no HTML message {message_id} you may see")
    return HTMLResponse(html, headers={"Content-Security-Policy": HTML_CSP, "Cache-Control": "private, no-store"})


def _may_act(services: Any, caller: Caller, ticket_id: int) -> None:
    """404 for a ticket the caller may not see (its existence is not revealed)."""
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None or view_of(services.settings, Person.get_by_id(caller.person_id), ticket, caller.scope) is None:
        raise Problem(404, f"there is no ticket #{ticket_id}")


async def _write(request: Request, caller: Caller, key: str | None, do: Any) -> JSONResponse:
    services = services_of(request)
    print_ = fingerprint(request.method, request.url.path, await request.body())
    status, body, replayed = await services.write(run_once, caller.person_id, check_key(key), print_, do)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if status == 201 and "ticket" in body:
        headers["Location"] = f"/api/v1/tickets/{body['ticket']}"
    return JSONResponse(body, status_code=status, headers=headers)


def _act(services: Any, caller: Caller, how: str, ticket_id: int, body: NoteIn | CommandsIn) -> Any:
    def do() -> tuple[int, dict[str, Any]]:
        _may_act(services, caller, ticket_id)
        service = TicketService(services.env)
        if how == "command":
            receipt = service.command(ticket_id, caller.address, body.text, source="api")
            return 200, receipt.as_dict()
        files = [a.triple() for a in body.attachments] if isinstance(body, NoteIn) else []
        receipt = getattr(service, how)(ticket_id, caller.address, body.text, source="api", attachments=files)
        return 201, receipt.as_dict()
    return do


@router.post("/{ticket_id}/notes", status_code=201, response_model=ReceiptOut,
             summary="Add an internal note (staff only): mailed to staff on the nosy list")
async def post_note(request: Request, caller: CallerDep, ticket_id: Id, body: NoteIn,
                    idempotency_key: KeyHeader = None) -> JSONResponse:
    return await _write(request, caller, idempotency_key, _act(services_of(request), caller, "note", ticket_id, body))


@router.post("/{ticket_id}/replies", status_code=201, response_model=ReceiptOut,
             summary="Add a public reply: mailed to the requester and the nosy list")
async def post_reply(request: Request, caller: CallerDep, ticket_id: Id, body: NoteIn,
                     idempotency_key: KeyHeader = None) -> JSONResponse:
    return await _write(request, caller, idempotency_key, _act(services_of(request), caller, "reply", ticket_id, body))


@router.post("/{ticket_id}/commands", response_model=ReceiptOut,
             summary="Run commands written as in a mail (status: resolved ...); the receipt says what ran")
async def post_commands(request: Request, caller: CallerDep, ticket_id: Id, body: CommandsIn,
                        idempotency_key: KeyHeader = None) -> JSONResponse:
    return await _write(request, caller, idempotency_key,
                        _act(services_of(request), caller, "command", ticket_id, body))


@router.post("", status_code=201, response_model=ReceiptOut,
             summary="Open a ticket for a requester (staff), or for yourself")
async def post_ticket(request: Request, caller: CallerDep, body: TicketIn,
                      idempotency_key: KeyHeader = None) -> JSONResponse:
    services = services_of(request)

    def do() -> tuple[int, dict[str, Any]]:
        person = Person.get_by_id(caller.person_id)
        requester = body.requester.address if body.requester else caller.address
        if requester.lower() != caller.address and staff_queues(services.settings, person) is None:
            raise Problem(403, "only staff open tickets for someone else; leave out requester to open your own")
        receipt = TicketService(services.env).open(OpenRequest(
            actor=caller.address, requester=requester, requester_name=body.requester.name if body.requester else "",
            subject=body.subject, text=body.text, queue=body.queue, acknowledge=body.acknowledge,
            attachments=[a.triple() for a in body.attachments]))
        return 201, receipt.as_dict()

    return await _write(request, caller, idempotency_key, do)
