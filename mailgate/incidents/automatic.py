"""Incidents that open by themselves ([incidents]): the parent ticket of an alert storm,
and a new alert in a critical state (`alert_states`). Their systems are the [[system]]
entries whose `alerts` patterns match the alerts' fingerprints; their start is the first
alert. The changes are recorded as the system's, from the rules' door."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from mailgate.config import Settings
from mailgate.core.changes import RULE, SYSTEM
from mailgate.db.models import AlertGroup, Ticket
from mailgate.history import record_change
from mailgate.incidents.store import change_systems, first_alert, open_incident

if TYPE_CHECKING:
    from mailgate.env import Env


def systems_for(settings: Settings, fingerprints: Iterable[str]) -> list[str]:
    prints = list(fingerprints)
    return [s.name for s in settings.systems
            if any(fnmatchcase(f.lower(), pattern.lower()) for pattern in s.alerts for f in prints)]


def _open(env: Env, ticket: Ticket, kind: str, fingerprints: list[str], ticket_ids: list[int]) -> None:
    def record(field: str, old: object, new: object) -> object:
        return record_change(env, ticket, field, old, new, actor=SYSTEM, source=RULE)

    incident, _ = open_incident(ticket, record, kind=kind, started_at=first_alert(ticket_ids))
    change_systems(incident, systems_for(env.settings, fingerprints), (), record)


def alert_incident(env: Env, ticket: Ticket, group: AlertGroup) -> None:
    """A new alert ticket: an incident when its state is one of `alert_states`."""
    states = {s.upper() for s in env.settings.incidents.alert_states}
    if group.state_text and group.state_text.upper() in states:
        _open(env, ticket, "alert", [group.fingerprint], [ticket.id])


def storm_incident(env: Env, storm_ticket: Ticket, children: list[Ticket]) -> None:
    """An alert storm's parent ticket (its grouped alert tickets are `children`)."""
    if not env.settings.incidents.storms:
        return
    ids = [c.id for c in children]
    prints = [g.fingerprint for g in AlertGroup.select(AlertGroup.fingerprint).where(AlertGroup.ticket.in_(ids))]
    _open(env, storm_ticket, "storm", prints, ids)
