"""Opening a ticket through a front door (the API): the same rows, history and mail as a
new ticket by mail gets, with the act's source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailgate.core.changes import CommandReport, Verdict
from mailgate.core.errors import Invalid
from mailgate.db.models import Outbox, Queue, Ticket
from mailgate.history import record_change
from mailgate.nosy import insert_nosy, is_own_address
from mailgate.people import person_for
from mailgate.subject import clean_subject
from mailgate.tickets.act import Act, Receipt
from mailgate.tickets.notify import alerts, notify
from mailgate.tickets.store import store_message

if TYPE_CHECKING:
    from mailgate.env import Env


@dataclass(frozen=True)
class OpenRequest:
    actor: str  # who opens it (a staff member, or the requester themselves)
    requester: str
    subject: str
    text: str
    source: str = "api"
    requester_name: str = ""
    queue: str = ""  # "" = the first configured queue
    acknowledge: bool = True  # mail the requester the acknowledgement
    attachments: Sequence[tuple[str, str, bytes]] = ()


def open_ticket(env: Env, req: OpenRequest) -> Receipt:
    settings = env.settings
    queue = settings.queue_named(req.queue) if req.queue else settings.queues[0]
    if queue is None:
        raise Invalid(f"queue: unknown queue {req.queue!r} (known: {', '.join(q.name for q in settings.queues)})")
    address = req.requester.strip().lower()
    if "@" not in address or is_own_address(settings, address):
        raise Invalid(f"requester: expected the requester's own email address, got {req.requester!r}")
    subject = clean_subject(req.subject, settings.gateway.subject_tag)
    if not subject.strip() and not req.text.strip():
        raise Invalid("subject: a new ticket needs a subject or a text")
    first_outbox = Outbox.select(Outbox.id).order_by(Outbox.id.desc()).scalar() or 0
    requester = person_for(address, req.requester_name)
    actor = person_for(req.actor)
    now = env.now()
    ticket = Ticket.create(queue=Queue.named(queue.name, queue.address), subject=subject, status="new",
                           priority=queue.default_priority, requester=requester, created_at=now, updated_at=now)
    message = store_message(env, ticket, actor, req.text, req.source, False, req.attachments)
    ticket.root_message_id = message.message_id
    ticket.save()
    record_change(env, ticket, "created", None, ticket.subject, actor=actor.address, source=req.source,
                  message=message)
    insert_nosy(ticket.id, requester.id)
    act = Act(ticket=ticket, actor=actor, source=req.source, author=actor.address, author_name=actor.name,
              text=req.text, message=message, message_id=message.message_id,
              verdict=Verdict(True, req.source), commands=False, created=True,
              has_attachments=bool(req.attachments))
    if req.acknowledge:
        notify(env, act, [])
    else:
        alerts(env, act, [])
    queued = Outbox.select(Outbox.id).where(Outbox.id > first_outbox).order_by(Outbox.id)
    return Receipt(ticket=ticket.id, message_id=message.message_id, internal=False, report=CommandReport(),
                   changes=(), outbox=tuple(o.id for o in queued))
