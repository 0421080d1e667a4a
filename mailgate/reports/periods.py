"""Months and date ranges for the reports, in a time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from mailgate.core.errors import Invalid

Month = tuple[int, int]  # (year, month)


def parse_month(value: str, what: str) -> Month:
    m = re.fullmatch(r"(\d{4})-(\d{2})(-\d{2})?", value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Invalid(f"{what}: expected a month like 2024-05, got {value!r}")
    return int(m.group(1)), int(m.group(2))


def parse_day(value: str, what: str) -> date:
    text = value.strip()
    try:
        return date.fromisoformat(text + "-01" if re.fullmatch(r"\d{4}-\d{2}", text) else text)
    except ValueError:
        raise Invalid(f"{what}: expected a date like 2024-05-31, got {value!r}") from None


def next_month(m: Month) -> Month:
    return (m[0] + 1, 1) if m[1] == 12 else (m[0], m[1] + 1)


def months(first: Month, last: Month) -> list[Month]:
    if first > last:
        raise Invalid(f"--from {label(first)} is after --to {label(last)}")
    out, m = [], first
    while m <= last:
        out.append(m)
        m = next_month(m)
    if len(out) > 240:
        raise Invalid("at most 240 months in one report")
    return out


def label(m: Month) -> str:
    return f"{m[0]:04d}-{m[1]:02d}"


def month_start(m: Month, zone: ZoneInfo) -> datetime:
    """The first instant of month `m` in `zone`, as naive UTC."""
    local = datetime(m[0], m[1], 1, tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def month_of(when: datetime, zone: ZoneInfo) -> Month:
    local = when.replace(tzinfo=UTC).astimezone(zone)
    return local.year, local.month


def this_month(now: datetime, zone: ZoneInfo) -> Month:
    return month_of(now, zone)


def months_back(now: datetime, zone: ZoneInfo, count: int, include_current: bool = True) -> tuple[Month, Month]:
    last = this_month(now, zone)
    if not include_current:
        last = (last[0] - 1, 12) if last[1] == 1 else (last[0], last[1] - 1)
    first = last
    for _ in range(count - 1):
        first = (first[0] - 1, 12) if first[1] == 1 else (first[0], first[1] - 1)
    return first, last


def day_start(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def days_range(start: date | None, end: date | None, now: datetime, zone: ZoneInfo,
               default_days: int = 7) -> tuple[datetime, datetime]:
    """[start, end + 1 day) as naive UTC; the default: the last `default_days` days up to now."""
    if end is None and start is None:
        return now - timedelta(days=default_days), now
    until = day_start(end + timedelta(days=1), zone) if end else now
    since = day_start(start, zone) if start else until - timedelta(days=default_days)
    if since >= until:
        raise Invalid("--from is not before --to")
    return since, until
