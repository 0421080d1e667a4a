"""[search], [[system]], [incidents] and [[report]] (issue 15); checked in reporting_checks."""

from __future__ import annotations

from dataclasses import dataclass

REPORT_KINDS = ("monthly", "sla", "incidents")


@dataclass(frozen=True)
class SearchSettings:
    # index messages as they are stored; off only to measure what indexing costs (bench/):
    # messages stored while it is off are found again after `mailgate search reindex`
    index: bool = True


@dataclass(frozen=True)
class SystemSettings:
    """[[system]]: something incidents affect (`systems: +vpn`), and who hears of them."""

    name: str
    description: str = ""
    subscribers: tuple[str, ...] = ()  # addresses mailed when an incident on it opens, changes, ends
    address: str = ""  # a distribution list, mailed like a subscriber
    # alert fingerprints (shell patterns, e.g. "vpn-*") that name this system: an incident
    # opened automatically for such an alert affects it
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentSettings:
    """When a ticket becomes an incident by itself, and how often subscribers hear."""

    storms: bool = True  # an alert storm's parent ticket is an incident
    # a new alert in one of these states (the monitoring system's word, any case) opens an
    # incident; [] = none
    alert_states: tuple[str, ...] = ("CRITICAL", "DOWN", "DISASTER")
    mails_per_hour: int = 20  # incident mails per subscriber and hour, at most


@dataclass(frozen=True)
class ReportSettings:
    """[[report]]: a report mailed on a schedule, with its chart as a PNG."""

    name: str
    to: tuple[str, ...]
    kind: str = "monthly"  # monthly | sla | incidents
    months: int = 12  # how many months, up to the one that just ended
    queue: str = ""  # "" = every queue
    day: int = 1  # the day of the month it is sent (1 to 28)
    time: str = "08:00"  # HH:MM in `timezone`
    timezone: str = "UTC"
