"""`nosy: +bob@example.com, -carol@example.com`, `nosy: -me`: who hears about the ticket.

Items are separated by commas or spaces; `+x` adds, `-x` removes, a bare `x` adds. `x` is an
address, a staff name, or `me`. The whole line is checked before anything changes.
"""

from __future__ import annotations

import re

from mailgate.commands.base import CommandContext, find_staff
from mailgate.core.errors import Refused
from mailgate.db.models import Person
from mailgate.nosy import add_to_nosy, is_own_address, remove_from_nosy
from mailgate.people import person_for

_ADDRESS_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _items(value: str) -> list[tuple[str, str]]:
    out = []
    for raw in re.split(r"[,\s]+", value.strip()):
        if not raw:
            continue
        op = raw[0] if raw[0] in "+-" else "+"
        out.append((op, raw.lstrip("+-").strip("<>")))
    return out


class NosyCommand:
    name = "nosy"
    argument = "+ADDRESS -ADDRESS ... | -me"
    description = "Add (+) or remove (-) people from the nosy list; anyone may remove themselves."

    def self_service(self, ctx: CommandContext, value: str) -> bool:
        """Removing yourself is allowed whatever your role."""
        items = _items(value)
        return bool(items) and all(op == "-" and (who.lower() in ("me", ctx.actor.address)) for op, who in items)

    def apply(self, ctx: CommandContext, value: str) -> str:
        items = _items(value)
        if not items:
            raise Refused("expected +ADDRESS or -ADDRESS (or -me)")
        resolved: list[tuple[str, Person]] = []
        for op, who in items:
            if who.lower() == "me":
                person = ctx.actor
            elif _ADDRESS_RE.match(who):
                if is_own_address(ctx.settings, who):
                    raise Refused(f"{who} is the helpdesk's own address")
                person = person_for(who)
            else:
                staff = find_staff(ctx.settings, who)
                if staff is None:
                    raise Refused(f"{who!r} is neither an email address nor a staff name")
                person = person_for(staff.address, staff.name)
            resolved.append((op, person))
        done = []
        for op, person in resolved:
            if op == "+" and add_to_nosy(ctx.ticket, person, ctx.settings):
                ctx.record("nosy", None, person.address)
                done.append(f"+{person.address}")
            elif op == "-" and remove_from_nosy(ctx.ticket, person):
                ctx.record("nosy", person.address, None)
                done.append(f"-{person.address}")
        return "nosy: " + (", ".join(done) if done else "no change")
