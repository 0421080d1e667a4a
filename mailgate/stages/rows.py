"""The rows one message works on, fetched once per message and handed from stage to stage.

Thread, Store, RuleActions, Commands, Lifecycle and Notify all need the message's ticket
and its sender. Fetching them again in every stage cost about 24 queries a message (the
ticket 3x, its queue and requester once per fresh Ticket object, the sender's Person 2x).
The objects live on the `Inbound` only, so nothing outlives the message (or its
transaction: a rolled-back message is quarantined or retried with a new `Inbound`).

Stages change the ticket through this object and `save()` it, so a later stage sees
the earlier stage's changes without a re-read. A stage that changes the ticket row by a
bulk UPDATE instead must call `forget_ticket`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailgate.db.models import Person, Ticket
    from mailgate.stages.base import Inbound


def ticket_of(msg: Inbound) -> Ticket:
    """The ticket `msg.ticket_id` names (a merge or a closed ticket changes the id: then the
    row is fetched again)."""
    from mailgate.db.models import Ticket

    assert msg.ticket_id is not None
    cached = msg.ticket_row
    if cached is None or cached.id != msg.ticket_id:
        cached = Ticket.get_by_id(msg.ticket_id)
        msg.ticket_row = cached
    return cached


def remember_ticket(msg: Inbound, ticket: Ticket) -> None:
    msg.ticket_row = ticket


def forget_ticket(msg: Inbound) -> None:
    msg.ticket_row = None


def sender_of(msg: Inbound) -> Person:
    """The sender's Person row (created on first use), as `person_for` gives it."""
    from mailgate.people import person_for

    p = msg.parsed
    assert p is not None
    if msg.sender_row is None:
        msg.sender_row = person_for(p.from_addr or "unknown@invalid", p.from_name)
    return msg.sender_row
