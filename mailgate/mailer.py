"""The one outbox writer: render a template and put the mail in the outbox, inside the
caller's transaction.

Every mail the gateway sends is queued here (acknowledgements, receipts, alerts, SLA and
escalation notices, digests, storm and monitoring mail, refusals), so each one carries the
same loop-safe headers: Auto-Submitted, X-Loop, Precedence and X-Auto-Response-Suppress, so
our mail coming back is recognised and autoresponders stay quiet. A ticket's mail also gets
the signed per-recipient Reply-To, the ticket tag, a stored Message-ID and References to the
ticket's root; a mail about no ticket (a digest, a refusal) gets none of those, so a reply to
it reaches the queue address and opens a ticket like any mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mailgate.access.links import ticket_url
from mailgate.db import fastsql
from mailgate.db.models import Message, Outbox, Person, Ticket
from mailgate.outgoing import compose, new_message_id
from mailgate.subject import tagged_subject
from mailgate.tokens import reply_address

if TYPE_CHECKING:
    from mailgate.env import Env


def ticket_references(ticket: Ticket) -> list[str]:
    """Root first, then the latest message ids of the ticket."""
    recent = fastsql.rows(Message, "recent-ids", lambda s: (
        f"SELECT {s.c(Message.message_id)} FROM {s.t(Message)} WHERE {s.c(Message.ticket)} = {s.p}"
        f" ORDER BY {s.c(Message.id)} DESC LIMIT 8"), [ticket.id])
    ids = [ticket.root_message_id] + [r[0] for r in reversed(recent)]
    return [i for i in dict.fromkeys(ids) if i]


def _thread(ticket: Ticket | None, in_reply_to: str | None) -> list[str]:
    if ticket is not None:
        return ticket_references(ticket)
    return [in_reply_to] if in_reply_to else []


def links_on(env: Env) -> bool:
    settings = env.settings
    return settings.web.links_in_mail and settings.listen.http.enabled


def ticket_link(env: Env, ticket: Ticket, recipient: Person | str) -> str:
    """The recipient's own link to the ticket's page ("" when links in mail are off)."""
    if not links_on(env) or not isinstance(recipient, Person):
        return ""
    s = env.settings
    return ticket_url(s.web_base_url, s.gateway.secret, ticket.id, recipient.id, env.now(), s.web.ticket_link_days)


def _headers(env: Env, auto_submitted: str, ticket: Ticket | None, originator: str) -> dict[str, str]:
    headers = {"Auto-Submitted": auto_submitted, "X-Loop": env.settings.gateway.address}
    if ticket is not None:
        headers["X-Mailgate-Ticket"] = str(ticket.id)
    headers["Precedence"] = "bulk" if auto_submitted == "auto-generated" else "auto_reply"
    headers["X-Auto-Response-Suppress"] = "All"
    if originator:
        headers["X-Mailgate-Originator"] = originator
    return headers


def queue_mail(
    env: Env,
    *,
    kind: str,
    recipient: Person | str,
    template: str,
    context: dict[str, Any],
    ticket: Ticket | None = None,
    subject: str = "",
    sender: str = "",
    from_name: str | None = None,
    auto_submitted: str = "auto-generated",
    in_reply_to: str | None = None,
    originator: str = "",
    references: list[str] | None = None,
    html_template: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> Outbox:
    """Render `template` (and `html_template` as an HTML alternative) for one recipient and
    write the mail to the outbox.

    With a `ticket`: from the ticket's queue address, the tagged ticket subject, a signed
    Reply-To for this recipient and the ticket's thread; `references` overrides the thread
    when one change goes to several people (each must not see the others' Message-IDs).
    Without: from `sender` (default: the gateway), with `subject`, in reply to `in_reply_to`."""
    settings = env.settings
    address = recipient.address if isinstance(recipient, Person) else recipient
    values = dict(gateway=settings.gateway, recipient=recipient, **context)
    if ticket is not None:
        values["ticket"] = ticket
        values["ticket_link"] = ticket_link(env, ticket, recipient)
        sender = ticket.queue.address
        subject = tagged_subject(ticket.id, ticket.subject, settings.gateway.subject_tag)
    sender = sender or settings.gateway.address
    body = env.templates.get_template(template).render(**values)
    html = env.templates.get_template(html_template).render(**values) if html_template else None
    message_id = new_message_id(sender.partition("@")[2], ticket.id if ticket is not None else None)
    refs = references if references is not None else _thread(ticket, in_reply_to)
    reply_to = None
    if ticket is not None and isinstance(recipient, Person):
        reply_to = reply_address(sender, settings.gateway.secret, ticket.id, recipient.id)
    now = env.clock()
    text = compose(
        from_name=from_name or settings.gateway.name, from_addr=sender, to=[address], reply_to=reply_to,
        subject=subject, body=body, message_id=message_id, date=now,
        in_reply_to=in_reply_to or (refs[-1] if refs else None), references=refs,
        headers=_headers(env, auto_submitted, ticket, originator), html=html, attachments=attachments,
    )
    stamp = env.now()
    if ticket is not None:  # the ticket's own copy: threading finds replies to it
        Message.create(
            ticket=ticket, message_id=message_id, direction="out", sender=sender, recipients=[address],
            subject=subject, body=body, date=stamp, source=f"outbox:{kind}", created_at=stamp,
        )
    return Outbox.create(
        ticket=ticket, kind=kind, sender=sender, recipients=[address], message_id=message_id,
        message=text, created_at=stamp, next_attempt_at=stamp,
    )
