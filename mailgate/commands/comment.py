"""`comment:`: the message is an internal note (stored, shown to staff, never sent to the
requester or other non-staff people on the nosy list)."""

from __future__ import annotations

from mailgate.commands.base import CommandContext


class Comment:
    name = "comment"
    argument = "[TEXT]"
    description = "Make this message an internal note for staff (not sent to the requester)."

    def apply(self, ctx: CommandContext, value: str) -> str:
        ctx.internal = True
        return ctx.record("comment", None, "internal note",
                          line="comment: stored as an internal note (not sent to the requester)")
