"""An act: one person's (or the system's) action on one ticket, as the service handles it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailgate.core.changes import Change, CommandReport, Verdict
from mailgate.core.message import ParsedMessage
from mailgate.db.models import Message, Person, Ticket


@dataclass
class Act:
    ticket: Ticket
    actor: Person
    source: str  # mail | cli | api | web
    author: str  # the address the act is from, lower case ("" for a mail without From)
    author_name: str
    text: str  # what the act says; command lines at its top run when `commands` is on
    message: Message | None = None  # the stored message carrying the act
    message_id: str = ""  # its Message-ID: the alert mails answer it
    verdict: Verdict | None = None  # None: a mail whose sender is verified when it has commands
    mail: ParsedMessage | None = None  # the mail itself, for the mail door
    token_person_id: int | None = None  # the person a mail's reply token was made for
    subject: str = ""  # a mail's subject: a [status=resolved] suffix is commands too
    commands: bool = True  # look for command lines at the top of the text
    created: bool = False  # the act opened the ticket
    auto: bool = False  # automatic mail: never commands, never alerts
    internal: bool = False  # a staff-only note
    has_attachments: bool = False
    notes: list[str] = field(default_factory=list)  # said in the acknowledgement
    changes: list[Change] = field(default_factory=list)
    report: CommandReport | None = None  # None: the act carried no commands
    body: str | None = None  # the text without its command lines (None: there were none)

    @property
    def shown_text(self) -> str:
        return self.body if self.body is not None else self.text


@dataclass(frozen=True)
class Receipt:
    """What the service did for a front end (the CLI prints it, the API returns it)."""

    ticket: int
    message_id: str
    internal: bool
    report: CommandReport
    changes: tuple[Change, ...]
    outbox: tuple[int, ...]  # the mails queued by the act

    def as_dict(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "message_id": self.message_id or None, "internal": self.internal,
                **self.report.as_dict(),
                "changes": [{"field": c.field, "old": c.old, "new": c.new, "actor": c.actor} for c in self.changes],
                "outbox": list(self.outbox)}
