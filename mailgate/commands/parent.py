"""`parent: #12` or `parent: none`: make the ticket a child of another."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, referenced_ticket
from mailgate.core.errors import Refused
from mailgate.lifecycle.tree import would_cycle


class Parent:
    name = "parent"
    argument = "#N | none"
    description = "Make this ticket a child of ticket #N (or detach it)."

    def apply(self, ctx: CommandContext, value: str) -> str:
        ticket = ctx.ticket
        old = f"#{ticket.parent_id}" if ticket.parent_id else None
        if value.strip().lower() in ("none", "-"):
            if old is None:
                return "parent: already none"
            ticket.parent = None
            ticket.save()
            return ctx.record("parent", old, None)
        parent = referenced_ticket(value, "#N or none")
        number = parent.id
        # walking up from the new parent must not reach this ticket: no cycles
        if would_cycle(ticket, parent):
            raise Refused(f"#{number} is this ticket or one of its children; that would make a cycle")
        if ticket.parent_id == number:
            return f"parent: already #{number}"
        ticket.parent = parent
        ticket.save()
        return ctx.record("parent", old, f"#{number}")
