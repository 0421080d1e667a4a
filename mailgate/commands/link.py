"""`link: #12`: note that two tickets are related."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, Refused, ticket_number
from mailgate.db.models import Ticket, TicketLink


class Link:
    name = "link"
    argument = "#N"
    description = "Link this ticket to ticket #N as related."

    def apply(self, ctx: CommandContext, value: str) -> str:
        number = ticket_number(value)
        if number is None:
            raise Refused(f"expected #N, got {value.strip()!r}")
        if number == ctx.ticket.id:
            raise Refused("a ticket cannot be linked to itself")
        other = Ticket.get_or_none(Ticket.id == number)
        if other is None:
            raise Refused(f"there is no ticket #{number}")
        if TicketLink.select().where(TicketLink.ticket == ctx.ticket, TicketLink.other == other).exists():
            return f"link: already linked to #{number}"
        TicketLink.create(ticket=ctx.ticket, other=other, kind="related")
        return ctx.record("link", None, f"#{number}")
