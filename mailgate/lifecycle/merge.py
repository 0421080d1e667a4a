"""`merge: #N`: a duplicate ticket merged into another. Its messages, history and nosy list
move to the surviving ticket, its children are re-parented, and a `TicketMerge` row makes
mail that still names the old ticket (its number in the subject, its reply addresses, its
root Message-ID) thread to the new one: the thread stage calls `final_ticket`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.db import fastsql
from mailgate.db.models import AlertGroup, Event, Message, Nosy, Snooze, Ticket, TicketMerge
from mailgate.history import record_change

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.merge")

MAX_HOPS = 100


def final_ticket(ticket_id: int) -> int:
    """Follow merges from `ticket_id` to the ticket that survives."""
    seen = {ticket_id}
    current = ticket_id
    for _ in range(MAX_HOPS):
        # every message asks (the thread stage): the statement's text is cached
        found = fastsql.rows(TicketMerge, "new-of-old", lambda s: (
            f"SELECT {s.c(TicketMerge.new)} FROM {s.t(TicketMerge)} WHERE {s.c(TicketMerge.old)} = {s.p}"),
            [current])
        if not found or found[0][0] in seen:
            return current
        current = found[0][0]
        seen.add(current)
    return current


def merged_into(ticket: Ticket) -> int | None:
    row = TicketMerge.get_or_none(TicketMerge.old == ticket)
    return row.new_id if row else None


def merged_from(ticket: Ticket) -> list[int]:
    return [r.old_id for r in TicketMerge.select().where(TicketMerge.new == ticket).order_by(TicketMerge.old)]


def merge(env: Env, old: Ticket, new: Ticket, actor: str, *, source: str) -> None:
    """Move everything of `old` to `new` (the caller has checked they differ and `new` is
    not merged itself). `old` keeps one event saying where it went."""
    Message.update(ticket=new).where(Message.ticket == old).execute()
    Event.update(ticket=new).where(Event.ticket == old).execute()
    for person_id in [n.person_id for n in Nosy.select(Nosy.person).where(Nosy.ticket == old)]:
        Nosy.insert(ticket=new, person=person_id).on_conflict_ignore().execute()
    Ticket.update(parent=new).where(Ticket.parent == old).execute()
    AlertGroup.update(ticket=new).where(AlertGroup.ticket == old).execute()
    Snooze.delete().where(Snooze.ticket == old).execute()
    # merges into `old` now end at `new`, so following them takes one hop
    TicketMerge.update(new=new).where(TicketMerge.new == old).execute()
    TicketMerge.create(old=old, new=new, by=actor, at=env.now())
    status = old.status
    old.status = "merged"
    old.save()
    record_change(env, old, "merged", status, f"#{new.id}", actor=actor, source=source)
    record_change(env, new, "merged", f"#{old.id}", f"#{new.id}", actor=actor, source=source)
    new.updated_at = env.now()
    new.save()
    log.info("ticket #%s merged into #%s by %s (stage commands)", old.id, new.id, actor,
             extra={"stage": "commands"})
