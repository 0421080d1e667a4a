"""What a person (or the system) did to a ticket, and what came of it: shared by the mail
pipeline, the ticket service, the commands, the lifecycle jobs and every front end."""

from __future__ import annotations

from dataclasses import dataclass, field

# where a change came from, recorded with every history event
MAIL, CLI, API, WEB, RULE, SCHEDULE = "mail", "cli", "api", "web", "rule", "schedule"
SOURCES = (MAIL, CLI, API, WEB, RULE, SCHEDULE)
SYSTEM = "system"  # the actor of changes nobody made by hand (cascades, wake-ups, storms)

# the commands' names, for the configuration's [[permission]] check (which must not load the
# commands themselves); mailgate.commands.default_commands() registers one of each, in this
# order, and tests/commands checks that the two agree
COMMAND_NAMES = ("status", "owner", "priority", "queue", "nosy", "subject", "parent", "link", "comment", "help",
                 "children", "merge", "sleep", "incident", "systems", "impact")


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
    """What happened to the commands of one act: the receipt's content."""

    applied: list[tuple[CommandLine, str]] = field(default_factory=list)
    refused: list[tuple[CommandLine, str]] = field(default_factory=list)
    unverified: str = ""  # why the sender was not believed ("" when verified)
    verified_by: str = ""  # reply-token | dmarc | dkim | trusted-from | cli | api-token | session
    help_requested: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"applied": [{"line": c.line, "result": r} for c, r in self.applied],
                "refused": [{"line": c.line, "reason": r} for c, r in self.refused],
                "unverified": self.unverified or None, "verified_by": self.verified_by or None,
                "help_requested": self.help_requested}


@dataclass(frozen=True)
class Verdict:
    """Is the person acting who they say they are? Decided before any command runs."""

    verified: bool
    how: str = ""  # reply-token | dmarc | dkim | trusted-from | cli | api-token | session
    reason: str = ""  # why not, for the person
