"""The API's reads, run in a reader thread: what a caller may see, in the shapes of the CLI's
JSON (mailgate.views), filtered by mailgate.access.visibility."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee as pw

from mailgate.access.visibility import PUBLIC, public_detail, readable, view_of
from mailgate.attachments import attachment_path
from mailgate.config import Settings
from mailgate.db.models import Attachment, Message, Person, Queue, Ticket
from mailgate.http.auth import Caller
from mailgate.lifecycle.view import lifecycle_fields
from mailgate.views import ticket_detail

Owner, Requester = Person.alias("owner_p"), Person.alias("requester_p")
MAX_ID = 2**31 - 1  # PostgreSQL's serial ids end here; larger numbers name nothing


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    queue: str | None = None
    owner: str | None = None  # an address, "me" or "none"
    requester: str | None = None
    updated_since: datetime | None = None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt else None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = data["before"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def ticket_page(settings: Settings, caller: Caller, f: Filters, limit: int, before: int | None) -> dict[str, Any]:
    """Newest first; one query with the queue, owner and requester joined in."""
    person = Person.get_by_id(caller.person_id)
    query = (Ticket.select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.created_at,
                           Ticket.updated_at, Queue.name, Owner.address, Requester.address)
             .join(Queue).switch(Ticket)
             .join(Owner, pw.JOIN.LEFT_OUTER, on=(Ticket.owner == Owner.id)).switch(Ticket)
             .join(Requester, on=(Ticket.requester == Requester.id)))
    query = readable(settings, person, query, caller.scope)
    if f.status:
        query = query.where(Ticket.status == f.status)
    elif not f.requester:
        query = query.where(Ticket.status.not_in(("archived", "merged")))
    if f.queue:
        query = query.where(Queue.name == f.queue)
    if f.owner == "none":
        query = query.where(Ticket.owner.is_null())
    elif f.owner:
        query = query.where(Owner.address == (person.address if f.owner == "me" else f.owner.lower()))
    if f.requester:
        query = query.where(Requester.address == f.requester.lower())
    if f.updated_since:
        query = query.where(Ticket.updated_at >= f.updated_since.replace(tzinfo=None))
    if before:
        query = query.where(Ticket.id < before)
    rows = list(query.order_by(Ticket.id.desc()).limit(limit + 1).tuples())
    items = [{"id": r[0], "subject": r[1], "status": r[2], "priority": r[3], "queue": r[6], "owner": r[7],
              "requester": r[8], "created_at": _iso(r[4]), "updated_at": _iso(r[5])} for r in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more and items else None}


def _readable_ticket(settings: Settings, caller: Caller, ticket_id: int) -> tuple[Ticket, Person, str] | None:
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        return None
    person = Person.get_by_id(caller.person_id)
    view = view_of(settings, person, ticket, caller.scope)
    return (ticket, person, view) if view else None


def ticket_view(settings: Settings, caller: Caller, ticket_id: int) -> dict[str, Any] | None:
    found = _readable_ticket(settings, caller, ticket_id)
    if found is None:
        return None
    ticket, _, view = found
    data = ticket_detail(ticket)
    data.update(lifecycle_fields(ticket, settings))
    return public_detail(data) if view == PUBLIC else data


def message_html(settings: Settings, caller: Caller, ticket_id: int, message_row_id: int) -> str | None:
    """A message's stored HTML (sanitized when it was stored), if the caller may read it."""
    found = _readable_ticket(settings, caller, ticket_id)
    if found is None:
        return None
    _, _, view = found
    m = Message.get_or_none(Message.id == message_row_id, Message.ticket == ticket_id)
    if m is None or not m.html or (view == PUBLIC and (m.internal or m.direction != "in")):
        return None
    return m.html


def attachment_file(settings: Settings, caller: Caller, ticket_id: int, attachment_id: int
                    ) -> tuple[Path, str, str] | None:
    """(path, file name, content type) of an attachment the caller may download."""
    found = _readable_ticket(settings, caller, ticket_id)
    if found is None:
        return None
    _, _, view = found
    att = (Attachment.select(Attachment, Message).join(Message)
           .where(Attachment.id == attachment_id, Message.ticket == ticket_id).first())
    if att is None or (view == PUBLIC and (att.message.internal or att.message.direction != "in")):
        return None
    return attachment_path(settings.attachments_dir, att.sha256), att.filename, att.content_type
