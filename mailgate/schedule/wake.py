"""The wake-up job: every snoozed ticket whose time has come is open again, its nosy list told."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mailgate.core.changes import SCHEDULE, SYSTEM
from mailgate.db.locks import lock_row
from mailgate.db.models import Snooze, Ticket
from mailgate.lifecycle.snooze import local_text, queue_tz
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.snooze")


def wake_due(env: Env) -> str:
    now = env.now()
    service = TicketService(env)
    woken = []
    for row in Snooze.select().where(Snooze.wake_at <= now).order_by(Snooze.wake_at):
        ticket = lock_row(Ticket, row.ticket_id, wait=True)  # a reply on another node may be changing it
        service.wake(ticket, SYSTEM, f"Ticket #{ticket.id} was snoozed until "
                     f"{local_text(row.wake_at, queue_tz(env, ticket))}; it is open again.", source=SCHEDULE)
        log.info("ticket #%s woke up (stage lifecycle)", ticket.id, extra={"stage": "lifecycle"})
        woken.append(ticket.id)
    return f"woke {len(woken)}" + (f": {', '.join(f'#{n}' for n in woken[:20])}" if woken else "") + (
        ", ..." if len(woken) > 20 else "")


def next_wake(now: datetime, interval: timedelta) -> datetime:
    """The job's next due time: the earliest stored wake-up, or `interval` from now."""
    first = Snooze.select(Snooze.wake_at).order_by(Snooze.wake_at).first()
    later = now + interval
    return min(later, max(first.wake_at, now)) if first is not None else later
