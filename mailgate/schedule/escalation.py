"""Escalation: a ticket without any update for `[[queue]] escalate_after_hours` goes up one
priority step (4 → 3 → 2 → 1), recorded as an event by "system", and its owner (or, while
unowned, the queue's technicians) gets one mail per step. The escalation event is
itself the latest update, so the next step comes only after another full period: a restart
or a second run in the same minute cannot raise it twice."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import peewee as pw

from mailgate.core.changes import SCHEDULE, SYSTEM
from mailgate.db.locks import lock_row
from mailgate.db.models import Event, Queue, Ticket
from mailgate.lifecycle.sla import responsible
from mailgate.mailer import queue_mail
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.escalation")

ESCALATING = ("new", "open")  # a stalled (snoozed) ticket is waiting on purpose


def escalate(env: Env) -> str:
    now = env.now()
    service = TicketService(env)
    raised = []
    for q in env.settings.queues:
        if q.escalate_after_hours <= 0:
            continue
        cutoff = now - timedelta(hours=q.escalate_after_hours)
        # one query: tickets whose last message and last event (an SLA warning is not an
        # update) are both older than the cutoff
        last = (Event.select(Event.ticket, pw.fn.MAX(Event.at).alias("last_at"))
                .where(Event.field != "sla").group_by(Event.ticket).alias("last_event"))
        candidates = (Ticket.select().join(Queue).switch(Ticket)
                      .join(last, pw.JOIN.LEFT_OUTER, on=(last.c.ticket_id == Ticket.id))
                      .where(Queue.name == q.name, Ticket.status.in_(ESCALATING), Ticket.priority > 1,
                             Ticket.updated_at <= cutoff, last.c.last_at.is_null() | (last.c.last_at <= cutoff)))
        for found in candidates:
            # locked, and read again: a reply on another node may have changed it meanwhile
            ticket = lock_row(Ticket, found.id, wait=True)
            if ticket.status not in ESCALATING or ticket.priority <= 1 or ticket.updated_at > cutoff:
                continue
            old = ticket.priority
            # not activity: updated_at stays, the event itself starts the next period
            service.set_field(ticket, "priority", old - 1, actor=SYSTEM, source=SCHEDULE, save=False)
            ticket.save()
            for person in responsible(env.settings, ticket):  # in the same transaction: once per step
                queue_mail(env, ticket=ticket, kind="escalation", recipient=person, template="escalated.txt.j2",
                           context={"old": old, "hours": q.escalate_after_hours})
            log.info("ticket #%s escalated to priority %s after %sh without update (stage lifecycle)",
                     ticket.id, ticket.priority, q.escalate_after_hours, extra={"stage": "lifecycle"})
            raised.append(ticket.id)
    return f"escalated {len(raised)}" + (f": {', '.join(f'#{n}' for n in raised[:20])}" if raised else "") + (
        ", ..." if len(raised) > 20 else "")
