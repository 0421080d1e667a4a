"""The rows one message works on, fetched once per message and handed from stage to stage.

Thread, Store, RuleActions, Commands, Lifecycle and Notify all need the message's ticket
and its sender. Fetching them again in every stage cost about 24 queries a message (the
ticket 3x, its queue and requester once per fresh Ticket object, the sender's Person 2x).
The objects live on the `Inbound` only, so nothing outlives the message (or its
transaction: a rolled-back message is quarantined or retried with a new `Inbound`).

Stages change the ticket through this object and `save()` it, so a later stage sees the
earlier stage's changes without a re-read. `act_of` builds the ticket service's Act for the
commands, lifecycle and notify stages once, from the stored message.
"""

from __future__ import annotations

from mailgate.core.changes import MAIL
from mailgate.core.message import Inbound
from mailgate.db.locks import lock_row
from mailgate.db.models import Person, Ticket
from mailgate.people import person_for
from mailgate.tickets import Act


def ticket_of(msg: Inbound) -> Ticket:
    """The ticket `msg.ticket_id` names (a merge or a closed ticket changes the id: then the
    row is fetched again), locked until the message's commit: two replies to one ticket on
    two nodes then change it one after the other, each seeing the other's change."""
    assert msg.ticket_id is not None
    cached = msg.ticket_row
    if cached is None or cached.id != msg.ticket_id:
        cached = lock_row(Ticket, msg.ticket_id)
        msg.ticket_row = cached
    return cached


def remember_ticket(msg: Inbound, ticket: Ticket) -> None:
    msg.ticket_row = ticket


def sender_of(msg: Inbound) -> Person:
    """The sender's Person row (created on first use), as `person_for` gives it."""
    p = msg.parsed
    assert p is not None
    if msg.sender_row is None:
        msg.sender_row = person_for(p.from_addr or "unknown@invalid", p.from_name)
    return msg.sender_row


def act_of(msg: Inbound) -> Act:
    """The mail as an act of its sender on its ticket (built once; the stages after Store)."""
    if msg.act is None:
        p = msg.parsed
        assert p is not None
        msg.act = Act(
            ticket=ticket_of(msg), actor=sender_of(msg), source=MAIL, author=(p.from_addr or "").lower(),
            author_name=p.from_name, text=msg.text, message=msg.message_row, message_id=p.message_id,
            mail=p, token_person_id=msg.token_person_id, subject=p.subject, created=msg.created,
            auto=bool(msg.auto_class), has_attachments=bool(p.attachments), notes=msg.notes,
            changes=msg.changes,
        )
    return msg.act


def sync_from_act(msg: Inbound, act: Act) -> None:
    """What the service decided, back on the message (the pipeline's outcome reads it)."""
    msg.body, msg.internal, msg.command_report = act.body, act.internal, act.report
    if act.ticket.id != msg.ticket_id:  # a `merge:` moved the ticket
        msg.ticket_id, msg.ticket_row = act.ticket.id, act.ticket
