"""The ticket history: every change is one Event with actor, old and new value, and the
message that caused it. Stages, commands and timed jobs all record through here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mailgate.db.models import Event, Message, Ticket

if TYPE_CHECKING:
    from mailgate.stages.base import Env


def record_event(ticket: Ticket, actor: str, field: str, old: object, new: object,
                 message: Message | None, env: Env) -> Event:
    return Event.create(ticket=ticket, actor=actor, field=field,
                        old=None if old is None else str(old), new=None if new is None else str(new),
                        message=message, at=env.clock().replace(tzinfo=None))


def set_status(ticket: Ticket, status: str, actor: str, env: Env, now: datetime,
               message: Message | None = None) -> None:
    """Change a ticket's status, recorded in its history, and save it."""
    record_event(ticket, actor, "status", ticket.status, status, message, env)
    ticket.status, ticket.updated_at = status, now
    ticket.save()
