"""Which tickets a person may read, and what of them.

    admin        every ticket, everything on it
    technician   the tickets of their queues (all queues when their [[person]] lists none)
    requester    their own tickets, without internal notes, the history of those notes,
                 our outgoing copies or the staff-only fields (how a mail arrived and threaded)
    anyone else  nothing: the ticket does not exist for them (404, never 403, so ticket
                 numbers cannot be probed)

A session opened by a mail's ticket link sees that one ticket only, with the view its
person has of it; someone on the nosy list who is neither staff of the queue nor the
requester (a colleague in Cc) gets the requester's view of it: what the mails told them.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from mailgate.config import Settings
from mailgate.db.models import Nosy, Person, Queue, Ticket

STAFF, PUBLIC = "staff", "public"
# fields of a message only staff see
STAFF_MESSAGE_FIELDS = ("thread_signal", "auto_class", "source")


def staff_queues(settings: Settings, person: Person) -> tuple[str, ...] | None:
    """The queues a staff member works (every queue for an admin), None for everyone else."""
    entry = settings.person(person.address)
    if entry is None or entry.role not in ("technician", "admin"):
        return None
    if entry.role == "admin" or not entry.queues:
        return tuple(q.name for q in settings.queues)
    return tuple(entry.queues)


def is_admin(settings: Settings, person: Person) -> bool:
    entry = settings.person(person.address)
    return entry is not None and entry.role == "admin"


def view_of(settings: Settings, person: Person, ticket: Ticket, scope: int | None = None) -> str | None:
    """STAFF, PUBLIC or None (may not read it). `scope`: the one ticket a link-session sees."""
    if scope is not None and ticket.id != scope:
        return None
    queues = staff_queues(settings, person)
    if queues is not None and ticket.queue.name in queues:
        return STAFF
    if ticket.requester_id == person.id:
        return PUBLIC
    if scope is not None and Nosy.select().where(Nosy.ticket == ticket, Nosy.person == person).exists():
        return PUBLIC
    return None


def narrows_by_queue(settings: Settings, person: Person, scope: int | None = None) -> bool:
    """Whether `readable` names the Queue (staff of some queues only): a query must then be
    joined with it."""
    if scope is not None:
        return False
    queues = staff_queues(settings, person)
    return queues is not None and not (is_admin(settings, person) or set(queues) >= {q.name for q in settings.queues})


def readable(settings: Settings, person: Person, query: pw.ModelSelect, scope: int | None = None) -> pw.ModelSelect:
    """Narrow a Ticket query (joined with Queue when `narrows_by_queue`) to what `person` may read."""
    if scope is not None:
        return query.where(Ticket.id == scope)
    queues = staff_queues(settings, person)
    if queues is None:
        return query.where(Ticket.requester == person)
    if not narrows_by_queue(settings, person, scope):
        return query
    return query.where((Queue.name.in_(queues)) | (Ticket.requester == person))


def public_detail(data: dict[str, Any]) -> dict[str, Any]:
    """A ticket's detail as its requester may see it (the staff view filtered, so the two
    never disagree on what they share)."""
    internal_ids = {m["message_id"] for m in data["messages"] if m["internal"]}
    messages = []
    for m in data["messages"]:
        if m["internal"] or m["direction"] != "in":
            continue
        messages.append({k: v for k, v in m.items() if k not in STAFF_MESSAGE_FIELDS})
    events = [e for e in data["events"] if e["message_id"] not in internal_ids and e["field"] != "comment"
              and e["field"] not in ("sla", "nosy", "tags", "link", "children", "parent", "merged")]
    shown = {k: v for k, v in data.items() if k not in ("messages", "events", "tree", "links", "tags", "alert",
                                                        "merged_from", "sla")}
    return {**shown, "messages": messages, "events": events}
