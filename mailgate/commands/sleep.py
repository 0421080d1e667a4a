"""`sleep: 3d | 2026-12-01 | monday 9:00 | none`: stall the ticket until a wake-up time."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.config.lifecycle import parse_hhmm
from mailgate.core.errors import Refused
from mailgate.lifecycle.snooze import (
    BadWakeTime,
    cancel_snooze,
    local_text,
    parse_wake,
    queue_tz,
    snooze,
)


class Sleep:
    name = "sleep"
    argument = "3d | 4h | 2026-12-01 [9:00] | monday [9:00] | tomorrow | none"
    description = ("Stall the ticket until then (queue's timezone); it wakes to open, nosy told, "
                   "or earlier when the requester writes.")

    def apply(self, ctx: CommandContext, value: str) -> str:
        ticket = ctx.ticket
        tz = queue_tz(ctx.env, ticket)
        if value.strip().lower() in ("none", "off", "-", "wake"):
            if not cancel_snooze(ticket):
                return "sleep: not snoozed"
            line = ctx.record("sleep", None, "none", "sleep: cancelled")
            if ticket.status == "stalled":
                ticket.status = "open"
                ticket.save()
                ctx.record("status", "stalled", "open")
            return line
        if ticket.status not in ("new", "open", "stalled"):
            raise Refused(f"ticket #{ticket.id} is {ticket.status}; reopen it (status: open) before snoozing it")
        now = ctx.env.clock()
        try:
            wake = parse_wake(value, now, tz, parse_hhmm(ctx.settings.calendar.start, "calendar.start"))
        except BadWakeTime as exc:
            raise Refused(str(exc)) from None
        if ticket.status != "stalled":
            old, ticket.status = ticket.status, "stalled"
            ticket.save()
            ctx.record("status", old, "stalled")
        snooze(ticket, wake, ctx.actor.address, now.replace(tzinfo=None))
        shown = local_text(wake, tz)
        return ctx.record("sleep", None, shown, f"sleep: stalled until {shown}")
