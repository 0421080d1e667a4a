"""Archive: resolved and closed tickets untouched for `[lifecycle] archive_after_days` become
`archived`. Archived tickets are read-only (a reply opens a new ticket linked to the old one,
see the thread stage), hidden from `ticket list` unless `--all`, still shown and searchable."""

from __future__ import annotations

import logging
from datetime import timedelta

from mailgate.db.models import Ticket
from mailgate.lifecycle.notices import SYSTEM, last_event_at, naive_now, record
from mailgate.stages.base import Env

log = logging.getLogger("mailgate.lifecycle.archive")

ARCHIVABLE = ("resolved", "closed")


def archive(env: Env) -> str:
    days = env.settings.lifecycle.archive_after_days
    if days <= 0:
        return "archive off"
    now = naive_now(env)
    cutoff = now - timedelta(days=days)
    done = []
    for ticket in Ticket.select().where(Ticket.status.in_(ARCHIVABLE), Ticket.updated_at <= cutoff):
        # the last event (usually the status change) counts as activity too
        latest = last_event_at(ticket)
        if latest is not None and latest > cutoff:
            continue
        old, ticket.status = ticket.status, "archived"
        ticket.save()
        record(env, ticket, "status", old, "archived", actor=SYSTEM)
        done.append(ticket.id)
    if done:
        log.info("archived %d ticket(s) (stage lifecycle)", len(done), extra={"stage": "lifecycle"})
    return f"archived {len(done)}"
