"""Checks of [[system]], [incidents] and [[report]] (issue 15)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailgate.config.reporting import REPORT_KINDS
from mailgate.config.schema import check_address
from mailgate.config.sections import Settings
from mailgate.core.errors import ConfigError

# system and report names: short, lower case, safe in a command (`systems: +vpn`) and a URL
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _zone(value: str, where: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {value!r} (expected e.g. Europe/Berlin)") from None


def check_reporting(s: Settings, queue_names: set[str]) -> None:
    names: set[str] = set()
    for i, system in enumerate(s.systems):
        where = f"system[{i}]"
        if not NAME_RE.match(system.name):
            raise ConfigError(f"{where}.name: expected a short lower-case name (letters, digits, . _ -), "
                              f"got {system.name!r}")
        if system.name in names:
            raise ConfigError(f"{where}.name: duplicate system name {system.name!r}")
        names.add(system.name)
        for j, address in enumerate(system.subscribers):
            check_address(address, f"{where}.subscribers[{j}]")
        if system.address:
            check_address(system.address, f"{where}.address")
    inc = s.incidents
    if inc.mails_per_hour < 1:
        raise ConfigError(f"incidents.mails_per_hour: expected 1 or more, got {inc.mails_per_hour}")
    reports: set[str] = set()
    for i, r in enumerate(s.reports):
        where = f"report[{i}]"
        if not NAME_RE.match(r.name) or r.name in reports:
            raise ConfigError(f"{where}.name: expected a unique short lower-case name, got {r.name!r}")
        reports.add(r.name)
        if not r.to:
            raise ConfigError(f"{where}.to: expected at least one address")
        for j, address in enumerate(r.to):
            check_address(address, f"{where}.to[{j}]")
        if r.kind not in REPORT_KINDS:
            raise ConfigError(f"{where}.kind: expected one of {', '.join(REPORT_KINDS)}, got {r.kind!r}")
        if not 1 <= r.months <= 120:
            raise ConfigError(f"{where}.months: expected 1 to 120, got {r.months}")
        if r.queue and r.queue not in queue_names:
            raise ConfigError(f"{where}.queue: unknown queue {r.queue!r} (known: {', '.join(sorted(queue_names))})")
        if not 1 <= r.day <= 28:
            raise ConfigError(f"{where}.day: expected a day of the month from 1 to 28, got {r.day}")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", r.time):
            raise ConfigError(f"{where}.time: expected HH:MM, got {r.time!r}")
        _zone(r.timezone, f"{where}.timezone")
