"""The storm guard: when one monitoring system opens more than `storm_threshold` new alert
tickets within `storm_window` seconds (a switch died and took 200 checks with it), the
tickets are grouped under one parent incident ticket and the team gets one mail about the
storm instead of one per ticket. When the last grouped ticket recovers, the incident is
resolved with one more mail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mailgate.core.changes import RULE, SYSTEM
from mailgate.core.statuses import ACTIVE
from mailgate.db.locks import lock_row, take_key
from mailgate.db.models import AlertGroup, AlertOccurrence, AlertStorm, Ticket
from mailgate.incidents.automatic import storm_incident
from mailgate.mailer import queue_mail
from mailgate.monitoring.team import team
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.alerts")


def _adopt(storm_ticket: Ticket, child: Ticket, env: Env) -> None:
    if child.parent_id == storm_ticket.id:
        return
    TicketService(env).record(child, "parent", f"#{child.parent_id}" if child.parent_id else None,
                              f"#{storm_ticket.id}", actor=SYSTEM, source=RULE)
    child.parent = storm_ticket
    child.save(only=[Ticket.parent])  # only the parent: a reply on another node may change the rest


def _mail(env: Env, storm_ticket: Ticket, event: str, context: dict) -> None:
    for person in team(storm_ticket, env):
        queue_mail(env, ticket=storm_ticket, kind="alert-storm", recipient=person,
                   template="monitoring_storm.txt.j2", context={"event": event, **context},
                   from_name=f"Monitoring via {env.settings.gateway.name}")


def group_into_storm(ticket: Ticket, source: str, now: datetime, env: Env, message_id: str) -> Ticket | None:
    """Called for each new alert ticket (its opening occurrence already recorded). Returns
    the storm's incident ticket when `ticket` now belongs to one."""
    cfg = env.settings.monitoring
    if cfg.storm_threshold <= 0:
        return None
    take_key(f"storm:{source}")  # several nodes: one decides about a source's storm at a time
    since = now - timedelta(seconds=cfg.storm_window)
    storm = (AlertStorm.select().where(AlertStorm.source == source, AlertStorm.last_at >= since)
             .order_by(AlertStorm.id.desc()).first())
    if storm is not None and storm.ticket.status in ACTIVE:
        _adopt(storm.ticket, ticket, env)
        storm.tickets += 1
        storm.last_at = now
        storm.save()
        return storm.ticket
    opened = list(Ticket.select().distinct()
                  .join(AlertOccurrence, on=(AlertOccurrence.ticket == Ticket.id))
                  .join(AlertGroup, on=(AlertOccurrence.group == AlertGroup.id))
                  .where(AlertGroup.source == source, AlertOccurrence.kind == "open", AlertOccurrence.at >= since,
                         Ticket.status.in_(ACTIVE))
                  .order_by(Ticket.id))
    if len(opened) <= cfg.storm_threshold:
        return None
    incident = Ticket.create(
        queue=ticket.queue, subject=f"Alert storm: {len(opened)} new alerts from {source}",
        status="new", priority=min(t.priority for t in opened), requester=ticket.requester,
        created_at=now, updated_at=now,
    )
    TicketService(env).record(incident, "created", None, incident.subject, actor=SYSTEM, source=RULE)
    for child in opened:
        _adopt(incident, child, env)
    AlertStorm.create(source=source, ticket=incident, started_at=now, last_at=now, tickets=len(opened))
    storm_incident(env, incident, opened)  # issue 15: the storm is an incident on the timeline
    _mail(env, incident, "storm", {"count": len(opened), "source": source, "window": int(cfg.storm_window),
                                   "children": opened})
    log.warning("message %s stage alerts: alert storm from %s: %d new tickets in %ss, grouped under #%s",
                message_id, source, len(opened), int(cfg.storm_window), incident.id)
    return incident


def settle_storm(child: Ticket, now: datetime, env: Env, message_id: str) -> None:
    """After `child` recovered: resolve its storm incident once no grouped ticket is open."""
    if child.parent_id is None:
        return
    # two children recovering on two nodes at once must not each see the other still open
    lock_row(Ticket, child.parent_id)
    storm = AlertStorm.get_or_none(AlertStorm.ticket == child.parent_id)
    if storm is None or storm.ticket.status not in ACTIVE:
        return
    incident = storm.ticket
    still_open = Ticket.select().where(Ticket.parent == incident, Ticket.status.in_(ACTIVE)).exists()
    if still_open:
        return
    TicketService(env).set_status(incident, "resolved", actor=SYSTEM, source=RULE)
    _mail(env, incident, "over", {})
    log.info("message %s stage alerts: alert storm #%s over: every grouped ticket recovered", message_id, incident.id)
