"""Commands by email (and by every other door): one small module per command, found
through a registry the composition root builds with `default_commands()`.

The registry is explicit and refuses duplicates, and `help` (and docs/commands.md) list what
is registered in it, so a command that exists is a command that is documented.
"""

from __future__ import annotations

from mailgate.commands.base import Command, CommandContext
from mailgate.commands.children import Children
from mailgate.commands.comment import Comment
from mailgate.commands.help import Help, help_text
from mailgate.commands.impact import Impact
from mailgate.commands.incident import IncidentCommand
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
from mailgate.commands.systems import Systems
from mailgate.core.registry import Registry


def default_commands() -> Registry[Command]:
    """Every built-in command, in the order `help` lists them."""
    return Registry("command", (
        Status(), Owner(), Priority(), QueueCommand(), NosyCommand(), Subject(), Parent(), Link(),
        Comment(), Help(), Children(), Merge(), Sleep(), IncidentCommand(), Systems(), Impact(),
    ), key="name")


__all__ = ["Command", "CommandContext", "default_commands", "help_text"]
