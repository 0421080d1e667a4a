"""SLA targets met and breached per queue and month (of the ticket's creation), from the
SLA clocks of mailgate.lifecycle.sla ([[sla]] targets in business hours, stalled time not
counted). A target is met when its milestone was reached by its due time, breached when it
was reached later or is still not reached after it, pending otherwise."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from mailgate.config import Settings
from mailgate.db.models import Queue, Ticket
from mailgate.lifecycle.calendar import Calendar
from mailgate.lifecycle.sla import MILESTONES, first_responses, milestones, stalled_spans
from mailgate.reports.monthly import zone_of
from mailgate.reports.periods import Month, label, month_of, month_start, months, next_month


def sla_report(settings: Settings, first: Month, last: Month, now: datetime,
               queues: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Rows of month, queue and, per milestone, met / breached / pending counts."""
    wanted = months(first, last)
    names = [q.name for q in settings.queues if queues is None or q.name in queues]
    lo = min(month_start(wanted[0], zone_of(settings, q)) for q in names) if names else now
    hi = max(month_start(next_month(wanted[-1]), zone_of(settings, q)) for q in names) if names else now
    tickets = list(Ticket.select(Ticket, Queue).join(Queue)
                   .where(Ticket.created_at >= lo, Ticket.created_at < hi, Queue.name.in_(names)))
    ids = [t.id for t in tickets]
    responded, stalled = first_responses(settings, ids), stalled_spans(ids)
    calendars: dict[str, Calendar] = {}
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for t in tickets:
        m = month_of(t.created_at, zone_of(settings, t.queue.name))
        if not first <= m <= last:
            continue
        c = counts.setdefault((label(m), t.queue.name), {})
        for ms in milestones(t, settings, responded.get(t.id), calendars, stalled.get(t.id, []), now):
            if ms.met_at is not None:
                outcome = "met" if ms.met_at <= ms.due else "breached"
            else:
                outcome = "breached" if now >= ms.due else "pending"
            c[f"{ms.name}_{outcome}"] = c.get(f"{ms.name}_{outcome}", 0) + 1
    rows = []
    for m in wanted:
        for q in names:
            c = counts.get((label(m), q), {})
            row: dict[str, Any] = {"month": label(m), "queue": q}
            for name, _ in MILESTONES:
                for outcome in ("met", "breached", "pending"):
                    row[f"{name}_{outcome}"] = c.get(f"{name}_{outcome}", 0)
            rows.append(row)
    return rows
