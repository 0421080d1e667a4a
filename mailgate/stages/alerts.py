"""Alert grouping: monitoring alerts (messages a rule gave a fingerprint) become one ticket
per problem. Runs in the database transaction before Thread.

- problem, no open ticket: the message goes on to Thread and Store and opens a ticket;
  RuleActions (after Store) links it to the fingerprint (`open_alert`);
- problem, ticket open: a repeat, recorded compactly (counter, last seen, state) with no
  Message row and, at most, a reminder mail;
- problem, ticket resolved within the flap window: that ticket is reopened (compactly);
- recovery (`resolve = true`): resolves the open ticket and tells the team; with no open
  ticket it is recorded and dropped;
- note (`note = true`, e.g. an acknowledgement): stored on the open ticket, or recorded and
  dropped.

Rule drops and holds end here too. Whatever ends here sets `msg.halt` and writes a RuleMatch
row, which the pipeline's duplicate check consults: a redelivered repeat counts once. The
raw bytes stay in the spool under `raw_sha256`, referenced from every row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import peewee as pw

from mailgate.db import fastsql
from mailgate.db.models import (
    ACTIVE_STATUSES,
    AlertGroup,
    AlertOccurrence,
    Quarantine,
    RuleMatch,
    Ticket,
    database_proxy,
)
from mailgate.errors import TransientError
from mailgate.history import set_status
from mailgate.rules.alert_mail import due, in_storm, mail_team
from mailgate.rules.storm import group_into_storm, settle_storm
from mailgate.stages.base import Env, Inbound

log = logging.getLogger("mailgate.alerts")


def already_handled(message_id: str | None, chash: str) -> RuleMatch | None:
    """A message that ended without a Message row (alert repeat, recovery, rule drop)."""
    query = RuleMatch.select().where(RuleMatch.content_hash == chash,
                                     RuleMatch.outcome.in_(("recorded", "discarded")))
    if message_id:
        query = query.where(RuleMatch.message_id == message_id)
    return query.first()


def now_of(env: Env) -> datetime:
    return env.clock().replace(tzinfo=None)


def record_match(msg: Inbound, env: Env, outcome: str, detail: str = "", ticket_id: int | None = None) -> RuleMatch:
    p = msg.parsed
    assert p is not None and msg.rules is not None
    return RuleMatch.create(message_id=p.message_id, content_hash=p.content_hash, raw_sha256=msg.entry.sha256,
                            message_row=msg.message_row_id, ticket=ticket_id, rules=msg.rules.matched,
                            outcome=outcome, detail=detail, at=now_of(env))


def _halt(msg: Inbound, env: Env, outcome: str, detail: str, ticket_id: int | None = None) -> None:
    record_match(msg, env, outcome, detail, ticket_id)
    msg.halt, msg.halt_detail = outcome, detail
    msg.ticket_id = ticket_id
    log.info("message %s stage alerts: %s: %s", msg.parsed.message_id if msg.parsed else "?", outcome, detail)


def _occurrence(msg: Inbound, group: AlertGroup, kind: str, ticket_id: int | None, now: datetime) -> None:
    p = msg.parsed
    assert p is not None
    AlertOccurrence.create(group=group, ticket=ticket_id, kind=kind, state_text=group.state_text,
                           message_id=p.message_id, content_hash=p.content_hash, raw_sha256=msg.entry.sha256,
                           at=now)


def _group(fingerprint: str, source: str, now: datetime) -> AlertGroup:
    # several nodes: alerts of one fingerprint wait for each other, so two first alerts
    # cannot both open a ticket and two repeats cannot lose a count (SQLite has one writer)
    lock = isinstance(database_proxy.obj, pw.PostgresqlDatabase)
    found = fastsql.select_where(AlertGroup, ("by-fingerprint", lock), lambda s: (
        f"WHERE {s.c(AlertGroup.fingerprint)} = {s.p} LIMIT 1" + (" FOR UPDATE" if lock else "")), [fingerprint])
    if found:
        return found[0]
    try:
        with database_proxy.obj.atomic():  # a savepoint: a concurrent insert must not poison the transaction
            return AlertGroup.create(fingerprint=fingerprint, source=source, first_seen=now, last_seen=now,
                                     state="recovered", occurrences=0)
    except pw.IntegrityError as exc:
        # another worker created it between our read and our insert: retry the whole message
        # rather than let the pipeline take the IntegrityError for "already stored"
        raise TransientError(f"alert group {fingerprint!r} created concurrently") from exc


class AlertGrouping:
    name = "alerts"

    def __call__(self, msg: Inbound, env: Env) -> None:
        d = msg.rules
        if d is None:
            return
        rules = ", ".join(d.matched)
        if d.hold:
            p = msg.parsed
            assert p is not None
            q = Quarantine.create(raw_sha256=msg.entry.sha256, source=msg.entry.source,
                                  recipients=list(msg.entry.recipients), stage="rules",
                                  error=f"held by rule {rules}: {d.hold} (release: mailgate quarantine retry)")
            _halt(msg, env, "held", f"held as quarantine #{q.id} by rule {rules}: {d.hold}")
            return
        if d.drop:
            _halt(msg, env, "discarded", f"dropped by rule {rules}: {d.drop}")
            return
        if d.fingerprint:
            self._alert(msg, env)

    def _alert(self, msg: Inbound, env: Env) -> None:
        d, p = msg.rules, msg.parsed
        assert d is not None and p is not None
        now = now_of(env)
        group = _group(d.fingerprint, p.from_addr, now)
        ticket = Ticket.get_or_none(Ticket.id == group.ticket_id) if group.ticket_id else None
        is_open = ticket is not None and ticket.status in ACTIVE_STATUSES
        state_text = d.alert_state or d.groups.get("state", "")
        group.last_seen = now
        if state_text:
            group.state_text = state_text[:200]
        if d.alert == "problem":
            if ticket is not None and is_open:
                self._repeat(msg, env, group, ticket, now)
            elif ticket is not None and ticket.status == "resolved" and self._within_flap(group, ticket, now, env):
                self._reopen(msg, env, group, ticket, now)
            else:
                group.save()
                return  # a new problem: Thread and Store open its ticket, RuleActions links it
        elif d.alert == "recovery":
            if ticket is not None and is_open:
                self._recover(msg, env, group, ticket, now)
            else:
                group.save()
                _occurrence(msg, group, "recovery-dropped", None, now)
                _halt(msg, env, "discarded", f"recovery for {d.fingerprint} with no open ticket: recorded and dropped")
        elif d.alert == "note":
            group.save()
            if ticket is not None and is_open:
                _occurrence(msg, group, "note", ticket.id, now)
                msg.ticket_id, msg.thread_signal = ticket.id, "alert-note"
            else:
                _occurrence(msg, group, "note-dropped", None, now)
                _halt(msg, env, "discarded", f"note about {d.fingerprint} with no open ticket: recorded and dropped")
        group.save()

    def _within_flap(self, group: AlertGroup, ticket: Ticket, now: datetime, env: Env) -> bool:
        since = group.resolved_at or ticket.updated_at
        return now - since <= timedelta(seconds=env.settings.monitoring.flap_window)

    def _repeat(self, msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
        group.occurrences += 1
        group.state = "problem"
        event = "" if in_storm(ticket) else due(group, "repeat", now, env)
        _count(msg, env, group, ticket, "repeat", event, now)
        _halt(msg, env, "recorded", f"alert {group.fingerprint} repeated ({group.occurrences} so far) on ticket "
                               f"#{ticket.id}", ticket.id)

    def _reopen(self, msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
        p = msg.parsed
        assert p is not None
        set_status(ticket, "open", p.from_addr, env, now)
        event = "" if in_storm(ticket) else due(group, "reopen", now, env)
        group.occurrences += 1
        group.reopened += 1
        group.state, group.resolved_at = "problem", None
        _count(msg, env, group, ticket, "reopen", event, now)
        _halt(msg, env, "recorded", f"alert {group.fingerprint} returned within the flap window: ticket "
                               f"#{ticket.id} reopened", ticket.id)

    def _recover(self, msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, now: datetime) -> None:
        p = msg.parsed
        assert p is not None
        set_status(ticket, "resolved", p.from_addr, env, now)
        group.occurrences += 1
        group.state, group.resolved_at = "recovered", now
        event = "recovery" if not in_storm(ticket) and due(group, "recovery", now, env) else ""
        _count(msg, env, group, ticket, "recovery", event, now)
        settle_storm(ticket, now, env, p.message_id)
        _halt(msg, env, "recorded", f"alert {group.fingerprint} recovered: ticket #{ticket.id} resolved", ticket.id)


def _count(msg: Inbound, env: Env, group: AlertGroup, ticket: Ticket, kind: str, event: str,
           now: datetime) -> None:
    """An alert counted on its ticket: the team's mail when one is due (`event`), the group's
    new state, and the occurrence row."""
    if event:
        mail_team(env, ticket, group, event, now, message_id=msg.parsed.message_id if msg.parsed else "",
                  text=_text(msg))
    group.save()
    _occurrence(msg, group, kind, ticket.id, now)


def open_alert(msg: Inbound, env: Env, ticket: Ticket) -> None:
    """After Store put a new problem's message on `ticket`: make it the fingerprint's ticket,
    group it into a storm when there is one, and tell the team."""
    d, p = msg.rules, msg.parsed
    assert d is not None and p is not None
    now = now_of(env)
    group = AlertGroup.get(AlertGroup.fingerprint == d.fingerprint)
    group.ticket, group.state, group.resolved_at = ticket, "problem", None
    group.occurrences, group.reopened, group.first_seen, group.last_seen = 1, 0, now, now
    group.notified_at, group.notified_state = None, ""
    group.source = p.from_addr
    group.save()
    _occurrence(msg, group, "open", ticket.id, now)
    storm = group_into_storm(ticket, group.source, now, env, p.message_id) if msg.created else None
    if storm is None:
        mail_team(env, ticket, group, "open", now, message_id=p.message_id, text=_text(msg))
        group.save()


def _text(msg: Inbound) -> str:
    if msg.clean is not None:
        return msg.clean.visible
    return msg.parsed.text_plain if msg.parsed else ""


__all__ = ["AlertGrouping", "already_handled", "now_of", "open_alert", "record_match"]
