"""`priority: 1` or `priority: urgent`."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused

NAMES = {"urgent": 1, "critical": 1, "high": 2, "normal": 3, "medium": 3, "low": 4}


class Priority:
    name = "priority"
    argument = "1-4 | urgent | high | normal | low"
    description = "Set the priority (1 is the most urgent)."

    def apply(self, ctx: CommandContext, value: str) -> str:
        v = value.strip().lower()
        number = int(v) if v.isdigit() else NAMES.get(v)
        if number is None or not 1 <= number <= 4:
            raise Refused(f"unknown priority {value.strip()!r}; expected 1 to 4 or urgent, high, normal, low")
        ticket = ctx.ticket
        if ticket.priority == number:
            return f"priority: already {number}"
        old, ticket.priority = ticket.priority, number
        ticket.save()
        return ctx.record("priority", old, number)
