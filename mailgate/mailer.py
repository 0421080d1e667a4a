"""Render a template and put the mail in the outbox, inside the caller's transaction.

Every mail the gateway sends goes through here, so each one carries the same headers:
the signed per-recipient Reply-To, the ticket tag, a stored Message-ID, References to the
ticket's root, Auto-Submitted and X-Loop (so our mail coming back is recognised).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailgate.db import fastsql
from mailgate.db.models import Message, Outbox, Person, Ticket
from mailgate.outgoing import compose, new_message_id
from mailgate.stages.base import Env
from mailgate.subject import tagged_subject
from mailgate.tokens import reply_address


def ticket_references(ticket: Ticket) -> list[str]:
    """Root first, then the latest message ids of the ticket."""
    recent = fastsql.rows(Message, "recent-ids", lambda s: (
        f"SELECT {s.c(Message.message_id)} FROM {s.t(Message)} WHERE {s.c(Message.ticket)} = {s.p}"
        f" ORDER BY {s.c(Message.id)} DESC LIMIT 8"), [ticket.id])
    ids = [ticket.root_message_id] + [r[0] for r in reversed(recent)]
    return [i for i in dict.fromkeys(ids) if i]


def queue_mail(
    env: Env,
    *,
    ticket: Ticket,
    kind: str,
    recipient: Person,
    template: str,
    context: dict[str, Any],
    from_name: str | None = None,
    auto_submitted: str = "auto-generated",
    in_reply_to: str | None = None,
    originator: str = "",
    references: list[str] | None = None,
    html_template: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> Outbox:
    """Render `template` (and `html_template` as an HTML alternative) for one recipient and
    write the mail to the outbox. `references` overrides the ticket's thread when the caller
    sends one change to several people (each must not see the others' Message-IDs)."""
    settings = env.settings
    queue_address = ticket.queue.address
    domain = queue_address.partition("@")[2]
    values = dict(ticket=ticket, gateway=settings.gateway, recipient=recipient, **context)
    body = env.templates.get_template(template).render(**values)
    html = env.templates.get_template(html_template).render(**values) if html_template else None
    message_id = new_message_id(domain, ticket.id)
    refs = references if references is not None else ticket_references(ticket)
    headers = {
        "Auto-Submitted": auto_submitted,
        "X-Loop": settings.gateway.address,
        "X-Mailgate-Ticket": str(ticket.id),
        "Precedence": "bulk" if auto_submitted == "auto-generated" else "auto_reply",
        "X-Auto-Response-Suppress": "All",
    }
    if originator:
        headers["X-Mailgate-Originator"] = originator
    subject = tagged_subject(ticket.id, ticket.subject, settings.gateway.subject_tag)
    now = env.clock()
    text = compose(
        from_name=from_name or settings.gateway.name,
        from_addr=queue_address,
        to=[recipient.address],
        reply_to=reply_address(queue_address, settings.gateway.secret, ticket.id, recipient.id),
        subject=subject,
        body=body,
        message_id=message_id,
        date=now,
        in_reply_to=in_reply_to or (refs[-1] if refs else None),
        references=refs,
        headers=headers,
        html=html,
        attachments=attachments,
    )
    Message.create(
        ticket=ticket, message_id=message_id, direction="out", sender=queue_address,
        recipients=[recipient.address], subject=subject, body=body, date=now.replace(tzinfo=None),
        source=f"outbox:{kind}", created_at=now.replace(tzinfo=None),
    )
    return Outbox.create(
        ticket=ticket, kind=kind, sender=queue_address, recipients=[recipient.address],
        message_id=message_id, message=text, created_at=now.replace(tzinfo=None),
        next_attempt_at=now.replace(tzinfo=None),
    )
