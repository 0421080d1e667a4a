"""Changing incidents. Every change is an Event on the ticket (recorded by the caller's
`record`, so a command's actor, message and source are kept): the subscribers' mails are
made from those events (mailgate.incidents.news)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import peewee as pw

from mailgate.db.incident_models import Incident, IncidentSystem
from mailgate.db.models import AlertOccurrence, Event, Ticket

Record = Callable[[str, object, object], object]  # (field, old, new): records one Event

OPEN, WITHDRAWN = "yes", "no"


def incident_of(ticket: Ticket) -> Incident | None:
    return Incident.get_or_none(Incident.ticket == ticket.id)


def systems_of(incident: Incident) -> list[str]:
    return sorted(s.name for s in IncidentSystem.select(IncidentSystem.name).where(IncidentSystem.incident == incident))


def first_alert(ticket_ids: Iterable[int]) -> datetime | None:
    """When the first alert of these tickets came in (the start of an alert's incident)."""
    ids = list(ticket_ids)
    if not ids:
        return None
    value = (AlertOccurrence.select(pw.fn.MIN(AlertOccurrence.at)).where(AlertOccurrence.ticket.in_(ids)).scalar())
    return value if isinstance(value, datetime) or value is None else datetime.fromisoformat(str(value))


def open_incident(ticket: Ticket, record: Record, kind: str = "manual",
                  started_at: datetime | None = None) -> tuple[Incident, bool]:
    """(the ticket's incident, whether it is new or back). Its start: the first alert on
    the ticket, else the ticket's creation, unless the caller knows better."""
    found = incident_of(ticket)
    if found is not None and found.withdrawn_at is None:
        return found, False
    told = Event.select(pw.fn.MAX(Event.id)).where(Event.ticket == ticket.id).scalar() or 0
    if found is None:
        start = started_at or first_alert([ticket.id]) or ticket.created_at
        found = Incident.create(ticket=ticket, kind=kind, started_at=min(start, ticket.created_at),
                                told_event=told)
    else:
        found.withdrawn_at = None
        found.told_event = max(found.told_event, told)
        found.save()
    record("incident", None, OPEN)
    return found, True


def withdraw(incident: Incident, now: datetime, record: Record) -> None:
    incident.withdrawn_at = now
    incident.save()
    record("incident", OPEN, WITHDRAWN)


def change_systems(incident: Incident, add: Iterable[str], remove: Iterable[str],
                   record: Record) -> tuple[list[str], list[str]]:
    """(added, removed); names are checked by the caller against [[system]]."""
    before = systems_of(incident)
    added = [n for n in dict.fromkeys(add) if n not in before]
    removed = [n for n in dict.fromkeys(remove) if n in before and n not in added]
    for name in added:
        IncidentSystem.create(incident=incident, name=name)
    if removed:
        IncidentSystem.delete().where(IncidentSystem.incident == incident, IncidentSystem.name.in_(removed)).execute()
    if added or removed:
        record("systems", " ".join(before) or None, " ".join(systems_of(incident)) or None)
    return added, removed


def set_impact(incident: Incident, text: str, record: Record) -> bool:
    text = text.strip()
    if text == incident.impact:
        return False
    old, incident.impact = incident.impact, text
    incident.save()
    record("impact", old or None, text or None)
    return True
