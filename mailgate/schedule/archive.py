"""Archive: resolved and closed tickets untouched for `[lifecycle] archive_after_days` become
`archived`. Archived tickets are read-only (a reply opens a new ticket linked to the old one,
see the thread stage), hidden from `ticket list` unless `--all`, still shown and searchable."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mailgate.core.changes import SCHEDULE, SYSTEM
from mailgate.core.statuses import DONE
from mailgate.db.locks import lock_row
from mailgate.db.models import Event, Ticket
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.archive")


def last_event_at(ticket: Ticket) -> datetime | None:
    row = Event.select(Event.at).where(Event.ticket == ticket).order_by(Event.at.desc()).first()
    return row.at if row else None


def archive(env: Env) -> str:
    days = env.settings.lifecycle.archive_after_days
    if days <= 0:
        return "archive off"
    now = env.now()
    cutoff = now - timedelta(days=days)
    service = TicketService(env)
    done = []
    for found in Ticket.select().where(Ticket.status.in_(DONE), Ticket.updated_at <= cutoff):
        # locked, and read again: a reply on another node may have reopened it meanwhile
        ticket = lock_row(Ticket, found.id, wait=True)
        if ticket.status not in DONE or ticket.updated_at > cutoff:
            continue
        # the last event (usually the status change) counts as activity too
        latest = last_event_at(ticket)
        if latest is not None and latest > cutoff:
            continue
        # not set_status: archiving is not activity, updated_at keeps the last real one
        service.set_field(ticket, "status", "archived", actor=SYSTEM, source=SCHEDULE, save=False)
        ticket.save()
        done.append(ticket.id)
    if done:
        log.info("archived %d ticket(s) (stage lifecycle)", len(done), extra={"stage": "lifecycle"})
    return f"archived {len(done)}"
