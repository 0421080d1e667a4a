"""The ticket history: every change is one Event with actor, old and new value, the message
that caused it and the door it came through (mail, cli, api, web, rule, schedule). The
ticket service, the commands and the stages all record through here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.changes import Change
from mailgate.db.models import Event, Message, Ticket

if TYPE_CHECKING:
    from mailgate.env import Env


def record_event(ticket: Ticket, actor: str, field: str, old: object, new: object,
                 message: Message | None, env: Env, source: str) -> Event:
    return Event.create(ticket=ticket, actor=actor, field=field,
                        old=None if old is None else str(old), new=None if new is None else str(new),
                        message=message, at=env.now(), source=source)


def record_change(env: Env, ticket: Ticket, field: str, old: object, new: object, *, actor: str,
                  source: str, message: Message | None = None) -> Change:
    """An Event on `ticket`, returned as the Change the alert mails list."""
    event = record_event(ticket, actor, field, old, new, message, env, source)
    return Change(field, event.old, event.new, actor)


def set_status(ticket: Ticket, status: str, actor: str, env: Env, *, source: str,
               message: Message | None = None) -> Change:
    """Change a ticket's status, recorded in its history, and save it."""
    change = record_change(env, ticket, "status", ticket.status, status, actor=actor, source=source,
                           message=message)
    ticket.status, ticket.updated_at = status, env.now()
    ticket.save()
    return change
