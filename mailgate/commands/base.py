"""What every command gets and gives back.

A command is a small object with a `name`, an `argument` description for the help text, a
one-line `description`, and `apply(ctx, value) -> str` that changes the ticket through
`ctx.record(...)` (so every change is an Event with actor, old, new and message) and returns
the line for the receipt. It raises `Refused(reason)` for a value it cannot apply; the reason
goes to the sender as it is, so it says what would have worked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mailgate.db.models import Message, Person, Ticket
from mailgate.history import record_event

if TYPE_CHECKING:
    from mailgate.config import PersonSettings, Settings
    from mailgate.stages.base import Env


class Refused(Exception):
    """A command that was not applied; the message says why, for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Change:
    """One applied change, for the alert mails ("who changed what")."""

    field: str
    old: str | None
    new: str | None
    actor: str


@dataclass(frozen=True)
class CommandLine:
    name: str  # lower case, a registered command
    value: str
    line: str  # as written, for the receipt


@dataclass
class CommandReport:
    """What happened to the commands of one message: the receipt's content."""

    applied: list[tuple[CommandLine, str]] = field(default_factory=list)
    refused: list[tuple[CommandLine, str]] = field(default_factory=list)
    unverified: str = ""  # why the sender was not believed ("" when verified)
    verified_by: str = ""  # reply-token | dmarc | dkim | trusted-from
    help_requested: bool = False


@dataclass
class CommandContext:
    env: Env
    ticket: Ticket
    actor: Person
    role: str  # admin | technician | requester | anyone
    message: Message | None
    changes: list[Change]
    internal: bool = False  # set by `comment`: the message becomes a staff-only note
    help_requested: bool = False

    @property
    def settings(self) -> Settings:
        return self.env.settings

    def record(self, field_name: str, old: object, new: object, line: str = "") -> str:
        """Store one change as an Event and return its receipt line (`field: old -> new`)."""
        event = record_event(self.ticket, self.actor.address, field_name, old, new, self.message, self.env)
        old_s, new_s = event.old, event.new
        self.changes.append(Change(field_name, old_s, new_s, self.actor.address))
        return line or f"{field_name}: {old_s or '-'} -> {new_s or '-'}"  # as alert mails write it


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
