"""Incidents (issue 15): a ticket that is an outage, with the systems it affects.

The start is stored (the first alert, or the ticket's creation); the end, the engineer
responsible over time and the status come from the ticket and its history, so they are
never out of step with it. `told_event` is the last history event the systems'
subscribers were mailed about: advanced in the transaction that queues those mails, so no
change is told twice.
"""

from __future__ import annotations

import peewee as pw

from mailgate.db.models import BaseModel, Ticket, utcnow


class Incident(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, unique=True, backref="incidents", on_delete="CASCADE")
    kind = pw.CharField(default="manual")  # manual (incident: yes) | storm | alert
    impact = pw.TextField(default="")  # what is affected, for whom (impact: ...)
    started_at = pw.DateTimeField(index=True)
    created_at = pw.DateTimeField(default=utcnow)
    withdrawn_at = pw.DateTimeField(null=True)  # `incident: no`: not an incident after all
    told_event = pw.IntegerField(default=0)


class IncidentSystem(BaseModel):
    incident = pw.ForeignKeyField(Incident, backref="system_rows", on_delete="CASCADE")
    name = pw.CharField()

    class Meta:
        indexes = ((("incident", "name"), True),)


INCIDENT_MODELS: tuple[type[BaseModel], ...] = (Incident, IncidentSystem)
