"""One entry for every front end (CLI, API, pages, the report mail): a report's rows from
the options as people give them ("2024-05", "2024-05-31", a queue)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailgate.config import Settings
from mailgate.core.errors import Invalid
from mailgate.incidents.view import incidents_between
from mailgate.reports.monthly import monthly
from mailgate.reports.periods import days_range, label, months_back, parse_day, parse_month
from mailgate.reports.sla import sla_report

KINDS = ("monthly", "sla", "incidents")
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Report:
    kind: str
    start: str  # as the rows count it: YYYY-MM for monthly and sla, an ISO time for incidents
    end: str
    queues: tuple[str, ...] | None
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"report": self.kind, "from": self.start, "to": self.end,
                "queues": list(self.queues) if self.queues is not None else None, "rows": self.rows}


def _queues(settings: Settings, queue: str | None, allowed: Collection[str] | None) -> tuple[str, ...] | None:
    if queue:
        if settings.queue_named(queue) is None:
            raise Invalid(f"unknown queue {queue!r} (known: {', '.join(q.name for q in settings.queues)})")
        if allowed is not None and queue not in allowed:
            raise Invalid(f"queue {queue!r} is not one of yours")
        return (queue,)
    return tuple(allowed) if allowed is not None else None


def build_report(settings: Settings, kind: str, now: datetime, start: str | None = None, end: str | None = None,
                 queue: str | None = None, by_queue: bool = False,
                 allowed: Collection[str] | None = None) -> Report:
    """`allowed`: the queues the asker may see (None: all). Raises Invalid for bad options."""
    if kind not in KINDS:
        raise Invalid(f"unknown report {kind!r}; expected one of {', '.join(KINDS)}")
    queues = _queues(settings, queue, allowed)
    zone = ZoneInfo(settings.queue_named(queue).timezone) if queue else UTC_ZONE  # type: ignore[union-attr]
    if kind == "incidents":
        since, until = days_range(parse_day(start, "--from") if start else None,
                                  parse_day(end, "--to") if end else None, now, zone)
        rows = [r.as_dict() for r in incidents_between(since, until, queues)]
        return Report(kind, since.isoformat() + "Z", until.isoformat() + "Z", queues, rows)
    first, last = months_back(now, zone, 12)
    if start:
        first = parse_month(start, "--from")
    if end:
        last = parse_month(end, "--to")
    elif start:
        last = max(first, months_back(now, zone, 1)[1])
    if kind == "monthly":
        rows = monthly(settings, first, last, queues, by_queue)
    else:
        rows = sla_report(settings, first, last, now, queues)
    return Report(kind, label(first), label(last), queues, rows)
