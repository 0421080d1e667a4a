"""The SLA job: warn about near and breached milestones of open tickets ([[sla]]). Each
warning goes out once: its LifecycleMark is written in the same transaction as the mail. A
breach is also an event in the history."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mailgate.core.changes import SCHEDULE, SYSTEM
from mailgate.core.statuses import ACTIVE
from mailgate.db.models import LifecycleMark, Queue, Ticket
from mailgate.lifecycle.calendar import Calendar
from mailgate.lifecycle.sla import (
    Milestone,
    first_responses,
    milestones,
    responsible,
    stalled_spans,
)
from mailgate.lifecycle.snooze import local_text
from mailgate.mailer import queue_mail
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.sla")

MAX_MAILS_PER_RUN = 500


def check_sla(env: Env, max_mails: int = MAX_MAILS_PER_RUN) -> str:
    """The scheduler job: warn about near and breached milestones of open tickets. Marks
    and first responses are read in bulk; after `max_mails` mails the run stops and the
    next run carries on (the database thread is shared with the mail pipeline)."""
    settings = env.settings
    if not settings.sla:
        return "no [[sla]] targets"
    now = env.now()
    fired = {m.key for m in LifecycleMark.select(LifecycleMark.key).where(LifecycleMark.key.startswith("sla:"))}
    responded = first_responses(settings)
    stalled = stalled_spans(active_only=True)
    calendars: dict[str, Calendar] = {}
    mails = 0
    tickets = (Ticket.select(Ticket, Queue).join(Queue)
               .where(Ticket.status.in_(ACTIVE)).order_by(Ticket.id))
    for ticket in tickets:
        if mails >= max_mails:
            return f"{mails} SLA mail(s); more next run"
        for m in milestones(ticket, settings, responded.get(ticket.id), calendars, stalled.get(ticket.id, []), now):
            if m.met_at is not None or now < m.near:
                continue
            level = "breached" if now >= m.due else "near"
            key = f"sla:{ticket.id}:{m.name}:{level}"
            if key in fired:
                continue
            LifecycleMark.create(key=key, ticket=ticket, at=now)
            if level == "breached":
                # a breach found first (the daemon was down at "near"): no late warning after it
                LifecycleMark.insert(key=f"sla:{ticket.id}:{m.name}:near", ticket=ticket,
                                     at=now).on_conflict_ignore().execute()
                TicketService(env).record(ticket, "sla", None, f"{m.name.replace('_', ' ')} breached", actor=SYSTEM,
                                          source=SCHEDULE)
            mails += _tell(env, ticket, m, level)
            log.info("ticket #%s SLA %s %s (stage lifecycle)", ticket.id, m.name, level,
                     extra={"stage": "lifecycle"})
    return f"{mails} SLA mail(s)"


def _tell(env: Env, ticket: Ticket, m: Milestone, level: str) -> int:
    people = responsible(env.settings, ticket)
    q = env.settings.queue_named(ticket.queue.name)
    due = local_text(m.due, ZoneInfo(q.timezone if q else "UTC"))
    for person in people:
        queue_mail(env, ticket=ticket, kind=f"sla-{level}", recipient=person, template="sla.txt.j2",
                   context={"milestone": m.name.replace("_", " "), "level": level, "due": due})
    return len(people)
