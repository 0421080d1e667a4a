"""Which of our mails bounced, and who is no longer reachable.

A bounce is attributed through what it carries of the mail that bounced, strongest first:
the returned headers' Message-ID (one of our outbox messages), then the References/In-Reply-To
of the bounce itself or of the returned headers naming one of our outgoing mails. Our
X-Mailgate-Ticket header alone attaches nothing: anyone can write it into a fake bounce (the
bounce is held in the quarantine instead). A recipient is marked bouncing only
for a permanent failure (DSN Action: failed) and only when the bounced mail was really sent
to that address by us: a forged bounce cannot silence someone's alerts.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from mailgate.core.message import ParsedMessage
from mailgate.db.models import Message, Person
from mailgate.parse import message_ids, parse_headers

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.bounces")

_QUOTED_ID = re.compile(r"^\s*>?\s*Message-ID:\s*(<[^>\s]+>)", re.I | re.M)
# plain-text bounces name the failed address in many ways; only these are trusted
_TEXT_FAILED = re.compile(r"<([^<>@\s]+@[^<>\s]+)>:?\s*\n?.*?(?:user unknown|does not exist|no such user|"
                          r"mailbox unavailable|recipient address rejected)", re.I)


def _returned(p: ParsedMessage, name: str) -> list[str]:
    """A header of the returned mail: from the DSN, or from a message/rfc822 attachment
    (Exchange and some appliances bounce without multipart/report)."""
    headers = list(p.report.original_headers) if p.report is not None else []
    for att in p.attachments:
        if att.content_type == "message/rfc822":
            headers += parse_headers(att.payload)
    return [v for k, v in headers if k.lower() == name.lower()]


def _our_message(ids: list[str]) -> Message | None:
    if not ids:
        return None
    return (Message.select().where(Message.message_id.in_(ids), Message.direction == "out",
                                   Message.ticket.is_null(False)).order_by(Message.id.desc()).first())


def failed_addresses(p: ParsedMessage) -> list[str]:
    if p.report is not None and (p.report.failed or p.report.delayed):
        return list(p.report.failed)
    return [m.group(1).lower() for m in _TEXT_FAILED.finditer(p.text_plain[:20000])]


def attribute_bounce(p: ParsedMessage, env: Env) -> tuple[int, str] | None:
    """(ticket id, thread signal) for a bounce, marking failed recipients; None if unknown."""
    text = p.text_plain[:200_000]
    original_ids = [i for v in _returned(p, "Message-ID") for i in message_ids(v)]
    original_ids += [i for m in _QUOTED_ID.finditer(text) for i in message_ids(m.group(1))]
    sent = _our_message(original_ids)
    if sent is not None:
        _mark_bouncing(p, sent.ticket_id, list(sent.recipients or []), env)
        return sent.ticket_id, "bounce:message-id"
    refs = [i for v in _returned(p, "References") + _returned(p, "In-Reply-To") for i in message_ids(v)]
    sent = _our_message(list(p.in_reply_to) + list(reversed(p.references)) + refs)
    if sent is not None:
        _mark_bouncing(p, sent.ticket_id, list(sent.recipients or []), env)
        return sent.ticket_id, "bounce:references"
    # an X-Mailgate-Ticket header alone is not enough: anyone can write one into a fake
    # bounce, so a bounce attaches only by a Message-ID of ours (or a reply address, which
    # the addressing stage checks before this)
    return None


def _mark_bouncing(p: ParsedMessage, ticket_id: int, sent_to: list[str], env: Env) -> None:
    sent_to = [a.lower() for a in sent_to]
    for address in failed_addresses(p):
        if address not in sent_to:
            log.warning("message %s: bounce names %s, to whom the bounced mail was not sent; not marked "
                        "(stage thread)", p.message_id, address)
            continue
        updated = Person.update(bouncing=True).where(Person.address == address, Person.bouncing == False)  # noqa: E712
        if updated.execute():
            log.warning("message %s: %s marked bouncing (ticket #%s, stage thread)", p.message_id, address,
                        ticket_id)
