"""`impact: VPN down for all remote staff; use the web mail meanwhile`: what an incident
affects and for whom (the description subscribers and the timeline show). Makes the ticket
an incident when it is not one."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused
from mailgate.incidents.store import open_incident, set_impact


class Impact:
    name = "impact"
    argument = "TEXT"
    description = "Describe an incident's impact (who is affected, how, any workaround)."

    def apply(self, ctx: CommandContext, value: str) -> str:
        if not value.strip():
            raise Refused("expected a description, e.g. impact: no VPN for remote staff")
        if len(value) > 2000:
            raise Refused("the description is longer than 2000 characters")
        record = lambda f, o, n: ctx.record(f, o, n)  # noqa: E731
        incident, _ = open_incident(ctx.ticket, record)
        return "impact: set" if set_impact(incident, value, record) else "impact: unchanged"
