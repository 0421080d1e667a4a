"""What every command gets and gives back.

A command is a small object with a `name`, an `argument` description for the help text, a
one-line `description`, and `apply(ctx, value) -> str` that changes the ticket through
`ctx.record(...)` (so every change is an Event with actor, old, new, message and source)
and returns the line for the receipt. It raises `Refused(reason)` for a value it cannot
apply; the reason goes to the person as it is, so it says what would have worked.

Commands are the ticket service's vocabulary: the service (mailgate.tickets) checks who may
run which and calls `apply`, whichever door the command came through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mailgate.core.changes import Change
from mailgate.core.errors import Refused
from mailgate.db.models import Message, Person, Ticket
from mailgate.history import record_change

if TYPE_CHECKING:
    from mailgate.config import PersonSettings, Settings
    from mailgate.env import Env


@dataclass
class CommandContext:
    env: Env
    ticket: Ticket
    actor: Person
    role: str  # admin | technician | requester | anyone
    message: Message | None
    changes: list[Change]
    source: str  # mail | cli | api | web: recorded with every change
    internal: bool = False  # set by `comment`: the message becomes a staff-only note
    help_requested: bool = False

    @property
    def settings(self) -> Settings:
        return self.env.settings

    def record(self, field_name: str, old: object, new: object, line: str = "") -> str:
        """Store one change as an Event and return its receipt line (`field: old -> new`)."""
        change = record_change(self.env, self.ticket, field_name, old, new, actor=self.actor.address,
                               source=self.source, message=self.message)
        self.changes.append(change)
        return line or f"{field_name}: {change.old or '-'} -> {change.new or '-'}"  # as alert mails write it


class Command(Protocol):
    name: str
    argument: str
    description: str

    def apply(self, ctx: CommandContext, value: str) -> str: ...


def ticket_number(value: str) -> int | None:
    """'#12' or '12' -> 12; anything else None."""
    v = value.strip().lstrip("#").strip()
    return int(v) if v.isdigit() else None


def referenced_ticket(value: str, expected: str = "#N") -> Ticket:
    """The existing ticket a `#N` value names, or Refused saying what would have worked."""
    number = ticket_number(value)
    if number is None:
        raise Refused(f"expected {expected}, got {value.strip()!r}")
    ticket = Ticket.get_or_none(Ticket.id == number)
    if ticket is None:
        raise Refused(f"there is no ticket #{number}")
    return ticket


def find_staff(settings: Settings, value: str) -> PersonSettings | None:
    """A technician or admin by address, full name, first name or local part."""
    v = value.strip().strip("<>").casefold()
    staff = [p for p in settings.people if p.role in ("technician", "admin")]
    for match in (
        lambda p: p.address.casefold() == v,
        lambda p: p.name.casefold() == v,
        lambda p: p.name.split()[0].casefold() == v if p.name.strip() else False,
        lambda p: p.address.split("@")[0].casefold() == v,
    ):
        found = [p for p in staff if match(p)]
        if len(found) == 1:
            return found[0]
    return None


def staff_names(settings: Settings) -> str:
    return ", ".join(p.address for p in settings.people if p.role in ("technician", "admin")) or "(no staff)"
