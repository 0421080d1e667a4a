"""Commands by email: one small module per command, found through this registry.

The registry is explicit and refuses duplicates, and `help` (and docs/commands.md) list what
is registered here, so a command that exists is a command that is documented.
"""

from __future__ import annotations

from mailgate.commands.base import Command, CommandContext, CommandLine, CommandReport, Refused
from mailgate.commands.children import Children  # issue 7
from mailgate.commands.comment import Comment
from mailgate.commands.help import Help, help_text
from mailgate.commands.link import Link
from mailgate.commands.merge import Merge
from mailgate.commands.nosy import NosyCommand
from mailgate.commands.owner import Owner
from mailgate.commands.parent import Parent
from mailgate.commands.priority import Priority
from mailgate.commands.queue import QueueCommand
from mailgate.commands.sleep import Sleep
from mailgate.commands.status import Status
from mailgate.commands.subject import Subject

COMMANDS: dict[str, Command] = {}


def register(cmd: Command) -> None:
    if cmd.name in COMMANDS:
        raise RuntimeError(f"duplicate command {cmd.name!r}")
    COMMANDS[cmd.name] = cmd


for _cmd in (Status(), Owner(), Priority(), QueueCommand(), NosyCommand(), Subject(), Parent(), Link(),
             Comment(), Help()):
    register(_cmd)
for _cmd in (Children(), Merge(), Sleep()):  # issue 7: ticket lifecycle
    register(_cmd)

__all__ = ["COMMANDS", "Command", "CommandContext", "CommandLine", "CommandReport", "Refused", "help_text",
           "register"]
