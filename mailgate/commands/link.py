"""`link: #12`: note that two tickets are related."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, referenced_ticket
from mailgate.core.errors import Refused
from mailgate.db.models import TicketLink


class Link:
    name = "link"
    argument = "#N"
    description = "Link this ticket to ticket #N as related."

    def apply(self, ctx: CommandContext, value: str) -> str:
        other = referenced_ticket(value)
        number = other.id
        if number == ctx.ticket.id:
            raise Refused("a ticket cannot be linked to itself")
        if TicketLink.select().where(TicketLink.ticket == ctx.ticket, TicketLink.other == other).exists():
            return f"link: already linked to #{number}"
        TicketLink.create(ticket=ctx.ticket, other=other, kind="related")
        return ctx.record("link", None, f"#{number}")
