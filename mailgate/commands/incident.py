"""`incident: yes | no`: the ticket is an outage (or not after all). Its start is the first
alert on it, else the ticket's creation; the systems' subscribers are mailed
(mailgate.incidents.news)."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused
from mailgate.incidents.store import incident_of, open_incident, withdraw

YES, NO = ("yes", "y", "true", "on", "1"), ("no", "n", "false", "off", "0")


class IncidentCommand:
    name = "incident"
    argument = "yes | no"
    description = "Mark the ticket as an incident (an outage), or take the mark away."

    def apply(self, ctx: CommandContext, value: str) -> str:
        v = value.strip().lower()
        if v in YES:
            _, new = open_incident(ctx.ticket, lambda f, o, n: ctx.record(f, o, n))
            return "incident: yes" if new else "incident: already yes"
        if v in NO:
            found = incident_of(ctx.ticket)
            if found is None or found.withdrawn_at is not None:
                return "incident: already no"
            withdraw(found, ctx.env.now(), lambda f, o, n: ctx.record(f, o, n))
            return "incident: no"
        raise Refused(f"expected yes or no, got {value.strip()!r}")
