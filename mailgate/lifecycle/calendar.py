"""Business hours: SLA targets count only working time (working days, daily hours, minus
holidays) in the queue's timezone. Wall-clock arithmetic in the local zone, so a DST change
does not shift the working day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailgate.config import CalendarSettings
from mailgate.config.lifecycle import DAYS, parse_hhmm

MAX_DAYS = 3700  # ten years: a target further away than that is a configuration mistake


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays: frozenset[date]

    @classmethod
    def from_settings(cls, cal: CalendarSettings, timezone: str) -> Calendar:
        return cls(ZoneInfo(timezone), frozenset(DAYS.index(d) for d in cal.working_days),
                   parse_hhmm(cal.start, "calendar.start"), parse_hhmm(cal.end, "calendar.end"),
                   frozenset(date.fromisoformat(h) for h in cal.holidays))

    def _working(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def hours_between(self, start_utc: datetime, end_utc: datetime) -> float:
        """Business hours between two naive-UTC moments (0 when end is not after start)."""
        if end_utc <= start_utc or not self.days:
            return 0.0
        cur = start_utc.replace(tzinfo=UTC).astimezone(self.tz)
        end = end_utc.replace(tzinfo=UTC).astimezone(self.tz)
        total = timedelta()
        for _ in range(MAX_DAYS):
            if cur >= end:
                break
            day = cur.date()
            if self._working(day):
                opens = datetime.combine(day, self.start, tzinfo=self.tz)
                closes = datetime.combine(day, self.end, tzinfo=self.tz)
                begin, finish = max(cur, opens), min(end, closes)
                if begin < finish:
                    total += finish - begin
            cur = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        return total.total_seconds() / 3600

    def add_hours(self, start_utc: datetime, hours: float) -> datetime:
        """The naive-UTC moment `hours` business hours after `start_utc` (naive UTC)."""
        if not self.days:
            raise ValueError("calendar.working_days is empty: business hours never pass")
        remaining = timedelta(hours=hours)
        cur = start_utc.replace(tzinfo=UTC).astimezone(self.tz)
        for _ in range(MAX_DAYS):
            day = cur.date()
            if self._working(day):
                opens = datetime.combine(day, self.start, tzinfo=self.tz)
                closes = datetime.combine(day, self.end, tzinfo=self.tz)
                begin = max(cur, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC).replace(tzinfo=None)
                    remaining -= available
            cur = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        raise ValueError(f"no {hours} business hours within {MAX_DAYS} days")
