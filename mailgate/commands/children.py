"""`children: +#4 +#5 -#6`: adopt or release child tickets (the other side of `parent:`)."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, ticket_number
from mailgate.core.errors import Refused
from mailgate.db.models import Ticket
from mailgate.history import record_change
from mailgate.lifecycle.tree import would_cycle


class Children:
    name = "children"
    argument = "+#N -#N ..."
    description = "Make tickets children of this one (+#N) or detach them (-#N); cycles are refused."

    def apply(self, ctx: CommandContext, value: str) -> str:
        items = value.replace(",", " ").split()
        if not items:
            raise Refused("expected +#N or -#N, e.g. children: +#4 +#5")
        ticket = ctx.ticket
        planned: list[tuple[str, Ticket]] = []
        for item in items:  # check all first: either every item applies or none
            sign, number = item[0], ticket_number(item[1:])
            if sign not in "+-" or number is None:
                raise Refused(f"expected +#N or -#N, got {item!r}")
            child = Ticket.get_or_none(Ticket.id == number)
            if child is None:
                raise Refused(f"there is no ticket #{number}")
            if sign == "+" and would_cycle(child, ticket):
                raise Refused(f"#{number} is this ticket or one of its parents; that would make a cycle")
            if sign == "-" and child.parent_id != ticket.id:
                raise Refused(f"#{number} is not a child of #{ticket.id}")
            planned.append((sign, child))
        done = []
        for sign, child in planned:
            old = f"#{child.parent_id}" if child.parent_id else None
            new = f"#{ticket.id}" if sign == "+" else None
            if old == new:
                continue
            child.parent = ticket if sign == "+" else None
            child.save()
            record_change(ctx.env, child, "parent", old, new, actor=ctx.actor.address, source=ctx.source,
                          message=ctx.message)
            done.append(f"{sign}#{child.id}")
        if not done:
            return "children: no change"
        return ctx.record("children", None, " ".join(done))
