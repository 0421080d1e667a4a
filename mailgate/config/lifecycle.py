"""Validation of the lifecycle settings ([lifecycle], [calendar], [[sla]] and the queue keys).

Kept free of database imports: `mailgate deliver` loads the configuration for every message.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailgate.core.errors import ConfigError

if TYPE_CHECKING:
    from mailgate.config.sections import Settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARENT_SEES = ("all", "status", "none")


def parse_hhmm(value: str, where: str) -> time:
    hh, sep, mm = value.strip().partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError(f"{where}: expected a time HH:MM like 08:30, got {value!r}")
    return time(int(hh), int(mm))


def check_lifecycle(s: Settings, queue_names: set[str]) -> None:
    for i, q in enumerate(s.queues):
        try:
            ZoneInfo(q.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"queue[{i}].timezone: expected an IANA timezone like Europe/Berlin, "
                              f"got {q.timezone!r}") from None
        if q.escalate_after_hours < 0:
            raise ConfigError(f"queue[{i}].escalate_after_hours: expected 0 (never) or more hours, "
                              f"got {q.escalate_after_hours}")
        if q.parent_sees not in PARENT_SEES:
            raise ConfigError(f"queue[{i}].parent_sees: expected one of {', '.join(PARENT_SEES)}, "
                              f"got {q.parent_sees!r}")
    lc = s.lifecycle
    if lc.archive_after_days < 0:
        raise ConfigError(f"lifecycle.archive_after_days: expected 0 (never) or more days, got {lc.archive_after_days}")
    if not 1 <= lc.sla_warn_percent <= 99:
        raise ConfigError(f"lifecycle.sla_warn_percent: expected 1 to 99, got {lc.sla_warn_percent}")
    if lc.reminder_time:
        parse_hhmm(lc.reminder_time, "lifecycle.reminder_time")
    if lc.check_interval <= 0:
        raise ConfigError(f"lifecycle.check_interval: expected a positive number of seconds, got {lc.check_interval}")
    cal = s.calendar
    for d in cal.working_days:
        if d not in DAYS:
            raise ConfigError(f"calendar.working_days: expected some of {', '.join(DAYS)}, got {d!r}")
    if parse_hhmm(cal.start, "calendar.start") >= parse_hhmm(cal.end, "calendar.end"):
        raise ConfigError(f"calendar.end: expected a time after calendar.start ({cal.start}), got {cal.end!r}")
    for h in cal.holidays:
        try:
            date.fromisoformat(h)
        except ValueError:
            raise ConfigError(f"calendar.holidays: expected dates YYYY-MM-DD, got {h!r}") from None
    if s.sla and not cal.working_days:
        raise ConfigError("calendar.working_days: expected at least one day when [[sla]] targets are set "
                          "(business hours would never pass)")
    for i, sla in enumerate(s.sla):
        if sla.queue != "*" and sla.queue not in queue_names:
            raise ConfigError(f"sla[{i}].queue: unknown queue {sla.queue!r} (known: *, {', '.join(sorted(queue_names))})")
        if not 1 <= sla.priority <= 4:
            raise ConfigError(f"sla[{i}].priority: expected 1 to 4, got {sla.priority}")
        for key in ("first_response_hours", "resolution_hours"):
            if getattr(sla, key) < 0:
                raise ConfigError(f"sla[{i}].{key}: expected 0 (no target) or more business hours")
