"""Tickets per month: created (requests and monitoring alerts apart), resolved, still open
at the month's end, and the median hours to the first response and to the resolution of
the month's new tickets.

    resolved        tickets that went from an active status (new, open, stalled) to
                    resolved, closed or rejected in the month (a ticket reopened and
                    resolved again in a later month counts there too)
    open_at_end     tickets created before the month ended and in an active status then
    first response  the first visible message from staff (as the SLA clock counts it)
    resolution      the first time the ticket left the active statuses
    alert           a ticket a monitoring alert opened, or an alert storm's parent

Each ticket counts in its queue's time zone. Wall-clock hours (the SLA report counts
business hours against the targets).
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailgate.config import Settings
from mailgate.core.statuses import ACTIVE
from mailgate.db.models import AlertOccurrence, AlertStorm, Event, Queue, Ticket
from mailgate.lifecycle.sla import first_responses
from mailgate.reports.periods import Month, label, month_of, month_start, months, next_month

ALL = "all"


@dataclass
class Row:
    month: str
    queue: str
    created: int = 0
    requests: int = 0
    alerts: int = 0
    resolved: int = 0
    open_at_end: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        median = lambda v: round(statistics.median(v), 2) if v else None  # noqa: E731
        return {"month": self.month, "queue": self.queue, "created": self.created, "requests": self.requests,
                "alerts": self.alerts, "resolved": self.resolved, "open_at_end": self.open_at_end,
                "median_first_response_hours": median(self.first_response),
                "median_resolution_hours": median(self.resolution)}


def _dt(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def zone_of(settings: Settings, queue: str) -> ZoneInfo:
    q = settings.queue_named(queue)
    return ZoneInfo(q.timezone if q else "UTC")


def alert_tickets() -> set[int]:
    opened = AlertOccurrence.select(AlertOccurrence.ticket).where(AlertOccurrence.kind == "open",
                                                                  AlertOccurrence.ticket.is_null(False))
    return {r[0] for r in opened.tuples()} | {r[0] for r in AlertStorm.select(AlertStorm.ticket).tuples()}


def status_history(ticket_ids: set[int] | None = None) -> dict[int, list[tuple[datetime, str | None, str]]]:
    """Ticket -> its status changes (when, old, new), oldest first."""
    query = (Event.select(Event.ticket, Event.at, Event.old, Event.new).where(Event.field == "status")
             .order_by(Event.at, Event.id))
    found: dict[int, list[tuple[datetime, str | None, str]]] = {}
    for ticket, at, old, new in query.tuples():
        if ticket_ids is None or ticket in ticket_ids:
            found.setdefault(ticket, []).append((_dt(at), old, new))
    return found


def _active_spans(created: datetime, changes: list[tuple[datetime, str | None, str]]) -> list[tuple[datetime, datetime | None]]:
    spans, since = [], created  # a ticket starts out new
    for at, _, new in changes:
        if new in ACTIVE and since is None:
            since = at
        elif new not in ACTIVE and since is not None:
            spans.append((since, at))
            since = None
    if since is not None:
        spans.append((since, None))
    return spans


def monthly(settings: Settings, first: Month, last: Month, queues: Collection[str] | None = None,
            by_queue: bool = False) -> list[dict[str, Any]]:
    """One row per month (queue "all"), or per month and queue with `by_queue`."""
    wanted = months(first, last)
    tickets = list(Ticket.select(Ticket.id, Ticket.created_at, Queue.name).join(Queue).tuples())
    if queues is not None:
        tickets = [t for t in tickets if t[2] in queues]
    ids = {t[0] for t in tickets}
    alerts, history, responded = alert_tickets(), status_history(ids), first_responses(settings)
    rows: dict[tuple[str, str], Row] = {}
    ends: dict[str, list[datetime]] = {}  # per queue: the months' ends in its zone, as UTC

    def row(m: Month, queue: str) -> Row:
        key = (label(m), queue if by_queue else ALL)
        return rows.setdefault(key, Row(*key))

    for ticket, created, queue in tickets:
        zone, created = zone_of(settings, queue), _dt(created)
        if queue not in ends:
            ends[queue] = [month_start(next_month(m), zone) for m in wanted]
        changes = history.get(ticket, [])
        done = next((at for at, old, new in changes if old in ACTIVE and new not in ACTIVE), None)
        m = month_of(created, zone)
        if first <= m <= last:
            r = row(m, queue)
            r.created += 1
            r.alerts += ticket in alerts
            r.requests += ticket not in alerts
            if ticket in responded:
                r.first_response.append((responded[ticket] - created).total_seconds() / 3600)
            if done is not None:
                r.resolution.append((done - created).total_seconds() / 3600)
        for at, old, new in changes:
            if old in ACTIVE and new not in ACTIVE and first <= (m2 := month_of(at, zone)) <= last:
                row(m2, queue).resolved += 1
        for since, until in _active_spans(created, changes):
            queue_ends = ends[queue]
            lo = bisect.bisect_right(queue_ends, since)
            hi = len(queue_ends) if until is None else bisect.bisect_right(queue_ends, until)
            for i in range(lo, hi):  # active at these month ends (an end is the next month's first instant)
                row(wanted[i], queue).open_at_end += 1
    names = sorted({q for _, _, q in tickets}) if by_queue else [ALL]
    return [rows.get((label(m), q), Row(label(m), q)).as_dict() for m in wanted for q in names]
