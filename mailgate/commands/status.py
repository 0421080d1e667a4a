"""`status: resolved`: the ticket's lifecycle."""

from __future__ import annotations

from mailgate.commands.base import CommandContext
from mailgate.core.errors import Refused
from mailgate.core.statuses import DONE, SETTABLE
from mailgate.lifecycle.snooze import cancel_snooze
from mailgate.lifecycle.tree import cascade_status, check_children

VALUES = SETTABLE
SYNONYMS = {"reopen": "open", "reopened": "open", "solved": "resolved", "resolve": "resolved",
            "close": "closed", "reject": "rejected", "pending": "stalled"}


class Status:
    name = "status"
    argument = " | ".join(VALUES) + " (closed! forces)"
    description = ("Set the status. Requesters may resolve or reopen their own ticket. Resolving or closing "
                   "a parent resolves or closes its open children; `closed!` forces it in a wait-for-children queue.")

    def apply(self, ctx: CommandContext, value: str) -> str:
        wanted = value.strip().lower()
        force = wanted.endswith("!")  # `status: closed!` (issue 7)
        wanted = wanted.rstrip("!").strip()
        wanted = SYNONYMS.get(wanted, wanted)
        if wanted not in VALUES:
            raise Refused(f"unknown status {value.strip()!r}; expected one of {', '.join(VALUES)}")
        allowed = ctx.settings.commands.requester_statuses
        if ctx.role == "requester" and wanted not in allowed:
            raise Refused(f"not permitted: as the requester you may set the status to {' or '.join(allowed)} only")
        ticket = ctx.ticket
        if ticket.status == wanted:
            return f"status: already {wanted}"
        if wanted in DONE:
            check_children(ticket, ctx.role, ctx.settings, wanted, force)
        old, ticket.status = ticket.status, wanted
        ticket.save()
        result = ctx.record("status", old, wanted)
        if wanted != "stalled":
            cancel_snooze(ticket)
        if wanted in DONE:
            done = cascade_status(ctx.env, ticket, wanted, ctx.actor.address, ctx.message, source=ctx.source)
            if done:
                result += f" (and child ticket{'s' if len(done) > 1 else ''} {', '.join(f'#{n}' for n in done)})"
        return result
