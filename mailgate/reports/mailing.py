"""[[report]] mails: each report goes out once per due time (the `day` of the month at
`time` in `timezone`), covering the `months` months up to the one that just ended, with the
monthly chart attached as a PNG. The mark of a due time is written in the transaction that
queues the mails, so a restart, a second node or a late run never sends it twice; a daemon
that was down at the due time sends it at its next run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mailgate.config.reporting import ReportSettings
from mailgate.db.models import LifecycleMark
from mailgate.mailer import queue_mail
from mailgate.reports.build import build_report
from mailgate.reports.chart import png
from mailgate.reports.output import to_text
from mailgate.reports.periods import label

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.reports")
KIND = "report"


def last_due(r: ReportSettings, now: datetime) -> datetime:
    """The latest due time at or before `now` (naive UTC in, aware local out)."""
    zone = ZoneInfo(r.timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    hour, minute = map(int, r.time.split(":"))
    due = datetime.combine(local.date().replace(day=r.day), time(hour, minute), tzinfo=zone)
    if due > local:
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        due = due.replace(year=year, month=month)
    return due


def _months(r: ReportSettings, due: datetime) -> tuple[str, str]:
    year, month = (due.year - 1, 12) if due.month == 1 else (due.year, due.month - 1)
    first = (year, month)
    for _ in range(r.months - 1):
        first = (first[0] - 1, 12) if first[1] == 1 else (first[0], first[1] - 1)
    return label(first), label((year, month))


def send_one(env: Env, r: ReportSettings, due: datetime) -> int:
    start, end = _months(r, due)
    rep = build_report(env.settings, r.kind, env.now(), start, end, r.queue or None)
    attachments = [("tickets-per-month.png", "image/png", png(rep.rows))] if r.kind == "monthly" else []
    subject = f"{env.settings.gateway.name}: {r.kind} report {start} to {end}" + (f" ({r.queue})" if r.queue else "")
    for address in r.to:
        queue_mail(env, kind=KIND, recipient=address, template="report.txt.j2", subject=subject,
                   context={"report": rep, "name": r.name, "table": to_text(rep), "chart": bool(attachments)},
                   attachments=attachments)
    return len(r.to)


def send_reports(env: Env) -> str:
    """The scheduler job (mailgate.schedule.jobs)."""
    sent = 0
    now = env.now()
    for r in env.settings.reports:
        due = last_due(r, now)
        key = f"report:{r.name}:{due.strftime('%Y-%m')}"
        if LifecycleMark.select().where(LifecycleMark.key == key).exists():
            continue
        LifecycleMark.create(key=key, at=now)
        sent += send_one(env, r, due)
        log.info("report %s for %s mailed to %d address(es)", r.name, due.strftime("%Y-%m"), len(r.to),
                 extra={"stage": "reports"})
    return f"{sent} report mail(s)"
