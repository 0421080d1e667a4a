"""`owner: me | none | alice@example.com | Alice`: who works on the ticket."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, find_staff, staff_names
from mailgate.core.errors import Refused
from mailgate.nosy import add_to_nosy
from mailgate.people import person_for


class Owner:
    name = "owner"
    argument = "me | none | ADDRESS | NAME"
    description = "Give the ticket to a technician (who joins the nosy list), or to nobody."

    def apply(self, ctx: CommandContext, value: str) -> str:
        v = value.strip()
        ticket = ctx.ticket
        old = ticket.owner.address if ticket.owner_id else None
        if v.lower() in ("none", "nobody", "-"):
            new_person = None
        else:
            staff = find_staff(ctx.settings, ctx.actor.address if v.lower() == "me" else v)
            if staff is None:
                raise Refused(f"{v!r} is not a technician or admin; expected me, none or one of: "
                              f"{staff_names(ctx.settings)}")
            new_person = person_for(staff.address, staff.name)
        new = new_person.address if new_person else None
        if new == old:
            return f"owner: already {old or 'none'}"
        ticket.owner = new_person
        ticket.save()
        if new_person is not None:
            add_to_nosy(ctx.ticket, new_person, ctx.settings)
        return ctx.record("owner", old, new)
