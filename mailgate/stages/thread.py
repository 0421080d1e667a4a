"""Find the ticket a message belongs to; record which signal matched.

Signals, strongest first: signed reply token (set by Addressing), the Message-ID chain,
the subject tag. A subject tag alone from a stranger never appends to someone else's
ticket: it opens a new ticket linked to the one it names.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from mailgate.db.models import Message, Nosy, Person, Ticket
from mailgate.people import is_staff
from mailgate.stages.base import Env, Inbound
from mailgate.subject import find_ticket_number

log = logging.getLogger("mailgate.thread")


def _by_message_ids(ids: tuple[str, ...]) -> int | None:
    if not ids:
        return None
    # newest reference first: the most specific match
    rows = (Message.select(Message.message_id, Message.ticket)
            .where(Message.message_id.in_(list(ids)), Message.ticket.is_null(False)))
    found = {r.message_id: r.ticket_id for r in rows}
    if not found:
        roots = Ticket.select(Ticket.id, Ticket.root_message_id).where(Ticket.root_message_id.in_(list(ids)))
        found = {t.root_message_id: t.id for t in roots}
    for mid in reversed(ids):
        if mid in found:
            return found[mid]
    return None


def _knows_ticket(ticket: Ticket, address: str, env: Env) -> bool:
    """Requester, nosy or staff: the people a bare subject tag is trusted from."""
    if ticket.requester.address == address or is_staff(env.settings, address):
        return True
    return (Nosy.select().join(Person)
            .where(Nosy.ticket == ticket, Person.address == address).exists())


class Thread:
    name = "thread"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None
        if msg.ticket_id is not None and not Ticket.select().where(Ticket.id == msg.ticket_id).exists():
            log.warning("reply token names missing ticket #%s (message %s)", msg.ticket_id, p.message_id)
            msg.ticket_id, msg.thread_signal = None, ""
        if msg.ticket_id is None:
            tid = _by_message_ids(p.in_reply_to + p.references)
            if tid is not None:
                msg.ticket_id, msg.thread_signal = tid, "message-id"
        if msg.ticket_id is None:
            number = find_ticket_number(p.subject, env.settings.gateway.subject_tag)
            ticket = Ticket.get_or_none(Ticket.id == number) if number else None
            if ticket is not None:
                if _knows_ticket(ticket, p.from_addr, env):
                    msg.ticket_id, msg.thread_signal = ticket.id, "subject-tag"
                else:
                    msg.link_to.append((ticket.id, "related"))
                    msg.notes.append(
                        f"Your message mentioned ticket #{ticket.id}, which belongs to someone else, "
                        "so a new ticket was opened and linked to it."
                    )
        if msg.ticket_id is not None:
            self._follow_closed(msg, env)
        if msg.ticket_id is None:
            msg.thread_signal = msg.thread_signal or "new"

    def _follow_closed(self, msg: Inbound, env: Env) -> None:
        ticket = Ticket.get_by_id(msg.ticket_id)
        days = env.settings.threading.closed_reopen_days
        now = env.clock().replace(tzinfo=None)
        if ticket.status in ("closed", "rejected") and ticket.updated_at < now - timedelta(days=days):
            msg.link_to.append((ticket.id, "follows-up"))
            msg.notes.append(f"Ticket #{ticket.id} was closed, so a new ticket was opened for your message.")
            msg.ticket_id, msg.thread_signal = None, f"new-after-closed:{msg.thread_signal}"
