"""Snooze: `sleep: 3d`, `sleep: 2026-12-01`, `sleep: monday 9:00` stalls a ticket until a
wake-up time read in the queue's timezone. The wake-up time is a row (`Snooze`), so the
daemon's job (mailgate.schedule.wake) finds it after a restart; waking (the ticket
service's `wake`) deletes the row in the same transaction as the status change, so it never
wakes twice. The requester writing wakes it earlier."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mailgate.config.lifecycle import DAYS, parse_hhmm
from mailgate.db.models import ScheduledJob, Snooze, Ticket

if TYPE_CHECKING:
    from mailgate.env import Env

JOB_NAME = "lifecycle-wake"
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION_RE = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXPECTED = "a duration (30m, 4h, 3d, 2w), a date (2026-12-01 [9:00]), a weekday (monday [9:00]), tomorrow, or none"


class BadWakeTime(ValueError):
    pass


def _weekday(word: str) -> int | None:
    for i, (short, full) in enumerate(zip(DAYS, _FULL_DAYS, strict=True)):
        if word in (short, full):
            return i
    return None


def parse_wake(value: str, now: datetime, tz: ZoneInfo, default_time: time) -> datetime:
    """The wake-up time for a `sleep:` value, as naive UTC. Dates and weekdays without a
    time mean `default_time` (the business day's start) in the queue's timezone."""
    v = " ".join(value.strip().lower().split())
    now_utc = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    m = _DURATION_RE.match(v.replace(" ", ""))
    if m:
        wake = now_utc + timedelta(**{UNITS[m.group(2)]: int(m.group(1))})
        return wake.replace(tzinfo=None)
    local_now = now_utc.astimezone(tz)
    day_word, _, time_word = v.partition(" ")
    at = default_time
    if time_word:
        try:
            at = parse_hhmm(time_word, "sleep")
        except Exception:  # noqa: BLE001 - ConfigError wording does not fit a receipt
            raise BadWakeTime(f"cannot read the time {time_word!r}; expected {EXPECTED}") from None
    day: date
    if day_word == "tomorrow":
        day = local_now.date() + timedelta(days=1)
    elif (wd := _weekday(day_word)) is not None:
        ahead = (wd - local_now.weekday()) % 7
        day = local_now.date() + timedelta(days=ahead)
        if ahead == 0 and local_now.time() >= at:
            day += timedelta(days=7)  # "monday" said on a Monday afternoon: next week
    else:
        try:
            day = date.fromisoformat(day_word)
        except ValueError:
            raise BadWakeTime(f"cannot read {value.strip()!r}; expected {EXPECTED}") from None
    wake = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    if wake <= now_utc:
        raise BadWakeTime(f"{value.strip()!r} is in the past ({wake.astimezone(tz):%Y-%m-%d %H:%M %Z})")
    return wake.replace(tzinfo=None)


def local_text(wake_utc: datetime, tz: ZoneInfo) -> str:
    return wake_utc.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def snooze(ticket: Ticket, wake_utc: datetime, actor: str, now: datetime) -> None:
    """Store the wake-up time and pull the wake job forward when it is due sooner."""
    Snooze.insert(ticket=ticket, wake_at=wake_utc, set_by=actor, set_at=now).on_conflict(
        conflict_target=[Snooze.ticket],
        update={Snooze.wake_at: wake_utc, Snooze.set_by: actor, Snooze.set_at: now}).execute()
    ScheduledJob.update(next_run_at=wake_utc).where(ScheduledJob.name == JOB_NAME,
                                                    ScheduledJob.next_run_at > wake_utc).execute()


def cancel_snooze(ticket: Ticket) -> bool:
    return Snooze.delete().where(Snooze.ticket == ticket).execute() > 0


def queue_tz(env: Env, ticket: Ticket) -> ZoneInfo:
    """The timezone of the ticket's queue (wake-up times are read and shown in it)."""
    q = env.settings.queue_named(ticket.queue.name)
    return ZoneInfo(q.timezone if q else "UTC")
