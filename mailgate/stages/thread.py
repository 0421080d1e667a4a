"""Find the ticket a message belongs to; record which signal matched (Message.thread_signal).

Signals, strongest first:

    reply-token     a valid signed reply address (found by Addressing, checked here)
    message-id      In-Reply-To / References name a stored message, inbound or outbound
    subject-tag     "[Helpdesk #12]", only from the requester, a nosy person or staff
    thread-index    Outlook's conversation index ([threading] outlook_thread_index)
    subject-window  same requester, same subject, recently ([threading] subject_window_hours)
    new             none matched: a new ticket

A subject tag alone from a stranger never appends to someone else's ticket: it opens a new
ticket linked to the one it names. A reply to a ticket closed longer than
closed_reopen_days opens a new, linked ticket. Bounces and auto-replies never open a ticket:
one that matches nothing is held in the quarantine with the reason (kept, never lost).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from mailgate.bounces import attribute_bounce
from mailgate.core.message import Inbound, ParsedMessage
from mailgate.core.statuses import ACTIVE, ENDED
from mailgate.db import fastsql
from mailgate.db.models import Message, Nosy, Person, Ticket
from mailgate.lifecycle.merge import final_ticket
from mailgate.people import is_staff
from mailgate.stages.classify import AUTO_REPLY, BOUNCE, LIST, MACHINE_ANSWERS
from mailgate.stages.rows import ticket_of
from mailgate.subject import find_ticket_number, normalize

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.thread")

MAX_LOOKUP_IDS = 200


class Unattributable(Exception):  # noqa: N818 - the quarantine shows the name as the reason
    """Automatic mail (bounce, auto-reply) that names no ticket of ours: held, not a ticket."""


def by_message_ids(p: ParsedMessage) -> tuple[int, bool] | None:
    """(ticket, whether any id it names is one of our own outgoing mails) for the most
    specific stored message this one refers to: In-Reply-To first, then References from the
    newest back to the root. Our outgoing Message-IDs are random and reach only the people
    we mailed; the requester's own Message-ID can be known to anyone who was in Cc or reads
    a list archive, so it alone proves nothing about the sender."""
    # the 200 most specific ids: a hostile References header cannot make a statement too large
    ordered = list(dict.fromkeys([*p.in_reply_to, *reversed(p.references)]))[:MAX_LOOKUP_IDS]
    if not ordered:
        return None
    n = len(ordered)
    # one statement (its text cached per number of ids): stored messages, newest first, then roots
    rows = fastsql.rows(Message, ("thread-by-ids", n), lambda s: (
        f"SELECT 0, {s.c(Message.message_id)}, {s.c(Message.ticket)}, {s.c(Message.id)}, {s.c(Message.direction)}"
        f" FROM {s.t(Message)} WHERE {s.c(Message.message_id)} IN ({s.ps(n)}) AND {s.c(Message.ticket)} IS NOT NULL"
        f" UNION ALL SELECT 1, {s.c(Ticket.root_message_id)}, {s.c(Ticket.id)}, 0, 'in' FROM {s.t(Ticket)}"
        f" WHERE {s.c(Ticket.root_message_id)} IN ({s.ps(n)}) ORDER BY 1, 4 DESC"), [*ordered, *ordered])
    found: dict[str, int] = {}
    ours: set[int] = set()
    for _, message_id, ticket_id, _, direction in rows:
        found.setdefault(message_id, ticket_id)
        if direction == "out":
            ours.add(ticket_id)
    ticket = next((found[mid] for mid in ordered if mid in found), None)
    return None if ticket is None else (ticket, ticket in ours)


def knows_ticket(ticket: Ticket, address: str, env: Env) -> bool:
    """Requester, nosy or staff: the people a bare subject tag is trusted from."""
    if not address:
        return False
    if ticket.requester.address == address or is_staff(env.settings, address):
        return True
    return (Nosy.select().join(Person)
            .where(Nosy.ticket == ticket, Person.address == address).exists())


def thread_index_key(value: str | None) -> str:
    """Outlook's conversation key: the first 22 bytes of the base64 Thread-Index, as hex."""
    if not value:
        return ""
    try:
        data = base64.b64decode("".join(value.split()) + "==", validate=False)
    except (binascii.Error, ValueError):
        return ""
    return data[:22].hex() if len(data) >= 22 else ""


class Thread:
    name = "thread"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None
        self._check_token(msg, p)
        if msg.auto_class == BOUNCE and msg.ticket_id is None:
            found = attribute_bounce(p, env)
            if found is None:
                raise Unattributable(
                    f"a bounce naming no message or ticket of ours (from {p.from_addr or 'nobody'}); "
                    "held here instead of opening a ticket")
            msg.ticket_id, msg.thread_signal = found
        if msg.ticket_id is None:
            self._by_message_ids(msg, p, env)
        if msg.ticket_id is None and not msg.link_to:
            self._by_subject_tag(msg, p, env)
        threading = env.settings.threading
        if msg.ticket_id is None and threading.outlook_thread_index:
            self._by_thread_index(msg, p, env)
        if msg.ticket_id is None and threading.subject_window_hours > 0 and not msg.link_to:
            self._by_subject_window(msg, p, env)
        if msg.ticket_id is None and msg.auto_class == AUTO_REPLY:
            raise Unattributable(
                f"an automatic reply matching no ticket (from {p.from_addr or 'nobody'}); "
                "held here instead of opening a ticket")
        if msg.ticket_id is not None:  # a merged ticket's mail goes to the one it was merged into (issue 7)
            msg.ticket_id = final_ticket(msg.ticket_id)
        if msg.ticket_id is not None and msg.auto_class not in MACHINE_ANSWERS:
            self._follow_closed(msg, env)
        if msg.ticket_id is None:
            msg.thread_signal = msg.thread_signal or "new"
        if msg.ticket_id is None:
            log.info("message %s threaded: %s, a new ticket (stage thread)", p.message_id, msg.thread_signal)
        else:
            log.info("message %s threaded: %s ticket #%s (stage thread)", p.message_id, msg.thread_signal,
                     msg.ticket_id)

    def _check_token(self, msg: Inbound, p: ParsedMessage) -> None:
        """A token whose ticket or person is gone is stale: ignored (and logged)."""
        if msg.ticket_id is None:
            return
        ticket_ok = Ticket.select().where(Ticket.id == msg.ticket_id).exists()
        person_ok = msg.token_person_id is None or Person.select().where(Person.id == msg.token_person_id).exists()
        if not (ticket_ok and person_ok):
            log.warning("message %s: stale reply token (ticket #%s, person %s); ignored (stage thread)",
                        p.message_id, msg.ticket_id, msg.token_person_id)
            msg.ticket_id, msg.token_person_id, msg.thread_signal = None, None, ""

    def _by_message_ids(self, msg: Inbound, p: ParsedMessage, env: Env) -> None:
        found = by_message_ids(p)
        if found is None:
            return
        tid, answers_our_mail = found
        person_mail = msg.auto_class in ("", LIST)  # automatic mail never joins a nosy list anyway
        if answers_our_mail or not person_mail:
            msg.ticket_id, msg.thread_signal = tid, "message-id"
            return
        ticket = Ticket.get_or_none(Ticket.id == final_ticket(tid))
        if ticket is None or knows_ticket(ticket, p.from_addr, env):
            msg.ticket_id, msg.thread_signal = tid, "message-id"
            return
        # someone who knows the requester's Message-ID (a Cc, a list archive) but was never
        # mailed by us: a new ticket linked to that one, never a seat on its nosy list
        log.warning("message %s: refers to ticket #%s by a Message-ID that is not ours, but %s is not on it; "
                    "opening a linked ticket (stage thread)", p.message_id, ticket.id, p.from_addr)
        msg.link_to.append((ticket.id, "related"))
        msg.thread_signal = "new-stranger-reply"
        msg.notes.append(f"Your message answered a mail on ticket #{ticket.id}, which belongs to someone else, "
                         "so a new ticket was opened for you and linked to it.")

    def _by_subject_tag(self, msg: Inbound, p: ParsedMessage, env: Env) -> None:
        number = find_ticket_number(p.subject, env.settings.gateway.subject_tag)
        if number:
            # the tag of a merged ticket: its nosy list moved on, so trust is checked there
            number = final_ticket(number)
        ticket = Ticket.get_or_none(Ticket.id == number) if number else None
        if ticket is None:
            return
        if knows_ticket(ticket, p.from_addr, env):
            msg.ticket_id, msg.thread_signal = ticket.id, "subject-tag"
            return
        log.warning("message %s: subject names ticket #%s but %s is not on it; opening a linked ticket "
                    "(stage thread)", p.message_id, ticket.id, p.from_addr)
        msg.link_to.append((ticket.id, "related"))
        msg.thread_signal = "new-stranger-tag"
        msg.notes.append(
            f"Your message mentioned ticket #{ticket.id}, which belongs to someone else, "
            "so a new ticket was opened for you and linked to it."
        )

    def _by_thread_index(self, msg: Inbound, p: ParsedMessage, env: Env) -> None:
        key = thread_index_key(p.header("Thread-Index"))
        if not key:
            return
        row = (Message.select(Message.ticket).where(Message.thread_index == key, Message.ticket.is_null(False))
               .order_by(Message.id.desc()).first())
        if row is not None and knows_ticket(row.ticket, p.from_addr, env):
            msg.ticket_id, msg.thread_signal = row.ticket_id, "thread-index"

    def _by_subject_window(self, msg: Inbound, p: ParsedMessage, env: Env) -> None:
        title = normalize(p.subject, env.settings.gateway.subject_tag)
        if not title or not p.from_addr:
            return
        since = env.clock().replace(tzinfo=None) - timedelta(hours=env.settings.threading.subject_window_hours)
        candidates = (Ticket.select().join(Person, on=Ticket.requester == Person.id)
                      .where(Person.address == p.from_addr, Ticket.updated_at >= since,
                             Ticket.status.in_(ACTIVE))
                      .order_by(Ticket.updated_at.desc()))
        for ticket in candidates:
            if normalize(ticket.subject, env.settings.gateway.subject_tag) == title:
                msg.ticket_id, msg.thread_signal = ticket.id, "subject-window"
                return

    def _follow_closed(self, msg: Inbound, env: Env) -> None:
        ticket = ticket_of(msg)  # kept for Store and the stages after it
        days = env.settings.threading.closed_reopen_days
        now = env.clock().replace(tzinfo=None)
        # archived tickets are read-only (issue 7): a reply always opens a new, linked ticket
        if ticket.status == "archived" or (
                ticket.status in ENDED and ticket.updated_at < now - timedelta(days=days)):
            msg.link_to.append((ticket.id, "follows-up"))
            word = "archived" if ticket.status == "archived" else "closed"
            msg.notes.append(f"Ticket #{ticket.id} was {word}, so a new ticket was opened for your message "
                             "and linked to it.")
            msg.ticket_id, msg.thread_signal = None, f"new-after-closed:{msg.thread_signal}"
