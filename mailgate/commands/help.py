"""`help`: the list of commands, generated from the registry."""

from __future__ import annotations

from mailgate.commands.base import Command, CommandContext
from mailgate.core.registry import Registry


class Help:
    name = "help"
    argument = ""
    description = "Reply with this list of commands."

    def apply(self, ctx: CommandContext, value: str) -> str:
        ctx.help_requested = True
        return "help: the list of commands is below"


def help_text(commands: Registry[Command]) -> str:
    width = max(len(f"{c.name}: {c.argument}") for c in commands.values())
    lines = [f"  {(c.name + ': ' + c.argument).ljust(width)}  {c.description}" for c in commands.values()]
    return "\n".join(lines)
