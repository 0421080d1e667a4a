"""SLA milestones per queue and priority ([[sla]]), in business hours ([calendar]).

Two targets: first response (the first visible message from staff) and resolution (the
ticket resolved, closed or rejected). For each, a "near" mail when `sla_warn_percent` of the
target has passed and a "breached" mail when it has all passed, to the owner or, while
nobody owns the ticket, to the queue's technicians. Each goes out once: its LifecycleMark
is written in the same transaction as the mail. A breach is also an event in the history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from mailgate.config import Settings, SlaSettings
from mailgate.db.models import ACTIVE_STATUSES, LifecycleMark, Message, Person, Ticket
from mailgate.lifecycle.calendar import Calendar
from mailgate.lifecycle.notices import SYSTEM, naive_now, record
from mailgate.lifecycle.snooze import local_text
from mailgate.mailer import queue_mail
from mailgate.people import person_for
from mailgate.stages.base import Env

log = logging.getLogger("mailgate.lifecycle.sla")

MILESTONES = (("first_response", "first response"), ("resolution", "resolution"))


@dataclass(frozen=True)
class Milestone:
    name: str  # first_response | resolution
    due: datetime  # naive UTC
    near: datetime
    met_at: datetime | None


def target(settings: Settings, queue: str, priority: int) -> SlaSettings | None:
    for wanted in (queue, "*"):
        for sla in settings.sla:
            if sla.queue == wanted and sla.priority == priority:
                return sla
    return None


def first_response_at(ticket: Ticket, settings: Settings) -> datetime | None:
    staff = [p.address.lower() for p in settings.people if p.role in ("technician", "admin")]
    if not staff:
        return None
    row = (Message.select(Message.created_at)
           .where(Message.ticket == ticket, Message.direction == "in", Message.sender.in_(staff),
                  Message.internal == False)  # noqa: E712 - peewee expression
           .order_by(Message.id).first())
    return row.created_at if row else None


def milestones(ticket: Ticket, settings: Settings) -> list[Milestone]:
    sla = target(settings, ticket.queue.name, ticket.priority)
    if sla is None:
        return []
    q = settings.queue_named(ticket.queue.name)
    cal = Calendar.from_settings(settings.calendar, q.timezone if q else "UTC")
    share = settings.lifecycle.sla_warn_percent / 100
    found = []
    for name, _ in MILESTONES:
        hours = getattr(sla, f"{name}_hours")
        if hours <= 0:
            continue
        met = first_response_at(ticket, settings) if name == "first_response" else (
            None if ticket.status in ACTIVE_STATUSES else ticket.updated_at)
        found.append(Milestone(name, cal.add_hours(ticket.created_at, hours),
                               cal.add_hours(ticket.created_at, hours * share), met))
    return found


def technicians(settings: Settings, queue: str) -> list[str]:
    return [p.address for p in settings.people
            if p.role == "technician" and (not p.queues or queue in p.queues)]


def check_sla(env: Env) -> str:
    """The scheduler job: warn about near and breached milestones of open tickets."""
    settings = env.settings
    if not settings.sla:
        return "no [[sla]] targets"
    now = naive_now(env)
    mails = 0
    for ticket in Ticket.select().where(Ticket.status.in_(ACTIVE_STATUSES)).order_by(Ticket.id):
        for m in milestones(ticket, settings):
            if m.met_at is not None or now < m.near:
                continue
            level = "breached" if now >= m.due else "near"
            key = f"sla:{ticket.id}:{m.name}:{level}"
            if LifecycleMark.select().where(LifecycleMark.key == key).exists():
                continue
            LifecycleMark.create(key=key, ticket=ticket, at=now)
            if level == "breached":
                # a breach found first (the daemon was down at "near"): no late warning after it
                LifecycleMark.insert(key=f"sla:{ticket.id}:{m.name}:near", ticket=ticket,
                                     at=now).on_conflict_ignore().execute()
                record(env, ticket, "sla", None, f"{m.name.replace('_', ' ')} breached", actor=SYSTEM)
            mails += _tell(env, ticket, m, level)
            log.info("ticket #%s SLA %s %s (stage lifecycle)", ticket.id, m.name, level,
                     extra={"stage": "lifecycle"})
    return f"{mails} SLA mail(s)"


def _tell(env: Env, ticket: Ticket, m: Milestone, level: str) -> int:
    owner: Person | None = ticket.owner
    people = [owner] if owner is not None else [person_for(a) for a in technicians(env.settings, ticket.queue.name)]
    q = env.settings.queue_named(ticket.queue.name)
    due = local_text(m.due, ZoneInfo(q.timezone if q else "UTC"))
    for person in people:
        queue_mail(env, ticket=ticket, kind=f"sla-{level}", recipient=person, template="sla.txt.j2",
                   context={"milestone": m.name.replace("_", " "), "level": level, "due": due})
    return len(people)
