"""The incidents of a date range, each with its start and end, the systems it affects and
the engineer responsible over time (from the ticket's owner changes). An incident's end is
when its ticket last left the active statuses (a recovery or a resolution), while it stays
out of them; an open incident has none. Times are naive UTC, as the store keeps them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from mailgate.core.statuses import ACTIVE
from mailgate.db.incident_models import Incident, IncidentSystem
from mailgate.db.models import Event, Person, Queue, Ticket


@dataclass(frozen=True)
class IncidentRow:
    ticket: int
    subject: str
    kind: str
    status: str
    queue: str
    systems: tuple[str, ...]
    impact: str
    owner: str | None
    owners: tuple[tuple[str | None, datetime], ...]  # (owner, since), oldest first
    start: datetime
    end: datetime | None

    def as_dict(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() + "Z" if d else None  # noqa: E731
        return {"ticket": self.ticket, "subject": self.subject, "kind": self.kind, "status": self.status,
                "queue": self.queue, "systems": list(self.systems), "impact": self.impact, "owner": self.owner,
                "owners": [{"owner": o, "since": iso(s)} for o, s in self.owners],
                "start": iso(self.start), "end": iso(self.end)}


def _as_dt(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _histories(ids: list[int]) -> tuple[dict[int, datetime], dict[int, list[tuple[str | None, str | None, datetime]]]]:
    """(ticket -> when it last left the active statuses, ticket -> its owner changes)."""
    ended: dict[int, datetime] = {}
    owners: dict[int, list[tuple[str | None, str | None, datetime]]] = {}
    events = (Event.select(Event.ticket, Event.field, Event.old, Event.new, Event.at)
              .where(Event.ticket.in_(ids), Event.field.in_(("status", "owner"))).order_by(Event.at, Event.id))
    for e in events:
        if e.field == "status" and e.old in ACTIVE and e.new not in ACTIVE:
            ended[e.ticket_id] = _as_dt(e.at)
        elif e.field == "owner":
            owners.setdefault(e.ticket_id, []).append((e.old, e.new, _as_dt(e.at)))
    return ended, owners


def incidents_between(start: datetime, end: datetime, queues: Collection[str] | None = None) -> list[IncidentRow]:
    """Incidents that overlap [start, end), oldest start first."""
    query = (Incident.select(Incident, Ticket, Queue, Person).join(Ticket).join(Queue).switch(Ticket)
             .join(Person, on=(Ticket.owner == Person.id), join_type=pw.JOIN.LEFT_OUTER)
             .where(Incident.withdrawn_at.is_null(), Incident.started_at < end).order_by(Incident.started_at))
    if queues is not None:
        query = query.where(Queue.name.in_(list(queues)))
    incidents = list(query)
    ids = [i.ticket_id for i in incidents]
    if not ids:
        return []
    ended, owner_changes = _histories(ids)
    systems: dict[int, list[str]] = {}
    for s in IncidentSystem.select().where(IncidentSystem.incident.in_([i.id for i in incidents])).order_by(
            IncidentSystem.name):
        systems.setdefault(s.incident_id, []).append(s.name)
    rows = []
    for inc in incidents:
        t = inc.ticket
        finish = None if t.status in ACTIVE else ended.get(t.id, t.updated_at)
        if finish is not None and finish < start:
            continue
        changes = owner_changes.get(t.id, [])
        first = changes[0][0] if changes else (t.owner.address if t.owner_id else None)
        for _, new, at in changes:  # the owner when the incident started
            if at <= inc.started_at:
                first = new
        owners = [(first, inc.started_at)] + [(new, at) for _, new, at in changes if at > inc.started_at]
        owners = [o for i, o in enumerate(owners) if i == 0 or o[0] != owners[i - 1][0]]
        rows.append(IncidentRow(ticket=t.id, subject=t.subject, kind=inc.kind, status=t.status, queue=t.queue.name,
                                systems=tuple(systems.get(inc.id, [])), impact=inc.impact,
                                owner=t.owner.address if t.owner_id else None, owners=tuple(owners),
                                start=inc.started_at, end=finish))
    return rows
