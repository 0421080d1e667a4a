"""`merge: #N`: this ticket is a duplicate of #N; everything moves there."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, ticket_number
from mailgate.core.errors import Refused
from mailgate.db.models import Ticket
from mailgate.lifecycle.merge import final_ticket, merge


class Merge:
    name = "merge"
    argument = "#N"
    description = "Merge this ticket into #N: messages, nosy and history move; mail to this number goes to #N."

    def apply(self, ctx: CommandContext, value: str) -> str:
        number = ticket_number(value)
        if number is None:
            raise Refused(f"expected #N (the ticket to merge this one into), got {value.strip()!r}")
        target = Ticket.get_or_none(Ticket.id == final_ticket(number))
        ticket = ctx.ticket
        if target is None:
            raise Refused(f"there is no ticket #{number}")
        if target.id == ticket.id:
            raise Refused("a ticket cannot be merged into itself")
        if target.status == "archived":
            raise Refused(f"ticket #{target.id} is archived (read-only); merge into an open ticket")
        merge(ctx.env, ticket, target, ctx.actor.address, source=ctx.source)
        ctx.ticket = target  # the commands after this line change the ticket that survives
        return f"merge: #{ticket.id} merged into #{target.id}" + (
            f" (#{number} was merged into #{target.id} before)" if target.id != number else "")
