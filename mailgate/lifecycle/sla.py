"""SLA milestones per queue and priority ([[sla]]), in business hours ([calendar]).

Two targets: first response (the first visible message from staff) and resolution (the
ticket resolved, closed or rejected). For each, a "near" mail when `sla_warn_percent` of the
target has passed and a "breached" mail when it has all passed, to the owner or, while
nobody owns the ticket, to the queue's technicians; the timed job that sends them is
mailgate.schedule.sla_watch. Here: the targets, the milestones and who is responsible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from mailgate.config import Settings, SlaSettings
from mailgate.core.statuses import ACTIVE
from mailgate.db.models import Event, Message, Person, Ticket, utcnow
from mailgate.lifecycle.calendar import Calendar
from mailgate.people import person_for

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


def _staff(settings: Settings) -> list[str]:
    return [p.address.lower() for p in settings.people if p.role in ("technician", "admin")]


def first_responses(settings: Settings, ticket_ids: list[int] | None = None) -> dict[int, datetime]:
    """Ticket id -> time of the first visible message from staff (one query for all)."""
    staff = _staff(settings)
    if not staff:
        return {}
    query = (Message.select(Message.ticket, pw.fn.MIN(Message.created_at).alias("first"))
             .where(Message.direction == "in", Message.sender.in_(staff),
                    Message.internal == False)  # noqa: E712 - peewee expression
             .group_by(Message.ticket))
    if ticket_ids is not None:
        query = query.where(Message.ticket.in_(ticket_ids))
    return {r.ticket_id: _as_datetime(r.first) for r in query}


def _as_datetime(value: object) -> datetime:
    # an aggregate comes back as the database's text on SQLite
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


Span = tuple[datetime, datetime | None]  # a stretch in status stalled: start, end (None: still stalled)


def stalled_spans(ticket_ids: list[int] | None = None, active_only: bool = False) -> dict[int, list[Span]]:
    """Ticket id -> its stretches in status `stalled`, from the status events (one query)."""
    query = (Event.select(Event.ticket, Event.at, Event.old, Event.new)
             .where(Event.field == "status", (Event.new == "stalled") | (Event.old == "stalled"))
             .order_by(Event.ticket, Event.at, Event.id))
    if ticket_ids is not None:
        query = query.where(Event.ticket.in_(ticket_ids))
    if active_only:
        query = query.where(Event.ticket.in_(Ticket.select(Ticket.id).where(Ticket.status.in_(ACTIVE))))
    spans: dict[int, list[Span]] = {}
    for e in query:
        mine = spans.setdefault(e.ticket_id, [])
        if e.new == "stalled" and (not mine or mine[-1][1] is not None):
            mine.append((_as_datetime(e.at), None))
        elif e.old == "stalled" and mine and mine[-1][1] is None:
            mine[-1] = (mine[-1][0], _as_datetime(e.at))
    return spans


def milestones(ticket: Ticket, settings: Settings, responded: datetime | None | bool = False,
               calendars: dict[str, Calendar] | None = None, stalled: list[Span] | None = None,
               now: datetime | None = None) -> list[Milestone]:
    """The ticket's SLA milestones; `responded` (first response time, or None), `calendars`
    (per queue) and `stalled` (its stalled stretches) may be passed in by a caller that
    looked them up in bulk. Time spent stalled (waiting on the requester) does not count:
    each target moves by the business hours of those stretches, up to `now` for one that
    has not ended."""
    queue_name = ticket.queue.name
    sla = target(settings, queue_name, ticket.priority)
    if sla is None:
        return []
    cal = (calendars or {}).get(queue_name)
    if cal is None:
        q = settings.queue_named(queue_name)
        cal = Calendar.from_settings(settings.calendar, q.timezone if q else "UTC")
        if calendars is not None:
            calendars[queue_name] = cal
    if responded is False:
        responded = first_responses(settings, [ticket.id]).get(ticket.id)
    if stalled is None:
        stalled = stalled_spans([ticket.id]).get(ticket.id, [])
    until = now or utcnow()
    paused = sum(cal.hours_between(start, end or until) for start, end in stalled)
    share = settings.lifecycle.sla_warn_percent / 100
    found = []
    for name, _ in MILESTONES:
        hours = getattr(sla, f"{name}_hours")
        if hours <= 0:
            continue
        met = responded if name == "first_response" else (
            None if ticket.status in ACTIVE else ticket.updated_at)
        found.append(Milestone(name, cal.add_hours(ticket.created_at, hours + paused),
                               cal.add_hours(ticket.created_at, hours * share + paused), met or None))
    return found


def technicians(settings: Settings, queue: str) -> list[str]:
    return [p.address for p in settings.people
            if p.role == "technician" and (not p.queues or queue in p.queues)]


def responsible(settings: Settings, ticket: Ticket) -> list[Person]:
    """Who is told about a ticket's deadlines and escalations: its owner, or while it has
    none, the queue's technicians."""
    owner: Person | None = ticket.owner
    return [owner] if owner is not None else [person_for(a) for a in technicians(settings, ticket.queue.name)]
