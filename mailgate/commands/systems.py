"""`systems: +vpn +mail -dns` (or `systems: vpn mail`): the systems an incident affects, as
named by [[system]] in the configuration. Makes the ticket an incident when it is not one."""

from __future__ import annotations

import re

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused
from mailgate.incidents.store import change_systems, open_incident


class Systems:
    name = "systems"
    argument = "+SYSTEM -SYSTEM ..."
    description = "Add (+) or remove (-) the systems an incident affects ([[system]] names)."

    def apply(self, ctx: CommandContext, value: str) -> str:
        items = [i for i in re.split(r"[,\s]+", value.strip()) if i]
        if not items:
            raise Refused("expected +SYSTEM or -SYSTEM, e.g. systems: +vpn +mail")
        known = [s.name for s in ctx.settings.systems]
        add, remove = [], []
        for item in items:
            name = item.lstrip("+-").lower()
            if name not in known:
                raise Refused(f"unknown system {name!r}; known: {', '.join(known) or '(none in [[system]])'}")
            (remove if item.startswith("-") else add).append(name)
        record = lambda f, o, n: ctx.record(f, o, n)  # noqa: E731 - one line, used twice
        incident, _ = open_incident(ctx.ticket, record)
        added, removed = change_systems(incident, add, remove, record)
        done = [f"+{n}" for n in added] + [f"-{n}" for n in removed]
        return "systems: " + (" ".join(done) if done else "no change")
