"""Tickets, outbox and quarantine as plain dicts: the stable JSON contract of the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from mailgate.db.models import (
    AlertGroup,
    Attachment,
    Event,
    Message,
    Nosy,
    Outbox,
    Person,
    Quarantine,
    Ticket,
    TicketTag,
)
from mailgate.safe_text import safe_filename


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt and dt.tzinfo is None else (dt.isoformat() if dt else None)


def _addr(person: Person | None) -> str | None:
    return person.address if person else None


def ticket_summary(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id, "subject": t.subject, "status": t.status, "priority": t.priority,
        "queue": t.queue.name, "owner": _addr(t.owner), "requester": _addr(t.requester),
        "created_at": _iso(t.created_at), "updated_at": _iso(t.updated_at),
    }


def message_dict(m: Message, attachments: list[Attachment] | None = None) -> dict[str, Any]:
    """`attachments`: the message's rows when the caller fetched them already (in id order)."""
    if attachments is None:
        attachments = list(Attachment.select().where(Attachment.message == m).order_by(Attachment.id))
    return {
        "id": m.id, "message_id": m.message_id, "direction": m.direction, "from": m.sender,
        "to": m.recipients or [], "date": _iso(m.date), "subject": m.subject, "body": m.body,
        "quoted": m.quoted, "signature": m.signature, "thread_signal": m.thread_signal,
        "auto_class": m.auto_class, "internal": bool(m.internal), "has_html": bool(m.html),
        "attachments": [
            # filename: as the sender wrote it (for the record); safe_name: what we emit
            # (downloads' Content-Disposition, listings): a safe base name
            {"id": a.id, "filename": a.filename, "safe_name": safe_filename(a.filename),
             "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256, "content_id": a.content_id or None}
            for a in attachments
        ],
    }


def ticket_detail(t: Ticket) -> dict[str, Any]:
    """A fixed number of statements whatever the ticket's length: the attachments of all its
    messages in one query, and the events with their message's Message-ID joined in (one
    query per message and per event before: 29 statements for a ticket of 10 messages,
    bench/api.py)."""
    data = ticket_summary(t)
    data["parent"] = t.parent_id
    data["children"] = [c.id for c in Ticket.select(Ticket.id).where(Ticket.parent == t).order_by(Ticket.id)]
    data["nosy"] = [n.person.address for n in Nosy.select(Nosy, Person).join(Person).where(Nosy.ticket == t).order_by(Person.address)]
    files: dict[int, list[Attachment]] = {}
    for a in (Attachment.select().join(Message, on=(Attachment.message == Message.id))
              .where(Message.ticket == t).order_by(Attachment.id)):
        files.setdefault(a.message_id, []).append(a)
    data["messages"] = [message_dict(m, files.get(m.id, []))
                        for m in Message.select().where(Message.ticket == t).order_by(Message.id)]
    data["events"] = [
        {"at": _iso(at), "actor": actor, "field": field, "old": old, "new": new, "message_id": message_id,
         "source": source or None}
        for at, actor, field, old, new, message_id, source in (
            Event.select(Event.at, Event.actor, Event.field, Event.old, Event.new, Message.message_id, Event.source)
            .join(Message, pw.JOIN.LEFT_OUTER, on=(Event.message == Message.id))
            .where(Event.ticket == t).order_by(Event.id).tuples())
    ]
    data["links"] = [{"ticket": lk.other_id, "kind": lk.kind} for lk in t.links]
    data["tags"] = sorted(tag.name for tag in TicketTag.select().where(TicketTag.ticket == t))
    data["alert"] = _alert(t)
    return data


def _alert(t: Ticket) -> dict[str, Any] | None:
    """The monitoring problem grouped on this ticket: repeats are counted here, not stored
    as messages, so this is where a technician sees how often it fired."""
    group = AlertGroup.select().where(AlertGroup.ticket == t).order_by(AlertGroup.id.desc()).first()
    if group is None:
        return None
    return {"fingerprint": group.fingerprint, "state": group.state, "state_text": group.state_text,
            "occurrences": group.occurrences, "reopened": group.reopened,
            "first_seen": _iso(group.first_seen), "last_seen": _iso(group.last_seen)}


def outbox_dict(o: Outbox) -> dict[str, Any]:
    return {"id": o.id, "ticket": o.ticket_id, "kind": o.kind, "recipients": o.recipients or [],
            "state": o.state, "attempts": o.attempts, "last_error": o.last_error or None,
            "message": o.message}


def quarantine_dict(q: Quarantine) -> dict[str, Any]:
    return {"id": q.id, "sha256": q.raw_sha256, "source": q.source, "recipients": q.recipients or [],
            "stage": q.stage, "error": q.error, "state": q.state, "created_at": _iso(q.created_at)}
