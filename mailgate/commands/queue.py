"""`queue: ops`: move the ticket to another queue."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused
from mailgate.db.models import Queue


class QueueCommand:
    name = "queue"
    argument = "QUEUE NAME"
    description = "Move the ticket to another queue."

    def apply(self, ctx: CommandContext, value: str) -> str:
        v = value.strip().lower()
        settings = ctx.settings
        target = next((q for q in settings.queues if q.name.lower() == v), None) or settings.queue_for_address(v)
        if target is None:
            raise Refused(f"unknown queue {value.strip()!r}; expected one of {', '.join(q.name for q in settings.queues)}")
        ticket = ctx.ticket
        old = ticket.queue.name
        if old == target.name:
            return f"queue: already {old}"
        row = Queue.named(target.name, target.address)
        ticket.queue = row
        ticket.save()
        return ctx.record("queue", old, target.name)
