"""The timed job that tells the systems' subscribers ([[system]] subscribers and address)
when an incident opens, changes (systems, impact, owner, status, priority, subject) or
ends. It reads the ticket's history after the incident's `told_event`, so one mail covers
everything one act changed (a mail with `incident: yes`, `systems:` and `impact:` lines
is one mail), and moves `told_event` on in the transaction that queues the mails: a change
is never told twice. Each subscriber gets at most [incidents] mails_per_hour of them.
Changes from every door count alike (mail, CLI, API, web, rules, the schedule)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import peewee as pw

from mailgate.core.changes import Change
from mailgate.core.statuses import ACTIVE
from mailgate.db.incident_models import Incident
from mailgate.db.models import Event, Ticket
from mailgate.incidents.store import systems_of
from mailgate.mailer import queue_mail
from mailgate.people import person_for
from mailgate.ratelimit import over_limit

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.incidents")

KIND = "incident"
NEWS_FIELDS = ("incident", "systems", "impact", "status", "owner", "priority", "subject")


def _what(events: list[Event]) -> str:
    if any(e.field == "incident" and e.new == "no" for e in events):
        return "withdrawn"
    if any(e.field == "status" and e.old in ACTIVE and e.new not in ACTIVE for e in events):
        return "over"
    if any(e.field == "incident" and e.new == "yes" for e in events):
        return "opened"
    return "updated"


def _recipients(env: Env, incident: Incident, events: list[Event]) -> list[str]:
    """Subscribers of the systems it affects now, and of any this batch took away."""
    names = set(systems_of(incident))
    for e in events:
        if e.field == "systems":
            names.update((e.old or "").split())
    found: dict[str, None] = {}
    for name in sorted(names):
        system = env.settings.system_named(name)
        if system is not None:
            found.update(dict.fromkeys(a.lower() for a in (*system.subscribers, system.address) if a))
    return list(found)


def _mail(env: Env, incident: Incident, events: list[Event]) -> int:
    ticket: Ticket = incident.ticket
    what = _what(events)
    context = {"what": what, "incident": incident, "systems": systems_of(incident),
               "changes": [Change(e.field, e.old, e.new, e.actor) for e in events],
               "owner": ticket.owner.address if ticket.owner_id else None}
    sent = 0
    for address in _recipients(env, incident, events):
        if over_limit(KIND, address, env.clock(), env.settings.incidents.mails_per_hour):
            log.warning("incident #%s: %s is over [incidents] mails_per_hour; not told of this change", ticket.id,
                        address, extra={"stage": "incidents"})
            continue
        queue_mail(env, kind=KIND, recipient=person_for(address), ticket=ticket, template="incident.txt.j2",
                   context=context)
        sent += 1
    log.info("incident #%s %s: %d subscriber mail(s)", ticket.id, what, sent, extra={"stage": "incidents"})
    return sent


def tell_subscribers(env: Env) -> str:
    """The scheduler job (mailgate.schedule.jobs): one transaction for all of it."""
    newest = dict(Event.select(Event.ticket, pw.fn.MAX(Event.id)).where(
        Event.ticket.in_(Incident.select(Incident.ticket))).group_by(Event.ticket).tuples())
    sent = 0
    for incident in Incident.select(Incident, Ticket).join(Ticket).order_by(Incident.id):
        last = newest.get(incident.ticket_id, 0)
        if last <= incident.told_event:
            continue
        events = list(Event.select().where(Event.ticket == incident.ticket_id, Event.id > incident.told_event,
                                           Event.id <= last, Event.field.in_(NEWS_FIELDS)).order_by(Event.id))
        told = incident.withdrawn_at is None or any(e.field == "incident" for e in events)
        if events and told:
            sent += _mail(env, incident, events)
        incident.told_event = last
        incident.save()
    return f"{sent} incident mail(s)"
