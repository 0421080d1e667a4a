"""Who hears about a monitoring alert, and when, so a team gets tens of mails, not thousands.

The team of an alert ticket: its nosy list and the queue's watchers (issue 4's
`alert_recipients`) plus the technicians and admins of its queue, never the monitoring
system that sent the alert (it is the requester) and never our own addresses.

When (per fingerprint, remembering what the team was last told):
- a new ticket: always, unless it is grouped under an alert storm (the storm mails once);
- a recovery: when the team was last told "problem";
- a problem that returns after its recovery (within the flap window, so the ticket is
  reopened): the first return is mailed; a second return within the flap window is
  "flapping": one mail says so, and further returns and recoveries are recorded silently;
- a repeat on an open ticket: a reminder every `renotify_interval`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mailgate.db.models import AlertGroup, AlertOccurrence, AlertStorm, Person, Ticket
from mailgate.mailer import queue_mail
from mailgate.nosy import alert_recipients, is_own_address
from mailgate.people import person_for

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.alerts")


def team(ticket: Ticket, env: Env) -> list[Person]:
    settings = env.settings
    requester = ticket.requester.address
    people = {p.address: p for p in alert_recipients(ticket, settings, exclude={requester})}
    for staff in settings.people:
        if staff.role in ("technician", "admin") and ticket.queue.name in staff.queues:
            address = staff.address.lower()
            if address != requester and address not in people and not is_own_address(settings, address):
                person = person_for(address, staff.name)
                if not person.bouncing:
                    people[address] = person
    return [people[a] for a in sorted(people)]


def in_storm(ticket: Ticket) -> bool:
    return ticket.parent_id is not None and AlertStorm.select().where(AlertStorm.ticket == ticket.parent_id).exists()


def due(group: AlertGroup, event: str, now: datetime, env: Env) -> str:
    """The mail to send for `event` ("" for none): open | recovery | reopen | flapping | repeat."""
    cfg = env.settings.monitoring
    told = group.notified_state
    if event == "open":
        return "open"
    if event == "recovery":
        return "recovery" if told == "problem" else ""
    since = (now - group.notified_at).total_seconds() if group.notified_at else float("inf")
    if event == "reopen":
        if told == "flapping":
            return ""
        earlier = (AlertOccurrence.select()
                   .where(AlertOccurrence.group == group, AlertOccurrence.kind == "reopen",
                          AlertOccurrence.at >= now - timedelta(seconds=cfg.flap_window))
                   .count())
        return "reopen" if earlier == 0 else "flapping"
    return "repeat" if since >= cfg.renotify_interval else ""


def mail_team(env: Env, ticket: Ticket, group: AlertGroup, event: str, now: datetime, *, message_id: str,
              text: str = "") -> int:
    """Queue one alert mail per team member about `event`; remember what they were told."""
    sent = 0
    kind = {"open": "alert-problem", "reopen": "alert-problem", "recovery": "alert-recovery",
            "flapping": "alert-flapping"}.get(event, "alert-reminder")
    for person in team(ticket, env):
        queue_mail(env, ticket=ticket, kind=kind, recipient=person, template="monitoring_alert.txt.j2",
                   context={"event": event, "fingerprint": group.fingerprint, "state_text": group.state_text,
                            "group": group, "source": group.source, "text": text[:4000]},
                   from_name=f"Monitoring via {env.settings.gateway.name}", originator=group.source)
        sent += 1
    group.notified_at = now
    group.notified_state = {"recovery": "recovered", "flapping": "flapping"}.get(event, "problem")
    log.info("message %s stage alerts: %s mail about %s to %d people (ticket #%s)", message_id, event,
             group.fingerprint, sent, ticket.id)
    return sent
