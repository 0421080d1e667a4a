"""System changes (a cascade, a wake-up) told to a ticket's nosy list through the same alert
mail path and template as changes made by people (mailgate.nosy + mailer.queue_mail)."""

from __future__ import annotations

from datetime import UTC, datetime

from mailgate.commands.base import Change
from mailgate.db.models import Event, Message, Ticket
from mailgate.history import record_event
from mailgate.mailer import queue_mail
from mailgate.nosy import alert_recipients
from mailgate.stages.base import Env

SYSTEM = "system"


def naive_now(env: Env) -> datetime:
    """The env's clock as naive UTC, the way the store keeps times."""
    now = env.clock()
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def record(env: Env, ticket: Ticket, field: str, old: object, new: object, actor: str = SYSTEM,
           message: Message | None = None) -> Change:
    """An Event on `ticket` (not necessarily the ticket a mail came in for)."""
    event = record_event(ticket, actor, field, old, new, message, env)
    return Change(field, event.old, event.new, actor)


def tell_nosy(env: Env, ticket: Ticket, changes: list[Change], text: str = "",
              exclude: tuple[str, ...] = ()) -> int:
    """One alert mail per person on the ticket's nosy list (and the queue's watchers)."""
    from mailgate.clean import REPLY_MARKER

    name = env.settings.gateway.name
    sent = 0
    for person in alert_recipients(ticket, env.settings, exclude=exclude):
        queue_mail(env, ticket=ticket, kind="alert", recipient=person, template="alert.txt.j2",
                   context={"author": env.settings.gateway.address, "author_name": name, "text": text,
                            "changes": changes, "created": False, "internal": False, "listed": [],
                            "attached": [], "marker": REPLY_MARKER})
        sent += 1
    return sent


def last_event_at(ticket: Ticket, ignore: tuple[str, ...] = ()) -> datetime | None:
    query = Event.select(Event.at).where(Event.ticket == ticket)
    if ignore:
        query = query.where(Event.field.not_in(ignore))
    row = query.order_by(Event.at.desc()).first()
    return row.at if row else None
