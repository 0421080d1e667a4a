"""`status: resolved`: the ticket's lifecycle."""

from __future__ import annotations

from mailgate.commands.base import CommandContext, Refused

VALUES = ("open", "stalled", "resolved", "closed", "rejected")
SYNONYMS = {"reopen": "open", "reopened": "open", "solved": "resolved", "resolve": "resolved",
            "close": "closed", "reject": "rejected", "pending": "stalled"}


class Status:
    name = "status"
    argument = " | ".join(VALUES)
    description = "Set the status. Requesters may resolve or reopen their own ticket."

    def apply(self, ctx: CommandContext, value: str) -> str:
        wanted = value.strip().lower()
        wanted = SYNONYMS.get(wanted, wanted)
        if wanted not in VALUES:
            raise Refused(f"unknown status {value.strip()!r}; expected one of {', '.join(VALUES)}")
        allowed = ctx.settings.commands.requester_statuses
        if ctx.role == "requester" and wanted not in allowed:
            raise Refused(f"not permitted: as the requester you may set the status to {' or '.join(allowed)} only")
        ticket = ctx.ticket
        if ticket.status == wanted:
            return f"status: already {wanted}"
        old, ticket.status = ticket.status, wanted
        ticket.save()
        return ctx.record("status", old, wanted)
