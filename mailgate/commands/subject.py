"""`subject: New title`: retitle the ticket."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused


class Subject:
    name = "subject"
    argument = "NEW SUBJECT"
    description = "Retitle the ticket."

    def apply(self, ctx: CommandContext, value: str) -> str:
        new = " ".join(value.split())
        if not new:
            raise Refused("expected the new subject after 'subject:'")
        ticket = ctx.ticket
        if ticket.subject == new:
            return f"subject: already {new!r}"
        old, ticket.subject = ticket.subject, new
        ticket.save()
        return ctx.record("subject", old, new)
