"""Alert grouping: one ticket per problem, whatever the monitoring system repeats.

For a message a rule gave a fingerprint (run by the alerts stage, before Thread):
- problem, no open ticket: the message goes on to Thread and Store and opens a ticket;
  the rule-actions stage (after Store) then makes it the fingerprint's ticket (`open_alert`);
- problem, ticket open: a repeat, counted (occurrences, last seen, state) with no Message
  row and, at most, a reminder mail;
- problem, ticket resolved within the flap window: that ticket is reopened (compactly);
- recovery (`resolve = true`): resolves the open ticket and tells the team; with no open
  ticket it is recorded and dropped;
- note (`note = true`, e.g. an acknowledgement): stored on the open ticket, or recorded and
  dropped.

What ends here raises Recorded or Discard after its occurrence row is written; the pipeline
commits it and records the RuleMatch the duplicate check reads, so a redelivered repeat
counts once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import peewee as pw

from mailgate.core.changes import RULE
from mailgate.core.errors import Discard, Recorded
from mailgate.core.message import Inbound
from mailgate.core.statuses import ACTIVE
from mailgate.db import fastsql
from mailgate.db.locks import lock_row, take_key
from mailgate.db.models import AlertGroup, AlertOccurrence, Ticket, database_proxy
from mailgate.incidents.automatic import alert_incident
from mailgate.monitoring.storm import group_into_storm, settle_storm
from mailgate.monitoring.team import due, in_storm, mail_team
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.alerts")


def _occurrence(msg: Inbound, group: AlertGroup, kind: str, ticket_id: int | None, now: datetime) -> None:
    p = msg.parsed
    assert p is not None
    AlertOccurrence.create(group=group, ticket=ticket_id, kind=kind, state_text=group.state_text,
                           message_id=p.message_id, content_hash=p.content_hash, raw_sha256=msg.entry.sha256,
                           at=now)


def _group(fingerprint: str, source: str, now: datetime) -> AlertGroup:
    # several nodes: one transaction at a time works on a fingerprint (the others commit
    # what they have and wait, mailgate/db/locks.py), so two first alerts cannot both open a
    # ticket and two repeats cannot lose a count; SQLite has one writer anyway
    take_key(f"alert:{fingerprint}")
    lock = isinstance(database_proxy.obj, pw.PostgresqlDatabase)

    def find() -> list[AlertGroup]:
        return fastsql.select_where(AlertGroup, ("by-fingerprint", lock), lambda s: (
            f"WHERE {s.c(AlertGroup.fingerprint)} = {s.p} LIMIT 1" + (" FOR UPDATE" if lock else "")), [fingerprint])

    found = find()
    if found:
        return found[0]
    # ON CONFLICT: the unique fingerprint is the last line, never an error in the log
    AlertGroup.insert(fingerprint=fingerprint, source=source, first_seen=now, last_seen=now, state="recovered",
                      occurrences=0).on_conflict_ignore().execute()
    return find()[0]


def _ticket(ticket_id: int | None) -> Ticket | None:
    """The group's ticket, locked (a reply on another node may be changing it)."""
    if ticket_id is None:
        return None
    try:
        return lock_row(Ticket, ticket_id)  # type: ignore[return-value]
    except Ticket.DoesNotExist:
        return None


def group_alert(msg: Inbound, env: Env) -> None:
    """Handle a fingerprinted message; returns only when it is a new problem (or a note
    for an open ticket) that Thread and Store should store."""
    d, p = msg.rules, msg.parsed
    assert d is not None and p is not None
    now = env.now()
    group = _group(d.fingerprint, p.from_addr, now)
    ticket = _ticket(group.ticket_id)
    is_open = ticket is not None and ticket.status in ACTIVE
    state_text = d.alert_state or d.groups.get("state", "")
    group.last_seen = now
    if state_text:
        group.state_text = state_text[:200]
    if d.alert == "problem":
        if ticket is not None and is_open:
            _repeat(msg, env, group, ticket, now)
        elif ticket is not None and ticket.status == "resolved" and _within_flap(group, ticket, now, env):
            _reopen(msg, env, group, ticket, now)
        group.save()  # a new problem: Thread and Store open its ticket, open_alert links it
    elif d.alert == "recovery":
        if ticket is not None and is_open:
            _recover(msg, env, group, ticket, now)
        group.save()
        _occurrence(msg, group, "recovery-dropped", None, now)
        raise Discard(f"recovery for {d.fingerprint} with no open ticket: recorded and dropped")
    elif d.alert == "note":
        group.save()
        if ticket is None or not is_open:
            _occurrence(msg, group, "note-dropped", None, now)
            raise Discard(f"note about {d.fingerprint} with no open ticket: recorded and dropped")
        _occurrence(msg, group, "note", ticket.id, now)
        msg.ticket_id, msg.thread_signal = ticket.id, "alert-note"
    else:
        group.save()


def _within_flap(group: AlertGroup, ticket: Ticket, now: datetime, env: Env) -> bool:
    since = group.resolved_at or ticket.updated_at
    return now - since <= timedelta(seconds=env.settings.monitoring.flap_window)


def _repeat(msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
    group.occurrences += 1
    group.state = "problem"
    event = "" if in_storm(ticket) else due(group, "repeat", now, env)
    _count(msg, env, group, ticket, "repeat", event, now)
    raise Recorded(f"alert {group.fingerprint} repeated ({group.occurrences} so far) on ticket #{ticket.id}",
                   ticket.id)


def _reopen(msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
    TicketService(env).set_status(ticket, "open", actor=msg.parsed.from_addr if msg.parsed else "", source=RULE)
    event = "" if in_storm(ticket) else due(group, "reopen", now, env)
    group.occurrences += 1
    group.reopened += 1
    group.state, group.resolved_at = "problem", None
    _count(msg, env, group, ticket, "reopen", event, now)
    raise Recorded(f"alert {group.fingerprint} returned within the flap window: ticket #{ticket.id} reopened",
                   ticket.id)


def _recover(msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
    TicketService(env).set_status(ticket, "resolved", actor=msg.parsed.from_addr if msg.parsed else "",
                                  source=RULE)
    group.occurrences += 1
    group.state, group.resolved_at = "recovered", now
    event = "recovery" if not in_storm(ticket) and due(group, "recovery", now, env) else ""
    _count(msg, env, group, ticket, "recovery", event, now)
    settle_storm(ticket, now, env, msg.message_id)
    raise Recorded(f"alert {group.fingerprint} recovered: ticket #{ticket.id} resolved", ticket.id)


def _count(msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, kind: str, event: str,
           now: datetime) -> None:
    """An alert counted on its ticket: the team's mail when one is due (`event`), the group's
    new state, and the occurrence row."""
    if event:
        mail_team(env, ticket, group, event, now, message_id=msg.message_id, text=msg.text)
    group.save()
    _occurrence(msg, group, kind, ticket.id, now)


def open_alert(msg: Inbound, env: Env, ticket: Ticket) -> None:
    """After Store put a new problem's message on `ticket`: make it the fingerprint's ticket,
    group it into a storm when there is one, and tell the team."""
    d, p = msg.rules, msg.parsed
    assert d is not None and p is not None
    now = env.now()
    group = AlertGroup.get(AlertGroup.fingerprint == d.fingerprint)
    group.ticket, group.state, group.resolved_at = ticket, "problem", None
    group.occurrences, group.reopened, group.first_seen, group.last_seen = 1, 0, now, now
    group.notified_at, group.notified_state = None, ""
    group.source = p.from_addr
    group.save()
    _occurrence(msg, group, "open", ticket.id, now)
    storm = group_into_storm(ticket, group.source, now, env, p.message_id) if msg.created else None
    if storm is None and msg.created:
        alert_incident(env, ticket, group)  # issue 15: a critical alert is an incident
    if storm is None:
        mail_team(env, ticket, group, "open", now, message_id=p.message_id, text=msg.text)
        group.save()
